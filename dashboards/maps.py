"""The tile map of England's authorities: one square per authority, the nine
regions as contiguous blocks, roughly where they are on a map, each square
coloured by a measure (programme, plan status, local SEND reform plan, the
High Needs Stability Grant and payments withheld, consultation, official
figures against England's, DSG deficit).

Where each authority sits is data, `data/tile_map.csv` (DfE LA code, the
three-letter label drawn in the square, column, row; the name is there for
whoever edits the file), read once per process. `build_map()` turns it into
what `templates/dashboards/_map.html` draws, for one person and one measure,
in a fixed number of queries however many authorities, plans or finance
years there are; the template then makes none.

A square outside the person's scope is drawn as a plain outline: no link, no
label, no data. Its data is never read, so it cannot leak.
"""

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from django import forms
from django.core.management.base import CommandError
from django.db.models import Exists, OuterRef
from django.urls import reverse

from authorities.loading import read_rows
from authorities.models import LocalAuthority, financial_year_label, format_pounds
from consultations.models import with_agreed_without_consultation
from official.comparisons import ABOVE, BELOW, REFUSED, WITHIN_20_WEEKS, compare
from plans.models import REFORM_PROGRAMME, FundingInstalment, Plan, ReformPlanDetails

LAYOUT_PATH = Path(__file__).resolve().parent / "data" / "tile_map.csv"
LAYOUT_COLUMNS = ["la_code", "label", "column", "row", "name"]
MAX_GRID = 50  # columns and rows: a typing slip, not a bigger England

# Drawing units (the SVG's viewBox scales them to the page).
CELL = 40  # one grid square
INSET = 2  # white space around each square, so every fill meets the background
MARGIN = 4  # room for the region outlines at the grid's edge
CHAR_WIDTH = 8.5  # a region label's character at most, bold at 13 units (_map.scss)

# Where each region's name is written, in grid units: (column, row, anchor,
# lines). Placed by hand in empty squares beside each block of tile_map.csv.
REGION_LABELS = {
    "North East": (11.1, 1.6, "start", ("North East",)),
    "North West": (7.9, 1.6, "end", ("North West",)),
    "Yorkshire and The Humber": (13.1, 6.3, "start", ("Yorkshire and", "The Humber")),
    "East Midlands": (13.1, 8.6, "start", ("East Midlands",)),
    "West Midlands": (3.9, 8.6, "end", ("West Midlands",)),
    "East of England": (14.1, 10.4, "start", ("East of", "England")),
    "London": (15.1, 13.6, "start", ("London",)),
    "South East": (14.1, 17.6, "start", ("South East",)),
    "South West": (2.9, 12.6, "end", ("South West",)),
}

# Programme.code of the two programmes the map names; any other is "other".
SV, DBV = "sv", "dbv"

WHITE, BLACK = "#ffffff", "#0b0c0c"
NOTHING = "\u2013"  # an en dash: the marker of a square with nothing recorded


class LayoutError(Exception):
    """The layout file is malformed; the message names the file and line."""


class Tile(NamedTuple):
    la_code: str
    label: str
    column: int
    row: int


def read_layout(path=LAYOUT_PATH):
    """{DfE LA code: Tile} from a layout file, refusing one with a bad code,
    label or place, an authority twice, a label twice or two authorities in
    one square. Whether it covers every authority is checked against the
    reference data by the tests (the file is read before any database is)."""
    tiles, labels, places = {}, {}, {}
    try:
        for line, row in read_rows(path, LAYOUT_COLUMNS):
            where = f"{path}, line {line}"
            code, label = row["la_code"], row["label"]
            if not re.fullmatch(r"[0-9]{3}", code):
                raise LayoutError(f"{where}: the DfE LA code must be 3 digits, not {code!r}.")
            if not re.fullmatch(r"[A-Z]{3}", label):
                raise LayoutError(f"{where}: the label must be 3 capital letters, not {label!r}.")
            place = (_grid_number(row, "column", where), _grid_number(row, "row", where))
            if code in tiles:
                raise LayoutError(
                    f"{where}: authority {code} is already on line {tiles[code][1]}."
                )
            if label in labels:
                raise LayoutError(
                    f"{where}: the label {label} is already on line {labels[label]}."
                )
            if place in places:
                raise LayoutError(
                    f"{where}: column {place[0]}, row {place[1]} already holds "
                    f"authority {places[place]}."
                )
            tiles[code] = (Tile(code, label, *place), line)
            labels[label] = line
            places[place] = code
    except CommandError as error:
        raise LayoutError(str(error)) from error
    if not tiles:
        raise LayoutError(f"{path}: the file lists no authorities.")
    return {code: tile for code, (tile, _) in tiles.items()}


