"""Every edit form survives being opened and saved unchanged, in a real browser.

STYLE.md: "every edit form is opened and saved unchanged in the browser:
nothing may change. The test client posts what the test writes; only a
browser posts what a person sees." So each entry below builds a record with
every field filled (dates, money with pence, text over several lines,
multi-selects, radios, ticked boxes, links to other records), opens its edit
page in Chromium as someone who may edit it, presses the form's button
without touching a field, and checks that the save went through (a redirect,
no error shown) and that no stored value changed, on the record or on the
parts the same page edits (a meeting's Schools Forum outcome and block
transfer, a person's memberships, a plan's instalments and targets).

ROUND_TRIP names every edit form outside the admin by URL name, and
NOT_EDIT_FORMS says why each other named URL is not one; ADMIN_ROUND_TRIP
and ADMIN_EXEMPT do the same for every ModelAdmin on `admin.site`.
tests/test_round_trip_registry.py (no browser needed) fails when a URL or a
ModelAdmin is in neither, so a new edit form cannot ship without a round trip,
and when a record built here leaves a field blank or at its default.

No new django-simple-history row may be written either: that check is
`assert_no_new_history`, kept apart so that it can be seen failing on its own.

On the way, each form of the app is measured on a phone: its first save
button must be within two screens of the top (`assert_save_within_two_screens`).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from authorities.access import Role
from authorities.models import (
    AuthorityAlias,
    AuthorityFinance,
    Branch,
    Digest,
    Membership,
    MultiAcademyTrust,
    User,
    Watch,
)
from consultations.models import (
    Action,
    BlockTransfer,
    Forum,
    Meeting,
    MeetingQuestion,
    SchoolsForumOutcome,
    YesNo,
)
from feedback.models import (
    Barrier,
    FeedbackEvidence,
    FeedbackSubmission,
    HealthCosts,
    Phase,
    Practice,
    Pressure,
    Source,
    Stance,
)
from plans.models import (
    Answer,
    Assessment,
    Comment,
    EvidenceLink,
    FundingInstalment,
    Goal,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    Question,
    QuestionSet,
    Recommendation,
    ReformPlanDetails,
    Target,
)
from tests.factories import (
    CAMDEN,
    KENT,
    PASSWORD,
    authority,
    give_security_key,
    give_totp,
    make_plan,
    make_user,
    region,
)


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


@pytest.fixture
def second_national_officer(reference_data):
    """A second person who may use the admin, so that each admin round trip
    is made by two people, like the app's."""
    return make_user(
        "second.officer@example.org",
        first_name="Tomasz",
        last_name="Nowak",
        is_staff=True,
        roles=[(Role.NATIONAL_OFFICER, None)],
    )


# The registry -----------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """A record made for a round trip: its edit page, and what to watch.
    `watched` holds model instances and querysets: a queryset's rows are
    read again after the save, so a row added or removed shows too."""

    url: str
    watched: tuple


@dataclass(frozen=True)
class RoundTrip:
    # Makes the fully filled record, given the person who will edit it
    # (feedback can be changed only by whoever submitted it).
    build: Callable[[User], Built]
    personas: tuple  # fixture names of people who may edit it: two at least
    button: str = "Save"
    # allauth asks for the password again, even just after signing in,
    # before a change to how a person signs in (their security keys).
    confirm_password: bool = False


# The admin's round trips run as the only people who may use it.
ADMIN_PERSONAS = ("national_officer", "second_national_officer")


# People the records name, besides the person editing them.
def camden_colleague():
    """Camden's JCNC representative: who answered, logged or owns things."""
    found = User.objects.filter(email="camden.jcnc@example.org").first()
    return found or make_user(
        "camden.jcnc@example.org",
        first_name="Dafydd",
        last_name="Price",
        roles=[(Role.JCNC_REP, authority(CAMDEN))],
    )


def days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def moment_ago(**delta):
    """A stored moment as the app records it: with microseconds."""
    return timezone.now() - datetime.timedelta(**delta)


# Fully filled records: every optional field given a realistic value other
# than its default (tests/test_round_trip_registry.py checks, and names the
# few fields left as they are, with the reason).


def full_plan():
    """Camden's Safety Valve plan, revision 2 of the one first agreed."""
    first = make_plan(
        CAMDEN, "sv", round_or_tranche="2024-25", agreement_date=datetime.date(2024, 3, 14)
    )
    return make_plan(
        CAMDEN,
        "sv",
        round_or_tranche="2024-25",
        revision_of=first,
        revision=2,
        status=Plan.Status.UNDER_REVIEW,
        status_note=(
            "The DfE reviewed the plan after the autumn monitoring return.\n"
            "The third payment is withheld until the deficit trajectory is revised."
        ),
        status_source_url="https://www.gov.uk/government/publications/safety-valve-agreements",
        agreement_date=datetime.date(2025, 2, 27),
        first_year=2024,
        last_year=2028,
        total_funding=Decimal("19450000.75"),
        document_url="https://democracy.camden.gov.uk/documents/safety-valve-2025.pdf",
        summary=(
            "Fewer new EHCPs through an 'ordinarily available' offer in mainstream schools.\n"
            "Forty placements moved from independent to maintained special schools."
        ),
        sources=(
            "https://www.gov.uk/government/publications/safety-valve-agreements (the table)\n"
            "https://democracy.camden.gov.uk/documents/safety-valve-2025.pdf, page 4"
        ),
        verified=True,
        # Told when it was negotiating, before it was agreed.
        national_office_told_at=moment_ago(days=420),
    )


