"""Signing in and out, lockout, password reset, no self sign-up, and the
login address changing only in the admin."""

import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authorities.access import Role
from authorities.backends import AuthenticationBackend
from authorities.models import User

from .factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN_URL = reverse("account_login")


@pytest.fixture(autouse=True)
def clear_rate_limits():
    """allauth counts failures in the cache; start each test with none."""
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email, password):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def test_sign_in_with_email_and_land_on_home(client, camden_lns):
    response = sign_in(client, "Camden.LNS@example.org", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == camden_lns


def test_wrong_password_is_an_error_on_the_form_and_keeps_the_email(client, camden_lns):
    response = sign_in(client, camden_lns.email, "not-the-password")
    content = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in content
    assert "not correct" in content
    assert f'value="{camden_lns.email}"' in content


def test_lockout_after_five_failures_even_with_the_right_password(client, camden_lns):
    for _ in range(5):
        sign_in(client, camden_lns.email, "guess")
    response = sign_in(client, camden_lns.email, PASSWORD)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account(client, camden_lns, kent_lns):
    for _ in range(5):
        sign_in(client, camden_lns.email, "guess")
    assert sign_in(client, kent_lns.email, PASSWORD).status_code == 302


def test_inactive_person_cannot_sign_in(client, camden_lns):
    camden_lns.is_active = False
    camden_lns.save()
    response = sign_in(client, camden_lns.email, PASSWORD)
    assert "_auth_user_id" not in client.session
    assert response["Location"] == reverse("account_inactive")
    assert "Your account is not active" in client.get(response["Location"]).content.decode()


def test_signed_in_person_made_inactive_loses_access(client_for, camden_lns):
    client = client_for(camden_lns)
    camden_lns.is_active = False
    camden_lns.save()
    response = client.get(reverse("dashboards:authority", args=["camden"]))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_no_self_sign_up(client, reference_data):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "someone@example.org",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
        },
    )
    assert "You cannot create your own account" in response.content.decode()
    assert not User.objects.filter(email="someone@example.org").exists()


def test_sign_out_needs_a_post(client_for, camden_lns):
    client = client_for(camden_lns)
    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client, camden_lns):
    response = client.post(reverse("account_reset_password"), {"email": camden_lns.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form_url = client.get(link.group(1))["Location"]
    response = client.post(
        form_url, {"password1": "a-new-long-password-7", "password2": "a-new-long-password-7"}
    )
    assert response.status_code == 302
    camden_lns.refresh_from_db()
    assert camden_lns.check_password("a-new-long-password-7")


def test_password_reset_for_unknown_address_does_not_say_so(client, reference_data):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302  # same answer as for a real address
    assert "nobody@example.org" in mail.outbox[0].to  # allauth says "no account" privately


def test_change_password(client_for, camden_lns):
    client = client_for(camden_lns)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-secret-9",
            "password2": "another-long-secret-9",
        },
    )
    assert response.status_code == 302
    camden_lns.refresh_from_db()
    assert camden_lns.check_password("another-long-secret-9")


def test_change_password_mismatch_is_shown_on_the_form(client_for, camden_lns):
    response = client_for(camden_lns).post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-secret-9",
            "password2": "different-9",
        },
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert 'href="#id_password2"' in response.content.decode()


def test_a_person_added_without_a_password_sets_one_by_reset(client, camden):
    from .factories import make_user

    newcomer = make_user("newcomer@example.org", password=None)
    assert not newcomer.has_usable_password()
    client.post(reverse("account_reset_password"), {"email": newcomer.email})
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_many_failures_from_one_ip_address_lock_it_out(client, camden_lns):
    for n in range(20):
        sign_in(client, f"guess{n}@example.org", "guess")
    response = sign_in(client, camden_lns.email, PASSWORD)
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_flood_of_attempts_from_one_ip_address_gets_a_clear_page(client, reference_data):
    for n in range(30):
        sign_in(client, f"guess{n}@example.org", "guess")
    response = sign_in(client, "one.more@example.org", "guess")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


# The login address (User.email) changes only in the admin. A person whose
# password is stolen must not be moved to the thief's address: not by the
# e-mail page, not by an address added there before it closed, not by a
# confirmation link for one.
EMAIL_PAGE = reverse("account_email")
THIEF = "thief@example.org"


def signs_in(email, password=PASSWORD):
    """Who a fresh browser is signed in as after the login form, or None."""
    client = Client()
    sign_in(client, email, password)
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def reset_links_sent_to(email):
    return [
        message
        for message in mail.outbox
        if email in message.to and "/accounts/password/reset/key/" in message.body
    ]


def added_before_the_page_closed(person, email=THIEF, *, verified=False):
    """An address someone added on the old e-mail page (the thief, say)."""
    return EmailAddress.objects.create(user=person, email=email, verified=verified)


def test_the_email_page_says_who_changes_an_address(client_for, camden_lns):
    response = client_for(camden_lns).get(EMAIL_PAGE)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Ask a national officer to change your e-mail address" in content
    assert camden_lns.email in content
    assert "action_add" not in content
    assert 'name="email"' not in content


