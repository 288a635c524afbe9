"""Revising a plan: its money and targets follow it to the revision, so every
page that reads current plans counts them as before; the old revision says
where they went; the revision's page says what changed, in words."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards.warnings import Kind, early_warnings
from plans.models import (
    Answer,
    FundingInstalment,
    Plan,
    Recommendation,
    Target,
    TargetUpdate,
)
from plans.services import assessment_for, revise_plan

from .factories import CAMDEN, make_plan

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("dashboards:overview")
AUTHORITY = reverse("dashboards:authority", args=["camden"])
TODAY = timezone.localdate()


def text(response):
    """The page's words, tags stripped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def answer(plan, key, **fields):
    assessment = assessment_for(plan)
    question = assessment.question_set.questions.get(key=key)
    return Answer.objects.create(assessment=assessment, question=question, **fields)


@pytest.fixture
def plan(reference_data):
    """Camden's plan with money paid and withheld, a target with progress
    and two checklist answers."""
    plan = make_plan(
        CAMDEN,
        round_or_tranche="2023-24",
        total_funding=Decimal("12000000"),
        agreement_date=datetime.date(2023, 5, 1),
    )
    FundingInstalment.objects.create(
        plan=plan, financial_year=2023, amount=5_000_000, status="paid", amount_paid=5_000_000
    )
    FundingInstalment.objects.create(
        plan=plan, financial_year=2024, amount=4_000_000, status="withheld"
    )
    target = Target.objects.create(
        plan=plan,
        description="Reduce new EHCPs by 10%",
        goal="ehcp_demand",
        baseline=1000,
        target_value=900,
        unit="new EHCPs a year",
    )
    target.recommendations.set(Recommendation.objects.filter(number__in=[1, 2]))
    TargetUpdate.objects.create(target=target, status="at_risk", value=980, reason="Demand rose.")
    answer(plan, "cuts-not-efficiency", response="partly", concern="some")
    answer(plan, "pressures-on-school-system", response="yes", concern="none")
    return plan


def revise(client, plan):
    response = client.post(reverse("plans:revise", args=[plan.pk]))
    assert response.status_code == 302
    return Plan.objects.get(revision_of=plan)


def camden_row(response):
    return next(r for r in response.context["overview"].rows if r.authority.la_code == CAMDEN)


# The money and targets follow the revision ------------------------------------


def test_revising_keeps_the_authority_s_totals_on_the_overview(
    national_officer_client, camden_lns_client, plan
):
    before = camden_row(national_officer_client.get(OVERVIEW))
    assert (before.paid, before.withheld) == (Decimal(5_000_000), Decimal(4_000_000))
    revise(camden_lns_client, plan)
    after = camden_row(national_officer_client.get(OVERVIEW))
    assert (after.paid, after.withheld) == (before.paid, before.withheld)


def test_revising_keeps_the_money_and_targets_on_the_authority_page(camden_lns_client, plan):
    def current(response):
        return [
            (brief.money, [t.description for t in brief.targets])
            for brief in response.context["plans"].current
        ]

    before = camden_lns_client.get(AUTHORITY)
    revise(camden_lns_client, plan)
    after = camden_lns_client.get(AUTHORITY)
    assert current(after) == current(before)
    assert "£9,000,000 promised, £5,000,000 paid, £4,000,000 withheld" in text(after)
    assert "Reduce new EHCPs by 10%" in text(after)


def test_targets_and_their_latest_progress_appear_on_the_revision(camden_lns_client, plan):
    revision = revise(camden_lns_client, plan)
    target = Target.objects.get()
    assert target.plan == revision
    assert sorted(target.recommendations.values_list("number", flat=True)) == [1, 2]
    page = text(camden_lns_client.get(revision.get_absolute_url()))
    assert "Reduce new EHCPs by 10%" in page
    assert "At risk" in page
    assert "980 new EHCPs a year" in page
    assert "Demand rose." in page
    # Its history says so, rather than "changed" with nothing to show.
    assert re.search(
        r"Target: Reduce new EHCPs by 10% changed by Carys Evans, .*: "
        r"moved here when the plan was revised",
        page,
    )


def test_the_old_revision_says_where_its_money_went(camden_lns_client, plan):
    revision = revise(camden_lns_client, plan)
    response = camden_lns_client.get(plan.get_absolute_url())
    page = text(response)
    assert "No instalments on this revision" in page
    assert "its instalments are recorded and counted on revision 2" in page
    assert "its targets and their progress are recorded on revision 2" in page
    assert f'href="{revision.get_absolute_url()}#money"' in response.content.decode()
    assert list(plan.instalments.all()) == []


def test_a_withheld_instalment_is_still_held_back_since_it_was_withheld(
    camden_lns_client, camden_lns, plan
):
    withheld = FundingInstalment.objects.get(status="withheld")
    withheld.held_back_since -= datetime.timedelta(days=30)
    withheld.save()
    revision = revise(camden_lns_client, plan)
    [warning] = [w for w in early_warnings(camden_lns) if w.kind == Kind.MONEY_HELD_BACK]
    assert warning.on == TODAY - datetime.timedelta(days=30)
    assert warning.url == revision.get_absolute_url() + "#money"
    assert "(SV 2023-24 (revision 2))" in warning.reason