def full_instalments(plan):
    return [
        FundingInstalment.objects.create(
            plan=plan,
            financial_year=2025,
            amount=Decimal("4862500.25"),
            status=FundingInstalment.Status.REDUCED,
            amount_paid=Decimal("3000000.10"),
            condition="Paid on the DfE's acceptance of the quarterly monitoring return.\n"
            "A deficit below £12m by March.",
            note="Reduced after the overspend reported in the third quarter.",
        ),
        FundingInstalment.objects.create(
            plan=plan,
            financial_year=2026,
            amount=Decimal("4862500.25"),
            status=FundingInstalment.Status.WITHHELD,
            condition="A revised deficit trajectory agreed with the DfE.",
            note="Withheld pending the review.",
        ),
    ]


def full_reform_plan():
    """Camden's local SEND reform plan, approved, with every detail."""
    plan = make_plan(CAMDEN, "send-reform", round_or_tranche="2026")
    details = ReformPlanDetails.objects.create(
        plan=plan,
        stage=ReformPlanDetails.Stage.REVISED,
        started_on=datetime.date(2026, 1, 12),
        draft_shared_on=datetime.date(2026, 4, 30),
        feedback_on=datetime.date(2026, 6, 19),
        submitted_on=datetime.date(2026, 7, 31),
        decided_on=datetime.date(2026, 9, 4),
        revised_on=datetime.date(2026, 11, 20),
        rating=ReformPlanDetails.Rating.NOT_MET,
        rated_on=datetime.date(2026, 9, 4),
        rating_source_url="https://democracy.camden.gov.uk/cabinet/2026-09-reform.pdf",
        health_partner="NHS North Central London ICB",
        signed_by="Director of Children's Services; ICB Director of Nursing",
        aim_early="Speech and language support in every early years setting.\nBy 2027.",
        aim_local="Twelve new resourced provisions in mainstream primary schools.",
        aim_fair="Banded funding for SEN support, published each year.",
        aim_effective="Termly reviews of every resourced provision.",
        aim_shared="A partnership board with schools, health and the parent carer forum.",
        special_school_capacity=ReformPlanDetails.Capacity.REDUCE,
        special_school_places_change=-40,
        ap_capacity=ReformPlanDetails.Capacity.EXPAND,
        ap_places_change=12,
        capacity_evidence="Plan, section 4 (page 18).\nCabinet report, paragraph 3.2.",
        mainstream_investment=Decimal("2400000.55"),
        mainstream_investment_evidence="Inclusion fund for schools, page 21.",
        isp_readiness=ReformPlanDetails.IspReadiness.PLANNED,
        isp_evidence="SENCOs to write ISPs; no time or training set aside (page 23).",
    )
    grant = HighNeedsStabilityGrant.objects.create(
        plan=plan,
        eligible_deficit=Decimal("41250000.45"),
        deficit_figure=HighNeedsStabilityGrant.Figure.S151,
        deficit_source_url="https://democracy.camden.gov.uk/forum/2026-05-dsg.pdf",
        remaining_plan="From reserves over three years.\nNo cut named yet.",
        due_on=datetime.date(2026, 10, 30),
        status=HighNeedsStabilityGrant.Status.REDUCED,
        amount_paid=Decimal("30000000.10"),
        paid_on=datetime.date(2026, 11, 6),
        conditions="Paid only if the DfE approves the reform plan.",
        note="Reduced: the DfE held back part until the revised plan is approved.",
    )
    return plan, details, grant


def full_target(plan, description="Reduce new EHCPs by 10% a year"):
    target = Target.objects.create(
        plan=plan,
        description=description,
        goal=Goal.PROVISION,
        baseline=Decimal("2450.00"),
        target_value=Decimal("2205.50"),
        unit="new EHCPs a year",
        due_year=2027,
    )
    target.recommendations.set(Recommendation.objects.filter(number__in=[2, 7, 9]))
    return target


def full_answer(plan, key="cuts-not-efficiency"):
    """A serious concern, with evidence, private notes and a link."""
    assessment = Assessment.objects.create(
        plan=plan, question_set=QuestionSet.objects.latest_version()
    )
    answer = Answer.objects.create(
        assessment=assessment,
        question=Question.objects.get(question_set=assessment.question_set, key=key),
        response=Answer.Response.PARTLY,
        concern=Answer.Concern.SERIOUS,
        evidence=(
            "Page 12 of the plan moves £3m of SEN support into 'efficiencies'.\n"
            "SENCOs report the outreach service has been cut back to one day a week."
        ),
        private_notes="The head of SEND said privately that the cut was the DfE's condition.",
        answered_by=camden_colleague(),
        answered_at=moment_ago(days=3, hours=2),
        # carried_forward stays False: saving a carried-forward answer is how
        # it is confirmed, a change by design.
    )
    link = EvidenceLink.objects.create(
        answer=answer,
        url="https://democracy.camden.gov.uk/documents/safety-valve-2025.pdf",
        title="Camden's Safety Valve plan",
        location="page 12",
        added_by=camden_colleague(),
    )
    Comment.objects.create(answer=answer, author=camden_colleague(), text="Raise at the JCNC.")
    return answer, link


