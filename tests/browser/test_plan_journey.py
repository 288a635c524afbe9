"""Recording a plan and its money in a real browser, each page checked for
WCAG 2.2 AA."""

import pytest
from playwright.sync_api import expect


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
    expect(page.get_by_role("heading", level=1)).to_have_text("Safety Valve 2023-24")
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
    expect(page.get_by_role("heading", level=1)).to_have_text("Safety Valve 2021-22")
