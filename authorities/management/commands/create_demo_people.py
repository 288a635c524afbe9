"""Create the documented demo personas for local use (README lists them).

Refuses to run with DEBUG off, so it cannot seed a production database with
known passwords, nor known two-step secrets. Idempotent: people who already
exist are left as they are (their passwords included); a demo person who
must sign in in two steps and has no second step gets the demo authenticator
secret.
"""

from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authorities.access import REGIONAL_ROLES, Role
from authorities.mfa import has_second_step
from authorities.models import LocalAuthority, Membership, Region, User

DEMO_PASSWORD = "demo-tracker-2026"  # documented in README.md; local use only
# The authenticator-app secret of the demo people who must sign in in two
# steps (README.md; `manage.py demo_code` prints its current code).
DEMO_TOTP_SECRET = "DEMOTRACKERLOCALONLYTWOSTEPCODES"

# (e-mail, first name, last name, role, region name or authority code, staff)
PERSONAS = [
    ("national.officer@example.org", "Nadia", "Okafor", Role.NATIONAL_OFFICER, None, True),
    ("london.organiser@example.org", "Liam", "Hughes", Role.REGIONAL_ORGANISER, "London", False),
    ("northwest.nem@example.org", "Priya", "Shah", Role.NEM, "North West", False),
    ("camden.lns@example.org", "Carys", "Evans", Role.LNS, "202", False),
    ("camden.forum@example.org", "Tom", "Fletcher", Role.SCHOOLS_FORUM_REP, "202", False),
    ("camden.senco@example.org", "Sam", "Adeyemi", Role.SENCO_LEAD, "202", False),
    ("kent.lns@example.org", "Kate", "Morgan", Role.LNS, "886", False),
    ("manchester.heads@example.org", "Hamid", "Rahman", Role.HEADTEACHER_REP, "352", False),
]


class Command(BaseCommand):
    help = "Create the demo personas (local only: refuses when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo people are for local use only: DEBUG is off, so none made.")
        if not LocalAuthority.objects.exists():
            raise CommandError("Load the reference data first: manage.py load_reference_data")
        created = 0
        with transaction.atomic():
            for email, first, last, role, place, staff in PERSONAS:
                user, is_new = User.objects.get_or_create(
                    email=email,
                    defaults={"first_name": first, "last_name": last, "is_staff": staff},
                )
                if is_new:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                    created += 1
                Membership.objects.get_or_create(user=user, role=role, **self.scope(role, place))
                if user.requires_mfa and not has_second_step(user):
                    TOTP.activate(user, DEMO_TOTP_SECRET)
        self.stdout.write(
            f"Demo people: {created} created, {len(PERSONAS) - created} already there."
        )

    @staticmethod
    def scope(role, place):
        if place is None:
            return {}
        if role in REGIONAL_ROLES:
            return {"region": Region.objects.get(name=place)}
        return {"authority": LocalAuthority.objects.get(la_code=place)}
