"""Early warnings: what in a person's scope should make someone act, each
with the reason in a plain sentence, the page that shows it and the date it
arose.

Each kind is read through its own app's QuerySet (DESIGN.md) and that app's
`for_user`, so a warning never says more than the page it links to would
show its reader:
- a confidential meeting, and its block transfer, only to those who may read
  it (MeetingQuerySet.for_user);
- a likely-unlawful practice only to those who may read the submission
  (FeedbackSubmissionQuerySet.for_user), and never who made it: a SENCO
  lead who sees only "fewer than 5" on the authority page must not learn
  from a warning that one meeting reported refusals;
- waiting times only from SMALL_NUMBER submissions a term, as every
  feedback figure, unless the reader is a national officer;
- "agreed with no consultation logged" is decided over every meeting, as the
  plan page decides it (plans_agreed_without_consultation explains why).

One query per kind, so eight whatever the number of authorities and rows.
A page that shows only the newest few and counts the rest asks
warning_summary(), which reads whole only the rows it may show.
"""

import datetime
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from django.db import models
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from authorities.models import LocalAuthority, financial_year_label, format_pounds
from consultations.models import Action, BlockTransfer, plans_agreed_without_consultation
from feedback.models import FeedbackSubmission, FeedbackTally, Practice
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
    for kind in KINDS:
        found.extend(kind.warnings(user, authorities, since, today))
    found.extend(waits_rising(user, authorities, since, today))
    return _newest_first(found, since)


def _newest_first(found, since):
    if since is not None:
        # Most kinds are narrowed in the query already; this catches the rest.
        found = [warning for warning in found if warning.on and warning.on >= since]
    found.sort(key=lambda w: (w.authority.name, KIND_ORDER[w.kind], w.reason))
    found.sort(key=lambda w: w.on or datetime.date.min, reverse=True)
    return found


class WarningSummary(NamedTuple):
    count: int
    newest: list  # EarlyWarning, the newest `limit`
    per_authority: dict  # {authority id: its number of warnings}


def warning_summary(user, authorities=None, since=None, *, limit, today=None, mine_too=True):
    """What a page shows of early_warnings(): how many there are, how many
    for each authority, and the newest `limit`, without building the rest:
    the counts in one query (each kind's rows counted by authority, as one
    UNION ALL), and for each kind only its newest `limit` rows read whole,
    as only they can be among the newest of all. `mine_too=False` leaves
    out `user`'s own overdue actions (Home lists them already)."""
    today = today or timezone.localdate()
    counted = [kind.counts(user, authorities, since, today, mine_too=mine_too) for kind in KINDS]
    first, *rest = counted
    per_authority = Counter()
    for authority, n in first.union(*rest, all=True).order_by():
        per_authority[authority] += n
    # Waiting times are worked out from the term's submissions, not counted
    # in SQL: few authorities rise, and all of them are read.
    rising = waits_rising(user, authorities, since, today)
    newest = list(rising)
    for kind in KINDS:
        newest.extend(kind.warnings(user, authorities, since, today, limit, mine_too=mine_too))
    newest = _newest_first(newest, since)
    rising = _newest_first(rising, since)
    per_authority.update(warning.authority.pk for warning in rising)
    return WarningSummary(sum(per_authority.values()), newest[:limit], dict(per_authority))


