"""The CSV export of feedback submissions."""

import csv
import datetime

from django.utils import timezone

from .models import (
    PRACTICE_EXAMPLES,
    Barrier,
    HealthCosts,
    Phase,
    Practice,
    Pressure,
    Source,
)

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell a spreadsheet will show as text, never run: text that starts
    like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


class _Echo:
    """csv.writer writes to this, and we hand each line on as it is made."""

    def write(self, value):
        return value


def _labels(choices):
    """A function from a list of chosen values to their labels, joined, in
    the order the form lists them."""
    order = [(value, label) for value, label in choices.choices]

    def join(chosen):
        chosen = set(chosen or ())
        return "; ".join(label for value, label in order if value in chosen)

    return join


def _choice(choices):
    """A function from a stored value to its label."""
    return dict(choices.choices).get


def _practices(chosen, *examples):
    """The practices reported, each with its example when there is one."""
    chosen = set(chosen or ())
    return "; ".join(
        f"{practice.label}: {example}" if example else practice.label
        for practice, example in zip(Practice, examples, strict=True)
        if practice.value in chosen
    )


# (heading, fields read, how the cell is made from them). The export reads
# plain values, not model instances: at 100,000 rows building objects and
# looking up choice labels one by one was most of its time.
_COLUMNS = [
    ("Reference", ("pk",), None),
    ("Authority", ("authority__name",), None),
    ("DfE LA code", ("authority__la_code",), None),
    ("Region", ("authority__region__name",), None),
    ("From", ("source",), _choice(Source)),
    ("Setting phases", ("phases",), _labels(Phase)),
    ("People it speaks for", ("people_count",), None),
    ("Date of the meeting", ("meeting_date",), datetime.date.isoformat),
    ("Pressures", ("pressures",), _labels(Pressure)),
    ("Other pressures", ("pressures_other",), None),
    ("What is working well", ("working_well",), None),
    ("Barriers", ("barriers",), _labels(Barrier)),
    ("Other barriers", ("barriers_other",), None),
    ("Wait for an EHC needs assessment (weeks)", ("assessment_wait_weeks",), None),
    ("Wait for support to start (weeks)", ("support_wait_weeks",), None),
    (
        "Health and social care meet EHCP costs",
        ("health_care_costs",),
        dict(HealthCosts.choices).get,
    ),
    (
        "Practices reported",
        ("practices", *(PRACTICE_EXAMPLES[practice] for practice in Practice)),
        _practices,
    ),
    ("National office may use it", ("consent_to_share",), {True: "Yes", False: "No"}.get),
    ("Submitted", ("submitted_at",), lambda moment: timezone.localdate(moment).isoformat()),
]
_SUBMITTER = ("Submitted by", ("submitted_by__email",), lambda email: email or "")
ROWS_PER_CHUNK = 200  # lines handed to the server at a time


def csv_lines(submissions, *, with_submitters):
    """The submissions as CSV, streamed in chunks of lines, so a large export
    is never built in memory."""
    columns = [*_COLUMNS, _SUBMITTER] if with_submitters else _COLUMNS
    fields = [field for _, names, _ in columns for field in names]
    # Where each column's fields sit in a row, and how to make its cell.
    cells = []
    position = 0
    for _, names, make in columns:
        cells.append((position, len(names), make))
        position += len(names)
    writer = csv.writer(_Echo())
    yield writer.writerow([heading for heading, _, _ in columns])
    rows = submissions.order_by("authority__name", "meeting_date", "pk").values_list(*fields)
    chunk = []
    for row in rows.iterator(chunk_size=2000):
        line = []
        for start, width, make in cells:
            if make is None:
                value = row[start]
            elif width == 1:
                value = make(row[start])
            else:
                value = make(*row[start : start + width])
            line.append(neutralise(value))
        chunk.append(writer.writerow(line))
        if len(chunk) == ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)
