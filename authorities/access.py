"""Who may do what: every role, the scope it carries and what it may do, in
one table (`POLICY`).

Everything else is derived from the table: the role sets other modules read
(`EDITOR_ROLES`, `READER_ROLES`, …), what `AuthorityAccess` answers about one
person over one authority, and what `User.may` answers about a person. A
change of policy is one line here, and tests/test_access_policy.py, which
writes the whole table out again, has to change with it.

Capabilities are of two kinds:

- Over an authority, held through a role that covers it (national roles cover
  every authority, regional roles their region's, the rest their own): asked
  of `AuthorityAccess.of(user, authority)`, or, where a list is scoped, in the
  query (`Meeting.objects.for_user` asks `covering` for `CONFIDENTIAL_ROLES`).
- Person-wide (`PERSON_WIDE`), held wherever the role is: asked of the person
  (`User.may`). They are read from `User.wide_roles`, which is loaded with the
  person at no query, so only national and regional roles may hold them.

Superusers hold everything a national officer holds. Scope itself (who sees
which authority) is the query, `LocalAuthority.objects.for_user`; the
condition it and other models' `for_user` put on their rows (through any
role, or through the roles that hold a capability) is `covering`, built here
from the person's memberships (`User.held`, loaded with the person).

This module imports no model: authorities/models.py reads it.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from django.db import models


class Role(models.TextChoices):
    """The union roles of DESIGN.md, in the order it lists them."""

    NATIONAL_OFFICER = "national_officer", "National officer"
    REGIONAL_ORGANISER = "regional_organiser", "Regional organiser"
    NEM = "nem", "National executive member"
    LNS = "lns", "Local negotiating secretary"
    SCHOOLS_FORUM_REP = "schools_forum_rep", "Schools Forum representative"
    JCNC_REP = "jcnc_rep", "JCNC/JCC representative"
    SENCO_LEAD = "senco_lead", "SENCO network lead"
    HEADTEACHER_REP = "headteacher_rep", "Headteacher network representative"


class Scope(StrEnum):
    """What a membership of the role covers; the database refuses a
    membership whose region or authority does not fit (Membership's
    `membership_scope_fits_role`)."""

    NATIONAL = "national"  # every authority; names no region or authority
    REGIONAL = "regional"  # every authority in one region
    AUTHORITY = "authority"  # one authority


class Can(StrEnum):
    """What a role may (or, for the sign-in ones, must) do."""

    # Over an authority the role covers (AuthorityAccess).
    EDIT = "edit"  # record its plans, checklist answers, finance figures, meetings and outcomes
    CONTRIBUTE = "contribute"  # link evidence and comment on checklists; add and update actions
    # Plan a meeting (date to come, agenda, papers, who goes, questions to
    # ask), change it while it is planned, and record what was asked and
    # answered at it. Changing a meeting once held is EDIT.
    PLAN_MEETINGS = "plan_meetings"
    # Mark an early warning about the authority dealt with, saying how, or
    # reopen one: those who act there, not those who only read.
    DEAL_WITH_WARNINGS = "deal_with_warnings"
    # Record a multi-academy trust or a local branch covering the authority,
    # and change one: the regional roles the briefing's section 7 asks to
    # work with MATs and branches, and national officers.
    RECORD_TRUSTS_AND_BRANCHES = "record_trusts_and_branches"
    SEE_PRIVATE_NOTES = "see_private_notes"  # the private notes on checklist answers
    SKIP_LIFECYCLE = "skip_lifecycle"  # move a plan's status out of order, saying why
    SEE_CONFIDENTIAL_MEETINGS = "see_confidential_meetings"  # else 404, and never counted
    SUBMIT_FEEDBACK = "submit_feedback"  # speak for the authority's networks and members
    READ_SUBMISSIONS = "read_submissions"  # one by one; everyone in scope reads the aggregates
    # Person-wide (User.may): national and regional roles only.
    SEE_OVERVIEW = "see_overview"  # the overview table of every authority in scope
    EXPORT_FEEDBACK = "export_feedback"  # download the submissions they may read
    SIGN_IN_IN_TWO_STEPS = "sign_in_in_two_steps"  # required: they read across authorities
    SHORT_SESSIONS = "short_sessions"  # signed out after SESSION_IDLE_TIMEOUT_WIDE_ROLES
    # Every feedback figure, however few submissions it rests on (others see
    # "fewer than 5"), and exports that include such authorities.
    SEE_SMALL_NUMBERS = "see_small_numbers"
    SEE_SUBMITTERS = "see_submitters"  # who gave each submission (a submitter sees their own)
    READ_AUDIT_TRAIL = "read_audit_trail"  # who did what, from where
    USE_ADMIN = "use_admin"  # the Django admin, while also marked as staff


PERSON_WIDE = frozenset(
    {
        Can.SEE_OVERVIEW,
        Can.EXPORT_FEEDBACK,
        Can.SIGN_IN_IN_TWO_STEPS,
        Can.SHORT_SESSIONS,
        Can.SEE_SMALL_NUMBERS,
        Can.SEE_SUBMITTERS,
        Can.READ_AUDIT_TRAIL,
        Can.USE_ADMIN,
    }
)


class Row(NamedTuple):
    scope: Scope
    can: frozenset


def _row(scope, *can):
    return Row(scope, frozenset(can))


# The policy. Regional roles read and add evidence across their region but do
# not record facts, see confidential meetings or private notes, or speak for a
# network; network leads read, see their own authority's private notes and
# give feedback.
POLICY = {
    Role.NATIONAL_OFFICER: _row(
        Scope.NATIONAL,
        Can.EDIT,
        Can.CONTRIBUTE,
        Can.PLAN_MEETINGS,
        Can.DEAL_WITH_WARNINGS,
        Can.RECORD_TRUSTS_AND_BRANCHES,
        Can.SEE_PRIVATE_NOTES,
        Can.SKIP_LIFECYCLE,
        Can.SEE_CONFIDENTIAL_MEETINGS,
        Can.SUBMIT_FEEDBACK,
        Can.READ_SUBMISSIONS,
        Can.SEE_OVERVIEW,
        Can.EXPORT_FEEDBACK,
        Can.SIGN_IN_IN_TWO_STEPS,
        Can.SHORT_SESSIONS,
        Can.SEE_SMALL_NUMBERS,
        Can.SEE_SUBMITTERS,
        Can.READ_AUDIT_TRAIL,
        Can.USE_ADMIN,
    ),
    Role.REGIONAL_ORGANISER: _row(
        Scope.REGIONAL,
        Can.CONTRIBUTE,
        Can.PLAN_MEETINGS,
        Can.DEAL_WITH_WARNINGS,
        Can.RECORD_TRUSTS_AND_BRANCHES,
        Can.READ_SUBMISSIONS,
        Can.SEE_OVERVIEW,
        Can.EXPORT_FEEDBACK,
        Can.SIGN_IN_IN_TWO_STEPS,
        Can.SHORT_SESSIONS,
    ),
    Role.NEM: _row(
        Scope.REGIONAL,
        Can.CONTRIBUTE,
        Can.PLAN_MEETINGS,
        Can.DEAL_WITH_WARNINGS,
        Can.RECORD_TRUSTS_AND_BRANCHES,
        Can.READ_SUBMISSIONS,
        Can.SEE_OVERVIEW,
        Can.SIGN_IN_IN_TWO_STEPS,
        Can.SHORT_SESSIONS,
    ),
    Role.LNS: _row(
        Scope.AUTHORITY,
        Can.EDIT,
        Can.CONTRIBUTE,
        Can.PLAN_MEETINGS,
        Can.DEAL_WITH_WARNINGS,
        Can.SEE_PRIVATE_NOTES,
        Can.SEE_CONFIDENTIAL_MEETINGS,
        Can.SUBMIT_FEEDBACK,
        Can.READ_SUBMISSIONS,
    ),
    Role.SCHOOLS_FORUM_REP: _row(
        Scope.AUTHORITY,
        Can.EDIT,
        Can.CONTRIBUTE,
        Can.PLAN_MEETINGS,
        Can.DEAL_WITH_WARNINGS,
        Can.SEE_PRIVATE_NOTES,
        Can.SEE_CONFIDENTIAL_MEETINGS,
        Can.SUBMIT_FEEDBACK,
        Can.READ_SUBMISSIONS,
    ),
    Role.JCNC_REP: _row(
        Scope.AUTHORITY,
        Can.EDIT,
        Can.CONTRIBUTE,
        Can.PLAN_MEETINGS,
        Can.DEAL_WITH_WARNINGS,
        Can.SEE_PRIVATE_NOTES,
        Can.SEE_CONFIDENTIAL_MEETINGS,
        Can.SUBMIT_FEEDBACK,
        Can.READ_SUBMISSIONS,
    ),
    Role.SENCO_LEAD: _row(Scope.AUTHORITY, Can.SEE_PRIVATE_NOTES, Can.SUBMIT_FEEDBACK),
    Role.HEADTEACHER_REP: _row(Scope.AUTHORITY, Can.SEE_PRIVATE_NOTES, Can.SUBMIT_FEEDBACK),
}


def roles_that(can):
    """The roles that hold `can`."""
    return frozenset(role for role, row in POLICY.items() if can in row.can)


def _scoped(scope):
    return tuple(role.value for role in Role if POLICY[role].scope == scope)


# Plain strings in Role order, so Membership's constraint serialises stably
# into migrations.
NATIONAL_ROLES = _scoped(Scope.NATIONAL)
REGIONAL_ROLES = _scoped(Scope.REGIONAL)
AUTHORITY_ROLES = _scoped(Scope.AUTHORITY)
WIDE_ROLES = NATIONAL_ROLES + REGIONAL_ROLES  # the roles that see more than one authority

ROLES_THAT = {can: roles_that(can) for can in Can}

# The sets read by name, where a query or a list of memberships asks for them.
EDITOR_ROLES = ROLES_THAT[Can.EDIT]
CONTRIBUTOR_ROLES = ROLES_THAT[Can.CONTRIBUTE]
CONFIDENTIAL_ROLES = ROLES_THAT[Can.SEE_CONFIDENTIAL_MEETINGS]
PLANNER_ROLES = ROLES_THAT[Can.PLAN_MEETINGS]
SUBMITTER_ROLES = ROLES_THAT[Can.SUBMIT_FEEDBACK]
READER_ROLES = ROLES_THAT[Can.READ_SUBMISSIONS]


class Held(NamedTuple):
    """One of a person's memberships as plain values (User.held)."""

    role: str
    region_id: int | None
    authority_id: int | None


