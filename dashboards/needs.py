"""The home page's "what needs you": a person's overdue actions, the checklist
questions and meetings waiting on them, and new early warnings in their scope.

Checklist answers and meeting outcomes are asked of the people who record
them: national officers everywhere, and the LNS, Schools Forum and JCNC/JCC
representatives of their own authorities (EDITOR_ROLES). A national officer
may answer for every plan in England, but is not asked about them all: the
plans listed are theirs (PlanQuerySet.with_involvement: a role at the
authority or in its region, an answer of theirs on its checklist, or theirs
the last change), and the rest are counted, with a link to them. A fixed
number of queries whatever the number of authorities, plans and meetings.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from authorities.access import EDITOR_ROLES
from authorities.models import LocalAuthority
from consultations.models import Meeting
from plans.models import Plan

from .warnings import warning_summary

# Meetings older than this with no outcome are history, not a to-do.
MEETING_WINDOW = datetime.timedelta(days=90)
# "New" warnings: those that arose within this.
WARNING_WINDOW = datetime.timedelta(days=30)
# Rows shown in each list; the rest are counted.
SHOWN = 10
# A plan that has finished is not asked about.
FINISHED = (Plan.Status.COMPLETED, Plan.Status.ENDED)


@dataclass
class WhatNeedsYou:
    overdue_actions: list
    upcoming_actions: list  # their other open actions
    records: bool  # whether they record plans and meetings anywhere
    plans_to_answer: list  # Plan.still_to_answer(), the first SHOWN
    plan_count: int
    # National scope: the plans listed are only those involving them
    # (the module's docstring), and the others with questions are counted.
    only_theirs: bool
    other_plan_count: int
    meetings: list  # the newest SHOWN
    meeting_count: int
    warnings: list  # EarlyWarning, the newest SHOWN
    warning_count: int
    # Every open warning in scope, new or not, theirs or not (the link to
    # the warnings page), counted in the same query.
    all_warning_count: int
    meetings_since: datetime.date
    warnings_since: datetime.date

    @property
    def nothing(self):
        return not (
            self.overdue_actions or self.plan_count or self.meeting_count or self.warning_count
        )


def what_needs(user, *, memberships, my_actions, today=None):
    """What needs `user` now. `memberships` (their roles, as a list) and
    `my_actions` (their open actions, as a list) are the home page's own, so
    reading them again costs nothing."""
    today = today or timezone.localdate()
    if user.has_national_scope:
        recorded = LocalAuthority.objects.all()
        records = True
    else:
        recorded = [m.authority_id for m in memberships if m.role in EDITOR_ROLES]
        records = bool(recorded)
    plans, plan_count, other_plan_count, meetings, meeting_count = [], 0, 0, [], 0
    meetings_since = today - MEETING_WINDOW
    if records:
        plans, other_plans = _plans_waiting(user, recorded, everywhere=user.has_national_scope)
        plan_count, other_plan_count = len(plans), len(other_plans)
        meetings, meeting_count = _meetings_waiting(user, recorded, meetings_since)
    warnings_since = today - WARNING_WINDOW
    # Their own overdue actions are listed already.
    warnings = warning_summary(
        user, since=warnings_since, limit=SHOWN, today=today, mine_too=False
    )
    overdue, upcoming = [], []
    for action in my_actions:
        (overdue if action.is_overdue(today) else upcoming).append(action)
    return WhatNeedsYou(
        overdue_actions=overdue,
        upcoming_actions=upcoming,
        records=records,
        plans_to_answer=plans[:SHOWN],
        plan_count=plan_count,
        only_theirs=records and user.has_national_scope,
        other_plan_count=other_plan_count,
        meetings=meetings,
        meeting_count=meeting_count,
        warnings=warnings.newest,
        warning_count=warnings.count,
        all_warning_count=warnings.every,
        meetings_since=meetings_since,
        warnings_since=warnings_since,
    )


def _plans_waiting(user, recorded, *, everywhere):
    """The plans with questions to answer at the authorities `user` records
    for: theirs, and the others. Someone who records `everywhere` (national
    scope) is given as theirs only those involving them; for everyone else
    every plan they record for is theirs."""
    plans = (
        Plan.objects.for_user(user)
        .current()
        .filter(authority__in=recorded)
        .exclude(status__in=FINISHED)
    )
    if not everywhere:
        return plans.still_to_answer(), []
    mine, others = [], []
    for plan in plans.with_involvement(user).still_to_answer():
        (mine if plan.involves_user else others).append(plan)
    return mine, others


def _meetings_waiting(user, recorded, meetings_since):
    """The meetings with no outcome at the authorities `user` records for:
    the newest SHOWN and how many there are."""
    waiting = (
        Meeting.objects.for_user(user)
        .filter(authority__in=recorded, held_on__gte=meetings_since)
        .without_outcome()
    )
    meetings = list(waiting.select_related("authority").order_by("-held_on", "-pk")[:SHOWN])
    return meetings, waiting.count()
