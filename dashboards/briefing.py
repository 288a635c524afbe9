"""What the authority page and its printable briefing pack gather about one
authority: its plans in brief (money, targets, checklist), the Schools
Forum's three questions, members' reports, actions and recent changes.

Everything is read through the other apps' own QuerySet methods and
functions, in a fixed number of queries however many plans, instalments,
targets, answers and meetings there are, and handed to the templates as
lists, so rendering asks the database nothing.
"""

from dataclasses import dataclass, field

from consultations.models import (
    Action,
    BlockTransfer,
    Meeting,
    with_agreed_without_consultation,
)
from consultations.presenters import latest_forum_answers, meeting_questions
from feedback.aggregates import authority_feedback
from plans.history import plan_changes
from plans.models import Answer, FundingInstalment, Plan, instalment_totals, still_to_ask

from .charts import dsg_deficit_chart, high_needs_chart

RECENT_CHANGES = 8
NO_MONEY = {"promised": None, "paid": None, "withheld": None}


@dataclass
class PlanInBrief:
    """One plan and what the pages say about it."""

    plan: Plan
    # Instalment totals (InstalmentQuerySet.totals); None with no instalments.
    money: dict
    targets: list  # each Target with `latest_update`: its newest progress, or None
    answers: list  # Answer, serious concerns first (AnswerQuerySet.for_briefing)
    instalments: list = field(default_factory=list)
    # {section: [(question, answer or None)]} (plans.models.still_to_ask), or
    # None when not read or no checklist is loaded.
    to_ask: dict | None = None

    @property
    def has_instalments(self):
        return self.money["promised"] is not None

    @property
    def serious(self):
        return [a for a in self.answers if a.concern == Answer.Concern.SERIOUS]

    @property
    def some(self):
        return [a for a in self.answers if a.concern == Answer.Concern.SOME]

    @property
    def no_concern(self):
        return [a for a in self.answers if a.concern == Answer.Concern.NONE]

    @property
    def to_ask_count(self):
        return sum(len(rows) for rows in (self.to_ask or {}).values())


def _plans(user, authority):
    """The authority's plans in scope, with what both pages show of each:
    checklist counts (summary()), the assessment, targets with progress,
    and whether it was agreed with no consultation logged."""
    return with_agreed_without_consultation(
        Plan.objects.for_user(user)
        .filter(authority=authority)
        .summary()
        .select_related("assessment")
        .with_reform()
        .with_targets()
    )


def plans_in_brief(plans, *, briefing=False):
    """A PlanInBrief for each of `plans` (from _plans). The authority page
    needs only the answers of concern; the briefing pack (`briefing`) every
    answer, the instalments and the questions still to ask."""
    plans = list(plans)
    if not plans:
        return []
    ids = [plan.pk for plan in plans]
    instalments = FundingInstalment.objects.filter(plan__in=ids)
    answers = Answer.objects.filter(assessment__plan__in=ids).for_briefing()
    if not briefing:
        answers = answers.exclude(concern=Answer.Concern.NONE)
    answers_of = {}
    for answer in answers:
        answers_of.setdefault(answer.assessment.plan_id, []).append(answer)
    instalments_of, to_ask = {}, {}
    if briefing:
        for instalment in instalments:
            instalments_of.setdefault(instalment.plan_id, []).append(instalment)
        # The pack lists them, so their totals are added up from the list.
        money = {pk: instalment_totals(listed) for pk, listed in instalments_of.items()}
        to_ask = still_to_ask(plans, answers=answers)
    else:
        money = instalments.totals_by_plan()
    result = []
    for plan in plans:
        targets = list(plan.targets.all())
        result.append(
            PlanInBrief(
                plan=plan,
                money=money.get(plan.pk, NO_MONEY),
                targets=targets,
                answers=answers_of.get(plan.pk, []),
                instalments=instalments_of.get(plan.pk, []),
                to_ask=to_ask.get(plan.pk),
            )
        )
    return result


@dataclass
class AuthorityPlans:
    """The authority page's plans: the current ones in brief, those since
    revised, and the latest changes to any of them."""

    current: list
    revised: list
    changes: list


