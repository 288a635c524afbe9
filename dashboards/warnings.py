"""Early warnings: what in a person's scope should make someone act, each
with the reason in a plain sentence, the page that shows it and the date it
arose.

Each kind is read through its own app's QuerySet (DESIGN.md) and that app's
`for_user`, so a warning never says more than the page it links to would
show its reader:
- a confidential meeting, and its block transfer, only to those who may read
  it (ConsultationQuerySet.for_user);
- a likely-unlawful practice only to those who may read the submission
  (FeedbackSubmissionQuerySet.for_user), and never who made it: a SENCO
  lead who sees only "fewer than 5" on the authority page must not learn
  from a warning that one meeting reported refusals;
- waiting times only from SMALL_NUMBER submissions a term, as every
  feedback figure, unless the reader is a national officer;
- "agreed with no consultation logged" is decided over every meeting, as the
  plan page decides it (plans_agreed_without_consultation explains why).

One query per kind, so eight whatever the number of authorities and rows.
"""

import datetime
from typing import NamedTuple

from django.db import models
from django.urls import reverse
from django.utils import timezone

from authorities.models import LocalAuthority, financial_year_label, format_pounds
from consultations.models import Action, BlockTransfer, plans_agreed_without_consultation
from feedback.models import FeedbackSubmission, Practice
from plans.models import Answer, FundingInstalment, Plan

# The briefing's line: an assessment should take at most 20 weeks.
WAIT_WEEKS_ABOVE = 20


class Kind(models.TextChoices):
    """The kinds of warning, in the order a tie on the same day is listed."""

    MONEY_HELD_BACK = "money_held_back", "Instalment withheld"
    NOT_CONSULTED = "not_consulted", "Agreed without consultation"
    NEGOTIATING = "negotiating", "Plan negotiating"
    BLOCK_TRANSFER = "block_transfer", "Block transfer proposed"
    SERIOUS_CONCERN = "serious_concern", "Serious concern"
    UNLAWFUL_PRACTICE = "unlawful_practice", "Likely unlawful practice"
    WAITS_RISING = "waits_rising", "Waiting times rising"
    ACTION_OVERDUE = "action_overdue", "Action overdue"


KIND_ORDER = {kind: n for n, kind in enumerate(Kind)}


class EarlyWarning(NamedTuple):
    kind: Kind
    authority: LocalAuthority
    reason: str  # a sentence naming the facts; never who submitted feedback
    url: str  # the page that shows it
    on: datetime.date | None  # when it arose; None when the records do not say
    subject: object = None  # the record it is about (an Action, a Plan, …)

    @property
    def label(self):
        return self.kind.label


def early_warnings(user, authorities=None, since=None, *, today=None):
    """The warnings in `user`'s scope, newest first (those whose date is not
    known last), optionally only for `authorities` (a LocalAuthority
    queryset) and only those that arose on or after the date `since`."""
    today = today or timezone.localdate()
    found = []
    for read in READERS:
        found.extend(read(user, authorities, since, today))
    if since is not None:
        # Most kinds are narrowed in the query already; this catches the rest.
        found = [warning for warning in found if warning.on and warning.on >= since]
    found.sort(key=lambda w: (w.authority.name, KIND_ORDER[w.kind], w.reason))
    found.sort(key=lambda w: w.on or datetime.date.min, reverse=True)
    return found


# Each kind's reader: (user, authorities, since, today) → [EarlyWarning].


def _narrow(queryset, path, authorities):
    return queryset if authorities is None else queryset.filter(**{f"{path}__in": authorities})


