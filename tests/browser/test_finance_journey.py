"""An LNS records, corrects and deletes a year's finance figures, in a real
browser, each page checked for WCAG 2.2 AA."""

import re

import pytest
from playwright.sync_api import expect


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def test_camden_lns_records_a_year_of_figures(
    page, sign_in, visit, submit, assert_accessible, camden_lns
):
    sign_in(camden_lns)
    visit("/authorities/camden/")
    expect(page.get_by_text("No finance figures are recorded for Camden yet.")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("link", name="Add a year's figures").click()
    assert_accessible(page)
    page.get_by_label("Financial year").fill("2023")
    page.get_by_label("DSG cumulative deficit", exact=True).fill("£30,000,000")
    page.get_by_label("Source of the DSG cumulative deficit").fill(
        "https://camden.example.gov.uk/forum-2024.pdf"
    )
    page.get_by_label("Number of EHCPs", exact=True).fill("about 2400")
    submit("Save the figures")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter the number of EHCPs as a whole number")
    expect(page.get_by_label("DSG cumulative deficit", exact=True)).to_have_value("£30,000,000")
    page.get_by_label("Number of EHCPs", exact=True).fill("2,450")
    page.get_by_label("Source of the number of EHCPs").fill("https://example.org/sen2")
    submit("Save the figures")

    expect(page.get_by_role("alert")).to_contain_text("the 2023-24 figures are saved")
    table = page.get_by_role("table", name=re.compile("Camden's figures"))
    expect(table.get_by_role("link", name=re.compile(r"^£30,000,000"))).to_have_attribute(
        "href", "https://camden.example.gov.uk/forum-2024.pdf"
    )
    expect(table).to_contain_text("Not known")

    with page.expect_navigation():
        page.get_by_role("link", name="Add a year's figures").click()
    page.get_by_label("Financial year").fill("2024")
    page.get_by_label("DSG cumulative deficit", exact=True).fill("33200000")
    page.get_by_label("Source of the DSG cumulative deficit").fill("https://example.org/2025")
    submit("Save the figures")
    expect(page.get_by_role("table", name=re.compile("Camden's figures"))).to_contain_text(
        "Up £3.2m on 2023-24"
    )

    with page.expect_navigation():
        page.get_by_role("link", name="Change the 2024-25 figures").click()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Delete the 2024-25 figures").click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to delete the 2024-25 figures?"
    )
    submit("Yes, delete them")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why you are deleting it")
    page.get_by_label("Why are you deleting it?").fill("Entered against the wrong year.")
    submit("Yes, delete them")
    expect(page.get_by_role("alert")).to_contain_text("the 2024-25 figures are deleted")
    expect(page.get_by_role("table", name=re.compile("Camden's figures"))).not_to_contain_text(
        "2024-25"
    )


def test_senco_lead_reads_but_cannot_change(page, sign_in, visit, camden_senco_lead, camden):
    camden.finance_years.create(
        financial_year=2024, ehcp_count=2450, ehcp_count_source_url="https://example.org/sen2"
    )
    sign_in(camden_senco_lead)
    visit("/authorities/camden/")
    expect(page.get_by_role("table", name=re.compile("Camden's figures"))).to_contain_text("2,450")
    expect(page.get_by_role("link", name="Add a year's figures")).to_have_count(0)
    response = visit("/authorities/camden/finance/add/")
    assert response.status == 403
