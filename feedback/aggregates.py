"""Feedback aggregates with small-number suppression.

Any figure drawn from fewer than SMALL_NUMBER submissions shows as "fewer
than 5" to everyone but national officers, so nobody can work out who said
what from a page or an export. The figures are computed in Python from one
query's rows: the multi-choice answers are JSON lists, which SQLite and
PostgreSQL count differently (counting them in SQL portably, as the JSON
text holding each value, measured slower than this on a region's 22,000
submissions). The overview's figures for every authority are counted in
SQL: a median is PostgreSQL's percentile_cont, or on SQLite, which has
none, worked out exactly from how many submissions gave each number of
weeks (at most MAX_WAIT_WEEKS + 1 rows an authority).
"""

import statistics
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connections
from django.db.models import Aggregate, Count, Exists, FloatField, OuterRef
from django.urls import reverse
from django.utils import timezone

from authorities.access import AuthorityAccess, Role
from authorities.caching import cached

from .models import (  # SMALL_NUMBER, FEWER and term_of: read from here by the pages
    FEWER,
    SMALL_NUMBER,
    Barrier,
    FeedbackEvidence,
    FeedbackSubmission,
    HealthCosts,
    Practice,
    Pressure,
    Stance,
    term_of,
)


class Line(NamedTuple):
    label: str
    text: str


class TermLine(NamedTuple):
    label: str
    submissions: str
    people: str
    assessment_wait: str


class AuthorityLine(NamedTuple):
    name: str
    slug: str
    submissions: str
    people: str


def _percent(part, whole):
    return f"{round(100 * part / whole)}%"


def summarise(submissions, *, reveal_small_numbers, by_authority=False):
    """The aggregates of `submissions` (withdrawn ones left out), read in
    one query however many there are."""
    rows = submissions.active().values_list(*FeedbackSummary.COLUMNS)
    return FeedbackSummary(
        rows, reveal_small_numbers=reveal_small_numbers, by_authority=by_authority
    )


