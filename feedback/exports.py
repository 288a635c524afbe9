"""The CSV export of feedback submissions.

Two ways to the same bytes: on PostgreSQL the database writes the rows itself
(COPY ... TO STDOUT WITH CSV), every cell made in SQL, several times faster
than Python at 100,000 rows; elsewhere (SQLite) Python writes them from plain
values. tests/test_feedback.py holds the two to the same output.
"""

import csv
import datetime
import json
from contextlib import nullcontext

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Case, F, Func, Q, TextField, Value, When
from django.db.models.functions import Concat, NullIf, TruncDate
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


def filters_in_words(stored):
    """A download's recorded filters (`FeedbackExport.filters`, as JSON
    text) in words, for the audit trail."""
    try:
        filters = json.loads(stored) or {}
    except ValueError:
        return stored
    if isinstance(filters, str):  # stored as JSON text within JSON
        return filters
    chosen = ", ".join(f"{name} {value}" for name, value in filters.items())
    return f"Filtered by {chosen}" if chosen else "All feedback the person could read"


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


# The same cells in SQL, for PostgreSQL's COPY. Free text is neutralised as
# in neutralise() (the regular expression's \t and \r are tab and carriage
# return); cells made of the form's labels need not be, as no label starts
# like a formula (a test holds them to that). Empty text is NULL: COPY writes
# NULL as nothing, as Python's csv module writes "" and None, but "" as "".
class _Neutralised(Func):
    template = r"regexp_replace(%(expressions)s, '^([-=+@\t\r])', '''\1')"
    output_field = TextField()


def _or_null(expression):
    return NullIf(expression, Value(""), output_field=TextField())


def _text_sql(expression):
    return _or_null(_Neutralised(expression))


def _choice_sql(field, choices):
    return Case(
        *(When(**{field: value}, then=Value(label)) for value, label in choices.choices),
        output_field=TextField(),
    )


def _joined_sql(*cells):
    """The cells that are not NULL, joined with "; " (CONCAT_WS skips NULLs)."""
    return _or_null(
        Func(*cells, template="CONCAT_WS('; ', %(expressions)s)", output_field=TextField())
    )


def _labels_sql(field, choices):
    # has_key is jsonb's "?": a string element of the list, and quicker than
    # containment (@>) at 100,000 rows.
    return _joined_sql(
        *(
            Case(When(**{f"{field}__has_key": value}, then=Value(label)), output_field=TextField())
            for value, label in choices.choices
        )
    )


def _practices_sql():
    cells = []
    for practice in Practice:
        example = PRACTICE_EXAMPLES[practice]
        with_example = Case(
            When(~Q(**{example: ""}), then=Concat(Value(f"{practice.label}: "), F(example))),
            default=Value(practice.label),
            output_field=TextField(),
        )
        cells.append(
            Case(
                When(practices__has_key=practice.value, then=with_example),
                output_field=TextField(),
            )
        )
    return _joined_sql(*cells)


def _iso_date_sql(expression):
    return Func(
        expression, template="to_char(%(expressions)s, 'YYYY-MM-DD')", output_field=TextField()
    )


