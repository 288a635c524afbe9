"""Print the code a demo person's authenticator app would show now
(README.md, Demo people): the second step of signing in as a demo national
officer, regional organiser or NEM under `make run`, without a phone.

Refuses with DEBUG off, like create_demo_people: the demo secret is public.
"""

from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from .create_demo_people import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current two-step sign-in code of the demo people (local only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo people are for local use only: DEBUG is off.")
        counter = next(yield_hotp_counters_from_time())
        self.stdout.write(format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter)))