def authority_plans(user, authority, access):
    """`access` is the person's AuthorityAccess over the authority: it decides
    whether changes to private notes are listed."""
    plans = list(_plans(user, authority))
    # All of an authority's plans are in scope together, so a plan some
    # other plan revises is exactly one Plan.objects.current() leaves out.
    revised_ids = {plan.revision_of_id for plan in plans}
    changes = (
        plan_changes(plans, show_private_notes=access.can_see_private_notes, name_plans=True)
        if plans
        else []
    )
    return AuthorityPlans(
        current=plans_in_brief(p for p in plans if p.pk not in revised_ids),
        revised=[p for p in plans if p.pk in revised_ids],
        changes=changes[:RECENT_CHANGES],
    )


def forum_answers(user, authority, *, printable=False):
    """The Schools Forum's three questions with the latest answers recorded
    at the authority's meetings this person may see. A `printable` list
    leaves out meetings marked confidential: a printed page leaves the
    app's access rules behind."""
    meetings = Meeting.objects.for_user(user).filter(authority=authority)
    if printable:
        meetings = meetings.filter(confidential=False)
    return latest_forum_answers(meetings)


@dataclass
class BriefingPack:
    """Everything in the printable briefing pack."""

    authority: object
    plans: list  # PlanInBrief
    one_plan: bool  # the pack is about one chosen plan
    forum_answers: list
    feedback: object  # feedback.aggregates.FeedbackSummary, suppressed as on the authority page
    actions: list
    charts: list  # dashboards.charts.BarChart
    # The meetings (planned and held, newest first) and the block transfers
    # put to the Schools Forum with its votes, less confidential ones.
    meetings: list = field(default_factory=list)
    transfers: list = field(default_factory=list)


# The meetings a briefing pack lists: enough for the story of a plan.
PACK_MEETINGS = 12


def briefing_pack(user, authority, roles, *, plan_pk=None):
    """The briefing pack for `authority`: its current plans, or the one plan
    `plan_pk` (any of its plans in scope, revised ones too; none found is
    an empty `plans`, for the view to answer 404). `roles` are the person's
    roles over the authority (LocalAuthority.roles_of)."""
    plans = _plans(user, authority)
    plans = plans.filter(pk=plan_pk) if plan_pk is not None else plans.current()
    finance_years = authority.finance_years.trend()
    charts = [dsg_deficit_chart(finance_years), high_needs_chart(finance_years)]
    return BriefingPack(
        authority=authority,
        plans=plans_in_brief(plans, briefing=True),
        one_plan=plan_pk is not None,
        forum_answers=forum_answers(user, authority, printable=True),
        feedback=authority_feedback(authority, user, roles),
        # Open actions, less those that follow a confidential meeting (see
        # forum_answers).
        actions=list(
            Action.objects.listed_for(user)
            .filter(authority=authority)
            .exclude(meeting__confidential=True)
            .open()
        ),
        charts=[chart for chart in charts if chart.bars],
        meetings=_printable_meetings(user, authority)[:PACK_MEETINGS],
        transfers=list(
            BlockTransfer.objects.for_user(user)
            .filter(meeting__authority=authority, meeting__confidential=False)
            .listed()
        ),
    )


def _printable_meetings(user, authority):
    """The authority's meetings this person sees, less confidential ones
    (see forum_answers), newest first, with their plan."""
    return Meeting.objects.for_user(user).filter(authority=authority, confidential=False).listed()


@dataclass
class ShortPack:
    """One or two printed pages for one meeting: the plan it is about in
    brief, its money and top concerns, the questions to ask, and members'
    headline figures."""

    meeting: Meeting
    plan: PlanInBrief | None
    concerns: list  # Answer: the plan's top concerns, serious first
    questions: list  # consultations.presenters.AskedQuestion
    feedback: object  # feedback.aggregates.FeedbackSummary


# Concerns a short pack has room for.
SHORT_PACK_CONCERNS = 5


def short_pack(user, meeting, roles):
    """The short pack for `meeting` (read through Meeting.objects.for_user by
    the view). `roles` as for briefing_pack. A meeting about no plan has no
    plan, money or concerns in it."""
    plan = None
    if meeting.plan_id:
        found = plans_in_brief(_plans(user, meeting.authority).filter(pk=meeting.plan_id))
        plan = found[0] if found else None
    concerns = (plan.serious + plan.some)[:SHORT_PACK_CONCERNS] if plan else []
    return ShortPack(
        meeting=meeting,
        plan=plan,
        concerns=concerns,
        questions=meeting_questions(meeting),
        feedback=authority_feedback(meeting.authority, user, roles),
    )
