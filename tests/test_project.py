"""Project-wide promises: production settings, health check, demo people, pages."""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.core.paginator import Paginator
from django.db.utils import OperationalError
from django.template.loader import render_to_string
from django.urls import reverse

from authorities.models import Membership, User

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#Lp2!vQ9@zR4$wT8^yU1&iO5*aS3(dF6)gH0_jK-lZ+mXcVbN",
    "ALLOWED_HOSTS": "tracker.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://tracker.example.org",
    "EMAIL_URL": "smtp+tls://tracker:secret@smtp.example.org:587",
}


def manage(*args, env):
    # Drop what pytest-env set for the test process (relaxed cookies, the
    # async escape hatch for Playwright): production has none of it.
    dropped = ("SECURE_", "SESSION_", "CSRF_", "DJANGO_ALLOW_ASYNC_UNSAFE", "STATIC_STORAGE")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_sqlite_is_set_up_for_several_writers(settings):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("running on PostgreSQL")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    assert options["timeout"] >= 5


@pytest.mark.django_db
def test_health_check_answers_without_login(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_health_check_reports_a_database_failure(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", broken)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get(reverse("account_login"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_accessibility_statement_is_linked_from_every_page(client):
    response = client.get(reverse("account_login"))
    assert reverse("accessibility") in response.content.decode()


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404(camden_lns_client):
    response = camden_lns_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


class TestDemoPeople:
    def test_refuses_when_debug_is_off(self, reference_data, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError, match="DEBUG is off"):
            call_command("create_demo_people")
        assert not User.objects.exists()

    def test_creates_the_documented_personas_once(self, reference_data, settings):
        settings.DEBUG = True
        out = StringIO()
        call_command("create_demo_people", stdout=out)
        assert "8 created" in out.getvalue()
        lns = User.objects.get(email="camden.lns@example.org")
        assert lns.check_password("demo-tracker-2026")
        lns.set_password("changed-by-the-person")
        lns.save()
        call_command("create_demo_people", stdout=out)
        assert "0 created, 8 already there" in out.getvalue()
        lns.refresh_from_db()
        assert lns.check_password("changed-by-the-person")
        assert Membership.objects.count() == 8
        assert User.objects.get(email="national.officer@example.org").can_use_admin()

    def test_every_demo_person_is_in_the_readme(self):
        from authorities.management.commands.create_demo_people import (
            DEMO_PASSWORD,
            PERSONAS,
        )

        readme = (ROOT / "README.md").read_text()
        assert DEMO_PASSWORD in readme
        for email, *_ in PERSONAS:
            assert email in readme


class TestPagination:
    """includes/pagination.html, shared by every paginated list."""

    def render(self, number, pages=400):
        page = Paginator(range(pages * 50), 50).get_page(number)
        return render_to_string(
            "includes/pagination.html", {"page": page, "page_query": "", "label": "Pages"}
        )

    def test_a_long_list_links_the_ends_and_the_neighbours_not_every_page(self):
        html = self.render(200)
        linked = [int(n) for n in re.findall(r'aria-label="Page (\d+)"', html)]
        assert linked == [1, 199, 200, 201, 400]
        assert html.count("govuk-pagination__item--ellipses") == 2
        assert 'aria-label="Page 200" aria-current="page"' in html
        assert 'rel="prev"' in html
        assert 'rel="next"' in html

    def test_a_short_list_links_every_page(self):
        html = self.render(2, pages=4)
        assert re.findall(r'aria-label="Page (\d+)"', html) == ["1", "2", "3", "4"]
        assert "ellipses" not in html

    def test_one_page_needs_no_pagination(self):
        assert "govuk-pagination" not in self.render(1, pages=1)
