"""The overview table: every authority in a person's scope, one row each, with
its current plans, money, reform plan and stability grant, checklist,
meetings, actions, feedback, official figures against England's and deficit.

The national overview (/overview/) and the region page show it; the CSV and
XLSX exports write the same columns. The rows are built in a fixed number of
queries however many authorities, plans, meetings or submissions there are:
one query per app, each reading through that app's own QuerySet methods,
combined here. They are sorted in Python: some columns (the plans, the
median wait) have no portable SQL ordering, and a scope is at most 153 rows.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from authorities.caching import ENGLAND, cached, region_scope
from authorities.models import LocalAuthority, Region, financial_year_label, format_pounds
from consultations.models import Action, Meeting, with_agreed_without_consultation
from feedback.aggregates import FEWER, NO_FEEDBACK, AuthorityFigures, figures_by_authority
from feedback.models import FeedbackTally
from official.comparisons import ABOVE, BELOW, NOTHING_LOADED, REFUSED, WITHIN_20_WEEKS, compare
from plans.models import (
    ZERO,
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    ReformPlanDetails,
)

from .filters import AGREED_STATUSES, Only, OverviewFilter
from .warnings import warning_summary

# Whether the union was consulted before agreement, over an authority's
# current plans (see OverviewRow.consulted).
NOT_CONSULTED, CONSULTED, NOT_AGREED = "No", "Yes", "No agreement date"
STATUS_ORDER = {status: n for n, status in enumerate(Plan.Status.values)}
STAGE_ORDER = {stage: n for n, stage in enumerate(ReformPlanDetails.Stage.values)}
RATING_ORDER = {rating: n for n, rating in enumerate(ReformPlanDetails.Rating.values)}
# A reform plan whose details nobody has recorded yet (they are a record of
# their own, made by the first save of its form).
NO_STAGE = "Stage not recorded"
Payment = HighNeedsStabilityGrant.Status
# The grant's payment, what needs acting on first.
PAYMENT_ORDER = {Payment.WITHHELD: 0, Payment.REDUCED: 1, Payment.DUE: 2, Payment.PAID: 3}
# An official figure against England's (official.comparisons), in words.
AGAINST = {BELOW: "below", ABOVE: "above"}


@dataclass
class OverviewRow:
    """One authority's line in the table."""

    authority: LocalAuthority  # with_latest_deficit() (and with_coverage() on region pages)
    plans: list = field(default_factory=list)  # current, summary(), consultation flag
    paid: Decimal | None = None  # None: no current plan
    withheld: Decimal | None = None
    last_meeting: date | None = None  # the latest the person may see
    open_actions: int = 0
    overdue_actions: int = 0
    feedback: AuthorityFigures = NO_FEEDBACK
    warnings: int = 0  # early warnings in the person's scope (dashboards/warnings.py)
    # Current plans under review with their payments withheld (Plan.Status.
    # UNDER_REVIEW) and no withheld instalment recorded: the five SV
    # agreements suspended in March 2024 are loaded so from plans/data/
    # known_plans.csv, with their source, and no amount is published.
    withheld_unrecorded: list = field(default_factory=list)
    # The latest official figures beside England's: {measure: Comparison}.
    official: dict = field(default_factory=dict)

    @property
    def answered(self):
        return sum(plan.answered_count for plan in self.plans)

    @property
    def questions(self):
        return sum(plan.question_count for plan in self.plans)

    @property
    def serious(self):
        return sum(plan.serious_count for plan in self.plans) if self.plans else None

    @property
    def checklist(self):
        """ "12 of 40" answered over the current plans; "" with no plan."""
        return f"{self.answered} of {self.questions}" if self.plans else ""

    @property
    def checklist_share(self):
        return self.answered / self.questions if self.questions else None

    @property
    def statuses(self):
        """Each plan's status; with several plans, each names its programme."""
        if len(self.plans) == 1:
            return [self.plans[0].get_status_display()]
        return [f"{p.programme.short_name}: {p.get_status_display()}" for p in self.plans]

    @property
    def consulted(self):
        """NOT_CONSULTED if any current plan was agreed without consultation,
        CONSULTED if the agreed ones all were consulted, NOT_AGREED if none
        has an agreement date, "" with no plan."""
        if not self.plans:
            return ""
        if any(plan.agreed_without_consultation for plan in self.plans):
            return NOT_CONSULTED
        if any(plan.agreement_date for plan in self.plans):
            return CONSULTED
        return NOT_AGREED

    @property
    def not_consulted(self):
        return self.consulted == NOT_CONSULTED

    @property
    def paid_text(self):
        return "" if self.paid is None else format_pounds(self.paid)

    @property
    def withheld_text(self):
        """The amount withheld; a plan under review with payments withheld
        says so even when no amount is recorded, rather than "£0"."""
        if self.withheld is None:
            return ""
        if not self.withheld_unrecorded:
            return format_pounds(self.withheld)
        if not self.withheld:
            return "Withheld, amount not recorded"
        return f"{format_pounds(self.withheld)} and more, not recorded"

    @property
    def withheld_amount(self):
        """The downloads' amount: empty, not 0, when payments were withheld
        and no amount is recorded."""
        if self.withheld_unrecorded and not self.withheld:
            return None
        return self.withheld

    @property
    def payments_withheld(self):
        """ "Yes" / "No" over the current plans' instalments, saying when
        an amount is not recorded; "" with no plan."""
        if not self.plans:
            return ""
        if self.withheld_unrecorded:
            return "Yes, amount not recorded" if not self.withheld else "Yes, not all recorded"
        return "Yes" if self.withheld else "No"

    def _withheld_order(self):
        # Payments withheld, with an amount or not, before none withheld.
        if self.withheld is None:
            return None
        return (bool(self.withheld or self.withheld_unrecorded), self.withheld)

    @property
    def reform_plan(self):
        """The current local SEND reform plan (the latest round's), or None."""
        reform_plans = [plan for plan in self.plans if plan.is_reform_plan]
        return reform_plans[-1] if reform_plans else None

    @property
    def reform(self):
        """The reform plan's ReformPlanDetails, None when not recorded
        (read with the plan: PlanQuerySet.with_reform)."""
        return getattr(self.reform_plan, "reform", None)

    @property
    def reform_stage(self):
        """The reform plan's stage with the DfE; "" with no reform plan."""
        if self.reform_plan is None:
            return ""
        return self.reform.get_stage_display() if self.reform else NO_STAGE

    def _stage_order(self):
        if self.reform_plan is None:
            return None
        return STAGE_ORDER[self.reform.stage] if self.reform else -1

    @property
    def rating(self):
        reform = self.reform
        return reform.get_rating_display() if reform and reform.rating else ""

    @property
    def rated_not_met(self):
        """As the "rated requirements not met" filter: rated so, or the
        DfE's decision recorded as such."""
        reform, not_met = self.reform, ReformPlanDetails.Rating.NOT_MET
        return bool(reform) and not_met in (reform.rating, reform.stage)

    @property
    def grant(self):
        """The reform plan's HighNeedsStabilityGrant, or None."""
        return getattr(self.reform_plan, "stability_grant", None)

    @property
    def grant_amount(self):
        """The 90% written off; None when there is no grant or its
        eligible deficit is not known."""
        return self.grant.written_off if self.grant else None

    @property
    def grant_text(self):
        if self.grant is None:
            return ""
        return "Not known" if self.grant_amount is None else format_pounds(self.grant_amount)

    @property
    def grant_payment(self):
        return self.grant.get_status_display() if self.grant else ""

    @property
    def grant_held_back(self):
        """Whether the grant was withheld or paid reduced."""
        return bool(self.grant) and self.grant.status in FundingInstalment.HELD_BACK

    @property
    def grant_withheld_text(self):
        """What a reduced payment held back, for the page ("" unless reduced)."""
        grant = self.grant
        if not grant or grant.status != Payment.REDUCED:
            return ""
        withheld = grant.withheld
        return (
            "amount held back not known"
            if withheld is None
            else f"{format_pounds(withheld)} held back"
        )

    @property
    def twenty_weeks(self):
        """EHC plans issued within 20 weeks: official.comparisons.Comparison."""
        return self.official.get(WITHIN_20_WEEKS, NOTHING_LOADED)

    @property
    def refused(self):
        """Requests refused an assessment: official.comparisons.Comparison."""
        return self.official.get(REFUSED, NOTHING_LOADED)

    @property
    def twenty_weeks_note(self):
        """ "below England's 45.9% (2024)", or the year and England's figure
        when the authority's is not known."""
        return _against_england(self.twenty_weeks)

    @property
    def refused_note(self):
        """As twenty_weeks_note, and whether it rose from the year before."""
        comparison = self.refused
        note = _against_england(comparison)
        if comparison.against_england == ABOVE:
            if comparison.rising is None:
                note += f", {comparison.previous_year} {comparison.previous_text}"
            elif comparison.rising:
                note += f", rising from {comparison.previous_text} in {comparison.previous_year}"
            else:
                note += f", not rising ({comparison.previous_text} in {comparison.previous_year})"
        return note

    @property
    def deficit(self):
        return self.authority.latest_deficit

    @property
    def deficit_text(self):
        if self.deficit is None:
            return ""
        if self.deficit < 0:
            return f"{format_pounds(-self.deficit)} surplus"
        return format_pounds(self.deficit)

    @property
    def deficit_year(self):
        return financial_year_label(self.authority.latest_deficit_year)

    @property
    def submissions_text(self):
        count = self.feedback.submissions
        return count if count == FEWER else f"{count:,}"

    @property
    def wait_text(self):
        wait = self.feedback.assessment_wait
        if wait is None:
            return "Not given" if self.feedback.submissions else ""
        return wait if wait == FEWER else f"{wait:g}"


