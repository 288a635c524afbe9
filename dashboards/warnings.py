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

One query per kind, so twelve (and the feedback tallies for rising waits)
whatever the number of authorities and rows.
A page that shows only the newest few and counts the rest asks
warning_summary(), which reads whole only the rows it may show, and counts
them from the index of open warnings (OpenWarning): a row for each, kept in
step with the records by index_warnings() in the transaction of every write
to them (authorities.caching.changed says which records changed where), and
read with the same rules as the kinds' own rows (OpenWarningQuerySet.
for_user); a warning that arises on a day (an action overdue, a deadline
near) is indexed with that day, so nothing needs doing as the days pass.
The newest few, the gravest few and a page of the warnings page are found
in the index too, and only their records read (_built, GravestFirst).
"""

import datetime
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from django.db import connection, connections, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.db.models.lookups import IsNull
from django.db.models.signals import post_migrate
from django.urls import reverse
from django.utils import timezone

from authorities.access import in_scope
from authorities.caching import changed
from authorities.models import LocalAuthority, financial_year_label, format_pounds
from authorities.recounting import Recount
from consultations.models import (
    Action,
    BlockTransfer,
    Meeting,
    plans_agreed_without_consultation,
)
from feedback.models import FeedbackSubmission, FeedbackTally, Practice, term_of
from official.models import WORSE_WHEN, Figure, Release
from official.presenters import TRENDS as OFFICIAL_TRENDS
from plans.models import (
    Answer,
    Assessment,
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    ReformPlanDetails,
    TimelineEntry,
)

from .models import OpenWarning, WarningDealtWith, cause_key

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
    OFFICIAL_WORSE = "official_worse", "Official figures worse"
    # Local SEND reform plans and the High Needs Stability Grant (2026).
    GRANT_HELD_BACK = "grant_held_back", "Grant withheld"
    REFORM_NOT_MET = "reform_not_met", "Reform plan: requirements not met"
    REFORM_NOT_SUBMITTED = "reform_not_submitted", "Reform plan not submitted"
    FEWER_PLACES = "fewer_places", "Fewer special places"


KIND_ORDER = {kind: n for n, kind in enumerate(Kind)}

# How grave each kind is, gravest first, for the warnings page's order:
# what the briefing calls likely unlawful, then money the DfE holds back,
# then the union left out, and so on down to an overdue action. A kind not
# named here comes after those that are (then in Kind's order): name a new
# kind here to place it.
SEVERITY = (
    Kind.UNLAWFUL_PRACTICE,
    Kind.MONEY_HELD_BACK,
    Kind.GRANT_HELD_BACK,
    Kind.NOT_CONSULTED,
    Kind.SERIOUS_CONCERN,
    Kind.REFORM_NOT_MET,
    Kind.FEWER_PLACES,
    Kind.BLOCK_TRANSFER,
    Kind.WAITS_RISING,
    Kind.OFFICIAL_WORSE,
    Kind.NEGOTIATING,
    Kind.REFORM_NOT_SUBMITTED,
    Kind.ACTION_OVERDUE,
)


# The first this many of SEVERITY are listed, and tagged, as the gravest.
GRAVEST = 2


def severity(kind):
    """`kind`'s place in SEVERITY (0 is the gravest)."""
    return SEVERITY.index(kind) if kind in SEVERITY else len(SEVERITY) + KIND_ORDER[kind]


SEVERITY_ORDER = {kind: severity(kind) for kind in Kind}


class Status(models.TextChoices):
    """Which warnings a list shows: those no one has dealt with (open), or
    those someone has, for as long as their cause stands."""

    OPEN = "open", "Open"
    DEALT_WITH = "dealt_with", "Dealt with"


class EarlyWarning(NamedTuple):
    kind: Kind
    authority: LocalAuthority
    reason: str  # a sentence naming the facts; never who submitted feedback
    url: str  # the page that shows it
    on: datetime.date | None  # when it arose; None when the records do not say
    subject: object = None  # the record it is about (an Action, a Plan, …)
    # What identifies it when it is marked dealt with (WarningDealtWith):
    # the id of the record it is about and what made it, set by its reader.
    subject_pk: int | None = None
    cause: object = None
    dealt_with: object = None  # its WarningDealtWith, on a list of those dealt with

    @property
    def label(self):
        return self.kind.label

    @property
    def severity(self):
        return severity(self.kind)

    @property
    def grave(self):
        """One of the two kinds the briefing puts first (shown in red)."""
        return self.severity < GRAVEST

    @property
    def key(self):
        """(kind, subject id, cause key): two warnings with one key are one."""
        return (self.kind.value, self.subject_pk, cause_key(self.cause))

    @property
    def deal_url(self):
        """The page to mark it dealt with."""
        return reverse(
            "dashboards:warning_deal", kwargs={"kind": self.kind.value, "pk": self.subject_pk}
        )


