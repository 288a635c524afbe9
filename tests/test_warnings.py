"""Early warnings: each kind fires on the data that should trigger it and
not otherwise, for the people who may see it, at a fixed number of queries."""

import datetime
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authorities.access import Role
from authorities.caching import data_changed
from authorities.models import LocalAuthority
from consultations.models import Action, BlockTransfer, Meeting
from dashboards.warnings import (
    EarlyWarning,
    Kind,
    early_warnings,
    warning_count,
    warning_summary,
)
from feedback.models import FeedbackSubmission
from plans.models import (
    REFORM_DEADLINE_EVENT,
    Answer,
    Assessment,
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    QuestionSet,
    ReformPlanDetails,
    TimelineEntry,
)
from plans.services import revise_plan

from .factories import CAMDEN, KENT, authority, make_plan, make_user
from .test_official_warnings import official_worse_at

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


# Data ------------------------------------------------------------------------


def instalment(plan, status="withheld", amount=5_000_000, **fields):
    return FundingInstalment.objects.create(
        plan=plan, financial_year=2025, amount=Decimal(amount), status=status, **fields
    )


def meeting(la_code=CAMDEN, **fields):
    fields.setdefault("forum", "schools_forum")
    fields.setdefault("held_on", TODAY - 10 * DAY)
    return Meeting.objects.create(authority=authority(la_code), **fields)


def answer(plan, concern="serious", key=None, **fields):
    bank = QuestionSet.objects.latest_version()
    assessment, _ = Assessment.objects.get_or_create(plan=plan, defaults={"question_set": bank})
    question = bank.questions.get(key=key) if key else bank.questions.first()
    return Answer.objects.create(
        assessment=assessment,
        question=question,
        response=fields.pop("response", "no"),
        concern=concern,
        **fields,
    )


def submission(la_code=CAMDEN, *, by=None, **fields):
    values = {
        "source": "senco_network",
        "people_count": 10,
        "meeting_date": TODAY - 5 * DAY,
        "health_care_costs": "no",
    }
    values.update(fields)
    return FeedbackSubmission.objects.create(
        authority=authority(la_code), submitted_by=by, **values
    )


def action(la_code=CAMDEN, **fields):
    fields.setdefault("title", "Chase the Schools Forum minutes")
    return Action.objects.create(authority=authority(la_code), **fields)


