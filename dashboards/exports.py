"""The overview table as CSV and as an Excel workbook (XLSX).

Both write Overview.export_table(): the page's columns (the region's too;
the checklist's "3 of 37" as two numbers, answered and questions, so a
spreadsheet can add them up), filters, sort and small-number suppression.
Text that a spreadsheet would run as a formula is neutralised
(feedback.exports.neutralise): a plan's round, say, is typed by a
representative.
"""

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from feedback.exports import neutralise

# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark;
# without it "£" in the headings arrives as "Â£".
BOM = "\ufeff"
POUNDS_FORMAT = '"£"#,##0.00'
DATE_FORMAT = "d mmm yyyy"


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"  # pounds and pence, whatever the database returns
    return neutralise(value)


def csv_lines(header, rows):
    """The table as CSV lines, one at a time, for a streamed response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for number, values in enumerate([header, *rows]):
        writer.writerow([_csv_value(value) for value in values])
        line = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        yield BOM + line if number == 0 else line


def xlsx_bytes(header, rows, *, title="Overview"):
    """The table as an XLSX workbook: numbers as numbers (pounds formatted
    as such), dates as dates, text neutralised. openpyxl's write-only mode
    keeps memory flat however many rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    pounds = {n for n, label in enumerate(header) if "(£)" in label}
    for values in rows:
        sheet.append([_xlsx_cell(sheet, value, n in pounds) for n, value in enumerate(values)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value, pounds):
    if isinstance(value, str):
        # openpyxl refuses control characters outright; a stray one in a
        # typed field must not turn an export into an error page.
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, Decimal) and pounds:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = POUNDS_FORMAT
        return cell
    return value