def early_warnings(user, authorities=None, since=None, *, today=None, status=Status.OPEN):
    """The warnings in `user`'s scope, newest first (those whose date is not
    known last), optionally only for `authorities` (a LocalAuthority
    queryset) and only those that arose on or after the date `since`; those
    no one has dealt with unless `status` says otherwise (None: all)."""
    today = today or timezone.localdate()
    found = []
    for kind in KINDS:
        found.extend(kind.warnings(user, authorities, since, today, status=status))
    found.extend(waits_rising(user, authorities, since, today, status=status))
    return _newest_first(found, since)


def _newest_first(found, since):
    if since is not None:
        # Most kinds are narrowed in the query already; this catches the rest.
        found = [warning for warning in found if warning.on and warning.on >= since]
    # Of one day, by authority, kind and record (the index's order too).
    found.sort(key=lambda w: (w.authority.name, KIND_ORDER[w.kind], w.subject_pk))
    found.sort(key=lambda w: w.on or datetime.date.min, reverse=True)
    return found


class WarningSummary(NamedTuple):
    count: int
    newest: list  # EarlyWarning, the newest `limit`
    per_authority: dict  # {authority id: its number of warnings}
    # Every open warning, whatever `since` and `mine_too` (warning_count()).
    every: int = 0


def warning_summary(user, authorities=None, since=None, *, limit, today=None, mine_too=True):
    """What a page shows of early_warnings() (the open ones): how many there
    are, how many for each authority, and the newest `limit`, without
    building the rest: counted from the index of open warnings (one query,
    by authority and kind), then the newest `limit` found in it (one query)
    and only those built, a query for each kind among them, with the rising
    waits (not indexed) put in their place. `mine_too=False` leaves out
    `user`'s own overdue actions (Home lists them already); `every` counts
    them all the same, as warning_count() would, from the same query."""
    today = today or timezone.localdate()
    per_authority, rising, every = _open_counts(user, authorities, since, today, mine_too=mine_too)
    found = list(rising)
    if sum(per_authority.values()) > len(rising):  # some in the index
        rows = _indexed(user, authorities, since, today)
        if not mine_too:
            rows = rows.exclude(kind=Kind.ACTION_OVERDUE.value, owner_id=user.pk)
        newest = rows.order_by(
            models.F("day").desc(nulls_last=True),
            "authority__name",
            _rank(KIND_ORDER),
            "subject_id",
        )
        found += _built(user, today, newest.values_list("kind", "subject_id")[:limit])
    newest = _newest_first(found, since)
    return WarningSummary(sum(per_authority.values()), newest[:limit], dict(per_authority), every)


def _indexed(user, authorities, since, today):
    """The index's open warnings `user` may see on `today` (at
    `authorities`, arisen on or after `since`)."""
    rows = OpenWarning.objects.for_user(user).arisen_by(today)
    if authorities is not None:
        rows = rows.filter(authority__in=authorities)
    if since:
        rows = rows.filter(day__gte=since)
    return rows


def _rank(order):
    """A kind's place in `order` ({kind: n}), as SQL on the index."""
    return models.Case(
        *(models.When(kind=kind.value, then=n) for kind, n in order.items()),
        output_field=models.IntegerField(),
    )


def _built(user, today, keys):
    """The warnings the index's `keys` ((kind, record id), in order) are
    about, in the same order, each built from its record read through its
    kind's own reader, scope and all (a query for each kind among them)."""
    keys = list(keys)
    by_kind = {}
    for kind, subject_id in keys:
        by_kind.setdefault(kind, []).append(subject_id)
    built = {}
    for kind, subject_ids in by_kind.items():
        reader = READER[kind]
        records = reader.scoped(user, today).filter(pk__in=subject_ids)
        built |= {(kind, w.subject_pk): w for w in reader.build_all(records)}
    return [built[key] for key in keys if key in built]