def moment(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


def reform_plan(la_code=CAMDEN, grant=None, **details):
    """A local SEND reform plan with its details (`details`) and, given
    `grant` (its fields), its High Needs Stability Grant."""
    plan = make_plan(la_code, "send-reform", round_or_tranche="2026", status="rumoured")
    details.setdefault("stage", "submitted")
    found = ReformPlanDetails.objects.create(plan=plan, **details)
    if grant is not None:
        HighNeedsStabilityGrant.objects.create(plan=plan, **grant)
    return found


def grant_deadline(day, precision="approximate"):
    """The timeline's entry the reform plans are due by (plans.models.
    REFORM_DEADLINE_EVENT), on `day`."""
    return TimelineEntry.objects.create(
        date=day,
        precision=precision,
        kind="funding",
        event=f"{REFORM_DEADLINE_EVENT} to authorities whose plan the DfE has approved",
        source_url="https://schoolsweek.co.uk/government-to-write-off-90-of-councils-send-deficits",
    )


# The moment each kind's record keeps (plans.models.keep_since).
SINCE = {
    Plan: "negotiating_since",
    FundingInstalment: "held_back_since",
    Answer: "serious_since",
    HighNeedsStabilityGrant: "held_back_since",
    ReformPlanDetails: "fewer_places_since",
}


def set_since(obj, day):
    """Say the record came into its state (negotiating, held back, serious)
    on `day`."""
    type(obj).objects.filter(pk=obj.pk).update(**{SINCE[type(obj)]: moment(day)})
    data_changed()  # an update sends no signal: it says so (authorities/caching.py)


@pytest.fixture
def clock(monkeypatch):
    """Saves made on a day of the test's choosing: `clock(day)`; `clock()`
    goes back to now."""
    real = timezone.now

    def set_to(day=None):
        monkeypatch.setattr(timezone, "now", real if day is None else lambda: moment(day))

    return set_to


def of_kind(user, kind, **options):
    return [w for w in early_warnings(user, **options) if w.kind == kind]


def names(warnings):
    return [w.authority.name for w in warnings]


# Each kind -------------------------------------------------------------------


class TestMoneyHeldBack:
    def test_a_withheld_instalment_warns_with_the_amount_year_and_plan(self, camden_lns):
        plan = make_plan(CAMDEN, round_or_tranche="2022-23")
        instalment(plan)
        [warning] = of_kind(camden_lns, Kind.MONEY_HELD_BACK)
        assert warning.authority.name == "Camden"
        assert warning.reason == "£5,000,000 instalment for 2025-26 withheld (SV 2022-23)"
        assert warning.url == plan.get_absolute_url() + "#money"
        assert warning.on == TODAY
        assert warning.label == "Instalment withheld"

    def test_a_reduced_payment_warns_with_what_was_held_back(self, camden_lns):
        instalment(make_plan(CAMDEN), status="reduced", amount_paid=Decimal(3_000_000))
        [warning] = of_kind(camden_lns, Kind.MONEY_HELD_BACK)
        assert "paid reduced: £2,000,000 withheld" in warning.reason

    @pytest.mark.parametrize("status", ["due", "paid"])
    def test_money_due_or_paid_does_not(self, camden_lns, status):
        instalment(make_plan(CAMDEN), status=status)
        assert of_kind(camden_lns, Kind.MONEY_HELD_BACK) == []

    def test_outside_scope_is_not_shown(self, camden_lns, kent_lns, national_officer):
        instalment(make_plan(KENT))
        assert of_kind(camden_lns, Kind.MONEY_HELD_BACK) == []
        assert names(of_kind(kent_lns, Kind.MONEY_HELD_BACK)) == ["Kent"]
        assert names(of_kind(national_officer, Kind.MONEY_HELD_BACK)) == ["Kent"]

    def test_the_date_is_when_it_was_last_withheld(self, camden_lns, clock):
        clock(TODAY - 90 * DAY)
        paid = instalment(make_plan(CAMDEN), status="due")
        for days, status in ((60, "withheld"), (30, "paid"), (12, "withheld"), (5, "reduced")):
            clock(TODAY - days * DAY)
            paid.status = status
            paid.save()
        clock()
        # Reduced is held back too: held back since it was last withheld.
        [warning] = of_kind(camden_lns, Kind.MONEY_HELD_BACK)
        assert warning.on == TODAY - 12 * DAY

    def test_without_history_the_date_is_not_known(self, camden_lns):
        FundingInstalment.objects.bulk_create(
            [
                FundingInstalment(
                    plan=make_plan(CAMDEN), financial_year=2025, amount=1, status="withheld"
                )
            ]
        )
        [warning] = of_kind(camden_lns, Kind.MONEY_HELD_BACK)
        assert warning.on is None
        # Not known to be new, so not among new warnings.
        assert of_kind(camden_lns, Kind.MONEY_HELD_BACK, since=TODAY - 30 * DAY) == []


class TestAgreedWithoutConsultation:
    def test_an_agreed_plan_with_no_meeting_warns(self, camden_lns):
        plan = make_plan(CAMDEN, round_or_tranche="2022-23", agreement_date=date(2023, 3, 3))
        [warning] = of_kind(camden_lns, Kind.NOT_CONSULTED)
        assert warning.reason.startswith("SV 2022-23 agreed on 3 March 2023 with no")
        assert warning.url == plan.get_absolute_url() + "#consultation"
        assert warning.on == date(2023, 3, 3)

    def test_a_consultation_logged_before_agreement_clears_it(self, camden_lns):
        plan = make_plan(CAMDEN, agreement_date=TODAY - 5 * DAY)
        meeting(plan=plan, union_consulted="yes", held_on=TODAY - 6 * DAY)
        assert of_kind(camden_lns, Kind.NOT_CONSULTED) == []

    @pytest.mark.parametrize(
        "meeting_fields",
        [
            {"union_consulted": "yes", "held_on": TODAY - 5 * DAY},  # the same day is not before
            {"union_consulted": "no", "held_on": TODAY - 9 * DAY},
            {"union_consulted": "yes", "held_on": TODAY - 9 * DAY, "forum": "council"},
        ],
    )
    def test_a_meeting_that_did_not_consult_first_does_not(self, camden_lns, meeting_fields):
        plan = make_plan(CAMDEN, agreement_date=TODAY - 5 * DAY)
        meeting(plan=plan, **meeting_fields)
        assert names(of_kind(camden_lns, Kind.NOT_CONSULTED)) == ["Camden"]

    def test_a_plan_not_agreed_does_not_warn(self, camden_lns):
        make_plan(CAMDEN, status="rumoured")
        assert of_kind(camden_lns, Kind.NOT_CONSULTED) == []

    def test_a_revised_plan_warns_once_for_its_latest_revision(self, camden_lns):
        plan = make_plan(CAMDEN, agreement_date=TODAY - 5 * DAY)
        revision = revise_plan(plan=plan, user=camden_lns)
        [warning] = of_kind(camden_lns, Kind.NOT_CONSULTED)
        assert warning.subject == revision
        assert "(revision 2)" in warning.reason

    def test_a_confidential_consultation_clears_it_for_everyone(self, london_organiser):
        # The flag is a fact about the plan (plans_agreed_without_consultation).
        plan = make_plan(CAMDEN, agreement_date=TODAY - 5 * DAY)
        meeting(plan=plan, union_consulted="yes", held_on=TODAY - 9 * DAY, confidential=True)
        assert of_kind(london_organiser, Kind.NOT_CONSULTED) == []


class TestNegotiating:
    def test_a_plan_marked_negotiating_warns_from_when_it_was_marked(self, camden_lns, clock):
        clock(TODAY - 40 * DAY)
        plan = make_plan(CAMDEN, status="rumoured", round_or_tranche="Tranche 3")
        clock(TODAY - 3 * DAY)
        plan.status = "negotiating"
        plan.save()
        clock(TODAY - DAY)
        plan.summary = "A later edit does not move it."
        plan.save()
        clock()
        [warning] = of_kind(camden_lns, Kind.NEGOTIATING)
        assert warning.reason == "SV Tranche 3 recorded as negotiating"
        assert warning.on == TODAY - 3 * DAY
        assert warning.url == plan.get_absolute_url()

    def test_loaded_in_bulk_the_date_is_not_known(self, camden_lns):
        Plan.objects.bulk_create(
            [
                Plan(
                    authority=authority(CAMDEN),
                    programme=Programme.objects.get(code="sv"),
                    status="negotiating",
                )
            ]
        )
        [warning] = of_kind(camden_lns, Kind.NEGOTIATING)
        assert warning.on is None

    @pytest.mark.parametrize("status", ["rumoured", "agreed", "under_review"])
    def test_other_statuses_do_not(self, camden_lns, status):
        make_plan(CAMDEN, status=status)
        assert of_kind(camden_lns, Kind.NEGOTIATING) == []


class TestBlockTransfer:
    def test_a_proposed_transfer_warns(self, camden_lns):
        transfer = BlockTransfer.objects.create(
            meeting=meeting(held_on=date(2026, 1, 15)),
            financial_year=2026,
            amount=Decimal(2_000_000),
            percent=Decimal("0.50"),
        )
        [warning] = of_kind(camden_lns, Kind.BLOCK_TRANSFER)
        assert warning.reason == (
            "Transfer of £2,000,000 (0.5% of the Schools Block) from the Schools Block to "
            "the High Needs Block for 2026-27 proposed at the Schools Forum on 15 January "
            "2026, not yet decided"
        )
        assert warning.url == transfer.get_absolute_url()
        assert warning.on == date(2026, 1, 15)

    @pytest.mark.parametrize("outcome", ["agreed", "not_agreed", "withdrawn"])
    def test_a_decided_transfer_does_not(self, camden_lns, outcome):
        BlockTransfer.objects.create(
            meeting=meeting(), financial_year=2026, percent=1, outcome=outcome
        )
        assert of_kind(camden_lns, Kind.BLOCK_TRANSFER) == []

    def test_a_confidential_meetings_transfer_is_only_for_those_who_read_it(
        self, camden_lns, london_organiser, camden_senco_lead, national_officer
    ):
        BlockTransfer.objects.create(
            meeting=meeting(confidential=True), financial_year=2026, percent=1
        )
        assert names(of_kind(camden_lns, Kind.BLOCK_TRANSFER)) == ["Camden"]
        assert names(of_kind(national_officer, Kind.BLOCK_TRANSFER)) == ["Camden"]
        assert of_kind(london_organiser, Kind.BLOCK_TRANSFER) == []
        assert of_kind(camden_senco_lead, Kind.BLOCK_TRANSFER) == []


class TestSeriousConcern:
    def test_a_serious_concern_warns_with_the_question(self, london_organiser):
        plan = make_plan(CAMDEN, round_or_tranche="2022-23")
        given = answer(plan, private_notes="Heard in confidence from the director")
        [warning] = of_kind(london_organiser, Kind.SERIOUS_CONCERN)
        assert warning.reason == (
            f"Serious concern recorded on “{given.question.text}” (SV 2022-23)"
        )
        assert warning.url == f"/plans/{plan.pk}/checklist/{given.question.key}/"
        assert "confidence" not in warning.reason
        assert warning.on == TODAY

    def test_the_date_is_when_the_concern_became_serious(self, camden_lns, clock):
        clock(TODAY - 40 * DAY)
        given = answer(make_plan(CAMDEN), concern="some")
        clock(TODAY - 5 * DAY)
        given.concern = "serious"
        given.save()
        clock(TODAY - DAY)
        given.evidence = "The Schools Forum papers, page 4"
        given.save()
        clock()
        [warning] = of_kind(camden_lns, Kind.SERIOUS_CONCERN)
        assert warning.on == TODAY - 5 * DAY

    @pytest.mark.parametrize("concern", ["none", "some"])
    def test_a_lesser_concern_does_not(self, camden_lns, concern):
        answer(make_plan(CAMDEN), concern=concern)
        assert of_kind(camden_lns, Kind.SERIOUS_CONCERN) == []

    def test_a_revised_plan_warns_on_its_revision_only(self, camden_lns):
        plan = make_plan(CAMDEN)
        answer(plan)
        revision = revise_plan(plan=plan, user=camden_lns)
        [warning] = of_kind(camden_lns, Kind.SERIOUS_CONCERN)
        assert warning.subject.assessment.plan == revision

    def test_outside_scope_is_not_shown(self, camden_lns):
        answer(make_plan(KENT))
        assert of_kind(camden_lns, Kind.SERIOUS_CONCERN) == []


class TestUnlawfulPractice:
    def test_a_reported_practice_warns_without_saying_who(self, camden_lns, camden_senco_lead):
        reported = submission(
            by=camden_senco_lead,
            practices=["refusing", "extra_information"],
            meeting_date=date(2026, 10, 1),
        )
        [warning] = of_kind(camden_lns, Kind.UNLAWFUL_PRACTICE)
        assert warning.reason == (
            "A SENCO network reported systematically refusing initial applications for "
            "assessment or support; asking for additional but unnecessary information "
            "before accepting a request for assessment (meeting of 1 October 2026)"
        )
        assert camden_senco_lead.email not in warning.reason
        assert warning.url == reported.get_absolute_url()
        assert warning.on == TODAY

    def test_only_for_those_who_may_read_the_submission(
        self, london_organiser, camden_senco_lead, national_officer, kent_lns
    ):
        other_lead = make_user(roles=[(Role.SENCO_LEAD, authority(CAMDEN))])
        submission(by=other_lead, practices=["refusing"])
        assert names(of_kind(london_organiser, Kind.UNLAWFUL_PRACTICE)) == ["Camden"]
        assert names(of_kind(national_officer, Kind.UNLAWFUL_PRACTICE)) == ["Camden"]
        assert names(of_kind(other_lead, Kind.UNLAWFUL_PRACTICE)) == ["Camden"]
        # Another lead at Camden sees only suppressed aggregates, so no warning.
        assert of_kind(camden_senco_lead, Kind.UNLAWFUL_PRACTICE) == []
        assert of_kind(kent_lns, Kind.UNLAWFUL_PRACTICE) == []

    def test_none_reported_or_withdrawn_does_not(self, camden_lns):
        submission(practices=[])
        submission(practices=["bureaucratic"]).withdraw()
        assert of_kind(camden_lns, Kind.UNLAWFUL_PRACTICE) == []


class TestWaitsRising:
    # Spring 2026, whose last term is autumn 2025.
    today = date(2026, 3, 10)

    def waits(self, la_code, this_term, last_term):
        for weeks in this_term:
            submission(la_code, meeting_date=date(2026, 2, 1), assessment_wait_weeks=weeks)
        for weeks in last_term:
            submission(la_code, meeting_date=date(2025, 10, 1), assessment_wait_weeks=weeks)

    def rising(self, user):
        return of_kind(user, Kind.WAITS_RISING, today=self.today)

    def test_above_20_and_rising_warns(self, camden_lns):
        self.waits(CAMDEN, [21, 22, 24, 26, 30], [18] * 5)
        submission(meeting_date=date(2026, 3, 2), assessment_wait_weeks=None)  # no wait given
        [warning] = self.rising(camden_lns)
        assert warning.reason == (
            "Median wait for an EHC needs assessment 24 weeks in Spring 2026, "
            "up from 18 weeks in Autumn 2025"
        )
        assert warning.url == "/authorities/camden/#feedback"
        assert warning.on == date(2026, 2, 1)

    @pytest.mark.parametrize(
        ("this_term", "last_term"),
        [
            ([20] * 5, [10] * 5),  # 20 is not above 20
            ([24] * 5, [24] * 5),  # flat
            ([24] * 5, [30] * 5),  # falling
            ([24] * 5, []),  # nothing to compare with
        ],
    )
    def test_otherwise_it_does_not(self, camden_lns, this_term, last_term):
        self.waits(CAMDEN, this_term, last_term)
        assert self.rising(camden_lns) == []

    def test_terms_before_last_do_not_count(self, camden_lns):
        self.waits(CAMDEN, [24] * 5, [])
        for _ in range(5):
            submission(meeting_date=date(2025, 6, 1), assessment_wait_weeks=10)
        assert self.rising(camden_lns) == []

    def test_fewer_than_5_a_term_only_national_officers_see(
        self, camden_lns, london_organiser, national_officer
    ):
        self.waits(CAMDEN, [24] * 4, [18] * 5)
        assert self.rising(camden_lns) == []
        assert self.rising(london_organiser) == []
        assert names(self.rising(national_officer)) == ["Camden"]

    def test_withdrawn_submissions_do_not_count(self, camden_lns):
        self.waits(CAMDEN, [24] * 5, [18] * 5)
        FeedbackSubmission.objects.filter(meeting_date=date(2026, 2, 1)).first().withdraw()
        assert self.rising(camden_lns) == []

    def test_outside_scope_is_not_shown(self, camden_lns, kent_lns):
        self.waits(KENT, [24] * 5, [18] * 5)
        assert self.rising(camden_lns) == []
        assert names(self.rising(kent_lns)) == ["Kent"]


class TestActionOverdue:
    def test_an_open_action_past_its_date_warns_from_the_next_day(self, camden_lns):
        owner = make_user(first_name="Ola", last_name="Adeyemi")
        action(owner=owner, due_on=date(2026, 5, 3))
        [warning] = of_kind(camden_lns, Kind.ACTION_OVERDUE)
        assert warning.reason == (
            "“Chase the Schools Forum minutes” was due on 3 May 2026, owned by Ola Adeyemi"
        )
        assert warning.url == "/authorities/camden/#actions"
        assert warning.on == date(2026, 5, 4)

    @pytest.mark.parametrize(
        "fields",
        [
            {"due_on": TODAY - DAY, "status": "done"},
            {"due_on": TODAY - DAY, "status": "dropped", "reason": "Not needed"},
            {"due_on": TODAY},
            {"due_on": None},
        ],
    )
    def test_done_dropped_due_today_or_undated_does_not(self, camden_lns, fields):
        action(**fields)
        assert of_kind(camden_lns, Kind.ACTION_OVERDUE) == []

    def test_one_from_a_confidential_meeting_only_for_those_who_read_it(
        self, camden_lns, london_organiser
    ):
        action(due_on=TODAY - DAY, meeting=meeting(confidential=True))
        assert names(of_kind(camden_lns, Kind.ACTION_OVERDUE)) == ["Camden"]
        assert of_kind(london_organiser, Kind.ACTION_OVERDUE) == []


# Narrowing, order and the partial ---------------------------------------------


class TestReformNotSubmitted:
    @pytest.mark.parametrize("stage", ["started", "draft_shared", "feedback"])
    def test_warns_from_eight_weeks_before_the_grant(self, camden_lns, stage):
        grant_deadline(TODAY + 30 * DAY)
        reform_plan(stage=stage)
        [warning] = of_kind(camden_lns, Kind.REFORM_NOT_SUBMITTED)
        assert warning.reason.startswith("SEND reform plan 2026 not yet submitted to the DfE (")
        assert "High Needs Stability Grant is paid around" in warning.reason
        assert "only if the DfE has approved the plan" in warning.reason
        assert warning.on == TODAY + 30 * DAY - 56 * DAY
        assert warning.url.endswith("#reform")

    def test_and_once_the_date_has_passed(self, camden_lns):
        grant_deadline(TODAY - 100 * DAY, precision="day")
        reform_plan(stage="feedback")
        [warning] = of_kind(camden_lns, Kind.REFORM_NOT_SUBMITTED)
        assert f"paid {(TODAY - 100 * DAY):%-d %B %Y} only if" in warning.reason

    def test_not_while_the_date_is_further_off(self, camden_lns):
        grant_deadline(TODAY + 57 * DAY)
        reform_plan(stage="started")
        assert of_kind(camden_lns, Kind.REFORM_NOT_SUBMITTED) == []

    @pytest.mark.parametrize("stage", ["submitted", "approved", "requirements_not_met", "revised"])
    def test_not_once_submitted(self, camden_lns, stage):
        grant_deadline(TODAY + 7 * DAY)
        reform_plan(stage=stage)
        assert of_kind(camden_lns, Kind.REFORM_NOT_SUBMITTED) == []

    def test_not_without_the_date_in_the_timeline_or_for_an_ended_plan(self, camden_lns):
        details = reform_plan(stage="started")
        assert of_kind(camden_lns, Kind.REFORM_NOT_SUBMITTED) == []
        grant_deadline(TODAY + 7 * DAY)
        Plan.objects.filter(pk=details.plan_id).update(status="ended")
        assert of_kind(camden_lns, Kind.REFORM_NOT_SUBMITTED) == []

    def test_outside_scope_is_not_shown(self, camden_lns, kent_lns, national_officer):
        grant_deadline(TODAY + 7 * DAY)
        reform_plan(stage="started")
        assert of_kind(kent_lns, Kind.REFORM_NOT_SUBMITTED) == []
        assert names(of_kind(national_officer, Kind.REFORM_NOT_SUBMITTED)) == ["Camden"]


class TestReformNotMet:
    def test_a_plan_rated_requirements_not_met_warns_from_the_rating(self, camden_lns):
        reform_plan(
            stage="requirements_not_met",
            rating="requirements_not_met",
            decided_on=TODAY - 5 * DAY,
            rated_on=TODAY - 4 * DAY,
        )
        [warning] = of_kind(camden_lns, Kind.REFORM_NOT_MET)
        assert warning.reason == (
            "SEND reform plan 2026 rated “requirements not met” by the DfE: the High Needs "
            "Stability Grant is paid only once the DfE approves the plan"
        )
        assert warning.on == TODAY - 4 * DAY

    def test_the_decision_dates_it_when_no_rating_is_recorded(self, camden_lns):
        reform_plan(stage="requirements_not_met", decided_on=TODAY - 5 * DAY)
        [warning] = of_kind(camden_lns, Kind.REFORM_NOT_MET)
        assert warning.on == TODAY - 5 * DAY

    @pytest.mark.parametrize("rating", ["", "partly_met", "met", "exceeded"])
    def test_other_ratings_do_not(self, camden_lns, rating):
        reform_plan(stage="approved", rating=rating)
        assert of_kind(camden_lns, Kind.REFORM_NOT_MET) == []

    def test_outside_scope_is_not_shown(self, camden_lns, kent_lns):
        reform_plan(KENT, stage="requirements_not_met")
        assert of_kind(camden_lns, Kind.REFORM_NOT_MET) == []
        assert names(of_kind(kent_lns, Kind.REFORM_NOT_MET)) == ["Kent"]


class TestGrantHeldBack:
    DEFICIT = {"eligible_deficit": Decimal("10000000")}

    def test_a_withheld_grant_warns_with_the_90_per_cent(self, camden_lns):
        reform_plan(grant=self.DEFICIT | {"status": "withheld"})
        [warning] = of_kind(camden_lns, Kind.GRANT_HELD_BACK)
        assert warning.reason == (
            "High Needs Stability Grant of £9,000,000 withheld (SEND reform plan 2026)"
        )
        assert warning.url.endswith("#grant")

    def test_a_reduced_payment_says_what_was_held_back(self, camden_lns):
        reform_plan(
            grant=self.DEFICIT
            | {"status": "reduced", "amount_paid": Decimal("6000000"), "paid_on": TODAY}
        )
        [warning] = of_kind(camden_lns, Kind.GRANT_HELD_BACK)
        assert warning.reason == (
            "High Needs Stability Grant paid reduced: £3,000,000 withheld (SEND reform plan 2026)"
        )

    @pytest.mark.parametrize("status", ["due", "paid"])
    def test_a_grant_due_or_paid_does_not(self, camden_lns, status):
        reform_plan(grant=self.DEFICIT | {"status": status})
        assert of_kind(camden_lns, Kind.GRANT_HELD_BACK) == []

    def test_the_date_is_when_it_was_withheld(self, camden_lns, clock):
        clock(TODAY - 20 * DAY)
        reform_plan(grant=self.DEFICIT)
        clock(TODAY - 6 * DAY)
        grant = HighNeedsStabilityGrant.objects.get()
        grant.status = "withheld"
        grant.save()
        clock(TODAY - 2 * DAY)
        grant.note = "Asked the DfE why."
        grant.save()  # still withheld: the date stays
        clock()
        [warning] = of_kind(camden_lns, Kind.GRANT_HELD_BACK)
        assert warning.on == TODAY - 6 * DAY

    def test_outside_scope_is_not_shown(self, camden_lns, kent_lns):
        reform_plan(KENT, grant=self.DEFICIT | {"status": "withheld"})
        assert of_kind(camden_lns, Kind.GRANT_HELD_BACK) == []
        assert names(of_kind(kent_lns, Kind.GRANT_HELD_BACK)) == ["Kent"]

    def test_a_revised_plan_warns_once_on_its_revision(self, camden_lns):
        details = reform_plan(grant=self.DEFICIT | {"status": "withheld"})
        revision = revise_plan(plan=details.plan, user=camden_lns)
        [warning] = of_kind(camden_lns, Kind.GRANT_HELD_BACK)
        assert warning.subject.plan == revision


class TestFewerPlaces:
    def test_fewer_places_with_no_inclusion_money_warns(self, camden_lns, clock):
        clock(TODAY - 3 * DAY)
        reform_plan(special_school_capacity="hold", ap_capacity="reduce", ap_places_change=-30)
        clock()
        [warning] = of_kind(camden_lns, Kind.FEWER_PLACES)
        assert warning.reason == (
            "SEND reform plan 2026 proposes 30 fewer AP places with no investment in "
            "mainstream inclusion recorded"
        )
        assert warning.on == TODAY - 3 * DAY

    def test_both_kinds_of_place_are_named(self, camden_lns):
        reform_plan(
            special_school_capacity="reduce",
            special_school_places_change=-1200,
            ap_capacity="reduce",
        )
        [warning] = of_kind(camden_lns, Kind.FEWER_PLACES)
        assert "proposes 1,200 fewer special school places and fewer AP places with" in (
            warning.reason
        )

    def test_inclusion_money_recorded_clears_it(self, camden_lns):
        details = reform_plan(ap_capacity="reduce", mainstream_investment=Decimal("0"))
        assert len(of_kind(camden_lns, Kind.FEWER_PLACES)) == 1
        details.mainstream_investment = Decimal("2400000")
        details.save()
        assert of_kind(camden_lns, Kind.FEWER_PLACES) == []

    @pytest.mark.parametrize(
        "proposals",
        [
            {},
            {"special_school_capacity": "hold", "ap_capacity": "expand"},
            {"special_school_capacity": "expand", "special_school_places_change": 40},
        ],
    )
    def test_no_fewer_places_does_not(self, camden_lns, proposals):
        reform_plan(**proposals)
        assert of_kind(camden_lns, Kind.FEWER_PLACES) == []

    def test_outside_scope_is_not_shown(self, camden_lns, kent_lns):
        reform_plan(KENT, special_school_capacity="reduce")
        assert of_kind(camden_lns, Kind.FEWER_PLACES) == []
        assert names(of_kind(kent_lns, Kind.FEWER_PLACES)) == ["Kent"]

    def test_a_revised_plan_warns_on_its_revision_from_the_same_day(self, camden_lns, clock):
        clock(TODAY - 9 * DAY)
        details = reform_plan(ap_capacity="reduce")
        clock()
        revision = revise_plan(plan=details.plan, user=camden_lns)
        [warning] = of_kind(camden_lns, Kind.FEWER_PLACES)
        assert (warning.subject.plan, warning.on) == (revision, TODAY - 9 * DAY)


class TestNarrowing:
    def test_since_keeps_what_arose_on_or_after_it(self, camden_lns):
        action(due_on=TODAY - 11 * DAY, title="Arose 10 days ago")
        action(due_on=TODAY - 12 * DAY, title="Arose 11 days ago")
        make_plan(CAMDEN, agreement_date=TODAY - 10 * DAY, round_or_tranche="new")
        make_plan(CAMDEN, agreement_date=TODAY - 11 * DAY, round_or_tranche="old")
        kept = early_warnings(camden_lns, since=TODAY - 10 * DAY)
        assert len(kept) == 2
        assert {w.on for w in kept} == {TODAY - 10 * DAY}
        assert len(early_warnings(camden_lns)) == 4

    def test_since_applies_to_every_kind(self, national_officer):
        plan = make_plan(CAMDEN, status="negotiating", agreement_date=TODAY - 40 * DAY)
        set_since(plan, TODAY - 40 * DAY)
        held = instalment(plan)
        set_since(held, TODAY - 40 * DAY)
        BlockTransfer.objects.create(
            meeting=meeting(held_on=TODAY - 40 * DAY), financial_year=2026, percent=1
        )
        set_since(answer(plan), TODAY - 40 * DAY)
        reported = submission(practices=["refusing"])
        FeedbackSubmission.objects.filter(pk=reported.pk).update(
            submitted_at=timezone.now() - 40 * DAY
        )
        action(due_on=TODAY - 41 * DAY)
        official_worse_at([authority(CAMDEN)], published=TODAY - 40 * DAY)
        details = reform_plan(
            stage="feedback",
            rating="requirements_not_met",
            rated_on=TODAY - 40 * DAY,
            ap_capacity="reduce",
            grant={"status": "withheld"},
        )
        set_since(details, TODAY - 40 * DAY)
        set_since(HighNeedsStabilityGrant.objects.get(), TODAY - 40 * DAY)
        grant_deadline(TODAY + 16 * DAY)  # within eight weeks since 40 days ago
        everything = early_warnings(national_officer)
        assert {w.kind for w in everything} == set(Kind) - {Kind.WAITS_RISING}
        assert early_warnings(national_officer, since=TODAY - 30 * DAY) == []

    def test_authorities_narrows_within_scope(self, national_officer, camden_lns):
        for la_code in (CAMDEN, KENT):
            action(la_code, due_on=TODAY - DAY)
        camden_only = LocalAuthority.objects.filter(la_code=CAMDEN)
        assert names(early_warnings(national_officer, camden_only)) == ["Camden"]
        # Narrowing never widens: Kent stays out of the Camden LNS's scope.
        kent_only = LocalAuthority.objects.filter(la_code=KENT)
        assert early_warnings(camden_lns, kent_only) == []

    def test_newest_first_unknown_dates_last(self, camden_lns):
        action(due_on=TODAY - 30 * DAY, title="Old")
        action(due_on=TODAY - 2 * DAY, title="New")
        FundingInstalment.objects.bulk_create(
            [
                FundingInstalment(
                    plan=make_plan(CAMDEN), financial_year=2025, amount=1, status="withheld"
                )
            ]
        )
        found = early_warnings(camden_lns)
        assert [w.on for w in found] == [TODAY - DAY, TODAY - 29 * DAY, None]


class TestPartial:
    def warning(self, camden):
        return EarlyWarning(
            Kind.MONEY_HELD_BACK,
            camden,
            "£5,000,000 instalment for 2025-26 withheld (SV 2022-23)",
            "/plans/1/#money",
            date(2026, 3, 2),
        )

    def test_lists_the_authority_kind_reason_link_and_date(self, camden):
        with CaptureQueriesContext(connection) as queries:
            html = render_to_string(
                "dashboards/_warnings.html", {"warnings": [self.warning(camden)]}
            )
        assert len(queries) == 0
        assert '<h2 class="govuk-heading-m">Early warnings</h2>' in html
        assert 'href="/authorities/camden/">Camden</a>' in html
        assert ">Instalment withheld</strong>" in html  # in words, not only a colour
        assert (
            '<a class="govuk-link" href="/plans/1/#money">£5,000,000 instalment for 2025-26 '
            "withheld (SV 2022-23)</a>"
        ) in html
        assert '<time datetime="2026-03-02">2 Mar 2026</time>' in html

    def test_heading_level_and_empty_state(self, camden):
        html = render_to_string(
            "dashboards/_warnings.html",
            {
                "warnings": [],
                "heading_level": 3,
                "heading": "Warnings",
                "empty_text": "All quiet.",
            },
        )
        assert '<h3 class="govuk-heading-s">Warnings</h3>' in html
        assert "All quiet." in html
        assert "<table" not in html
        html = render_to_string("dashboards/_warnings.html", {"warnings": [], "no_heading": True})
        assert "<h" not in html.replace("<html", "")
        assert "No early warnings." in html


# Speed -----------------------------------------------------------------------


def every_kind_at(authorities):
    """Each kind of warning once at each authority, made in bulk."""
    sv, dbv = Programme.objects.get(code="sv"), Programme.objects.get(code="dbv")
    agreed = Plan.objects.bulk_create(
        [
            Plan(authority=la, programme=sv, status="agreed", agreement_date=TODAY - 9 * DAY)
            for la in authorities
        ]
    )
    Plan.objects.bulk_create(
        [Plan(authority=la, programme=dbv, status="negotiating") for la in authorities]
    )
    FundingInstalment.objects.bulk_create(
        [
            FundingInstalment(plan=p, financial_year=2025, amount=1, status="withheld")
            for p in agreed
        ]
    )
    bank = QuestionSet.objects.latest_version()
    question = bank.questions.first()
    assessments = Assessment.objects.bulk_create(
        [Assessment(plan=p, question_set=bank) for p in agreed]
    )
    Answer.objects.bulk_create(
        [
            Answer(assessment=a, question=question, response="no", concern="serious")
            for a in assessments
        ]
    )
    meetings = Meeting.objects.bulk_create(
        [
            Meeting(authority=la, forum="schools_forum", held_on=TODAY - 3 * DAY)
            for la in authorities
        ]
    )
    BlockTransfer.objects.bulk_create(
        [BlockTransfer(meeting=m, financial_year=2026, percent=1) for m in meetings]
    )
    Action.objects.bulk_create(
        [Action(authority=la, title="Overdue", due_on=TODAY - 2 * DAY) for la in authorities]
    )
    # A day in the term before this one: the day before this term began.
    this_term_began = TODAY.replace(
        month=9 if TODAY.month >= 9 else 5 if TODAY.month >= 5 else 1, day=1
    )
    last_term = this_term_began - DAY
    rows = []
    for la in authorities:
        rows.append(
            FeedbackSubmission(
                authority=la,
                source="member",
                people_count=1,
                meeting_date=TODAY,
                health_care_costs="no",
                practices=["refusing"],
            )
        )
        for weeks, day in [(30, TODAY), (10, last_term)]:
            rows += [
                FeedbackSubmission(
                    authority=la,
                    source="member",
                    people_count=1,
                    meeting_date=day,
                    health_care_costs="no",
                    assessment_wait_weeks=weeks,
                )
                for _ in range(5)
            ]
    FeedbackSubmission.objects.bulk_create(rows)
    official_worse_at(authorities)
    # A reform plan not submitted as the grant nears, rated "requirements
    # not met", with fewer AP places and no inclusion money, its grant withheld.
    reform = Programme.objects.get(code="send-reform")
    reform_plans = Plan.objects.bulk_create(
        [Plan(authority=la, programme=reform, status="rumoured") for la in authorities]
    )
    ReformPlanDetails.objects.bulk_create(
        [
            ReformPlanDetails(
                plan=p,
                stage="feedback",
                rating="requirements_not_met",
                ap_capacity="reduce",
                fewer_places_since=timezone.now(),
            )
            for p in reform_plans
        ]
    )
    HighNeedsStabilityGrant.objects.bulk_create(
        [HighNeedsStabilityGrant(plan=p, status="withheld") for p in reform_plans]
    )
    grant_deadline(TODAY + 7 * DAY)
    # Bulk writes send no signal: they say so, as seed_scale's do
    # (authorities/caching.py), and the open warnings are indexed again.
    data_changed()


@pytest.mark.parametrize("count", [1, 10, 150])
def test_a_fixed_number_of_queries_however_many_authorities(
    national_officer, django_assert_num_queries, count
):
    every_kind_at(list(LocalAuthority.objects.order_by("name")[:count]))
    national_officer.has_national_scope  # noqa: B018 (asked once per request, as on a page)
    # One query for each of the thirteen kinds.
    with django_assert_num_queries(13):
        found = early_warnings(national_officer)
    assert len(found) == 13 * count
    assert {w.kind for w in found} == set(Kind)


# What a page shows: the counts and the newest few -----------------------------


def _whole(user, **options):
    """warning_summary's answer worked out from the whole list."""
    found = early_warnings(user, **options)
    return len(found), Counter(w.authority.pk for w in found), found


@pytest.mark.parametrize("limit", [1, 3, 8, 20])
def test_the_summary_is_the_whole_list_counted_and_cut(national_officer, limit):
    every_kind_at(list(LocalAuthority.objects.order_by("name")[:3]))
    count, per_authority, found = _whole(national_officer)
    summary = warning_summary(national_officer, limit=limit)
    assert summary.count == count == 39
    assert summary.per_authority == per_authority
    assert summary.newest == found[:limit]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 7])
