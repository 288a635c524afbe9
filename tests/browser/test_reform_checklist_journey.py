"""Camden's LNS answers the reform questions on Camden's local SEND reform
plan, then reads where the programmes stand on the authority page and the
reform plan in the briefing pack, in a real browser, each page checked for
WCAG 2.2 AA."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from plans.models import Answer, HighNeedsStabilityGrant, ReformPlanDetails

from ..factories import CAMDEN, make_plan


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_plan_journey.py)."""


def test_camden_lns_answers_the_reform_checklist_and_briefs_on_it(
    page, sign_in, visit, submit, camden_lns
):
    make_plan(CAMDEN)  # Camden's SV plan, beside the reform plan
    plan = make_plan(CAMDEN, "send-reform", round_or_tranche="2026", status="negotiating")
    ReformPlanDetails.objects.create(plan=plan, stage="submitted", ap_capacity="reduce")
    HighNeedsStabilityGrant.objects.create(
        plan=plan, eligible_deficit=Decimal("41250000"), status="due"
    )
    sign_in(camden_lns)

    # The reform plan's checklist asks the reform questions, not DBV's.
    visit(plan.get_absolute_url())
    expect(page.get_by_text("0 of 42", exact=False).first).to_be_visible()
    expect(page.get_by_role("link", name="For DBV, were stakeholders engaged")).to_have_count(0)
    page.get_by_role("link", name="How will the authority meet the 10% of its deficit").click()
    page.get_by_text("What the union's briefing says").click()
    expect(page.get_by_text("90% of high-needs deficits built up")).to_be_visible()
    page.get_by_role("radio", name="Not known").check()
    page.get_by_role("radio", name="Some concern").check()
    submit("Save and go to the next question")
    expect(page.get_by_role("heading", level=1)).to_contain_text("What will health")
    assert Answer.objects.get().question.key == "reform-ten-percent"

    # Where SV and the reform programme stand, on the authority page.
    visit("/authorities/camden/")
    expect(
        page.get_by_text("no new agreement has been made since 4 December 2024")
    ).to_be_visible()
    expect(page.get_by_text("Under way in 2026")).to_be_visible()

    # The briefing pack: the reform plan, its grant and the answer, of some
    # concern and "not known", so also still to ask.
    visit(f"/authorities/camden/briefing/?plan={plan.pk}")
    expect(page.get_by_role("heading", name="The reform plan")).to_be_visible()
    expect(page.get_by_text("£37,125,000")).to_be_visible()
    expect(page.get_by_text("How will the authority meet the 10% of its deficit")).to_have_count(2)