def test_revising_twice_from_the_same_plan_is_refused(camden_lns_client, camden_lns, plan):
    revision = revise(camden_lns_client, plan)
    response = camden_lns_client.post(reverse("plans:revise", args=[plan.pk]))
    assert response["Location"] == revision.get_absolute_url()
    with pytest.raises(ValueError, match="already been revised"):
        revise_plan(plan=plan, user=camden_lns)
    assert Plan.objects.filter(revision_of=plan).count() == 1
    assert set(FundingInstalment.objects.values_list("plan", flat=True)) == {revision.pk}


def test_revised_by_someone_else_after_the_page_checked_is_no_server_error(
    camden_lns_client, camden_lns, plan, monkeypatch
):
    # The view checked there was no revision; someone else's lands before
    # this one's transaction does (as two simultaneous saves do).
    from plans import services

    real = services.revise_plan

    def someone_else_first(*, plan, user):
        real(plan=plan, user=user)
        return real(plan=plan, user=user)

    monkeypatch.setattr(services, "revise_plan", someone_else_first)
    response = camden_lns_client.post(reverse("plans:revise", args=[plan.pk]), follow=True)
    assert response.status_code == 200
    assert "already been revised" in text(response)
    assert Plan.objects.filter(revision_of=plan).count() == 1


def test_a_revision_of_a_revision_keeps_the_money_too(
    national_officer_client, camden_lns_client, plan
):
    second = revise(camden_lns_client, plan)
    third = revise(camden_lns_client, second)
    assert set(FundingInstalment.objects.values_list("plan", flat=True)) == {third.pk}
    row = camden_row(national_officer_client.get(OVERVIEW))
    assert (row.paid, row.withheld) == (Decimal(5_000_000), Decimal(4_000_000))
    # Revision 2 had the money while it was current: nothing changed then.
    page = text(camden_lns_client.get(second.get_absolute_url()))
    assert (
        "Money promised" not in page.split("What changed from revision 1")[1].split("Targets")[0]
    )


# What changed -----------------------------------------------------------------


def test_the_revision_says_what_changed_in_words(camden_lns_client, plan):
    revision = revise(camden_lns_client, plan)
    revision.status = Plan.Status.UNDER_REVIEW
    revision.total_funding = Decimal("10000000")
    revision.save()
    FundingInstalment.objects.create(plan=revision, financial_year=2025, amount=3_000_000)
    target = Target.objects.get()
    target.target_value = 850
    target.save()
    TargetUpdate.objects.create(target=target, status="off_track", reason="Fewer places.")
    Target.objects.create(plan=revision, description="Move 40 placements", goal="provision")
    changed = revision.assessment.answers.get(question__key="cuts-not-efficiency")
    changed.response, changed.concern, changed.carried_forward = "no", "serious", False
    changed.save()

    page = text(camden_lns_client.get(revision.get_absolute_url()))
    section = page.split("What changed from revision 1")[1].split("What the plan proposes")[0]
    assert "Status Agreed → Under review, payments withheld" in section
    assert "Total extra funding £12,000,000 → £10,000,000" in section
    assert "Money promised £9,000,000 → £12,000,000" in section
    unchanged = "Agreement date, financial years, published plan, money paid, money withheld"
    assert f"No change to {unchanged}" in section
    assert "Added: Move 40 placements" in section
    assert "Reduce new EHCPs by 10%: target 900 → 850; progress At risk → Off track" in section
    assert "1 carried forward, still to confirm" in section
    assert "Does the plan seek genuine efficiency" in section
    assert "Partly, some concern → No, serious concern" in section


def test_a_plan_that_revises_nothing_shows_no_changes(camden_lns_client, plan):
    assert "What changed from" not in text(camden_lns_client.get(plan.get_absolute_url()))


@pytest.fixture
def no_page_cache(settings):
    """Pages drawn afresh on every request: what a person pays after any write."""
    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    settings.CACHES = {**settings.CACHES, "pages": dummy}


def test_the_revision_page_s_query_count_is_pinned_with_many_rows(
    no_page_cache, client_for, camden_lns, plan, django_assert_num_queries
):
    for year in range(2025, 2030):
        FundingInstalment.objects.create(plan=plan, financial_year=year, amount=1)
    for n in range(6):
        target = Target.objects.create(plan=plan, description=f"T{n}", goal="provision")
        target.recommendations.set(Recommendation.objects.all()[:3])
        TargetUpdate.objects.create(target=target, status="on_track")
    assessment = assessment_for(plan)
    for question in assessment.question_set.questions.all()[2:]:
        Answer.objects.create(
            assessment=assessment, question=question, response="no", concern="serious"
        )
    revision = revise_plan(plan=plan, user=camden_lns)
    for target in revision.targets.all()[:3]:
        TargetUpdate.objects.create(target=target, status="at_risk", reason="Late.")
    client = client_for(camden_lns)
    # The plan page's own 16 (tests/test_plans.py's pin less the cache's 7,
    # and the previous revision it links to) and five for what changed
    # (plans.presenters.RevisionChanges: the instalments' and targets' move
    # records, the instalment totals, the targets, the answers), and the
    # national timeline's next dates ("What comes next"). Its history names
    # the questions from its checklist, and no programme changed
    # (plans/history.py).
    with django_assert_num_queries(22):
        response = client.get(revision.get_absolute_url())
    assert "What changed from revision 1" in text(response)
