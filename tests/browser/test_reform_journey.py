"""Recording Camden's local SEND reform plan, from draft to approval, with
its High Needs Stability Grant, in a real browser, each page checked for
WCAG 2.2 AA."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from plans.models import HighNeedsStabilityGrant, ReformPlanDetails


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_plan_journey.py)."""
    call_command("load_timeline", stdout=StringIO())


def test_camden_lns_records_the_reform_plan_and_its_grant(
    page, sign_in, visit, submit, camden_lns
):
    sign_in(camden_lns)
    visit("/authorities/camden/")
    page.get_by_role("link", name="Record a plan for Camden").click()
    page.get_by_label("Programme", exact=True).select_option(
        label="Local SEND reform plan (High Needs Stability Grant)"
    )
    page.get_by_label("Round or tranche").fill("2026")
    page.get_by_label("Status", exact=True).select_option(label="Negotiating")
    submit("Save the plan")
    expect(page.get_by_role("heading", level=1)).to_have_text("SEND reform plan 2026")
    expect(page.get_by_role("heading", name="What comes next")).to_be_visible()

    # A draft shared with the DfE.
    page.get_by_role("link", name="Record them").click()
    page.get_by_role("radio", name="Draft shared with the DfE").check()
    page.get_by_label("Date started").fill("2026-01-12")
    page.get_by_label("Date the draft was shared with the DfE").fill("2026-04-30")
    page.get_by_label("Health partner (ICB)").fill("NHS North Central London ICB")
    page.get_by_label("Early: what the plan says").fill("Speech and language support.")
    submit("Save the reform plan")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Reform plan saved.")
    reform = page.locator("#reform ~ dl").first
    expect(reform).to_contain_text("Draft shared with the DfE: 30 April 2026")

    # Approved, rated, with its proposals; a date out of order first.
    page.get_by_role("link", name="Change the reform plan").click()
    page.get_by_role("radio", name="Approved", exact=True).check()
    page.get_by_label("Date submitted").fill("2026-03-01")
    submit("Save the reform plan")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("“Submitted” cannot be before “Draft shared with the DfE”")
    expect(summary).to_be_focused()
    page.get_by_label("Date submitted").fill("2026-07-31")
    page.get_by_label("Date of the DfE's decision").fill("2026-09-04")
    page.get_by_role("radio", name="Meets requirements", exact=True).check()
    page.get_by_label("Date of the rating").fill("2026-09-04")
    page.get_by_role("group", name="Alternative provision (AP) places").get_by_role(
        "radio", name="Reduce"
    ).check()
    page.get_by_label("Change in AP places").fill("-30")
    page.get_by_label("Investment in mainstream inclusion (£)").fill("£2,400,000")
    page.get_by_label("Evidence on mainstream inclusion").fill("Inclusion fund, page 21.")
    submit("Save the reform plan")
    expect(reform).to_contain_text("Approved")
    expect(page.locator("#reform ~ dl").nth(2)).to_contain_text("Reduce (-30 places)")

    # The grant: 90% of the eligible deficit written off, worked out.
    page.get_by_role("link", name="Record the grant").click()
    page.get_by_label("Eligible high-needs deficit at 31 March 2026 (£)").fill("£41,250,000")
    page.get_by_role("radio", name="S251 outturn").check()
    page.get_by_label("How the authority says it will meet its 10%").fill("From reserves.")
    page.get_by_label("Payment due").fill("2026-10-30")
    submit("Save the grant")
    grant = page.locator("#grant ~ dl").first
    expect(grant).to_contain_text("Written off (90%) £37,125,000")
    expect(grant).to_contain_text("Left to the authority (10%) £4,125,000")

    details = ReformPlanDetails.objects.get(plan__authority__slug="camden")
    assert (details.stage, details.rating, details.ap_places_change) == ("approved", "met", -30)
    assert HighNeedsStabilityGrant.objects.get(plan=details.plan).status == "due"

    # The authority's page shows the grant beside any other plan's money.
    visit("/authorities/camden/")
    expect(page.get_by_text("£37,125,000 to be written off")).to_be_visible()