def test_the_newest_are_cut_at_the_right_day(national_officer, limit):
    """The newest `limit` from the index of open warnings are the whole
    list's first `limit`: by the local day a report arose, then the day's
    authorities in order of name, whatever the time of day."""
    reports = [(KENT, 0, 9), (CAMDEN, 0, 17), (KENT, 1, 23), (CAMDEN, 1, 1), (CAMDEN, 3, 12)]
    for la_code, days_ago, hour in [*reports, (KENT, 7, 12)]:
        report = submission(la_code, practices=["refusing"])
        at = datetime.datetime.combine(TODAY - days_ago * DAY, datetime.time(hour))
        FeedbackSubmission.objects.filter(pk=report.pk).update(
            submitted_at=timezone.make_aware(at)
        )
    data_changed()  # an update sends no signal: it says so (authorities/caching.py)
    whole = early_warnings(national_officer)
    assert [w.kind for w in whole] == [Kind.UNLAWFUL_PRACTICE] * 6
    newest = warning_summary(national_officer, limit=limit).newest
    assert [(w.authority.name, w.on) for w in newest] == [
        (w.authority.name, w.on) for w in whole[:limit]
    ]


def test_the_summary_narrows_as_the_list_does(camden_lns, national_officer):
    action(due_on=TODAY - 11 * DAY, title="Arose 10 days ago")
    action(due_on=TODAY - 12 * DAY, title="Arose 11 days ago")
    action(KENT, due_on=TODAY - 2 * DAY)
    make_plan(CAMDEN, agreement_date=TODAY - 10 * DAY, round_or_tranche="new")
    since = TODAY - 10 * DAY
    for user, options in [
        (camden_lns, {"since": since}),
        (camden_lns, {}),
        (national_officer, {"authorities": LocalAuthority.objects.filter(la_code=KENT)}),
    ]:
        count, per_authority, found = _whole(user, **options)
        summary = warning_summary(user, limit=10, **options)
        assert (summary.count, summary.per_authority, summary.newest) == (
            count,
            per_authority,
            found,
        )


