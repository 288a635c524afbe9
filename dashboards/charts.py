"""Small bar charts drawn on the server as SVG: no JavaScript, and they print.

A chart is built here, in Python, with every coordinate computed, and drawn
by templates/includes/chart.html. Each chart carries what makes it usable
without seeing it: a title, a sentence saying what it shows, and its data as
a table. Values are printed beside their bars, so colour never carries the
meaning alone, and an unknown value is a gap marked "Not known", never a bar
of 0 (DESIGN: blank always means "not known").
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from authorities.models import financial_year_label, format_pounds

# The drawing's own units (the SVG scales to its box): room on the left for
# the axis's figures, above the plot for its title and the values over the
# tallest bar, below it for values under a negative bar and the labels.
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 44, 64
MIN_SLOT = 60
MAX_BAR = 72
# Text is 14 units high (frontend/_charts.scss) on lines LINE apart. Its
# width is reckoned generously, from the widest of the fonts a browser may
# use (DejaVu Sans, on Linux), so that labels laid out here never touch in
# any of them: a label or value wider than its slot is wrapped at its
# spaces, and a word wider than a slot widens every slot.
FONT_SIZE, LINE = 14, 17
GAP = 10  # between the texts of neighbouring slots


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class Bar:
    """One category (a year, a term) and its bar, or its gap."""

    label: str  # under the bar: "2024-25"
    label_lines: tuple  # the label as drawn, wrapped to its slot
    text: str  # printed beside the bar: "£24.6m", or why there is none
    text_lines: tuple  # the text as drawn, wrapped to its slot
    table_text: str  # in the data table: "£24,600,000"
    known: bool
    negative: bool
    x: float
    width: float
    y: float
    height: float
    centre: float
    value_y: float  # baseline of the first of `text_lines`


@dataclass(frozen=True)
class BarChart:
    id: str  # unique on the page; the SVG is labelled by id-title and id-summary
    title: str
    summary: str
    axis_title: str  # over the vertical axis: what the figures are
    label_heading: str  # the table's first column: "Financial year"
    value_heading: str  # its second: "DSG cumulative deficit"
    colour: str  # a modifier of app-chart__bar in frontend/_charts.scss
    bars: tuple
    ticks: tuple
    width: int
    height: int
    plot_left: float
    plot_right: float
    zero_y: float
    label_y: float  # baseline of each label's first line
    line: int = LINE  # from one line of a wrapped text to the next

    @property
    def has_data(self):
        return any(bar.known for bar in self.bars)

    @property
    def unknown_labels(self):
        return [bar.label for bar in self.bars if not bar.known]


@dataclass(frozen=True)
class Point:
    """A chart's input: a category, its value (None when not known) and,
    for a gap, what to say instead ("Not known", "fewer than 5")."""

    label: str
    value: Decimal | float | int | None
    missing: str = "Not known"


# Formatting ------------------------------------------------------------------


def short_pounds(amount):
    """An amount short enough to print over a bar: "£24.6m", "£450k", "£900"."""
    amount = Decimal(amount)
    sign = "-" if amount < 0 else ""
    size = abs(amount)
    # Thresholds at the rounding points, so 999,999 is "£1m", not "£1,000k".
    if size >= 999_950:
        millions = (size / 1_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP).normalize()
        return f"{sign}£{millions:,f}m"
    if size >= Decimal("999.5"):
        thousands = (size / 1_000).quantize(Decimal(1), ROUND_HALF_UP)
        return f"{sign}£{thousands:,f}k"
    return sign + format_pounds(size.quantize(Decimal(1), ROUND_HALF_UP))


def deficit_text(amount, formatter):
    """A DSG cumulative deficit in words: a negative one is a surplus."""
    if amount < 0:
        return f"{formatter(-amount)} surplus"
    return formatter(amount)


def weeks_text(weeks):
    return f"{weeks:g} week{'' if weeks == 1 else 's'}"


def _join(labels):
    if len(labels) < 3:
        return " and ".join(labels)
    return f"{', '.join(labels[:-1])} and {labels[-1]}"


def trend_summary(subject, points, text):
    """One sentence on the trend, from the first known value to the last:
    "The DSG deficit grew from £3.1m in 2021-22 to £24.6m in 2024-25.",
    and which categories are not known. `text(value)` formats a value."""
    known = [p for p in points if p.value is not None]
    missing = [p.label for p in points if p.value is None]
    if not known:
        return f"No figures for the {subject} are known yet."
    first, last = known[0], known[-1]
    if first is last:
        sentence = f"The {subject} was {text(first.value)} in {first.label}."
    elif last.value == first.value:
        sentence = (
            f"The {subject} was {text(last.value)} in {first.label} and again in {last.label}."
        )
    else:
        verb = "grew" if last.value > first.value else "fell"
        sentence = (
            f"The {subject} {verb} from {text(first.value)} in {first.label} "
            f"to {text(last.value)} in {last.label}."
        )
    if missing:
        sentence += f" No figure for {_join(missing)}."
    return sentence


# Geometry --------------------------------------------------------------------

NARROW = set(" .,:;!'|()-[]/ijlft1")
WIDE = set("mwMW£%")


def text_width(text, *, bold=False):
    """The most room `text` takes at FONT_SIZE: an estimate from the widths
    of DejaVu Sans, wider than the usual system fonts."""
    ems = sum(
        0.38 if c in NARROW else 0.95 if c in WIDE else 0.78 if c.isupper() else 0.66 for c in text
    )
    return ems * FONT_SIZE * (1.1 if bold else 1)


def wrap(text, room, *, bold=False):
    """`text` as lines no wider than `room`, broken at its spaces only (a
    word longer than `room` is a line of its own: bar_chart widens the slots
    so that none is)."""
    lines = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", bold=bold) <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines) or ("",)


def widest_word(texts, *, bold=False):
    return max((text_width(word, bold=bold) for text in texts for word in text.split()), default=0)


def nice_step(span, target=4):
    """A round step (1, 2, 2.5 or 5 times a power of ten) that cuts `span`
    into about `target` parts, for the axis's figures."""
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude * (1 + 1e-9):
            return multiple * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def axis_range(values):
    """The axis's lowest and highest figure and its step: always including
    0, where the bars start, and extended to whole steps."""
    low, high = min([0, *values]), max([0, *values])
    if low == high:  # nothing known, or every known value is 0
        return 0, 1, 1
    step = nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def bar_chart(
    *,
    id,
    title,
    subject,
    points,
    axis_title,
    value_heading,
    label_heading,
    short,
    full,
    tick_text=None,
    say=None,
    colour="blue",
):
    """A BarChart of `points` (oldest first). `short(value)` is printed by
    the bar, `full(value)` goes in the table, `say(value)` (default `short`)
    in the summary, and `tick_text` (default `short`) labels the axis."""
    points = list(points)
    tick_text = tick_text or short
    values = [float(p.value) for p in points if p.value is not None]
    low, high, step = axis_range(values)
    figures = []
    if values and step:
        figures = [low + n * step for n in range(round((high - low) / step) + 1)]
    tick_texts = [tick_text(_round(figure)) for figure in figures]
    texts = [short(p.value) if p.value is not None else p.missing for p in points]
    labels = [p.label for p in points]

    # Room on the left for the widest figure on the axis, and slots wide
    # enough for the longest word under or over a bar.
    left = max(LEFT, math.ceil(max(map(text_width, tick_texts), default=0)) + 16)
    slot = max(MIN_SLOT, widest_word(labels) + GAP, widest_word(texts, bold=True) + GAP)
    width = max(WIDTH, math.ceil(left + RIGHT + slot * len(points)))
    slot = (width - left - RIGHT) / max(len(points), 1)
    label_lines = [wrap(label, slot - GAP) for label in labels]
    text_lines = [wrap(text, slot - GAP, bold=True) for text in texts]
    # A value of several lines is stacked away from its bar: upwards over
    # a bar (so the plot starts lower), downwards under a negative one (so
    # the labels do).
    over = max(
        (len(lines) for lines, p in zip(text_lines, points, strict=True) if not _negative(p)),
        default=1,
    )
    under = max(
        (len(lines) for lines, p in zip(text_lines, points, strict=True) if _negative(p)),
        default=1,
    )
    top_margin = TOP + LINE * (over - 1)
    plot_bottom = HEIGHT - BOTTOM + LINE * (over - 1)
    plot_height = plot_bottom - top_margin
    label_y = plot_bottom + 38 + LINE * (under - 1)
    height = label_y + LINE * (max(map(len, label_lines), default=1) - 1) + BOTTOM - 38

    def y_of(value):
        return top_margin + (high - value) / (high - low) * plot_height

    zero_y = y_of(0)
    ticks = tuple(
        Tick(y=round(y_of(figure), 1), text=text)
        for figure, text in zip(figures, tick_texts, strict=True)
    )
    bar_width = min(slot * 0.6, MAX_BAR)
    bars = []
    for n, point in enumerate(points):
        centre = left + slot * n + slot / 2
        known = point.value is not None
        value = float(point.value) if known else 0.0
        negative = known and value < 0
        top, bottom = sorted((y_of(value), zero_y))
        lines = len(text_lines[n])
        if not known:
            value_y = zero_y - 8 - LINE * (lines - 1)
        elif negative:
            value_y = bottom + 18
        else:
            value_y = top - 8 - LINE * (lines - 1)
        bars.append(
            Bar(
                label=point.label,
                label_lines=label_lines[n],
                text=texts[n],
                text_lines=text_lines[n],
                table_text=full(point.value) if known else point.missing,
                known=known,
                negative=negative,
                x=round(centre - bar_width / 2, 1),
                width=round(bar_width, 1),
                y=round(top, 1),
                height=round(bottom - top, 1),
                centre=round(centre, 1),
                value_y=round(value_y, 1),
            )
        )
    return BarChart(
        id=id,
        title=title,
        summary=trend_summary(subject, points, say or short),
        axis_title=axis_title,
        label_heading=label_heading,
        value_heading=value_heading,
        colour=colour,
        bars=tuple(bars),
        ticks=ticks,
        width=width,
        height=height,
        plot_left=left,
        plot_right=width - RIGHT,
        zero_y=round(zero_y, 1),
        label_y=label_y,
    )


