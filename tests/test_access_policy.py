"""The access policy (authorities/access.py), tested as a table.

EXPECTED writes the policy out again, role by role: a change of policy must
change it here too, on purpose. The other tests check that what the rest of
the app reads (the role sets, AuthorityAccess, User) is derived from the
table and nothing else. Who reaches which page is tests/test_access.py.
"""

import pytest
from django.test import override_settings

from authorities import access
from authorities.access import (
    PERSON_WIDE,
    POLICY,
    AuthorityAccess,
    Can,
    Role,
    Scope,
)
from authorities.models import User
from authorities.sessions import idle_timeout

# The columns, in the order EXPECTED's rows give them.
COLUMNS = {
    "edit": Can.EDIT,
    "con": Can.CONTRIBUTE,
    "plan": Can.PLAN_MEETINGS,
    "warn": Can.DEAL_WITH_WARNINGS,
    "mt": Can.RECORD_TRUSTS_AND_BRANCHES,
    "pn": Can.SEE_PRIVATE_NOTES,
    "skip": Can.SKIP_LIFECYCLE,
    "cf": Can.SEE_CONFIDENTIAL_MEETINGS,
    "sub": Can.SUBMIT_FEEDBACK,
    "read": Can.READ_SUBMISSIONS,
    "ov": Can.SEE_OVERVIEW,
    "exp": Can.EXPORT_FEEDBACK,
    "2s": Can.SIGN_IN_IN_TWO_STEPS,
    "sh": Can.SHORT_SESSIONS,
    "few": Can.SEE_SMALL_NUMBERS,
    "who": Can.SEE_SUBMITTERS,
    "aud": Can.READ_AUDIT_TRAIL,
    "adm": Can.USE_ADMIN,
}

# Y: the role may (or, for 2s and sh, must); -: it may not. con: contribute;
# plan: plan meetings and record what was asked at them; warn: mark early
# warnings dealt with and reopen them; mt: record multi-academy trusts and
# local branches;
# pn: private notes; skip: skip the lifecycle; cf: confidential meetings;
# sub: submit feedback; read: read submissions; ov: the overview; exp: export
# feedback; 2s: sign in in two steps; sh: short sessions; few: figures from
# fewer than 5 submissions; who: who submitted; aud: the audit trail; adm: the
# Django admin (while staff).
EXPECTED = """
                   scope     edit con plan warn mt pn skip cf sub read ov exp 2s sh few who aud adm
national_officer   national  Y    Y   Y    Y    Y  Y  Y    Y  Y   Y    Y  Y   Y  Y  Y   Y   Y   Y
regional_organiser regional  -    Y   Y    Y    Y  -  -    -  -   Y    Y  Y   Y  Y  -   -   -   -
nem                regional  -    Y   Y    Y    Y  -  -    -  -   Y    Y  -   Y  Y  -   -   -   -
lns                authority Y    Y   Y    Y    -  Y  -    Y  Y   Y    -  -   -  -  -   -   -   -
schools_forum_rep  authority Y    Y   Y    Y    -  Y  -    Y  Y   Y    -  -   -  -  -   -   -   -
jcnc_rep           authority Y    Y   Y    Y    -  Y  -    Y  Y   Y    -  -   -  -  -   -   -   -
senco_lead         authority -    -   -    -    -  Y  -    -  Y   -    -  -   -  -  -   -   -   -
headteacher_rep    authority -    -   -    -    -  Y  -    -  Y   -    -  -   -  -  -   -   -   -
"""


def _read_expected():
    header, *rows = (line.split() for line in EXPECTED.strip().splitlines())
    assert header == ["scope", *COLUMNS]
    scopes, grants = {}, {}
    for role, scope, *marks in rows:
        assert len(marks) == len(COLUMNS), role
        scopes[Role(role)] = Scope(scope)
        for column, mark in zip(COLUMNS, marks, strict=True):
            assert mark in {"Y", "-"}, (role, column, mark)
            grants[Role(role), COLUMNS[column]] = mark == "Y"
    return scopes, grants


EXPECTED_SCOPE, EXPECTED_GRANTS = _read_expected()


def holders(can):
    """The roles EXPECTED gives `can`."""
    return {role for role in Role if EXPECTED_GRANTS[role, can]}


def test_the_table_has_every_role_and_every_capability():
    assert set(EXPECTED_SCOPE) == set(Role) == set(POLICY)
    assert set(COLUMNS.values()) == set(Can)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_its_scope(role):
    assert POLICY[role].scope == EXPECTED_SCOPE[role]


@pytest.mark.parametrize("can", list(Can))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_what_the_table_says(role, can):
    assert (can in POLICY[role].can) == EXPECTED_GRANTS[role, can]


@pytest.mark.parametrize(
    ("name", "can"),
    [
        ("EDITOR_ROLES", Can.EDIT),
        ("CONTRIBUTOR_ROLES", Can.CONTRIBUTE),
        ("CONFIDENTIAL_ROLES", Can.SEE_CONFIDENTIAL_MEETINGS),
        ("PLANNER_ROLES", Can.PLAN_MEETINGS),
        ("SUBMITTER_ROLES", Can.SUBMIT_FEEDBACK),
        ("READER_ROLES", Can.READ_SUBMISSIONS),
    ],
)
def test_each_role_set_is_the_roles_with_its_capability(name, can):
    assert getattr(access, name) == holders(can)


