"""Recording a plan and its money in a real browser, each page checked for
WCAG 2.2 AA."""

import pytest
from playwright.sync_api import expect

from plans.models import Plan
from tests.factories import CAMDEN, make_plan


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data: reload the reference data after
    the previous browser test's flush."""


def test_camden_lns_records_a_plan_and_an_instalment(page, sign_in, visit, submit, camden_lns):
    sign_in(camden_lns)
    visit("/authorities/camden/")
    expect(page.get_by_text("No Safety Valve, Delivering Better Value")).to_be_visible()
    page.get_by_role("link", name="Record a plan for Camden").click()
    page.get_by_label("Programme", exact=True).select_option(label="Safety Valve")
    page.get_by_label("Round or tranche").fill("2023-24")
    page.get_by_label("Status", exact=True).select_option(label="Negotiating")
    page.get_by_label("First financial year").select_option(label="2024-25")
    page.get_by_label("Last financial year").select_option(label="2023-24")
    page.get_by_label("Total extra funding (£)").fill("-3")
    submit("Save the plan")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The last financial year cannot be before the first")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Round or tranche")).to_have_value("2023-24")

    page.get_by_label("Last financial year").select_option(label="2028-29")
    page.get_by_label("Total extra funding (£)").fill("20000000")
    submit("Save the plan")
    expect(page.get_by_role("heading", level=1)).to_have_text("SV 2023-24")
    expect(page.get_by_text("£20,000,000")).to_be_visible()

    page.get_by_role("link", name="Add an instalment").click()
    page.get_by_label("Financial year").select_option(label="2024-25")
    page.get_by_label("Amount promised (£)").fill("5000000")
    page.get_by_label("Status", exact=True).select_option(label="Withheld")
    submit("Save the instalment")
    expect(page.locator("#money ~ dl").first).to_contain_text("£5,000,000")
    expect(page.get_by_text("Withheld").first).to_be_visible()


def test_london_organiser_filters_plans(page, sign_in, visit, submit, london_organiser):
    sign_in(london_organiser)
    visit("/plans/")
    page.get_by_label("Status").select_option(label="Under review, payments withheld")
    submit("Filter")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Hillingdon")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SV 2021-22")


def test_a_status_change_keeps_to_the_lifecycle_unless_a_national_officer_says_why(
    page, sign_in, visit, submit, national_officer
):
    plan = make_plan(CAMDEN, round_or_tranche="2023-24", status=Plan.Status.RUMOURED)
    sign_in(national_officer)
    visit(f"/plans/{plan.pk}/edit/")
    reason = page.get_by_label("Reason for skipping the usual order")
    expect(reason).to_have_count(0)  # shown only when a change needs it
    page.get_by_label("Status", exact=True).select_option(label="Completed")
    submit("Save the plan")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("from “Rumoured” it moves on to “Negotiating”")
    expect(page.get_by_label("Status", exact=True)).to_have_value("completed")
    reason.fill("The DfE confirmed it ended early.")
    submit("Save the plan")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Plan saved.")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.COMPLETED
    assert plan.history.latest().history_change_reason == "The DfE confirmed it ended early."
