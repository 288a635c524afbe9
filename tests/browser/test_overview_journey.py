"""The London organiser finds where the union was not consulted, and works the
overview table by keyboard alone. Every page is checked for WCAG 2.2 AA."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consultations.models import Meeting
from official.models import Status
from plans.models import HighNeedsStabilityGrant, ReformPlanDetails
from tests.factories import CAMDEN, authority, make_plan
from tests.test_overview import REFUSED, official_figures

TODAY = timezone.localdate()
GREENWICH = "203"


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


@pytest.fixture
def plans():
    """Camden's plan was agreed after its Schools Forum consulted the union;
    Greenwich's with no consultation logged at all."""
    camden = make_plan(CAMDEN, agreement_date=TODAY - timedelta(days=60))
    Meeting.objects.create(
        authority=authority(CAMDEN),
        plan=camden,
        forum="schools_forum",
        held_on=TODAY - timedelta(days=90),
        union_consulted="yes",
    )
    make_plan(GREENWICH, agreement_date=TODAY - timedelta(days=30))


def press_tab_until(page, locator, limit=120):
    """Tab through the page until `locator` has the focus, as a keyboard user
    would; fails if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{locator} cannot be reached with the keyboard")


def test_the_organiser_filters_to_not_consulted(
    page, sign_in, visit, submit, assert_accessible, london_organiser, plans
):
    sign_in(london_organiser)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main menu").get_by_role(
            "link", name="Overview"
        ).click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.get_by_role("status")).to_contain_text("33 authorities")

    page.get_by_role("checkbox", name="A plan agreed without consultation").check()
    submit("Filter")
    assert "only=not_consulted" in page.url  # the view can be bookmarked
    expect(page.get_by_role("status")).to_contain_text("1 authority matches the filters")
    table = page.get_by_role("table", name="Authorities in London")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("rowheader")).to_have_text("Greenwich")
    expect(rows.first).to_contain_text("No")

    with page.expect_navigation():
        rows.first.get_by_role("link", name="Greenwich").click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Greenwich")

    # The region page has the same table, filters and all.
    visit("/regions/london/?only=not_consulted")
    rows = page.get_by_role("table", name="Authorities in London").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("rowheader")).to_have_text("Greenwich")


def test_the_overview_table_works_by_keyboard(
    page, sign_in, visit, assert_accessible, london_organiser, plans
):
    sign_in(london_organiser)
    visit("/overview/")

    # A sortable heading: Tab to it, Enter sorts, and the heading says so.
    paid = page.get_by_role("link", name="Paid (£)")
    expect(paid).to_contain_text("sort ascending")
    press_tab_until(page, paid)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)
    assert page.url.endswith("/overview/?sort=paid")
    heading = page.get_by_role("columnheader", name="Paid (£)")
    expect(heading).to_have_attribute("aria-sort", "ascending")
    expect(heading).to_contain_text("sort descending")

    # On to an authority's link, and Enter opens its page.
    camden = page.get_by_role("link", name="Camden", exact=True)
    press_tab_until(page, camden, limit=400)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)
    assert page.url.endswith("/authorities/camden/")


def test_from_the_overview_by_the_map_to_a_printed_briefing_pack(
    page, sign_in, visit, assert_accessible, london_organiser, plans
):
    """The issue's whole journey for the London organiser: where was the union
    not consulted, that authority found on the map, its briefing pack printed."""
    sign_in(london_organiser)
    visit("/overview/?only=not_consulted")
    rows = page.get_by_role("table", name="Authorities in London").locator("tbody tr")
    expect(rows.first.get_by_role("rowheader")).to_have_text("Greenwich")

    with page.expect_navigation():
        page.get_by_role("link", name="See these authorities on the map of England").click()
    assert_accessible(page)
    with page.expect_navigation():
        page.locator("svg a.app-map__cell", has_text="GRN").first.click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Greenwich")

    with page.expect_navigation():
        page.get_by_role("link", name="Briefing pack for Greenwich").click()
    assert_accessible(page)
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main menu")).to_be_hidden()
    expect(page.locator(".app-briefing__footer")).to_contain_text("by Liam Hughes")
    assert_accessible(page)


def test_the_organiser_finds_the_grant_withheld_and_refusals_rising(
    page, sign_in, visit, submit, assert_accessible, london_organiser
):
    """Issues 15 and 16: the reform plan, the grant and the official figures
    in the table, its filters, and the SV agreements under review since
    March 2024 shown with payments withheld though no amount is recorded."""
    greenwich = make_plan(GREENWICH, "send-reform", status="negotiating")
    ReformPlanDetails.objects.create(
        plan=greenwich, stage="requirements_not_met", rating="requirements_not_met"
    )
    HighNeedsStabilityGrant.objects.create(
        plan=greenwich, eligible_deficit=Decimal("2000000"), status="withheld"
    )
    official_figures(REFUSED, "2023", 24, {GREENWICH: 20, CAMDEN: Status.SUPPRESSED})
    official_figures(REFUSED, "2024", "25.2", {GREENWICH: "30.1", CAMDEN: Status.SUPPRESSED})

    sign_in(london_organiser)
    visit("/overview/")
    table = page.get_by_role("table", name="Authorities in London")
    hillingdon = table.locator("tbody tr", has=page.get_by_role("rowheader", name="Hillingdon"))
    expect(hillingdon).to_contain_text("Withheld, amount not recorded")
    camden = table.locator("tbody tr", has=page.get_by_role("rowheader", name="Camden"))
    expect(camden).to_contain_text("Suppressed")
    expect(page.locator("#undated-agreements")).to_contain_text("no agreement date recorded")

    page.get_by_role("checkbox", name="The stability grant withheld (in full or in part)").check()
    page.get_by_role(
        "checkbox",
        name="Requests refused an assessment above England's rate and rising (latest year)",
    ).check()
    submit("Filter")
    assert_accessible(page)
    assert "only=grant_withheld" in page.url
    expect(page.get_by_role("status")).to_contain_text("1 authority matches the filters")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("rowheader")).to_have_text("Greenwich")
    expect(rows.first).to_contain_text("Requirements not met")
    expect(rows.first).to_contain_text("£1,800,000")
    expect(rows.first).to_contain_text("30.1%")
    expect(rows.first).to_contain_text("rising from 20% in 2023")