def _against_england(comparison):
    if not comparison.period:
        return ""
    against = comparison.against_england
    if against is None:
        return f"{comparison.year}; England {comparison.england_text}"
    if against in AGAINST:
        return f"{AGAINST[against]} England's {comparison.england_text} ({comparison.year})"
    return f"the same as England ({comparison.year})"


def _compared(comparison, *, rising=False):
    """The downloads' comparison with England in words: "Below England",
    and for a measure where rising matters, whether it rose."""
    against = comparison.against_england
    if against is None:
        return None
    words = {BELOW: "Below England", ABOVE: "Above England"}.get(against, "Same as England")
    if rising and against == ABOVE:
        if comparison.rising is None:
            return f"{words}, previous year not known"
        return f"{words} and rising" if comparison.rising else f"{words}, not rising"
    return words


def _official_value(comparison):
    """The downloads' figure: the number, or the release's word for why
    there is none ("suppressed"), never 0; empty with nothing loaded."""
    if not comparison.period:
        return None
    return comparison.value if comparison.known else comparison.text


def _official_previous(comparison):
    if not comparison.previous_period:
        return None
    return comparison.previous if comparison.previous is not None else comparison.previous_text


def _submissions_order(row):
    # Every "fewer than 5" sorts as one value, so the order gives nothing away.
    count = row.feedback.submissions
    return 1 if count == FEWER else count