def _open_counts(user, authorities, since, today, *, mine_too=True):
    """{authority id: its open warnings}; the rising waits (read whole);
    and how many open warnings there are, whatever `since` and `mine_too`.
    Counted from the index of open warnings (OpenWarning), in one query."""
    rows = _indexed(user, authorities, None, today)
    shown = Q()
    if since:
        shown &= Q(day__gte=since)
    if not mine_too:
        shown &= ~Q(kind=Kind.ACTION_OVERDUE.value, owner_id=user.pk)
    counted = (
        rows.order_by()
        .values_list("authority_id")
        .annotate(n=models.Count("pk", filter=shown or None), n_all=models.Count("pk"))
    )
    per_authority, every = Counter(), 0
    for authority, n, n_all in counted:
        every += n_all
        if n:
            per_authority[authority] += n
    # Waiting times are worked out from the term's submissions, not counted
    # in SQL: few authorities rise, and all of them are read.
    rising_all = waits_rising(user, authorities, None, today)
    rising = _newest_first(rising_all, since)
    per_authority.update(warning.authority.pk for warning in rising)
    return per_authority, rising, every + len(rising_all)


def warning_count(user, authorities=None, *, today=None):
    """How many open warnings `user` may see (at `authorities`), counted
    without building them (but rising waits, which are few): for a link to
    the warnings page that says how many it lists."""
    today = today or timezone.localdate()
    *_, every = _open_counts(user, authorities, None, today)
    return every


def warning_list(
    user,
    authorities=None,
    since=None,
    *,
    kinds=None,
    status=Status.OPEN,
    today=None,
):
    """The warnings page's list: `user`'s warnings (of `kinds`, at
    `authorities`, arisen on or after `since`), open or dealt with
    (`status`), gravest first (severity()), then newest first. One query per
    kind asked for, and, for those dealt with, one for the records (each
    warning given its `dealt_with`)."""
    today = today or timezone.localdate()
    kinds = set(kinds or Kind)
    found = []
    for reader in KINDS:
        if reader.kind in kinds:
            found.extend(reader.warnings(user, authorities, since, today, status=status))
    if Kind.WAITS_RISING in kinds:
        found.extend(waits_rising(user, authorities, since, today, status=status))
    found = _gravest_first(found, since)
    if status == Status.DEALT_WITH and found:
        records = _records_for(user, found)
        found = [w._replace(dealt_with=records[w.key]) for w in found if w.key in records]
    return found


class GravestFirst:
    """warning_list()'s open warnings a page at a time, for Django's
    Paginator (`count()` and slices): counted, and only a page's built, from
    the index of open warnings (OpenWarning), where building every warning
    took a second for a national officer, and twelve at 10x data. In
    warning_list()'s order: gravest kind first, then newest (undated last),
    then by authority and record; the rising waits, which are not indexed
    (few, and worked out from the term's tallies), read whole and put in
    their kind's place."""

    def __init__(self, user, authorities=None, since=None, *, kinds=None, today=None):
        self.user = user
        self.today = today or timezone.localdate()
        kinds = set(kinds or Kind)
        rows = _indexed(user, authorities, since, self.today)
        graver = severity(Kind.WAITS_RISING)
        indexed = [reader.kind.value for reader in KINDS if reader.kind in kinds]
        self.graver = [kind for kind in indexed if severity(Kind(kind)) < graver]
        self.rows = rows.filter(kind__in=indexed)
        self.before = rows.filter(kind__in=self.graver)
        self.after = rows.filter(kind__in=[kind for kind in indexed if kind not in self.graver])
        self.rising = []
        if Kind.WAITS_RISING in kinds:
            self.rising = _newest_first(waits_rising(user, authorities, since, self.today), since)
        self._counted = None

    def _counts(self):
        """(how many come before the rising waits, how many after)."""
        if self._counted is None:
            counted = self.rows.aggregate(
                before=models.Count("pk", filter=Q(kind__in=self.graver)),
                every=models.Count("pk"),
            )
            self._counted = counted["before"], counted["every"] - counted["before"]
        return self._counted

    def count(self):
        before, after = self._counts()
        return before + len(self.rising) + after

    def __len__(self):
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step:
            raise TypeError("GravestFirst is read a page (a slice) at a time")
        stop = min(self.count(), self.count() if key.stop is None else key.stop)
        start = key.start or 0
        if not self.rising:  # the index alone, in one read
            return self._read(self.rows, start, stop)
        before, _ = self._counts()
        rising_end = before + len(self.rising)
        found = self._read(self.before, start, min(stop, before))
        found += self.rising[max(start - before, 0) : max(min(stop, rising_end) - before, 0)]
        found += self._read(self.after, max(start - rising_end, 0), stop - rising_end)
        return found

    def _read(self, rows, start, stop):
        """The warnings at [start, stop) of the index's `rows`, in order,
        built from their records (a query for each kind among them)."""
        if stop <= start:
            return []
        ordered = rows.order_by(
            _rank(SEVERITY_ORDER),
            models.F("day").desc(nulls_last=True),
            "authority__name",
            "subject_id",
        )
        return _built(self.user, self.today, ordered.values_list("kind", "subject_id")[start:stop])