@pytest.mark.parametrize("can", list(Can))
def test_roles_that_gives_the_holders(can):
    assert access.roles_that(can) == access.ROLES_THAT[can] == holders(can)


def test_the_scope_sets_keep_the_order_migrations_hold():
    """Membership's constraint is serialised from these tuples: the same
    values in the same order, or makemigrations sees a change."""
    assert access.NATIONAL_ROLES == ("national_officer",)
    assert access.REGIONAL_ROLES == ("regional_organiser", "nem")
    assert access.AUTHORITY_ROLES == (
        "lns",
        "schools_forum_rep",
        "jcnc_rep",
        "senco_lead",
        "headteacher_rep",
    )
    assert access.WIDE_ROLES == access.NATIONAL_ROLES + access.REGIONAL_ROLES


@pytest.mark.parametrize("can", sorted(PERSON_WIDE))
def test_person_wide_capabilities_are_held_only_by_wide_roles(can):
    """User.may reads User.wide_roles, the national and regional roles
    loaded with the person: a person-wide capability given to an
    authority role would silently never be seen."""
    assert access.ROLES_THAT[can] <= set(access.WIDE_ROLES)


# What the rest of the app asks, and the capability each one reads.
AUTHORITY_QUESTIONS = {
    "can_edit": Can.EDIT,
    "can_contribute": Can.CONTRIBUTE,
    "can_plan_meetings": Can.PLAN_MEETINGS,
    "can_deal_with_warnings": Can.DEAL_WITH_WARNINGS,
    "can_record_trusts_and_branches": Can.RECORD_TRUSTS_AND_BRANCHES,
    "can_see_private_notes": Can.SEE_PRIVATE_NOTES,
    "can_skip_lifecycle": Can.SKIP_LIFECYCLE,
    "can_submit_feedback": Can.SUBMIT_FEEDBACK,
}


@pytest.mark.parametrize("question", AUTHORITY_QUESTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_authority_access_answers_from_the_table(role, question):
    answer = getattr(AuthorityAccess(frozenset({role})), question)
    assert answer == EXPECTED_GRANTS[role, AUTHORITY_QUESTIONS[question]]


@pytest.mark.parametrize("question", AUTHORITY_QUESTIONS)
def test_no_role_over_an_authority_may_do_nothing_there(question):
    assert not getattr(AuthorityAccess(frozenset()), question)


def test_several_roles_may_do_what_any_of_them_may():
    """A NEM who also leads the authority's SENCO network adds evidence (as
    NEM) and reads private notes (as SENCO lead), but still does not edit."""
    both = AuthorityAccess(frozenset({Role.NEM, Role.SENCO_LEAD}))
    assert both.can_contribute
    assert both.can_see_private_notes
    assert both.can_submit_feedback
    assert not both.can_edit


def test_roles_read_from_the_database_are_plain_strings():
    """Membership.role comes back as a str: the sets must still match it."""
    assert AuthorityAccess(frozenset({"lns"})).can_edit
    assert "lns" in access.EDITOR_ROLES


def test_a_person_wide_capability_is_not_asked_of_an_authority():
    with pytest.raises(ValueError, match="asked of the person"):
        AuthorityAccess(frozenset({Role.NATIONAL_OFFICER})).may(Can.SEE_OVERVIEW)


def person(*roles, is_superuser=False, is_staff=False):
    """An unsaved person holding `roles`, with what the login backend loads
    for them (User.held): no query needed."""
    user = User(email="someone@example.org", is_superuser=is_superuser, is_staff=is_staff)
    user.__dict__["held"] = tuple(access.Held(role, None, None) for role in roles)
    return user


PERSON_QUESTIONS = {
    "can_see_overview": Can.SEE_OVERVIEW,
    "can_export_feedback": Can.EXPORT_FEEDBACK,
    "requires_mfa": Can.SIGN_IN_IN_TWO_STEPS,
}


@pytest.mark.parametrize("question", PERSON_QUESTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_the_person_answers_from_the_table(role, question):
    answer = getattr(person(role), question)
    assert answer == EXPECTED_GRANTS[role, PERSON_QUESTIONS[question]]


@override_settings(SESSION_IDLE_TIMEOUT=3600, SESSION_IDLE_TIMEOUT_WIDE_ROLES=600)
@pytest.mark.parametrize("role", list(Role))
def test_who_is_signed_out_sooner(role):
    expected = 600 if EXPECTED_GRANTS[role, Can.SHORT_SESSIONS] else 3600
    assert idle_timeout(person(role)) == expected


@pytest.mark.parametrize("can", sorted(PERSON_WIDE))
def test_a_superuser_holds_every_person_wide_capability(can):
    assert person(is_superuser=True).may(can)


def test_staff_sign_in_in_two_steps_whatever_their_role():
    assert person(Role.SENCO_LEAD, is_staff=True).requires_mfa


def test_an_authority_capability_is_not_asked_of_the_person():
    with pytest.raises(ValueError, match="asked of an authority"):
        person(Role.NATIONAL_OFFICER).may(Can.EDIT)
