"""Feedback aggregates with small-number suppression.

Any figure drawn from fewer than SMALL_NUMBER submissions shows as "fewer
than 5" to everyone but national officers, so nobody can work out who said
what from a page or an export.

The pages add up FeedbackTally rows, each authority's counts for a school
term, kept in step with the submissions (feedback/tallies.py), and a
region's page each authority's FeedbackTotal (its tallies added up, kept
with them): a few dozen rows where its submissions are tens of thousands,
and a median comes exactly from a histogram of the waits, the same on
PostgreSQL and SQLite. summarise() counts a set of submissions itself, in
the same way, for any set no tally covers.
"""

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Exists, OuterRef
from django.urls import reverse

from authorities.access import AuthorityAccess, in_scope

from .models import (  # SMALL_NUMBER and FEWER: read from here by the pages
    FEWER,
    SMALL_NUMBER,
    Barrier,
    FeedbackEvidence,
    FeedbackSubmission,
    FeedbackTally,
    FeedbackTotal,
    HealthCosts,
    PhaseGroup,
    Practice,
    Pressure,
    Stance,
)
from .tallies import COUNTED_FIELDS, Counts, count_by_term, median, term_label


class Line(NamedTuple):
    label: str
    text: str


class TermLine(NamedTuple):
    label: str
    submissions: str
    people: str
    assessment_wait: str


class PhaseLine(NamedTuple):
    """The briefing's section 7 breakdown: one phase group's figures."""

    label: str
    submissions: str
    people: str
    assessment_wait: str
    health_care: str


class AuthorityLine(NamedTuple):
    name: str
    slug: str
    submissions: str
    people: str


def _percent(part, whole):
    return f"{round(100 * part / whole)}%"


def summarise(submissions, *, reveal_small_numbers):
    """The aggregates of `submissions` (withdrawn ones left out), counted
    from one query's rows: for a set of submissions no tally covers (the
    pages read FeedbackTally instead, summary_of)."""
    rows = submissions.active().values_list("authority__name", "authority__slug", *COUNTED_FIELDS)
    parts = [
        (name, slug, term, counts) for (name, slug, term), counts in count_by_term(rows).items()
    ]
    return FeedbackSummary.of_parts(parts, reveal_small_numbers=reveal_small_numbers)


def summary_of(tallies, *, reveal_small_numbers):
    """The aggregates of the FeedbackTally rows `tallies`, in one query."""
    return FeedbackSummary.of_parts(tallies.parts(), reveal_small_numbers=reveal_small_numbers)


