"""Counts of feedback that add up: everything the pages show about an
authority's, a region's or England's feedback, kept as sums and histograms
that can be added together without going back to the submissions.

Every figure the pages show is one of these: how many submissions, how many
people they speak for, how often each option was ticked (each once a
submission), and the median, lowest and highest of a wait, which a
histogram ({weeks: how many submissions}) gives exactly. So the counts of
each authority and school term are kept (FeedbackTally, maintained in the
transaction that changes a submission), and a page adds up the ones it
needs: 153 authorities' terms are a few hundred small rows, where their
submissions are a hundred thousand.

Pure Python, with no model: the models, the aggregates and the migration
that first filled the tallies all count with it.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

# The values each submission contributes, in Counts.add's order.
COUNTED_FIELDS = (
    "people_count",
    "assessment_wait_weeks",
    "support_wait_weeks",
    "health_care_costs",
    "pressures",
    "barriers",
    "practices",
    "phases",
    "meeting_date",
)
# The multiple-choice answers, counted once a submission for each option.
CHOICE_FIELDS = ("pressures", "barriers", "practices")

# The briefing's section 7 asks about special schools beside mainstream
# ones: each setting phase (feedback.models.Phase) falls in one of three
# groups, and this is the one place that says which. A submission is
# counted once in each group its phases fall in; one that names no phase
# is in none.
SPECIAL, MAINSTREAM, OTHER = "special", "mainstream", "other"
PHASE_GROUPS = {
    "special": SPECIAL,
    "primary": MAINSTREAM,
    "secondary": MAINSTREAM,
    "all_through": MAINSTREAM,
    "early_years": OTHER,
    "alternative_provision": OTHER,
    "post_16": OTHER,
}


def phase_groups(phases):
    """The groups (PHASE_GROUPS) a submission's phases fall in, each once."""
    return {PHASE_GROUPS[phase] for phase in phases or [] if phase in PHASE_GROUPS}


