"""One search box over what a person may read: authorities, plans,
meetings, actions, multi-academy trusts and feedback, each read through its model's `for_user`, so
a search never finds what the pages would not show its reader (a
confidential meeting, a submission they may not read one by one).

On PostgreSQL, full-text search (English stemming: "refusals" finds
"refused"), ranked by how well each record matches; elsewhere (SQLite) every
word must appear in one of the record's fields, newest first.
"""

import operator
import re
from dataclasses import dataclass, field
from functools import reduce

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q

from authorities.models import LocalAuthority, MultiAcademyTrust
from consultations.models import Action, Meeting
from feedback.models import FeedbackSubmission
from plans.models import Plan

# Each kind shows its best matches; the count says how many there are.
SHOWN = 10
SNIPPET = 160
# More words than this are not looked for (each is a condition on every field).
MOST_WORDS = 8


def words_of(text):
    return re.findall(r"\w+", text)[:MOST_WORDS]


@dataclass
class Hit:
    title: str
    url: str
    detail: str = ""


@dataclass
class Found:
    kind: str  # "Plans"
    count: int
    hits: list = field(default_factory=list)


@dataclass(frozen=True)
class Searched:
    """A kind of record, the fields its words are looked for in, the order
    without ranking, and how a match is shown."""

    kind: str
    rows: object  # (user) -> the records the person may read
    fields: tuple
    newest: tuple
    hit: object  # (record, words) -> Hit


def _snippet(record, fields, words):
    """The first stored text that holds one of the words, cut short."""
    for name in fields:
        if "__" in name:
            continue
        text = " ".join(str(getattr(record, name) or "").split())
        lowered = text.lower()
        at = min((lowered.find(w.lower()) for w in words if w.lower() in lowered), default=-1)
        if at >= 0:
            start = max(0, at - SNIPPET // 3)
            cut = text[start : start + SNIPPET]
            return ("…" if start else "") + cut + ("…" if start + SNIPPET < len(text) else "")
    return ""


PLAN_FIELDS = ("authority__name", "programme__name", "round_or_tranche", "summary", "status_note")
MEETING_FIELDS = ("authority__name", "title", "attendees", "summary", "decisions", "next_steps")
ACTION_FIELDS = ("authority__name", "title", "notes")
TRUST_FIELDS = ("name", "notes")
FEEDBACK_FIELDS = (
    "authority__name",
    "working_well",
    "pressures_other",
    "barriers_other",
    "bureaucratic_example",
    "refusing_example",
    "extra_information_example",
)

SEARCHED = (
    Searched(
        "Plans",
        lambda user: Plan.objects.for_user(user).select_related("authority", "programme"),
        PLAN_FIELDS,
        ("-pk",),
        lambda plan, words: Hit(
            f"{plan.authority.name}: {plan.short_name}",
            plan.get_absolute_url(),
            _snippet(plan, PLAN_FIELDS, words) or plan.get_status_display(),
        ),
    ),
    Searched(
        "Meetings",
        lambda user: Meeting.objects.for_user(user).select_related("authority"),
        MEETING_FIELDS,
        ("-held_on", "-pk"),
        lambda meeting, words: Hit(
            f"{meeting.authority.name}: {meeting}",
            meeting.get_absolute_url(),
            _snippet(meeting, MEETING_FIELDS, words),
        ),
    ),
    Searched(
        "Actions",
        lambda user: Action.objects.for_user(user).select_related("authority"),
        ACTION_FIELDS,
        ("-pk",),
        lambda action, words: Hit(
            f"{action.authority.name}: {action.title}",
            # The authority page lists its actions for everyone in scope.
            action.authority.get_absolute_url() + "#actions",
            _snippet(action, ("notes",), words),
        ),
    ),
    Searched(
        "Multi-academy trusts",
        MultiAcademyTrust.objects.for_user,
        TRUST_FIELDS,
        ("name", "pk"),
        lambda trust, words: Hit(
            trust.name, trust.get_absolute_url(), _snippet(trust, ("notes",), words)
        ),
    ),
    Searched(
        "Feedback",
        lambda user: (
            FeedbackSubmission.objects.for_user(user).active().select_related("authority")
        ),
        FEEDBACK_FIELDS,
        ("-meeting_date", "-pk"),
        lambda submission, words: Hit(
            f"{submission.authority.name}: feedback from {submission.source_in_a_sentence()}, "
            f"meeting of {submission.meeting_date:%-d %B %Y}",
            submission.get_absolute_url(),
            _snippet(submission, FEEDBACK_FIELDS, words),
        ),
    ),
)


def matching(rows, fields, text, newest):
    """`rows` that match `text`, best (or newest) first."""
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        vector = SearchVector(*fields, config="english")
        return (
            rows.annotate(document=vector)
            .filter(document=query)
            .annotate(rank=SearchRank(vector, query))
            .order_by("-rank", *newest)
        )
    words = words_of(text)
    if not words:
        return rows.none()
    each = (
        reduce(operator.or_, (Q(**{f"{name}__icontains": word}) for name in fields))
        for word in words
    )
    return rows.filter(reduce(operator.and_, each)).order_by(*newest)


def search(user, text):
    """What `user` may read that matches `text`: the authorities, then each
    kind of record, with how many there are and the best SHOWN."""
    words = words_of(text)
    authorities = list(
        LocalAuthority.objects.for_user(user)
        .search(text)
        .select_related("region")
        .order_by("search_rank", "name")
    )
    found = [
        Found(
            "Authorities",
            len(authorities),
            [Hit(a.name, a.get_absolute_url(), a.region.name) for a in authorities[:SHOWN]],
        )
    ]
    for searched in SEARCHED:
        rows = matching(searched.rows(user), searched.fields, text, searched.newest)
        hits = list(rows[:SHOWN])
        count = len(hits) if len(hits) < SHOWN else rows.count()
        found.append(Found(searched.kind, count, [searched.hit(row, words) for row in hits]))
    return found