def full_finance():
    return AuthorityFinance.objects.create(
        authority=authority(CAMDEN),
        financial_year=2024,
        dsg_cumulative_deficit=Decimal("33215400.45"),
        dsg_cumulative_deficit_source_url="https://democracy.camden.gov.uk/forum-2025-01.pdf",
        high_needs_block_allocation=Decimal("71234567.89"),
        high_needs_block_allocation_source_url="https://www.gov.uk/dsg-allocations-2024-25",
        schools_block_transfer=Decimal("1150000.00"),
        schools_block_transfer_source_url="https://democracy.camden.gov.uk/forum-2024-11.pdf",
        ehcp_count=2450,
        ehcp_count_source_url="https://explore-education-statistics.service.gov.uk/sen2",
        updated_by=camden_colleague(),
    )


def full_trust():
    """A trust running schools in Camden and in Kent: a London organiser
    is offered Camden only, and Kent must stay as it is. One, however many
    records name it (a meeting and a feedback submission)."""
    made = MultiAcademyTrust.objects.filter(name="Thames and Weald Academies").first()
    if made is not None:
        return made
    trust = MultiAcademyTrust.objects.create(
        name="Thames and Weald Academies",
        mainstream_schools=17,
        special_schools=3,
        notes="Runs two special schools in Kent.\nIts Camden secondary has a resource base.",
        updated_by=camden_colleague(),
    )
    trust.authorities.set([authority(CAMDEN), authority(KENT)])
    return trust


def full_branch():
    branch = Branch.objects.create(
        name="Camden and Kent Schools branch", updated_by=camden_colleague()
    )
    branch.authorities.set([authority(CAMDEN), authority(KENT)])
    return branch


def full_meeting(plan, *, confidential=True):
    """A Schools Forum meeting with its outcome and block transfer."""
    meeting = Meeting.objects.create(
        authority=authority(CAMDEN),
        forum=Forum.SCHOOLS_FORUM,
        held_on=days_ago(9),
        union_invited=YesNo.YES,
        union_attended=YesNo.YES,
        union_consulted=YesNo.NO,
        plan=plan,
        plan_draft="Second draft, as in the forum papers",
        title="Schools Forum budget meeting",
        attendees="Carys Evans (LNS), Dafydd Price (JCNC)",
        summary="The authority presented the revised plan.\nMembers asked about outreach.",
        decisions="The forum noted the plan and did not agree the transfer.",
        next_steps="Ask for the outreach figures before the next meeting.",
        minutes_url="https://democracy.camden.gov.uk/schools-forum/minutes.pdf",
        minutes_page="Item 5",
        confidential=confidential,
        created_by=camden_colleague(),
        trust=full_trust(),
        agenda="Apologies\nHigh needs budget 2026-27\nSafety Valve progress",
        papers=(
            "High needs budget 2026-27 https://democracy.camden.gov.uk/schools-forum/item5.pdf\n"
            "Safety Valve progress report https://democracy.camden.gov.uk/schools-forum/item6.pdf"
        ),
    )
    meeting.attending.set([camden_colleague()])
    SchoolsForumOutcome.objects.create(
        meeting=meeting,
        funding_on_agenda=YesNo.YES,
        proposals_discussed=YesNo.NO,
        extra_funding="£19.45m over five years, paid in instalments.",
        extra_funding_amount=Decimal("19450000.75"),
        extra_funding_source="Forum papers, item 5, page 3",
        dsg_transfer="A 0.5% transfer is recommended for 2026-27.",
        dsg_transfer_amount=Decimal("1200000.50"),
        dsg_transfer_source="https://democracy.camden.gov.uk/schools-forum/item5.pdf",
        nhs_contribution="The ICB contributes to 40 plans; no figure was given.",
        nhs_contribution_amount=Decimal("350000.00"),
        nhs_contribution_source="The director of children's services, in answer",
    )
    BlockTransfer.objects.create(
        meeting=meeting,
        financial_year=2026,
        amount=Decimal("1200000.50"),
        percent=Decimal("0.50"),
        votes_for=6,
        votes_against=9,
        abstentions=1,
        outcome=BlockTransfer.Outcome.NOT_AGREED,
        disapplication_request=YesNo.YES,
        note="The authority will ask the Secretary of State to overrule the forum.",
    )
    return meeting


def meeting_parts(meeting):
    return (
        meeting,
        SchoolsForumOutcome.objects.filter(meeting=meeting),
        BlockTransfer.objects.filter(meeting=meeting),
    )


def full_action():
    plan = full_plan()
    # Not confidential: the region's organisers change actions too, and an
    # action following a meeting they may not see is hidden from them.
    meeting = full_meeting(plan, confidential=False)
    return Action.objects.create(
        authority=authority(CAMDEN),
        plan=plan,
        meeting=meeting,
        title="Arrange a meeting for SENCOs on the outreach cut",
        owner=camden_colleague(),
        due_on=days_ago(3),
        status=Action.Status.IN_PROGRESS,
        notes="Rooms booked at the teachers' centre.\nInvitations go out next week.",
        reason="Moved after the forum was postponed.",
        starter="senco-meeting",
        last_reminded_on=days_ago(1),
        created_by=camden_colleague(),
    )


