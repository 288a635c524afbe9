"""Mark a few of the demo's warnings dealt with, for local use, so that
`make run`'s warnings page (`/warnings/`) shows warnings dealt with, with who
dealt with them and what they did, beside those still open: Camden's LNS on
Camden's reform plan in negotiation, the London organiser on Hammersmith and
Fulham's reform plan rated "requirements not met" and on one London
authority's official figures (once load_official_statistics has run).

Run after create_demo_people and create_demo_reform_plans, whose records
the warnings are about; one whose warning is not there (the data not
loaded, or its cause since cleared) is left out and said so.

DEBUG only (like the demo people, plans and meetings). Idempotent: a demo
record once made (reopened since or not) is left as it is and not made again.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authorities.access import Can
from authorities.caching import data_changed
from authorities.models import LocalAuthority, User

from ...models import WarningDealtWith
from ...warnings import Kind, warning_list

# (who, kind, authority code or None for the first in their scope, what they did)
DEMO = [
    (
        "camden.lns@example.org",
        Kind.NEGOTIATING,
        "202",
        "Raised at the JCNC: the council will share its draft reform plan with the union "
        "and the Schools Forum before it goes to the DfE. (demo)",
    ),
    (
        "london.organiser@example.org",
        Kind.REFORM_NOT_MET,
        "205",
        "Told the national office; the branch has asked the council for the DfE's feedback "
        "and a date for the revised plan. (demo)",
    ),
    (
        "london.organiser@example.org",
        Kind.OFFICIAL_WORSE,
        None,
        "Asked the LNS to put the figures to the council at the next Schools Forum and to "
        "collect SENCOs' refused requests as evidence. (demo)",
    ),
]


class Command(BaseCommand):
    help = "Mark a few demo warnings dealt with (local only: refuses when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo records are for local use only: DEBUG is off, so none made.")
        made, there, missing = 0, 0, []
        with transaction.atomic():
            for email, kind, la_code, note in DEMO:
                if WarningDealtWith.objects.filter(note=note).exists():
                    there += 1
                    continue
                warning = self.warning(email, kind, la_code)
                if warning is None:
                    missing.append(f"{kind.label} ({email})")
                    continue
                WarningDealtWith.objects.mark(
                    warning, user=User.objects.get(email=email), note=note
                )
                made += 1
        if made:
            # Saves send signals, but say so anyway: a page cached with the
            # warnings open must not outlive their records.
            data_changed()
        self.stdout.write(f"Demo warnings dealt with: {made} made, {there} already there.")
        if missing:
            self.stdout.write(f"No such open warning to deal with: {', '.join(missing)}.")

    @staticmethod
    def warning(email, kind, la_code):
        """The first open warning of `kind` that the person `email` may mark
        dealt with (at the authority `la_code`, if given), or None."""
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            return None
        # As the warnings page lets them: only where they may act.
        authorities = LocalAuthority.objects.where_user_may(user, Can.DEAL_WITH_WARNINGS)
        if la_code:
            authorities = authorities.filter(la_code=la_code)
        return next(iter(warning_list(user, authorities, kinds=[kind])), None)
