"""Meetings, Schools Forum outcomes with block transfers, actions and their
reminders, as each persona meets them."""

import datetime
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from authorities.access import Role
from consultations.models import (
    Action,
    BlockTransfer,
    Meeting,
    SchoolsForumOutcome,
    plans_agreed_without_consultation,
)
from consultations.services import add_starter_actions, send_overdue_reminders
from plans.models import Answer, EvidenceLink, Plan
from plans.services import assessment_for

from .conftest import PERSONAS
from .factories import CAMDEN, KENT, authority, make_plan, make_user, region
from .test_authorities import REGION_PAGE_QUERIES

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def make_meeting(la_code=CAMDEN, **fields):
    fields.setdefault("forum", "schools_forum")
    fields.setdefault("held_on", TODAY - 30 * DAY)
    return Meeting.objects.create(authority=authority(la_code), **fields)


def meeting_data(**overrides):
    """A valid Schools Forum meeting with its answers and block transfer, as
    a browser posts the meeting form."""
    data = {
        "forum": "schools_forum",
        "title": "",
        "held_on": (TODAY - 7 * DAY).isoformat(),
        "union_invited": "yes",
        "union_attended": "yes",
        "union_consulted": "no",
        "plan": "",
        "plan_draft": "",
        "attendees": "Carys Evans",
        "summary": "The DBV plan was presented as decided.",
        "decisions": "",
        "next_steps": "",
        "minutes_url": "",
        "minutes_page": "",
        "forum-funding_on_agenda": "yes",
        "forum-proposals_discussed": "yes",
        "forum-extra_funding": "About £1m implementation grant.",
        "forum-extra_funding_amount": "1000000",
        "forum-extra_funding_source": "Director of Children's Services",
        "forum-dsg_transfer": "A 0.5% transfer is recommended.",
        "forum-dsg_transfer_amount": "",
        "forum-dsg_transfer_source": "",
        "forum-nhs_contribution": "",
        "forum-nhs_contribution_amount": "",
        "forum-nhs_contribution_source": "",
        "transfer-financial_year": "2026",
        "transfer-amount": "1200000",
        "transfer-percent": "0.5",
        "transfer-votes_for": "9",
        "transfer-votes_against": "6",
        "transfer-abstentions": "1",
        "transfer-outcome": "agreed",
        "transfer-disapplication_request": "not_known",
        "transfer-note": "",
        # The version the form was opened at (edits only: authorities/edits.py).
        "base_version": "1",
    }
    return data | overrides


BLANK_FORUM_PARTS = {
    "forum-funding_on_agenda": "not_known",
    "forum-proposals_discussed": "not_known",
    "forum-extra_funding": "",
    "forum-extra_funding_amount": "",
    "forum-extra_funding_source": "",
    "forum-dsg_transfer": "",
    "transfer-financial_year": "",
    "transfer-amount": "",
    "transfer-percent": "",
    "transfer-votes_for": "",
    "transfer-votes_against": "",
    "transfer-abstentions": "",
    "transfer-outcome": "proposed",
}

ADD = reverse("consultations:add", args=["camden"])


def text(response):
    return response.content.decode()


