"""The printable briefing pack: what a secretary takes into a Schools Forum
or JCNC meeting. It never shows private notes, says who produced it and
when, may be narrowed to one plan, and keeps small numbers suppressed."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from authorities.models import AuthorityFinance
from consultations.models import Action, Meeting, SchoolsForumOutcome
from feedback.models import FeedbackSubmission
from plans.models import FundingInstalment, Target, TargetUpdate

from .factories import CAMDEN, KENT, authority, make_plan
from .rendering import queries_while_rendering
from .test_authority_dashboard import answer, fill_camden, text

PACK = reverse("dashboards:briefing", args=["camden"])


def pack_for(plan):
    return f"{PACK}?plan={plan.pk}"


@pytest.fixture
def plan(camden):
    plan = make_plan(
        CAMDEN,
        round_or_tranche="2023-24",
        agreement_date=date(2024, 3, 1),
        total_funding=Decimal("24600000"),
        summary="Cut new EHCPs by a fifth and move placements to mainstream.",
        document_url="https://example.org/camden-sv-plan.pdf",
    )
    FundingInstalment.objects.create(
        plan=plan, financial_year=2024, amount=Decimal("5000000"), status="withheld"
    )
    target = Target.objects.create(plan=plan, description="Fewer new EHCPs", goal="ehcp_demand")
    TargetUpdate.objects.create(target=target, status="off_track", reason="Tribunals")
    return plan


class TestContents:
    def test_the_plan_money_checklist_and_questions(self, camden_lns_client, plan):
        answer(plan, "cuts-not-efficiency", concern="some", evidence="Cabinet paper p.12")
        answer(plan, "pressures-on-school-system", concern="serious", response="no")
        answer(plan, "extra-funding-amount", concern="none", response="yes")
        answer(plan, "dsg-transfer-to-high-needs", concern="none", response="not_known")
        page = text(camden_lns_client.get(PACK))
        assert "SV 2023-24: Safety Valve" in page
        assert "No consultation of the union was logged before it was agreed." in page
        assert "Cut new EHCPs by a fifth" in page
        assert "https://example.org/camden-sv-plan.pdf" in page
        assert "Total extra funding £24,600,000" in page
        assert "Withheld £5,000,000" in page
        assert "Fewer new EHCPs" in page
        assert "Off track" in page
        assert "4 of 37 questions answered; 1 of serious concern, 1 of some concern." in page
        # Serious concerns first, then some, then the rest.
        serious = page.index("Will the plan increase pressures on other parts")
        some = page.index("Does the plan seek genuine efficiency")
        assert serious < some < page.index("Answers of no concern")
        assert "Evidence: Cabinet paper p.12" in page
        # Still to ask: unanswered, "not known" and serious; not the "some" one.
        to_ask = page[page.index("Questions still to ask") :]
        assert "35 questions" in to_ask  # 33 unanswered, 1 not known, 1 serious
        assert "(answered “not known”)" in to_ask
        # In the briefing's own words, not the checklist's.
        assert (
            "Will the proposals increase pressures on other parts of the school system? (serious"
            in (to_ask)
        )
        assert "Will the plan increase pressures" not in to_ask
        assert "Does the plan seek genuine efficiency" not in to_ask
        assert "shift the focus from plans" not in to_ask

    def test_the_schools_forum_questions_members_actions_and_money(
        self, camden_lns_client, camden_lns, camden
    ):
        meeting = Meeting.objects.create(
            authority=camden, forum="schools_forum", held_on=date(2026, 1, 15)
        )
        SchoolsForumOutcome.objects.create(
            meeting=meeting,
            nhs_contribution="Nothing identified",
            nhs_contribution_amount=Decimal("0"),
        )
        Action.objects.create(authority=camden, title="Ask for the NHS figures", owner=camden_lns)
        AuthorityFinance.objects.create(
            authority=camden,
            financial_year=2024,
            dsg_cumulative_deficit=Decimal("24600000"),
            dsg_cumulative_deficit_source_url="https://example.org/dsg",
        )
        for _ in range(5):
            FeedbackSubmission.objects.create(
                authority=camden,
                source="senco_network",
                phases=["primary"],
                people_count=4,
                meeting_date=date(2026, 1, 10),
                health_care_costs="no",
                assessment_wait_weeks=30,
            )
        page = text(camden_lns_client.get(PACK))
        assert "What does the NHS contribute to the EHCPs" in page
        assert "Nothing identified £0 Recorded at the Schools Forum of 15 January 2026" in page
        assert page.count("No answer recorded yet") == 2
        assert "Submissions 5" in page
        assert "30 weeks (median)" in page
        assert "Ask for the NHS figures" in page
        assert "The DSG deficit was £24.6m in 2024-25." in page
        assert "No Safety Valve, Delivering Better Value or other recovery plan" in page

    def test_the_footer_says_when_and_by_whom(self, camden_lns_client, camden):
        response = camden_lns_client.get(PACK)
        produced = response.context["produced_at"]
        assert f"Produced on {produced:%-d %B %Y} at {produced:%H:%M} by Carys Evans" in text(
            response
        )
        assert "(camden.lns@example.org)" in text(response)

    def test_the_print_button_waits_for_javascript(self, camden_lns_client, camden):
        content = camden_lns_client.get(PACK).content.decode()
        assert "data-app-print hidden>Print this page</button>" in content

    def test_linked_from_the_authority_and_plan_pages(self, camden_lns_client, plan):
        authority_page = camden_lns_client.get(reverse("dashboards:authority", args=["camden"]))
        assert f'href="{PACK}"' in authority_page.content.decode()
        plan_page = camden_lns_client.get(plan.get_absolute_url()).content.decode()
        assert f'href="{pack_for(plan)}"' in plan_page


class TestPrivacy:
    @pytest.mark.parametrize("persona", ["camden_lns", "national_officer"])
    def test_private_notes_never_appear(self, request, client_for, plan, persona):
        """Even for the people who may read them on the answer's page."""
        note = answer(plan, "cuts-not-efficiency", concern="serious", private_notes="Before")
        note.private_notes = "Heard from the head of Quagga Primary"
        note.save()
        client = client_for(request.getfixturevalue(persona))
        answer_page = reverse("plans:answer", kwargs={"pk": plan.pk, "key": "cuts-not-efficiency"})
        assert "Quagga Primary" in client.get(answer_page).content.decode()
        for url in (PACK, pack_for(plan)):
            assert "Quagga Primary" not in client.get(url).content.decode()

    def test_small_numbers_stay_suppressed(self, client_for, london_organiser, national_officer):
        for weeks in (12, 40):
            FeedbackSubmission.objects.create(
                authority=authority(CAMDEN),
                source="senco_network",
                phases=["primary"],
                people_count=4,
                meeting_date=date(2026, 1, 10),
                health_care_costs="no",
                assessment_wait_weeks=weeks,
            )
        page = text(client_for(london_organiser).get(PACK))
        assert "Submissions fewer than 5" in page
        assert "26 weeks" not in page
        assert "Figures are shown once there are at least 5 submissions" in page
        assert "Submissions 2" in text(client_for(national_officer).get(PACK))

    def test_confidential_meetings_are_left_out(self, camden_lns_client, camden_lns, camden):
        secret = Meeting.objects.create(
            authority=camden, forum="schools_forum", held_on=date(2026, 2, 1), confidential=True
        )
        SchoolsForumOutcome.objects.create(meeting=secret, extra_funding="Secret £9m")
        Action.objects.create(authority=camden, title="Secret follow-up", meeting=secret)
        page = text(camden_lns_client.get(PACK))
        assert "Secret £9m" not in page
        assert "Secret follow-up" not in page
        # The authority's page, which keeps the app's access rules, shows them.
        assert "Secret £9m" in text(
            camden_lns_client.get(reverse("dashboards:authority", args=["camden"]))
        )


