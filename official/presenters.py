"""The "Official figures" section of the authority page and the briefing
pack: each measure by year for the authority beside its region and England,
the EHC plans by setting, and the latest area SEND inspection, each with
its source. Two queries (`official_figures`), whatever is loaded; rendered
by templates/official/_figures.html.

A figure the release does not give is shown as the release's own word for
why ("not available", "not applicable", "suppressed"), never as 0.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db.models import F, Max, Window
from django.urls import reverse

from authorities.models import LocalAuthority

from .models import Figure, Inspection, Level, Release, Status, period_label
from .readers import DSG_MEASURE

# The SEN2 return became one record per child in 2023: the release marks a
# break in its series there (data-guidance.txt, "The time series").
SEN2_BREAK = "2023"
SEN2_BREAK_NOTE = (
    "Break in the series: from 2023 the figures come from a record of each child "
    "(the SEN2 return changed), so compare them with earlier years with care."
)
MAX_PERIODS = 6


@dataclass(frozen=True)
class Trend:
    """One published measure shown by year."""

    id: str
    title: str
    measure: str
    what: str
    subject: str = ""  # for a sentence on its trend: "the {subject} grew from …"
    sen2: bool = True  # from the SEN2 return: the 2023 break applies
    regional: bool = True  # the release gives regions' figures
    signed: bool = False  # a balance: negative is a deficit


TRENDS = [
    Trend(
        "official-20-weeks",
        "EHC plans issued within 20 weeks",
        "pc_plans_issued_within_20_weeks",
        "The share of new EHC plans issued within the statutory 20 weeks, "
        "exceptions included, in each calendar year.",
        subject="share of EHC plans issued within 20 weeks",
    ),
    Trend(
        "official-refusals",
        "Requests for an assessment refused",
        "request_not_assess_pc",
        "The share of requests for an EHC needs assessment that the authority decided "
        "not to assess, in each calendar year. Not collected before 2023.",
        subject="share of requests refused an assessment",
    ),
    Trend(
        "official-6-weeks",
        "Requests decided within 6 weeks",
        "request_outcome_six_weeks_pc",
        "The share of requests for an assessment decided within the statutory 6 weeks. "
        "Not collected before 2023.",
        subject="share of requests decided within 6 weeks",
    ),
    Trend(
        "official-tribunal",
        "SEND Tribunal appeal rate",
        "appeal_rate",
        "Appeals registered with the SEND Tribunal as a share of all appealable decisions, "
        "in each calendar year. The table gives no regional figures.",
        subject="SEND Tribunal appeal rate",
        sen2=False,
        regional=False,
    ),
    Trend(
        "official-dsg",
        "DSG cumulative balance as a % of income",
        DSG_MEASURE,
        "The Dedicated Schools Grant's cumulative balance at the end of each financial "
        "year as a share of the year's DSG income: a deficit is below 0.",
        subject="DSG deficit as a % of income",
        sen2=False,
        signed=True,
    ),
]
IN_DEVELOPMENT = "appeal_rate_in_development"
# EHC plans by setting, each January (caseload.csv): the published shares,
# and independent special schools worked out from the published counts.
SETTINGS = [
    ("Mainstream schools", "mainstream_total_pc"),
    ("Special schools (all kinds)", "special_total_pc"),
]
INDEPENDENT_SPECIAL = ("special_independent", "ehcplans")
MEASURES = [
    *(trend.measure for trend in TRENDS),
    IN_DEVELOPMENT,
    *(measure for _, measure in SETTINGS),
    *INDEPENDENT_SPECIAL,
]
REVISITS = {
    "Yes": "sufficient progress on every significant weakness",
    "Some": "sufficient progress on some significant weaknesses, not all",
    "No": "not sufficient progress on the significant weaknesses",
    "Not revisited yet": "not revisited yet",
}


@dataclass(frozen=True)
class Cell:
    """One figure as shown: its value, or why there is none."""

    value: Decimal | None
    status: str = Status.KNOWN
    percent: bool = True
    signed: bool = False
    # False: the release gives no figure for this kind of place at all.
    published: bool = True

    @property
    def known(self):
        return self.published and self.value is not None

    @property
    def text(self):
        if not self.published:
            return "not published"
        if self.value is None:
            return Status(self.status).label if self.status else "not available"
        if not self.percent:
            return f"{self.value:,.0f}"
        shown = (
            f"{abs(self.value).normalize():f}" if self.signed else f"{self.value.normalize():f}"
        )
        if not self.signed or self.value == 0:
            return f"{shown}%"
        return f"{shown}% {'deficit' if self.value < 0 else 'surplus'}"


MISSING = Cell(None, Status.NOT_AVAILABLE)


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple  # the authority's, its region's and England's
    note: str = ""
    in_series: bool = True  # a year of the trend (not the tribunal's "in development")
    period: str = ""  # as published ("2024"), for a year of a trend: what a link names


@dataclass
class Table:
    id: str
    title: str
    what: str
    label_heading: str
    rows: list
    releases: list  # the releases its figures come from
    notes: list = field(default_factory=list)
    trend: Trend | None = None  # a measure by year (not the settings)
    # A chart of the authority's figures, set by a page that draws charts
    # (dashboards.charts.official_charts); shown above the table.
    chart: object = None

    @property
    def has_data(self):
        return any(cell.known for row in self.rows for cell in row.cells)


@dataclass
class InspectionSummary:
    inspection: Inspection
    # In the same framework: how many areas of the region and of England
    # were inspected, and how many of them needed a statement or plan.
    region_count: int
    region_required: int
    england_count: int
    england_required: int

    @property
    def revisit(self):
        return REVISITS.get(self.inspection.revisit_outcome, self.inspection.revisit_outcome)

    @property
    def action_areas(self):
        """The count, or why there is none (no statement or plan: not applicable)."""
        inspection = self.inspection
        if inspection.action_areas is not None:
            return str(inspection.action_areas)
        if inspection.action_required is False:
            return Status.NOT_APPLICABLE.label
        return Status.NOT_AVAILABLE.label


@dataclass
class OfficialFigures:
    authority: object
    tables: list
    inspection: InspectionSummary | None
    inspection_releases: list

    @property
    def has_data(self):
        return bool(self.inspection) or any(table.has_data for table in self.tables)

    @property
    def twenty_weeks(self):
        """The newest year of EHC plans issued within 20 weeks: the official
        measure closest to members' median wait for an assessment, shown
        beside it in the feedback figures (feedback/_figures.html, given it
        by the page as `official_wait`). None when no year has a figure."""
        table = next(table for table in self.tables if table.id == TWENTY_WEEKS_ID)
        rows = [row for row in table.rows if row.in_series and row.cells[0].known]
        if not rows:
            return None
        return OfficialWait(self.authority, rows[-1], table.releases)


TWENTY_WEEKS_ID = "official-20-weeks"


@dataclass(frozen=True)
class OfficialWait:
    authority: object  # its region loaded
    row: Row  # the year: the authority's, its region's and England's cells
    releases: list


def official_figures(authority):
    """The section for `authority` (with its region loaded): two queries."""
    figures = _by_measure(Figure.objects.beside(authority, MEASURES))
    tables = [_trend(trend, figures) for trend in TRENDS]
    tables.insert(3, _settings(figures))
    summary, releases = _inspection(authority)
    return OfficialFigures(authority, tables, summary, releases)


def _by_measure(found):
    """{measure: {(period, "authority" | "region" | "england"): Figure}}."""
    figures = defaultdict(dict)
    for figure in found:
        place = {Level.NATIONAL: "england", Level.REGIONAL: "region"}.get(
            figure.level, "authority"
        )
        figures[figure.measure][(figure.period, place)] = figure
    return figures


def _cell(figure, **kwargs):
    if figure is None:
        return Cell(None, Status.NOT_AVAILABLE, **kwargs)
    return Cell(figure.value, figure.status, **kwargs)


def _releases(found):
    releases = {figure.release_id: figure.release for figure in found if figure is not None}
    return sorted(releases.values(), key=lambda release: (release.title, release.file_name))


def _trend(trend, figures):
    by_key = figures.get(trend.measure, {})
    # The newest years with a figure for any of the three places: a year
    # the release gives for none (requests before 2023) says nothing.
    periods = sorted(
        {period for (period, _), figure in by_key.items() if figure.value is not None}
    )[-MAX_PERIODS:]
    rows, used = [], []
    for period in periods:
        found = [by_key.get((period, place)) for place in ("authority", "region", "england")]
        used.extend(found)
        cells = (
            _cell(found[0], signed=trend.signed),
            _cell(found[1], signed=trend.signed)
            if trend.regional
            else Cell(None, published=False),
            _cell(found[2], signed=trend.signed),
        )
        kind = next((figure.period_type for figure in found if figure), "")
        rows.append(
            Row(
                period_label(period, kind),
                cells,
                note="Break in the series" if trend.sen2 and period == SEN2_BREAK else "",
                period=period,
            )
        )
    notes = [SEN2_BREAK_NOTE] if trend.sen2 and SEN2_BREAK in periods else []
    if trend.measure == "appeal_rate" and periods:
        rows.extend(_in_development(figures, periods[-1], used))
    return Table(
        trend.id, trend.title, trend.what, "Year", rows, _releases(used), notes=notes, trend=trend
    )


def _in_development(figures, year, used):
    """The tribunal table's newest year also gives a rate "in development"
    (appealable decisions counted from the new SEN2 return): one more row."""
    by_key = figures.get(IN_DEVELOPMENT, {})
    found = [by_key.get((year, place)) for place in ("authority", "region", "england")]
    if not any(found):
        return []
    used.extend(found)
    cells = (_cell(found[0]), Cell(None, published=False), _cell(found[2]))
    note = "On a new count of appealable decisions"
    return [Row(f"{year}, in development", cells, note=note, in_series=False)]


def _settings(figures):
    """EHC plans by setting in the latest January the release gives."""
    periods = sorted({period for period, _ in figures.get(INDEPENDENT_SPECIAL[1], {})})
    rows, used = [], []
    if periods:
        latest = periods[-1]
        for label, measure in SETTINGS:
            found = [
                figures[measure].get((latest, place)) if measure in figures else None
                for place in ("authority", "region", "england")
            ]
            used.extend(found)
            rows.append(Row(label, tuple(_cell(figure) for figure in found)))
        independent, plans = INDEPENDENT_SPECIAL
        cells = []
        for place in ("authority", "region", "england"):
            count = figures.get(independent, {}).get((latest, place))
            total = figures[plans].get((latest, place))
            used.extend([count, total])
            cells.append(_share(count, total))
        rows.append(Row("Independent special schools", tuple(cells), note="Worked out"))
        # An academic year's caseload is counted in its January: 202425 → 2025.
        title = f"EHC plans by setting, January {int(latest[:4]) + 1}"
    else:
        title = "EHC plans by setting"
    return Table(
        "official-settings",
        title,
        "Where children and young people with an EHC plan are placed, as a share of all "
        "EHC plans. Independent special schools' share is worked out here from the "
        "published counts (independent special schools ÷ all EHC plans), to one decimal "
        "place.",
        "Setting",
        rows,
        _releases(used),
    )


def _share(count, total):
    if count is None or total is None:
        return MISSING
    if count.value is None:
        return Cell(None, count.status)
    if total.value is None:
        return Cell(None, total.status)
    if not total.value:
        return Cell(None, Status.NOT_APPLICABLE)
    share = (count.value * 100 / total.value).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return Cell(share)


# What the inspection section reads of every inspection, as values: the
# counts need four of them, the authority's latest all (a model instance
# for each of 165 inspections cost more than the rest of the section).
INSPECTION_FIELDS = [
    "pk",
    "framework",
    "area_code",
    "area_name",
    "authority_id",
    "started",
    "published",
    "outcome",
    "action_required",
    "action_areas",
    "revisit_outcome",
]
RELEASE_FIELDS = [
    "pk",
    "file_name",
    "title",
    "publisher",
    "published",
    "published_precision",
    "source_url",
    "licence",
]


def _inspection(authority):
    """The authority's latest inspection, with how its region's and
    England's areas fared in the same framework: one query."""
    rows = list(
        Inspection.objects.order_by().values(
            *INSPECTION_FIELDS,
            *(f"release__{name}" for name in RELEASE_FIELDS),
            region_id=F("authority__region_id"),
        )
    )
    mine = [row for row in rows if row["authority_id"] == authority.pk]
    if not mine:
        return None, _releases_of(rows)
    latest = max(mine, key=lambda row: (row["started"], row["pk"]))
    same = [row for row in rows if row["framework"] == latest["framework"]]
    region = [row for row in same if row["region_id"] == authority.region_id]
    release = _release(latest)
    inspection = Inspection(**{name: latest[name] for name in INSPECTION_FIELDS}, release=release)
    summary = InspectionSummary(
        inspection,
        region_count=len(region),
        region_required=sum(1 for row in region if row["action_required"]),
        england_count=len(same),
        england_required=sum(1 for row in same if row["action_required"]),
    )
    return summary, [release]