class KindReader(NamedTuple):
    """How one kind of warning is read. `scoped(user, today)` gives the
    records in the person's scope, with what `build` needs to make each a
    warning; `authority` is the path to their authority, `on` to the date
    or time (`moment`) the warning arose, from which `since` narrows them
    (a day earlier with `day_before`: an action is overdue the day after it
    was due)."""

    kind: Kind
    scoped: Callable
    authority: str
    on: str
    build: Callable
    moment: bool = False
    day_before: bool = False

    def rows(self, user, authorities, since, today, *, mine_too=True):
        rows = _narrow(self.scoped(user, today), self.authority, authorities)
        if since:
            start = since - datetime.timedelta(days=1) if self.day_before else since
            rows = rows.filter(**{f"{self.on}__gte": _start_of(start) if self.moment else start})
        if not mine_too and self.kind == Kind.ACTION_OVERDUE:
            rows = rows.exclude(owner=user)
        return rows

    def newest(self):
        """Newest first, those with no date last, then by authority, as
        early_warnings() lists them: by the local day a moment falls on, as
        the warning shows it, so that of two on one day the authority first
        by name is kept. (Two of one kind for one authority on one day are
        then listed by their reason, which SQL does not order by: at the
        edge of a `limit`, which of them is shown may differ.)"""
        day = (
            TruncDate(self.on, tzinfo=timezone.get_current_timezone())
            if self.moment
            else models.F(self.on)
        )
        return (day.desc(nulls_last=True), f"{self.authority}__name", "pk")

    def warnings(self, user, authorities, since, today, limit=None, *, mine_too=True):
        rows = self.rows(user, authorities, since, today, mine_too=mine_too)
        if limit is not None:
            rows = rows.order_by(*self.newest())[:limit]
        return [self.build(row) for row in rows]

    def counts(self, user, authorities, since, today, *, mine_too=True):
        return (
            self.rows(user, authorities, since, today, mine_too=mine_too)
            .order_by()
            .values_list(self.authority)
            .annotate(n=models.Count("pk"))
        )


def _narrow(queryset, path, authorities):
    return queryset if authorities is None else queryset.filter(**{f"{path}__in": authorities})