def full_submission(submitter):
    """Feedback that may still be changed: its submitter's, under 14 days old.
    The free text holds no date near a name, which asks for a confirmation
    that nobody can be identified (a check on purpose, not a round trip)."""
    submitted_at = moment_ago(days=2, hours=5)
    return FeedbackSubmission.objects.create(
        authority=authority(CAMDEN),
        source=Source.HEADTEACHER_NETWORK,
        phases=[Phase.PRIMARY, Phase.SPECIAL],
        people_count=14,
        meeting_date=days_ago(5),
        pressures=[Pressure.SENCO_TIME, Pressure.WAITING],
        pressures_other="Transport for pupils with EHCPs has been cut back.",
        working_well="The early years inclusion fund.\nOutreach from the special schools.",
        barriers=[Barrier.EDUCATIONAL_PSYCHOLOGY, Barrier.THERAPIES],
        barriers_other="Nobody answers the SEND team's phone line.",
        assessment_wait_weeks=26,
        support_wait_weeks=14,
        health_care_costs=HealthCosts.PARTLY,
        practices=[Practice.BUREAUCRATIC, Practice.REFUSING, Practice.EXTRA_INFORMATION],
        bureaucratic_example="A new portal asks for the same reports three times.",
        refusing_example="Every first request this term was refused by return.",
        extra_information_example="Two terms of provision maps before any request.",
        consent_to_share=True,
        trust=full_trust(),
        submitted_by=submitter,
        submitted_at=submitted_at,
        # Told when it was submitted: it reports practices.
        national_office_told_at=submitted_at,
        # withdrawn_at and anonymised_at stay empty: withdrawn or anonymised
        # feedback cannot be changed.
    )


def admin_change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


# The app's edit forms, by URL name.


def plan_edit(editor):
    plan = full_plan()
    return Built(reverse("plans:edit", kwargs={"pk": plan.pk}), (plan,))


def instalment_edit(editor):
    plan = full_plan()
    instalment = full_instalments(plan)[0]
    url = reverse("plans:instalment_edit", kwargs={"pk": plan.pk, "instalment_pk": instalment.pk})
    return Built(url, (instalment, plan.instalments.all()))


def target_edit(editor):
    plan = full_plan()
    target = full_target(plan)
    url = reverse("plans:target_edit", kwargs={"pk": plan.pk, "target_pk": target.pk})
    return Built(url, (target, plan.targets.all()))


def reform_edit(editor):
    plan, details, _ = full_reform_plan()
    return Built(reverse("plans:reform_edit", kwargs={"pk": plan.pk}), (details,))


def grant_edit(editor):
    plan, _, grant = full_reform_plan()
    return Built(reverse("plans:grant_edit", kwargs={"pk": plan.pk}), (grant,))


def answer_edit(editor):
    plan = full_plan()
    answer, _ = full_answer(plan)
    url = reverse("plans:answer", kwargs={"pk": plan.pk, "key": answer.question.key})
    return Built(url, (answer, answer.links.all(), answer.comments.all()))


def finance_edit(editor):
    finance = full_finance()
    url = reverse("authorities:finance_edit", kwargs={"slug": "camden", "year": 2024})
    return Built(url, (finance,))


def trust_edit(editor):
    trust = full_trust()
    return Built(reverse("authorities:trust_edit", kwargs={"pk": trust.pk}), (trust,))


def branch_edit(editor):
    branch = full_branch()
    return Built(reverse("authorities:branch_edit", kwargs={"pk": branch.pk}), (branch,))


def digest_edit(editor):
    digest = editor.digest
    digest.covers = Digest.Covers.WATCHED
    digest.last_sent_on = datetime.date(2026, 11, 30)
    digest.save()
    Watch.objects.create(person=editor, authority=authority(CAMDEN))
    return Built(reverse("authorities:digest"), (digest, editor.watches.all()))


def meeting_edit(editor):
    meeting = full_meeting(full_plan())
    url = reverse("consultations:edit", kwargs={"pk": meeting.pk})
    return Built(url, meeting_parts(meeting))


def meeting_answers(editor):
    """A question put at a meeting (not confidential: organisers record
    answers too), asked and answered, and already linked as evidence."""
    plan = full_plan()
    answer, link = full_answer(plan)
    meeting = full_meeting(plan, confidential=False)
    item = MeetingQuestion.objects.create(
        meeting=meeting,
        position=2,
        question=answer.question,
        text=answer.question.text,
        asked=MeetingQuestion.Asked.YES,
        answer="The director said the outreach service closes in 2027.\nNo figure was given.",
        evidence=link,
        added_by=camden_colleague(),
    )
    url = reverse("consultations:answers", kwargs={"pk": meeting.pk})
    # The meeting's questions as a set: one added or removed shows too.
    return Built(url, (item, MeetingQuestion.objects.filter(meeting=meeting)))


def action_edit(editor):
    action = full_action()
    return Built(reverse("consultations:action_edit", kwargs={"pk": action.pk}), (action,))


def feedback_edit(editor):
    submission = full_submission(editor)
    return Built(reverse("feedback:edit", kwargs={"pk": submission.pk}), (submission,))


def security_key_edit(editor):
    if not Authenticator.objects.filter(user=editor, type=Authenticator.Type.TOTP).exists():
        give_totp(editor)
    key = give_security_key(editor, name="Nadia's YubiKey 5C — kept at the office")
    key.last_used_at = moment_ago(days=3, minutes=14)
    key.save(update_fields=["last_used_at"])
    return Built(reverse("mfa_edit_webauthn", kwargs={"pk": key.pk}), (key,))