def _grid_number(row, column, where):
    value = row[column]
    if not value.isdigit() or int(value) >= MAX_GRID:
        raise LayoutError(
            f"{where}: the {column} must be a whole number from 0 to "
            f"{MAX_GRID - 1}, not {value!r}."
        )
    return int(value)


@functools.cache
def layout():
    """The layout, read on first use and kept for the life of the process."""
    return read_layout()


# Colours. WCAG 1.4.11: a fill that carries meaning has 3:1 against the page
# (white); the square's text has 4.5:1 against its fill. tests/test_map.py
# checks every category. "Nothing here" categories are white, outlined.


def _luminance(colour):
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first, second):
    """The WCAG contrast ratio of two "#rrggbb" colours."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@dataclass(frozen=True)
class Category:
    """One value a square can show: its legend entry, colour and marker."""

    key: str
    label: str  # the legend's words
    phrase: str  # follows a count in the summary: "12 in Safety Valve"
    marker: str  # drawn in the square and the legend: colour is not the only carrier
    fill: str = WHITE
    dashed: bool = False  # outline style, for a second white category

    @property
    def filled(self):
        return self.fill != WHITE

    @property
    def text_colour(self):
        return max((BLACK, WHITE), key=lambda text: contrast(text, self.fill))

    @property
    def css_modifier(self):
        return "dashed" if self.dashed else "filled" if self.filled else "outlined"


class Value(NamedTuple):
    category: str  # a Category.key of the measure
    text: str  # what the square's name and the table say


# An official figure the release does not give, whatever the reason (not
# published, or suppressed for small numbers): one category, the same on
# every layer read from official statistics, so their legends agree.
NOT_PUBLISHED = Category(
    "unknown",
    "Not known (not published or suppressed)",
    "with no figure published",
    "?",
    dashed=True,
)
# An authority the release has no row for at all.
NO_FIGURE_PUBLISHED = Value(NOT_PUBLISHED.key, "No figure published")


@dataclass(frozen=True)
class Measure:
    key: str
    label: str  # the radio's label
    caption: str  # "England's local authorities by programme"
    categories: tuple
    default: Value  # for an authority in scope with nothing recorded
    read: Callable  # (user, region) -> {authority id: Value}

    def category(self, key):
        return next(category for category in self.categories if category.key == key)


def _plans(user, region):
    """The current plans in scope (one query), by authority, each
    authority's in programme order."""
    plans = Plan.objects.for_user(user).current().select_related("programme")
    if region is not None:
        plans = plans.filter(authority__region=region)
    return plans.order_by("authority_id", "programme__order", "-revision", "-pk")


def _by_authority(plans):
    return {key: list(group) for key, group in groupby(plans, key=attrgetter("authority_id"))}


def _plan_name(plan):
    return f"{plan.programme.name} {plan.round_or_tranche}".strip()


def _lead(plans):
    """The plan that colours the square: Safety Valve first, then DBV, then
    the others in programme order (`plans` is already in that order)."""
    rank = {SV: 0, DBV: 1}
    return min(plans, key=lambda plan: rank.get(plan.programme.code, 2))


def _programme_values(user, region):
    values = {}
    for authority_id, plans in _by_authority(_plans(user, region)).items():
        code = _lead(plans).programme.code
        key = code if code in (SV, DBV) else "other"
        values[authority_id] = Value(key, " and ".join(_plan_name(plan) for plan in plans))
    return values


STATUS_GROUPS = {
    Plan.Status.RUMOURED: "early",
    Plan.Status.NEGOTIATING: "early",
    Plan.Status.DIAGNOSTIC: "diagnostic",
    Plan.Status.AGREED: "agreed",
    Plan.Status.IMPLEMENTATION: "agreed",
    Plan.Status.UNDER_REVIEW: "withheld",
    Plan.Status.COMPLETED: "finished",
    Plan.Status.ENDED: "finished",
}