def _release(row):
    return Release(**{name: row[f"release__{name}"] for name in RELEASE_FIELDS})


def _releases_of(rows):
    releases = {row["release__pk"]: _release(row) for row in rows}
    return sorted(releases.values(), key=lambda release: release.title)


# Beside members' reports: the checklist -----------------------------------------

# The checklist's questions about refusals to assess, gatekeeping and waits
# (plans/data/checklist.csv), each with the official measures that bear on
# it, most telling first.
QUESTION_TRENDS = {
    "refusing-initial-applications": ("official-refusals", "official-tribunal"),
    "bureaucratic-applications": ("official-6-weeks", "official-refusals"),
    "unnecessary-information-requests": ("official-6-weeks", "official-refusals"),
    "goal-managing-ehcp-demand": ("official-refusals", "official-20-weeks"),
    "rec-casework-staffing": ("official-20-weeks", "official-6-weeks"),
}
TRENDS_BY_ID = {trend.id: trend for trend in TRENDS}
# EvidenceLink's title and "page or paragraph" (plans.models.EvidenceLink).
TITLE_LENGTH, LOCATION_LENGTH = 200, 60


def checklist_figures(authority, key):
    """The official figures that bear on the checklist question `key`, for
    `authority` (its region loaded) beside its region and England, as the
    authority page's tables: one query; None, and no query, for a question
    they do not bear on."""
    trends = [TRENDS_BY_ID[trend_id] for trend_id in QUESTION_TRENDS.get(key, ())]
    if not trends:
        return None
    figures = _by_measure(Figure.objects.beside(authority, [trend.measure for trend in trends]))
    return [_trend(trend, figures) for trend in trends]