def median(histogram):
    """The median of the numbers in `histogram` ({value: times}), as
    statistics.median gives it: a value for an odd count, the mean of the
    middle two (a float) for an even one; None for none."""
    n = sum(histogram.values())
    if not n:
        return None

    def at(position):
        seen = 0
        for value in sorted(histogram):
            seen += histogram[value]
            if position < seen:
                return value
        raise IndexError(position)

    if n % 2:
        return at(n // 2)
    return (at(n // 2 - 1) + at(n // 2)) / 2


@dataclass
class Counts:
    """The sums of some submissions (only active ones are ever added)."""

    submissions: int = 0
    people: int = 0
    assessment_waits: Counter = field(default_factory=Counter)  # {weeks: submissions}
    support_waits: Counter = field(default_factory=Counter)
    health_care_costs: Counter = field(default_factory=Counter)  # {answer: submissions}
    pressures: Counter = field(default_factory=Counter)  # {option: submissions ticking it}
    barriers: Counter = field(default_factory=Counter)
    practices: Counter = field(default_factory=Counter)
    # {group: the Counts of the submissions naming a phase in it}, so every
    # figure can be given group by group; the groups' own Counts have none.
    phase_groups: dict = field(default_factory=dict)
    # The latest meeting that gave a wait for an assessment: when a rise in
    # the waits was last seen (feedback.models.WaitRise).
    latest_wait_on: date | None = None

    def add(self, people, assessment_wait, support_wait, health_care, *choices_and_date):
        """One submission's values, in COUNTED_FIELDS' order."""
        *choices, phases, meeting_date = choices_and_date
        self.submissions += 1
        self.people += people
        if assessment_wait is not None:
            self.assessment_waits[assessment_wait] += 1
            if self.latest_wait_on is None or meeting_date > self.latest_wait_on:
                self.latest_wait_on = meeting_date
        if support_wait is not None:
            self.support_waits[support_wait] += 1
        self.health_care_costs[health_care] += 1
        for name, ticked in zip(CHOICE_FIELDS, choices, strict=True):
            getattr(self, name).update(set(ticked or []))
        for group in phase_groups(phases):
            in_group = self.phase_groups.setdefault(group, Counts())
            in_group.add(
                people, assessment_wait, support_wait, health_care, *choices, [], meeting_date
            )
            in_group.latest_wait_on = None  # not kept for a group (as_fields)

    def add_some(self, other, *names):
        """Add `other`'s submissions and people, and of its histograms and
        counts only those `names`: for a figure that shows no more (a line
        a term or an authority), without adding up all the rest."""
        self.submissions += other.submissions
        self.people += other.people
        for name in names:
            getattr(self, name).update(getattr(other, name))
        return self

    def __iadd__(self, other):
        self.add_some(
            other, "assessment_waits", "support_waits", "health_care_costs", *CHOICE_FIELDS
        )
        for group, counts in other.phase_groups.items():
            self.phase_groups.setdefault(group, Counts())
            self.phase_groups[group] += counts
        if other.latest_wait_on and (
            self.latest_wait_on is None or other.latest_wait_on > self.latest_wait_on
        ):
            self.latest_wait_on = other.latest_wait_on
        return self

    @classmethod
    def total(cls, many):
        found = cls()
        for counts in many:
            found += counts
        return found

    # As stored (FeedbackTally): JSON objects, whose keys are strings.

    HISTOGRAMS = ("assessment_waits", "support_waits")

    def as_fields(self):
        # A group's counts are stored whole but for the date (JSON has none,
        # and only the authority's own latest wait is ever read).
        groups = {
            group: {k: v for k, v in counts.as_fields().items() if k in GROUP_FIELDS}
            for group, counts in sorted(self.phase_groups.items())
        }
        return {
            "submissions": self.submissions,
            "people": self.people,
            **{
                name: {str(k): n for k, n in sorted(getattr(self, name).items())}
                for name in self.HISTOGRAMS
            },
            **{
                name: dict(sorted(getattr(self, name).items()))
                for name in ("health_care_costs", *CHOICE_FIELDS)
            },
            "latest_wait_on": self.latest_wait_on,
            "phase_groups": groups,
        }

    @classmethod
    def from_fields(
        cls,
        submissions,
        people,
        assessment_waits,
        support_waits,
        health_care_costs,
        pressures,
        barriers,
        practices,
        latest_wait_on,
        phase_groups,
    ):
        """From a FeedbackTally's columns, in STORED_FIELDS' order."""
        return cls(
            submissions=submissions,
            people=people,
            assessment_waits=histogram(assessment_waits),
            support_waits=histogram(support_waits),
            health_care_costs=Counter(health_care_costs),
            pressures=Counter(pressures),
            barriers=Counter(barriers),
            practices=Counter(practices),
            latest_wait_on=latest_wait_on,
            phase_groups={
                group: cls.from_fields(**fields, latest_wait_on=None, phase_groups={})
                for group, fields in phase_groups.items()
            },
        )


def histogram(stored):
    """A histogram as stored, {"weeks": submissions}, as a Counter of weeks."""
    return Counter({int(weeks): n for weeks, n in stored.items()})


# FeedbackTally's columns that Counts.from_fields takes.
STORED_FIELDS = (
    "submissions",
    "people",
    "assessment_waits",
    "support_waits",
    "health_care_costs",
    "pressures",
    "barriers",
    "practices",
    "latest_wait_on",
    "phase_groups",
)
# What a phase group's Counts keep (FeedbackTally.phase_groups).
GROUP_FIELDS = STORED_FIELDS[:8]


def term_key(day):
    """(year, term) of the school term `day` falls in: spring 1 (January
    to April), summer 2 (May to August), autumn 3 (September to December)."""
    return day.year, 3 if day.month >= 9 else 2 if day.month >= 5 else 1


TERM_NAMES = {1: "Spring", 2: "Summer", 3: "Autumn"}
TERM_STARTS = {1: 1, 2: 5, 3: 9}  # months


def term_label(key):
    year, term = key
    return f"{TERM_NAMES[term]} {year}"


def term_dates(key):
    """The first and last day of a term."""
    year, term = key
    start = date(year, TERM_STARTS[term], 1)
    end = date(year + 1, 1, 1) if term == 3 else date(year, TERM_STARTS[term + 1], 1)
    return start, date.fromordinal(end.toordinal() - 1)


def count_by_term(rows):
    """{(*leading, (year, term)): Counts} from rows of (*leading,
    *COUNTED_FIELDS values): each submission counted in the term of its
    meeting, beside whatever leads its row (an authority's id, say)."""
    found = {}
    width = len(COUNTED_FIELDS)
    for row in rows:
        leading, values = row[:-width], row[-width:]
        key = (*leading, term_key(values[-1]))
        found.setdefault(key, Counts()).add(*values)
    return found