def _status_values(user, region):
    values = {}
    for authority_id, plans in _by_authority(_plans(user, region)).items():
        text = "; ".join(f"{plan.get_status_display()} ({_plan_name(plan)})" for plan in plans)
        values[authority_id] = Value(STATUS_GROUPS[_lead(plans).status], text)
    return values


def _consultation_values(user, region):
    """The overview's rule (dashboards.OverviewRow.consulted): not consulted
    if any current plan was agreed with no consultation logged before it,
    consulted if every agreed one was, else no agreement recorded yet."""
    values = {}
    flagged_plans = with_agreed_without_consultation(_plans(user, region))
    for authority_id, plans in _by_authority(flagged_plans).items():
        flagged = [plan for plan in plans if plan.agreed_without_consultation]
        agreed = [plan for plan in plans if plan.agreement_date]
        if flagged:
            value = Value("not_consulted", _agreed("No consultation logged before", flagged))
        elif agreed:
            value = Value("consulted", _agreed("Union consulted before", agreed))
        else:
            names = " and ".join(_plan_name(plan) for plan in plans)
            value = Value("not_agreed", f"No agreement date recorded for {names}")
        values[authority_id] = value
    return values


def _agreed(lead_in, plans):
    dates = "; ".join(
        f"{_plan_name(plan)} was agreed on {plan.agreement_date:%-d %B %Y}" for plan in plans
    )
    return f"{lead_in} {dates}"


Stage = ReformPlanDetails.Stage
REFORM_GROUPS = {
    Stage.STARTED: "preparing",
    Stage.DRAFT_SHARED: "preparing",
    Stage.FEEDBACK: "preparing",
    Stage.SUBMITTED: "submitted",
    Stage.REVISED: "submitted",
    Stage.APPROVED: "approved",
    Stage.NOT_MET: "not_met",
}


def _reform_values(user, region):
    """Each authority's current reform plan (the newest, should there be
    several) by its stage with the DfE, and its rating: one query."""
    plans = _plans(user, region).filter(programme__code=REFORM_PROGRAMME).with_reform()
    values = {}
    for authority_id, reform_plans in _by_authority(plans).items():
        plan = reform_plans[0]
        reform = getattr(plan, "reform", None)
        if reform is None:
            values[authority_id] = Value("unknown", f"{plan.short_name}: stage not recorded")
            continue
        text = f"{reform.get_stage_display()} ({plan.short_name})"
        if reform.rating:
            text += f", rated “{reform.get_rating_display()}”"
        values[authority_id] = Value(REFORM_GROUPS[reform.stage], text)
    return values


def _grant_values(user, region):
    """Each authority's High Needs Stability Grant, and whether any payment
    is withheld: the grant withheld or paid reduced, an instalment withheld
    or reduced, or a plan under review with its payments withheld, amount
    recorded or not (the five SV agreements suspended in March 2024 have
    none). One query."""
    held_back = FundingInstalment.objects.held_back().filter(plan=OuterRef("pk"))
    plans = _plans(user, region).with_reform().annotate(instalments_held_back=Exists(held_back))
    values = {}
    for authority_id, current in _by_authority(plans).items():
        grants = [
            plan.stability_grant
            for plan in current
            if plan.is_reform_plan and getattr(plan, "stability_grant", None)
        ]
        withheld = [
            f"Stability grant {_grant_payment(grant)}"
            for grant in grants
            if grant.status in FundingInstalment.HELD_BACK
        ]
        for plan in current:
            if plan.status == Plan.Status.UNDER_REVIEW:
                recorded = "" if plan.instalments_held_back else " (amount not recorded)"
                withheld.append(f"{_plan_name(plan)} under review, payments withheld{recorded}")
            elif plan.instalments_held_back:
                withheld.append(f"{_plan_name(plan)}: instalments withheld or reduced")
        if withheld:
            values[authority_id] = Value("withheld", "; ".join(withheld))
        elif grants:
            grant = grants[0]
            key = "paid" if grant.status == grant.Status.PAID else "due"
            values[authority_id] = Value(key, f"Stability grant {_grant_payment(grant)}")
    return values