class TestLoggingAMeeting:
    def test_a_forum_rep_logs_a_schools_forum_meeting_with_its_vote(
        self, client_for, camden_forum_rep
    ):
        response = client_for(camden_forum_rep).post(ADD, meeting_data())
        meeting = Meeting.objects.get()
        assert response["Location"] == meeting.get_absolute_url()
        assert meeting.created_by == camden_forum_rep
        assert meeting.forum_outcome.extra_funding_amount == Decimal("1000000")
        transfer = meeting.block_transfer
        assert (transfer.financial_year, transfer.percent) == (2026, Decimal("0.5"))
        assert transfer.vote == "9 for, 6 against, 1 abstention"
        assert meeting.history.get().history_user == camden_forum_rep

        page = text(client_for(camden_forum_rep).get(meeting.get_absolute_url()))
        assert "About £1m implementation grant." in page
        assert "£1,000,000" in page
        assert "£1,200,000" in page
        assert "9 for, 6 against, 1 abstention" in page

    def test_a_jcnc_meeting_needs_only_the_first_questions(self, camden_lns_client):
        data = {
            "forum": "jcnc",
            "held_on": TODAY.isoformat(),
            "union_invited": "no",
            "union_attended": "no",
            "union_consulted": "no",
            **BLANK_FORUM_PARTS,
            "transfer-disapplication_request": "not_known",
        }
        response = camden_lns_client.post(ADD, data)
        assert response.status_code == 302
        meeting = Meeting.objects.get()
        assert meeting.get_forum_display() == "JCNC"
        assert not SchoolsForumOutcome.objects.exists()
        assert not BlockTransfer.objects.exists()

    def test_the_three_union_questions_must_be_answered(self, camden_lns_client):
        response = camden_lns_client.post(ADD, {"forum": "jcc", "held_on": TODAY.isoformat()})
        assert response.status_code == 200
        assert "Say whether the union was invited" in text(response)
        assert "Say whether the union was consulted before the decision" in text(response)
        assert not Meeting.objects.exists()

    def test_a_meeting_cannot_be_held_in_the_future(self, camden_lns_client):
        tomorrow = (TODAY + DAY).isoformat()
        response = camden_lns_client.post(ADD, meeting_data(held_on=tomorrow))
        assert response.status_code == 200
        assert "The date of the meeting must be today or in the past" in text(response)
        assert f'value="{tomorrow}"' in text(response)  # nothing lost
        assert not Meeting.objects.exists()

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("transfer-votes_against", "-2", "The votes against cannot be fewer than 0"),
            ("transfer-votes_for", "lots", "Enter the votes for as a whole number, like 12"),
            ("transfer-percent", "150", "Enter a percentage of 100 or less"),
            ("forum-extra_funding_amount", "-5", "Enter an amount of £0 or more"),
        ],
    )
    def test_bad_figures_save_nothing_and_keep_the_input(
        self, camden_lns_client, field, value, message
    ):
        response = camden_lns_client.post(ADD, meeting_data(**{field: value}))
        assert response.status_code == 200
        assert message in text(response)
        assert "There is a problem" in text(response)
        assert "The DBV plan was presented as decided." in text(response)
        assert not Meeting.objects.exists()
        assert not BlockTransfer.objects.exists()

    def test_a_transfer_needs_its_year_and_an_amount_or_percentage(self, camden_lns_client):
        response = camden_lns_client.post(
            ADD,
            meeting_data(
                **{"transfer-financial_year": "", "transfer-amount": "", "transfer-percent": ""}
            ),
        )
        assert "Choose the financial year of the transfer" in text(response)
        assert "Enter the amount, the percentage, or both" in text(response)
        assert not Meeting.objects.exists()

    def test_schools_forum_answers_belong_to_schools_forum_meetings(self, camden_lns_client):
        response = camden_lns_client.post(ADD, meeting_data(forum="jcc"))
        assert "Schools Forum answers and block transfers are for Schools Forum meetings" in (
            text(response)
        )
        assert not Meeting.objects.exists()

    def test_clearing_the_transfer_on_edit_removes_it(self, camden_lns_client):
        camden_lns_client.post(ADD, meeting_data())
        meeting = Meeting.objects.get()
        blank_transfer = {k: v for k, v in BLANK_FORUM_PARTS.items() if k.startswith("transfer-")}
        response = camden_lns_client.post(
            reverse("consultations:edit", args=[meeting.pk]), meeting_data(**blank_transfer)
        )
        assert response.status_code == 302
        assert not BlockTransfer.objects.exists()
        assert SchoolsForumOutcome.objects.filter(meeting=meeting).exists()

    def test_a_plan_of_another_authority_cannot_be_chosen(self, camden_lns_client):
        kent_plan = make_plan("886", round_or_tranche="x")
        response = camden_lns_client.post(ADD, meeting_data(plan=kent_plan.pk))
        assert "Select a valid choice" in text(response)
        assert not Meeting.objects.exists()

    def test_readers_may_not_log_meetings(self, client_for, london_organiser, camden_senco_lead):
        for person in (london_organiser, camden_senco_lead):
            assert client_for(person).post(ADD, meeting_data()).status_code == 403
        assert not Meeting.objects.exists()


class TestAVoteThatContradictsItsOutcome:
    """More for than against yet "not agreed", or the reverse: the form asks
    whether both are right, and saves nothing until the person says so or
    corrects one of them. What was saved so before is not asked again."""

    QUESTION = "correct the votes or the outcome, or tick to say that both are right"
    CONFIRM = "Yes, the vote and the outcome are both right"

    def contradicting(self, **overrides):
        vote = {
            "transfer-votes_for": "19",
            "transfer-votes_against": "12",
            "transfer-outcome": "not_agreed",
        }
        return meeting_data(**vote | overrides)

    def test_it_is_asked_about_and_nothing_is_saved(self, camden_lns_client):
        response = camden_lns_client.post(ADD, self.contradicting())
        page = text(response)
        assert response.status_code == 200
        assert "There is a problem" in page
        assert (
            "The vote was 19 for and 12 against, but the outcome says "
            f"“Not agreed by the forum”: {self.QUESTION}"
        ) in page
        assert self.CONFIRM in page
        assert 'href="#id_transfer-confirm_vote"' in page  # the summary links to the box
        # Everything typed is kept.
        assert 'value="19"' in page
        assert "The DBV plan was presented as decided." in page
        assert not Meeting.objects.exists()
        assert not BlockTransfer.objects.exists()

    def test_ticking_that_both_are_right_saves_it(self, camden_lns_client):
        response = camden_lns_client.post(
            ADD, self.contradicting(**{"transfer-confirm_vote": "on"})
        )
        assert response.status_code == 302
        transfer = BlockTransfer.objects.get()
        assert (transfer.vote, transfer.outcome) == (
            "19 for, 12 against, 1 abstention",
            BlockTransfer.Outcome.NOT_AGREED,
        )

    def test_correcting_the_outcome_saves_it_without_asking(self, camden_lns_client):
        asked = camden_lns_client.post(ADD, meeting_data(**{"transfer-votes_for": "3"}))
        assert "but the outcome says “Agreed by the forum”" in text(asked)
        assert not Meeting.objects.exists()
        response = camden_lns_client.post(
            ADD, meeting_data(**{"transfer-votes_for": "3", "transfer-outcome": "not_agreed"})
        )
        assert response.status_code == 302
        assert BlockTransfer.objects.get().outcome == BlockTransfer.Outcome.NOT_AGREED

    @pytest.mark.parametrize(
        ("votes_for", "votes_against", "outcome"),
        [
            ("9", "9", "agreed"),  # a tie: the chair's casting vote
            ("9", "9", "not_agreed"),
            ("19", "12", "proposed"),
            ("19", "12", "withdrawn"),
            ("19", "", "not_agreed"),  # only one count given
        ],
    )
    def test_a_vote_that_does_not_contradict_is_not_asked_about(
        self, camden_lns_client, votes_for, votes_against, outcome
    ):
        data = meeting_data(
            **{
                "transfer-votes_for": votes_for,
                "transfer-votes_against": votes_against,
                "transfer-outcome": outcome,
            }
        )
        response = camden_lns_client.post(ADD, data)
        assert response.status_code == 302
        assert self.CONFIRM not in text(camden_lns_client.get(response["Location"]))

    def test_a_confirmed_vote_is_not_asked_about_again(self, camden_lns_client):
        camden_lns_client.post(ADD, self.contradicting(**{"transfer-confirm_vote": "on"}))
        meeting = Meeting.objects.get()
        url = reverse("consultations:edit", args=[meeting.pk])
        assert self.CONFIRM not in text(camden_lns_client.get(url))

        # Saved again as it was, or with another change: not asked.
        response = camden_lns_client.post(url, self.contradicting(), follow=True)
        assert "Nothing changed" in text(response)
        response = camden_lns_client.post(url, self.contradicting(**{"transfer-note": "Noted."}))
        assert response.status_code == 302
        meeting.refresh_from_db()
        assert meeting.block_transfer.note == "Noted."

        # A different vote that still contradicts the outcome is asked about.
        data = self.contradicting(
            **{"transfer-votes_for": "20", "transfer-note": "Noted.", "base_version": "2"}
        )
        response = camden_lns_client.post(url, data)
        assert "The vote was 20 for and 12 against" in text(response)
        assert BlockTransfer.objects.get().votes_for == 19

    def test_the_tick_alone_is_no_transfer(self, camden_lns_client):
        """A box ticked and then the transfer cleared: no transfer, no error."""
        blank = {k: v for k, v in BLANK_FORUM_PARTS.items() if k.startswith("transfer-")}
        response = camden_lns_client.post(
            ADD, meeting_data(**blank, **{"transfer-confirm_vote": "on"})
        )
        assert response.status_code == 302
        assert not BlockTransfer.objects.exists()


