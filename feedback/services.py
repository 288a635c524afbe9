"""Actions on feedback that have side effects (e-mail) or touch several records."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from authorities.edits import save_edit

from .models import FeedbackEvidence


@transaction.atomic
def save_submission(*, form, user, url_for):
    """Save a feedback form (a new submission is `user`'s; a stale edit is
    refused and an unchanged one writes nothing: authorities/edits.py). The
    first time a submission reports a likely-unlawful practice, tell the
    national office, once, after the save commits: the authority and the
    practices, never who submitted. `url_for(submission)` gives the page's
    full address. Returns save_edit's Saved."""
    telling = []

    def stamp(submission):
        if submission.pk is None:
            submission.submitted_by = user
        if submission.practices and submission.national_office_told_at is None:
            submission.national_office_told_at = timezone.now()
            telling.append(submission)

    saved = save_edit(form, before_save=stamp)
    if telling:
        submission, url = saved.obj, url_for(saved.obj)
        transaction.on_commit(lambda: tell_national_office_of_practices(submission, url))
    return saved


def tell_national_office_of_practices(submission, url):
    practices = "\n".join(f"- {label}" for label, _ in submission.reported_practices())
    send_mail(
        subject=f"Likely unlawful practice reported in {submission.authority}",
        message=(
            f"Feedback from {submission.get_source_display().lower()} in "
            f"{submission.authority} (meeting of {submission.meeting_date:%-d %B %Y}) "
            f"reports practices the union's briefing says are likely to be unlawful:\n\n"
            f"{practices}\n\nThe feedback: {url}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[settings.NATIONAL_OFFICE_EMAIL],
    )


@transaction.atomic
def link_evidence(*, plan, question, submission, stance, point, user):
    """Link a submission to a plan's question; linking it again replaces the
    stance and point (one link per submission and question)."""
    evidence, _ = FeedbackEvidence.objects.update_or_create(
        submission=submission,
        plan=plan,
        question=question,
        defaults={
            "stance": stance,
            "point": point,
            "linked_by": user,
            "linked_at": timezone.now(),
        },
    )
    return evidence