def _grant_payment(grant):
    """ "of £900,000 due", "withheld (£1,800,000)", "paid reduced: £400,000 held back"."""
    amount = format_pounds(grant.written_off) if grant.written_off is not None else None
    if grant.status == grant.Status.WITHHELD:
        return f"withheld ({amount})" if amount else "withheld"
    if grant.status == grant.Status.REDUCED:
        held = grant.withheld
        return f"paid reduced: {format_pounds(held)} held back" if held else "paid reduced"
    status = "paid" if grant.status == grant.Status.PAID else "due"
    return f"of {amount} {status}" if amount else status


def _scope(user, region):
    authorities = LocalAuthority.objects.for_user(user)
    return authorities.filter(region=region) if region is not None else authorities


def _figure_text(comparison):
    """ "38.2% in 2024, below England's 45.9%"; a figure not published says why."""
    if not comparison.known:
        england = comparison.england_text
        return f"{comparison.text.capitalize()} in {comparison.year} (England {england})"
    against = comparison.against_england
    where = (
        f"{'below' if against == BELOW else 'above'} England's {comparison.england_text}"
        if against in (BELOW, ABOVE)
        else "the same as England"
    )
    return f"{comparison.text} in {comparison.year}, {where}"


def _twenty_weeks_values(user, region):
    """EHC plans issued within 20 weeks in the latest year, against England:
    one query (official.comparisons)."""
    values = {}
    for authority_id, comparison in compare([WITHIN_20_WEEKS], _scope(user, region))[
        WITHIN_20_WEEKS
    ].items():
        against = comparison.against_england
        key = (
            NOT_PUBLISHED.key if against is None else "below" if against == BELOW else "not_below"
        )
        values[authority_id] = Value(key, _figure_text(comparison))
    return values


def _refusal_values(user, region):
    """Requests refused an assessment in the latest year, against England
    and the authority's own the year before: one query."""
    values = {}
    for authority_id, comparison in compare([REFUSED], _scope(user, region))[REFUSED].items():
        text = _figure_text(comparison)
        if comparison.against_england != ABOVE:
            key = NOT_PUBLISHED.key if comparison.against_england is None else "not_above"
        elif comparison.rising:
            key = "above_rising"
            text += f", rising from {comparison.previous_text} in {comparison.previous_year}"
        else:
            key = "above"
            text += (
                f"; {comparison.previous_year}: {comparison.previous_text}"
                if comparison.rising is None
                else f", not rising ({comparison.previous_text} in {comparison.previous_year})"
            )
        values[authority_id] = Value(key, text)
    return values


DEFICIT_BANDS = (  # (at least, category key), largest first
    (Decimal(100_000_000), "100m"),
    (Decimal(50_000_000), "50m"),
    (Decimal(10_000_000), "10m"),
    (Decimal("0.01"), "under_10m"),
)


def _deficit_values(user, region):
    authorities = LocalAuthority.objects.for_user(user).with_latest_deficit()
    if region is not None:
        authorities = authorities.filter(region=region)
    values = {}
    rows = authorities.values_list("pk", "latest_deficit", "latest_deficit_year")
    for authority_id, deficit, year in rows:
        if deficit is None:
            continue
        key = next((key for floor, key in DEFICIT_BANDS if deficit >= floor), "none")
        amount = format_pounds(deficit) if deficit >= 0 else f"{format_pounds(-deficit)} surplus"
        values[authority_id] = Value(key, f"{amount} at the end of {financial_year_label(year)}")
    return values


NO_PLAN = Category("none", "No plan", "with no plan", NOTHING)