ROUND_TRIP = {
    "plans:edit": RoundTrip(plan_edit, ("national_officer", "camden_lns"), "Save the plan"),
    "plans:instalment_edit": RoundTrip(
        instalment_edit, ("camden_lns", "camden_forum_rep"), "Save the instalment"
    ),
    "plans:target_edit": RoundTrip(
        target_edit, ("national_officer", "camden_forum_rep"), "Save the target"
    ),
    "plans:reform_edit": RoundTrip(
        reform_edit, ("camden_lns", "national_officer"), "Save the reform plan"
    ),
    "plans:grant_edit": RoundTrip(
        grant_edit, ("camden_forum_rep", "camden_lns"), "Save the grant"
    ),
    # The question's page has several forms; this is the answer's own.
    "plans:answer": RoundTrip(answer_edit, ("camden_lns", "national_officer"), "Save answer"),
    "authorities:finance_edit": RoundTrip(
        finance_edit, ("camden_lns", "camden_forum_rep"), "Save the figures"
    ),
    "authorities:digest": RoundTrip(digest_edit, ("camden_lns", "london_organiser")),
    # The organiser is offered Camden only: the trust's Kent must stay.
    "authorities:trust_edit": RoundTrip(
        trust_edit, ("london_organiser", "national_officer"), "Save the trust"
    ),
    "authorities:branch_edit": RoundTrip(
        branch_edit, ("national_officer", "london_organiser"), "Save the branch"
    ),
    # The page's first button ("Save the meeting") posts the same form.
    "consultations:edit": RoundTrip(
        meeting_edit, ("national_officer", "camden_forum_rep"), "Save the meeting and its details"
    ),
    "consultations:answers": RoundTrip(
        meeting_answers, ("london_organiser", "camden_lns"), "Save the answers"
    ),
    "consultations:action_edit": RoundTrip(
        action_edit, ("camden_lns", "london_organiser"), "Save the action"
    ),
    # Only the submitter may change feedback: each persona changes their own.
    "feedback:edit": RoundTrip(feedback_edit, ("camden_senco_lead", "camden_lns"), "Save changes"),
    # Each renames their own security key; only an app's code can be typed
    # at sign-in, so the key's owner has one too.
    "mfa_edit_webauthn": RoundTrip(
        security_key_edit, ("camden_lns", "national_officer"), confirm_password=True
    ),
}

# Why every other named URL outside the admin is not an edit form.
LIST = "list"
READ_ONLY = "read-only page"
DOWNLOAD = "download"
ADD = "add form: no existing record"
DELETE = "confirmation of a delete"
NO_FIELDS = "one button, no fields: it makes or changes a record by itself"
ACCOUNT = "account page: asks for passwords, codes or an address, never shows a stored value"

NOT_EDIT_FORMS = {
    "home": READ_ONLY,
    "accessibility": READ_ONLY,
    "health": "health check",
    "ready": "readiness check",
    "dashboards:authority_list": LIST,
    "dashboards:map": READ_ONLY,
    "dashboards:warnings": LIST,
    # Marking a warning dealt with makes a new record (its note); reopening
    # one is a confirmation with an optional reason (test_warning_page.py).
    "dashboards:warning_deal": f"{ADD} (a warning marked dealt with, with its note)",
    "dashboards:warning_reopen": "confirmation of a reopening",
    "dashboards:search": READ_ONLY,
    "dashboards:authority": READ_ONLY,
    "dashboards:briefing": READ_ONLY,
    "dashboards:region": READ_ONLY,
    "dashboards:overview": LIST,
    "authorities:audit": LIST,
    "authorities:trusts": LIST,
    "authorities:trust_add": ADD,
    "dashboards:trust": READ_ONLY,
    "authorities:branches": LIST,
    "authorities:branch_add": ADD,
    "dashboards:branch": READ_ONLY,
    "dashboards:overview_csv": DOWNLOAD,
    "dashboards:overview_xlsx": DOWNLOAD,
    "authorities:finance_add": ADD,
    "authorities:finance_delete": DELETE,
    "authorities:watch": "a confirmation of watching an authority, or no longer",
    "dashboards:tell_national_office": "a report sent once: nothing stored to edit",
    "plans:list": LIST,
    "plans:add": ADD,
    "plans:detail": READ_ONLY,
    "plans:history": READ_ONLY,
    "plans:revise": f"{NO_FIELDS} (starts a revision)",
    "plans:instalment_add": ADD,
    "plans:instalment_delete": DELETE,
    "plans:target_add": ADD,
    "plans:target_update_add": f"{ADD} (each progress update is a new one)",
    "plans:evidence_add": f"{ADD} (posted from the question's page)",
    "plans:comment_add": f"{ADD} (posted from the question's page)",
    "plans:answer_confirm": f"{NO_FIELDS} (confirms a carried-forward answer)",
    "plans:questions_to_ask": READ_ONLY,
    "consultations:list": LIST,
    "consultations:authority_list": LIST,
    "consultations:add": ADD,
    "consultations:detail": READ_ONLY,
    "consultations:plan": f"{ADD} (a meeting to come)",
    # Its form picks checklist questions to add: it never shows a stored value.
    "consultations:questions": f"{ADD} (questions picked from the checklist)",
    "consultations:question_add": f"{ADD} (posted from the questions page)",
    "consultations:questions_print": READ_ONLY,
    "consultations:question_move": f"{NO_FIELDS} (moves a question up or down)",
    "consultations:question_remove": DELETE,
    "consultations:question_evidence": f"{NO_FIELDS} (links an answer as evidence)",
    "dashboards:short_pack": READ_ONLY,
    "consultations:link_evidence": f"{NO_FIELDS} (links a meeting as evidence)",
    "official:link_evidence": f"{NO_FIELDS} (links an official figure as evidence)",
    "consultations:actions": LIST,
    "consultations:authority_actions": LIST,
    "consultations:action_add": ADD,
    "consultations:action_starter": f"{ADD} (picks which of the briefing's actions to add)",
    "feedback:list": LIST,
    "feedback:export": DOWNLOAD,
    "feedback:detail": READ_ONLY,
    "feedback:withdraw": "confirmation of a withdrawal",
    "feedback:add": ADD,
    # Linking the same feedback again replaces its stance and point, but the
    # form always opens blank: it never shows a stored link to save again.
    "feedback:link": ADD,
    "account_login": ACCOUNT,
    "account_logout": "confirmation of signing out",
    "account_inactive": READ_ONLY,
    "account_signup": "sign-up is closed: people are invited",
    "account_reauthenticate": ACCOUNT,
    "account_request_reauthentication_code": ACCOUNT,
    "account_confirm_reauthentication_code": ACCOUNT,
    # Says who changes a person's address (a national officer, in the admin).
    "account_email": READ_ONLY,
    "account_email_verification_sent": READ_ONLY,
    "account_change_password": ACCOUNT,
    "account_set_password": ACCOUNT,
    "account_reset_password": ACCOUNT,
    "account_reset_password_done": READ_ONLY,
    "account_reset_password_from_key": ACCOUNT,
    "account_reset_password_from_key_done": READ_ONLY,
    "account_confirm_login_code": ACCOUNT,
    "account_confirm_email": "confirmation of an e-mail address",
    "mfa_index": READ_ONLY,
    "mfa_authenticate": ACCOUNT,
    "mfa_reauthenticate": ACCOUNT,
    "mfa_reauthenticate_webauthn": ACCOUNT,
    "mfa_activate_totp": ACCOUNT,
    "mfa_deactivate_totp": DELETE,
    "mfa_view_recovery_codes": READ_ONLY,
    "mfa_download_recovery_codes": DOWNLOAD,
    "mfa_generate_recovery_codes": f"{NO_FIELDS} (new recovery codes)",
    "mfa_list_webauthn": LIST,
    "mfa_add_webauthn": ADD,
    "mfa_remove_webauthn": DELETE,
    "usersessions_list": "sessions listed, each ended by one button: nothing to save",
    "accept_invitation": "a first password, set once (test_invitation_journey.py)",
}


