"""Erase one person from the app: for a request to be forgotten (UK GDPR
article 17). See authorities/personal_data.py for what that means; it
cannot be undone, so it asks first unless --yes.

    manage.py person_erase someone@example.org
    manage.py person_erase someone@example.org --yes
"""

from django.core.management.base import BaseCommand, CommandError

from authorities.models import User
from authorities.personal_data import LastNationalOfficer, check_erasable, erase_person


class Command(BaseCommand):
    help = "Erase the person with this e-mail address everywhere, history included."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, email, yes=False, **options):
        try:
            user = User.objects.get_by_natural_key(email.strip())
        except User.DoesNotExist:
            raise CommandError(f"Nobody has the address {email}.") from None
        try:
            check_erasable(user)
            if not yes:
                answer = input(
                    f"Erase {user.display_name} <{user.email}> everywhere? This cannot be "
                    "undone. Type the address again to go on: "
                )
                if answer.strip().lower() != user.email:
                    raise CommandError("Nothing erased.")
            erase_person(user)
        except LastNationalOfficer as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("Erased. Their feedback is kept only as figures.")
