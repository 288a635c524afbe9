"""Telling the national office about an authority, from its page (the
briefing: "provide the NASUWT with feedback … via email"): the concerns the
sender chooses from its checklists, members' figures as the page shows them
to the sender, feedback whose submitters consented to sharing, and a note.

Never a name from feedback: a submission is quoted only if its submitter
agreed that the national office may use it "without names", and then only
what it says, never who gave it. Figures are suppressed below 5 submissions
as the sender's own page shows them. The e-mail is queued with the record
of it (NationalOfficeReport), which the authority's page lists.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from authorities import mail
from feedback.models import Barrier, FeedbackSubmission, Pressure
from plans.models import Answer, Plan

from .models import NationalOfficeReport

# Feedback quoted: from meetings in the last year, the newest first, at
# most this many (the rest are in the figures).
SHARED_SINCE = datetime.timedelta(days=365)
SHARED_AT_MOST = 20


def reportable_concerns(user, authority):
    """The answers of concern on the authority's current plans that `user`
    may read: serious first (AnswerQuerySet.for_briefing)."""
    return (
        Answer.objects.for_user(user)
        .filter(
            assessment__plan__authority=authority,
            assessment__plan__in=Plan.objects.current(),
            concern__in=[Answer.Concern.SERIOUS, Answer.Concern.SOME],
        )
        .for_briefing()
        .select_related("assessment__plan__programme")
    )


def shared_feedback(authority, today=None):
    """Submissions the national office may quote: consented, not withdrawn,
    from the last year. Read whatever the sender may read one by one: the
    consent is to the national office, which receives them."""
    today = today or timezone.localdate()
    return list(
        FeedbackSubmission.objects.active()
        .filter(
            authority=authority,
            consent_to_share=True,
            meeting_date__gte=today - SHARED_SINCE,
        )
        .order_by("-meeting_date", "-pk")[:SHARED_AT_MOST]
    )


def _quoted(submission):
    """What a shared submission says, without anything that names anyone."""
    return {
        "source": submission.source_in_a_sentence(),
        "meeting_date": submission.meeting_date,
        "pressures": submission.labels("pressures", Pressure),
        "pressures_other": submission.pressures_other.strip(),
        "barriers": submission.labels("barriers", Barrier),
        "barriers_other": submission.barriers_other.strip(),
        "working_well": submission.working_well.strip(),
        "practices": [(label, text.strip()) for label, text in submission.reported_practices()],
    }


def send_report(*, authority, sender, concerns, figures, feedback, note):
    """Record a report and queue its e-mail to the national office, in one
    transaction. `concerns`: chosen Answers; `figures`: the FeedbackSummary
    to include, or None; `feedback`: shared submissions to quote."""
    quoted = [_quoted(submission) for submission in feedback]
    body = render_to_string(
        "dashboards/email/national_office_report.txt",
        {
            "authority": authority,
            "sender": sender,
            "note": note.strip(),
            "concerns": concerns,
            "figures": figures,
            "quoted": quoted,
            "authority_url": settings.SITE_URL + authority.get_absolute_url(),
            "site_url": settings.SITE_URL,
        },
    )
    with transaction.atomic():
        report = NationalOfficeReport.objects.create(
            authority=authority,
            sent_by=sender,
            note=note.strip(),
            members_figures=figures is not None,
            shared_feedback=len(quoted),
            body=body,
        )
        report.concerns.set(concerns)
        mail.send(
            subject=f"Report on {authority.name} from {sender.display_name}",
            body=body,
            to=[settings.NATIONAL_OFFICE_EMAIL],
            about=f"report {report.pk} to the national office",
        )
    return report
