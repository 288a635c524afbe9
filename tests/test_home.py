"""Home's "what needs you": overdue actions, checklist questions to answer,
meetings with no outcome logged and new warnings, each for the right people."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from authorities import caching
from authorities.access import Role
from authorities.models import LocalAuthority, Membership
from consultations.models import Action, Meeting
from dashboards.warnings import KINDS
from plans.models import Answer, Assessment, Plan, Programme, QuestionSet
from plans.services import revise_plan

from .browsing import resubmit
from .factories import CAMDEN, KENT, authority, checklist_questions, make_plan, make_user, region
from .test_warnings import action, answer, instalment, meeting, set_since

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
HOME = reverse("home")


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def needs(client):
    """What the home page works out, worked out afresh: the page is cached
    until the data next changes (authorities/caching.py)."""
    caching.data_changed()
    return client.get(HOME).context["needs"]


class TestNothingNeedsYou:
    def test_an_lns_with_nothing_to_do_is_told_so(self, camden_lns_client):
        page = text(camden_lns_client.get(HOME))
        assert "Nothing needs you this week." in page
        assert "every meeting there since" in page
        assert "Your overdue actions" not in page

    def test_an_organiser_is_not_asked_about_what_they_do_not_record(self, london_organiser):
        from django.test import Client

        client = Client()
        client.force_login(london_organiser)
        page = text(client.get(HOME))
        assert "Nothing needs you this week." in page
        assert "checklist question" not in page
        assert needs(client).records is False


class TestOverdueActions:
    def test_my_overdue_actions_come_first_and_the_rest_after(self, camden_lns_client, camden_lns):
        overdue = action(owner=camden_lns, due_on=TODAY - 2 * DAY, title="Overdue one")
        later = action(owner=camden_lns, due_on=TODAY + 5 * DAY, title="Later one")
        action(owner=camden_lns, due_on=TODAY - 2 * DAY, status="done", title="Done one")
        response = camden_lns_client.get(HOME)
        found = response.context["needs"]
        assert found.overdue_actions == [overdue]
        assert found.upcoming_actions == [later]
        page = text(response)
        assert page.index("Your overdue actions") < page.index("Overdue one")
        assert page.index("Overdue one") < page.index("Your other open actions")
        assert page.index("Your other open actions") < page.index("Later one")
        assert "Done one" not in page
        # Listed once: not again among the new warnings.
        assert page.count("Overdue one") == 1

    def test_without_overdue_actions_the_block_says_so(self, camden_lns_client, camden_lns):
        action(owner=camden_lns, due_on=TODAY + DAY)
        make_plan(CAMDEN, agreement_date=TODAY - DAY)  # something else needs them
        page = text(camden_lns_client.get(HOME))
        assert "None of your actions is overdue." in page
        assert "Your open actions" in page

    def test_someone_elses_overdue_action_is_a_warning_not_mine(
        self, camden_lns_client, camden_lns
    ):
        action(owner=make_user(), due_on=TODAY - 2 * DAY, title="Theirs")
        found = needs(camden_lns_client)
        assert found.overdue_actions == []
        assert [w.subject.title for w in found.warnings] == ["Theirs"]


class TestChecklistToAnswer:
    def test_lists_my_plans_with_the_next_question(self, camden_lns_client):
        plan = make_plan(CAMDEN, round_or_tranche="2022-23")
        bank = QuestionSet.objects.latest_version()
        first, second = bank.questions.all()[:2]
        answer(plan, concern="none", key=first.key)
        response = camden_lns_client.get(HOME)
        [listed] = response.context["needs"].plans_to_answer
        assert listed == plan
        assert listed.next_question == second
        total = checklist_questions().count()  # an SV plan's
        page = text(response)
        assert f"{total - 1} of {total}" in page
        assert reverse("plans:answer", kwargs={"pk": plan.pk, "key": second.key}) in page

    def test_a_plan_not_started_asks_its_first_question(self, camden_lns_client):
        make_plan(CAMDEN)
        [listed] = needs(camden_lns_client).plans_to_answer
        assert listed.next_question == QuestionSet.objects.latest_version().questions.first()

    def test_a_carried_forward_answer_is_still_to_confirm(self, camden_lns_client, camden_lns):
        plan = make_plan(CAMDEN)
        bank = QuestionSet.objects.latest_version()
        for question in checklist_questions():
            answer(plan, concern="none", key=question.key)
        assert needs(camden_lns_client).plans_to_answer == []
        revision = revise_plan(plan=plan, user=camden_lns)
        [listed] = needs(camden_lns_client).plans_to_answer
        assert listed == revision
        assert listed.next_question == bank.questions.first()

    def test_every_question_answered_says_so(self, camden_lns_client):
        plan = make_plan(CAMDEN)
        for question in checklist_questions():
            answer(plan, concern="none", key=question.key)
        action(owner=make_user(), due_on=TODAY - DAY)  # so the blocks show
        page = text(camden_lns_client.get(HOME))
        assert "Every checklist question on your authorities' plans is answered." in page

    def test_only_plans_i_may_answer_that_are_not_finished(
        self, client_for, camden_lns_client, camden_senco_lead
    ):
        make_plan(KENT)
        make_plan(CAMDEN, status="ended", round_or_tranche="old")
        assert needs(camden_lns_client).plans_to_answer == []
        live = make_plan(CAMDEN, round_or_tranche="new")
        assert needs(camden_lns_client).plans_to_answer == [live]
        # A SENCO lead reads Camden's plans but does not answer the checklist.
        assert needs(client_for(camden_senco_lead)).plans_to_answer == []

    def test_a_national_officer_is_asked_only_about_their_own_plans(
        self, national_officer, national_officer_client
    ):
        # The 84 known plans are loaded and none is answered yet: they may
        # answer any of them, but none is theirs.
        open_plans = Plan.objects.current().exclude(status__in=["completed", "ended"])
        found = needs(national_officer_client)
        assert found.plans_to_answer == []
        assert found.other_plan_count == open_plans.count()
        # Theirs: a plan at an authority where they also hold a role, one
        # whose checklist they have answered on, one they changed last.
        Membership.objects.create(
            user=national_officer, role=Role.LNS, authority=authority(CAMDEN)
        )
        at_camden = make_plan(CAMDEN, round_or_tranche="2025-26")
        bury = open_plans.get(authority__name="Bury", programme__code="sv")
        answer(bury, concern="none", answered_by=national_officer)
        kent = open_plans.get(authority__name="Kent")
        edit = resubmit(
            national_officer_client,
            reverse("plans:edit", args=[kent.pk]),
            summary="Checked with the LNS.",
        )
        assert edit.status_code == 302
        # Someone else answering on a plan does not make it theirs.
        answer(open_plans.get(authority__name="Dorset"), concern="none", answered_by=make_user())
        response = national_officer_client.get(HOME)
        found = response.context["needs"]
        assert {plan.pk for plan in found.plans_to_answer} == {at_camden.pk, bury.pk, kent.pk}
        assert found.plan_count == 3
        assert found.other_plan_count == open_plans.count() - 3
        page = text(response)
        assert "those you were the last to change" in page
        assert (
            f"{found.other_plan_count} other plans in England have checklist questions "
            "not answered yet."
        ) in page
        assert f'href="{reverse("dashboards:overview")}?sort=checklist"' in page

    def test_an_lns_is_asked_about_every_plan_where_they_answer(self, camden_lns_client):
        plans = [make_plan(CAMDEN, round_or_tranche=f"R{n}") for n in range(12)]
        response = camden_lns_client.get(HOME)
        found = response.context["needs"]
        assert len(found.plans_to_answer) == 10
        assert (found.plan_count, found.other_plan_count) == (len(plans), 0)
        page = text(response)
        assert "Showing 10 of 12 plans." in page
        assert "other plan" not in page


class TestMeetingsWithoutOutcome:
    def test_a_recent_meeting_with_nothing_recorded_is_listed(self, camden_lns_client):
        waiting = meeting(held_on=TODAY - 10 * DAY)
        meeting(held_on=TODAY - 9 * DAY, decisions="Agreed the 0.5% transfer.")
        meeting(held_on=TODAY - 8 * DAY, summary="The plan was presented.")
        meeting(held_on=TODAY - 91 * DAY)  # too long ago
        meeting(KENT, held_on=TODAY - 10 * DAY)
        response = camden_lns_client.get(HOME)
        assert response.context["needs"].meetings == [waiting]
        page = text(response)
        assert "with nothing recorded under “What happened” or “Decisions”" in page
        assert reverse("consultations:edit", kwargs={"pk": waiting.pk}) in page

    def test_a_confidential_meeting_is_asked_of_those_who_read_it(
        self, camden_lns_client, national_officer_client
    ):
        waiting = meeting(confidential=True)
        assert needs(camden_lns_client).meetings == [waiting]
        assert needs(national_officer_client).meetings == [waiting]

    def test_none_waiting_says_so(self, camden_lns_client):
        meeting(decisions="Noted.")
        action(owner=make_user(), due_on=TODAY - DAY)  # so the blocks show
        assert "Every meeting has its outcome logged." in text(camden_lns_client.get(HOME))

    def test_more_than_ten_are_counted(self, camden_lns_client):
        for n in range(12):
            meeting(held_on=TODAY - n * DAY)
        response = camden_lns_client.get(HOME)
        assert len(response.context["needs"].meetings) == 10
        assert "Showing the 10 newest of 12 meetings." in text(response)


class TestNewWarnings:
    def test_new_warnings_in_my_scope_are_listed_old_ones_not(self, camden_lns_client):
        new = instalment(make_plan(CAMDEN, round_or_tranche="new"))
        old = instalment(make_plan(CAMDEN, round_or_tranche="old"))
        set_since(old, TODAY - 31 * DAY)
        instalment(make_plan(KENT))
        response = camden_lns_client.get(HOME)
        assert [w.subject for w in response.context["needs"].warnings] == [new]
        page = text(response)
        assert "New early warnings" in page
        assert "£5,000,000 instalment for 2025-26 withheld (SV new)" in page

    def test_a_warning_the_reader_may_not_see_is_not_listed(self, client_for, camden_senco_lead):
        action(due_on=TODAY - DAY, meeting=meeting(confidential=True))
        assert needs(client_for(camden_senco_lead)).warnings == []

    def test_none_new_says_so(self, camden_lns_client, camden_lns):
        action(owner=camden_lns, due_on=TODAY - DAY)
        assert "No new warnings." in text(camden_lns_client.get(HOME))


def fill(la_codes, rows):
    """`rows` of everything "what needs you" reads, at each authority."""
    sv = Programme.objects.get(code="sv")
    bank = QuestionSet.objects.latest_version()
    first = bank.questions.first()
    owner = make_user()
    for la in LocalAuthority.objects.filter(la_code__in=la_codes):
        for n in range(rows):
            plan = Plan.objects.create(
                authority=la,
                programme=sv,
                round_or_tranche=f"R{n}",
                status="agreed",
                agreement_date=TODAY - DAY,
            )
            assessment = Assessment.objects.create(plan=plan, question_set=bank)
            Answer.objects.create(
                assessment=assessment, question=first, response="no", concern="serious"
            )
            instalment(plan)
            Meeting.objects.create(authority=la, forum="jcnc", held_on=TODAY - n * DAY)
            Action.objects.create(authority=la, title=f"A{n}", owner=owner, due_on=TODAY - DAY)


# The new warnings: counted from the index of open warnings in one query
# (with every open warning beside, for the link to the warnings page), the
# feedback tallies for rising waits, the newest ten from the index, then the
# records of each kind among them (dashboards/warnings.warning_summary): one
# query for each kind read, at most one for each kind there is.
def new_warning_queries(kinds_read):
    assert kinds_read <= len(KINDS)
    return 3 + kinds_read


class TestQueryCount:
    """The home page costs no more however many rows."""

    # fill() makes four kinds: with one row each all four are among the ten
    # newest; with twelve, the ten newest are of one kind (of the day's, the
    # instalments held back, first by kind), and the rest are not read.
    @pytest.mark.parametrize(("rows", "kinds_read"), [(1, 4), (12, 1)])
    def test_for_an_lns(
        self, camden_lns_client, camden_lns, django_assert_num_queries, rows, kinds_read
    ):
        fill([CAMDEN], rows)
        for n in range(rows):
            action(owner=camden_lns, due_on=TODAY - DAY, title=f"Mine {n}")
        # Session, user, memberships, my actions, my authorities with who
        # covers them (3; their count is the list's length): 7 (no regions:
        # an LNS covers none, User.held). Then the plans to answer (the
        # plans, their questions and answers: 3), the meetings (count and
        # rows: 2), the warnings, and the national timeline's next dates: 1.
        with django_assert_num_queries(7 + 3 + 2 + new_warning_queries(kinds_read) + 1):
            response = camden_lns_client.get(HOME)
        found = response.context["needs"]
        assert len(found.overdue_actions) == rows
        assert len(found.plans_to_answer) == min(rows, 10)
        assert found.meeting_count == rows
        assert found.warning_count == rows * 4  # not consulted, withheld, concern, action
        # Every open one, the reader's own overdue actions too.
        assert response.context["warning_total"] == rows * 5
        assert response.context["authority_count"] == 1  # Camden

    @pytest.mark.parametrize(("authorities", "kinds_read"), [(1, 4), (10, 3), (150, 3)])
    def test_for_a_national_officer(
        self, national_officer_client, django_assert_num_queries, authorities, kinds_read
    ):
        la_codes = LocalAuthority.objects.order_by("name").values_list("la_code", flat=True)
        fill(list(la_codes[:authorities]), 1)
        # As for an LNS, with the regions (1) and less the authorities with
        # who covers them (3): national scope is shown its regions, whose
        # counts add up to every authority.
        with django_assert_num_queries(7 + 3 + 2 + new_warning_queries(kinds_read) + 1 + 1 - 3):
            response = national_officer_client.get(HOME)
        found = response.context["needs"]
        assert found.meeting_count == authorities
        assert found.warning_count == authorities * 4
        assert response.context["authority_count"] == LocalAuthority.objects.count()


def test_the_home_page_for_an_organiser_of_a_region(client_for):
    organiser = make_user(roles=[(Role.REGIONAL_ORGANISER, region("London"))])
    instalment(make_plan(CAMDEN))
    instalment(make_plan(KENT))
    found = needs(client_for(organiser))
    assert [w.authority for w in found.warnings] == [authority(CAMDEN)]


def test_your_authorities_names_the_first_three_who_cover_each(client_for, camden_lns):
    """As on the region page (dashboards/_covered_by.html): at ten times
    the data every name made an organiser's Home a megabyte."""
    organiser = make_user(roles=[(Role.REGIONAL_ORGANISER, region("London"))])
    for n in range(4):
        make_user(f"camden.rep{n}@example.org", roles=[(Role.SENCO_LEAD, authority(CAMDEN))])
    content = client_for(organiser).get(HOME).content.decode()
    start = content.index('href="/authorities/camden/">Camden</a></th>')
    row = content[start : content.index("</tr>", start)]
    # Five cover Camden: three named, the rest a link to its page.
    assert row.count("govuk-!-font-size-14") == 3
    assert re.search(r"and 2 more<span[^>]*> covering Camden</span>", row)
    assert 'href="/authorities/camden/#coverage"' in row