CONFIDENTIAL_READERS = {"national_officer", "camden_lns", "camden_forum_rep"}


class TestConfidentialMeetings:
    """Confidential: national officers and Camden's LNS, Schools Forum and
    JCNC/JCC representatives only. Organisers and network leads in scope get
    a 404 and never see it counted."""

    @pytest.mark.parametrize("persona", PERSONAS)
    def test_who_may_open_it(self, request, client_for, persona):
        meeting = make_meeting(confidential=True)
        response = client_for(request.getfixturevalue(persona)).get(meeting.get_absolute_url())
        assert response.status_code == (200 if persona in CONFIDENTIAL_READERS else 404)

    @pytest.mark.parametrize("persona", ["london_organiser", "camden_senco_lead", "camden_lns"])
    def test_it_is_not_counted_for_others(self, request, client_for, persona):
        make_meeting(confidential=True, title="Secret JCNC", forum="other")
        make_meeting(title="Open forum")
        client = client_for(request.getfixturevalue(persona))
        listed = client.get(reverse("consultations:list")).context["page"].paginator.count
        page = text(client.get(reverse("dashboards:authority", args=["camden"])))
        if persona == "camden_lns":
            assert listed == 2
            assert "Secret JCNC" in page
        else:
            assert listed == 1
            assert "Secret JCNC" not in page

    def test_its_block_transfer_and_actions_are_hidden_too(
        self, client_for, london_organiser, camden_lns
    ):
        meeting = make_meeting(confidential=True)
        BlockTransfer.objects.create(meeting=meeting, financial_year=2026, amount=5)
        Action.objects.create(authority=meeting.authority, meeting=meeting, title="Secret")
        assert not BlockTransfer.objects.for_user(london_organiser).exists()
        assert not Action.objects.for_user(london_organiser).exists()
        assert BlockTransfer.objects.for_user(camden_lns).exists()
        assert Action.objects.for_user(camden_lns).exists()


class TestMeetingLists:
    def test_filter_by_forum_consulted_and_date(self, camden_lns_client):
        make_meeting(forum="jcnc", union_consulted="yes", held_on=TODAY - 40 * DAY)
        make_meeting(forum="jcnc", union_consulted="no", held_on=TODAY - 10 * DAY)
        make_meeting(forum="schools_forum", union_consulted="no", held_on=TODAY - 5 * DAY)
        url = reverse("consultations:authority_list", args=["camden"])

        def count(**query):
            return camden_lns_client.get(url, query).context["page"].paginator.count

        assert count() == 3
        assert count(forum="jcnc") == 2
        assert count(forum="jcnc", consulted="no") == 1
        assert count(held_from=(TODAY - 20 * DAY).isoformat()) == 2
        assert count(held_to=(TODAY - 20 * DAY).isoformat()) == 1

    def test_a_bad_filter_is_reported(self, camden_lns_client):
        response = camden_lns_client.get(reverse("consultations:list"), {"held_from": "soon"})
        assert "Enter the first date as a real date" in text(response)

    def test_nothing_logged_is_said_plainly(self, camden_lns_client):
        response = camden_lns_client.get(reverse("consultations:authority_list", args=["camden"]))
        assert "None has been logged for Camden yet." in text(response)

    @pytest.mark.parametrize("rows", [3, 30])
    def test_query_count_is_pinned(self, camden_lns_client, django_assert_num_queries, rows):
        plan = make_plan(CAMDEN)
        for n in range(rows):
            meeting = make_meeting(plan=plan, held_on=TODAY - n * DAY)
            BlockTransfer.objects.create(meeting=meeting, financial_year=2025, amount=n)
        # session, user, the page of meetings, its count
        with django_assert_num_queries(4):
            response = camden_lns_client.get(reverse("consultations:list"))
        assert len(response.context["page"]) == rows