class FeedbackSummary:
    """What the authority and region pages show about feedback."""

    # The values each submission contributes, in FeedbackSummary's order.
    COLUMNS = (
        "authority__name",
        "authority__slug",
        "meeting_date",
        "people_count",
        "assessment_wait_weeks",
        "support_wait_weeks",
        "health_care_costs",
        "pressures",
        "barriers",
        "practices",
    )

    place = ""  # the authority or region, for the page
    add_url = ""  # where this person gives feedback for it, if they may

    def __init__(self, rows, *, reveal_small_numbers, by_authority=False):
        self.reveal_small_numbers = reveal_small_numbers
        rows = list(rows)
        self.count = len(rows)
        # Too few to show anything but that there are few.
        self.withheld = 0 < self.count < SMALL_NUMBER and not reveal_small_numbers
        # Whether a person who is not a national officer would see less.
        self.has_small_numbers = False
        self.submissions = self._count(self.count)
        self.people = self._shown(self.count, lambda: f"{sum(r[3] for r in rows):,}")
        self.assessment_wait = self._wait([r[4] for r in rows])
        self.support_wait = self._wait([r[5] for r in rows])
        self.health_care = self._health_care([r[6] for r in rows])
        self.pressures = self._frequencies(rows, 7, Pressure)
        self.barriers = self._frequencies(rows, 8, Barrier)
        self.practices = self._frequencies(rows, 9, Practice)
        self.terms = self._terms(rows)
        self.authorities = self._authorities(rows) if by_authority else []

    # Suppression ------------------------------------------------------------

    def _shown(self, base, text):
        """`text()` if `base` submissions are enough (or for national
        officers), else FEWER. None comes from no submissions: "None"."""
        if base == 0:
            return "None"
        if base < SMALL_NUMBER:
            self.has_small_numbers = True
            if not self.reveal_small_numbers:
                return FEWER
        return text()

    def _count(self, n):
        return self._shown(n, lambda: f"{n:,}")

    # Figures ----------------------------------------------------------------

    def _wait(self, weeks):
        weeks = [w for w in weeks if w is not None]
        if not weeks:
            return "Not given"

        def text():
            median = statistics.median(weeks)
            return (
                f"{median:g} weeks (median); from {min(weeks)} to {max(weeks)} weeks, "
                f"in {len(weeks):,} submissions"
            )

        return self._shown(len(weeks), text)

    def _health_care(self, answers):
        """The share of submissions that answered (not "not known") saying
        health and social care do not meet the costs agreed in EHCPs."""
        answered = [a for a in answers if a != HealthCosts.NOT_KNOWN]
        counts = Counter(answered)
        if not answered:
            return "No submission has said"

        def text():
            no, partly = counts[HealthCosts.NO], counts[HealthCosts.PARTLY]
            n = len(answered)
            return (
                f"{_percent(no, n)} say they do not ({no:,} of {n:,} that answered); "
                f"{_percent(partly, n)} say only partly"
            )

        return self._shown(len(answered), text)

    def _frequencies(self, rows, column, choices):
        """How often each option is reported, most reported first."""
        counts = Counter(value for row in rows for value in set(row[column] or []))
        n = self.count
        lines = [
            Line(label, self._shown(n, lambda c=counts[value]: f"{c:,} ({_percent(c, n)})"))
            for value, label in choices.choices
        ]
        if n < SMALL_NUMBER and not self.reveal_small_numbers:
            return lines  # no order to give away
        order = {label: -counts[value] for value, label in choices.choices}
        return sorted(lines, key=lambda line: order[line.label])

    def _terms(self, rows):
        """Submissions, people and the median wait for an assessment, term by
        term, oldest first."""
        by_term = {}
        self.assessment_wait_weeks = []  # beside each line, see below
        for row in rows:
            key, label = term_of(row[2])
            by_term.setdefault(key, (label, []))[1].append(row)
        lines = []
        for _, (label, term_rows) in sorted(by_term.items()):
            n = len(term_rows)
            waits = [r[4] for r in term_rows if r[4] is not None]
            lines.append(
                TermLine(
                    label=label,
                    submissions=self._count(n),
                    people=self._shown(n, lambda rs=term_rows: f"{sum(r[3] for r in rs):,}"),
                    assessment_wait=self._shown(
                        len(waits), lambda w=waits: f"{statistics.median(w):g} weeks"
                    )
                    if waits
                    else "Not given",
                )
            )
            # The same median as a number, for charts; None where the line
            # shows no figure (suppressed, or no wait given).
            shown = waits and (len(waits) >= SMALL_NUMBER or self.reveal_small_numbers)
            self.assessment_wait_weeks.append(statistics.median(waits) if shown else None)
        return lines

    def _authorities(self, rows):
        by_authority = {}
        for row in rows:
            by_authority.setdefault((row[0], row[1]), []).append(row[3])
        return [
            AuthorityLine(
                name=name,
                slug=slug,
                submissions=self._count(len(people)),
                people=self._shown(len(people), lambda p=people: f"{sum(p):,}"),
            )
            for (name, slug), people in sorted(by_authority.items())
        ]

    def frequency_tables(self):
        return [
            ("Pressures reported", self.pressures),
            ("Barriers reported", self.barriers),
            ("Practices likely to be unlawful", self.practices),
        ]

    def overview(self):
        return [
            Line("Submissions", self.submissions),
            Line("People they speak for", self.people),
            Line("Wait for an EHC needs assessment", self.assessment_wait),
            Line("Wait for support to start", self.support_wait),
            Line("Health and social care meeting the costs agreed in EHCPs", self.health_care),
        ]


# The authority and region pages ---------------------------------------------


def authority_feedback(authority, user, roles):
    """The authority page's feedback figures (one query): `roles` are the
    person's roles over the authority (LocalAuthority.roles_of)."""
    reveal = Role.NATIONAL_OFFICER in roles
    # The same figures for everyone who may (or may not) see small numbers,
    # so they are cached once for each, until the data next changes.
    summary = cached(
        "authority-feedback",
        None,
        (authority.pk, reveal),
        lambda: summarise(
            FeedbackSubmission.objects.filter(authority=authority), reveal_small_numbers=reveal
        ),
        today=timezone.localdate(),
    )
    summary.place = authority.name
    summary.add_url = (
        reverse("feedback:add", kwargs={"slug": authority.slug})
        if AuthorityAccess(frozenset(roles)).can_submit_feedback
        else ""
    )
    return summary


def region_feedback(region, user):
    """The region page's feedback figures, with a line per authority."""
    reveal = user.has_national_scope
    summary = cached(
        "region-feedback",
        None,
        (region.pk, reveal),
        lambda: summarise(
            FeedbackSubmission.objects.filter(authority__region=region),
            reveal_small_numbers=reveal,
            by_authority=True,
        ),
        today=timezone.localdate(),
    )
    summary.place = region.name
    summary.add_url = ""  # feedback is given for an authority
    return summary


