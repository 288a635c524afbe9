"""Camden's LNS left the tracker signed in on a phone: from the laptop they
find their sessions in the menu and sign the phone out; the phone's next
page is the login page. Every page is checked for WCAG 2.2 AA."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def test_the_lns_signs_out_the_phone_they_left_signed_in(
    page, browser, live_server, sign_in, submit, assert_accessible, camden_lns
):
    phone = browser.new_context(user_agent=PHONE).new_page()
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_label("E-mail address").fill(camden_lns.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("link", name="Sessions")).to_be_visible()

    sign_in(camden_lns)
    page.get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signed-in sessions")
    assert_accessible(page)
    expect(page.get_by_role("table")).to_contain_text("Safari on iPhone")
    expect(page.get_by_role("table")).to_contain_text("This browser")

    submit("Sign out Safari on iPhone")
    expect(page.get_by_text("Signed out of Safari on iPhone")).to_be_visible()
    expect(page.get_by_role("table")).not_to_contain_text("Safari on iPhone")

    phone.reload()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in")
    phone.context.close()
