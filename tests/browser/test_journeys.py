"""User journeys in a real browser, each page checked for WCAG 2.2 AA."""

import re

import pytest
from playwright.sync_api import expect


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data: reload the authorities after
    the previous browser test's flush."""


def test_camden_lns_sees_camden_and_not_kent(page, sign_in, visit, camden_lns, kent_lns):
    sign_in(camden_lns)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carys")
    your_authorities = page.get_by_role("table", name="Your authorities")
    expect(your_authorities.get_by_role("link", name="Camden")).to_be_visible()
    expect(page.get_by_text("Kent")).to_have_count(0)

    visit("/authorities/")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Camden")

    page.get_by_role("link", name="Camden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Camden")
    expect(page.get_by_role("term").filter(has_text="Local negotiating secretary")).to_be_visible()

    response = visit("/authorities/kent/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def test_london_organiser_filters_the_authority_list(
    page, sign_in, visit, submit, london_organiser
):
    sign_in(london_organiser)
    visit("/authorities/")
    expect(page.get_by_role("status")).to_contain_text("33 authorities")

    page.get_by_label("Search").fill("upon Thames")
    submit("Filter")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_label("Search")).to_have_value("upon Thames")

    # Best matches first, until a column is chosen: then by it, either way.
    expect(page.get_by_role("status")).to_contain_text("best matches first")
    page.get_by_role("link", name=re.compile("^Name")).click()
    expect(page.locator("tbody tr").first).to_contain_text("Kingston upon Thames")
    page.get_by_role("link", name=re.compile("^Name")).click()
    expect(page.locator("tbody tr").first).to_contain_text("Richmond upon Thames")
    expect(page.get_by_label("Search")).to_have_value("upon Thames")

    page.get_by_label("Search").fill("")
    page.get_by_label("Region").select_option("London")
    submit("Filter")
    expect(page.get_by_role("status")).to_contain_text("33 authorities")


def test_wrong_password_shows_an_error(page, sign_in, camden_lns):
    sign_in(camden_lns, password="not-my-password")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    expect(page.get_by_label("E-mail address")).to_have_value(camden_lns.email)
    expect(page).to_have_url(re.compile("/accounts/login/"))


def test_sign_out(page, sign_in, submit, camden_lns):
    sign_in(camden_lns)
    submit("Sign out")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_the_accessibility_check_finds_what_is_wrong(
    page, browser, live_server, assert_accessible
):
    """`visit` and `submit` check each page with axe-core, put in each page
    by the context (or, in a context of a test's own, when first asked):
    a page with an unnamed image and a low-contrast line fails it."""
    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page)
    # (Styled by script: the app's CSP refuses a style attribute.)
    page.evaluate("""() => {
        const main = document.querySelector("main");
        main.insertAdjacentHTML("beforeend", '<img src="/static/x.png"><p>Faint</p>');
        Object.assign(main.lastElementChild.style, {color: "#ccc", background: "#fff"});
    }""")
    with pytest.raises(AssertionError, match="image-alt") as found:
        assert_accessible(page)
    assert "color-contrast" in str(found.value)

    own = browser.new_context()
    try:
        other = own.new_page()
        other.goto(f"{live_server.url}/accounts/login/")
        assert_accessible(other)
        other.evaluate("""() => document.querySelector("main").insertAdjacentHTML(
            "beforeend", '<img src="/static/x.png">')""")
        with pytest.raises(AssertionError, match="image-alt"):
            assert_accessible(other)
    finally:
        own.close()
