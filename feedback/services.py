"""Actions on feedback that have side effects (e-mail) or touch several records."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from authorities import mail
from authorities.edits import Saved, save_values

from .models import FeedbackEvidence, FeedbackSubmission


@dataclass
class SubmissionSaved(Saved):
    """What save_submission did. `national_office_told`: the e-mail about
    its practices was queued with this save (tell_national_office)."""

    national_office_told: bool = False

    def told_sentence(self):
        """What the confirmation adds when this save told the national office."""
        if not self.national_office_told:
            return ""
        reported = self.obj.reported_practices()
        several = len(reported) > 1
        wrote = any(example.strip() for _, example in reported)
        return (
            " The national office is being told by e-mail about the likely unlawful "
            f"{'practices' if several else 'practice'} you reported"
            + (f" and what you wrote about {'them' if several else 'it'}." if wrote else ".")
        )


@transaction.atomic
def save_submission(*, submission, data, user, base_version=None):
    """Store `data` (the submission's field values, by field or attribute
    name: authorities.edits.edited_values(SubmissionForm) gives them) on
    `submission`, an authority's new FeedbackSubmission (then `user`'s) or a
    stored one: refused (StaleEdit) if someone else saved it since
    `base_version`, nothing written if unchanged (authorities/edits.py). The
    first time a submission reports a likely-unlawful practice, tell the
    national office, once, after the save commits: the authority, the
    practices and what was written about them, never who submitted, with a
    link to the submission at SITE_URL (not whichever host the request came
    in by). Returns a SubmissionSaved."""
    telling = []

    def stamp(submission):
        if submission.pk is None:
            submission.submitted_by = user
        if submission.practices and submission.national_office_told_at is None:
            submission.national_office_told_at = timezone.now()
            telling.append(submission)

    saved = save_values(submission, data, base_version=base_version, before_save=stamp)
    result = SubmissionSaved(saved.obj, saved.changed, national_office_told=bool(telling))
    if telling:
        submission = saved.obj
        mail.enqueue(
            tell_national_office,
            submission_id=submission.pk,
            url=settings.SITE_URL + submission.get_absolute_url(),
        )
    return result


@task
def tell_national_office(*, submission_id, url, attempt=1, about=None):
    """E-mail the national office what a submission reports: its practices,
    quoting what the member wrote, and never who submitted it; the task
    save_submission queues. Read when it runs, so a submission withdrawn or
    changed meanwhile is told as it now stands (or not at all). If the mail
    server keeps refusing, the submission is marked as not told, so that
    its next save tries again."""
    about = about or f"the national office news of feedback {submission_id}"
    submission = (
        FeedbackSubmission.objects.active()
        .select_related("authority")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None or not submission.practices:
        return "nothing to tell"
    practices = [
        (label, example.strip().splitlines()) for label, example in submission.reported_practices()
    ]
    body = render_to_string(
        "feedback/email/practices_reported.txt",
        {
            "submission": submission,
            "source": submission.source_in_a_sentence(),
            "practices": practices,
            "url": url,
            "site_url": settings.SITE_URL,
        },
    )
    if mail.send_now(
        subject="Likely unlawful practice reported in " + submission.authority.name,
        body=body,
        to=[settings.NATIONAL_OFFICE_EMAIL],
    ):
        return "sent"
    if mail.again(
        tell_national_office, attempt=attempt, about=about, submission_id=submission_id, url=url
    ):
        return "retrying"
    FeedbackSubmission.objects.filter(pk=submission_id).update(national_office_told_at=None)
    return "given up"


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
