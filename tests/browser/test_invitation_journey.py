"""Inviting a person: a national officer adds them in the admin, they open
the e-mailed link, choose a password and are signed in; the link then works
no more. The app's pages are checked for WCAG 2.2 AA (the admin's are
Django's own, not checked here, as in test_round_trip.py)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from authorities.models import User

REFUSED = "This invitation link has expired or has been used."


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data."""


def test_an_invited_person_sets_a_password_once(
    page, live_server, settings, sign_in, visit, submit, national_officer
):
    settings.SITE_URL = live_server.url  # so the e-mailed link opens here
    sign_in(national_officer)
    page.goto(f"{live_server.url}/admin/authorities/user/add/")
    page.get_by_label("E-mail address").fill("nia.rees@example.org")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Rees")
    expect(page.get_by_label("Send an invitation now")).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Invitation to nia.rees@example.org queued")).to_be_visible()
    assert not User.objects.get(email="nia.rees@example.org").has_usable_password()

    [message] = mail.outbox
    assert message.to == ["nia.rees@example.org"]
    link = re.search(rf"{re.escape(live_server.url)}(/accounts/invitation/\S+/)", message.body)
    assert link, message.body
    page.context.clear_cookies()  # the officer's browser is not the invited person's

    visit(link.group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    expect(page.get_by_text("Nadia Okafor has invited you")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("a-first-long-password-4")
    page.get_by_label("Confirm password").fill("a-first-long-password-4")
    submit("Set password and sign in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Nia")
    expect(page.get_by_text("Your password is set")).to_be_visible()

    page.context.clear_cookies()
    visit(link.group(1))
    expect(page.get_by_text(REFUSED)).to_be_visible()
    expect(page.get_by_text("Ask Nadia Okafor or a national officer")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_count(0)
