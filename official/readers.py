"""Reading the official statistics files as they are published.

`read(name, text)` recognises the file by its first lines and returns what it
holds as plain rows (`Parsed`), checked through to the end: a file it does not
recognise, a missing column or a cell that is neither a number nor a known
symbol is a `BadFile` naming the line, and nothing is written
(official/importing.py writes only a whole file).

Four layouts:
- any Explore Education Statistics (EES) tidy CSV (`time_period,
  time_identifier, geographic_level, country_code, …, new_la_code,
  old_la_code, la_name[, breakdown_topic, breakdown], <measures>`): the
  headline rows (breakdown topic "All …" or "Total"), every measure column;
- the SEND Tribunal appeal rate report table (title rows above a two-row
  header of years and measures);
- the DSG cumulative balance as a % of income (the inclusion dashboard's
  finance file, converted to CSV);
- the area SEND inspections to August 2022, and the 2022-23 management
  information under the 2023 framework.

Symbols are kept as a status, never read as 0 (official/models.py).
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .models import Inspection, Level, Period, Status

ENGLAND = "E92000001"
DFE = "Department for Education"
FOUR_PLACES = Decimal("0.0001")


class BadFile(ValueError):
    """The file cannot be loaded; the message says why and where."""


@dataclass(frozen=True)
class FigureRow:
    level: str
    area_code: str  # the code the file gives the place, or its name
    area_name: str
    measure: str
    period: str
    period_type: str
    value: Decimal | None
    status: str
    # What the place is matched on (official/importing.py).
    la_code: str = ""
    gss_code: str = ""
    by_name: bool = False  # the file gives no DfE code: match the name too

    @property
    def key(self):
        return (self.measure, self.period, self.level, self.area_code)


@dataclass(frozen=True)
class InspectionRow:
    framework: str
    area_code: str
    area_name: str
    started: datetime.date
    published: datetime.date | None
    outcome: str
    action_required: bool | None
    action_areas: int | None
    revisit_outcome: str
    gss_code: str = ""
    la_code: str = ""  # no inspection file gives one

    @property
    def key(self):
        return (self.framework, self.area_code, self.started)


@dataclass
class Parsed:
    file_name: str
    layout: str  # what kind of file: LAYOUTS' keys
    publisher: str
    figures: list = field(default_factory=list)
    inspections: list = field(default_factory=list)

    @property
    def measures(self):
        return sorted({row.measure for row in self.figures})


# The publisher each layout comes from, offered when a file is loaded.
LAYOUTS = {
    "ees": ("Explore Education Statistics CSV", DFE),
    "tribunal": (
        "SEND Tribunal appeal rate table",
        "Ministry of Justice and Department for Education",
    ),
    "dsg": ("DSG cumulative balance as a % of income", DFE),
    "inspections-2016": ("Area SEND inspections to August 2022", "Ofsted and CQC"),
    "inspections-2023": (
        "Area SEND inspections, 2023 framework (management information)",
        "Ofsted",
    ),
}


def read(name, text):
    """The rows of the file called `name` with content `text`."""
    text = text.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise BadFile(f"{name}: the file is empty.")
    header = [cell.strip() for cell in rows[0]]
    if header == DSG_COLUMNS:
        return _dsg(name, rows)
    if "time_period" in header and "geographic_level" in header:
        return _ees(name, header, rows)
    if header and header[0].startswith("SEND Appeal rate table"):
        return _tribunal(name, rows)
    if header and header[0] == INSPECTIONS_2016_COLUMNS[0]:
        return _inspections_2016(name, header, rows)
    if len(header) > 2 and header[2] == "Local.area.partnership":
        return _inspections_2023(name, header, rows)
    raise BadFile(
        f"{name}: not a layout the app reads. It reads "
        + "; ".join(label for label, _ in LAYOUTS.values())
        + ". Check the first line of the file."
    )


def number(cell, symbols, where):
    """(value, status) for one cell: a number, or a symbol in `symbols`."""
    text = cell.strip()
    if text in symbols:
        return symbols[text]
    cleaned = text.replace(",", "").removesuffix("%")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise BadFile(f"{where}: {cell!r} is neither a number nor a known symbol.") from None
    if not value.is_finite() or abs(value) >= 10**15:
        raise BadFile(f"{where}: {cell!r} is not a figure the app can keep.")
    # Stored to four places: a value read again compares equal (idempotence).
    if value.as_tuple().exponent < -4:
        value = value.quantize(FOUR_PLACES)
    return value, Status.KNOWN


def _check_unique(name, rows):
    seen = {}
    for row in rows:
        if row.key in seen:
            what = ", ".join(str(part) for part in row.key)
            raise BadFile(f"{name}: {row.area_name} ({what}) appears twice.")
        seen[row.key] = True


# Explore Education Statistics ------------------------------------------------

EES_REQUIRED = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "region_code",
    "region_name",
    "new_la_code",
    "old_la_code",
    "la_name",
]
EES_NOT_MEASURES = {*EES_REQUIRED, "country_name", "breakdown_topic", "breakdown"}
# The EES symbols (the release's data guidance): not available, not
# applicable, confidential (suppressed), rounds to 0, low reliability.
EES_SYMBOLS = {
    "x": (None, Status.NOT_AVAILABLE),
    ":": (None, Status.NOT_AVAILABLE),
    "": (None, Status.NOT_AVAILABLE),
    "z": (None, Status.NOT_APPLICABLE),
    "c": (None, Status.SUPPRESSED),
    "low": (None, Status.LOW),
    "u": (None, Status.LOW_RELIABILITY),
}
EES_LEVELS = {
    "National": Level.NATIONAL,
    "Regional": Level.REGIONAL,
    "Local authority": Level.LOCAL_AUTHORITY,
}
EES_PERIODS = {
    "Calendar year": Period.CALENDAR,
    "Academic year": Period.ACADEMIC,
    "Financial year": Period.FINANCIAL,
}


def _headline(row):
    topic = row.get("breakdown_topic")
    return topic is None or topic.lower().startswith("all ") or topic.lower() == "total"


def _ees(name, header, rows):
    missing = [column for column in EES_REQUIRED if column not in header]
    if missing:
        raise BadFile(
            f"{name}, line 1: an Explore Education Statistics file needs the "
            f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
        )
    measures = [column for column in header if column and column not in EES_NOT_MEASURES]
    if not measures:
        raise BadFile(f"{name}, line 1: no measure columns after the place and time columns.")
    parsed = Parsed(name, "ees", DFE)
    for line, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise BadFile(
                f"{name}, line {line}: expected {len(header)} columns, found {len(cells)}."
            )
        row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        level = EES_LEVELS.get(row["geographic_level"])
        if level is None or not _headline(row):
            continue  # another geography (a ward, a constituency) or a breakdown
        period_type = EES_PERIODS.get(row["time_identifier"])
        if period_type is None:
            raise BadFile(f"{name}, line {line}: time {row['time_identifier']!r} is not known.")
        if level == Level.NATIONAL:
            code, place = ENGLAND, "England"
        elif level == Level.REGIONAL:
            code, place = row["region_code"] or row["region_name"], row["region_name"]
        else:
            code, place = (
                row["old_la_code"] or row["new_la_code"] or row["la_name"],
                row["la_name"],
            )
        if not (code and place):
            raise BadFile(f"{name}, line {line}: the row names no place.")
        for measure in measures:
            value, status = number(row[measure], EES_SYMBOLS, f"{name}, line {line}, {measure}")
            parsed.figures.append(
                FigureRow(
                    level=level,
                    area_code=code,
                    area_name=place if level != Level.NATIONAL else "England",
                    measure=measure,
                    period=row["time_period"],
                    period_type=period_type,
                    value=value,
                    status=status,
                    la_code=row["old_la_code"],
                    gss_code=row["new_la_code"],
                )
            )
    if not parsed.figures:
        raise BadFile(f"{name}: no headline rows (breakdown topic “All …” or “Total”).")
    _check_unique(name, parsed.figures)
    return parsed


# The SEND Tribunal appeal rate table -------------------------------------------

TRIBUNAL_MEASURES = [
    # (how the header begins, the measure): the "in development" ones first.
    ("In development: Total Appealable Decisions", "appealable_decisions_in_development"),
    ("In development: SEND Tribunal Appeal Rate", "appeal_rate_in_development"),
    ("Appeals registered", "appeals_registered"),
    ("Total Appealable Decisions", "appealable_decisions"),
    ("SEND Tribunal Appeal Rate", "appeal_rate"),
]
# The table's own key: ".." not available, "~" suppressed; "-" is nil (the
# rate beside it is 0.00%). "x" marks the authorities whose 2024 figures are
# left out of "England total excluding suppressed": suppressed.
TRIBUNAL_SYMBOLS = {
    "-": (Decimal(0), Status.KNOWN),
    "..": (None, Status.NOT_AVAILABLE),
    "": (None, Status.NOT_AVAILABLE),
    "~": (None, Status.SUPPRESSED),
    "x": (None, Status.SUPPRESSED),
}
FOOTNOTE = re.compile(r"[0-9,]+$")


def _tribunal(name, rows):
    start = next(
        (i for i, row in enumerate(rows[:20]) if row[:2] == ["Local Authority", "LA code"]), None
    )
    if start is None or start + 1 >= len(rows):
        raise BadFile(f"{name}: no header row beginning “Local Authority, LA code”.")
    years, labels = rows[start], rows[start + 1]
    columns, year = {}, None
    for index in range(2, len(years)):
        if years[index].strip():
            year = years[index].strip()
            if not re.fullmatch(r"20[0-9]{2}", year):
                raise BadFile(f"{name}, line {start + 1}: {year!r} is not a year.")
        label = labels[index].strip() if index < len(labels) else ""
        if not label:
            continue
        measure = next((m for prefix, m in TRIBUNAL_MEASURES if label.startswith(prefix)), None)
        if measure is None or year is None:
            raise BadFile(f"{name}, line {start + 2}: column {label!r} is not known.")
        columns[index] = (measure, year)
    if not columns:
        raise BadFile(f"{name}, line {start + 2}: no measure columns.")
    parsed = Parsed(name, "tribunal", LAYOUTS["tribunal"][1])
    for line, row in enumerate(rows[start + 2 :], start=start + 3):
        place, code = (row[0].strip(), row[1].strip()) if len(row) > 1 else ("", "")
        if not place:
            continue
        if place.startswith("England total excluding") or place.startswith("Sources"):
            break
        national = place.startswith("England Total")
        if not national and not code and place.isupper():
            continue  # a region's heading: the table gives no regional totals
        if not national:
            place = FOOTNOTE.sub("", place)
        if code and not re.fullmatch(r"[0-9]{3}", code):
            raise BadFile(f"{name}, line {line}: LA code {code!r} is not three digits.")
        for index, (measure, year) in columns.items():
            cell = row[index] if index < len(row) else ""
            value, status = number(cell, TRIBUNAL_SYMBOLS, f"{name}, line {line}, {year}")
            parsed.figures.append(
                FigureRow(
                    level=Level.NATIONAL if national else Level.LOCAL_AUTHORITY,
                    area_code=ENGLAND if national else code or place,
                    area_name="England" if national else place,
                    measure=measure,
                    period=year,
                    period_type=Period.CALENDAR,
                    value=value,
                    status=status,
                    la_code="" if national else code,
                )
            )
        if national:
            break
    if not parsed.figures:
        raise BadFile(f"{name}: no authorities under the header.")
    _check_unique(name, parsed.figures)
    return parsed


# DSG cumulative balance ----------------------------------------------------------

DSG_COLUMNS = [
    "time_period",
    "geographic_level",
    "region_name",
    "la_name",
    "deficit",
    "DSG cumulative balance as a % of the total income",
    "financial_year",
]
DSG_MEASURE = "dsg_cumulative_balance_pc"
DSG_SYMBOLS = {"": (None, Status.NOT_AVAILABLE), "x": (None, Status.NOT_AVAILABLE)}


def _dsg(name, rows):
    parsed = Parsed(name, "dsg", LAYOUTS["dsg"][1])
    for line, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(DSG_COLUMNS):
            raise BadFile(f"{name}, line {line}: expected {len(DSG_COLUMNS)} columns.")
        row = dict(zip(DSG_COLUMNS, (cell.strip() for cell in cells), strict=True))
        level = EES_LEVELS.get(row["geographic_level"])
        if level is None:
            raise BadFile(f"{name}, line {line}: level {row['geographic_level']!r} is not known.")
        if not re.fullmatch(r"20[0-9]{4}", row["time_period"]):
            raise BadFile(f"{name}, line {line}: period {row['time_period']!r} is not a year.")
        if level == Level.NATIONAL:
            code = place = "England"
        elif level == Level.REGIONAL:
            code = place = row["region_name"]
        else:
            code = place = row["la_name"]
        if not place:
            raise BadFile(f"{name}, line {line}: the row names no place.")
        value, status = number(
            row[DSG_COLUMNS[5]], DSG_SYMBOLS, f"{name}, line {line}, {DSG_COLUMNS[5]}"
        )
        parsed.figures.append(
            FigureRow(
                level=level,
                area_code=ENGLAND if level == Level.NATIONAL else code,
                area_name=place,
                measure=DSG_MEASURE,
                period=row["time_period"],
                period_type=Period.FINANCIAL,
                value=value,
                status=status,
                by_name=True,
            )
        )
    if not parsed.figures:
        raise BadFile(f"{name}: no rows under the header.")
    _check_unique(name, parsed.figures)
    return parsed


# Area SEND inspections -------------------------------------------------------------

INSPECTIONS_2016_COLUMNS = [
    "Web link to Ofsted local authority webpage",
    "Local authority code",
    "Area name",
    "Ofsted region",
    "Inspection start date",
    "Inspection publication date",
    "Inspection outcome: written statement of action required?",
    "Number significant weaknesses identified in written statement of action",
    "Revisit start date",
    "Revisit publication date",
    "Revisit outcome: sufficient progress in addressing all significant weaknesses?",
    "Number significant weaknesses where sufficient progress has been made",
    "Number significant weaknesses where sufficient progress has not been made",
]
INSPECTIONS_2023_COLUMNS = [
    "",
    "Link.to.report.webpage.for.the.local.authority.and.local.area.partnership",
    "Local.area.partnership",
    "Ofsted.region",
    "Inspection.start.date",
    "Inspection.publication.date",
    "Inspection.outcome",
    "Priority.action.plan.required.",
    "Number.of.areas.for.priority.action",
]
YES_NO = {"Yes": True, "No": False, "": None}


def _date(text, where, formats=("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")):
    for date_format in formats:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    raise BadFile(f"{where}: {text!r} is not a date.")


def _count(text, where):
    if text in ("", "NA"):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadFile(f"{where}: {text!r} is not a number.") from None
    if value != value.to_integral_value() or value < 0:
        raise BadFile(f"{where}: {text!r} is not a whole number.")
    return int(value)


def _columns(name, header, columns, rows):
    if header != columns:
        missing = [c for c in columns if c not in header]
        raise BadFile(
            f"{name}, line 1: the header must be the release's own"
            + (f"; missing {', '.join(missing)}." if missing else ", in its order.")
        )
    for line, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            raise BadFile(f"{name}, line {line}: expected {len(columns)} columns.")
        yield line, dict(zip(columns, (cell.strip() for cell in cells), strict=True))


def _yes_no(text, where):
    if text not in YES_NO:
        raise BadFile(f"{where}: {text!r} is not Yes or No.")
    return YES_NO[text]


def _inspections_2016(name, header, rows):
    parsed = Parsed(name, "inspections-2016", LAYOUTS["inspections-2016"][1])
    c = INSPECTIONS_2016_COLUMNS
    for line, row in _columns(name, header, c, rows):
        where = f"{name}, line {line}"
        required = _yes_no(row[c[6]], where)
        revisit = row[c[10]]
        if not revisit and row[c[8]] == "Not revisited yet":
            revisit = "Not revisited yet"
        parsed.inspections.append(
            InspectionRow(
                framework=Inspection.Framework.FRAMEWORK_2016,
                area_code=row[c[1]] or row[c[2]],
                area_name=row[c[2]],
                started=_date(row[c[4]], where),
                published=_date(row[c[5]], where) if row[c[5]] else None,
                outcome="",
                action_required=required,
                action_areas=_count(row[c[7]], where),
                revisit_outcome=revisit,
                gss_code=row[c[1]],
            )
        )
    if not parsed.inspections:
        raise BadFile(f"{name}: no inspections under the header.")
    _check_unique(name, parsed.inspections)
    return parsed


def _inspections_2023(name, header, rows):
    parsed = Parsed(name, "inspections-2023", LAYOUTS["inspections-2023"][1])
    c = INSPECTIONS_2023_COLUMNS
    for line, row in _columns(name, header, c, rows):
        where = f"{name}, line {line}"
        parsed.inspections.append(
            InspectionRow(
                framework=Inspection.Framework.FRAMEWORK_2023,
                area_code=row[c[2]],
                area_name=row[c[2]],
                started=_date(row[c[4]], where, ("%d/%m/%Y",)),
                published=_date(row[c[5]], where, ("%d/%m/%Y",)) if row[c[5]] else None,
                outcome=row[c[6]],
                action_required=_yes_no(row[c[7]], where),
                action_areas=_count(row[c[8]], where),
                revisit_outcome="",
            )
        )
    if not parsed.inspections:
        raise BadFile(f"{name}: no inspections under the header.")
    _check_unique(name, parsed.inspections)
    return parsed