class FeedbackSummary:
    """What the authority and region pages show about feedback, from the
    counts of each authority and term (feedback/tallies.py): `total`, the
    Counts of all of it; `terms`, [((year, term), Counts)], of which a line
    a term shows the submissions, people and assessment waits; and
    `authorities`, [(name, slug, Counts)] for a line an authority (its
    submissions and people), or None for none."""

    place = ""  # the authority or region, for the page
    add_url = ""  # where this person gives feedback for it, if they may

    def __init__(self, total, terms, authorities=None, *, reveal_small_numbers):
        self.reveal_small_numbers = reveal_small_numbers
        self.count = total.submissions
        # Too few to show anything but that there are few.
        self.withheld = 0 < self.count < SMALL_NUMBER and not reveal_small_numbers
        # Whether a person who is not a national officer would see less.
        self.has_small_numbers = False
        self.submissions = self._count(self.count)
        self.people = self._shown(self.count, lambda: f"{total.people:,}")
        self.assessment_wait = self._wait(total.assessment_waits)
        self.support_wait = self._wait(total.support_waits)
        self.health_care = self._health_care(total.health_care_costs)
        self.pressures = self._frequencies(total.pressures, Pressure)
        self.barriers = self._frequencies(total.barriers, Barrier)
        self.practices = self._frequencies(total.practices, Practice)
        self.terms = self._terms(terms)
        self.phase_groups = self._phase_groups(total.phase_groups)
        self.authorities = self._authorities(authorities or [])

    @classmethod
    def of_parts(cls, parts, *, reveal_small_numbers):
        """From `parts`, [(authority name, slug, (year, term), Counts)], a
        whole Counts an authority and term, with no line an authority."""
        parts = list(parts)
        return cls(
            Counts.total(counts for *_, counts in parts),
            [(term, counts) for *_, term, counts in parts],
            reveal_small_numbers=reveal_small_numbers,
        )

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
        """From a histogram, {weeks: submissions}."""
        given = weeks.total()
        if not given:
            return "Not given"

        def text():
            return (
                f"{median(weeks):g} weeks (median); from {min(weeks)} to {max(weeks)} weeks, "
                f"in {given:,} submissions"
            )

        return self._shown(given, text)

    def _health_care(self, counts):
        """The share of submissions that answered (not "not known") saying
        health and social care do not meet the costs agreed in EHCPs."""
        answered = sum(n for answer, n in counts.items() if answer != HealthCosts.NOT_KNOWN)
        if not answered:
            return "No submission has said"

        def text():
            no, partly = counts[HealthCosts.NO], counts[HealthCosts.PARTLY]
            return (
                f"{_percent(no, answered)} say they do not ({no:,} of {answered:,} that "
                f"answered); {_percent(partly, answered)} say only partly"
            )

        return self._shown(answered, text)

    def _frequencies(self, counts, choices):
        """How often each option is reported, most reported first."""
        n = self.count
        lines = [
            Line(label, self._shown(n, lambda c=counts[value]: f"{c:,} ({_percent(c, n)})"))
            for value, label in choices.choices
        ]
        if n < SMALL_NUMBER and not self.reveal_small_numbers:
            return lines  # no order to give away
        order = {label: -counts[value] for value, label in choices.choices}
        return sorted(lines, key=lambda line: order[line.label])

    def _terms(self, terms):
        """Submissions, people and the median wait for an assessment, term by
        term, oldest first."""
        by_term = {}
        for term, counts in terms:
            by_term.setdefault(term, Counts()).add_some(counts, "assessment_waits")
        self.assessment_wait_weeks = []  # beside each line, see below
        lines = []
        for term, counts in sorted(by_term.items()):
            n, waits = counts.submissions, counts.assessment_waits
            given = waits.total()
            lines.append(
                TermLine(
                    label=term_label(term),
                    submissions=self._count(n),
                    people=self._shown(n, lambda c=counts: f"{c.people:,}"),
                    assessment_wait=self._shown(given, lambda w=waits: f"{median(w):g} weeks")
                    if given
                    else "Not given",
                )
            )
            # The same median as a number, for charts; None where the line
            # shows no figure (suppressed, or no wait given).
            shown = given and (given >= SMALL_NUMBER or self.reveal_small_numbers)
            self.assessment_wait_weeks.append(median(waits) if shown else None)
        return lines

    def _phase_groups(self, groups):
        """Special, mainstream and other settings, each from the submissions
        naming a phase in it (one may name several, so the groups may add up
        to more than the whole), with each figure suppressed on its own
        base as every other figure is."""
        lines = []
        for value, label in PhaseGroup.choices:
            counts = groups.get(value, Counts())
            n, waits = counts.submissions, counts.assessment_waits
            lines.append(
                PhaseLine(
                    label=label,
                    submissions=self._count(n),
                    people=self._shown(n, lambda c=counts: f"{c.people:,}"),
                    assessment_wait=self._shown(
                        waits.total(), lambda w=waits: f"{median(w):g} weeks"
                    )
                    if waits.total()
                    else "Not given",
                    health_care=self._health_care(counts.health_care_costs),
                )
            )
        return lines

    def _authorities(self, authorities):
        return [
            AuthorityLine(
                name=name,
                slug=slug,
                submissions=self._count(counts.submissions),
                people=self._shown(counts.submissions, lambda c=counts: f"{c.people:,}"),
            )
            for name, slug, counts in sorted(authorities, key=lambda line: line[:2])
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
    summary = summary_of(
        FeedbackTally.objects.filter(authority=authority),
        reveal_small_numbers=user.can_see_small_numbers,
    )
    summary.place = authority.name
    summary.add_url = (
        reverse("feedback:add", kwargs={"slug": authority.slug})
        if AuthorityAccess(frozenset(roles)).can_submit_feedback
        else ""
    )
    return summary


def region_feedback(region, user):
    """The region page's feedback figures, with a line per authority (two
    queries: the authorities' totals, and their tallies' lines a term)."""
    in_region = {"authority__region": region}
    lines = FeedbackTotal.objects.filter(**in_region).lines()
    summary = FeedbackSummary(
        Counts.total(counts for *_, counts in lines),
        FeedbackTally.objects.filter(**in_region).by_term(),
        lines,
        reveal_small_numbers=user.can_see_small_numbers,
    )
    summary.place = region.name
    summary.add_url = ""  # feedback is given for an authority
    return summary


def trust_feedback(trust, user):
    """A multi-academy trust's page: the figures of the feedback linked to
    it from authorities in the person's scope, counted from the submissions
    (no tally is kept by trust; a trust's are few), in one query."""
    linked = FeedbackSubmission.objects.filter(in_scope(user, "authority"), trust=trust)
    summary = summarise(linked, reveal_small_numbers=user.can_see_small_numbers)
    summary.place = trust.name
    return summary


class AuthorityFigures(NamedTuple):
    """One authority's line in the overview table: a number where it may be
    shown, else FEWER. `assessment_wait` is the median wait in weeks, None
    when no submission gave one."""

    submissions: int | str
    assessment_wait: float | str | None


NO_FEEDBACK = AuthorityFigures(0, None)


def figures_by_authority(tallies, *, reveal_small_numbers):
    """{authority id: AuthorityFigures} for the authorities of `tallies`
    (FeedbackTally rows), in one query however many submissions they count.
    The same rule as FeedbackSummary: a figure from fewer than SMALL_NUMBER
    submissions is FEWER unless `reveal_small_numbers`; authorities with no
    submission are absent (NO_FEEDBACK)."""

    def shown(base, value):
        return value if base >= SMALL_NUMBER or reveal_small_numbers else FEWER

    found = {}
    for authority_id, (submissions, waits) in tallies.submissions_and_waits().items():
        given = waits.total()
        found[authority_id] = AuthorityFigures(
            submissions=shown(submissions, submissions),
            assessment_wait=shown(given, median(waits)) if given else None,
        )
    return found


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


def evidence_by_question(plan, user):
    """{question id: evidence_text} for a plan's checklist, in one query."""
    reveal = user.can_see_small_numbers
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
            reveal_small_numbers=user.can_see_small_numbers,
        ),
        items=[row for row in rows if row.readable],
        link_url=reverse("feedback:link", kwargs={"pk": plan.pk, "key": question.key})
        if access.can_contribute
        else "",
    )