# (heading, fields read, how Python makes the cell from them, the cell in
# SQL). Python reads plain values, not model instances: at 100,000 rows
# building objects and looking up choice labels one by one was most of its
# time.
_COLUMNS = [
    ("Reference", ("pk",), None, F("pk")),
    ("Authority", ("authority__name",), None, _text_sql(F("authority__name"))),
    ("DfE LA code", ("authority__la_code",), None, _text_sql(F("authority__la_code"))),
    ("Region", ("authority__region__name",), None, _text_sql(F("authority__region__name"))),
    ("From", ("source",), _choice(Source), _choice_sql("source", Source)),
    ("Setting phases", ("phases",), _labels(Phase), _labels_sql("phases", Phase)),
    ("People it speaks for", ("people_count",), None, F("people_count")),
    (
        "Date of the meeting",
        ("meeting_date",),
        datetime.date.isoformat,
        _iso_date_sql(F("meeting_date")),
    ),
    ("Pressures", ("pressures",), _labels(Pressure), _labels_sql("pressures", Pressure)),
    ("Other pressures", ("pressures_other",), None, _text_sql(F("pressures_other"))),
    ("What is working well", ("working_well",), None, _text_sql(F("working_well"))),
    ("Barriers", ("barriers",), _labels(Barrier), _labels_sql("barriers", Barrier)),
    ("Other barriers", ("barriers_other",), None, _text_sql(F("barriers_other"))),
    (
        "Wait for an EHC needs assessment (weeks)",
        ("assessment_wait_weeks",),
        None,
        F("assessment_wait_weeks"),
    ),
    ("Wait for support to start (weeks)", ("support_wait_weeks",), None, F("support_wait_weeks")),
    (
        "Health and social care meet EHCP costs",
        ("health_care_costs",),
        _choice(HealthCosts),
        _choice_sql("health_care_costs", HealthCosts),
    ),
    (
        "Practices reported",
        ("practices", *(PRACTICE_EXAMPLES[practice] for practice in Practice)),
        _practices,
        _practices_sql(),
    ),
    (
        "National office may use it",
        ("consent_to_share",),
        {True: "Yes", False: "No"}.get,
        Case(
            When(consent_to_share=True, then=Value("Yes")),
            default=Value("No"),
            output_field=TextField(),
        ),
    ),
    (
        "Submitted",
        ("submitted_at",),
        lambda moment: timezone.localdate(moment).isoformat(),
        # The day in the site's time zone, as timezone.localdate() gives.
        _iso_date_sql(TruncDate("submitted_at")),
    ),
]
_SUBMITTER = (
    "Submitted by",
    ("submitted_by__email",),
    lambda email: email or "",
    _text_sql(F("submitted_by__email")),
)
ORDER = ("authority__name", "meeting_date", "pk")
ROWS_PER_CHUNK = 200  # lines handed to the server at a time (Python)
BYTES_PER_CHUNK = 64 * 1024  # the same, from PostgreSQL's COPY


def columns(*, with_submitters):
    """The export's columns; who submitted only for those who may see it."""
    return [*_COLUMNS, _SUBMITTER] if with_submitters else list(_COLUMNS)


def csv_lines(submissions, *, with_submitters):
    """The submissions as CSV, streamed in chunks of lines, so a large export
    is never built in memory. Lines end in "\n", as PostgreSQL's COPY ends
    them."""
    chosen = columns(with_submitters=with_submitters)
    yield _writer().writerow([column[0] for column in chosen])
    if connection.vendor == "postgresql":
        yield from copied_lines(submissions, chosen)
    else:
        yield from written_lines(submissions, chosen)


def _writer():
    return csv.writer(_Echo(), lineterminator="\n")


def copied_lines(submissions, columns):
    """The rows as PostgreSQL writes them: the cells made in SQL, in one
    COPY of the scoped, ordered query."""
    cells = {f"cell_{n}": column[3] for n, column in enumerate(columns)}
    rows = submissions.annotate(**cells).order_by(*ORDER).values_list(*cells)
    sql, params = rows.query.sql_with_params()
    copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        # A COPY does not pass through the cursor's execute(): recorded here
        # as any other query is, when queries are recorded (DEBUG, tests).
        recorded = (
            cursor.debug_sql(copy_sql, params)
            if isinstance(cursor, CursorDebugWrapper)
            else nullcontext()
        )
        # Django's PostgreSQL cursors bind parameters on the client, which
        # COPY needs (the server takes none in a COPY).
        with recorded, cursor.cursor.copy(copy_sql, params) as copy:
            chunk, size = [], 0
            for data in copy:
                chunk.append(bytes(data))
                size += len(data)
                if size >= BYTES_PER_CHUNK:
                    yield b"".join(chunk)
                    chunk, size = [], 0
            if chunk:
                yield b"".join(chunk)


def written_lines(submissions, columns):
    """The rows as Python writes them, from plain values."""
    writer = _writer()
    fields = [field for _, names, _, _ in columns for field in names]
    # Where each column's fields sit in a row, and how to make its cell.
    cells = []
    position = 0
    for _, names, make, _ in columns:
        cells.append((position, len(names), make))
        position += len(names)
    rows = submissions.order_by(*ORDER).values_list(*fields)
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
