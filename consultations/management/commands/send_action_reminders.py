"""E-mail each owner their overdue actions, in one message.

Run daily by cron, for example at 07:15:
    15 7 * * * cd /srv/tracker && .venv/bin/python manage.py send_action_reminders
Running it twice on the same day sends nothing the second time.
"""

from django.core.management.base import BaseCommand

from consultations.services import send_overdue_reminders


class Command(BaseCommand):
    help = "E-mail each owner of overdue actions one reminder (at most once a day per action)."

    def handle(self, *args, **options):
        people, actions = send_overdue_reminders()
        self.stdout.write(
            f"Reminded {people} {'person' if people == 1 else 'people'} "
            f"of {actions} overdue action{'' if actions == 1 else 's'}."
        )