def test_a_stolen_password_cannot_move_the_account_to_another_address(client_for, camden_lns):
    thief = client_for(camden_lns)
    thief.post(EMAIL_PAGE, {"email": THIEF, "action_add": ""})
    thief.post(EMAIL_PAGE, {"email": THIEF, "action_primary": ""})
    camden_lns.refresh_from_db()
    assert camden_lns.email == "camden.lns@example.org"
    assert not EmailAddress.objects.filter(email=THIEF).exists()
    assert signs_in(THIEF) is None
    assert signs_in("camden.lns@example.org") == camden_lns


@pytest.mark.parametrize(
    ("action", "email"),
    [
        ("action_add", "another@example.org"),
        ("action_primary", THIEF),
        ("action_send", THIEF),
        ("action_remove", "camden.lns@example.org"),
    ],
)
def test_the_email_page_refuses_every_change(client_for, camden_lns, action, email):
    EmailAddress.objects.create(user=camden_lns, email=camden_lns.email, primary=True)
    added_before_the_page_closed(camden_lns)
    before = list(EmailAddress.objects.values_list("email", "primary", "verified"))
    response = client_for(camden_lns).post(EMAIL_PAGE, {"email": email, action: ""})
    assert response.status_code == 405
    assert list(EmailAddress.objects.values_list("email", "primary", "verified")) == before
    camden_lns.refresh_from_db()
    assert camden_lns.email == "camden.lns@example.org"
    assert not mail.outbox


@pytest.mark.parametrize("verified", [False, True])
def test_an_address_added_before_the_page_closed_neither_signs_in_nor_resets(
    client, camden_lns, verified
):
    added_before_the_page_closed(camden_lns, verified=verified)
    response = sign_in(client, THIEF, PASSWORD)
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    client.post(reverse("account_reset_password"), {"email": THIEF})
    assert not reset_links_sent_to(THIEF)
    assert signs_in("camden.lns@example.org") == camden_lns


def test_the_right_password_on_such_an_address_counts_towards_the_lockout(client, camden_lns):
    added_before_the_page_closed(camden_lns)
    for _ in range(5):
        sign_in(client, THIEF, PASSWORD)
    response = sign_in(client, THIEF, PASSWORD)
    assert "Too many failed login attempts" in response.content.decode()


def test_a_confirmation_link_for_such_an_address_does_not_change_the_login(client, camden_lns):
    key = EmailConfirmationHMAC(added_before_the_page_closed(camden_lns)).key
    response = client.post(reverse("account_confirm_email", args=[key]), follow=True)
    assert "Ask a national officer to change your e-mail address" in response.content.decode()
    camden_lns.refresh_from_db()
    assert camden_lns.email == "camden.lns@example.org"
    assert not EmailAddress.objects.get(email=THIEF).primary
    assert signs_in(THIEF) is None


def test_a_national_officer_changes_the_address_in_the_admin(
    client, national_officer_client, camden_lns
):
    # The person set their password by reset, as everyone does, which left
    # allauth a record of the old address.
    client.post(reverse("account_reset_password"), {"email": "camden.lns@example.org"})
    assert EmailAddress.objects.filter(email="camden.lns@example.org").exists()
    mail.outbox.clear()

    joined = timezone.localtime(camden_lns.date_joined)
    membership = camden_lns.memberships.get()
    response = national_officer_client.post(
        reverse("admin:authorities_user_change", args=[camden_lns.pk]),
        {
            "email": "Carys.Evans@camden.example.org",
            "first_name": "Carys",
            "last_name": "Evans",
            "is_active": "on",
            "date_joined_0": f"{joined:%Y-%m-%d}",
            "date_joined_1": f"{joined:%H:%M:%S}",
            "base_version": camden_lns.version,
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": membership.pk,
            "memberships-0-user": camden_lns.pk,
            "memberships-0-role": membership.role,
            "memberships-0-authority": membership.authority_id,
            "memberships-0-base_version": membership.version,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    camden_lns.refresh_from_db()
    assert camden_lns.email == "carys.evans@camden.example.org"

    assert signs_in("carys.evans@camden.example.org") == camden_lns
    assert signs_in("camden.lns@example.org") is None
    client.post(reverse("account_reset_password"), {"email": "camden.lns@example.org"})
    assert not reset_links_sent_to("camden.lns@example.org")
    client.post(reverse("account_reset_password"), {"email": "carys.evans@camden.example.org"})
    assert reset_links_sent_to("carys.evans@camden.example.org")


class TestLoadingThePersonOnEachRequest:
    """authorities/backends.py: the signed-in person with their wide roles."""

    backend = AuthenticationBackend()

    def test_in_one_query_with_their_wide_roles(
        self, london_organiser, national_officer, django_assert_num_queries
    ):
        with django_assert_num_queries(2):
            organiser = self.backend.get_user(london_organiser.pk)
            officer = self.backend.get_user(str(national_officer.pk))  # as the session keeps it
        with django_assert_num_queries(0):
            assert organiser.wide_roles == {Role.REGIONAL_ORGANISER}
            assert officer.has_national_scope
        assert (organiser, officer) == (london_organiser, national_officer)

    def test_no_one_for_an_id_that_is_not_one(self, camden_lns):
        assert self.backend.get_user("1; drop table") is None
        assert self.backend.get_user(camden_lns.pk + 1000) is None

    def test_no_one_once_made_inactive(self, camden_lns):
        camden_lns.is_active = False
        camden_lns.save()
        assert self.backend.get_user(camden_lns.pk) is None
