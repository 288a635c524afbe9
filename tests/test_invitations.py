"""Invitations: a national officer invites a person from the admin; the
person sets a first password by a one-time link and is signed in."""

import re
import smtplib
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.core import mail
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse

from authorities import invitations
from authorities import mail as mail_module
from authorities.access import Role
from authorities.models import AuditEvent, User

from .factories import make_user

pytestmark = pytest.mark.django_db
ADD = reverse("admin:authorities_user_add")
PEOPLE = reverse("admin:authorities_user_changelist")
NEW_PASSWORD = "a-first-long-password-4"
REFUSED = "This invitation link has expired or has been used."


@pytest.fixture(autouse=True)
def clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Call, then run what waited for the call's transaction to commit (the
    e-mail, the admin's message), as a real request does before answering."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def add_person(client, email="new.rep@example.org", *, invite=True, authority=None):
    data = {
        "email": email,
        "first_name": "Nia",
        "last_name": "Rees",
        "memberships-TOTAL_FORMS": "1" if authority else "0",
        "memberships-INITIAL_FORMS": "0",
    }
    if authority:
        data |= {"memberships-0-role": Role.LNS, "memberships-0-authority": authority.pk}
    if invite:
        data["send_invitation"] = "on"
    return client.post(ADD, data)


def link_in(message):
    found = re.search(r"https://tracker\.example\.org(/accounts/invitation/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def invite(commit, person, by):
    with_mail = len(mail.outbox)
    commit(invitations.send_invitation, person=person, invited_by=by)
    assert len(mail.outbox) == with_mail + 1
    return link_in(mail.outbox[-1])


def choose(client, link, password=NEW_PASSWORD, again=None):
    return client.post(
        link, {"new_password1": password, "new_password2": password if again is None else again}
    )


# In the admin ----------------------------------------------------------------------


def test_the_add_form_offers_an_invitation_ticked_and_no_password(national_officer_client):
    page = national_officer_client.get(ADD).content.decode()
    checkbox = re.search(r'<input[^>]*name="send_invitation"[^>]*>', page).group(0)
    assert "checked" in checkbox
    assert "Send an invitation now" in page
    assert 'name="password1"' not in page


def test_adding_a_person_sends_their_invitation(
    national_officer_client, national_officer, camden, commit
):
    response = commit(add_person, national_officer_client, authority=camden)
    assert response.status_code == 302
    person = User.objects.get(email="new.rep@example.org")
    assert not person.has_usable_password()
    assert person.memberships.get().authority == camden
    [message] = mail.outbox
    assert message.to == ["new.rep@example.org"]
    inviter = national_officer.display_name
    assert message.subject == f"{inviter} has invited you to the SEND recovery plan tracker"
    assert f"{inviter} has invited you" in message.body
    assert "Hello Nia," in message.body
    assert "7 days" in message.body
    link_in(message)
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Invitation to new.rep@example.org queued" in m for m in shown), shown
    recorded = AuditEvent.objects.get(kind=AuditEvent.Kind.INVITATION)
    assert (recorded.actor, recorded.subject) == (national_officer, person)


def test_a_person_added_without_an_invitation_is_told_nothing(national_officer_client, commit):
    assert commit(add_person, national_officer_client, invite=False).status_code == 302
    person = User.objects.get(email="new.rep@example.org")
    assert not person.has_usable_password()
    assert mail.outbox == []


def test_an_address_differing_only_in_case_is_refused(national_officer_client, camden_lns):
    response = add_person(national_officer_client, email=camden_lns.email.upper())
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_a_mail_server_failure_keeps_the_person_and_tries_again(
    national_officer_client, monkeypatch, commit, caplog
):
    """The worker sends the invitation (authorities/mail.py): a refusal is
    tried again, then logged, never shown to the inviter as a server error."""
    tries = []

    def refuse(self, *args, **kwargs):
        tries.append(self.to)
        raise smtplib.SMTPException("no")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    response = commit(add_person, national_officer_client)
    assert response.status_code == 302
    assert User.objects.filter(email="new.rep@example.org").exists()
    assert tries == [["new.rep@example.org"]] * mail_module.ATTEMPTS
    assert "Gave up sending an invitation to person" in caplog.text
    assert "new.rep@example.org" not in caplog.text  # never an address in the log


def test_the_action_invites_only_people_who_never_signed_in(
    national_officer_client, camden_lns, commit
):
    new = make_user("never.signed.in@example.org")
    gone = make_user("gone@example.org", is_active=False)
    User.objects.filter(pk=camden_lns.pk).update(last_login="2026-01-05T10:00Z")
    response = commit(
        national_officer_client.post,
        PEOPLE,
        {"action": "send_invitations", "_selected_action": [new.pk, gone.pk, camden_lns.pk]},
    )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[new.email]]
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "gone@example.org is not active" in shown
    assert f"{camden_lns.email} has signed in before" in shown
    new.refresh_from_db()
    assert not new.has_usable_password()  # a password nobody was told of no longer works


# The link ----------------------------------------------------------------------------


def test_the_link_sets_a_password_and_signs_in(client, national_officer, camden_lns, commit):
    camden_lns.set_unusable_password()
    camden_lns.save()
    link = invite(commit, camden_lns, national_officer)
    page = client.get(link)
    assert page.status_code == 200
    assert f"{national_officer.display_name} has invited you" in page.content.decode()
    response = choose(client, link)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(camden_lns.pk)
    camden_lns.refresh_from_db()
    assert camden_lns.check_password(NEW_PASSWORD)
    assert camden_lns.last_login is not None
    home = client.get(response["Location"], follow=True)
    assert "Your password is set" in home.content.decode()


