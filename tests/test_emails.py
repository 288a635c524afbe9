"""Every e-mail the app sends is in its own words, names it, and links to
SITE_URL (https://tracker.example.org in tests, pyproject.toml), never to
the host a request came in by ("testserver" here, an internal one behind a
proxy) nor to allauth's "Hello from <domain>"."""

import re
from io import StringIO

import pytest
from allauth.account.adapter import get_adapter
from allauth.core import context
from django.core import mail
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from authorities import invitations
from consultations.models import Action
from plans.models import Programme

from .factories import PASSWORD
from .test_feedback import ADD as FEEDBACK_ADD
from .test_feedback import form_data
from .test_plans import plan_data
from .test_project import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db
SITE = "https://tracker.example.org"
APP = "SEND recovery plan tracker"
NEVER = ("example.com", "127.0.0.1", "testserver", "localhost", "Hello from", "[")


def in_our_words(message, *, subject_names_the_app=True):
    """The message names the app, links only to SITE_URL, and says none of
    allauth's defaults. Returns its links."""
    text = f"{message.subject}\n{message.body}"
    assert APP in (message.subject if subject_names_the_app else message.body), text
    for wrong in NEVER:
        assert wrong not in text, f"{wrong!r} in:\n{text}"
    links = re.findall(r"https?://\S+", message.body)
    assert links, text
    assert all(link.startswith(f"{SITE}/") for link in links), links
    return links


def only_message():
    [message] = mail.outbox
    return message


def test_the_invitation(national_officer, camden_lns, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitations.send_invitation(person=camden_lns, invited_by=national_officer)
    message = only_message()
    links = in_our_words(message)
    assert f"{SITE}/accounts/invitation/" in links[0]
    assert national_officer.display_name in message.subject


def test_a_password_reset_link(client, camden_lns):
    client.post(reverse("account_reset_password"), {"email": camden_lns.email})
    message = only_message()
    assert message.subject == f"{APP}: Reset your password"
    links = in_our_words(message)
    assert links[0].startswith(f"{SITE}/accounts/password/reset/key/")
    assert message.body.startswith(f"Hello {camden_lns.first_name},\n")


def test_a_reset_for_an_address_with_no_account(client, reference_data):
    client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    message = only_message()
    assert message.subject == f"{APP}: No account for this address"
    in_our_words(message)
    assert "/accounts/signup/" not in message.body  # nobody signs themselves up
    assert "invite you" in message.body


def test_the_reset_and_its_notification(client, camden_lns):
    client.post(reverse("account_reset_password"), {"email": camden_lns.email})
    link = re.search(f"{SITE}(/accounts/password/reset/key/\\S+)", mail.outbox[0].body)
    form = client.get(link.group(1))["Location"]
    new = "a-new-long-password-7"
    client.post(form, {"password1": new, "password2": new}, REMOTE_ADDR="192.0.2.42")
    notice = mail.outbox[-1]
    assert notice.to == [camden_lns.email]
    assert notice.subject == f"{APP}: Your password was reset"
    in_our_words(notice)
    assert notice.body.startswith(f"Hello {camden_lns.first_name},\n")
    assert "IP address 192.0.2.42" in notice.body
    assert "tell a national officer" in notice.body


def test_a_password_change_is_told(client_for, camden_lns):
    new = "another-long-secret-9"
    client_for(camden_lns).post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
        REMOTE_ADDR="192.0.2.40",
    )
    message = only_message()
    assert message.to == [camden_lns.email]
    assert message.subject == f"{APP}: Your password was changed"
    in_our_words(message)
    assert "Your password was changed." in message.body
    assert "192.0.2.40" in message.body


@pytest.mark.parametrize(
    ("template", "extra"),
    [
        ("account/email/account_already_exists", {}),
        (
            "account/email/email_confirmation",
            {"activate_url": f"{SITE}/accounts/confirm-email/k/"},
        ),
        ("account/email/email_confirmation_signup", {"activate_url": f"{SITE}/accounts/c/k/"}),
        ("account/email/password_set", {}),
        ("account/email/email_changed", {"from_email": "a@example.org", "to_email": "b@x.org"}),
        ("account/email/email_deleted", {"deleted_email": "a@example.org"}),
    ],
)
def test_the_account_emails_not_sent_today_are_ours_too(camden_lns, template, extra):
    """Sign-up and changing one's own address are closed, but allauth could
    still send these if that changed: they are in the app's words already."""
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.41")
    request.user = camden_lns
    with context.request_context(request):
        adapter = get_adapter(request)
        if "email_changed" in template or "email_deleted" in template or "set" in template:
            adapter.send_notification_mail(template, camden_lns, extra)
        else:
            adapter.send_mail(template, camden_lns.email, {"user": camden_lns, **extra})
    in_our_words(only_message())


def test_a_plan_recorded_as_negotiating(
    camden_lns_client, camden, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        camden_lns_client.post(
            reverse("plans:add", args=["camden"]),
            plan_data(status="negotiating", programme=Programme.objects.get(code="sv").pk),
            HTTP_HOST="127.0.0.1",  # as behind a proxy that passes on its own host
        )
    links = in_our_words(only_message(), subject_names_the_app=False)
    assert re.fullmatch(f"{SITE}/plans/\\d+/", links[0])


def test_a_likely_unlawful_practice(
    client_for, camden_senco_lead, django_capture_on_commit_callbacks
):
    data = form_data(practices=["refusing"], refusing_example="All first requests refused.")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(camden_senco_lead).post(FEEDBACK_ADD, data)
    links = in_our_words(only_message(), subject_names_the_app=False)
    assert re.fullmatch(f"{SITE}/feedback/\\d+/", links[0])


def test_overdue_actions(camden_lns, camden, django_capture_on_commit_callbacks):
    Action.objects.create(
        authority=camden,
        title="Chase the minutes",
        owner=camden_lns,
        due_on=timezone.localdate() - timezone.timedelta(days=3),
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_action_reminders", stdout=StringIO())
    links = in_our_words(only_message())
    assert f"{SITE}/actions/" in links


# SITE_URL itself -------------------------------------------------------------------


def test_site_url_is_required_when_debug_is_off():
    result = manage("check", env={**PRODUCTION_ENV, "SITE_URL": ""})
    assert result.returncode != 0
    assert "Set SITE_URL" in result.stderr


def test_site_url_must_be_an_address_without_a_path():
    result = manage("check", env={**PRODUCTION_ENV, "SITE_URL": "tracker.example.org/app"})
    assert result.returncode != 0
    assert "SITE_URL must be http:// or https://" in result.stderr


def test_with_debug_on_it_defaults_to_the_local_server():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL)",
        env={**PRODUCTION_ENV, "DEBUG": "true", "SITE_URL": ""},
    )
    assert result.stdout.splitlines()[-1] == "http://127.0.0.1:8000", result.stderr