class TestOnePlan:
    def test_only_the_chosen_plan(self, camden_lns_client, plan):
        other = make_plan(CAMDEN, programme="dbv", round_or_tranche="Tranche 2")
        page = text(camden_lns_client.get(pack_for(plan)))
        assert "Briefing pack: SV 2023-24" in page
        assert "DBV Tranche 2" not in page
        whole = text(camden_lns_client.get(PACK))
        assert "SV 2023-24" in whole
        assert f"{other.programme.short_name} Tranche 2" in whole

    def test_a_revised_plan_may_be_chosen_but_is_not_current(self, camden_lns_client, plan):
        make_plan(CAMDEN, round_or_tranche="2023-24", revision=2, revision_of=plan)
        assert len(camden_lns_client.get(PACK).context["pack"].plans) == 1
        assert "SV 2023-24 (revision 2)" in text(camden_lns_client.get(PACK))
        response = camden_lns_client.get(pack_for(plan))
        assert [item.plan for item in response.context["pack"].plans] == [plan]

    def test_another_authoritys_plan_is_not_found(
        self, camden_lns_client, national_officer_client, camden
    ):
        kent_plan = make_plan(KENT)
        # Out of scope for Camden's LNS; in scope for a national officer, but not Camden's.
        assert camden_lns_client.get(pack_for(kent_plan)).status_code == 404
        assert national_officer_client.get(pack_for(kent_plan)).status_code == 404

    @pytest.mark.parametrize(
        "value", ["abc", "1.5", "-1", "99999999999999999999", "²", "0", "1 OR 1=1", "999999"]
    )
    def test_a_bad_plan_value_is_not_found(self, camden_lns_client, camden, value):
        assert camden_lns_client.get(PACK, {"plan": value}).status_code == 404

    def test_an_empty_plan_value_is_the_whole_pack(self, camden_lns_client, plan):
        response = camden_lns_client.get(PACK, {"plan": ""})
        assert response.status_code == 200
        assert not response.context["pack"].one_plan


# Session and user; the authority; the plans with their checklist counts
# (the latest question bank and its size, then the plans), targets with
# their latest progress; answers and instalments (their totals added up
# from them); the questions still to ask (with the answers above); the
# finance years; the Schools Forum's answers; the feedback; the actions;
# the official figures and the area SEND inspections; the audit trail's
# record of the opening; the meetings and the block transfers with their
# votes (issue 17: the pack left them out).
BRIEFING_QUERIES = 17


class TestQueryCount:
    @pytest.mark.parametrize("rows", [1, 6])
    @pytest.mark.parametrize("persona", ["camden_lns", "national_officer"])
    def test_pinned(self, request, camden, client_for, django_assert_num_queries, rows, persona):
        user = request.getfixturevalue(persona)
        fill_camden(rows, owner=user)
        client = client_for(user)
        with django_assert_num_queries(BRIEFING_QUERIES):
            response = client.get(PACK)
        assert len(response.context["pack"].plans) == rows

    @pytest.mark.parametrize("rows", [1, 6])
    def test_one_plan_is_pinned_too(self, camden_lns_client, django_assert_num_queries, rows):
        plans = fill_camden(rows)
        with django_assert_num_queries(BRIEFING_QUERIES):
            camden_lns_client.get(pack_for(plans[-1]))

    @pytest.mark.parametrize("rows", [1, 6])
    def test_no_queries_while_rendering(self, camden_lns_client, camden_lns, rows):
        fill_camden(rows, owner=camden_lns)
        response, queries = queries_while_rendering(
            camden_lns_client, PACK, "dashboards/briefing.html"
        )
        assert response.status_code == 200
        assert queries == []