class TestAgreedWithoutConsultation:
    @pytest.fixture
    def plan(self, reference_data):
        return make_plan(CAMDEN, agreement_date=TODAY - 10 * DAY)

    def flagged(self, client, plan):
        return client.get(plan.get_absolute_url()).context["consultation_timeline"]

    def test_agreed_with_nothing_logged_is_flagged(self, camden_lns_client, plan):
        assert self.flagged(camden_lns_client, plan).agreed_without_consultation
        assert "Agreed without consultation" in text(
            camden_lns_client.get(plan.get_absolute_url())
        )

    @pytest.mark.parametrize(
        ("forum", "days_before", "consulted", "flagged"),
        [
            ("schools_forum", 20, "yes", False),
            ("jcnc", 20, "yes", False),
            ("senco_network", 20, "yes", False),
            ("schools_forum", 20, "no", True),  # the union was not consulted
            ("schools_forum", 0, "yes", True),  # on the day it was agreed: not before
            ("schools_forum", -5, "yes", True),  # afterwards
            ("parent_carer_forum", 20, "yes", True),  # not one the briefing names
        ],
    )
    def test_what_counts_as_consultation(
        self, camden_lns_client, plan, forum, days_before, consulted, flagged
    ):
        make_meeting(
            plan=plan,
            forum=forum,
            union_consulted=consulted,
            held_on=plan.agreement_date - days_before * DAY,
        )
        assert self.flagged(camden_lns_client, plan).agreed_without_consultation is flagged
        assert (plan in plans_agreed_without_consultation(Plan.objects.all())) is flagged

    def test_a_plan_not_yet_agreed_is_not_flagged(self, camden_lns_client, reference_data):
        plan = make_plan(CAMDEN, status=Plan.Status.NEGOTIATING)
        assert not self.flagged(camden_lns_client, plan).agreed_without_consultation

    def test_a_confidential_consultation_counts_though_not_shown(
        self, client_for, london_organiser, plan
    ):
        make_meeting(plan=plan, confidential=True, union_consulted="yes", held_on=TODAY - 30 * DAY)
        timeline = self.flagged(client_for(london_organiser), plan)
        assert not timeline.agreed_without_consultation
        assert timeline.meetings == []

    def test_the_timeline_puts_meetings_among_the_plans_dates(self, camden_lns_client, plan):
        plan.first_year = TODAY.year - 1
        plan.save()
        before = make_meeting(plan=plan, held_on=plan.agreement_date - 3 * DAY)
        events = self.flagged(camden_lns_client, plan).events
        assert [e.text for e in events] == ["The plan starts", before.name, "The plan was agreed"]

    def test_the_region_page_lists_plans_agreed_without_consultation(
        self, london_organiser_client, plan
    ):
        response = london_organiser_client.get(reverse("dashboards:region", args=["london"]))
        assert plan in response.context["unconsulted_plans"]
        make_meeting(plan=plan, union_consulted="yes", held_on=TODAY - 60 * DAY)
        response = london_organiser_client.get(reverse("dashboards:region", args=["london"]))
        assert plan not in response.context["unconsulted_plans"]

    def test_the_region_page_lists_the_most_recently_agreed_and_counts_the_rest(
        self, london_organiser_client, reference_data, django_assert_num_queries
    ):
        for n in range(12):
            make_plan(CAMDEN, round_or_tranche=f"R{n}", agreement_date=TODAY - n * DAY)
        consulted = make_plan(CAMDEN, round_or_tranche="Heard", agreement_date=TODAY)
        make_meeting(plan=consulted, union_consulted="yes", held_on=TODAY - DAY)
        page = reverse("dashboards:region", args=["london"])
        london_organiser_client.get(page)  # the session's first request
        # No query more than the page's pin with the newest warnings and one
        # kind among them (tests/test_authorities.py): the count comes with
        # the rows.
        with django_assert_num_queries(REGION_PAGE_QUERIES + 1 + 1):
            response = london_organiser_client.get(page)
        shown = response.context["unconsulted_plans"]
        assert [plan.round_or_tranche for plan in shown] == [f"R{n}" for n in range(10)]
        assert response.context["unconsulted_count"] == 12
        content = text(response)
        assert "The 10 agreed most recently of 12 in London" in content
        filtered = london_organiser_client.get(page + response.context["only_unconsulted"])
        assert [row.authority.name for row in filtered.context["overview"].rows] == ["Camden"]

    def test_the_region_page_lists_a_few_without_a_count(self, london_organiser_client, plan):
        response = london_organiser_client.get(reverse("dashboards:region", args=["london"]))
        assert response.context["unconsulted_plans"] == [plan]
        assert response.context["unconsulted_count"] == 1
        assert "agreed most recently" not in text(response)


