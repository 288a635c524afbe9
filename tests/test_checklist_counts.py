"""Each checklist's counts (Assessment.question_count, answered_count,
serious_count), kept by AssessmentQuerySet.recount() in the transaction of
every write that changes them, so that what the lists of plans read is what
counting the checklist itself would give."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plans.models import (
    Answer,
    Assessment,
    Plan,
    Programme,
    Question,
    counting_checklists_later,
)
from plans.services import assessment_for, revise_plan, save_answer

from .factories import CAMDEN, checklist_questions, make_plan

SERIOUS, SOME = Answer.Concern.SERIOUS, Answer.Concern.SOME


def counted_afresh(assessment):
    """(questions, answered, serious) of `assessment`, counted from its
    rows: its bank's questions asked of its plan's programme, its answers
    not carried forward, its serious concerns."""
    plan = Plan.objects.get(pk=assessment.plan_id)
    questions = [
        q
        for q in Question.objects.filter(question_set=assessment.question_set_id).with_asked_of(
            [plan.programme_id]
        )
        if q.is_asked_of(plan.programme_id)
    ]
    answers = list(Answer.objects.filter(assessment=assessment))
    return (
        len(questions),
        sum(1 for a in answers if not a.carried_forward),
        sum(1 for a in answers if a.concern == SERIOUS),
    )


def stored(assessment):
    assessment = Assessment.objects.get(pk=assessment.pk)
    return (assessment.question_count, assessment.answered_count, assessment.serious_count)


def assert_in_step():
    for assessment in Assessment.objects.all():
        assert stored(assessment) == counted_afresh(assessment), assessment.plan


def summary(plan):
    found = Plan.objects.summary().get(pk=plan.pk)
    return (found.question_count, found.answered_count, found.serious_count)


def give(assessment, question, concern=SOME, **fields):
    return Answer.objects.create(
        assessment=assessment, question=question, response="no", concern=concern, **fields
    )


@pytest.fixture
def plan(reference_data):
    return make_plan(CAMDEN)


class TestKeptInStep:
    def test_a_new_checklist_counts_its_questions(self, plan):
        assessment = assessment_for(plan)
        assert stored(assessment) == (checklist_questions("sv").count(), 0, 0)
        assert summary(plan) == stored(assessment)

    def test_a_plan_with_no_checklist_counts_the_latest_banks_questions(self, plan):
        assert not Assessment.objects.filter(plan=plan).exists()
        assert summary(plan) == (checklist_questions("sv").count(), 0, 0)

    def test_answers_saved_changed_and_deleted(self, plan, camden_lns):
        questions = list(checklist_questions("sv")[:3])
        data = {"response": "no", "concern": SERIOUS, "evidence": "", "private_notes": ""}
        for question in questions:
            save_answer(plan=plan, question=question, data=data, base_version=0, user=camden_lns)
        assessment = plan.assessment
        assert stored(assessment)[1:] == (3, 3)
        first = Answer.objects.get(assessment=assessment, question=questions[0])
        save_answer(
            plan=plan,
            question=questions[0],
            data=data | {"concern": SOME},
            base_version=first.version,
            user=camden_lns,
        )
        assert stored(assessment)[1:] == (3, 2)
        Answer.objects.get(assessment=assessment, question=questions[1]).delete()
        assert stored(assessment)[1:] == (2, 1)
        assert summary(plan) == stored(assessment)
        assert_in_step()

    def test_a_revision_carries_answers_forward_not_yet_answered(self, plan, camden_lns):
        assessment = assessment_for(plan)
        for question, concern in zip(
            list(checklist_questions("sv")[:4]), [SERIOUS, SOME] * 2, strict=True
        ):
            give(assessment, question, concern)
        revision = revise_plan(plan=plan, user=camden_lns)
        # Carried forward: still to confirm, so not answered; the concerns stand.
        assert stored(revision.assessment)[1:] == (0, 2)
        confirm = Answer.objects.filter(assessment=revision.assessment).first()
        save_answer(
            plan=revision,
            question=confirm.question,
            data={"response": confirm.response, "concern": confirm.concern},
            base_version=confirm.version,
            user=camden_lns,
        )
        assert stored(revision.assessment)[1] == 1
        assert_in_step()

    def test_a_plan_moved_to_another_programme_is_asked_its_questions(self, plan):
        assessment = assessment_for(plan)
        before = stored(assessment)[0]
        plan.programme = Programme.objects.get(code="send-reform")
        plan.save()
        after = stored(assessment)[0]
        assert after != before
        assert_in_step()

    def test_questions_changed_in_a_bank_in_use(self, plan):
        assessment = assessment_for(plan)
        sv, dbv = Programme.objects.get(code="sv"), Programme.objects.get(code="dbv")
        question = checklist_questions("sv").first()
        asked = stored(assessment)[0]
        # Asked of DBV plans only: no longer of this SV plan.
        question.programmes.set([dbv])
        assert stored(assessment)[0] == asked - 1
        # From the programme's side: asked of SV plans again.
        sv.questions.add(question)
        assert stored(assessment)[0] == asked
        dbv.questions.clear()
        question.delete()
        assert stored(assessment)[0] == asked - 1
        assert_in_step()

    def test_bulk_writes_count_once_at_the_end(self, plan):
        assessment = assessment_for(plan)
        questions = list(checklist_questions("sv")[:10])
        with counting_checklists_later():
            for question in questions:
                give(assessment, question, SERIOUS)
            # Not yet counted: once, at the end.
            assert stored(assessment)[1] == 0
        assert stored(assessment)[1:] == (10, 10)

    def test_nothing_is_counted_when_the_write_fails(self, plan):
        assessment = assessment_for(plan)
        question = checklist_questions("sv").first()

        def fail():
            with transaction.atomic(), counting_checklists_later():
                give(assessment, question)
                raise RuntimeError

        with pytest.raises(RuntimeError):
            fail()
        assert stored(assessment)[1:] == (0, 0)

    def test_bulk_writes(self, plan):
        assessment = assessment_for(plan)
        questions = list(checklist_questions("sv")[:3])
        Answer.objects.bulk_create(
            [
                Answer(assessment=assessment, question=q, response="no", concern=SERIOUS)
                for q in questions
            ]
        )
        assert stored(assessment)[1:] == (3, 3)
        Answer.objects.filter(question=questions[0]).update(concern=SOME)
        assert stored(assessment)[1:] == (3, 2)
        Answer.objects.filter(question=questions[1]).update(carried_forward=True)
        assert stored(assessment)[1:] == (2, 2)
        Answer.objects.filter(question=questions[2]).delete()
        assert stored(assessment)[1:] == (1, 1)
        [other] = Assessment.objects.bulk_create(
            [Assessment(plan=make_plan(CAMDEN, "dbv"), question_set=assessment.question_set)]
        )
        assert stored(other) == (checklist_questions("dbv").count(), 0, 0)
        assert_in_step()

    def test_recount_mends_counts_a_write_behind_the_orm_s_back(self, plan):
        assessment = assessment_for(plan)
        give(assessment, checklist_questions("sv").first(), SERIOUS)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE plans_answer SET concern = 'none'")
        assert stored(assessment)[1:] == (1, 1)
        Assessment.objects.all().recount()
        assert stored(assessment)[1:] == (1, 0)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["answer", "carry", "delete", "programme"]),
            st.integers(0, 7),
            st.sampled_from(list(Answer.Concern)),
        ),
        max_size=12,
    )
)
def test_any_writes_leave_the_counts_as_counting_gives(plan, writes):
    with transaction.atomic():
        assessment = assessment_for(plan)
        questions = list(Question.objects.filter(question_set=assessment.question_set_id)[:8])
        programmes = list(Programme.objects.all())
        for write, n, concern in writes:
            question = questions[n]
            found = Answer.objects.filter(assessment=assessment, question=question).first()
            if write == "delete":
                if found:
                    found.delete()
            elif write == "programme":
                plan.programme = programmes[n % len(programmes)]
                plan.save()
            elif found:
                found.concern, found.carried_forward = concern, write == "carry"
                found.save()
            else:
                give(assessment, question, concern, carried_forward=write == "carry")
        assert_in_step()
        transaction.set_rollback(True)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="racing writers need PostgreSQL's row locks"
)
def test_answers_saved_side_by_side_lose_no_count(transactional_db, reference_data, camden_lns):
    """Four people answering one checklist at once: each count waits for
    the one before, and sees its answer."""
    plan = make_plan(CAMDEN)
    assessment = assessment_for(plan)
    questions = list(checklist_questions("sv")[:20])
    racers = 4
    start = threading.Barrier(racers)

    def racer(n):
        try:
            start.wait(timeout=60)
            for question in questions[n::racers]:
                save_answer(
                    plan=plan,
                    question=question,
                    data={"response": "no", "concern": SERIOUS},
                    base_version=0,
                    user=camden_lns,
                )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(racers) as pool:
        list(pool.map(racer, range(racers)))
    assert stored(assessment)[1:] == (20, 20)
    assert_in_step()
