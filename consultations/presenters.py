"""What the meetings app shows on other apps' pages, read ready for the
template: a plan's timeline of meetings, the Schools Forum's latest answers,
and the meetings offered as evidence on a checklist question."""

import datetime
from typing import NamedTuple

from django.db.models import Q

from plans.models import Answer, Question, needs_asking

from .models import (
    MEETING_QUESTIONS,
    OUTCOME_QUESTIONS,
    Forum,
    Meeting,
    MeetingQuestion,
    SchoolsForumOutcome,
)


class EvidenceOffer(NamedTuple):
    """Meetings offered as evidence on one checklist question."""

    heading: str
    location: str  # the evidence link's "page or paragraph"
    items: list  # (meeting, (answer, figure, source) or None)


def evidence_meetings(user, plan, key):
    """What to offer as evidence on the checklist question `key` of `plan`:
    the authority's Schools Forum meetings with an answer to that question,
    or its meetings of the matching forum. Confidential meetings are never
    offered: an evidence link is read by everyone who reads the plan. None
    (and no query) when the question is not one of these."""
    # A meeting still to come is evidence of nothing yet.
    meetings = (
        Meeting.objects.for_user(user)
        .held()
        .filter(authority=plan.authority_id, confidential=False)
    )
    if key in OUTCOME_QUESTIONS:
        field = OUTCOME_QUESTIONS[key]
        answered = ~Q(**{f"forum_outcome__{field}": ""}) | Q(
            **{f"forum_outcome__{field}_amount__isnull": False}
        )
        meetings = meetings.filter(answered, forum=Forum.SCHOOLS_FORUM)
        heading, location = "Schools Forum answers", "Schools Forum answer"
    elif key in MEETING_QUESTIONS:
        meetings = meetings.filter(forum__in=MEETING_QUESTIONS[key])
        heading, location = "Meetings", "Meeting record"
    else:
        return None
    found = meetings.select_related("forum_outcome", "authority").order_by("-held_on", "-pk")
    items = [
        (
            meeting,
            getattr(meeting, "forum_outcome", None) and meeting.forum_outcome.answer_for(key),
        )
        for meeting in found[:20]
    ]
    return EvidenceOffer(heading, location, items)


class TimelineEvent(NamedTuple):
    date: datetime.date
    text: str
    meeting: Meeting | None = None


class PlanTimeline:
    """A plan's meetings (those this person may see) among the plan's own
    dates, oldest first, and whether it was agreed without consultation
    (decided over every meeting: see plans_agreed_without_consultation)."""

    def __init__(self, plan, user):
        self.meetings = list(
            Meeting.objects.for_user(user).filter(plan=plan).order_by("held_on", "pk")
        )
        events = [TimelineEvent(m.held_on, m.name, m) for m in self.meetings]
        if plan.first_year:
            events.append(TimelineEvent(datetime.date(plan.first_year, 4, 1), "The plan starts"))
        if plan.last_year:
            events.append(TimelineEvent(datetime.date(plan.last_year + 1, 3, 31), "The plan ends"))
        if plan.agreement_date:
            # Before a meeting on the same day: that meeting did not come first.
            events.append(TimelineEvent(plan.agreement_date, "The plan was agreed"))
        self.events = sorted(events, key=lambda e: (e.date, e.meeting is not None))
        self.agreed_without_consultation = (
            plan.agreement_date is not None and not Meeting.objects.consulting_on(plan).exists()
        )


class ForumAnswer(NamedTuple):
    """One of the Schools Forum's three questions and the latest answer
    recorded for it (empty, with no meeting, when none is)."""

    question: str
    text: str
    amount: object  # Decimal or None
    source: str
    meeting: Meeting | None


