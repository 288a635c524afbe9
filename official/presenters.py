"""The "Official figures" section of the authority page and the briefing
pack: each measure by year for the authority beside its region and England,
the EHC plans by setting, and the latest area SEND inspection, each with
its source. Two queries (`official_figures`), whatever is loaded; rendered
by templates/official/_figures.html.

A figure the release does not give is shown as the release's own word for
why ("not available", "not applicable", "suppressed"), never as 0.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F

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


def official_figures(authority):
    """The section for `authority` (with its region loaded): two queries."""
    figures = defaultdict(dict)  # measure → {(period, place): Figure}
    for figure in Figure.objects.beside(authority, MEASURES):
        place = {Level.NATIONAL: "england", Level.REGIONAL: "region"}.get(
            figure.level, "authority"
        )
        figures[figure.measure][(figure.period, place)] = figure
    tables = [_trend(trend, figures) for trend in TRENDS]
    tables.insert(3, _settings(figures))
    summary, releases = _inspection(authority)
    return OfficialFigures(authority, tables, summary, releases)


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
RELEASE_FIELDS = ["pk", "file_name", "title", "publisher", "published", "source_url", "licence"]


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
