"""The audit trail: what is recorded (who, when, from which address), what
is read from the records that already keep it, and the page national
officers read it on."""

import pytest
from allauth.account.signals import password_reset
from django.apps import apps
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.urls import reverse

from authorities import audit
from authorities.access import Role
from authorities.models import AuditEvent, AuthorityFinance, LocalAuthority, Membership
from plans.models import FundingInstalment

from .factories import CAMDEN, PASSWORD, make_plan, make_user, region, totp_code
from .test_feedback import submission

pytestmark = pytest.mark.django_db
AUDIT = reverse("authorities:audit")
LOGIN = reverse("account_login")
Kind = AuditEvent.Kind


@pytest.fixture(autouse=True)
def clear_rate_limits():
    """allauth counts sign-in failures in the cache; start each test with none."""
    for cache in caches.all():
        cache.clear()


def events(kind):
    return list(AuditEvent.objects.filter(kind=kind))


def rows_of(response):
    return response.context["entries"]


# What is recorded ---------------------------------------------------------------


def test_signing_in_is_recorded_with_the_address(client, camden_lns):
    client.post(
        LOGIN, {"login": camden_lns.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    [event] = events(Kind.SIGN_IN)
    assert (event.actor, event.actor_email, event.ip_address) == (
        camden_lns,
        "camden.lns@example.org",
        "203.0.113.7",
    )


def test_a_failed_sign_in_keeps_the_address_tried_never_the_password(client, camden_lns):
    client.post(
        LOGIN,
        {"login": "Camden.LNS@example.org", "password": "hunter2-secret"},
        REMOTE_ADDR="198.51.100.4",
    )
    [event] = events(Kind.SIGN_IN_FAILED)
    assert event.actor_email.lower() == "camden.lns@example.org"
    assert event.ip_address == "198.51.100.4"
    assert not events(Kind.SIGN_IN)
    stored = [str(getattr(event, f.attname)) for f in AuditEvent._meta.concrete_fields]
    assert not any("hunter2" in value for value in stored)


def test_forwarded_for_is_ignored_unless_a_trusted_proxy_is_configured(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert audit.client_ip(request) == "10.0.0.2"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # The entry our proxy added, not the one the client wrote in front of it.
    assert audit.client_ip(request) == "203.0.113.9"
    request.META["HTTP_X_FORWARDED_FOR"] = "not an address"
    assert audit.client_ip(request) is None


def test_changing_a_password_is_recorded(client_for, camden_lns):
    client_for(camden_lns).post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-secret-9",
            "password2": "another-long-secret-9",
        },
        REMOTE_ADDR="192.0.2.10",
    )
    [event] = events(Kind.PASSWORD_CHANGED)
    assert (event.actor, event.subject, event.ip_address) == (
        camden_lns,
        camden_lns,
        "192.0.2.10",
    )


def test_resetting_a_password_is_recorded(camden_lns):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.11")
    password_reset.send(sender=type(camden_lns), request=request, user=camden_lns)
    [event] = events(Kind.PASSWORD_RESET)
    assert (event.actor, event.ip_address) == (camden_lns, "192.0.2.11")


@pytest.mark.skipif(not apps.is_installed("allauth.mfa"), reason="allauth.mfa not installed")
@pytest.mark.parametrize(
    ("signal", "kind"),
    [
        ("authenticator_added", Kind.MFA_ADDED),
        ("authenticator_removed", Kind.MFA_REMOVED),
        ("authenticator_reset", Kind.MFA_RESET),
    ],
)
def test_two_factor_changes_are_recorded(camden_lns, signal, kind):
    from allauth.mfa import signals
    from allauth.mfa.models import Authenticator

    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.12")
    authenticator = Authenticator(user=camden_lns, type=Authenticator.Type.TOTP)
    getattr(signals, signal).send(
        sender=Authenticator, request=request, user=camden_lns, authenticator=authenticator
    )
    [event] = events(kind)
    assert (event.actor, event.ip_address) == (camden_lns, "192.0.2.12")
    assert event.detail == authenticator.get_type_display()


def test_removing_someones_second_step_in_the_admin_is_recorded(
    client_for, national_officer, london_organiser
):
    """A national officer removes a lost phone in the admin: recorded as a
    removal on the person's own pages is, but naming who removed whose; the
    recovery codes go with the last second step, and the person's sessions
    end, as they would there."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.usersessions.models import UserSession

    RecoveryCodes.activate(london_organiser)
    phone = Authenticator.objects.get(user=london_organiser, type=Authenticator.Type.TOTP)
    organisers_laptop = Client()
    organisers_laptop.post(LOGIN, {"login": london_organiser.email, "password": PASSWORD})
    organisers_laptop.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert UserSession.objects.filter(user=london_organiser).exists()

    officer = client_for(national_officer)
    response = officer.post(
        reverse("admin:mfa_authenticator_delete", args=[phone.pk]),
        {"post": "yes"},
        REMOTE_ADDR="192.0.2.14",
    )
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=london_organiser).exists()
    removed = events(Kind.MFA_REMOVED)
    assert {(e.actor, e.subject, e.ip_address, e.detail) for e in removed} == {
        (national_officer, london_organiser, "192.0.2.14", "TOTP Authenticator"),
        (national_officer, london_organiser, "192.0.2.14", "Recovery codes"),
    }
    assert not UserSession.objects.filter(user=london_organiser).exists()
    assert organisers_laptop.get(reverse("home"))["Location"].startswith(LOGIN)


def test_removing_second_steps_in_bulk_in_the_admin_is_recorded(
    client_for, national_officer, camden_lns, kent_lns
):
    from allauth.mfa.models import Authenticator

    from .factories import give_security_key, give_totp

    chosen = [give_totp(camden_lns).pk, give_security_key(kent_lns).pk]
    client_for(national_officer).post(
        reverse("admin:mfa_authenticator_changelist"),
        {"action": "delete_selected", "_selected_action": chosen, "post": "yes"},
    )
    assert not Authenticator.objects.filter(pk__in=chosen).exists()
    removed = events(Kind.MFA_REMOVED)
    assert {(e.actor, e.subject_email, e.detail) for e in removed} == {
        (national_officer, camden_lns.email, "TOTP Authenticator"),
        (national_officer, kent_lns.email, "WebAuthn"),
    }


def test_an_invitation_is_recorded_by_whoever_sends_it(national_officer, camden_lns):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.13")
    request.user = national_officer
    audit.record(Kind.INVITATION, request=request, subject=camden_lns, detail="LNS, Camden")
    [event] = events(Kind.INVITATION)
    assert (event.actor, event.subject_email, event.ip_address) == (
        national_officer,
        camden_lns.email,
        "192.0.2.13",
    )


def test_opening_a_briefing_pack_is_recorded_each_time(client_for, camden_lns):
    client = client_for(camden_lns)
    pack = reverse("dashboards:briefing", args=["camden"])
    client.get(pack, REMOTE_ADDR="192.0.2.14")
    client.get(pack, REMOTE_ADDR="192.0.2.14")  # the second time from the cache
    briefings = events(Kind.BRIEFING)
    assert [(e.actor, e.ip_address, e.detail) for e in briefings] == [
        (camden_lns, "192.0.2.14", "Camden")
    ] * 2


def test_a_pack_out_of_scope_is_not_recorded(client_for, kent_lns):
    client_for(kent_lns).get(reverse("dashboards:briefing", args=["camden"]))
    assert not events(Kind.BRIEFING)


def test_withdrawing_feedback_is_recorded(client_for, camden_senco_lead):
    given = submission(by=camden_senco_lead)
    client_for(camden_senco_lead).post(
        reverse("feedback:withdraw", args=[given.pk]), REMOTE_ADDR="192.0.2.15"
    )
    [event] = events(Kind.WITHDRAWAL)
    assert (event.actor, event.ip_address) == (camden_senco_lead, "192.0.2.15")
    assert f"#{given.pk}" in event.detail


@pytest.mark.usefixtures("page_cache")
def test_recording_does_not_make_cached_pages_old(client_for, camden_lns):
    from authorities.caching import data_version

    before = data_version()
    audit.record(Kind.BRIEFING, actor=camden_lns)
    assert data_version() == before


# What the page shows --------------------------------------------------------------


def test_exports_are_read_from_their_own_records_with_the_address(
    national_officer_client, national_officer
):
    national_officer_client.get(reverse("dashboards:overview_csv"), REMOTE_ADDR="192.0.2.20")
    national_officer_client.get(reverse("feedback:export"), REMOTE_ADDR="192.0.2.21")
    response = national_officer_client.get(AUDIT, {"kind": "overview_export"})
    [overview] = rows_of(response)
    assert (overview.email, overview.address) == (national_officer.email, "192.0.2.20")
    response = national_officer_client.get(AUDIT, {"kind": "feedback_export"})
    [feedback] = rows_of(response)
    assert (feedback.what, feedback.address) == ("Feedback downloaded", "192.0.2.21")
    assert not AuditEvent.objects.exclude(kind=Kind.SIGN_IN).exists()  # read, not copied


def test_role_changes_are_read_from_the_memberships_history(
    national_officer_client, national_officer, camden
):
    person = make_user("new.lns@example.org", roles=[(Role.LNS, camden)])
    Membership.objects.filter(user=person).delete()
    response = national_officer_client.get(
        AUDIT, {"kind": "role_change", "person": "NEW.LNS@example.org"}
    )
    assert [entry.detail for entry in rows_of(response)] == [
        "Local negotiating secretary, Camden: removed",
        "Local negotiating secretary, Camden: given",
    ]


def test_deletions_show_who_why_and_from_where(
    national_officer_client, national_officer, camden_lns_client, camden_lns, camden
):
    AuthorityFinance.objects.create(authority=camden, financial_year=2024, ehcp_count=1)
    finance = AuthorityFinance.objects.get(authority=camden)
    camden_lns_client.post(
        reverse("authorities:finance_delete", args=["camden", 2024]),
        {"reason": "Entered twice", "base_version": finance.version},
        REMOTE_ADDR="192.0.2.30",
    )
    instalment = FundingInstalment.objects.create(
        plan=make_plan(CAMDEN), financial_year=2024, amount=1
    )
    instalment_pk = instalment.pk
    instalment.delete()
    response = national_officer_client.get(AUDIT, {"kind": "deletion"})
    newest, finance_row = rows_of(response)
    assert newest.detail == f"Funding instalment #{instalment_pk}"
    assert (finance_row.email, finance_row.address) == (camden_lns.email, "192.0.2.30")
    assert finance_row.detail == f"Finance year #{finance.pk}: “Entered twice”"


def test_filtered_by_person_and_newest_first(national_officer_client, camden_lns, kent_lns):
    for person in (camden_lns, kent_lns, camden_lns):
        audit.record(Kind.SIGN_IN, actor=person)
    response = national_officer_client.get(AUDIT, {"person": camden_lns.email})
    shown = rows_of(response)
    # Their sign-ins, and the role they were given (by no one known: a test).
    assert [(entry.kind, entry.email) for entry in shown] == [
        ("sign_in", camden_lns.email),
        ("sign_in", camden_lns.email),
        ("role_change", ""),
    ]
    assert shown[0].at >= shown[1].at >= shown[2].at


def test_a_kind_that_is_not_a_choice_is_an_error_not_a_500(national_officer_client):
    response = national_officer_client.get(AUDIT, {"kind": "nonsense"})
    assert response.status_code == 200
    assert "Choose what happened from the list" in response.content.decode()


def test_pages_of_fifty(national_officer_client, camden_lns):
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=Kind.SIGN_IN, actor=camden_lns, actor_email=camden_lns.email)
        for _ in range(60)
    )
    response = national_officer_client.get(AUDIT, {"kind": "sign_in", "page": 2})
    assert len(rows_of(response)) == 60 + 1 - 50  # with the national officer's own


def fill(rows, camden):
    """`rows` of every kind the trail reads, by different people."""
    for n in range(rows):
        person = make_user(roles=[(Role.LNS, camden), (Role.NEM, region("London"))])
        for kind in Kind.values:
            audit.record(kind, actor=person, subject=person, detail=f"row {n}")
        audit.record(Kind.SIGN_IN_FAILED, actor_email=f"nobody{n}@example.org")
        finance = AuthorityFinance.objects.create(
            authority=camden, financial_year=2010 + n, ehcp_count=n
        )
        finance._change_reason = "Wrong year"
        finance.delete()
        Membership.objects.filter(user=person, role=Role.NEM).delete()


# Session and user; the count of the whole trail; a page of it; the names
# of the people on the page.
AUDIT_QUERIES = 5


@pytest.mark.parametrize("rows", [1, 5])
def test_query_count_is_pinned(
    national_officer_client, national_officer, camden, django_assert_num_queries, rows
):
    fill(rows, camden)
    national_officer_client.get(reverse("dashboards:overview_csv"))
    with django_assert_num_queries(AUDIT_QUERIES):
        response = national_officer_client.get(AUDIT)
    # Each row: 11 events, a failed sign-in, a deletion and 3 role changes;
    # then the officer's own role, sign-in and download.
    assert len(rows_of(response)) == min(50, rows * 16 + 3)
    with django_assert_num_queries(AUDIT_QUERIES):
        national_officer_client.get(AUDIT, {"person": national_officer.email, "kind": ""})


def test_only_the_app_s_own_history_tables_are_read():
    names = {model._meta.model_name for model in audit.history_models()}
    assert {"historicalauthorityfinance", "historicalfundinginstalment"} <= names
    assert all(model._meta.app_label in audit.APPS for model in audit.history_models())
    assert LocalAuthority not in audit.history_models()


def test_the_menu_offers_the_audit_trail_to_national_officers_only(
    national_officer_client, camden_lns_client
):
    link = f'href="{reverse("authorities:audit")}"'
    assert link in national_officer_client.get(reverse("home")).content.decode()
    assert link not in camden_lns_client.get(reverse("home")).content.decode()