def latest_forum_answers(meetings):
    """The briefing's three Schools Forum questions (SchoolsForumOutcome.
    ANSWERS, in order), each with the latest answer recorded at one of
    `meetings`' Schools Forum meetings: a later meeting that left a
    question blank does not hide an earlier answer. One query."""
    found = list(
        meetings.filter(forum=Forum.SCHOOLS_FORUM, forum_outcome__isnull=False)
        .select_related("forum_outcome")
        .order_by("-held_on", "-pk")
    )
    result = []
    for field, key in SchoolsForumOutcome.ANSWERS:
        question = str(SchoolsForumOutcome._meta.get_field(field).verbose_name)
        answered = next(
            (
                (meeting, answer)
                for meeting in found
                if (answer := meeting.forum_outcome.answer_for(key)) is not None
            ),
            None,
        )
        if answered is None:
            result.append(ForumAnswer(question, "", None, "", None))
        else:
            meeting, (text, amount, source) = answered
            result.append(ForumAnswer(question, text, amount, source, meeting))
    return result


# Questions to ask at a meeting ---------------------------------------------


def _why_suggested(answer):
    if answer is None:
        return "not answered yet"
    if answer.concern == Answer.Concern.SERIOUS:
        return "serious concern"
    return "answered “Not known”"


def checklist_choices(meeting):
    """The checklist questions of the meeting's plan not yet put at it, as
    grouped choices for PickQuestionsForm: suggested first (what the union
    still needs to ask: not answered, "not known" or of serious concern;
    plans.models.needs_asking), serious concerns at their head, then the
    rest, each in checklist order and in the words it will be put in
    (Question.to_ask). Empty for a meeting about no plan. Two
    queries: the questions and the plan's answers (private notes unread)."""
    plan = meeting.plan
    if plan is None:
        return []
    bank = plan.checklist_question_set()
    if bank is None:
        return []
    taken = MeetingQuestion.objects.filter(meeting=meeting, question__isnull=False).values(
        "question_id"
    )
    questions = (
        Question.objects.filter(question_set=bank)
        .for_programme(plan.programme_id)  # only those on the plan's checklist
        .exclude(pk__in=taken)
        .select_related("section")
        .order_by("section__number", "order", "pk")
    )
    answers = {
        answer.question_id: answer
        for answer in Answer.objects.filter(assessment__plan=plan).defer("private_notes")
    }
    suggested, rest = [], []
    for question in questions:
        answer = answers.get(question.pk)
        if needs_asking(answer):
            serious = answer is not None and answer.concern == Answer.Concern.SERIOUS
            suggested.append(
                (not serious, (question.pk, f"{question.to_ask} ({_why_suggested(answer)})"))
            )
        else:
            rest.append((question.pk, question.to_ask))
    # Serious concerns first; sorted() keeps checklist order within each.
    suggested = [choice for _, choice in sorted(suggested, key=lambda pair: pair[0])]
    groups = []
    if suggested:
        groups.append(("Suggested", suggested))
    if rest:
        groups.append(("The rest of the checklist", rest))
    return groups


class AskedQuestion(NamedTuple):
    """A question put at a meeting, with the plan's answer to the same
    checklist question (None for one's own, or one not answered yet)."""

    item: MeetingQuestion
    checklist_answer: Answer | None

    @property
    def may_become_evidence(self):
        """Whether the answer given can be linked as evidence on the
        checklist: it was asked and answered, puts a checklist question the
        plan has answered, and is not linked yet."""
        return bool(
            self.item.question_id
            and self.checklist_answer is not None
            and self.item.answer.strip()
            and self.item.evidence_id is None
        )


def meeting_questions(meeting):
    """The meeting's questions in order, each with the plan's checklist
    answer to it. Two queries."""
    items = list(
        MeetingQuestion.objects.filter(meeting=meeting)
        .select_related("question__section", "evidence")
        .order_by("position", "pk")
    )
    answers = {}
    keys = [item.question_id for item in items if item.question_id]
    if meeting.plan_id and keys:
        answers = {
            answer.question_id: answer
            for answer in Answer.objects.filter(
                assessment__plan=meeting.plan_id, question__in=keys
            ).defer("private_notes")
        }
    return [AskedQuestion(item, answers.get(item.question_id)) for item in items]