def test_the_link_works_once(client, national_officer, camden_lns, commit):
    link = invite(commit, camden_lns, national_officer)
    choose(client, link)
    client.post(reverse("account_logout"))
    again = client.get(link)
    assert again.status_code == 200
    page = again.content.decode()
    assert REFUSED in page
    assert f"Ask {national_officer.display_name} or a national officer" in page
    assert 'name="new_password1"' not in page
    choose(client, link, password="someone-elses-password-8")
    camden_lns.refresh_from_db()
    assert camden_lns.check_password(NEW_PASSWORD)
    assert "_auth_user_id" not in client.session


def test_passwords_are_checked_by_the_validators(client, national_officer, camden_lns, commit):
    link = invite(commit, camden_lns, national_officer)
    mismatch = choose(client, link, again="something-else-entirely-5").content.decode()
    assert "There is a problem" in mismatch
    weak = choose(client, link, password="password").content.decode()
    assert "This password is too common" in weak
    camden_lns.refresh_from_db()
    assert not camden_lns.check_password("password")
    assert choose(client, link).status_code == 302  # the link still works after a mistake


def test_the_link_expires_after_invitation_days(
    client, settings, monkeypatch, national_officer, camden_lns, commit
):
    settings.INVITATION_DAYS = 7
    settings.PASSWORD_RESET_TIMEOUT = 60  # an invitation's lifetime is its own
    link = invite(commit, camden_lns, national_officer)
    now = datetime.now()
    monkeypatch.setattr(
        invitations.InvitationTokenGenerator, "_now", lambda self: now + timedelta(days=6)
    )
    assert 'name="new_password1"' in client.get(link).content.decode()
    monkeypatch.setattr(
        invitations.InvitationTokenGenerator, "_now", lambda self: now + timedelta(days=7, hours=1)
    )
    assert REFUSED in client.get(link).content.decode()


def test_a_new_invitation_replaces_the_last(client, national_officer, camden_lns, commit):
    first = invite(commit, camden_lns, national_officer)
    second = invite(commit, camden_lns, national_officer)
    assert REFUSED in client.get(first).content.decode()
    assert choose(client, second).status_code == 302


@pytest.mark.parametrize("broken", ["who", "token", "other_person"])
def test_a_link_not_made_for_this_person_is_refused_naming_nobody(
    client, national_officer, camden_lns, kent_lns, broken, commit
):
    link = invite(commit, camden_lns, national_officer)
    _, _, _, who, token, _ = link.split("/")
    if broken == "who":
        who = who[:-2] + "xx"
    elif broken == "token":
        token = default_token_generator.make_token(camden_lns)  # a reset token is no invitation
    else:
        who = invitation_who(kent_lns, national_officer)
    page = client.get(reverse("accept_invitation", args=[who, token])).content.decode()
    assert REFUSED in page
    if broken == "who":
        assert national_officer.display_name not in page
        assert "Ask a national officer" in page


def invitation_who(person, by):
    return invitations.invitation_url(person, by).split("/")[-3]


def test_an_inactive_persons_link_is_refused(client, national_officer, camden_lns, commit):
    link = invite(commit, camden_lns, national_officer)
    camden_lns.is_active = False
    camden_lns.save()
    assert REFUSED in client.get(link).content.decode()
    assert choose(client, link).status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_person_who_must_use_two_steps_is_asked_for_them(client, reference_data, commit):
    """The link signs in through allauth, so a second step applies as to
    any sign-in: an officer with an authenticator app is asked for its code."""
    officer = make_user(roles=[(Role.NATIONAL_OFFICER, None)], is_staff=True)
    inviter = make_user(roles=[(Role.NATIONAL_OFFICER, None)])
    response = choose(client, invite(commit, officer, inviter))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session


@pytest.mark.usefixtures("database_page_cache")
def test_the_link_page_has_its_own_rate_limit(national_officer, camden_lns, commit):
    """Anyone may open the page, so opening it counts as posting it does
    (ACCOUNT_RATE_LIMITS["accept_invitation"]): past the limit from one
    address even a good link gets the 429 page, however many pages are
    cached meanwhile, while a person at another address goes on as usual."""
    link = invite(commit, camden_lns, national_officer)
    _, _, _, who, _, _ = link.split("/")
    guesser = Client(REMOTE_ADDR="203.0.113.5")
    limit = int(settings.ACCOUNT_RATE_LIMITS["accept_invitation"].split("/")[0])
    for n in range(limit):
        guess = reverse("accept_invitation", args=[who, f"cgk7w0-{n:032x}"])
        assert REFUSED in guesser.get(guess).content.decode()
    caches["pages"].set_many({f"authorities:search:{n}": "<p>A page</p>" for n in range(5000)})

    refused = guesser.get(link)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert choose(guesser, link).status_code == 429
    camden_lns.refresh_from_db()
    assert not camden_lns.has_usable_password()

    invited_person = Client(REMOTE_ADDR="198.51.100.7")
    assert invited_person.get(link).status_code == 200
    assert choose(invited_person, link).status_code == 302
    assert invited_person.session["_auth_user_id"] == str(camden_lns.pk)