def gravest_warnings(user, authorities, *, limit, today=None):
    """The first `limit` of warning_list() (open warnings at `authorities`,
    gravest first, then newest) and how many it would list, without
    building the rest: an authority can have hundreds (every serious concern
    and every report of a practice is one). GravestFirst's first page."""
    found = GravestFirst(user, authorities, today=today)
    return found[0:limit], found.count()


def _gravest_first(found, since):
    found = _newest_first(found, since)
    found.sort(key=lambda warning: warning.severity)
    return found


def _records_for(user, warnings):
    """{warning key: its standing WarningDealtWith} for `warnings` (one query)."""
    records = WarningDealtWith.objects.for_user(user).current().select_related("dealt_with_by")
    records = records.filter(
        authority__in={w.authority.pk for w in warnings},
        kind__in={w.kind.value for w in warnings},
    )
    return {(r.kind, r.subject_id, r.cause): r for r in records}


def find_warning(user, kind, subject_pk, *, today=None):
    """The warning of `kind` about record `subject_pk` that `user` may see,
    open or dealt with, as it stands now; None if there is none (it is out
    of scope, or its cause is gone: the instalment paid, the answer
    changed)."""
    today = today or timezone.localdate()
    for reader in KINDS:
        if reader.kind == kind:
            rows = reader.rows(user, None, None, today, status=None).filter(pk=subject_pk)
            return next(iter(reader.build_all(rows)), None)
    if kind == Kind.WAITS_RISING:
        authorities = LocalAuthority.objects.filter(pk=subject_pk)
        return next(iter(waits_rising(user, authorities, None, today, status=None)), None)
    return None


# {kind: KindReader.open_sql()'s SQL and parameters}, built at its first use.
_ALL_OPEN = {}


