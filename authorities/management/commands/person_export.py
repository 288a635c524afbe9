"""Everything the app holds about one person, as JSON on standard output:
for a subject access request (UK GDPR article 15).

    manage.py person_export someone@example.org > someone.json

Read it before sending it: the records they made can name other people.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from authorities.models import User
from authorities.personal_data import export_person


class Command(BaseCommand):
    help = "Write everything held about the person with this e-mail address, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        try:
            user = User.objects.get_by_natural_key(email.strip())
        except User.DoesNotExist:
            raise CommandError(f"Nobody has the address {email}.") from None
        self.stdout.write(json.dumps(export_person(user), cls=DjangoJSONEncoder, indent=2))