class FigureEvidence(NamedTuple):
    """An evidence link's fields for one official figure."""

    url: str
    title: str
    location: str


def figure_evidence(authority, key, trend_id, period):
    """The evidence link for `authority`'s figure of `period` in the trend
    `trend_id`, as offered on the checklist question `key` (one query), or
    None if that figure is not offered there or has no value.

    The link copies the figures as shown today and names their release:
    loading the same release again changes nothing, and a later release
    (which replaces the stored figure) leaves the evidence saying what was
    published when it was linked, and where."""
    if trend_id not in QUESTION_TRENDS.get(key, ()):
        return None
    trend = TRENDS_BY_ID[trend_id]
    figures = _by_measure(Figure.objects.beside(authority, [trend.measure]).filter(period=period))
    mine = figures.get(trend.measure, {}).get((period, "authority"))
    if mine is None or mine.value is None:
        return None
    row = _trend(trend, figures).rows[0]
    shown, region, england = row.cells
    figure = f"{trend.title}, {authority.name}, {row.label}: {shown.text}"
    beside = [f"England {england.text}"]
    if region.published:
        beside.insert(0, f"{authority.region.name} {region.text}")
    release = mine.release
    source = f"Source: {release.publisher}, {release.title}"
    title = f"{figure} ({'; '.join(beside)}). {source}"
    if len(title) > TITLE_LENGTH:
        # The figure and where it was published matter most.
        title = f"{figure}. {source}"
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1] + "…"
    location = f"{release.file_name}, {row.label}"
    if len(location) > LOCATION_LENGTH:
        location = release.file_name[:LOCATION_LENGTH]
    return FigureEvidence(release.source_url, title, location)


