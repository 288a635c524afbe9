"""Scope is the query: LocalAuthority/Region/Membership.objects.for_user."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from authorities.access import CONFIDENTIAL_ROLES, READER_ROLES, Role
from authorities.backends import AuthenticationBackend
from authorities.models import (
    AuthorityFinance,
    LocalAuthority,
    Membership,
    Region,
    read_coverage,
)
from consultations.models import Action, BlockTransfer, Meeting
from feedback.models import FeedbackSubmission
from official.models import Figure
from plans.models import Answer, FundingInstalment
from plans.services import assessment_for

from .factories import (
    CAMDEN,
    KENT,
    MANCHESTER,
    authority,
    checklist_questions,
    make_plan,
    make_user,
    region,
)
from .test_official_evidence import REFUSALS, figures, release

pytestmark = pytest.mark.django_db


def visible(user):
    return set(LocalAuthority.objects.for_user(user).values_list("name", flat=True))


def test_national_officer_sees_all(national_officer):
    assert LocalAuthority.objects.for_user(national_officer).count() == 153
    assert Region.objects.for_user(national_officer).count() == 9


def test_superuser_sees_all(reference_data):
    admin = make_user(is_superuser=True, is_staff=True)
    assert LocalAuthority.objects.for_user(admin).count() == 153


def test_regional_roles_see_their_region(london_organiser, northwest_nem):
    assert LocalAuthority.objects.for_user(london_organiser).count() == 33
    assert LocalAuthority.objects.for_user(northwest_nem).count() == 24
    assert list(Region.objects.for_user(northwest_nem)) == [region("North West")]


def test_authority_roles_see_their_authorities(camden_lns, camden_senco_lead, manchester_head_rep):
    assert visible(camden_lns) == {"Camden"}
    assert visible(camden_senco_lead) == {"Camden"}
    assert visible(manchester_head_rep) == {"Manchester"}
    assert not Region.objects.for_user(camden_lns).exists()


def test_several_memberships_add_up(camden, kent):
    person = make_user(
        roles=[(Role.LNS, camden), (Role.LNS, kent), (Role.NEM, region("North East"))]
    )
    assert visible(person) >= {"Camden", "Kent", "Gateshead"}
    assert len(visible(person)) == 2 + 12


def test_nobody_without_a_role_or_signed_out_sees_nothing(no_role_user):
    assert not LocalAuthority.objects.for_user(no_role_user).exists()
    assert not LocalAuthority.objects.for_user(AnonymousUser()).exists()
    assert not Region.objects.for_user(AnonymousUser()).exists()
    assert not Membership.objects.for_user(AnonymousUser()).exists()


def test_inactive_people_see_nothing(camden_lns):
    camden_lns.is_active = False
    assert not LocalAuthority.objects.for_user(camden_lns).exists()


def test_memberships_visible_are_those_in_scope(camden_lns, kent_lns, london_organiser):
    seen = set(Membership.objects.for_user(camden_lns))
    assert camden_lns.memberships.get() in seen
    assert kent_lns.memberships.get() not in seen
    assert london_organiser.memberships.get() in set(Membership.objects.for_user(london_organiser))


def test_coverage_lists_authority_then_region_people(camden_lns, london_organiser, camden):
    roles = [m.role for m in LocalAuthority.objects.with_coverage().get(pk=camden.pk).coverage()]
    assert roles == [Role.REGIONAL_ORGANISER, Role.LNS]


def test_coverage_read_for_one_authority_is_the_lists(
    camden_lns, camden_forum_rep, london_organiser, kent_lns, camden, django_assert_num_queries
):
    """The authority page reads who covers it in one query (read_coverage),
    the lists with_coverage() prefetches in two."""
    listed = LocalAuthority.objects.with_coverage().get(pk=camden.pk)
    one = LocalAuthority.objects.select_related("region").get(pk=camden.pk)
    with django_assert_num_queries(1):
        read_coverage(one)
    assert one.authority_memberships == listed.authority_memberships
    assert one.region.region_memberships == listed.region.region_memberships
    assert (len(one.authority_memberships), len(one.region.region_memberships)) == (2, 1)
    assert one.coverage() == listed.coverage()
    with django_assert_num_queries(0):  # each names its authority, as the prefetch's do
        assert {m.authority.name for m in one.authority_memberships} == {"Camden"}


def test_get_by_name_uses_aliases(reference_data):
    assert LocalAuthority.objects.get_by_name(" hull ").la_code == "810"
    assert LocalAuthority.objects.get_by_name("Bristol, City of").la_code == "801"


@pytest.mark.parametrize(
    ("role", "place"),
    [
        (Role.NATIONAL_OFFICER, "London"),
        (Role.REGIONAL_ORGANISER, None),
        (Role.REGIONAL_ORGANISER, "202"),
        (Role.LNS, "London"),
        (Role.SENCO_LEAD, None),
    ],
)
def test_database_refuses_a_scope_that_does_not_fit_the_role(reference_data, role, place):
    person = make_user()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=person,
            role=role,
            region=region(place) if place and not place.isdigit() else None,
            authority=authority(place) if place and place.isdigit() else None,
        )


def test_the_same_role_twice_in_one_place_is_refused(camden_lns, camden):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=camden_lns, role=Role.LNS, authority=camden)


def test_emails_are_unique_whatever_their_case(camden_lns):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user("CAMDEN.lns@Example.org")


class TestScopeFromTheMembershipsReadOnce:
    """access.covering: scope built from the memberships the login backend
    loads with the person (User.held), as literal values, not a subquery of
    memberships in every query."""

    def loaded(self, user):
        return AuthenticationBackend().get_user(user.pk)

    def test_the_backend_loads_every_membership(self, camden, kent):
        person = make_user(
            roles=[(Role.LNS, camden), (Role.LNS, kent), (Role.NEM, region("North East"))]
        )
        loaded = self.loaded(person)
        assert sorted(loaded.held) == sorted(person.held)
        assert {held.role for held in loaded.held} == {Role.LNS, Role.NEM}
        assert {h.authority_id for h in loaded.held} == {camden.pk, kent.pk, None}
        assert self.loaded(make_user(email="nobody@example.org")).held == ()

    def test_a_loaded_person_sees_what_the_query_would_show(
        self, camden, kent, london_organiser, national_officer, no_role_user
    ):
        person = make_user(roles=[(Role.LNS, kent), (Role.NEM, region("North East"))])
        for user in (person, london_organiser, national_officer, no_role_user):
            assert visible(self.loaded(user)) == visible(user)
            assert set(Region.objects.for_user(self.loaded(user))) == set(
                Region.objects.for_user(user)
            )

    def test_no_membership_is_read_again(self, london_organiser, django_assert_num_queries):
        organiser = self.loaded(london_organiser)
        with django_assert_num_queries(1) as captured:
            assert len(visible(organiser)) == 33
        assert "authorities_membership" not in captured.captured_queries[0]["sql"]

    def test_no_role_is_no_row_without_asking_the_database(
        self, no_role_user, django_assert_num_queries
    ):
        nobody = self.loaded(no_role_user)
        with django_assert_num_queries(0):
            assert not visible(nobody)

    def test_roles_at_an_authority_need_no_query(
        self, camden, london_organiser, django_assert_num_queries
    ):
        organiser, kent = self.loaded(london_organiser), authority("886")
        with django_assert_num_queries(0):
            assert camden.roles_of(organiser) == {Role.REGIONAL_ORGANISER}
            assert kent.roles_of(organiser) == set()

    def test_who_may_change_an_action_is_true_or_false(
        self, camden, camden_senco_lead, camden_lns, national_officer, reference_data
    ):
        """A condition on no row, or on every row, is still a boolean in
        the SELECT (with_may_change's Case), on either database."""
        Action.objects.create(authority=camden, title="Chase")
        admin = make_user(is_superuser=True, is_staff=True)
        for person, may in [
            (camden_senco_lead, False),  # none: network leads do not contribute
            (camden_lns, True),
            (national_officer, True),  # every row
            (admin, True),
        ]:
            [action] = Action.objects.with_may_change(self.loaded(person))
            assert action.may_change is may, person


class TestScopeInTheRowsOwnQuery:
    """Each app's `for_user` writes the scope into the row's own query
    (access.in_scope, consultations.models.readable_meetings) rather than as
    a subquery of authorities: the rows are those the rules give, worked out
    here one by one from the authorities in scope and the person's roles
    there (LocalAuthority.roles_of)."""

    @pytest.fixture
    def rows(self, reference_data):
        """At Camden (London), Kent (South East) and Manchester (North
        West): a plan with an answer and an instalment, a meeting open and
        one confidential (each with a block transfer and an action), an
        action with no meeting, and a submission."""
        made = {"submitter": make_user(email="submitter@example.org")}
        for code in (CAMDEN, KENT, MANCHESTER):
            place = authority(code)
            plan = make_plan(code)
            Answer.objects.create(
                assessment=assessment_for(plan),
                question=checklist_questions().first(),
                response="no",
                concern="serious",
            )
            FundingInstalment.objects.create(plan=plan, financial_year=2024, amount=1)
            for confidential in (False, True):
                meeting = Meeting.objects.create(
                    authority=place,
                    forum="schools_forum",
                    held_on="2026-10-01",
                    confidential=confidential,
                )
                BlockTransfer.objects.create(meeting=meeting, financial_year=2025, percent=1)
                Action.objects.create(authority=place, meeting=meeting, title="Follow up")
            Action.objects.create(authority=place, title="Chase")
            FeedbackSubmission.objects.create(
                authority=place,
                submitted_by=made["submitter"],
                source="senco_network",
                phases=["primary"],
                people_count=3,
                meeting_date="2026-10-01",
                health_care_costs="no",
            )
        return made

    @staticmethod
    def expected(user, model):
        """The rows of `model` `user` may see, by the rules, in Python."""
        in_scope = set(LocalAuthority.objects.for_user(user))

        def may_read(meeting):
            roles = meeting.authority.roles_of(user)
            return meeting.authority in in_scope and (
                not meeting.confidential or bool(roles & set(CONFIDENTIAL_ROLES))
            )

        found = set()
        for row in model.objects.all():
            if model is Answer:
                seen = row.assessment.plan.authority in in_scope
            elif model is FundingInstalment:
                seen = row.plan.authority in in_scope
            elif model in (Meeting, BlockTransfer):
                seen = may_read(row if model is Meeting else row.meeting)
            elif model is Action:
                seen = row.authority in in_scope and (row.meeting is None or may_read(row.meeting))
            else:  # FeedbackSubmission: read by its readers there, and by whoever made it
                roles = row.authority.roles_of(user)
                seen = row.authority in in_scope and (
                    bool(roles & set(READER_ROLES)) or row.submitted_by_id == user.pk
                )
            if seen:
                found.add(row.pk)
        return found

    def test_each_app_gives_the_rows_the_rules_give(
        self,
        rows,
        camden_lns,
        camden_senco_lead,
        camden_forum_rep,
        london_organiser,
        northwest_nem,
        national_officer,
        no_role_user,
    ):
        admin = make_user(email="admin@example.org", is_superuser=True, is_staff=True)
        gone = make_user(email="gone@example.org", roles=[(Role.LNS, authority(KENT))])
        gone.is_active = False
        gone.save()
        people = [
            camden_lns,
            camden_senco_lead,
            camden_forum_rep,
            london_organiser,
            northwest_nem,
            national_officer,
            no_role_user,
            rows["submitter"],
            admin,
            gone,
            AnonymousUser(),
        ]
        models = (Answer, FundingInstalment, Meeting, BlockTransfer, Action, FeedbackSubmission)
        for person in people:
            loaded = person if person.is_anonymous else AuthenticationBackend().get_user(person.pk)
            loaded = loaded or person  # the backend gives no deactivated person
            for model in models:
                got = set(model.objects.for_user(loaded).values_list("pk", flat=True))
                assert got == self.expected(loaded, model), (person, model.__name__)
        # Not a test of nothing: of each, someone sees some rows and not all,
        # and among Camden's people one sees fewer than another (confidential
        # meetings, others' submissions).
        for model in models:
            every = set(model.objects.values_list("pk", flat=True))
            seen = [self.expected(person, model) for person in people[:5]]
            assert any(0 < len(rows) < len(every) for rows in seen), model
        assert self.expected(camden_senco_lead, Meeting) < self.expected(camden_lns, Meeting)

    def test_official_figures_and_finance_are_of_the_authorities_in_scope(
        self, camden_lns, london_organiser, national_officer, no_role_user
    ):
        """England's and a region's official figures belong to no authority:
        never among the authorities' figures, even for a national officer,
        who has no condition on the authority at all."""
        figures(
            REFUSALS,
            "2024",
            england="25",
            values={CAMDEN: "40", KENT: "30", MANCHESTER: "20"},
            source=release(),
        )
        for code in (CAMDEN, KENT, MANCHESTER):
            AuthorityFinance.objects.create(
                authority=authority(code), financial_year=2024, dsg_cumulative_deficit=1
            )
        assert Figure.objects.filter(authority__isnull=True).exists()
        for person, places in [
            (camden_lns, {"Camden"}),
            (london_organiser, {"Camden"}),
            (national_officer, {"Camden", "Kent", "Manchester"}),
            (no_role_user, set()),
        ]:
            loaded = AuthenticationBackend().get_user(person.pk)
            for model in (Figure, AuthorityFinance):
                found = model.objects.for_user(loaded).values_list("authority__name", flat=True)
                assert set(found) == places, (person, model.__name__)
                assert None not in set(found)