class Median(Aggregate):
    """PostgreSQL's median (percentile_cont: the mean of the middle two of
    an even number, as statistics.median)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _as_median(n, value):
    """percentile_cont's double as statistics.median gives it: a whole
    number of weeks for an odd count, a float for an even one."""
    return int(value) if n % 2 else float(value)


def medians(submissions, field, *group):
    """{group values: (submissions, how many of them gave `field`, their
    median or None)} over `submissions` grouped by `group` (field names), in
    one query: percentile_cont on PostgreSQL, else from how many gave each
    value."""
    submissions = submissions.order_by()
    if connections[submissions.db].vendor == "postgresql":
        rows = submissions.values_list(*group).annotate(
            n=Count("pk"), given=Count(field), median=Median(field)
        )
        return {
            tuple(key): (n, given, _as_median(given, median) if given else None)
            for *key, n, given, median in rows
        }
    counted = {}
    for *key, value, times in submissions.values_list(*group, field).annotate(n=Count("pk")):
        counted.setdefault(tuple(key), []).append((value, times))
    found = {}
    for key, values in counted.items():
        given = [(value, times) for value, times in values if value is not None]
        n = sum(times for _, times in values)
        found[key] = (n, *_median_of(given)) if given else (n, 0, None)
    return found


def _median_of(histogram):
    """(n, median) of the numbers given as [(value, how many times)]."""
    histogram = sorted(histogram)
    n = sum(times for _, times in histogram)

    def at(position):
        seen = 0
        for value, times in histogram:
            seen += times
            if position < seen:
                return value
        raise IndexError(position)

    if n % 2:
        return n, at(n // 2)
    return n, (at(n // 2 - 1) + at(n // 2)) / 2


class AuthorityFigures(NamedTuple):
    """One authority's line in the overview table: a number where it may be
    shown, else FEWER. `assessment_wait` is the median wait in weeks, None
    when no submission gave one."""

    submissions: int | str
    assessment_wait: float | str | None


NO_FEEDBACK = AuthorityFigures(0, None)


def figures_by_authority(submissions, *, reveal_small_numbers):
    """{authority id: AuthorityFigures} for the authorities of `submissions`
    (withdrawn ones left out), in one query however many there are. The
    same rule as FeedbackSummary: a figure from fewer than SMALL_NUMBER
    submissions is FEWER unless `reveal_small_numbers`; authorities with no
    submission are absent (NO_FEEDBACK)."""

    def shown(base, value):
        return value if base >= SMALL_NUMBER or reveal_small_numbers else FEWER

    return {
        authority_id: AuthorityFigures(
            submissions=shown(n, n),
            assessment_wait=shown(given, median) if given else None,
        )
        for (authority_id,), (n, given, median) in medians(
            submissions.active(), "assessment_wait_weeks", "authority_id"
        ).items()
    }


# Evidence on plans' checklists --------------------------------------------


def evidence_text(counts, *, reveal_small_numbers):
    """ "Member feedback: 6 supporting, fewer than 5 contradicting" from
    {stance: n}; "" when there is none."""
    parts = []
    for stance, word in ((Stance.SUPPORTS, "supporting"), (Stance.CONTRADICTS, "contradicting")):
        n = counts.get(stance, 0)
        if n:
            shown = n if reveal_small_numbers or n >= SMALL_NUMBER else FEWER
            parts.append(f"{shown} {word}")
    return f"Member feedback: {', '.join(parts)}" if parts else ""


def evidence_by_question(plan, access):
    """{question id: evidence_text} for a plan's checklist, in one query."""
    reveal = Role.NATIONAL_OFFICER in access.roles
    counts = FeedbackEvidence.objects.for_plan(plan).counts_by_question()
    return {
        question_id: evidence_text(by_stance, reveal_small_numbers=reveal)
        for question_id, by_stance in counts.items()
    }


@dataclass
class QuestionEvidence:
    """What a checklist question's page shows about feedback linked to it."""

    text: str
    items: list  # the links whose submission this person may read
    link_url: str  # where to link more, or "" for those who may not


def question_evidence(*, plan, question, user, access):
    """Counts for everyone in scope, the links themselves for those who may
    read the submissions, in one query."""
    readable = FeedbackSubmission.objects.for_user(user).filter(pk=OuterRef("submission_id"))
    rows = list(
        FeedbackEvidence.objects.for_plan(plan)
        .filter(question=question)
        .select_related("submission")
        .annotate(readable=Exists(readable))
    )
    return QuestionEvidence(
        text=evidence_text(
            Counter(row.stance for row in rows),
            reveal_small_numbers=Role.NATIONAL_OFFICER in access.roles,
        ),
        items=[row for row in rows if row.readable],
        link_url=reverse("feedback:link", kwargs={"pk": plan.pk, "key": question.key})
        if access.can_contribute
        else "",
    )