# Similar authorities -------------------------------------------------------------

# What makes two authorities alike here: where their children with EHC plans
# are placed and how deep their DSG deficit is, each in its latest year.
# Not the 20-week rate or refusals: those are what the table compares among
# them, and choosing neighbours by them would make the comparison circular.
# (EHC plans per head would need population figures, which are not loaded;
# DfE's statistical neighbours are not in the shared data.)
INDEPENDENT_SHARE = "independent_special_pc"  # worked out, as in _settings
SIMILARITY = [
    "mainstream_total_pc",
    "special_total_pc",
    INDEPENDENT_SHARE,
    DSG_MEASURE,
]
# Shown beside them: the measures of members' reports.
COMPARED = ["pc_plans_issued_within_20_weeks", "request_not_assess_pc"]
SIMILAR_COLUMNS = {
    "mainstream_total_pc": "In mainstream schools",
    "special_total_pc": "In special schools",
    INDEPENDENT_SHARE: "In independent special schools",
    DSG_MEASURE: "DSG balance, % of income",
    "pc_plans_issued_within_20_weeks": "EHC plans issued within 20 weeks",
    "request_not_assess_pc": "Requests refused an assessment",
}
SIMILAR_COUNT = 10
# An authority is compared on at least this many of the SIMILARITY measures.
MIN_SHARED = 3