def _negative(point):
    return point.value is not None and point.value < 0


def _round(figure):
    """An axis figure as a Decimal without float noise (0.30000000000000004)
    or an exponent: normalize() makes 10 "1E+1", which `:g` prints "1e+1"."""
    figure = Decimal(repr(round(figure, 6))).normalize()
    return figure.quantize(Decimal(1)) if figure == figure.to_integral() else figure


# The app's charts ------------------------------------------------------------


def _years(finance_years):
    """Every financial year from the first recorded to the last, oldest
    first, with its row or None: a year with no row is a gap, not a 0."""
    rows = {row.financial_year: row for row in finance_years}
    if not rows:
        return []
    return [(year, rows.get(year)) for year in range(min(rows), max(rows) + 1)]


def _finance_points(finance_years, figure):
    return [
        Point(financial_year_label(year), getattr(row, figure) if row else None)
        for year, row in _years(finance_years)
    ]


def dsg_deficit_chart(finance_years, *, id="chart-dsg-deficit"):
    """The DSG cumulative deficit by financial year; a surplus (a negative
    deficit) is a bar below the line, printed as "£1.2m surplus"."""
    return bar_chart(
        id=id,
        title="DSG cumulative deficit by financial year",
        subject="DSG deficit",
        points=_finance_points(finance_years, "dsg_cumulative_deficit"),
        axis_title="Deficit (below 0: a surplus)",
        label_heading="Financial year",
        value_heading="DSG cumulative deficit",
        short=lambda value: deficit_text(value, short_pounds),
        full=lambda value: deficit_text(value, format_pounds),
        tick_text=short_pounds,
        colour="red",
    )