def _wait_order(row):
    wait = row.feedback.assessment_wait
    return None if wait in (None, FEWER) else wait


@dataclass(frozen=True)
class Column:
    """A column of the table and of the exports. `value` is what an export
    writes (a number, a date or text; None for an empty cell) unless `parts`
    splits it into several columns; `order` what the table sorts by (None
    sorts last, whichever the direction)."""

    key: str  # the `sort` parameter
    label: str
    value: Callable
    order: Callable
    numeric: bool = False
    # What the downloads write for a column the page shows as one cell but
    # a spreadsheet needs as several numbers ("3 of 37": 3 and 37), as
    # (label, value) pairs; by default the column itself.
    parts: tuple = ()

    @property
    def exported(self):
        """The downloads' (label, value) columns for this one."""
        return self.parts or ((self.label, self.value),)


COLUMNS = (
    Column("authority", "Authority", lambda r: r.authority.name, lambda r: r.authority.name),
    Column(
        "region", "Region", lambda r: r.authority.region.name, lambda r: r.authority.region.name
    ),
    Column(
        "programme",
        "Programme",
        lambda r: "; ".join(plan.short_name for plan in r.plans) or None,
        lambda r: (
            [(p.programme.order, p.programme.short_name, p.round_or_tranche) for p in r.plans]
            or None
        ),
    ),
    Column(
        "status",
        "Plan status",
        lambda r: "; ".join(r.statuses) or None,
        lambda r: sorted(STATUS_ORDER[plan.status] for plan in r.plans) or None,
    ),
    Column("paid", "Paid (£)", lambda r: r.paid, lambda r: r.paid, numeric=True),
    Column(
        "withheld",
        "Withheld (£)",
        lambda r: r.withheld_amount,
        lambda r: r._withheld_order(),
        numeric=True,
        parts=(
            ("Withheld (£)", lambda r: r.withheld_amount),
            ("Payments withheld", lambda r: r.payments_withheld or None),
        ),
    ),
    Column(
        "reform",
        "Reform plan stage",
        lambda r: r.reform_stage or None,
        lambda r: r._stage_order(),
    ),
    Column(
        "rating",
        "DfE rating",
        lambda r: r.rating or None,
        lambda r: RATING_ORDER[r.reform.rating] if r.rating else None,
    ),
    Column(
        "grant",
        "Stability grant (£)",
        lambda r: r.grant_amount,
        lambda r: r.grant_amount,
        numeric=True,
    ),
    Column(
        "grant_payment",
        "Grant payment",
        lambda r: r.grant_payment or None,
        lambda r: PAYMENT_ORDER[r.grant.status] if r.grant else None,
        parts=(
            ("Grant payment", lambda r: r.grant_payment or None),
            ("Grant held back (£)", lambda r: r.grant.withheld if r.grant else None),
        ),
    ),
    Column(
        "checklist",
        "Checklist answered",
        lambda r: r.checklist or None,
        lambda r: r.checklist_share,
        parts=(
            ("Checklist answered", lambda r: r.answered if r.plans else None),
            ("Checklist questions", lambda r: r.questions if r.plans else None),
        ),
    ),
    Column("concerns", "Serious concerns", lambda r: r.serious, lambda r: r.serious, numeric=True),
    Column("warnings", "Early warnings", lambda r: r.warnings, lambda r: r.warnings, numeric=True),
    Column("meeting", "Last meeting", lambda r: r.last_meeting, lambda r: r.last_meeting),
    Column(
        "consulted",
        "Consulted before agreement",
        lambda r: r.consulted or None,
        lambda r: {NOT_CONSULTED: 0, CONSULTED: 1, NOT_AGREED: 2}.get(r.consulted),
    ),
    Column(
        "open", "Open actions", lambda r: r.open_actions, lambda r: r.open_actions, numeric=True
    ),
    Column(
        "overdue",
        "Overdue actions",
        lambda r: r.overdue_actions,
        lambda r: r.overdue_actions,
        numeric=True,
    ),
    Column(
        "feedback",
        "Feedback submissions",
        lambda r: r.feedback.submissions,
        _submissions_order,
        numeric=True,
    ),
    Column(
        "wait",
        "Median wait for an assessment (weeks)",
        lambda r: r.feedback.assessment_wait,
        _wait_order,
        numeric=True,
    ),
    Column(
        "within_20_weeks",
        "EHC plans within 20 weeks (%)",
        lambda r: _official_value(r.twenty_weeks),
        lambda r: r.twenty_weeks.value,
        numeric=True,
        parts=(
            ("EHC plans within 20 weeks (%)", lambda r: _official_value(r.twenty_weeks)),
            ("EHC plans within 20 weeks: year", lambda r: r.twenty_weeks.year or None),
            ("EHC plans within 20 weeks: England (%)", lambda r: r.twenty_weeks.england),
            ("EHC plans within 20 weeks: against England", lambda r: _compared(r.twenty_weeks)),
        ),
    ),
    Column(
        "refused",
        "Requests refused an assessment (%)",
        lambda r: _official_value(r.refused),
        lambda r: r.refused.value,
        numeric=True,
        parts=(
            ("Requests refused an assessment (%)", lambda r: _official_value(r.refused)),
            ("Requests refused: year", lambda r: r.refused.year or None),
            ("Requests refused: England (%)", lambda r: r.refused.england),
            ("Requests refused: previous year (%)", lambda r: _official_previous(r.refused)),
            (
                "Requests refused: against England",
                lambda r: _compared(r.refused, rising=True),
            ),
        ),
    ),
    Column(
        "deficit",
        "Latest DSG deficit (£)",
        lambda r: r.deficit,
        lambda r: r.deficit,
        numeric=True,
    ),
    Column(
        "deficit_year",
        "Deficit year",
        lambda r: r.deficit_year or None,
        lambda r: r.authority.latest_deficit_year,
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
SORTS = [sort for column in COLUMNS for sort in (column.key, f"-{column.key}")]
DEFAULT_SORT = "authority"
WARNINGS_LISTED = 20  # the newest, above the table; the table counts them all
# Rows on a page of the table: England's 153 in one table were 430 KB of HTML
# and most of the page's time; the downloads have every row.
ROWS_PER_PAGE = 50


def row_authorities(user, authorities, *, with_coverage=False):
    """`authorities` (already scoped to `user`) as the rows show them, by
    name, in one query: with their region, latest deficit and last meeting
    held (that `user` may see); who covers each `with_coverage` (two
    queries more)."""
    authorities = (
        authorities.select_related("region")
        .with_latest_deficit()
        .annotate(last_meeting=Meeting.objects.for_user(user).last_held())
        .order_by("name")
    )
    return authorities.with_coverage() if with_coverage else authorities


def build_rows(user, authorities, *, with_coverage=False, today=None):
    """An OverviewRow for each of `authorities` (already scoped to `user`),
    by name, in a fixed number of queries: the authorities
    (row_authorities), their current plans (with the checklist bank's
    two, and a reform plan's details and grant), instalments, actions,
    feedback and the official figures; two more `with_coverage`."""
    authorities = row_authorities(user, authorities, with_coverage=with_coverage)
    return rows_for(user, list(authorities), today=today)


def rows_for(user, authorities, *, today=None):
    """An OverviewRow for each of `authorities` (read by row_authorities),
    in their order: what build_rows reads after the authorities."""
    rows = {
        authority.pk: OverviewRow(authority, last_meeting=authority.last_meeting)
        for authority in authorities
    }
    ids = list(rows)
    if not ids:
        return []

    plans = with_agreed_without_consultation(
        Plan.objects.for_user(user).current().filter(authority__in=ids).summary().with_reform()
    ).order_by("programme__order", "round_or_tranche", "revision", "pk")
    plans = list(plans)
    money = FundingInstalment.objects.filter(plan__in=[p.pk for p in plans]).totals_by_plan()
    for plan in plans:
        row = rows[plan.authority_id]
        row.plans.append(plan)
        totals = money.get(plan.pk, {})
        row.paid = (row.paid or ZERO) + totals.get("paid", ZERO)
        row.withheld = (row.withheld or ZERO) + totals.get("withheld", ZERO)
        if plan.status == Plan.Status.UNDER_REVIEW and not totals.get("withheld"):
            row.withheld_unrecorded.append(plan)

    actions = Action.objects.for_user(user).filter(authority__in=ids)
    for authority_id, (open_, overdue) in actions.counts_by_authority(today=today).items():
        rows[authority_id].open_actions = open_
        rows[authority_id].overdue_actions = overdue

    figures = figures_by_authority(
        FeedbackTally.objects.filter(authority__in=ids),
        reveal_small_numbers=user.can_see_small_numbers,
    )
    for authority_id, line in figures.items():
        rows[authority_id].feedback = line

    # Every authority's in one query, never one per row.
    official = compare([WITHIN_20_WEEKS, REFUSED], ids)
    for measure, by_authority in official.items():
        for authority_id, comparison in by_authority.items():
            rows[authority_id].official[measure] = comparison
    return list(rows.values())


def sort_rows(rows, sort):
    """`rows` sorted by the column `sort` names ("-paid": descending); empty
    cells last either way, and ties by authority name."""
    column = COLUMN_BY_KEY[sort.removeprefix("-")]
    by_name = sorted(rows, key=lambda row: row.authority.name)
    present = [row for row in by_name if column.order(row) is not None]
    missing = [row for row in by_name if column.order(row) is None]
    present.sort(key=column.order, reverse=sort.startswith("-"))  # stable: ties stay by name
    return present + missing


@dataclass(frozen=True)
class Header:
    column: Column
    url: str  # sorts by this column, ascending, or descending if it already is
    aria_sort: str  # "ascending", "descending" or ""


class Overview:
    """The overview table as one person asks for it: the filters in `data`
    (a QueryDict, usually request.GET), the rows, the sort and the links.

    `region`: the region page's table (the region is fixed, so it is not a
    filter, and each authority shows who covers it).
    """

    def __init__(self, user, data, *, region=None, today=None):
        self.user = user
        self.region = region
        # What its cached values show (authorities/caching.py).
        self.scope_key = region_scope(region) if region is not None else ENGLAND
        self.today = today or timezone.localdate()
        authorities = LocalAuthority.objects.for_user(user)
        # Where the table covers, for the page's caption.
        if region is not None:
            authorities = authorities.filter(region=region)
            regions = None
            self.scope = region.name
        else:
            in_scope = Region.objects.filter(authorities__in=authorities).distinct()
            regions = [(r.slug, r.name) for r in in_scope]
            self.scope = (
                "England" if user.has_national_scope else " and ".join(n for _, n in regions)
            )
        self.filterset = OverviewFilter(
            data,
            authorities,
            user=user,
            regions=regions,
            programmes=[(p.code, p.name) for p in Programme.objects.all()],
            sorts=SORTS,
            today=self.today,
        )
        self.form = self.filterset.form
        self.is_valid = self.form.is_valid()
        self.sort = self.form.cleaned_data.get("sort") or DEFAULT_SORT
        self.columns = [c for c in COLUMNS if region is None or c.key != "region"]
        self.reveal_small_numbers = user.can_see_small_numbers
        # The links keep the filters: a heading changes only the sort (and
        # goes back to the first page); a page link keeps the sort too.
        self.query = data.copy()
        self.query.pop("sort", None)
        self.query.pop("page", None)
        self.page_number = data.get("page")
        # The warnings of the authorities the table shows (its filters
        # applied): the list above the table shows the newest, the table
        # counts them all for each authority.
        self.warnings = cached(
            "overview-warnings",
            user,
            (region and region.pk, self.chosen_filters),
            lambda: warning_summary(
                user, self.filterset.qs, limit=WARNINGS_LISTED, today=self.today
            ),
            today=self.today,
            scope=self.scope_key,
        )

    @property
    def chosen_filters(self):
        """The valid filters chosen, without the sort: what decides which
        authorities the table shows (a hashable key for the cache)."""
        return sorted((k, v) for k, v in self.filterset.chosen().items() if k != "sort")

    @property
    def warning_count(self):
        return self.warnings.count

    @property
    def newest_warnings(self):
        return self.warnings.newest

    @cached_property
    def rows(self):
        """The rows, sorted; cached per person, filters and day until the
        data next changes (authorities/caching.py). Read only when the table
        is sorted by another column than the name (page) or exported: a page
        served from the cache needs none."""
        rows = cached(
            "overview-rows",
            self.user,
            (self.region and self.region.pk, sorted(self.filterset.chosen().items())),
            self._compute,
            today=self.today,
            scope=self.scope_key,
        )
        return sort_rows(rows, self.sort)

    def _compute(self):
        """The rows, each with its count of warnings."""
        rows = build_rows(
            self.user,
            self.filterset.qs,
            with_coverage=self.region is not None,
            today=self.today,
        )
        return self._with_warnings(rows)

    def _with_warnings(self, rows):
        for row in rows:
            row.warnings = self.warnings.per_authority.get(row.authority.pk, 0)
        return rows

    @property
    def by_name(self):
        """Whether the table is sorted by the authorities' names (the
        default), which needs no row to be built to know the order."""
        return self.sort.removeprefix("-") == DEFAULT_SORT

    @cached_property
    def page(self):
        """The rows of the page asked for (the last for a number past it,
        the first for anything but a number)."""
        if self.by_name:
            return self._page_by_name[0]
        return Paginator(self.rows, ROWS_PER_PAGE).get_page(self.page_number)

    @cached_property
    def _page_by_name(self):
        """The page sorted by name, with only its rows built, and how many
        current plans past agreement have no agreement date over every
        page (undated_agreements): the authorities are read (with that
        count) and paged first. England's 153 rows took twice as long to
        build as the first page's 50 at 1x, and three times at 10x. Not
        cached apart from the page itself: any other sort or a download
        builds every row, and caches them (rows)."""
        undated = (
            Plan.objects.for_user(self.user)
            .current()
            .filter(authority=OuterRef("pk"), status__in=AGREED_STATUSES, agreement_date=None)
            .order_by()
            .values("authority")
            .annotate(n=Count("pk"))
            .values("n")
        )
        authorities = list(
            row_authorities(
                self.user, self.filterset.qs, with_coverage=self.region is not None
            ).annotate(undated=Coalesce(Subquery(undated), 0))
        )
        # In the order sort_rows gives: by name, in Python's order of text.
        authorities.sort(key=lambda authority: authority.name, reverse=self.sort.startswith("-"))
        page = Paginator(authorities, ROWS_PER_PAGE).get_page(self.page_number)
        page.object_list = self._with_warnings(
            rows_for(self.user, page.object_list, today=self.today)
        )
        return page, sum(authority.undated for authority in authorities)

    @property
    def row_count(self):
        """How many rows the table has, over every page."""
        return self.page.paginator.count

    @property
    def page_query(self):
        """The query string a page link keeps: the filters and the sort."""
        query = self.query.copy()
        if self.form.cleaned_data.get("sort"):
            query["sort"] = self.sort
        return query.urlencode()

    @cached_property
    def undated_agreements(self):
        """How many current plans past agreement (AGREED_STATUSES) have no
        agreement date: whether they were agreed without consultation
        cannot be checked, so the column says "No agreement date" and the
        filter cannot list them. Counted over the table's rows (with the
        authorities, sorted by name: _page_by_name), or, when that filter
        is chosen (it leaves them out), over the authorities the other
        filters choose (one query)."""
        if Only.NOT_CONSULTED not in self.filterset.chosen().get("only", []):
            if self.by_name:
                return self._page_by_name[1]
            return sum(
                1
                for row in self.rows
                for plan in row.plans
                if plan.status in AGREED_STATUSES and plan.agreement_date is None
            )
        data = self.query.copy()
        data.setlist("only", [v for v in data.getlist("only") if v != Only.NOT_CONSULTED])
        others = OverviewFilter(
            data,
            self.filterset.queryset,
            user=self.user,
            regions=self.filterset.regions,
            programmes=self.filterset.programmes,
            sorts=SORTS,
            today=self.today,
        )
        return (
            Plan.objects.for_user(self.user)
            .current()
            .filter(authority__in=others.qs, status__in=AGREED_STATUSES, agreement_date=None)
            .count()
        )

    @property
    def more_warnings(self):
        return max(0, self.warning_count - len(self.newest_warnings))

    @property
    def filtered(self):
        return bool(self.chosen_filters)

    @property
    def headers(self):
        headers = []
        for column in self.columns:
            ascending = self.sort == column.key
            query = self.query.copy()
            query["sort"] = f"-{column.key}" if ascending else column.key
            aria_sort = (
                "ascending" if ascending else "descending" if self.sort == f"-{column.key}" else ""
            )
            headers.append(Header(column, f"?{query.urlencode()}", aria_sort))
        return headers

    def _export_url(self, name):
        query = self.query.copy()
        if self.region is not None:
            query["region"] = self.region.slug
        query["sort"] = self.sort
        return f"{reverse(name)}?{query.urlencode()}"

    @property
    def csv_url(self):
        return self._export_url("dashboards:overview_csv")

    @property
    def xlsx_url(self):
        return self._export_url("dashboards:overview_xlsx")

    def description(self):
        """The filters and sort in words, for the export record."""
        column = COLUMN_BY_KEY[self.sort.removeprefix("-")]
        direction = ", descending" if self.sort.startswith("-") else ""
        sort = f"sorted by {column.label}{direction}"
        filters = self.filterset.description()
        return f"{filters}; {sort}" if filters else f"All authorities in scope, {sort}"

    def export_table(self):
        """The header and the rows' values, every column (the region too),
        a column of several numbers as several (Column.parts)."""
        exported = [part for column in COLUMNS for part in column.exported]
        return (
            [label for label, _ in exported],
            [[value(row) for _, value in exported] for row in self.rows],
        )