@dataclass
class Neighbour:
    name: str
    url: str  # "" for an authority outside the reader's scope
    cells: list  # Cell per SimilarAuthorities.columns
    shared: int = 0  # how many SIMILARITY measures it was compared on
    distance: float | None = None


@dataclass
class SimilarAuthorities:
    columns: list  # (heading, period shown)
    mine: Neighbour | None
    neighbours: list
    measures: int  # how many measures similarity uses
    not_compared: int  # authorities missing too many of them
    releases: list
    min_shared: int = MIN_SHARED

    @property
    def enough(self):
        return self.mine is not None and self.mine.shared >= MIN_SHARED


def similar_authorities(authority, user):
    """The SIMILAR_COUNT authorities nearest `authority` by SIMILARITY, each
    standardised over every authority with a figure (its difference from
    their mean in standard deviations), by Euclidean distance. An authority
    missing a measure is compared on the others, the distance scaled up to
    the full number, if it has MIN_SHARED of them; the page says how many
    could not be. Three queries: the latest figures of every authority,
    their releases, and the reader's scope (only authorities in it are
    linked: the rest are published figures, named without a link)."""
    wanted = [
        *(m for m in SIMILARITY if m != INDEPENDENT_SHARE),
        *INDEPENDENT_SPECIAL,
        *COMPARED,
    ]
    rows = (
        Figure.objects.filter(
            level=Level.LOCAL_AUTHORITY, authority__isnull=False, measure__in=wanted
        )
        # Each measure's latest period, found in the same pass over its rows
        # (a subquery per row took most of the authority page's SQL time).
        .alias(latest=Window(Max("period"), partition_by=[F("measure")]))
        .filter(period=F("latest"))
        .order_by()
        .values_list(
            "authority_id",
            "authority__name",
            "authority__slug",
            "measure",
            "period",
            "period_type",
            "value",
            "status",
            "release_id",
        )
    )
    places, figures, periods, release_ids = {}, defaultdict(dict), {}, set()
    for pk, name, slug, measure, period, kind, value, status, release_id in rows:
        places[pk] = (name, slug)
        figures[pk][measure] = Cell(value, status, signed=measure == DSG_MEASURE)
        periods[measure] = (period, kind)
        release_ids.add(release_id)
    if authority.pk not in figures:
        return SimilarAuthorities([], None, [], len(SIMILARITY), 0, [])
    for cells in figures.values():
        # A Cell reads as a Figure does (value, status).
        cells[INDEPENDENT_SHARE] = _share(*(cells.get(m) for m in INDEPENDENT_SPECIAL))
    if INDEPENDENT_SPECIAL[1] in periods:
        periods[INDEPENDENT_SHARE] = periods[INDEPENDENT_SPECIAL[1]]
    scores = _standardised(figures)
    in_scope = set(
        LocalAuthority.objects.for_user(user).filter(pk__in=places).values_list("pk", flat=True)
    )
    columns = [(SIMILAR_COLUMNS[m], _period_shown(m, periods.get(m))) for m in SIMILAR_COLUMNS]

    def neighbour(pk, shared=0, distance=None):
        name, slug = places[pk]
        url = reverse("dashboards:authority", args=[slug]) if pk in in_scope else ""
        cells = [figures[pk].get(measure, MISSING) for measure in SIMILAR_COLUMNS]
        return Neighbour(name, url, cells, shared, distance)

    mine = scores.get(authority.pk, {})
    found, not_compared = [], 0
    for pk, theirs in scores.items():
        if pk == authority.pk:
            continue
        shared = [m for m in mine if m in theirs]
        if len(shared) < MIN_SHARED or len(theirs) < MIN_SHARED:
            not_compared += 1
            continue
        squares = sum((mine[m] - theirs[m]) ** 2 for m in shared)
        found.append((math.sqrt(squares * len(SIMILARITY) / len(shared)), places[pk][0], pk))
    not_compared += len(places) - len(scores)
    found.sort()
    neighbours = [
        neighbour(pk, len([m for m in mine if m in scores[pk]]), distance)
        for distance, _, pk in (found[:SIMILAR_COUNT] if len(mine) >= MIN_SHARED else [])
    ]
    releases = sorted(
        Release.objects.filter(pk__in=release_ids), key=lambda r: (r.title, r.file_name)
    )
    return SimilarAuthorities(
        columns,
        neighbour(authority.pk, len(mine)),
        neighbours,
        len(SIMILARITY),
        not_compared,
        releases,
    )


def _standardised(figures):
    """{authority pk: {measure: z-score}} of the SIMILARITY measures each
    authority has a figure for (a measure all share one value of is left
    out: it tells no authority from another)."""
    scores = defaultdict(dict)
    for measure in SIMILARITY:
        values = {
            pk: float(cells[measure].value)
            for pk, cells in figures.items()
            if measure in cells and cells[measure].known
        }
        if len(values) < 2:
            continue
        mean = sum(values.values()) / len(values)
        spread = math.sqrt(sum((v - mean) ** 2 for v in values.values()) / len(values))
        if not spread:
            continue
        for pk, value in values.items():
            scores[pk][measure] = (value - mean) / spread
    return scores


def _period_shown(measure, found):
    if found is None:
        return ""
    period, kind = found
    if measure in (*(m for _, m in SETTINGS), INDEPENDENT_SHARE):
        # A caseload is counted in January: 202425 → January 2025.
        return f"January {int(period[:4]) + 1}"
    return period_label(period, kind)
