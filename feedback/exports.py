"""The CSV export of feedback submissions."""

import csv

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


def csv_lines(submissions, *, with_submitters):
    """The submissions as CSV lines, read in chunks so a large export is
    streamed rather than built in memory."""
    columns = [
        ("Reference", lambda s: s.pk),
        ("Authority", lambda s: s.authority.name),
        ("DfE LA code", lambda s: s.authority.la_code),
        ("Region", lambda s: s.authority.region.name),
        ("From", lambda s: s.get_source_display()),
        ("Setting phases", lambda s: "; ".join(s.phase_labels())),
        ("People it speaks for", lambda s: s.people_count),
        ("Date of the meeting", lambda s: s.meeting_date.isoformat()),
        ("Pressures", lambda s: "; ".join(s.pressure_labels())),
        ("Other pressures", lambda s: s.pressures_other),
        ("What is working well", lambda s: s.working_well),
        ("Barriers", lambda s: "; ".join(s.barrier_labels())),
        ("Other barriers", lambda s: s.barriers_other),
        ("Wait for an EHC needs assessment (weeks)", lambda s: s.assessment_wait_weeks),
        ("Wait for support to start (weeks)", lambda s: s.support_wait_weeks),
        ("Health and social care meet EHCP costs", lambda s: s.get_health_care_costs_display()),
        (
            "Practices reported",
            lambda s: "; ".join(
                f"{label}: {example}" if example else label
                for label, example in s.reported_practices()
            ),
        ),
        ("National office may use it", lambda s: "Yes" if s.consent_to_share else "No"),
        ("Submitted", lambda s: s.submitted_at.date().isoformat()),
    ]
    if with_submitters:
        columns.append(("Submitted by", lambda s: s.submitted_by.email if s.submitted_by else ""))
    writer = csv.writer(_Echo())
    yield writer.writerow([title for title, _ in columns])
    rows = submissions.select_related("authority__region", "submitted_by").order_by(
        "authority__name", "meeting_date", "pk"
    )
    for submission in rows.iterator(chunk_size=500):
        yield writer.writerow([neutralise(value(submission)) for _, value in columns])