# The admin's change forms, by model label.


def admin_user(editor):
    """Someone who has left: no longer active, with the roles they held."""
    person = make_user(
        "former.officer@example.org",
        first_name="Siân",
        last_name="O'Connor-Ahmed",
        is_active=False,
        is_staff=True,
        # Set up the tracker before national officers had their own admin.
        is_superuser=True,
        last_login=moment_ago(days=40, minutes=7),
        date_joined=moment_ago(days=800, minutes=3),
        roles=[
            (Role.NATIONAL_OFFICER, None),
            (Role.NEM, region("London")),
            (Role.JCNC_REP, authority(CAMDEN)),
        ],
    )
    # groups and user_permissions are not on the form: roles come from
    # memberships.
    return Built(admin_change_url(person), (person, Membership.objects.filter(user=person)))


def admin_authority(editor):
    camden = authority(CAMDEN)
    AuthorityAlias.objects.create(authority=camden, name="London Borough of Camden")
    AuthorityAlias.objects.create(authority=camden, name="Camden Council")
    return Built(admin_change_url(camden), (camden, camden.aliases.all()))


def admin_region(editor):
    london = region("London")
    return Built(admin_change_url(london), (london,))


def admin_membership(editor):
    membership = Membership.objects.create(
        user=camden_colleague(), role=Role.SCHOOLS_FORUM_REP, authority=authority(CAMDEN)
    )
    return Built(admin_change_url(membership), (membership,))


def admin_finance(editor):
    finance = full_finance()
    return Built(admin_change_url(finance), (finance,))


def admin_programme(editor):
    programme = Programme.objects.get(code="send-reform")
    return Built(admin_change_url(programme), (programme,))


def admin_recommendation(editor):
    recommendation = Recommendation.objects.get(number=7)
    return Built(admin_change_url(recommendation), (recommendation,))


def admin_plan(editor):
    plan = full_plan()
    full_instalments(plan)
    full_target(plan)
    full_target(plan, description="Move 40 placements to maintained special schools")
    return Built(
        admin_change_url(plan),
        (plan, FundingInstalment.objects.filter(plan=plan), Target.objects.filter(plan=plan)),
    )


def admin_question_set(editor):
    """The loaded checklist, every section and question on one page."""
    bank = QuestionSet.objects.latest_version()
    return Built(admin_change_url(bank), (bank, bank.sections.all(), bank.questions.all()))


def admin_answer(editor):
    answer, _ = full_answer(full_plan())
    return Built(admin_change_url(answer), (answer,))


def admin_meeting(editor):
    meeting = full_meeting(full_plan())
    return Built(admin_change_url(meeting), meeting_parts(meeting))


def admin_action(editor):
    action = full_action()
    return Built(admin_change_url(action), (action,))


