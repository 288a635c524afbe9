"""Apply the feedback retention period (settings.FEEDBACK_RETENTION_DAYS).

Submissions received longer ago than the period are anonymised: who
submitted, every free-text answer and the points quoted from them as checklist
evidence are cleared, while the ticked answers, numbers and dates stay so
aggregates and trends by term still add up. Withdrawn submissions past the
period are deleted outright (they count nowhere). Safe to run daily: a
submission already anonymised is left alone.

    manage.py prune_feedback            # do it
    manage.py prune_feedback --dry-run  # say what it would do
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from authorities.caching import data_changed
from feedback.models import PRACTICE_EXAMPLES, FeedbackEvidence, FeedbackSubmission

FREE_TEXT = ("pressures_other", "working_well", "barriers_other", *PRACTICE_EXAMPLES.values())


class Command(BaseCommand):
    help = (
        "Anonymise feedback older than FEEDBACK_RETENTION_DAYS and delete withdrawn "
        "feedback older than that."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Change nothing; report.")

    @transaction.atomic
    def handle(self, *args, dry_run=False, **options):
        days = settings.FEEDBACK_RETENTION_DAYS
        cutoff = timezone.now() - timedelta(days=days)
        old = FeedbackSubmission.objects.filter(submitted_at__lt=cutoff)
        withdrawn = old.filter(withdrawn_at__isnull=False)
        to_anonymise = old.filter(withdrawn_at__isnull=True, anonymised_at__isnull=True)
        counts = (withdrawn.count(), to_anonymise.count())
        if not dry_run:
            FeedbackEvidence.objects.filter(submission__in=to_anonymise).update(point="")
            to_anonymise.update(
                submitted_by=None,
                anonymised_at=timezone.now(),
                **dict.fromkeys(FREE_TEXT, ""),
            )
            withdrawn.delete()
            data_changed()  # update() sends no signal (authorities/caching.py)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {counts[0]} withdrawn and "
            f"{'would anonymise' if dry_run else 'anonymised'} {counts[1]} submissions "
            f"received more than {days} days ago."
        )