def covering(user, roles=None, *, region, authority):
    """A condition on rows: those whose authority `user` covers through one
    of `roles` (any role: None), as LocalAuthority.roles_of decides for one.
    `region` and `authority` are the paths from a row to its authority's
    region id and to its authority's id ("authority__region_id" and
    "authority_id" on a meeting; "region_id" and "pk" on an authority).

    It is built from the person's memberships as literal values (User.held,
    read once per request), not from a subquery of memberships on each row:
    the ORM builds a scope into most queries of every page, and a correlated
    subquery cost milliseconds to build each time and a lookup per row to
    run. Where every row is covered it is a condition Django leaves out of
    the SQL; where none is (nobody signed in, or deactivated, too), one it
    answers without asking the database."""
    if not (user.is_authenticated and user.is_active):
        return models.Q(pk__in=[])
    if user.is_superuser:
        return ~models.Q(pk__in=[])
    held = [h for h in user.held if roles is None or h.role in roles]
    if any(h.role in NATIONAL_ROLES for h in held):
        return ~models.Q(pk__in=[])
    regions = sorted({h.region_id for h in held if h.region_id is not None})
    authorities = sorted({h.authority_id for h in held if h.authority_id is not None})
    return models.Q(**{f"{region}__in": regions}) | models.Q(**{f"{authority}__in": authorities})


