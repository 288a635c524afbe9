"""How long a signed-in session lasts (authorities/sessions.py), signing out
everywhere on a password change, and the page where a person ends a session."""

import re
import time

import pytest
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from authorities import sessions

from .factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN_URL = reverse("account_login")
SESSIONS_URL = reverse("usersessions_list")
PAGE = reverse("dashboards:authority_list")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(autouse=True)
def clear_rate_limits():
    """Signing in through the form counts towards allauth's limits."""
    cache.clear()
    yield
    cache.clear()


def signed_in(client):
    return "_auth_user_id" in client.session


def rewind(client, *, idle=0, since_sign_in=0):
    """As if the person signed in `since_sign_in` minutes ago and last made a
    request `idle` minutes ago."""
    session = client.session
    now = time.time()
    session[sessions.SIGNED_IN_AT] = int(now - 60 * max(since_sign_in, idle))
    session[sessions.LAST_SEEN_AT] = int(now - 60 * idle)
    session.save()


def text(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# Idle timeout: 30 minutes for national and regional roles, 2 hours otherwise.


@pytest.mark.parametrize(
    ("persona", "idle", "still_signed_in"),
    [
        ("national_officer", 29, True),
        ("national_officer", 31, False),
        ("london_organiser", 31, False),
        ("northwest_nem", 31, False),
        ("camden_lns", 31, True),
        ("camden_lns", 119, True),
        ("camden_lns", 121, False),
        ("camden_senco_lead", 121, False),
        ("no_role_user", 121, False),
    ],
)
def test_a_session_ends_after_a_time_without_use(
    request, client_for, persona, idle, still_signed_in
):
    client = client_for(request.getfixturevalue(persona))
    rewind(client, idle=idle)
    response = client.get(PAGE)
    assert signed_in(client) == still_signed_in
    if not still_signed_in:
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN_URL}?next={PAGE}"


def test_the_login_page_says_why_after_an_idle_sign_out(client_for, national_officer):
    client = client_for(national_officer)
    rewind(client, idle=45)
    page = client.get(PAGE, follow=True)
    assert page.request["PATH_INFO"] == LOGIN_URL
    assert "You have been signed out because you had not used the tracker for 30 minutes" in text(
        page
    )


def test_using_the_app_keeps_a_session_going(client_for, national_officer):
    client = client_for(national_officer)
    rewind(client, idle=20, since_sign_in=40)
    client.get(PAGE)
    # 20 minutes later: 40 since the last request would have ended it, but
    # the request above was recorded.
    session = client.session
    session[sessions.LAST_SEEN_AT] -= 20 * 60
    session[sessions.SIGNED_IN_AT] -= 20 * 60
    session.save()
    client.get(PAGE)
    assert signed_in(client)


def test_a_session_ends_twelve_hours_after_signing_in_however_busy(client_for, camden_lns):
    client = client_for(camden_lns)
    rewind(client, idle=1, since_sign_in=12 * 60 + 1)
    page = client.get(PAGE, follow=True)
    assert not signed_in(client)
    assert "You have been signed out because you signed in 12 hours ago" in text(page)


def test_eleven_hours_after_signing_in_a_busy_session_goes_on(client_for, camden_lns):
    client = client_for(camden_lns)
    rewind(client, idle=1, since_sign_in=11 * 60)
    assert client.get(PAGE).status_code == 200
    assert signed_in(client)


def test_signing_in_again_starts_the_clock_again(client, camden_lns):
    sign_in(client, camden_lns)
    rewind(client, idle=1, since_sign_in=12 * 60 + 1)
    client.get(PAGE)
    assert not signed_in(client)
    sign_in(client, camden_lns)
    assert client.get(PAGE).status_code == 200


def test_a_timed_out_post_is_not_replayed_after_signing_in(client_for, camden_lns):
    client = client_for(camden_lns)
    rewind(client, idle=3 * 60)
    response = client.post(reverse("account_change_password"), {})
    assert response["Location"] == f"{LOGIN_URL}?next=/"


def test_the_last_request_is_recorded_at_most_once_a_minute(client_for, camden_lns):
    client = client_for(camden_lns)
    client.get(PAGE)
    recorded = client.session[sessions.LAST_SEEN_AT]
    client.get(PAGE)
    assert client.session[sessions.LAST_SEEN_AT] == recorded
    rewind(client, idle=2)
    client.get(PAGE)
    assert client.session[sessions.LAST_SEEN_AT] > time.time() - 60


# Signing out everywhere when the password changes.


def sign_in(client, person, password=PASSWORD):
    response = client.post(LOGIN_URL, {"login": person.email, "password": password})
    assert response.status_code == 302, text(response)
    return client


def test_changing_the_password_ends_every_other_session(camden_lns):
    laptop = sign_in(Client(HTTP_USER_AGENT=FIREFOX), camden_lns)
    phone = sign_in(Client(HTTP_USER_AGENT=SAFARI), camden_lns)
    response = laptop.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-secret-9",
            "password2": "another-long-secret-9",
        },
    )
    assert response.status_code == 302
    assert laptop.get(PAGE).status_code == 200  # the one that changed it
    response = phone.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert not signed_in(phone)
    # And the sessions page lists only the laptop.
    assert [s.user_agent for s in laptop.get(SESSIONS_URL).context["sessions"]] == [FIREFOX]