class TestCheckListEvidence:
    @pytest.fixture
    def plan(self, reference_data):
        return make_plan(CAMDEN)

    def answer_url(self, plan, key):
        return reverse("plans:answer", kwargs={"pk": plan.pk, "key": key})

    def link_url(self, plan, key, meeting):
        return reverse(
            "consultations:link_evidence",
            kwargs={"pk": plan.pk, "key": key, "meeting_pk": meeting.pk},
        )

    def answer(self, plan, key):
        assessment = assessment_for(plan)
        question = assessment.question_set.questions.get(key=key)
        return Answer.objects.create(
            assessment=assessment, question=question, response="partly", concern="some"
        )

    def forum_meeting(self, **fields):
        meeting = make_meeting(**fields)
        SchoolsForumOutcome.objects.create(
            meeting=meeting, extra_funding="£1.5m over two years", extra_funding_amount=1
        )
        return meeting

    def test_an_answer_is_linked_in_one_click_once(self, client_for, london_organiser, plan):
        meeting = self.forum_meeting()
        answer = self.answer(plan, "extra-funding-amount")
        client = client_for(london_organiser)
        page = text(client.get(self.answer_url(plan, "extra-funding-amount")))
        assert "£1.5m over two years" in page
        assert self.link_url(plan, "extra-funding-amount", meeting) in page

        response = client.post(self.link_url(plan, "extra-funding-amount", meeting))
        assert response["Location"].endswith("#links")
        link = EvidenceLink.objects.get(answer=answer)
        assert link.url == f"http://testserver{meeting.get_absolute_url()}"
        assert link.title == f"Camden: {meeting}"
        assert link.location == "Schools Forum answer"
        assert link.added_by == london_organiser

        client.post(self.link_url(plan, "extra-funding-amount", meeting))
        assert EvidenceLink.objects.filter(answer=answer).count() == 1

    def test_without_an_answer_it_says_answer_first(self, camden_lns_client, plan):
        meeting = self.forum_meeting()
        page = text(camden_lns_client.get(self.answer_url(plan, "extra-funding-amount")))
        assert "Answer the question first" in page
        response = camden_lns_client.post(
            self.link_url(plan, "extra-funding-amount", meeting), follow=True
        )
        assert "Answer the question first" in text(response)
        assert not EvidenceLink.objects.exists()

    def test_only_matching_records_are_offered(self, camden_lns_client, plan):
        self.answer(plan, "nhs-contribution-ehcps")
        meeting = self.forum_meeting()  # answered the extra funding question only
        jcnc = make_meeting(forum="jcnc")
        response = camden_lns_client.get(self.answer_url(plan, "nhs-contribution-ehcps"))
        assert response.context["meeting_evidence"].items == []
        response = camden_lns_client.post(self.link_url(plan, "nhs-contribution-ehcps", meeting))
        assert response.status_code == 404
        offered = camden_lns_client.get(self.answer_url(plan, "jcnc-jcc-consulted")).context
        assert [m for m, _ in offered["meeting_evidence"].items] == [jcnc]
        assert (
            camden_lns_client.get(self.answer_url(plan, "cuts-not-efficiency")).context[
                "meeting_evidence"
            ]
            is None
        )

    def test_confidential_meetings_are_never_offered(self, camden_lns_client, plan):
        self.answer(plan, "extra-funding-amount")
        meeting = self.forum_meeting(confidential=True)
        context = camden_lns_client.get(self.answer_url(plan, "extra-funding-amount")).context
        assert context["meeting_evidence"].items == []
        response = camden_lns_client.post(self.link_url(plan, "extra-funding-amount", meeting))
        assert response.status_code == 404

    def test_readers_may_not_link(self, client_for, camden_senco_lead, kent_lns, plan):
        meeting = self.forum_meeting()
        self.answer(plan, "extra-funding-amount")
        url = self.link_url(plan, "extra-funding-amount", meeting)
        senco = client_for(camden_senco_lead)
        assert (
            senco.get(self.answer_url(plan, "extra-funding-amount")).context["meeting_evidence"]
            is None
        )
        assert senco.post(url).status_code == 403
        assert client_for(kent_lns).post(url).status_code == 404
        assert not EvidenceLink.objects.exists()


