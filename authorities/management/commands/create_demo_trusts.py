"""Create demo multi-academy trusts and a local branch for local use, so
that `make run` shows the briefing's section 7: two London trusts (one
running special schools across three authorities) and the Camden branch.

DEBUG only (like the demo people and plans). Idempotent: a demo record
already there (changed since or not) is left as it is.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authorities.caching import data_changed
from authorities.models import Branch, LocalAuthority, MultiAcademyTrust, User

# (name, DfE LA codes, mainstream schools, special schools, notes)
TRUSTS = (
    (
        "North London Learning Partnership (demo)",
        ("202", "206", "213"),
        14,
        3,
        "Runs three of the special schools Camden places pupils in. Plans a resource "
        "base in each of its secondary schools.",
    ),
    (
        "Camden Primary Academies Trust (demo)",
        ("202",),
        6,
        0,
        "Primary academies only; its SENCOs meet as one network each term.",
    ),
)
BRANCH = ("Camden branch (demo)", ("202",))


class Command(BaseCommand):
    help = "Create demo trusts and a branch (local only: refuses when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo trusts are for local use only: DEBUG is off, so none made.")
        if not LocalAuthority.objects.filter(la_code="202").exists():
            raise CommandError("Load the authorities first: manage.py load_reference_data")
        organiser = User.objects.filter(email="london.organiser@example.org").first()
        made = []
        with transaction.atomic():
            for name, codes, mainstream, special, notes in TRUSTS:
                if MultiAcademyTrust.objects.filter(name=name).exists():
                    continue
                trust = MultiAcademyTrust.objects.create(
                    name=name,
                    mainstream_schools=mainstream,
                    special_schools=special,
                    notes=notes,
                    updated_by=organiser,
                )
                trust.authorities.set(LocalAuthority.objects.filter(la_code__in=codes))
                made.append(name)
            name, codes = BRANCH
            if not Branch.objects.filter(name=name).exists():
                branch = Branch.objects.create(name=name, updated_by=organiser)
                branch.authorities.set(LocalAuthority.objects.filter(la_code__in=codes))
                made.append(name)
        data_changed()
        self.stdout.write(
            f"Demo trusts and branch: {', '.join(made)}."
            if made
            else "Demo trusts: already there."
        )