def test_the_summary_can_leave_out_the_readers_own_overdue_actions(camden_lns):
    action(due_on=TODAY - 2 * DAY, title="Theirs", owner=camden_lns)
    action(due_on=TODAY - 2 * DAY, title="Someone else's")
    summary = warning_summary(camden_lns, limit=10, mine_too=False)
    assert [w.subject.title for w in summary.newest] == ["Someone else's"]
    assert summary.count == 1
    assert warning_summary(camden_lns, limit=10).count == 2


def test_the_summary_counts_every_open_warning_beside_those_it_lists(camden_lns):
    """Home lists the new ones that are not the reader's own, and links to
    every open one: both counted in one query."""
    action(due_on=TODAY - 2 * DAY, title="Theirs", owner=camden_lns)
    action(due_on=TODAY - 2 * DAY, title="Someone else's")
    action(due_on=TODAY - 60 * DAY, title="Long overdue")
    make_plan(CAMDEN, agreement_date=TODAY - 100 * DAY, round_or_tranche="old")
    summary = warning_summary(camden_lns, since=TODAY - 30 * DAY, limit=10, mine_too=False)
    assert [w.subject.title for w in summary.newest] == ["Someone else's"]
    assert summary.count == 1
    assert summary.every == warning_count(camden_lns) == len(early_warnings(camden_lns)) == 4


@pytest.mark.parametrize(("count", "kinds_read"), [(1, 10), (10, 2), (150, 2)])
def test_the_summary_reads_at_most_a_query_a_kind(
    national_officer, django_assert_num_queries, count, kinds_read
):
    every_kind_at(list(LocalAuthority.objects.order_by("name")[:count]))
    national_officer.has_national_scope  # noqa: B018 (asked once per request, as on a page)
    # From the index of open warnings the counts and the newest ten, and the
    # waiting times; then the records of each kind among those ten. With one
    # authority ten kinds give one each; with ten, the two newest kinds give
    # ten warnings of their day: never more queries as the data grows.
    with django_assert_num_queries(3 + kinds_read):
        summary = warning_summary(national_officer, limit=10)
    assert summary.count == 13 * count
    assert len(summary.newest) == min(10, 13 * count)
    # (Read before the rising waits are put among them, which may push one out.)
    assert len({w.kind for w in summary.newest} - {Kind.WAITS_RISING}) <= kinds_read