def admin_submission(editor):
    submission = full_submission(camden_colleague())
    return Built(admin_change_url(submission), (submission,))


def admin_feedback_evidence(editor):
    plan = full_plan()
    answer, _ = full_answer(plan)
    evidence = FeedbackEvidence.objects.create(
        submission=full_submission(camden_colleague()),
        plan=plan,
        question=answer.question,
        stance=Stance.CONTRADICTS,
        point="Members report the outreach cut, which the plan calls an efficiency.",
        linked_by=camden_colleague(),
        linked_at=moment_ago(days=1, minutes=12),
    )
    return Built(admin_change_url(evidence), (evidence,))


def admin_trust(editor):
    trust = full_trust()
    return Built(admin_change_url(trust), (trust,))


def admin_branch(editor):
    branch = full_branch()
    return Built(admin_change_url(branch), (branch,))


def admin(build):
    return RoundTrip(build, ADMIN_PERSONAS)


ADMIN_ROUND_TRIP = {
    "authorities.User": admin(admin_user),
    "authorities.LocalAuthority": admin(admin_authority),
    "authorities.Region": admin(admin_region),
    "authorities.Membership": admin(admin_membership),
    "authorities.AuthorityFinance": admin(admin_finance),
    "authorities.MultiAcademyTrust": admin(admin_trust),
    "authorities.Branch": admin(admin_branch),
    "plans.Programme": admin(admin_programme),
    "plans.Recommendation": admin(admin_recommendation),
    "plans.Plan": admin(admin_plan),
    "plans.QuestionSet": admin(admin_question_set),
    "plans.Answer": admin(admin_answer),
    "consultations.Meeting": admin(admin_meeting),
    "consultations.Action": admin(admin_action),
    "feedback.FeedbackSubmission": admin(admin_submission),
    "feedback.FeedbackEvidence": admin(admin_feedback_evidence),
}

# Why the other ModelAdmins have no round trip. READ_ONLY_LOG is checked:
# their change permission must be refused.
READ_ONLY_LOG = "read-only log: nobody may change it in the admin"
ADMIN_EXEMPT = {
    "dashboards.DashboardExport": READ_ONLY_LOG,
    "feedback.FeedbackExport": READ_ONLY_LOG,
    "authorities.HistoricalAuthorityFinance": READ_ONLY_LOG,
    "authorities.AuditEvent": READ_ONLY_LOG,
    # Listed and removed by a national officer (a lost phone), never
    # changed: its secret is not shown (authorities/admin.py).
    "mfa.Authenticator": "a person's second step: only they change it, on their own pages",
    # Official statistics change only by loading a file (official/admin.py's
    # upload, which shows what would change first): listed, never edited.
    "official.Release": READ_ONLY_LOG,
    "official.Figure": READ_ONLY_LOG,
    "official.Inspection": READ_ONLY_LOG,
}

ALL_ROUND_TRIPS = {
    **ROUND_TRIP,
    **{f"admin:{label}": trip for label, trip in ADMIN_ROUND_TRIP.items()},
}


# What is stored ---------------------------------------------------------------


def watched_rows(watched):
    """The watched records as stored now: {"app.Model#pk": row}."""
    found = {}
    for item in watched:
        if isinstance(item, QuerySet):
            rows = item.all()  # a fresh read, not the queryset's cache
        else:
            rows = type(item)._default_manager.filter(pk=item.pk)
        for obj in rows:
            found[f"{obj._meta.label}#{obj.pk}"] = obj
    return found


def stored_values(obj):
    """Every concrete field's stored value, and each many-to-many set."""
    values = {f.attname: f.value_from_object(obj) for f in obj._meta.concrete_fields}
    for f in obj._meta.many_to_many:
        values[f.name] = sorted(getattr(obj, f.name).values_list("pk", flat=True))
    return values


def snapshot(watched):
    return {label: stored_values(obj) for label, obj in watched_rows(watched).items()}


def history_counts(watched):
    """How many django-simple-history rows each watched record has, for the
    models that keep a history."""
    counts = {}
    for label, obj in watched_rows(watched).items():
        history = getattr(type(obj), "history", None)
        if history is not None:
            counts[label] = history.filter(id=obj.pk).count()
    return counts


def differences(before, after):
    lines = [f"{label} was removed" for label in before.keys() - after.keys()]
    lines += [f"{label} was added" for label in after.keys() - before.keys()]
    for label in before.keys() & after.keys():
        for field, was in before[label].items():
            now = after[label].get(field)
            if now != was:
                lines.append(f"{label}.{field}: {was!r} -> {now!r}")
    return sorted(lines)


def assert_no_new_history(before, after):
    """An unchanged save writes no history row: the plan's history would
    otherwise fill with changes that changed nothing, and the early warnings
    read when something happened from the history. Kept apart from the
    stored values so that this one can be seen failing on its own."""
    grown = {label: (count, after.get(label)) for label, count in before.items()}
    grown = {label: counts for label, counts in grown.items() if counts[0] != counts[1]}
    assert not grown, f"An unchanged save wrote history rows (before, after): {grown}"


# The round trip ---------------------------------------------------------------

ERRORS = {
    ".govuk-error-summary": "a GOV.UK error summary",
    ".errornote": "the admin's error note",
    ".errorlist": "an error list",
}

CASES = [
    pytest.param(name, persona, id=f"{name}-{persona}")
    for name, trip in ALL_ROUND_TRIPS.items()
    for persona in trip.personas
]