MEASURES = {
    measure.key: measure
    for measure in (
        Measure(
            key="programme",
            label="Programme",
            caption="by programme",
            categories=(
                Category(SV, "Safety Valve", "in Safety Valve", "S", "#d4351c"),
                Category(
                    DBV, "Delivering Better Value", "in Delivering Better Value", "D", "#1d70b8"
                ),
                Category("other", "Another programme", "on another programme", "O", "#28a197"),
                Category("none", "No programme", "on no programme", NOTHING),
            ),
            default=Value("none", "No programme"),
            read=_programme_values,
        ),
        Measure(
            key="status",
            label="Plan status",
            caption="by the status of their plan",
            categories=(
                Category(
                    "early", "Rumoured or negotiating", "rumoured or negotiating", "R", "#b58840"
                ),
                Category("diagnostic", "Diagnostic", "in a diagnostic", "D", "#28a197"),
                Category(
                    "agreed",
                    "Agreed or being implemented",
                    "agreed or being implemented",
                    "A",
                    "#1d70b8",
                ),
                Category(
                    "withheld",
                    "Under review, payments withheld",
                    "under review with payments withheld",
                    "W",
                    "#d4351c",
                ),
                Category("finished", "Completed or ended", "completed or ended", "C", "#505a5f"),
                NO_PLAN,
            ),
            default=Value("none", "No plan"),
            read=_status_values,
        ),
        Measure(
            key="reform",
            label="Local SEND reform plan",
            caption="by the stage of their local SEND reform plan with the DfE",
            categories=(
                Category(
                    "not_met",
                    "Requirements not met",
                    "rated “requirements not met”",
                    "!",
                    "#d4351c",
                ),
                Category(
                    "submitted",
                    "Submitted, awaiting the DfE",
                    "submitted and awaiting the DfE",
                    "S",
                    "#1d70b8",
                ),
                Category("approved", "Approved", "approved", "A", "#00703c"),
                Category(
                    "preparing",
                    "Being prepared (not yet submitted)",
                    "being prepared",
                    "P",
                    "#b58840",
                ),
                Category(
                    "unknown",
                    "Stage not recorded",
                    "with a reform plan whose stage is not recorded",
                    "?",
                    dashed=True,
                ),
                Category("none", "No reform plan", "with no reform plan", NOTHING),
            ),
            default=Value("none", "No reform plan"),
            read=_reform_values,
        ),
        Measure(
            key="grant",
            label="Stability grant and payments withheld",
            caption="by their High Needs Stability Grant and any payments withheld",
            categories=(
                Category(
                    "withheld",
                    "Payments withheld (grant or instalments)",
                    "with payments withheld",
                    "W",
                    "#d4351c",
                ),
                Category("due", "Grant due", "with the grant due", "D", "#b58840"),
                Category("paid", "Grant paid", "with the grant paid", "P", "#1d70b8"),
                Category(
                    "none",
                    "No grant recorded, nothing withheld",
                    "with no grant recorded and nothing withheld",
                    NOTHING,
                ),
            ),
            default=Value("none", "No grant recorded, no payment withheld"),
            read=_grant_values,
        ),
        Measure(
            key="twenty_weeks",
            label="EHC plans within 20 weeks against England",
            caption=(
                "by the share of EHC plans they issued within 20 weeks in the latest "
                "year, against England's"
            ),
            categories=(
                Category("below", "Below England", "below England", "B", "#d4351c"),
                Category(
                    "not_below",
                    "England's rate or above",
                    "at or above England's rate",
                    "A",
                    "#1d70b8",
                ),
                NOT_PUBLISHED,
            ),
            default=NO_FIGURE_PUBLISHED,
            read=_twenty_weeks_values,
        ),
        Measure(
            key="refusals",
            label="Requests refused an assessment against England",
            caption=(
                "by the share of requests for an assessment they refused in the latest "
                "year, against England's and their own the year before"
            ),
            categories=(
                Category(
                    "above_rising",
                    "Above England and rising",
                    "above England and rising",
                    "!",
                    "#d4351c",
                ),
                Category(
                    "above",
                    "Above England, not rising (or last year not known)",
                    "above England but not rising",
                    "H",
                    "#b58840",
                ),
                Category(
                    "not_above",
                    "England's rate or below",
                    "at or below England's rate",
                    "L",
                    "#1d70b8",
                ),
                NOT_PUBLISHED,
            ),
            default=NO_FIGURE_PUBLISHED,
            read=_refusal_values,
        ),
        Measure(
            key="consultation",
            label="Union consulted before agreement",
            caption="by whether the union was consulted before their plan was agreed",
            categories=(
                Category(
                    "not_consulted",
                    "Agreed with no consultation logged",
                    "with a plan agreed and no consultation logged before it",
                    "!",
                    "#d4351c",
                ),
                Category(
                    "consulted",
                    "Consulted before agreement",
                    "where the union was consulted before agreement",
                    "Y",
                    "#1d70b8",
                ),
                Category(
                    "not_agreed",
                    "No agreement date recorded",
                    "with no agreement date recorded",
                    "?",
                    "#b58840",
                ),
                NO_PLAN,
            ),
            default=Value("none", "No plan"),
            read=_consultation_values,
        ),
        Measure(
            key="deficit",
            label="Latest DSG deficit",
            caption="by their latest Dedicated Schools Grant deficit",
            categories=(
                Category(
                    "100m", "£100m or more", "with a deficit of £100m or more", "4", "#0b0c0c"
                ),
                Category(
                    "50m",
                    "£50m to under £100m",
                    "with a deficit of £50m to under £100m",
                    "3",
                    "#003078",
                ),
                Category(
                    "10m",
                    "£10m to under £50m",
                    "with a deficit of £10m to under £50m",
                    "2",
                    "#1d70b8",
                ),
                Category("under_10m", "Under £10m", "with a deficit under £10m", "1", "#5694ca"),
                Category("none", "No deficit (or a surplus)", "with no deficit", "0"),
                Category(
                    "unknown", "Not known", "with no deficit figure recorded", "?", dashed=True
                ),
            ),
            default=Value("unknown", "Not known"),
            read=_deficit_values,
        ),
    )
}
DEFAULT_MEASURE = "programme"


