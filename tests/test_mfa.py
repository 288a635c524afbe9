"""Two-step sign-in (authorities/mfa.py, allauth.mfa): required for national
officers, regional organisers, NEMs and staff, open to everyone else; asked
for at every sign-in once set up, the admin's included."""

import re
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from authorities.access import Role
from authorities.backends import AuthenticationBackend
from authorities.management.commands.create_demo_people import DEMO_TOTP_SECRET
from authorities.mfa import has_second_step
from authorities.models import User

from .factories import (
    CAMDEN,
    PASSWORD,
    TOTP_SECRET,
    authority,
    give_security_key,
    give_totp,
    make_user,
    region,
    totp_code,
)

pytestmark = pytest.mark.django_db
SET_UP = reverse("mfa_index")
HOME = reverse("home")


@pytest.fixture(autouse=True)
def clear_rate_limits_and_used_codes():
    """allauth counts failures, and remembers codes used, in the cache."""
    cache.clear()
    yield
    cache.clear()


def sign_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def signed_in(client):
    return "_auth_user_id" in client.session


def confirm_it_is_them(client):
    """allauth asks for the password again before a second step is added or
    removed, even just after signing in (a session left open is not enough)."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


# Who must: each wide role and staff, until they have a second step. Each
# value makes the person's fields when the test runs (regions are in the
# database only then).
MUST = {
    "national officer": lambda: dict(is_staff=True, roles=[(Role.NATIONAL_OFFICER, None)]),
    "regional organiser": lambda: dict(roles=[(Role.REGIONAL_ORGANISER, region("London"))]),
    "NEM": lambda: dict(roles=[(Role.NEM, region("North West"))]),
    "staff": lambda: dict(is_staff=True, roles=[(Role.LNS, authority(CAMDEN))]),
}
MAY = {
    "LNS": lambda: dict(roles=[(Role.LNS, authority(CAMDEN))]),
    "SENCO network lead": lambda: dict(roles=[(Role.SENCO_LEAD, authority(CAMDEN))]),
    "no role yet": lambda: dict(),
}


def without_mfa(people, who):
    return make_user(totp=False, **people[who]())


@pytest.mark.parametrize("who", MUST)
def test_those_who_must_are_sent_to_set_it_up(client_for, reference_data, who):
    client = client_for(without_mfa(MUST, who))
    for page in (HOME, reverse("dashboards:authority_list"), reverse("plans:list"), "/admin/"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == SET_UP
    response = client.post(reverse("consultations:action_add", args=["camden"]), {"title": "Any"})
    assert response["Location"] == SET_UP
    page = client.get(SET_UP).content.decode()
    assert "Set up two-step sign-in to continue" in page


@pytest.mark.parametrize("who", MAY)
def test_everyone_else_may_but_need_not(client_for, reference_data, who):
    client = client_for(without_mfa(MAY, who))
    assert client.get(HOME).status_code == 200
    page = client.get(SET_UP).content.decode()
    assert "Set up two-step sign-in to continue" not in page
    assert "Set up an authenticator app" in page
    assert f'href="{SET_UP}"' in client.get(HOME).content.decode()  # in the menu


def test_before_setting_it_up_only_setting_up_and_signing_out_open(client_for, reference_data):
    client = client_for(without_mfa(MUST, "national officer"))
    assert client.get(SET_UP).status_code == 200
    assert client.get(reverse("mfa_list_webauthn")).status_code == 200
    assert client.get(reverse("health")).status_code == 200
    assert client.get(reverse("accessibility")).status_code == 200
    assert client.get(reverse("account_change_password"))["Location"] == SET_UP
    client.post(reverse("account_logout"))
    assert not signed_in(client)


@pytest.mark.parametrize("who", MUST)
def test_after_setting_up_an_app_every_page_opens(client, reference_data, who):
    user = without_mfa(MUST, who)
    assert sign_in(client, user).status_code == 302
    assert client.get(HOME)["Location"] == SET_UP

    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    confirm_it_is_them(client)
    form = client.get(reverse("mfa_activate_totp"))
    assert form.status_code == 200
    secret = form.context["form"].secret
    assert secret in form.content.decode()  # to type into an app that cannot scan
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert "The code is not correct" in wrong.content.decode()
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response["Location"] == reverse("mfa_view_recovery_codes")

    codes = client.get(response["Location"]).content.decode()
    assert len(re.findall(r"<li><code>\d{8}</code></li>", codes)) == 10
    assert client.get(HOME).status_code == 200
    assert client.get(reverse("dashboards:authority_list")).status_code == 200


def test_with_a_second_step_sign_in_asks_for_the_code(client, national_officer):
    response = sign_in(client, national_officer)
    assert response["Location"] == reverse("mfa_authenticate")
    assert not signed_in(client)  # the password alone opens nothing
    assert client.get(HOME)["Location"].startswith(reverse("account_login"))

    page = client.get(reverse("mfa_authenticate")).content.decode()
    assert "Enter your code" in page
    wrong = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert "There is a problem" in wrong.content.decode()
    assert not signed_in(client)

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200


def test_secrets_are_stored_encrypted_and_survive_a_rotated_secret_key(
    client, settings, national_officer
):
    stored = Authenticator.objects.get(user=national_officer, type=Authenticator.Type.TOTP)
    assert TOTP_SECRET not in str(stored.data)  # a copy of the database hands over no code
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [stored.pk])
        assert TOTP_SECRET not in str(cursor.fetchone())
    # SECRET_KEY rotated the Django way, the old one kept as a fallback.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-only-0123456789"
    sign_in(client, national_officer)
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response["Location"] == HOME


def test_a_secret_stored_before_encryption_still_works(client, national_officer):
    Authenticator.objects.filter(user=national_officer, type=Authenticator.Type.TOTP).update(
        data={"secret": TOTP_SECRET}
    )
    sign_in(client, national_officer)
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response["Location"] == HOME


def test_a_code_is_accepted_once(client, national_officer):
    code = totp_code()
    sign_in(client, national_officer)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert signed_in(client)
    again = Client()
    sign_in(again, national_officer)
    again.post(reverse("mfa_authenticate"), {"code": code})
    assert not signed_in(again)


def test_a_recovery_code_stands_in_for_the_app(client, london_organiser):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    recovery = RecoveryCodes.activate(london_organiser).get_unused_codes()[0]
    sign_in(client, london_organiser)
    client.post(reverse("mfa_authenticate"), {"code": recovery})
    assert signed_in(client)


def test_the_admin_signs_in_through_the_app_and_asks_for_the_code(client, national_officer):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    client.post(
        reverse("account_login"),
        {"login": national_officer.email, "password": PASSWORD, "next": "/admin/"},
    )
    assert client.get("/admin/")["Location"].startswith("/admin/login/")  # not yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_lists_second_steps_without_their_secrets(national_officer_client, camden_lns):
    give_totp(camden_lns)
    page = national_officer_client.get(reverse("admin:mfa_authenticator_changelist"))
    assert page.status_code == 200
    key = Authenticator.objects.get(user=camden_lns)
    change = national_officer_client.get(reverse("admin:mfa_authenticator_change", args=[key.pk]))
    assert change.status_code == 200
    assert key.data["secret"] not in change.content.decode()
    national_officer_client.post(
        reverse("admin:mfa_authenticator_delete", args=[key.pk]), {"post": "yes"}
    )
    assert not Authenticator.objects.filter(user=camden_lns).exists()  # a lost phone


def signed_in_in_two_steps(user):
    client = Client()
    sign_in(client, user)
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert signed_in(client)
    confirm_it_is_them(client)
    return client


def test_those_who_must_cannot_remove_their_last_second_step(national_officer):
    client = signed_in_in_two_steps(national_officer)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200
    assert "You must keep a second step" in response.content.decode()
    assert has_second_step(national_officer)


def test_those_who_must_may_swap_one_second_step_for_another(national_officer):
    give_security_key(national_officer)
    client = signed_in_in_two_steps(national_officer)
    assert client.post(reverse("mfa_deactivate_totp"))["Location"] == SET_UP
    assert not Authenticator.objects.filter(user=national_officer, type="totp").exists()
    assert client.get(HOME).status_code == 200  # the key is a second step


def test_others_may_turn_it_off(camden_lns):
    give_totp(camden_lns)
    client = signed_in_in_two_steps(camden_lns)
    assert client.post(reverse("mfa_deactivate_totp"))["Location"] == SET_UP
    assert not has_second_step(camden_lns)
    assert client.get(HOME).status_code == 200


def test_a_security_key_is_its_owners_alone(camden_lns, kent_lns):
    give_totp(camden_lns)
    kents = give_security_key(kent_lns)
    client = signed_in_in_two_steps(camden_lns)
    for name in ("mfa_edit_webauthn", "mfa_remove_webauthn"):
        assert client.get(reverse(name, kwargs={"pk": kents.pk})).status_code == 404
        assert (
            client.post(reverse(name, kwargs={"pk": kents.pk}), {"name": "Mine"}).status_code
            == 404
        )
    assert Authenticator.objects.filter(pk=kents.pk).exists()
    mine = give_security_key(camden_lns)
    listed = client.get(reverse("mfa_list_webauthn")).content.decode()
    assert "Blue key" in listed
    assert f"/keys/{kents.pk}/" not in listed
    assert client.get(reverse("mfa_edit_webauthn", kwargs={"pk": mine.pk})).status_code == 200


def test_whether_the_person_has_a_second_step_comes_with_them(
    national_officer, django_assert_num_queries
):
    """The middleware asks on every page; the login backend loads the answer
    with the person, so asking costs no query."""
    with django_assert_num_queries(1):
        officer = AuthenticationBackend().get_user(national_officer.pk)
    with django_assert_num_queries(0):
        assert officer.requires_mfa
        assert has_second_step(officer)


def test_a_page_costs_those_who_must_no_more_queries(client_for, national_officer, camden_lns):
    """The same page for someone who must (and has) and someone who need
    not: the same number of queries."""
    counts = []
    for user in (national_officer, camden_lns):
        client = client_for(user)
        client.get(reverse("accessibility"))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("accessibility"))
        counts.append(len(queries))
    assert counts[0] == counts[1]


# Demo people (README.md): the ones who must have an app with a known secret,
# made only with DEBUG on; `manage.py demo_code` prints its code.
def test_demo_people_who_must_have_the_demo_app(settings, reference_data):
    settings.DEBUG = True
    call_command("create_demo_people", stdout=StringIO())
    for email in ("national.officer@", "london.organiser@", "northwest.nem@"):
        user = User.objects.get(email=f"{email}example.org")
        key = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert key.wrap().validate_code(totp_code(DEMO_TOTP_SECRET))
    assert not Authenticator.objects.filter(user__email="camden.lns@example.org").exists()

    call_command("create_demo_people", stdout=StringIO())  # again: nothing more
    assert Authenticator.objects.count() == 3

    shown = totp_code(DEMO_TOTP_SECRET)  # waits, if need be, for a fresh code
    printed = StringIO()
    call_command("demo_code", stdout=printed)
    assert printed.getvalue().strip() == shown


def test_no_demo_secret_and_no_demo_code_with_debug_off(settings, reference_data):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("create_demo_people", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("demo_code", stdout=StringIO())
    assert not Authenticator.objects.exists()


def test_every_page_of_it_opens(national_officer):
    """Each of allauth.mfa's pages in the app's own templates (templates/mfa/)."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    RecoveryCodes.activate(national_officer)
    key = give_security_key(national_officer)
    client = signed_in_in_two_steps(national_officer)
    pages = {
        SET_UP: "Two-step sign-in",
        reverse("mfa_deactivate_totp"): "Remove the authenticator app",
        reverse("mfa_view_recovery_codes"): "Your recovery codes",
        reverse("mfa_generate_recovery_codes"): "Make new recovery codes",
        reverse("mfa_list_webauthn"): "Your security keys",
        reverse("mfa_add_webauthn"): "Add a security key",
        reverse("mfa_edit_webauthn", kwargs={"pk": key.pk}): "Rename a security key",
        reverse("mfa_remove_webauthn", kwargs={"pk": key.pk}): "Remove Blue key",
        reverse("mfa_reauthenticate"): "Confirm it is you",
        reverse("mfa_reauthenticate_webauthn"): "Confirm it is you",
    }
    for url, heading in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<h1 class="govuk-heading-l">{heading}</h1>' in response.content.decode(), url
    download = client.get(reverse("mfa_download_recovery_codes"))
    assert download.status_code == 200
    assert len(download.content.decode().split()) == 10