def is_post(response):
    return response.request.method == "POST" and response.request.is_navigation_request()


# On a phone (390 x 844 CSS pixels) every edit form's first save button is
# within the first two screens: someone correcting one field need not scroll
# past screens of guidance and other fields to save it. Where a form has
# several (the meeting form saves its essentials near the top, and
# everything at the end), the first counts.
PHONE = {"width": 390, "height": 844}
SCREENS = 2
# The first button that submits the form holding the named button, how far
# its bottom edge is from the top of the page, and where the form and its
# fields start (to say what to move when it is too far down).
FIRST_SAVE = """name => {
  const named = [...document.querySelectorAll("main button, main input[type=submit]")]
    .find(button => (button.textContent || button.value).trim() === name);
  if (!named || !named.form) {
    const buttons = [...document.querySelectorAll("button")];
    return {missing: buttons.map(button => button.textContent.trim())};
  }
  const first = [...named.form.elements].find(element => element.type === "submit");
  const top = element => element.getBoundingClientRect().top + window.scrollY;
  return {
    text: (first.textContent || first.value).trim(),
    bottom: first.getBoundingClientRect().bottom + window.scrollY,
    form: top(named.form),
    fields: [...named.form.elements].filter(element => element.labels && element.labels.length)
      .map(element => `${element.name} ${Math.round(top(element))}`),
  };
}"""


def assert_save_within_two_screens(page, url, button):
    """The page as it is, narrowed to a phone's width and widened again:
    one layout more, not another page load."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        # GOV.UK Frontend folds the menu away on a media query's change
        # event, a moment after the resize: measured before it, the whole
        # menu would be open above the form (about 300 px on a loaded CI).
        page.wait_for_function(
            "() => !document.querySelector('.govuk-js-service-navigation-toggle')?.hidden"
        )
        found = page.evaluate(FIRST_SAVE, button)
    finally:
        page.set_viewport_size(size)
    assert "missing" not in found, f"{url}: no button {button!r} in a form, but {found['missing']}"
    assert found["bottom"] <= SCREENS * PHONE["height"], (
        f"{url}: on a phone {found['text']!r} ends {found['bottom']:.0f} px down, "
        f"{found['bottom'] / PHONE['height']:.1f} screens of {PHONE['height']} px; the form "
        f"starts {found['form']:.0f} px down, its fields at {found['fields']}"
    )


def open_and_save(page, live_server, visit, submit, url, trip):
    """Open `url`, press the form's button, and return the statuses of the
    page opened, of the POST, and of the pages that followed it."""
    pages = []
    page.on(
        "response",
        lambda r: (
            r.request.is_navigation_request()
            and r.frame == page.main_frame
            and pages.append(r.status)
        ),
    )
    in_admin = url.startswith("/admin/")
    # Admin pages are not checked with axe-core: Django's own admin templates
    # fail it (unlabelled inline and autocomplete fields: the rules label,
    # select-name, aria-input-field-name, aria-prohibited-attr), which are
    # Django's to fix. Every page of the app itself still is checked.
    opened = page.goto(f"{live_server.url}{url}") if in_admin else visit(url)
    if not in_admin:
        assert_save_within_two_screens(page, url, trip.button)
    shown = len(pages)
    with page.expect_response(is_post) as posted:
        if in_admin:
            button = page.get_by_role("button", name=trip.button, exact=True)
            # Twice the usual wait: Django's admin pages are heavy on a CI
            # machine running two workers and their browsers; and if the
            # button never comes, say which page came instead.
            try:
                button.wait_for(timeout=60_000)
            except PlaywrightTimeoutError:
                headings = page.locator("h1").all_inner_texts()
                raise AssertionError(
                    f"{url}: no {trip.button!r} button; the browser is at {page.url}: {headings}"
                ) from None
            with page.expect_navigation():
                button.click()
        else:
            submit(trip.button)
    return opened.status, posted.value.status, pages[shown:]


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_saved_unchanged_nothing_changes(
    request, page, live_server, sign_in, visit, submit, name, persona
):
    trip = ALL_ROUND_TRIPS[name]
    editor = request.getfixturevalue(persona)
    built = trip.build(editor)
    before, history_before = snapshot(built.watched), history_counts(built.watched)

    sign_in(editor)
    if trip.confirm_password:
        visit(reverse("account_reauthenticate"))
        page.get_by_label("Password").fill(PASSWORD)
        submit("Confirm")
    opened, saved, then = open_and_save(page, live_server, visit, submit, built.url, trip)

    assert opened == 200, f"{built.url} answered {opened} to {persona}"
    shown = {what: page.locator(selector) for selector, what in ERRORS.items()}
    shown = {what: found.all_inner_texts() for what, found in shown.items() if found.count()}
    assert not shown, f"{built.url} saved unchanged by {persona} shows errors: {shown}"
    # Nothing changing proves nothing if the save was never made.
    assert saved in (301, 302, 303), f"{built.url}: the unchanged save was refused ({saved})"
    assert then, f"{built.url}: no page came after the save"
    assert max(then) < 400, f"{built.url}, then {page.url}: {then}"
    assert "/accounts/login/" not in page.url

    changed = differences(before, snapshot(built.watched))
    assert not changed, f"{built.url} saved unchanged by {persona} changed:\n" + "\n".join(changed)
    assert_no_new_history(history_before, history_counts(built.watched))
