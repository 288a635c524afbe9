"""Planned meetings, the questions to ask at them and the short pack (issue
17): an organiser plans a meeting to come, picks and orders its questions,
records the answers after it, and turns an answer into checklist evidence."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import (
    BlockTransfer,
    Meeting,
    MeetingQuestion,
    plans_agreed_without_consultation,
)
from plans.models import Answer, EvidenceLink, Plan
from plans.services import assessment_for

from .factories import CAMDEN, authority, make_plan

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def text(response):
    return response.content.decode()


def plan_form(plan=None, **overrides):
    """The "Plan a meeting" form as a browser posts it."""
    data = {
        "forum": "schools_forum",
        "title": "",
        "held_on": (TODAY + 20 * DAY).isoformat(),
        "plan": str(plan.pk) if plan else "",
        "union_invited": "",
        "plan_draft": "",
        "agenda": "Apologies\nHigh needs budget 2027-28",
        "papers": "High needs budget https://democracy.camden.gov.uk/item5.pdf",
        "attendees": "Carys Evans",
        "next_steps": "",
        "minutes_url": "",
        "minutes_page": "",
    }
    data.update(overrides)
    return data


def planned_meeting(plan=None, **fields):
    fields.setdefault("forum", "schools_forum")
    fields.setdefault("held_on", TODAY + 20 * DAY)
    return Meeting.objects.create(
        authority=authority(CAMDEN), status=Meeting.Status.PLANNED, plan=plan, **fields
    )


def answer(plan, key, **fields):
    assessment = assessment_for(plan)
    question = assessment.question_set.questions.get(key=key)
    fields.setdefault("response", "partly")
    fields.setdefault("concern", "some")
    return Answer.objects.create(assessment=assessment, question=question, **fields)


def put(meeting, *texts):
    return [
        MeetingQuestion.objects.create(meeting=meeting, text=t, position=n)
        for n, t in enumerate(texts, 1)
    ]


class TestPlanningAMeeting:
    def test_an_organiser_plans_a_meeting_to_come(self, client_for, london_organiser):
        plan = make_plan(CAMDEN)
        url = reverse("consultations:plan", args=["camden"])
        response = client_for(london_organiser).post(url, plan_form(plan))
        meeting = Meeting.objects.get()
        assert response.status_code == 302
        assert response.url == reverse("consultations:questions", args=[meeting.pk])
        assert meeting.is_planned
        assert meeting.plan == plan
        assert meeting.held_on == TODAY + 20 * DAY
        assert meeting.union_attended == meeting.union_consulted == "not_known"
        assert meeting.paper_links() == [
            ("High needs budget", "https://democracy.camden.gov.uk/item5.pdf")
        ]
        assert meeting.agenda_items() == ["Apologies", "High needs budget 2027-28"]
        assert meeting.history.count() == 1

    def test_the_planning_form_asks_for_the_plan_and_not_for_the_outcome(
        self, client_for, london_organiser
    ):
        response = client_for(london_organiser).get(reverse("consultations:plan", args=["camden"]))
        page = text(response)
        assert "Which plan is it about?" in page
        assert 'name="summary"' not in page
        assert 'name="union_consulted"' not in page
        # They could not see a confidential meeting again: not offered.
        assert 'name="confidential"' not in page

    def test_a_paper_without_a_link_is_refused_with_the_rest_kept(
        self, client_for, london_organiser
    ):
        response = client_for(london_organiser).post(
            reverse("consultations:plan", args=["camden"]),
            plan_form(papers="The budget paper, link to follow"),
        )
        assert response.status_code == 200
        assert "Paper 1 (“The budget paper, link to follow”) needs a link" in text(response)
        assert "High needs budget 2027-28" in text(response)  # the agenda kept
        assert not Meeting.objects.exists()

    def test_a_network_lead_may_not_plan_meetings(self, client_for, camden_senco_lead):
        response = client_for(camden_senco_lead).post(
            reverse("consultations:plan", args=["camden"]), plan_form()
        )
        assert response.status_code == 403
        assert not Meeting.objects.exists()

    def test_a_planned_meeting_never_counts_as_consultation(self):
        plan = make_plan(CAMDEN, agreement_date=TODAY + 60 * DAY)
        planned_meeting(plan, union_consulted="yes")
        assert list(plans_agreed_without_consultation(Plan.objects.all())) == [plan]
        assert not Meeting.objects.consulting_on(plan).exists()
        # Once it has taken place, it counts.
        Meeting.objects.update(status=Meeting.Status.HELD, held_on=TODAY)
        assert not plans_agreed_without_consultation(Plan.objects.all()).exists()

    def test_a_planned_meeting_to_come_asks_for_no_outcome_yet(self):
        planned_meeting()
        past = planned_meeting(held_on=TODAY - 2 * DAY)
        assert list(Meeting.objects.without_outcome()) == [past]


class TestSayingItTookPlace:
    def edit(self, meeting):
        return reverse("consultations:edit", args=[meeting.pk])

    def post(self, meeting, **overrides):
        data = plan_form(meeting.plan, **overrides)
        data.update(
            base_version=str(meeting.version),
            status="held",
            union_attended="",
            union_consulted="",
            summary="",
            decisions="",
        )
        data.update(overrides)
        return data

    def test_moving_to_held_asks_the_outcome_questions(self, client_for, london_organiser):
        meeting = planned_meeting(held_on=TODAY - DAY)
        client = client_for(london_organiser)
        response = client.post(self.edit(meeting), self.post(meeting, held_on=TODAY - DAY))
        assert response.status_code == 200
        assert "Say whether the union was consulted before the decision" in text(response)
        meeting.refresh_from_db()
        assert meeting.is_planned

        response = client.post(
            self.edit(meeting),
            self.post(
                meeting,
                held_on=(TODAY - DAY).isoformat(),
                union_invited="yes",
                union_attended="yes",
                union_consulted="yes",
                summary="The forum heard the budget.",
            ),
        )
        assert response.status_code == 302
        meeting.refresh_from_db()
        assert meeting.status == "held"
        assert meeting.stage == "Outcome logged"

    def test_a_meeting_to_come_cannot_be_marked_held(self, client_for, camden_lns):
        meeting = planned_meeting()
        response = client_for(camden_lns).post(
            self.edit(meeting),
            self.post(meeting, union_invited="yes", union_attended="yes", union_consulted="no"),
        )
        assert "The date of the meeting must be today or in the past" in text(response)
        meeting.refresh_from_db()
        assert meeting.is_planned

    def test_an_organiser_changes_a_planned_meeting_but_not_a_held_one(
        self, client_for, london_organiser
    ):
        client = client_for(london_organiser)
        assert client.get(self.edit(planned_meeting())).status_code == 200
        held = Meeting.objects.create(
            authority=authority(CAMDEN), forum="jcnc", held_on=TODAY - DAY
        )
        assert client.get(self.edit(held)).status_code == 403


class TestQuestions:
    def test_suggested_questions_come_first_serious_concerns_at_their_head(
        self, client_for, london_organiser
    ):
        plan = make_plan(CAMDEN)
        answer(plan, "cuts-not-efficiency", response="yes", concern="none")
        serious = answer(plan, "pressures-on-school-system", concern="serious")
        meeting = planned_meeting(plan)
        page = text(
            client_for(london_organiser).get(reverse("consultations:questions", args=[meeting.pk]))
        )
        suggested = page.index("Suggested")
        rest = page.index("The rest of the checklist")
        # In the briefing's own words, not the checklist's.
        assert suggested < page.index(f"{serious.question.plain_words} (serious concern)") < rest
        assert serious.question.text not in page
        answered = Answer.objects.get(question__key="cuts-not-efficiency").question
        assert page.index(answered.plain_words) > rest

    def test_picked_questions_are_added_once_in_checklist_order(
        self, client_for, london_organiser
    ):
        plan = make_plan(CAMDEN)
        meeting = planned_meeting(plan)
        # The last two on an SV plan's checklist (the bank's last are asked
        # of reform plans alone).
        bank = assessment_for(plan).question_set.questions.for_programme(plan.programme_id)
        questions = list(bank.order_by("-pk")[:2])
        url = reverse("consultations:questions", args=[meeting.pk])
        client = client_for(london_organiser)
        response = client.post(url, {"questions": [q.pk for q in questions]})
        assert response.status_code == 302
        put_ = list(meeting.questions.order_by("position"))
        assert [q.question for q in put_] == sorted(
            questions, key=lambda q: (q.section.number, q.order, q.pk)
        )
        # Offered no more, and a stale post of the same ones adds nothing.
        response = client.post(url, {"questions": [questions[0].pk]})
        assert response.status_code == 200
        assert "Choose questions from the list" in text(response)
        assert meeting.questions.count() == 2

    def test_a_picked_question_is_put_in_the_briefings_words(self, client_for, camden_lns):
        plan = make_plan(CAMDEN)
        meeting = planned_meeting(plan)
        bank = assessment_for(plan).question_set.questions
        transfer = bank.get(key="dsg-transfer-to-high-needs")
        client = client_for(camden_lns)
        client.post(
            reverse("consultations:questions", args=[meeting.pk]), {"questions": [transfer.pk]}
        )
        # The briefing's question to the Schools Forum, word for word.
        briefing = (
            "Are transfers taking place or being recommended from the DSG to the High Needs Block?"
        )
        assert meeting.questions.get().text == briefing
        for name in ("consultations:questions_print", "dashboards:short_pack"):
            page = text(client.get(reverse(name, args=[meeting.pk])))
            assert briefing in page
            assert transfer.text not in page

    def test_a_question_the_briefing_has_no_words_for_keeps_the_checklists(
        self, client_for, london_organiser
    ):
        plan = make_plan(CAMDEN, programme="send-reform")
        meeting = planned_meeting(plan)
        # The reform plans came after the briefing: it has no words for them.
        ten_percent = assessment_for(plan).question_set.questions.get(key="reform-ten-percent")
        assert ten_percent.plain_words == ""
        url = reverse("consultations:questions", args=[meeting.pk])
        client = client_for(london_organiser)
        assert f"{ten_percent.text} (not answered yet)" in text(client.get(url))
        client.post(url, {"questions": [ten_percent.pk]})
        assert meeting.questions.get().text == ten_percent.text

    def test_own_question_needs_words(self, client_for, london_organiser):
        meeting = planned_meeting()
        client = client_for(london_organiser)
        url = reverse("consultations:question_add", args=[meeting.pk])
        response = client.post(url, {"own-text": "  "})
        assert response.status_code == 200
        assert "Enter the question to add" in text(response)
        response = client.post(url, {"own-text": "Who will pay for outreach?"})
        assert response.status_code == 302
        assert meeting.questions.get().text == "Who will pay for outreach?"

    def test_questions_move_up_and_down_without_javascript(self, client_for, london_organiser):
        meeting = planned_meeting()
        first, _second, third = put(meeting, "One", "Two", "Three")
        client = client_for(london_organiser)
        move = reverse("consultations:question_move", args=[third.pk])
        assert client.post(move, {"direction": "up"}).status_code == 302
        assert [q.text for q in meeting.questions.all()] == ["One", "Three", "Two"]
        client.post(reverse("consultations:question_move", args=[first.pk]), {"direction": "up"})
        assert [q.text for q in meeting.questions.all()] == ["One", "Three", "Two"]
        client.post(reverse("consultations:question_move", args=[first.pk]), {"direction": "down"})
        assert [q.text for q in meeting.questions.all()] == ["Three", "One", "Two"]

    def test_removing_a_question_asks_first_and_keeps_why(self, client_for, london_organiser):
        meeting = planned_meeting()
        (item,) = put(meeting, "One")
        client = client_for(london_organiser)
        url = reverse("consultations:question_remove", args=[item.pk])
        page = client.get(url)
        assert "Remove this question?" in text(page)
        assert "Yes, remove it" in text(page)
        assert MeetingQuestion.objects.exists()
        response = client.post(url, {"reason": "", "base_version": item.version})
        assert "Say why you are deleting it" in text(response)
        response = client.post(url, {"reason": "Asked last time", "base_version": item.version})
        assert response.status_code == 302
        assert not MeetingQuestion.objects.exists()
        gone = MeetingQuestion.history.filter(id=item.pk, history_type="-").get()
        assert gone.history_change_reason == "Asked last time"

    def test_a_reader_sees_the_questions_but_changes_nothing(self, client_for, camden_senco_lead):
        meeting = planned_meeting()
        (item,) = put(meeting, "One")
        client = client_for(camden_senco_lead)
        page = client.get(reverse("consultations:questions", args=[meeting.pk]))
        assert page.status_code == 200
        assert "Move" not in text(page)
        move = reverse("consultations:question_move", args=[item.pk])
        assert client.post(move, {"direction": "up"}).status_code == 403
        assert client.get(reverse("consultations:answers", args=[meeting.pk])).status_code == 403

    def test_print_view_lists_them_in_order(self, client_for, camden_lns):
        meeting = planned_meeting()
        put(meeting, "First question", "Second question")
        page = text(
            client_for(camden_lns).get(reverse("consultations:questions_print", args=[meeting.pk]))
        )
        assert page.index("First question") < page.index("Second question")


class TestAnswersAfterTheMeeting:
    def test_one_form_records_each_question(self, client_for, london_organiser):
        meeting = planned_meeting(held_on=TODAY - DAY)
        one, two = put(meeting, "One", "Two")
        url = reverse("consultations:answers", args=[meeting.pk])
        response = client_for(london_organiser).post(
            url,
            {
                f"q{one.pk}-base_version": one.version,
                f"q{one.pk}-asked": "yes",
                f"q{one.pk}-answer": "In March.",
                f"q{two.pk}-base_version": two.version,
                f"q{two.pk}-asked": "no",
                f"q{two.pk}-answer": "",
            },
        )
        assert response.status_code == 302
        one.refresh_from_db()
        two.refresh_from_db()
        assert (one.asked, one.answer, one.version) == ("yes", "In March.", 2)
        assert (two.asked, two.version) == ("no", 2)

    def test_an_answer_to_a_question_not_asked_is_refused(self, client_for, camden_lns):
        meeting = planned_meeting(held_on=TODAY - DAY)
        (one,) = put(meeting, "One")
        response = client_for(camden_lns).post(
            reverse("consultations:answers", args=[meeting.pk]),
            {
                f"q{one.pk}-base_version": one.version,
                f"q{one.pk}-asked": "no",
                f"q{one.pk}-answer": "In March.",
            },
        )
        assert response.status_code == 200
        assert "You gave an answer: choose “Asked”, or clear the answer" in text(response)
        one.refresh_from_db()
        assert one.answer == ""

    def test_someone_elses_save_is_not_overwritten(self, client_for, camden_lns):
        meeting = planned_meeting(held_on=TODAY - DAY)
        one, two = put(meeting, "One", "Two")
        MeetingQuestion.objects.filter(pk=two.pk).update(answer="Theirs", asked="yes", version=2)
        response = client_for(camden_lns).post(
            reverse("consultations:answers", args=[meeting.pk]),
            {
                f"q{one.pk}-base_version": 1,
                f"q{one.pk}-asked": "yes",
                f"q{one.pk}-answer": "Mine",
                f"q{two.pk}-base_version": 1,
                f"q{two.pk}-asked": "yes",
                f"q{two.pk}-answer": "Also mine",
            },
        )
        assert response.status_code == 409
        assert "Someone else changed this question" in text(response)
        assert "Also mine" in text(response)  # kept
        one.refresh_from_db()
        assert one.answer == ""  # nothing half saved

    def test_an_answer_becomes_evidence_in_one_step(self, client_for, london_organiser):
        plan = make_plan(CAMDEN)
        on_checklist = answer(plan, "cuts-not-efficiency", concern="serious")
        meeting = planned_meeting(plan, held_on=TODAY - DAY)
        item = MeetingQuestion.objects.create(
            meeting=meeting,
            question=on_checklist.question,
            text=on_checklist.question.text,
            position=1,
            asked="yes",
            answer="The outreach service will close in 2027.",
        )
        client = client_for(london_organiser)
        url = reverse("consultations:question_evidence", args=[item.pk])
        assert client.post(url).status_code == 302
        link = EvidenceLink.objects.get(answer=on_checklist)
        assert "The outreach service will close in 2027." in link.title
        assert link.url.endswith(f"{meeting.get_absolute_url()}#question-{item.pk}")
        # Once only.
        client.post(url)
        assert EvidenceLink.objects.count() == 1
        page = text(client.get(reverse("plans:answer", args=[plan.pk, on_checklist.question.key])))
        assert "The outreach service will close in 2027." in page

    def test_a_confidential_meeting_is_never_evidence(self, client_for, camden_lns):
        plan = make_plan(CAMDEN)
        on_checklist = answer(plan, "cuts-not-efficiency")
        meeting = planned_meeting(plan, held_on=TODAY - DAY, confidential=True)
        item = MeetingQuestion.objects.create(
            meeting=meeting, question=on_checklist.question, text="Q", answer="A", asked="yes"
        )
        response = client_for(camden_lns).post(
            reverse("consultations:question_evidence", args=[item.pk])
        )
        assert response.status_code == 404
        assert not EvidenceLink.objects.exists()


class TestPacks:
    def test_the_short_pack_has_the_plan_concerns_questions_and_no_private_notes(
        self, client_for, camden_lns
    ):
        plan = make_plan(CAMDEN)
        answer(plan, "cuts-not-efficiency", concern="serious", private_notes="Only for us, secret")
        meeting = planned_meeting(plan, agenda="High needs budget")
        put(meeting, "Who pays for outreach?")
        page = text(
            client_for(camden_lns).get(reverse("dashboards:short_pack", args=[meeting.pk]))
        )
        assert plan.short_name in page
        assert "Serious concern:" in page
        assert "Who pays for outreach?" in page
        assert "High needs budget" in page
        assert "Only for us, secret" not in page
        assert reverse("dashboards:briefing", args=["camden"]) in page

    def test_a_confidential_meetings_pack_is_not_found_for_an_organiser(
        self, client_for, london_organiser
    ):
        meeting = planned_meeting(confidential=True)
        response = client_for(london_organiser).get(
            reverse("dashboards:short_pack", args=[meeting.pk])
        )
        assert response.status_code == 404

    def test_the_full_pack_has_the_votes_and_meetings_but_not_confidential_ones(
        self, client_for, camden_lns
    ):
        shown = Meeting.objects.create(
            authority=authority(CAMDEN),
            forum="schools_forum",
            held_on=TODAY - DAY,
            title="Budget forum",
        )
        BlockTransfer.objects.create(
            meeting=shown, financial_year=2026, percent=0.5, votes_for=6, votes_against=9
        )
        hidden = Meeting.objects.create(
            authority=authority(CAMDEN),
            forum="schools_forum",
            held_on=TODAY - 2 * DAY,
            title="Secret forum",
            confidential=True,
        )
        BlockTransfer.objects.create(
            meeting=hidden, financial_year=2025, percent=1, votes_for=1, votes_against=2
        )
        planned_meeting(title="Next forum")
        page = text(client_for(camden_lns).get(reverse("dashboards:briefing", args=["camden"])))
        assert "6 for, 9 against" in page
        assert "Budget forum" in page
        assert "Next forum" in page
        assert "Secret forum" not in page
        assert "1 for, 2 against" not in page


class TestDemo:
    def test_the_demo_meeting_is_made_once_and_only_with_debug(self, settings, camden_lns):
        from io import StringIO

        from django.core.management import CommandError, call_command

        settings.DEBUG = False
        with pytest.raises(CommandError):
            call_command("create_demo_meetings", stdout=StringIO())
        settings.DEBUG = True
        make_plan(CAMDEN)
        call_command("create_demo_meetings", stdout=StringIO())
        call_command("create_demo_meetings", stdout=StringIO())
        meeting = Meeting.objects.get()
        assert meeting.is_planned
        assert meeting.held_on > TODAY
        assert list(meeting.attending.all()) == [camden_lns]
        asked = list(meeting.questions.order_by("position"))
        assert len(asked) == 3
        assert asked[0].question is not None
        assert asked[-1].question is None


def fill_meeting(rows):
    """A planned meeting about a plan with `rows` checklist answers of
    concern and `rows` questions to ask, half from the checklist."""
    plan = make_plan(CAMDEN)
    bank = assessment_for(plan).question_set.questions.order_by("pk")
    meeting = planned_meeting(plan)
    for n, question in enumerate(bank[:rows], 1):
        answer(plan, question.key, concern="serious" if n % 2 else "some")
        MeetingQuestion.objects.create(
            meeting=meeting,
            question=question if n % 2 else None,
            text=question.text,
            position=n,
            answer="An answer" if n % 3 else "",
        )
    return meeting


class TestQueryCounts:
    # Session and user (with their roles, User.held); the meeting; the plan
    # with its checklist counts and targets; instalment totals; its answers;
    # the questions with the plan's answers to them; the feedback; the audit
    # trail's record.
    SHORT_PACK = 11
    # Session and user; the meeting with its plan's question bank; the
    # questions to pick from and the plan's answers; the questions put and
    # the plan's answers to them.
    QUESTIONS = 7

    @pytest.mark.parametrize("rows", [2, 8])
    def test_the_short_pack_is_pinned(
        self, client_for, camden_lns, rows, django_assert_num_queries
    ):
        meeting = fill_meeting(rows)
        client = client_for(camden_lns)
        client.get(reverse("dashboards:short_pack", args=[meeting.pk]))  # the session's writes
        with django_assert_num_queries(self.SHORT_PACK):
            response = client.get(reverse("dashboards:short_pack", args=[meeting.pk]))
        assert len(response.context["pack"].questions) == rows

    @pytest.mark.parametrize("rows", [2, 8])
    def test_the_questions_page_is_pinned(
        self, client_for, london_organiser, rows, django_assert_num_queries
    ):
        meeting = fill_meeting(rows)
        client = client_for(london_organiser)
        client.get(reverse("consultations:questions", args=[meeting.pk]))  # the session's writes
        with django_assert_num_queries(self.QUESTIONS):
            response = client.get(reverse("consultations:questions", args=[meeting.pk]))
        assert len(response.context["questions"]) == rows

    # Session and user; the meeting; its history and its questions' history
    # (each with who saved); the questions and the plan's answers to them;
    # who is going; its actions.
    DETAIL = 9

    @pytest.mark.parametrize("rows", [2, 8])
    def test_the_meeting_page_is_pinned(
        self, client_for, camden_lns, rows, django_assert_num_queries
    ):
        meeting = fill_meeting(rows)
        meeting.attending.set([camden_lns])
        client = client_for(camden_lns)
        client.get(meeting.get_absolute_url())  # the session's writes
        with django_assert_num_queries(self.DETAIL):
            response = client.get(meeting.get_absolute_url())
        assert len(response.context["questions"]) == rows