class TestActions:
    def test_an_organiser_adds_an_action_for_an_lns(
        self, london_organiser_client, camden_lns, london_organiser
    ):
        meeting = make_meeting()
        url = reverse("consultations:action_add", args=["camden"])
        assert (
            london_organiser_client.get(url, {"meeting": meeting.pk})
            .context["form"]
            .initial.get("meeting")
            == meeting.pk
        )
        response = london_organiser_client.post(
            url,
            {
                "title": "Ask for the High Needs Block papers",
                "owner": camden_lns.pk,
                "due_on": (TODAY + 14 * DAY).isoformat(),
                "meeting": meeting.pk,
            },
        )
        assert response.status_code == 302
        action = Action.objects.get()
        assert (action.owner, action.created_by, action.meeting) == (
            camden_lns,
            london_organiser,
            meeting,
        )
        assert action.status == Action.Status.TO_DO

    def test_the_owner_must_cover_the_authority(self, camden_lns_client, kent_lns):
        response = camden_lns_client.post(
            reverse("consultations:action_add", args=["camden"]),
            {"title": "Chase", "owner": kent_lns.pk},
        )
        assert "Select a valid choice" in text(response)
        assert not Action.objects.exists()

    def owners_offered(self, response):
        """The owner select's options: {person's id: label}."""
        select = re.search(r'<select name="owner".*?</select>', text(response), re.S).group()
        return dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select))

    def test_people_of_one_name_are_told_apart_by_role_and_place(
        self, camden_lns_client, camden_lns, national_officer
    ):
        camden_sam = make_user(
            first_name="Sam",
            last_name="Patel",
            roles=[(Role.SCHOOLS_FORUM_REP, authority(CAMDEN))],
        )
        london_sam = make_user(
            first_name="Sam",
            last_name="Patel",
            # Kent is not Camden's: that role is not shown with Camden's choices.
            roles=[(Role.REGIONAL_ORGANISER, region("London")), (Role.JCNC_REP, authority(KENT))],
        )
        offered = self.owners_offered(
            camden_lns_client.get(reverse("consultations:action_add", args=["camden"]))
        )
        assert offered == {
            str(camden_lns.pk): "Carys Evans — Local negotiating secretary, Camden",
            str(national_officer.pk): "Nadia Okafor — National officer",
            str(london_sam.pk): "Sam Patel — Regional organiser, London",
            str(camden_sam.pk): "Sam Patel — Schools Forum representative, Camden",
        }

    @pytest.mark.parametrize("people", [2, 20])
    def test_the_owner_choices_cost_the_same_however_many_people(
        self, camden_lns_client, camden_lns, django_assert_num_queries, people
    ):
        for n in range(people):
            make_user(
                first_name="Sam", last_name=f"Patel {n}", roles=[(Role.LNS, authority(CAMDEN))]
            )
        action = Action.objects.create(
            authority=authority(CAMDEN), title="Chase", owner=camden_lns
        )
        # session, user, the action (the roles that allow it come with the
        # user); the history and the names it may give; the people offered
        # and their roles (one query each however many); the plans and the
        # meetings offered.
        with django_assert_num_queries(9):
            response = camden_lns_client.get(
                reverse("consultations:action_edit", args=[action.pk])
            )
        assert len(self.owners_offered(response)) == people + 1

    def test_network_leads_may_not_add(self, client_for, camden_senco_lead):
        response = client_for(camden_senco_lead).post(
            reverse("consultations:action_add", args=["camden"]),
            {"title": "x", "owner": camden_senco_lead.pk},
        )
        assert response.status_code == 403

    def edit(self, client, action, **changes):
        data = {
            "title": action.title,
            "owner": action.owner_id,
            "due_on": action.due_on.isoformat() if action.due_on else "",
            "status": action.status,
            "notes": "",
            "reason": "",
            "base_version": Action.objects.get(pk=action.pk).version,
        }
        return client.post(reverse("consultations:action_edit", args=[action.pk]), data | changes)

    def test_moving_the_due_date_needs_a_reason(self, camden_lns_client, camden_lns):
        action = Action.objects.create(
            authority=authority(CAMDEN), title="SENCO meeting", owner=camden_lns, due_on=TODAY
        )
        later = (TODAY + 7 * DAY).isoformat()
        response = self.edit(camden_lns_client, action, due_on=later)
        assert "Say why the due date moved" in text(response)
        action.refresh_from_db()
        assert action.due_on == TODAY

        self.edit(camden_lns_client, action, due_on=later, reason="The venue fell through.")
        action.refresh_from_db()
        assert action.due_on == TODAY + 7 * DAY
        assert action.history.first().reason == "The venue fell through."
        # Another change without moving the date keeps the reason given.
        self.edit(camden_lns_client, action, due_on=later, notes="Booked the library.")
        action.refresh_from_db()
        assert action.reason == "The venue fell through."

    def test_dropping_needs_a_reason(self, camden_lns_client, camden_lns):
        action = Action.objects.create(
            authority=authority(CAMDEN), title="SENCO meeting", owner=camden_lns
        )
        response = self.edit(camden_lns_client, action, status="dropped")
        assert "Say why the action was dropped" in text(response)
        self.edit(camden_lns_client, action, status="dropped", reason="The LA cancelled it.")
        action.refresh_from_db()
        assert action.status == Action.Status.DROPPED
        # A dropped action's other details change without giving the reason again.
        response = self.edit(camden_lns_client, action, status="dropped", notes="Superseded.")
        assert response.status_code == 302
        action.refresh_from_db()
        assert (action.notes, action.reason) == ("Superseded.", "The LA cancelled it.")

    @pytest.mark.parametrize("meeting", ["²", "99999999999999999999", "1x"])
    def test_a_meeting_id_that_is_no_id_is_ignored(self, camden_lns_client, meeting):
        url = reverse("consultations:action_add", args=["camden"])
        assert camden_lns_client.get(url, {"meeting": meeting}).status_code == 200
        add = reverse("consultations:add", args=["camden"])
        assert camden_lns_client.get(add, {"plan": meeting}).status_code == 200

    def test_the_database_refuses_a_dropped_action_without_reason(self, camden):
        with pytest.raises(IntegrityError):
            Action.objects.create(authority=camden, title="x", status="dropped")

    @staticmethod
    def starters(owner, due_on, **changes):
        """The starter form as opened: every action ticked, for `owner`."""
        data = {}
        for key in Action.STARTERS:
            data |= {f"{key}-add": "on", f"{key}-owner": owner.pk}
            data |= {f"{key}-due_on": due_on.isoformat()}
        return data | changes

    def test_the_briefings_actions_are_added_once(self, camden_lns_client, camden_lns):
        url = reverse("consultations:action_starter", args=["camden"])
        assert "Add the actions ticked" in text(camden_lns_client.get(url))
        camden_lns_client.post(url, self.starters(camden_lns, TODAY + 28 * DAY))
        assert Action.objects.filter(owner=camden_lns).count() == 5
        assert Action.objects.filter(due_on=TODAY + 28 * DAY).count() == 5
        page = text(camden_lns_client.get(url))
        assert "Every one of the briefing's suggested actions is already open" in page
        # Once one is done, it can be added afresh.
        Action.objects.filter(starter="senco-meeting").update(status="done")
        assert 'name="senco-meeting-add"' in text(camden_lns_client.get(url))
        chosen = [("senco-meeting", camden_lns, TODAY)]
        assert (
            add_starter_actions(authority=authority(CAMDEN), user=camden_lns, chosen=chosen) == 1
        )
        assert Action.objects.count() == 6

    def test_pick_the_briefings_actions_each_with_owner_and_date(
        self, camden_lns_client, camden_lns, london_organiser
    ):
        url = reverse("consultations:action_starter", args=["camden"])
        data = self.starters(camden_lns, TODAY + 7 * DAY)
        data = {k: v for k, v in data.items() if not k.startswith("tell-national-office-add")}
        data |= {"senco-meeting-owner": london_organiser.pk, "senco-meeting-due_on": "2027-01-31"}
        response = camden_lns_client.post(url, data)
        assert response.status_code == 302
        assert Action.objects.count() == 4  # one left unticked
        senco = Action.objects.get(starter="senco-meeting")
        assert (senco.owner, str(senco.due_on)) == (london_organiser, "2027-01-31")
        assert senco.created_by == camden_lns

    def test_a_ticked_action_needs_an_owner_and_date_and_nothing_is_half_added(
        self, camden_lns_client, camden_lns
    ):
        url = reverse("consultations:action_starter", args=["camden"])
        data = self.starters(camden_lns, TODAY, **{"senco-meeting-owner": ""})
        data |= {"funding-on-agenda-due_on": "2027-02-31"}
        response = camden_lns_client.post(url, data)
        assert response.status_code == 200
        page = text(response)
        assert "Choose who will do it" in page
        assert "Enter the due date as a real date" in page
        assert not Action.objects.exists()

    def test_nothing_ticked_is_said(self, camden_lns_client, camden_lns):
        url = reverse("consultations:action_starter", args=["camden"])
        data = {k: v for k, v in self.starters(camden_lns, TODAY).items() if "-add" not in k}
        response = camden_lns_client.post(url, data)
        assert "Choose at least one action to add" in text(response)
        assert not Action.objects.exists()

    def test_home_shows_my_open_actions_overdue_first(self, camden_lns_client, camden_lns):
        camden = authority(CAMDEN)
        later = Action.objects.create(
            authority=camden, title="Later", owner=camden_lns, due_on=TODAY + 5 * DAY
        )
        undated = Action.objects.create(authority=camden, title="Undated", owner=camden_lns)
        overdue = Action.objects.create(
            authority=camden, title="Overdue", owner=camden_lns, due_on=TODAY - 2 * DAY
        )
        Action.objects.create(authority=camden, title="Done", owner=camden_lns, status="done")
        Action.objects.create(authority=camden, title="Someone else's", owner=make_user())
        response = camden_lns_client.get(reverse("home"))
        assert list(response.context["my_actions"]) == [overdue, later, undated]
        assert "Overdue</strong>" in text(response)

    def test_an_authority_s_list_has_its_actions_alone(
        self, national_officer_client, django_assert_num_queries
    ):
        camden = authority(CAMDEN)
        for title, place, status in [
            ("Chase the minutes", camden, "to_do"),
            ("Finished", camden, "done"),
            ("Kent's papers", authority(KENT), "to_do"),
        ]:
            Action.objects.create(authority=place, title=title, status=status)
        url = reverse("consultations:authority_actions", args=["camden"])
        # session, user, the authority, the page of actions, its count
        with django_assert_num_queries(5):
            response = national_officer_client.get(url)
        assert [a.title for a in response.context["page"]] == ["Chase the minutes"]
        page = text(response)
        assert '<span class="govuk-caption-l">Camden</span>' in page
        assert "Back to Camden" in page
        assert ">Authority</th>" not in page  # one authority: no column for it
        every = national_officer_client.get(url, {"status": ""})
        assert {a.title for a in every.context["page"]} == {"Chase the minutes", "Finished"}

    def test_none_open_at_an_authority_is_said(self, camden_lns_client):
        url = reverse("consultations:authority_actions", args=["camden"])
        assert "No actions match. None is open at Camden." in text(camden_lns_client.get(url))

    @pytest.mark.parametrize("rows", [3, 12])
    def test_the_authority_page_lists_ten_and_links_to_the_rest(self, camden_lns_client, rows):
        for n in range(rows):
            due = TODAY + n * DAY
            Action.objects.create(authority=authority(CAMDEN), title=f"A{n}", due_on=due)
        response = camden_lns_client.get(reverse("dashboards:authority", args=["camden"]))
        assert [a.title for a in response.context["open_actions"]] == [
            f"A{n}" for n in range(min(rows, 10))
        ]
        page, url = text(response), reverse("consultations:authority_actions", args=["camden"])
        content = response.content.decode()
        if rows > 10:
            assert "The first 10 of 12, overdue first." in page
            assert f'href="{url}">All 12 open actions for Camden</a>' in content
        else:
            assert "The first" not in page
            assert f'href="{url}?status=">Every action for Camden, done and dropped too' in content

    @pytest.mark.parametrize("rows", [3, 30])
    def test_action_list_query_count_is_pinned(
        self, camden_lns_client, camden_lns, django_assert_num_queries, rows
    ):
        for n in range(rows):
            Action.objects.create(
                authority=authority(CAMDEN),
                title=f"A{n}",
                owner=camden_lns,
                due_on=TODAY - n * DAY,
                plan=make_plan(CAMDEN, round_or_tranche=str(n)),
            )
        # session, user, the page of actions, its count
        with django_assert_num_queries(4):
            response = camden_lns_client.get(reverse("consultations:actions"))
        assert len(response.context["page"]) == rows