def high_needs_chart(finance_years, *, id="chart-high-needs"):
    """The High Needs Block allocation by financial year."""
    return bar_chart(
        id=id,
        title="High Needs Block allocation by financial year",
        subject="High Needs Block allocation",
        points=_finance_points(finance_years, "high_needs_block_allocation"),
        axis_title="Allocation",
        label_heading="Financial year",
        value_heading="High Needs Block allocation",
        short=short_pounds,
        full=format_pounds,
        colour="blue",
    )


def assessment_wait_chart(feedback, *, id="chart-assessment-wait"):
    """The median wait for an EHC needs assessment that members report,
    term by term, from a feedback.aggregates.FeedbackSummary: a term whose
    figure is suppressed ("fewer than 5") or not given is a gap saying so."""
    return bar_chart(
        id=id,
        title="Median wait for an EHC needs assessment, by term",
        subject="median wait members report",
        points=[
            Point(term.label, weeks, term.assessment_wait)
            for term, weeks in zip(feedback.terms, feedback.assessment_wait_weeks, strict=True)
        ],
        axis_title="Weeks",
        label_heading="Term",
        value_heading="Median wait for an assessment",
        short=lambda weeks: f"{weeks:g}",
        full=weeks_text,
        say=weeks_text,
        tick_text=weeks_text,
        colour="purple",
    )


def official_charts(official):
    """A chart of the authority's own figures for each official measure by
    year (official.presenters.OfficialFigures), set on its table as
    `chart` for official/_figures.html; the table beside it holds the
    region's and England's. A year with no figure is a gap saying why
    ("suppressed", "not available"). The DSG balance is drawn as the
    deficit, as the finance chart draws it: a surplus below the line."""
    for table in official.tables:
        if table.trend is None or not table.has_data:
            continue
        signed = table.trend.signed
        points = [
            Point(
                row.label,
                (-row.cells[0].value if signed else row.cells[0].value)
                if row.cells[0].known
                else None,
                row.cells[0].text,
            )
            for row in table.rows
            if row.in_series
        ]

        def text(value, signed=signed):
            if signed:
                return deficit_text(value, lambda v: f"{v.normalize():f}%")
            return f"{value.normalize():f}%"

        table.chart = bar_chart(
            id=f"chart-{table.id}",
            title=f"{table.title}: {official.authority.name}",
            subject=f"{table.trend.subject} in {official.authority.name}",
            points=points,
            axis_title="Deficit, % of income (below 0: a surplus)" if signed else "%",
            label_heading="Year",
            value_heading=table.title,
            short=text,
            full=text,
            tick_text=lambda value: f"{value:f}%",
            colour="red" if signed else "blue",
        )
    return official