class KindReader(NamedTuple):
    """How one kind of warning is read. `chosen(rows, today)` gives those of
    `rows` (of `model`) that are warnings on `today`, with what `build`
    needs to make each a warning; `authority` is the path to their
    authority, `on` to the date or time (`moment`) the warning arose, from
    which `since` narrows them (a day earlier with `day_before`: an action
    is overdue the day after it was due).

    For the index of open warnings (OpenWarning, index_warnings): `readers`
    says who may see one (a constant, or an expression of the row), as the
    model's `for_user` decides; `submitted_by` and `owner`, the paths to
    the person a report in feedback is by, or an action is owned by;
    `from_its_day`: it is a warning only from the day it arose (an action
    overdue, a deadline near), not before; `depends_on`, the models besides
    `model` whose records, changed, may make or unmake one (those on the
    path to its authority among them), so that a write to one indexes
    this kind again at its authority."""

    kind: Kind
    model: type
    chosen: Callable
    authority: str
    on: str
    build: Callable
    moment: bool = False
    day_before: bool = False
    readers: object = OpenWarning.Readers.IN_SCOPE
    submitted_by: str = ""
    owner: str = ""
    from_its_day: bool = False
    depends_on: tuple = ()

    def scoped(self, user, today):
        """The warnings of this kind on `today` in `user`'s scope."""
        return self.chosen(self.model.objects.for_user(user), today)

    def rows(self, user, authorities, since, today, *, status=Status.OPEN):
        rows = _narrow(self.scoped(user, today), self.authority, authorities)
        if status == Status.OPEN:
            rows = rows.exclude(self.dealt_with())
        elif status == Status.DEALT_WITH:
            rows = rows.filter(self.dealt_with())
        if since:
            start = since - datetime.timedelta(days=1) if self.day_before else since
            rows = rows.filter(**{f"{self.on}__gte": _start_of(start) if self.moment else start})
        return rows

    def dealt_with(self):
        """A condition on the rows: someone dealt with the warning about the
        row and its cause as it stands (a standing WarningDealtWith of this
        kind for the row, whose cause is the row's `on`: a new cause finds
        none, and the warning is open again)."""
        typed = "cause_at" if self.moment else "cause_on"
        # One EXISTS, the cause compared inside it: PostgreSQL runs it as
        # one (anti-)join with the records, where two EXISTS under an OR
        # were run again for every row.
        return Exists(
            WarningDealtWith.objects.current().filter(
                Q(**{typed: OuterRef(self.on)}) | Q(IsNull(OuterRef(self.on), True), cause=""),
                kind=self.kind.value,
                subject_id=OuterRef("pk"),
            )
        )

    def build_all(self, rows):
        """Each row made a warning, identified by the row and its `on`."""
        return [
            self.build(row)._replace(subject_pk=row.pk, cause=_value_at(row, self.on))
            for row in rows
        ]

    def warnings(self, user, authorities, since, today, *, status=Status.OPEN):
        return self.build_all(self.rows(user, authorities, since, today, status=status))

    def open_rows(self, authority_ids):
        """OpenWarning rows for this kind's open warnings at
        `authority_ids` (None: everywhere), whoever may see them and
        whenever they arise (one query)."""
        sql, params = self.open_sql()
        if authority_ids is not None and not authority_ids:
            return []  # (as the ORM would: "IN ()" is no SQL)
        if authority_ids is not None:
            # Narrowed outside: the query's own SQL is never built again.
            authority = connection.ops.quote_name("warning_authority")
            places = ", ".join(["%s"] * len(authority_ids))
            sql = f"SELECT * FROM ({sql}) open_rows WHERE open_rows.{authority} IN ({places})"
            params = (*params, *authority_ids)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = []
        for pk, authority_id, day, readers, submitted_by, owner in rows:
            day = self.arose_on(_as_date(day))
            found.append(
                OpenWarning(
                    authority_id=authority_id,
                    kind=self.kind.value,
                    subject_id=pk,
                    day=day,
                    from_day=day if self.from_its_day else None,
                    readers=readers,
                    submitted_by_id=submitted_by,
                    owner_id=owner,
                )
            )
        return found

    def open_sql(self):
        """The SQL and parameters of a query for every open warning of this
        kind as (id, authority id, day, who may read it, submitter, owner),
        built once a process: building and compiling a kind's query is most
        of what indexing one authority's warnings costs (that query depends
        on no one and on no day: EVER)."""
        built = _ALL_OPEN.get(self.kind)
        if built is None:
            rows = self.chosen(self.model.objects.all(), EVER).exclude(self.dealt_with())
            rows = rows.filter(**{f"{self.authority}__isnull": False})  # England's figures
            readers = self.readers
            if isinstance(readers, str):
                readers = models.Value(readers, output_field=models.CharField())
            people = [
                models.F(path) if path else models.Value(None, output_field=models.IntegerField())
                for path in (self.submitted_by, self.owner)
            ]
            rows = (
                rows.order_by()
                .annotate(
                    warning_authority=models.F(self.authority),
                    warning_day=self.day(),
                    warning_readers=readers,
                    warning_submitted_by=people[0],
                    warning_owner=people[1],
                )
                .values_list(
                    "pk",
                    "warning_authority",
                    "warning_day",
                    "warning_readers",
                    "warning_submitted_by",
                    "warning_owner",
                )
            )
            built = _ALL_OPEN[self.kind] = rows.query.sql_with_params()
        return built

    def day(self):
        """The day a row's `on` falls on, as SQL (the local day of a moment).
        A warning dated `day_before` arose the day after (arose_on)."""
        if self.moment:
            return TruncDate(self.on, tzinfo=timezone.get_current_timezone())
        return models.F(self.on)

    def arose_on(self, day):
        """The day a warning arose whose row's day() is `day`."""
        return day + datetime.timedelta(days=1) if self.day_before and day else day


def _value_at(row, path):
    """The value at `path` (Django's "a__b") from `row`, through what its
    query selected."""
    for name in path.split("__"):
        if row is None:
            return None
        row = getattr(row, name)
    return row


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