class TestReminders:
    @pytest.fixture
    def owners(self, camden_lns, camden_forum_rep):
        camden = authority(CAMDEN)
        for title, owner, days_overdue, status in [
            ("Chase the minutes", camden_lns, 3, "to_do"),
            ("SENCO meeting", camden_lns, 1, "in_progress"),
            ("Finished", camden_lns, 5, "done"),
            ("Dropped", camden_lns, 5, "dropped"),
            ("Not due yet", camden_lns, -2, "to_do"),
            ("Forum papers", camden_forum_rep, 10, "to_do"),
        ]:
            Action.objects.create(
                authority=camden,
                title=title,
                owner=owner,
                due_on=TODAY - days_overdue * DAY,
                status=status,
                reason="x" if status == "dropped" else "",
            )
        return camden_lns, camden_forum_rep

    def test_each_owner_gets_one_message_of_their_overdue_actions(
        self, owners, django_capture_on_commit_callbacks
    ):
        lns, forum_rep = owners
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_action_reminders", stdout=out)
        assert "Reminded 2 people of 3 overdue actions." in out.getvalue()
        by_recipient = {message.to[0]: message for message in mail.outbox}
        assert set(by_recipient) == {lns.email, forum_rep.email}
        body = by_recipient[lns.email].body
        assert "Chase the minutes (Camden)" in body
        assert "3 days overdue" in body
        assert "SENCO meeting" in body
        for skipped in ("Finished", "Dropped", "Not due yet", "Forum papers"):
            assert skipped not in body
        assert (
            by_recipient[lns.email].subject
            == "2 overdue actions in the SEND recovery plan tracker"
        )

    def test_never_twice_on_the_same_day(self, owners, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            send_overdue_reminders()
        with django_capture_on_commit_callbacks(execute=True):
            assert send_overdue_reminders() == (0, 0)
        assert len(mail.outbox) == 2
        with django_capture_on_commit_callbacks(execute=True):
            assert send_overdue_reminders(today=TODAY + DAY) == (2, 3)
        assert len(mail.outbox) == 4

    def test_the_mail_goes_only_once_the_marking_commits(self, owners):
        # Inside a transaction that never commits, nothing is sent.
        send_overdue_reminders()
        assert mail.outbox == []


class TestPagesWithSections:
    """The sections added to the authority, region and home pages cost a
    fixed number of queries however many rows there are."""

    def fill(self, rows, owner):
        camden = authority(CAMDEN)
        for n in range(rows):
            meeting = make_meeting(held_on=TODAY - n * DAY)
            BlockTransfer.objects.create(meeting=meeting, financial_year=2020 + n, amount=n)
            Action.objects.create(authority=camden, title=f"A{n}", owner=owner, meeting=meeting)

    @pytest.mark.parametrize("rows", [2, 12])
    def test_authority_page(self, camden_lns_client, camden_lns, django_assert_num_queries, rows):
        self.fill(rows, camden_lns)
        # tests/test_finance.py's pin for an LNS, which includes these
        # sections, and its open warnings, the first from the index (1) and
        # the overdue actions among them (1).
        with django_assert_num_queries(22):
            response = camden_lns_client.get(reverse("dashboards:authority", args=["camden"]))
        # The first ten, overdue first; the rest on the authority's list.
        assert len(response.context["open_actions"]) == min(rows, 10)
        assert response.context["open_action_count"] == rows
        assert len(response.context["recent_meetings"]) == min(rows, 5)

    @pytest.mark.parametrize("rows", [2, 12])
    def test_region_page(
        self, london_organiser_client, london_organiser, django_assert_num_queries, rows
    ):
        self.fill(rows, london_organiser)
        # tests/test_authorities.py's region pin (the overview table there
        # reads meetings and actions in one query each, however many, and
        # the early warnings the newest and one query for each kind among
        # them: here the proposed block transfers alone).
        with django_assert_num_queries(REGION_PAGE_QUERIES + 1 + 1):
            response = london_organiser_client.get(reverse("dashboards:region", args=["london"]))
        # The newest ten, and how many there are.
        transfers = response.context["block_transfers"]
        assert [t.financial_year for t in transfers] == [2020 + n for n in range(rows)][::-1][:10]
        assert response.context["block_transfer_count"] == rows
        newest = f"The newest 10 of {rows} transfers put to Schools Forums in London"
        assert (newest in response.content.decode()) == (rows > 10)

    @pytest.mark.parametrize("rows", [2, 12])
    def test_home(self, camden_lns_client, camden_lns, django_assert_num_queries, rows):
        self.fill(rows, camden_lns)
        # tests/test_home.py's pin for an LNS (7, with the actions; the
        # warnings counted, 2; the national timeline, 1), plus what "What
        # needs you" asks an LNS (tests/test_home.py): plans to answer (1
        # with none to answer), meetings with no outcome (2), and the newest
        # warnings from the index and the one kind these make (2).
        with django_assert_num_queries(7 + 2 + 1 + 1 + 2 + 2):
            response = camden_lns_client.get(reverse("home"))
        assert len(response.context["my_actions"]) == rows

    @pytest.mark.parametrize("rows", [2, 12])
    def test_plan_page(self, camden_lns_client, django_assert_num_queries, rows):
        plan = make_plan(CAMDEN, agreement_date=TODAY)
        for n in range(rows):
            make_meeting(plan=plan, held_on=TODAY - n * DAY)
        # The plan page with nothing else on it (the national timeline's
        # next dates among it; no checklist yet, so the latest question
        # bank), its meetings and the flag's check.
        with django_assert_num_queries(14):
            response = camden_lns_client.get(plan.get_absolute_url())
        assert len(response.context["consultation_timeline"].meetings) == rows

    @pytest.mark.parametrize("rows", [2, 12])
    def test_checklist_question_page(self, camden_lns_client, django_assert_num_queries, rows):
        plan = make_plan(CAMDEN)
        for n in range(rows):
            SchoolsForumOutcome.objects.create(
                meeting=make_meeting(held_on=TODAY - n * DAY), extra_funding=f"£{n}m"
            )
        url = reverse("plans:answer", kwargs={"pk": plan.pk, "key": "extra-funding-amount"})
        # tests/test_checklist.py's 7 for an unanswered question, plus the offer.
        with django_assert_num_queries(8):
            response = camden_lns_client.get(url)
        assert len(response.context["meeting_evidence"].items) == rows

    def test_the_region_page_shows_a_transfer_vote(self, london_organiser_client, camden_lns):
        meeting = make_meeting()
        BlockTransfer.objects.create(
            meeting=meeting, financial_year=2026, percent=Decimal("0.5"), votes_for=9
        )
        page = text(london_organiser_client.get(reverse("dashboards:region", args=["london"])))
        assert "2026-27" in page
        assert "0.5%" in page
        assert "9 for" in page