def _start_of(day):
    """The first moment of `day` here, to compare with a stored time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _local_date(moment):
    return timezone.localdate(moment) if moment else None


def _long_date(day):
    return f"{day:%-d %B %Y}"


def _held_back_warning(instalment):
    plan = instalment.plan
    what = f"{format_pounds(instalment.amount)} instalment for " + financial_year_label(
        instalment.financial_year
    )
    if instalment.status == FundingInstalment.Status.WITHHELD:
        reason = f"{what} withheld ({plan.short_name})"
    else:
        held = format_pounds(instalment.amount - (instalment.amount_paid or 0))
        reason = f"{what} paid reduced: {held} withheld ({plan.short_name})"
    return EarlyWarning(
        Kind.MONEY_HELD_BACK,
        plan.authority,
        reason,
        instalment.get_absolute_url(),
        _local_date(instalment.held_back_since),
        instalment,
    )


def _not_consulted_warning(plan):
    return EarlyWarning(
        Kind.NOT_CONSULTED,
        plan.authority,
        f"{plan.short_name} agreed on {_long_date(plan.agreement_date)} with no "
        "Schools Forum, JCNC/JCC or network meeting logged that consulted the union "
        "before it",
        plan.get_absolute_url() + "#consultation",
        plan.agreement_date,
        plan,
    )


def _negotiating_warning(plan):
    return EarlyWarning(
        Kind.NEGOTIATING,
        plan.authority,
        f"{plan.short_name} recorded as negotiating",
        plan.get_absolute_url(),
        _local_date(plan.negotiating_since),
        plan,
    )


def _transfer_size(transfer):
    parts = []
    if transfer.amount is not None:
        parts.append(format_pounds(transfer.amount))
    if transfer.percent is not None:
        parts.append(f"{transfer.percent.normalize():f}% of the Schools Block")
    return parts[0] if len(parts) == 1 else f"{parts[0]} ({parts[1]})"


def _transfer_warning(transfer):
    return EarlyWarning(
        Kind.BLOCK_TRANSFER,
        transfer.meeting.authority,
        f"Transfer of {_transfer_size(transfer)} from the Schools Block to the High "
        f"Needs Block for {transfer.financial_year_label} proposed at the Schools Forum "
        f"on {_long_date(transfer.meeting.held_on)}, not yet decided",
        transfer.get_absolute_url(),
        transfer.meeting.held_on,
        transfer,
    )


def _serious_warning(answer):
    plan = answer.assessment.plan
    return EarlyWarning(
        Kind.SERIOUS_CONCERN,
        plan.authority,
        f"Serious concern recorded on “{answer.question.text}” ({plan.short_name})",
        reverse("plans:answer", kwargs={"pk": plan.pk, "key": answer.question.key}),
        _local_date(answer.serious_since),
        answer,
    )


def _practice_names(submission):
    chosen = set(submission.practices)
    return "; ".join(
        practice.label[0].lower() + practice.label[1:]
        for practice in Practice
        if practice.value in chosen
    )


def _practice_warning(submission):
    return EarlyWarning(
        Kind.UNLAWFUL_PRACTICE,
        submission.authority,
        # The kind of source, never who: the page linked decides that.
        f"{submission.get_source_display()} reported {_practice_names(submission)} "
        f"(meeting of {_long_date(submission.meeting_date)})",
        submission.get_absolute_url(),
        _local_date(submission.submitted_at),
        submission,
    )


def waits_rising(user, authorities, since, today):
    # Aggregates, like the authority page's: every submission in scope
    # counts, suppressed below SMALL_NUMBER a term.
    tallies = _narrow(
        FeedbackTally.objects.filter(authority__in=LocalAuthority.objects.for_user(user)),
        "authority",
        authorities,
    )
    rises = tallies.assessment_waits_rising(
        above=WAIT_WEEKS_ABOVE, reveal_small_numbers=user.can_see_small_numbers, today=today
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


def _overdue_warning(action):
    owner = f"owned by {action.owner.display_name}" if action.owner else "with no owner"
    return EarlyWarning(
        Kind.ACTION_OVERDUE,
        action.authority,
        f"“{action.title}” was due on {_long_date(action.due_on)}, {owner}",
        # The authority page lists its open actions for everyone in
        # scope; an action's own page is for those who may change it.
        action.authority.get_absolute_url() + "#actions",
        action.due_on + datetime.timedelta(days=1),
        action,
    )


# Every kind but waiting times (waits_rising), each read the same way.
KINDS = (
    KindReader(
        Kind.MONEY_HELD_BACK,
        lambda user, today: FundingInstalment.objects.for_user(user).held_back(),
        "plan__authority",
        "held_back_since",
        _held_back_warning,
        moment=True,
    ),
    KindReader(
        Kind.NOT_CONSULTED,
        lambda user, today: plans_agreed_without_consultation(
            Plan.objects.for_user(user).current()
        ).select_related("authority", "programme"),
        "authority",
        "agreement_date",
        _not_consulted_warning,
    ),
    KindReader(
        Kind.NEGOTIATING,
        lambda user, today: (
            Plan.objects.for_user(user)
            .current()
            .negotiating()
            .select_related("authority", "programme")
        ),
        "authority",
        "negotiating_since",
        _negotiating_warning,
        moment=True,
    ),
    KindReader(
        Kind.BLOCK_TRANSFER,
        lambda user, today: BlockTransfer.objects.for_user(user).proposed(),
        "meeting__authority",
        "meeting__held_on",
        _transfer_warning,
    ),
    KindReader(
        Kind.SERIOUS_CONCERN,
        lambda user, today: (
            Answer.objects.for_user(user).serious().defer("private_notes", "evidence")
        ),
        "assessment__plan__authority",
        "serious_since",
        _serious_warning,
        moment=True,
    ),
    KindReader(
        Kind.UNLAWFUL_PRACTICE,
        lambda user, today: FeedbackSubmission.objects.for_user(user).reporting_practices(),
        "authority",
        "submitted_at",
        _practice_warning,
        moment=True,
    ),
    KindReader(
        Kind.ACTION_OVERDUE,
        lambda user, today: (
            Action.objects.for_user(user).overdue(today).select_related("authority", "owner")
        ),
        "authority",
        "due_on",
        _overdue_warning,
        day_before=True,
    ),
)