class MapForm(forms.Form):
    """What to colour the map by (a GET form: the choice lives in the URL)."""

    measure = forms.ChoiceField(
        label="Colour the map by",
        choices=[(measure.key, measure.label) for measure in MEASURES.values()],
        widget=forms.RadioSelect(attrs={"class": "govuk-radios--inline govuk-radios--small"}),
        error_messages={"invalid_choice": "Choose what to colour the map by from the list"},
    )

    def __init__(self, data, **kwargs):
        # The default is submitted as if chosen, so its radio shows checked.
        data = data.copy()
        if not data.get("measure"):
            data["measure"] = DEFAULT_MEASURE
        super().__init__(data, **kwargs)

    def chosen(self):
        """The measure chosen, or the default when the choice is not valid
        (the error is shown beside the map). Call after is_valid()."""
        return MEASURES[self.cleaned_data.get("measure") or DEFAULT_MEASURE]


@dataclass
class Cell:
    """One authority's square. `value` is None outside the scope drawn."""

    authority: LocalAuthority
    tile: Tile | None  # None: not on the grid (a newer authority)
    value: Value | None = None
    category: Category | None = None
    url: str = ""

    @property
    def x(self):
        return MARGIN + self.tile.column * CELL + INSET

    @property
    def y(self):
        return MARGIN + self.tile.row * CELL + INSET

    size = CELL - 2 * INSET

    @property
    def centre_x(self):
        return self.x + self.size / 2

    @property
    def name(self):
        """What the square is called, to screen readers and as a tooltip."""
        return f"{self.authority.name}: {self.value.text}"


class RegionLabel(NamedTuple):
    x: float
    y: float
    anchor: str
    lines: list  # [(y, text)]


@dataclass(frozen=True)
class LegendEntry:
    category: Category
    count: int  # authorities in scope in the category


@dataclass
class TileMap:
    """Everything _map.html draws; see build_map()."""

    measure: Measure
    cells: list  # every authority on the grid, row by row: the tab order
    rows: list  # the cells in scope, by region and name: the table
    unplaced: list  # in scope but not on the grid (a newer authority): table only
    outline: str  # SVG path data: every region's boundary
    labels: list
    width: int
    height: int
    scope: str = "you can see"  # "Of the 33 authorities you can see: …"
    html_id: str = "map"
    legend: list = field(init=False)

    def __post_init__(self):
        counts = Counter(cell.category.key for cell in self.rows + self.unplaced)
        self.legend = [LegendEntry(c, counts[c.key]) for c in self.measure.categories]

    @property
    def title(self):
        return f"England's local authorities {self.measure.caption}"

    @property
    def total(self):
        return len(self.rows) + len(self.unplaced)

    @property
    def has_outside(self):
        return len(self.rows) < len(self.cells)

    @property
    def summary(self):
        """ "Of the 33 authorities you can see: 5 in Safety Valve, … and 20
        on no programme." """
        if not self.total:
            return "You cannot see any authority's data on this map."
        parts = [f"{entry.count} {entry.category.phrase}" for entry in self.legend if entry.count]
        listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
        noun = "authority" if self.total == 1 else "authorities"
        return f"Of the {self.total} {noun} {self.scope}: {listed}."


