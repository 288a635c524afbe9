"""Operations: /ready/ for load balancers during a deploy, and logs of one
line per request that never hold an e-mail address or feedback text."""

import json
import logging

import pytest
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import mail
from django.db import connection
from django.db.utils import OperationalError
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from authorities.models import User
from config import views
from config.requestlog import JsonFormatter, RequestLogMiddleware

from .test_feedback import form_data
from .test_invitations import add_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def check_migrations_each_time(monkeypatch):
    monkeypatch.setattr(views, "_migrated", False)


def test_ready_when_database_cache_and_migrations_are(client):
    response = client.get(reverse("ready"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "migrations": "ok",
    }


def test_not_ready_before_migrate(client, monkeypatch):
    """A server of a new release whose migrations have not been applied."""
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [("a migration", False)],
    )
    response = client.get(reverse("ready"))
    assert response.status_code == 503
    assert response.json()["migrations"] == "not ready"


def test_not_ready_without_the_cache(client, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("django.core.cache.cache.set", down)
    response = client.get(reverse("ready"))
    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable"


def test_not_ready_without_the_database(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", broken)
    assert client.get(reverse("ready")).status_code == 503


# Logs ---------------------------------------------------------------------------


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "tracker.request"]


def test_one_line_per_request_with_the_user_id_never_the_address(client_for, camden_lns, caplog):
    caplog.set_level(logging.INFO)
    client = client_for(camden_lns)
    caplog.clear()
    response = client.get(reverse("dashboards:authority", args=["camden"]) + "?secret=words")
    [line] = request_lines(caplog)
    assert line.user_id == camden_lns.pk
    assert line.method == "GET"
    assert line.path == "/authorities/camden/"  # no query string
    assert line.status == 200
    assert line.queries > 5
    assert line.duration_ms > 0
    assert line.request_id == response["X-Request-ID"]
    assert camden_lns.email not in caplog.text
    assert "secret" not in caplog.text


def test_a_probe_is_served_without_looking_anyone_up(client, caplog):
    """A load balancer's /health/ and /ready/ carry no session: no query
    for a person, and every query made is counted on the log line."""
    caplog.set_level(logging.INFO)
    for name in ("health", "ready"):
        caplog.clear()
        with CaptureQueriesContext(connection) as made:
            assert client.get(reverse(name)).status_code == 200
        assert not [q for q in made.captured_queries if User._meta.db_table in q["sql"]]
        [line] = request_lines(caplog)
        assert line.user_id is None
        assert line.queries == len(made.captured_queries)


def test_the_log_line_reads_the_person_only_if_the_request_did(camden_lns, rf, caplog):
    """Written after the queries are counted, the line must make none: for
    a request with someone's session cookie that never read `request.user`
    (here the bare middleware, around a view that does not), it names no
    one rather than load the session and the person uncounted."""
    caplog.set_level(logging.INFO)
    signed_in = Client()
    signed_in.force_login(camden_lns)
    key = signed_in.cookies[settings.SESSION_COOKIE_NAME].value

    def served(reads_user):
        request = rf.get(reverse("health"))
        request.COOKIES[settings.SESSION_COOKIE_NAME] = key
        SessionMiddleware(lambda r: None).process_request(request)
        AuthenticationMiddleware(lambda r: None).process_request(request)

        def view(request):
            if reads_user:
                assert request.user.is_authenticated
            return HttpResponse("ok")

        caplog.clear()
        with CaptureQueriesContext(connection) as made:
            RequestLogMiddleware(view)(request)
        [line] = request_lines(caplog)
        return line, made.captured_queries

    line, after = served(reads_user=False)
    assert line.user_id is None
    assert after == []  # neither the session nor the person read
    line, after = served(reads_user=True)
    assert line.user_id == camden_lns.pk
    assert line.queries == len(after)  # the lookups the view made, counted


def test_a_proxy_request_id_is_kept_only_if_sane(client):
    given = client.get(reverse("health"), headers={"X-Request-ID": "lb-1234abcd"})
    assert given["X-Request-ID"] == "lb-1234abcd"
    odd = client.get(reverse("health"), headers={"X-Request-ID": "x y\nInjected: 1"})
    assert odd["X-Request-ID"] != "x y\nInjected: 1"
    assert len(odd["X-Request-ID"]) == 32


def test_json_lines(client, caplog):
    caplog.set_level(logging.INFO)
    client.get(reverse("health"))
    [line] = request_lines(caplog)
    entry = json.loads(JsonFormatter().format(line))
    assert entry["logger"] == "tracker.request"
    assert entry["path"] == "/health/"
    assert entry["status"] == 200
    assert entry["user_id"] is None


def test_403_and_404_without_tracebacks(client_for, camden_senco_lead, kent, caplog):
    caplog.set_level(logging.INFO)
    client = client_for(camden_senco_lead)
    assert client.get(reverse("dashboards:authority", args=["kent"])).status_code == 404
    assert (
        client.get(reverse("dashboards:tell_national_office", args=["camden"])).status_code == 403
    )
    formatted = [
        logging.Formatter().format(r) for r in caplog.records if r.name == "django.request"
    ]
    assert len(formatted) == 2
    assert not any("Traceback" in text for text in formatted)


def test_no_address_or_feedback_text_in_any_log(
    client_for, camden_senco_lead, national_officer, caplog, django_capture_on_commit_callbacks
):
    """The scenarios that touch personal data: signing in (and failing to),
    a password reset, feedback with free text reporting a likely-unlawful
    practice (which e-mails the national office), an invitation."""
    caplog.set_level(logging.DEBUG)
    free_text = "Pupil at Greenfield with autism refused assessment twice"
    anonymous = Client()
    anonymous.post(
        reverse("account_login"), {"login": camden_senco_lead.email, "password": "wrong"}
    )
    anonymous.post(reverse("account_reset_password"), {"email": camden_senco_lead.email})
    client = client_for(camden_senco_lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("feedback:add", args=["camden"]),
            form_data(practices=["refusing"], refusing_example=free_text, working_well=free_text),
        )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        add_person(client_for(national_officer), "new.person@example.org")
    # Each scenario ran: the reset link, the national office told, the invitation.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [camden_senco_lead.email, "national.office@localhost", "new.person@example.org"]
    )
    logged = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert caplog.records  # the scenarios were logged at all
    for secret in (camden_senco_lead.email, "new.person@example.org", free_text, "Greenfield"):
        assert secret not in logged