def _start_of(day):
    """The first moment of `day` here, to compare with a stored time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _local_date(moment):
    return timezone.localdate(moment) if moment else None


def _long_date(day):
    return f"{day:%-d %B %Y}"


def _plan_name(plan):
    """ "SV 2022-23 (revision 2)": the plan without its authority, which the
    warning names beside it."""
    name = " ".join(part for part in (plan.programme.short_name, plan.round_or_tranche) if part)
    return f"{name} (revision {plan.revision})" if plan.revision > 1 else name


def money_held_back(user, authorities, since, today):
    instalments = _narrow(
        FundingInstalment.objects.for_user(user).held_back(), "plan__authority", authorities
    )
    if since:
        instalments = instalments.filter(held_back_since__gte=_start_of(since))
    warnings = []
    for instalment in instalments:
        plan = instalment.plan
        what = f"{format_pounds(instalment.amount)} instalment for " + financial_year_label(
            instalment.financial_year
        )
        if instalment.status == FundingInstalment.Status.WITHHELD:
            reason = f"{what} withheld ({_plan_name(plan)})"
        else:
            held = format_pounds(instalment.amount - (instalment.amount_paid or 0))
            reason = f"{what} paid reduced: {held} withheld ({_plan_name(plan)})"
        warnings.append(
            EarlyWarning(
                Kind.MONEY_HELD_BACK,
                plan.authority,
                reason,
                instalment.get_absolute_url(),
                _local_date(instalment.held_back_since),
                instalment,
            )
        )
    return warnings


def not_consulted(user, authorities, since, today):
    plans = plans_agreed_without_consultation(
        _narrow(Plan.objects.for_user(user).current(), "authority", authorities)
    ).select_related("authority", "programme")
    if since:
        plans = plans.filter(agreement_date__gte=since)
    return [
        EarlyWarning(
            Kind.NOT_CONSULTED,
            plan.authority,
            f"{_plan_name(plan)} agreed on {_long_date(plan.agreement_date)} with no "
            "Schools Forum, JCNC/JCC or network meeting logged that consulted the union "
            "before it",
            plan.get_absolute_url() + "#consultation",
            plan.agreement_date,
            plan,
        )
        for plan in plans
    ]


def negotiating(user, authorities, since, today):
    plans = (
        _narrow(Plan.objects.for_user(user).current(), "authority", authorities)
        .negotiating()
        .select_related("authority", "programme")
    )
    if since:
        plans = plans.filter(negotiating_since__gte=_start_of(since))
    return [
        EarlyWarning(
            Kind.NEGOTIATING,
            plan.authority,
            f"{_plan_name(plan)} recorded as negotiating",
            plan.get_absolute_url(),
            _local_date(plan.negotiating_since),
            plan,
        )
        for plan in plans
    ]


def _transfer_size(transfer):
    parts = []
    if transfer.amount is not None:
        parts.append(format_pounds(transfer.amount))
    if transfer.percent is not None:
        parts.append(f"{transfer.percent.normalize():f}% of the Schools Block")
    return parts[0] if len(parts) == 1 else f"{parts[0]} ({parts[1]})"


def block_transfer_proposed(user, authorities, since, today):
    transfers = _narrow(
        BlockTransfer.objects.for_user(user).proposed(), "consultation__authority", authorities
    )
    if since:
        transfers = transfers.filter(consultation__held_on__gte=since)
    return [
        EarlyWarning(
            Kind.BLOCK_TRANSFER,
            transfer.consultation.authority,
            f"Transfer of {_transfer_size(transfer)} from the Schools Block to the High "
            f"Needs Block for {transfer.financial_year_label} proposed at the Schools Forum "
            f"on {_long_date(transfer.consultation.held_on)}, not yet decided",
            transfer.get_absolute_url(),
            transfer.consultation.held_on,
            transfer,
        )
        for transfer in transfers
    ]


def serious_concern(user, authorities, since, today):
    answers = _narrow(
        Answer.objects.for_user(user).serious(), "assessment__plan__authority", authorities
    ).defer("private_notes", "evidence")
    if since:
        answers = answers.filter(serious_since__gte=_start_of(since))
    warnings = []
    for answer in answers:
        plan = answer.assessment.plan
        warnings.append(
            EarlyWarning(
                Kind.SERIOUS_CONCERN,
                plan.authority,
                f"Serious concern recorded on “{answer.question.text}” ({_plan_name(plan)})",
                reverse("plans:answer", kwargs={"pk": plan.pk, "key": answer.question.key}),
                _local_date(answer.serious_since),
                answer,
            )
        )
    return warnings


def _practice_names(submission):
    chosen = set(submission.practices)
    return "; ".join(
        practice.label[0].lower() + practice.label[1:]
        for practice in Practice
        if practice.value in chosen
    )


def unlawful_practice(user, authorities, since, today):
    submissions = _narrow(
        FeedbackSubmission.objects.for_user(user).reporting_practices(), "authority", authorities
    )
    if since:
        submissions = submissions.filter(submitted_at__gte=_start_of(since))
    return [
        EarlyWarning(
            Kind.UNLAWFUL_PRACTICE,
            submission.authority,
            # The kind of source, never who: the page linked decides that.
            f"{submission.get_source_display()} reported {_practice_names(submission)} "
            f"(meeting of {_long_date(submission.meeting_date)})",
            submission.get_absolute_url(),
            _local_date(submission.submitted_at),
            submission,
        )
        for submission in submissions
    ]


def waits_rising(user, authorities, since, today):
    # Aggregates, like the authority page's: every submission in scope
    # counts, suppressed below SMALL_NUMBER a term.
    submissions = _narrow(
        FeedbackSubmission.objects.filter(authority__in=LocalAuthority.objects.for_user(user)),
        "authority",
        authorities,
    )
    rises = submissions.assessment_waits_rising(
        above=WAIT_WEEKS_ABOVE, reveal_small_numbers=user.has_national_scope, today=today
    )
    return [
        EarlyWarning(
            Kind.WAITS_RISING,
            rise.authority,
            f"Median wait for an EHC needs assessment {rise.median:g} weeks in {rise.term}, "
            f"up from {rise.last_median:g} weeks in {rise.last_term}",
            rise.authority.get_absolute_url() + "#feedback",
            rise.latest,
            rise,
        )
        for rise in rises
    ]


def action_overdue(user, authorities, since, today):
    actions = (
        _narrow(Action.objects.for_user(user), "authority", authorities)
        .overdue(today)
        .select_related("authority", "owner")
    )
    if since:
        # Overdue from the day after it was due.
        actions = actions.filter(due_on__gte=since - datetime.timedelta(days=1))
    warnings = []
    for action in actions:
        owner = f"owned by {action.owner.display_name}" if action.owner else "with no owner"
        warnings.append(
            EarlyWarning(
                Kind.ACTION_OVERDUE,
                action.authority,
                f"“{action.title}” was due on {_long_date(action.due_on)}, {owner}",
                # The authority page lists its open actions for everyone in
                # scope; an action's own page is for those who may change it.
                action.authority.get_absolute_url() + "#actions",
                action.due_on + datetime.timedelta(days=1),
                action,
            )
        )
    return warnings


READERS = (
    money_held_back,
    not_consulted,
    negotiating,
    block_transfer_proposed,
    serious_concern,
    unlawful_practice,
    waits_rising,
    action_overdue,
)