def build_map(user, measure=DEFAULT_MEASURE, *, region=None):
    """The map for `user`, coloured by `measure` (a Measure or its key).

    Every authority is drawn; those in the person's scope (and in `region`,
    when given, for a region's page) are filled and linked, the rest are
    outlines. Three queries (the person's wide roles, the authorities, the
    measure's figures), and a fourth for the scope of anyone who does not see
    all of England."""
    if isinstance(measure, str):
        measure = MEASURES[measure]
    tiles = layout()
    # Asked once per request (the page's menu asks it too).
    national = user.has_national_scope
    authorities = list(LocalAuthority.objects.select_related("region").order_by("name"))
    values = measure.read(user, region)
    # The scope is read apart from the values: an authority in scope may
    # have nothing recorded (it shows the measure's default).
    if national:
        in_scope = {a.pk for a in authorities if region is None or a.region_id == region.pk}
    else:
        scope = LocalAuthority.objects.for_user(user)
        if region is not None:
            scope = scope.filter(region=region)
        in_scope = set(scope.values_list("pk", flat=True))

    cells, unplaced = [], []
    for authority in authorities:
        cell = Cell(authority, tiles.get(authority.la_code))
        if authority.pk in in_scope:
            cell.value = values.get(authority.pk, measure.default)
            cell.category = measure.category(cell.value.category)
            cell.url = reverse("dashboards:authority", kwargs={"slug": authority.slug})
        if cell.tile is None:
            if cell.value is not None:
                unplaced.append(cell)
        else:
            cells.append(cell)
    cells.sort(key=lambda cell: (cell.tile.row, cell.tile.column))
    rows = sorted(
        (cell for cell in cells if cell.value is not None),
        key=lambda cell: (cell.authority.region.name, cell.authority.name),
    )
    width, height = _extent(tiles.values())
    return TileMap(
        measure=measure,
        cells=cells,
        rows=rows,
        unplaced=unplaced,
        outline=_outline(cells),
        labels=_labels({cell.authority.region.name for cell in cells}),
        width=width,
        height=height,
        scope=f"in {region}" if region else "in England" if national else "you can see",
    )


def _outline(cells):
    """Path data for the edges between squares of different regions (or a
    square and the sea), drawn along the grid lines between the squares."""
    region_at = {(c.tile.column, c.tile.row): c.authority.region_id for c in cells}
    edges = []
    for (column, row), region in region_at.items():
        x, y = MARGIN + column * CELL, MARGIN + row * CELL
        for (dx, dy), edge in (
            ((0, -1), f"M{x},{y}h{CELL}"),
            ((0, 1), f"M{x},{y + CELL}h{CELL}"),
            ((-1, 0), f"M{x},{y}v{CELL}"),
            ((1, 0), f"M{x + CELL},{y}v{CELL}"),
        ):
            if region_at.get((column + dx, row + dy)) != region:
                edges.append(edge)
    return "".join(edges)


def _labels(regions):
    labels = []
    for name in sorted(regions & REGION_LABELS.keys()):
        column, row, anchor, lines = REGION_LABELS[name]
        x, y = MARGIN + column * CELL, MARGIN + row * CELL
        top = y - (len(lines) - 1) * 8  # 16-unit line spacing, centred on `row`
        labels.append(
            RegionLabel(x, y, anchor, [(top + 16 * n, line) for n, line in enumerate(lines)])
        )
    return labels


def _extent(tiles):
    """The drawing's width and height: the grid and the region labels."""
    right = MARGIN + max((tile.column + 1) * CELL for tile in tiles)
    bottom = MARGIN + max((tile.row + 1) * CELL for tile in tiles)
    for column, _, anchor, lines in REGION_LABELS.values():
        if anchor == "start":
            right = max(right, MARGIN + column * CELL + max(map(len, lines)) * CHAR_WIDTH)
    return round(right + MARGIN), round(bottom + MARGIN)