def test_resetting_the_password_ends_every_session(client, camden_lns):
    phone = sign_in(Client(HTTP_USER_AGENT=SAFARI), camden_lns)
    client.post(reverse("account_reset_password"), {"email": camden_lns.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    form_url = client.get(link.group(1))["Location"]
    client.post(
        form_url, {"password1": "a-new-long-password-7", "password2": "a-new-long-password-7"}
    )
    assert phone.get(PAGE).status_code == 302
    assert not signed_in(phone)


@pytest.mark.parametrize("change", ["authenticator_added", "authenticator_removed"])
def test_a_second_step_added_or_removed_ends_every_other_session(camden_lns, change):
    laptop = sign_in(Client(HTTP_USER_AGENT=FIREFOX), camden_lns)
    phone = sign_in(Client(HTTP_USER_AGENT=SAFARI), camden_lns)
    # What allauth.mfa sends once the change is saved, from the laptop.
    request = RequestFactory().get("/")
    request.session = laptop.session
    getattr(mfa_signals, change).send(
        sender=Authenticator, request=request, user=camden_lns, authenticator=None
    )
    assert laptop.get(PAGE).status_code == 200
    assert phone.get(PAGE).status_code == 302
    assert not signed_in(phone)


# The sessions page.


def test_the_page_lists_each_session_and_marks_this_one(camden_lns):
    laptop = sign_in(Client(HTTP_USER_AGENT=FIREFOX), camden_lns)
    sign_in(Client(HTTP_USER_AGENT=SAFARI), camden_lns)
    page = laptop.get(SESSIONS_URL)
    assert page.status_code == 200
    words = text(page)
    assert "2 sessions" in words
    assert "Firefox on Windows This browser" in words
    assert "Safari on iPhone" in words
    assert words.count("Sign out Firefox") == 0  # no button for this one
    assert "Sign out Safari on iPhone" in words


def test_a_person_ends_one_other_session(camden_lns):
    laptop = sign_in(Client(HTTP_USER_AGENT=FIREFOX), camden_lns)
    phone = sign_in(Client(HTTP_USER_AGENT=SAFARI), camden_lns)
    tablet = sign_in(Client(HTTP_USER_AGENT=SAFARI.replace("iPhone", "iPad")), camden_lns)
    ended = UserSession.objects.get(session_key=phone.session.session_key)
    response = laptop.post(SESSIONS_URL, {"session": ended.pk}, follow=True)
    assert "Signed out of Safari on iPhone" in text(response)
    assert not signed_in(phone)
    assert phone.get(PAGE).status_code == 302
    assert tablet.get(PAGE).status_code == 200
    assert laptop.get(PAGE).status_code == 200
    assert not UserSession.objects.filter(pk=ended.pk).exists()


def test_all_other_sessions_at_once(camden_lns):
    laptop = sign_in(Client(HTTP_USER_AGENT=FIREFOX), camden_lns)
    phone = sign_in(Client(HTTP_USER_AGENT=SAFARI), camden_lns)
    laptop.post(SESSIONS_URL)
    assert phone.get(PAGE).status_code == 302
    assert laptop.get(PAGE).status_code == 200


def test_nobody_ends_another_persons_session(camden_lns, kent_lns):
    kent = sign_in(Client(), kent_lns)
    camden = sign_in(Client(), camden_lns)
    theirs = UserSession.objects.get(session_key=kent.session.session_key)
    assert camden.post(SESSIONS_URL, {"session": theirs.pk}).status_code == 404
    assert camden.post(SESSIONS_URL, {"session": "not-a-number"}).status_code == 404
    assert kent.get(PAGE).status_code == 200


def test_this_session_is_ended_by_signing_out_not_here(camden_lns):
    laptop = sign_in(Client(), camden_lns)
    mine = UserSession.objects.get(session_key=laptop.session.session_key)
    assert laptop.post(SESSIONS_URL, {"session": mine.pk}).status_code == 404
    assert signed_in(laptop)


def test_a_session_over_by_time_is_not_listed_and_is_ended(camden_lns):
    laptop = sign_in(Client(HTTP_USER_AGENT=FIREFOX), camden_lns)
    phone = sign_in(Client(HTTP_USER_AGENT=SAFARI), camden_lns)
    rewind(phone, idle=3 * 60)
    key = phone.session.session_key
    assert [s.user_agent for s in laptop.get(SESSIONS_URL).context["sessions"]] == [FIREFOX]
    assert not UserSession.objects.filter(session_key=key).exists()
    assert not signed_in(phone)


def test_the_menu_links_to_the_sessions_page(camden_lns_client):
    assert f'href="{SESSIONS_URL}"' in camden_lns_client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("user_agent", "described"),
    [
        (FIREFOX, "Firefox on Windows"),
        (SAFARI, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("", "An unknown browser"),
    ],
)
def test_browsers_are_named_as_people_know_them(user_agent, described):
    assert sessions.describe_browser(user_agent) == described
