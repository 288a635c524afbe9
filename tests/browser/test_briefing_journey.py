"""Camden's LNS opens Camden's page, with its charts, and prints the briefing
pack for the next Schools Forum: with print media emulated the menu and
header are gone and the footer saying when and by whom it was produced
remains. Every page is checked for WCAG 2.2 AA."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from authorities.models import AuthorityFinance
from plans.models import FundingInstalment
from tests.factories import CAMDEN, authority, make_plan
from tests.test_authority_dashboard import answer


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def test_camden_lns_prints_the_briefing_pack(page, sign_in, visit, assert_accessible, camden_lns):
    camden = authority(CAMDEN)
    plan = make_plan(
        CAMDEN, round_or_tranche="2023-24", total_funding=Decimal("24600000"), status="agreed"
    )
    FundingInstalment.objects.create(
        plan=plan, financial_year=2024, amount=Decimal("5000000"), status="withheld"
    )
    answer(plan, "pressures-on-school-system", concern="serious", response="no")
    # A surplus, a year not recorded (a gap), then a deficit.
    for year, deficit in ((2021, "-1200000"), (2023, "24600000")):
        AuthorityFinance.objects.create(
            authority=camden,
            financial_year=year,
            dsg_cumulative_deficit=Decimal(deficit),
            dsg_cumulative_deficit_source_url="https://example.org/dsg",
            high_needs_block_allocation=Decimal("95000000"),
            high_needs_block_allocation_source_url="https://example.org/hnb",
        )

    sign_in(camden_lns)
    visit("/authorities/camden/")
    chart = page.get_by_role("img", name=re.compile("DSG cumulative deficit by financial year"))
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("£1.2m surplus")
    expect(page.locator("#chart-dsg-deficit-summary")).to_have_text(
        "The DSG deficit grew from £1.2m surplus in 2021-22 to £24.6m in 2023-24. "
        "No figure for 2022-23."
    )

    with page.expect_navigation():
        page.get_by_role("link", name="Briefing pack for Camden").click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Briefing pack")
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    footer = page.locator(".app-briefing__footer")
    today = f"{date.today():%-d %B %Y}"

    page.emulate_media(media="print")
    expect(page.locator(".app-header")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main menu")).to_be_hidden()
    expect(page.locator(".govuk-breadcrumbs")).to_be_hidden()
    expect(page.locator(".govuk-footer")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
    expect(footer).to_be_visible()
    expect(footer).to_contain_text(f"Produced on {today}")
    expect(footer).to_contain_text("by Carys Evans")
    expect(
        page.get_by_text("Will the plan increase pressures on other parts").first
    ).to_be_visible()
    # The charts' tables print, not hidden in a closed details element.
    expect(
        page.get_by_role("table", name="DSG cumulative deficit by financial year")
    ).to_be_visible()
    assert_accessible(page)

    # The one-plan pack, on a phone.
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 844})
    visit(f"/authorities/camden/briefing/?plan={plan.pk}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Briefing pack: SV 2023-24")