def in_scope(user, path):
    """A condition on rows: those whose authority, at `path` from the row
    ("authority" on a meeting, "plan__authority" on an instalment), is one
    `user` may see: as LocalAuthority.objects.for_user decides, written into
    the row's own query rather than as a subquery of authorities, so that
    for a national officer it is no condition at all, and for anyone else
    one the database checks on the row (or its authority, joined) with no
    second look at the authorities."""
    return covering(user, region=f"{path}__region_id", authority=f"{path}_id")


@dataclass(frozen=True)
class AuthorityAccess:
    """What one person may do over one authority: everything any of the
    roles through which they cover it may do (LocalAuthority.roles_of).
    Everyone in scope reads; out of scope is the query's business (404)."""

    roles: frozenset

    @classmethod
    def of(cls, user, authority):
        """No query: LocalAuthority.roles_of."""
        return cls(frozenset(authority.roles_of(user)))

    def may(self, can):
        if can in PERSON_WIDE:
            raise ValueError(f"{can} is asked of the person (User.may), not of an authority")
        return not self.roles.isdisjoint(ROLES_THAT[can])

    @property
    def can_edit(self):
        return self.may(Can.EDIT)

    @property
    def can_contribute(self):
        return self.may(Can.CONTRIBUTE)

    @property
    def can_plan_meetings(self):
        return self.may(Can.PLAN_MEETINGS)

    @property
    def can_deal_with_warnings(self):
        return self.may(Can.DEAL_WITH_WARNINGS)

    @property
    def can_record_trusts_and_branches(self):
        return self.may(Can.RECORD_TRUSTS_AND_BRANCHES)

    @property
    def can_see_private_notes(self):
        return self.may(Can.SEE_PRIVATE_NOTES)

    @property
    def can_skip_lifecycle(self):
        return self.may(Can.SKIP_LIFECYCLE)

    @property
    def can_submit_feedback(self):
        return self.may(Can.SUBMIT_FEEDBACK)
