"""The London organiser finds Camden on the map with the keyboard alone and
opens its page. Every page is checked for WCAG 2.2 AA by `visit`."""

import re

import pytest
from playwright.sync_api import expect

from official.models import Status
from tests.factories import CAMDEN, make_plan
from tests.test_overview import TWENTY_WEEKS, official_figures

# Past the skip link, the menu and the form: never more presses than this.
MOST_PRESSES = 60


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def focused_name(page):
    """The accessible name of the focused element, as a screen reader hears
    a map square (its <title>) or a link's text."""
    return page.evaluate(
        """() => {
            const element = document.activeElement;
            const title = element.querySelector(':scope > title');
            return (title ? title.textContent : element.textContent).trim();
        }"""
    )


def test_organiser_tabs_to_camden_on_the_map_and_opens_it(
    page, sign_in, visit, assert_accessible, london_organiser
):
    make_plan(CAMDEN, "sv", round_or_tranche="2024-25")
    sign_in(london_organiser)
    visit("/map/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Map of authorities")
    figure = page.locator("figure.app-map")
    expect(figure).to_contain_text("Of the 33 authorities you can see: ")
    # Only London's squares are links; the rest of England is outlines.
    expect(page.locator("svg a.app-map__cell")).to_have_count(33)
    expect(page.locator("svg.app-map__svg .app-map__tile--outside")).to_have_count(120)

    names = []
    for _ in range(MOST_PRESSES):
        page.keyboard.press("Tab")
        names.append(focused_name(page))
        if names[-1].startswith("Camden"):
            break
    assert names[-1] == "Camden: Safety Valve 2024-25", names
    # The squares are in reading order: London's top row (Harrow to
    # Havering, seven squares), then Hillingdon, Brent and Camden.
    harrow = next(n for n, name in enumerate(names) if name.startswith("Harrow: "))
    assert len(names) == harrow + 10
    # The focused square is drawn in GOV.UK's focus colours.
    tile = page.locator("a.app-map__cell:focus .app-map__tile")
    expect(tile).to_have_css("fill", "rgb(255, 221, 0)")
    expect(tile).to_have_css("stroke", "rgb(11, 12, 12)")

    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)
    expect(page).to_have_url(re.compile(r"/authorities/camden/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Camden")


def test_the_measure_is_chosen_with_the_form_and_the_map_fits_a_phone(
    page, sign_in, visit, submit, london_organiser
):
    sign_in(london_organiser)
    visit("/map/?measure=deficit")
    expect(page.get_by_role("radio", name="Latest DSG deficit")).to_be_checked()
    expect(page.locator("figure.app-map h3")).to_have_text("Key: Latest DSG deficit")
    page.get_by_role("radio", name="Union consulted before agreement").check()
    submit("Show on the map")
    expect(page).to_have_url(re.compile(r"measure=consultation"))
    expect(page.locator("figure.app-map")).to_contain_text("No plan (")

    # On a phone the drawing scales to the screen: nothing to scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    svg = page.locator("svg.app-map__svg").bounding_box()
    assert svg["x"] >= 0
    assert svg["x"] + svg["width"] <= 390
    assert svg["width"] > 300

    visit("/map/?measure=nonsense")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose what to colour the map by from the list")


def test_the_map_shows_payments_withheld_and_the_official_figures(
    page, sign_in, visit, submit, london_organiser
):
    """The SV agreements under review since March 2024 (Hillingdon in
    London) are coloured as payments withheld; the official figures colour
    the map against England's, a suppressed figure shown as not known."""
    official_figures(TWENTY_WEEKS, "2024", "45.9", {CAMDEN: "38.2", "203": Status.SUPPRESSED})
    sign_in(london_organiser)
    visit("/map/")
    page.get_by_role("radio", name="Stability grant and payments withheld").check()
    submit("Show on the map")
    expect(page).to_have_url(re.compile(r"measure=grant"))
    figure = page.locator("figure.app-map")
    expect(figure.locator("h3")).to_have_text("Key: Stability grant and payments withheld")
    expect(figure).to_contain_text("Payments withheld (grant or instalments) (1)")
    page.get_by_text("The map as a table").click()
    row = figure.get_by_role("row", name=re.compile("^Hillingdon"))
    expect(row).to_contain_text("under review, payments withheld (amount not recorded)")

    page.get_by_role("radio", name="EHC plans within 20 weeks against England").check()
    submit("Show on the map")
    expect(figure).to_contain_text("Below England (1)")
    page.get_by_text("The map as a table").click()
    expect(figure.get_by_role("row", name=re.compile("^Camden"))).to_contain_text(
        "38.2% in 2024, below England's 45.9%"
    )
    expect(figure.get_by_role("row", name=re.compile("^Greenwich"))).to_contain_text(
        "Suppressed in 2024"
    )