def waits_rising(user, authorities, since, today, *, status=Status.OPEN):
    """Where the median wait is above WAIT_WEEKS_ABOVE and rising: a warning
    about the authority, whose cause is the term (a rise next term is a new
    one). Those dealt with this term are left out (or alone kept: `status`)
    in the same query, by leaving out (or keeping) their authorities' tallies."""
    # Aggregates, like the authority page's: every submission in scope
    # counts, suppressed below SMALL_NUMBER a term.
    tallies = _narrow(
        FeedbackTally.objects.filter(in_scope(user, "authority")),
        "authority",
        authorities,
    )
    if status is not None:
        dealt = WarningDealtWith.objects.current().filter(
            kind=Kind.WAITS_RISING.value, cause=cause_key(term_of(today)[1])
        )
        dealt = dealt.values("subject_id")
        if status == Status.OPEN:
            tallies = tallies.exclude(authority__in=dealt)
        else:
            tallies = tallies.filter(authority__in=dealt)
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
            subject_pk=rise.authority.pk,
            cause=rise.term,
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


def _percent(value):
    return f"{value.normalize():f}%"


def _official_warning(figure):
    trend = next(trend for trend in OFFICIAL_TRENDS if trend.measure == figure.measure)
    lower = WORSE_WHEN[figure.measure] == "lower"
    release = figure.release
    return EarlyWarning(
        Kind.OFFICIAL_WORSE,
        figure.authority,
        f"{trend.title}: {_percent(figure.value)} in {figure.period_label}, "
        f"{'below' if lower else 'above'} England ({_percent(figure.england)}) and "
        f"{'down' if lower else 'up'} from {_percent(figure.previous)} in "
        f"{figure.previous_period} ({release.publisher}, {release.title})",
        figure.authority.get_absolute_url() + f"#{trend.id}",
        # The day the release was published; None where it does not say.
        release.published,
        figure,
    )


def _grant_warning(grant):
    plan = grant.plan
    if grant.status == HighNeedsStabilityGrant.Status.WITHHELD:
        amount = f" of {format_pounds(grant.written_off)}" if grant.written_off else ""
        reason = f"High Needs Stability Grant{amount} withheld ({plan.short_name})"
    else:
        held = f": {format_pounds(grant.withheld)} withheld" if grant.withheld else ""
        reason = f"High Needs Stability Grant paid reduced{held} ({plan.short_name})"
    return EarlyWarning(
        Kind.GRANT_HELD_BACK,
        plan.authority,
        reason,
        grant.get_absolute_url(),
        _local_date(grant.held_back_since),
        grant,
    )


def _reform_not_met_warning(details):
    plan = details.plan
    return EarlyWarning(
        Kind.REFORM_NOT_MET,
        plan.authority,
        f"{plan.short_name} rated “requirements not met” by the DfE: the High Needs "
        "Stability Grant is paid only once the DfE approves the plan",
        details.get_absolute_url(),
        details.not_met_on,
        details,
    )


def _as_date(value):
    # PostgreSQL gives a date less an interval as a timestamp; SQLite, read
    # without the ORM's converters (KindReader.open_rows), a date as text.
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime.datetime) else value


def _reform_not_submitted_warning(details):
    plan = details.plan
    deadline = TimelineEntry(date=_as_date(details.deadline), precision=details.deadline_precision)
    return EarlyWarning(
        Kind.REFORM_NOT_SUBMITTED,
        plan.authority,
        f"{plan.short_name} not yet submitted to the DfE "
        f"({details.get_stage_display().lower()}): the High Needs Stability Grant is "
        f"paid {deadline.when} only if the DfE has approved the plan",
        details.get_absolute_url(),
        # When the grant's date came within eight weeks.
        _as_date(details.warning_from),
        details,
    )


def _fewer_places_warning(details):
    plan = details.plan
    fewer = []
    for capacity, change, what in (
        (details.special_school_capacity, details.special_school_places_change, "special school"),
        (details.ap_capacity, details.ap_places_change, "AP"),
    ):
        if change is not None and change < 0:
            fewer.append(f"{-change:,} fewer {what} places")
        elif capacity == ReformPlanDetails.Capacity.REDUCE:
            fewer.append(f"fewer {what} places")
    return EarlyWarning(
        Kind.FEWER_PLACES,
        plan.authority,
        f"{plan.short_name} proposes {' and '.join(fewer)} with no investment in "
        "mainstream inclusion recorded",
        details.get_absolute_url(),
        _local_date(details.fewer_places_since),
        details,
    )


