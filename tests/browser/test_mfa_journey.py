"""Two-step sign-in in a real browser: a national officer sets it up at their
first sign-in, and is asked for the code at the next. Every page is checked
for WCAG 2.2 AA."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from authorities.access import Role
from tests.factories import PASSWORD, make_user, totp_code


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def a_fresh_code(secret, used):
    """The app's code once it is no longer `used`: allauth accepts a code
    once, so a person signing in again within its 30 seconds waits for the
    next, as they would with their phone."""
    while (code := totp_code(secret)) == used:
        time.sleep(1)
    return code


def test_a_national_officer_sets_it_up_then_is_asked_for_the_code(
    page, sign_in, submit, assert_accessible
):
    officer = make_user(
        "new.officer@example.org",
        first_name="Ngozi",
        is_staff=True,
        roles=[(Role.NATIONAL_OFFICER, None)],
        totp=False,
    )
    sign_in(officer)
    expect(page).to_have_url(re.compile("/accounts/2fa/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step sign-in")
    expect(page.get_by_text("Set up two-step sign-in to continue")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="Set up an authenticator app").click()
    assert_accessible(page)
    # allauth asks for the password again before a second step is added.
    page.get_by_label("Password").fill(PASSWORD)
    submit("Confirm")

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up an authenticator app")
    expect(
        page.get_by_role("img", name="QR code to scan with your authenticator app")
    ).to_be_visible()
    secret = page.locator("#authenticator_secret").inner_text()
    code = totp_code(secret)  # what the phone shows
    page.get_by_label("Authenticator code").fill(code)
    submit("Turn on")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator("main li code")).to_have_count(10)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to Home").click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ngozi")

    submit("Sign out")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("E-mail address").fill(officer.email)
    page.get_by_label("Password").fill(PASSWORD)
    submit("Sign in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")

    page.get_by_label("Code").fill("000000")
    submit("Continue")
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not correct")

    page.get_by_label("Code").fill(a_fresh_code(secret, used=code))
    submit("Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ngozi")


def test_a_local_negotiating_secretary_is_not_asked_but_may_add_a_key(
    page, sign_in, visit, submit, camden_lns
):
    sign_in(camden_lns)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carys")
    page.get_by_role("link", name="Two-step sign-in").click()
    expect(page.get_by_role("button", name="Set up an authenticator app")).to_be_visible()

    # Adding a security key runs allauth's script (served from static/, as
    # the Content Security Policy requires): no error may be logged.
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    visit("/accounts/2fa/webauthn/add/")
    page.get_by_label("Password").fill(PASSWORD)
    submit("Confirm")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a security key")
    expect(page.get_by_role("button", name="Add")).to_be_enabled()
    assert not errors


def plug_in_a_security_key(page):
    """Chromium's virtual authenticator (DevTools' WebAuthn domain), in
    place of a YubiKey or a phone: it answers the page's WebAuthn calls as a
    real key does, with a presence and a PIN both confirmed, and stays
    plugged in for as long as the page lives."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable", {"enableUI": False})
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return devtools


def test_a_national_officer_signs_in_with_a_security_key(
    page, live_server, sign_in, submit, assert_accessible
):
    """The key is their only second step: added from the set-up page at
    their first sign-in, then asked for at the next. The live server is
    http://localhost, which browsers and allauth (fido2) both take as a
    secure origin: nothing insecure is allowed for the test."""
    officer = make_user(
        "keyed.officer@example.org",
        first_name="Kemi",
        is_staff=True,
        roles=[(Role.NATIONAL_OFFICER, None)],
        totp=False,
    )
    assert live_server.url.startswith("http://localhost:")
    plug_in_a_security_key(page)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    sign_in(officer)
    expect(page).to_have_url(re.compile("/accounts/2fa/$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Add a security key").click()
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    submit("Confirm")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a security key")
    page.get_by_label("Name").fill("Kemi's YubiKey")
    submit("Add")  # the browser asks the key; allauth's script posts its answer

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    [key] = Authenticator.objects.filter(user=officer, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Kemi's YubiKey"
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to Home").click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Kemi")

    submit("Sign out")
    page.get_by_label("E-mail address").fill(officer.email)
    page.get_by_label("Password").fill(PASSWORD)
    submit("Sign in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    submit("Use a security key or passkey")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Kemi")
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert not errors