def _confidential_if(path):
    """Who may see a warning about a record that follows a meeting (at
    `path`): those who see confidential meetings, if it is one."""
    return models.Case(
        models.When(
            **{f"{path}__confidential": True},
            then=models.Value(OpenWarning.Readers.CONFIDENTIAL),
        ),
        default=models.Value(OpenWarning.Readers.IN_SCOPE),
        output_field=models.CharField(),
    )


# Every kind but waiting times (waits_rising), each read the same way.
KINDS = (
    KindReader(
        Kind.MONEY_HELD_BACK,
        FundingInstalment,
        lambda rows, today: rows.held_back(),
        "plan__authority",
        "held_back_since",
        _held_back_warning,
        moment=True,
        depends_on=(Plan,),
    ),
    KindReader(
        Kind.NOT_CONSULTED,
        Plan,
        lambda rows, today: plans_agreed_without_consultation(rows.current()).select_related(
            "authority", "programme"
        ),
        "authority",
        "agreement_date",
        _not_consulted_warning,
        depends_on=(Meeting,),
    ),
    KindReader(
        Kind.NEGOTIATING,
        Plan,
        lambda rows, today: rows.current().negotiating().select_related("authority", "programme"),
        "authority",
        "negotiating_since",
        _negotiating_warning,
        moment=True,
    ),
    KindReader(
        Kind.BLOCK_TRANSFER,
        BlockTransfer,
        lambda rows, today: rows.proposed(),
        "meeting__authority",
        "meeting__held_on",
        _transfer_warning,
        readers=_confidential_if("meeting"),
        depends_on=(Meeting,),
    ),
    KindReader(
        Kind.SERIOUS_CONCERN,
        Answer,
        lambda rows, today: rows.serious().defer("private_notes", "evidence"),
        "assessment__plan__authority",
        "serious_since",
        _serious_warning,
        moment=True,
        depends_on=(Assessment, Plan),
    ),
    KindReader(
        Kind.UNLAWFUL_PRACTICE,
        FeedbackSubmission,
        lambda rows, today: rows.reporting_practices(),
        "authority",
        "submitted_at",
        _practice_warning,
        moment=True,
        readers=OpenWarning.Readers.FEEDBACK,
        submitted_by="submitted_by",
    ),
    KindReader(
        Kind.ACTION_OVERDUE,
        Action,
        lambda rows, today: rows.overdue(today).select_related("authority", "owner"),
        "authority",
        "due_on",
        _overdue_warning,
        day_before=True,
        readers=_confidential_if("meeting"),
        owner="owner",
        from_its_day=True,
        depends_on=(Meeting,),
    ),
    # The latest official release shows the authority worse than England
    # and than its own previous year (official.models.WORSE_WHEN).
    KindReader(
        Kind.OFFICIAL_WORSE,
        Figure,
        lambda rows, today: rows.worse_than_england_and_last_year().select_related(
            "authority", "release"
        ),
        "authority",
        "release__published",
        _official_warning,
        depends_on=(Release,),
    ),
    # Local SEND reform plans and their grants (2026), on plans not since
    # revised.
    KindReader(
        Kind.GRANT_HELD_BACK,
        HighNeedsStabilityGrant,
        lambda rows, today: rows.held_back(),
        "plan__authority",
        "held_back_since",
        _grant_warning,
        moment=True,
        depends_on=(Plan,),
    ),
    KindReader(
        Kind.REFORM_NOT_MET,
        ReformPlanDetails,
        lambda rows, today: rows.current().requirements_not_met(),
        "plan__authority",
        "not_met_on",
        _reform_not_met_warning,
        depends_on=(Plan,),
    ),
    KindReader(
        Kind.REFORM_NOT_SUBMITTED,
        ReformPlanDetails,
        lambda rows, today: rows.current().not_submitted_by_deadline(today),
        "plan__authority",
        "warning_from",
        _reform_not_submitted_warning,
        from_its_day=True,
        depends_on=(Plan, TimelineEntry),
    ),
    KindReader(
        Kind.FEWER_PLACES,
        ReformPlanDetails,
        lambda rows, today: rows.current().fewer_places_unmatched(),
        "plan__authority",
        "fewer_places_since",
        _fewer_places_warning,
        moment=True,
        depends_on=(Plan,),
    ),
)
READER = {reader.kind.value: reader for reader in KINDS}


# The index of open warnings --------------------------------------------------

# A day after any a warning will arise on: each kind is read for the index
# as if it were then, so that those that arise later are there already,
# with the day they arise from (OpenWarning.from_day).
EVER = datetime.date(9000, 1, 1)


def _kinds_changed_by():
    """{model: the kinds a change to one of its records may make or
    unmake}; a record marked dealt with (or reopened) may any kind."""
    found = {}
    for reader in KINDS:
        for model in (reader.model, *reader.depends_on, WarningDealtWith):
            found.setdefault(model, set()).add(reader.kind.value)
    return found


KINDS_CHANGED_BY = _kinds_changed_by()

EVERYWHERE = "everywhere"


def index_warnings(keys=None):
    """Index again the open warnings of each (authority id, kind) in
    `keys` (authority EVERYWHERE: the kind at every authority; None: every
    kind everywhere), in the current transaction: a query for each kind, its
    rows at those authorities replaced. The authorities are locked first,
    so two writes to one authority index it one after the other, the second
    seeing the first's (as FeedbackTallyQuerySet.refresh does)."""
    if keys is None:
        keys = {(EVERYWHERE, reader.kind.value) for reader in KINDS}
    by_kind = {}
    for authority_id, kind in keys:
        by_kind.setdefault(kind, set()).add(authority_id)
    anywhere = any(EVERYWHERE in ids for ids in by_kind.values())
    with transaction.atomic():
        locked = LocalAuthority.objects.select_for_update().order_by("pk")
        if not anywhere:
            locked = locked.filter(pk__in=set().union(*by_kind.values()))
        list(locked.values_list("pk"))
        stored, found = OpenWarning.objects.none(), []
        for kind, authority_ids in by_kind.items():
            authority_ids = None if EVERYWHERE in authority_ids else sorted(authority_ids)
            rows = OpenWarning.objects.filter(kind=kind)
            if authority_ids is not None:
                rows = rows.filter(authority_id__in=authority_ids)
            stored |= rows
            found.extend(READER[kind].open_rows(authority_ids))
        # Only what changed is replaced: a row that stands keeps its id.
        kept = {row.as_stored(): row.pk for row in stored.order_by()}
        fresh = {row.as_stored() for row in found}
        new = [row for row in found if row.as_stored() not in kept]
        gone = [pk for row, pk in kept.items() if row not in fresh]
        # And a new row's warning anywhere else (a record moved by a write
        # that did not say where from) goes: a warning is indexed once.
        moved = {}
        for row in new:
            moved.setdefault(row.kind, []).append(row.subject_id)
        if gone or moved:
            where = Q(pk__in=gone)
            for kind, subject_ids in moved.items():
                where |= Q(kind=kind, subject_id__in=subject_ids)
            OpenWarning.objects.filter(where).delete()
        OpenWarning.objects.bulk_create(new, batch_size=1000)


# The authorities and kinds written to, indexed again at each write, or
# once at the end of indexing_later() (for many writes together).
_index = Recount("open_warnings_touched", lambda keys: keys and index_warnings(keys))
indexing_later = _index.later


def _data_changed(sender, authorities, **kwargs):
    """authorities.caching.changed: a record of `sender` (None: not known)
    changed at `authorities` (None: anywhere)."""
    kinds = READER.keys() if sender is None else KINDS_CHANGED_BY.get(sender, ())
    places = (EVERYWHERE,) if authorities is None else authorities
    _index.touched({(place, kind) for place in places for kind in kinds})


def _index_after_migrate(sender, using, **kwargs):
    """After `migrate`, every warning indexed afresh: the index is read
    from the data, and a release that reads a kind another way must not
    count what the last one indexed."""
    if OpenWarning._meta.db_table in connections[using].introspection.table_names():
        with transaction.atomic(using=using):
            index_warnings()


def keep_the_index(app_config):
    """Called once, from DashboardsConfig.ready()."""
    changed.connect(_data_changed, dispatch_uid="open-warnings")
    post_migrate.connect(_index_after_migrate, sender=app_config, dispatch_uid="open-warnings")
