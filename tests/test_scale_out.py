"""Several app servers on one PostgreSQL and Redis: two gunicorn servers and
two task workers started here, as production runs them, with requests
alternating between the servers. A save through one is on the next page
from the other; a session from one works on the other; the login lockout
counts failures made on both; an e-mail queued once is sent once with two
workers; and neither server keeps anything on its own disk that the other
needs (each runs from its own empty directory).

PostgreSQL only (CI's second run): SQLite is one file on one machine."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import override_settings

from authorities import mail
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
REDIS = "redis://127.0.0.1:6379"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="several servers share PostgreSQL, not SQLite"
    ),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_databases():
    """Two Redis databases of their own for this test run (one per xdist
    worker), emptied: the rate limits and sessions, and the pages."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    n = 2 + 2 * int(re.sub(r"\D", "", worker) or 0) % 14
    try:
        for db in (n, n + 1):
            redis.Redis.from_url(f"{REDIS}/{db}").flushdb()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return f"{REDIS}/{n}", f"{REDIS}/{n + 1}"


@pytest.fixture
def environment():
    settings = connection.settings_dict
    cache, pages = redis_databases()
    return {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG")},
        "DATABASE_URL": "postgres://{}@{}:{}/{}".format(
            settings["USER"] or "root",
            settings["HOST"] or "127.0.0.1",
            settings["PORT"] or 5432,
            settings["NAME"],
        ),
        "CACHE_URL": cache,
        "PAGE_CACHE_URL": pages,
        "SECRET_KEY": "scale-out-test-secret-key-of-enough-length-to-pass-its-check",
        "SITE_URL": "https://tracker.example.org",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "EMAIL_URL": "consolemail://",
        "GUNICORN_WORKERS": "1",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def start(command, environment, home, **extra):
    home.mkdir()
    return subprocess.Popen(
        command,
        cwd=home,  # an empty directory of its own: nothing on disk is shared
        env={**environment, "HOME": str(home), "TMPDIR": str(home), **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def servers(environment, tmp_path, reference_data, camden_lns):
    # The servers check passwords with Django's own hashers, not the tests'
    # fast one (tests/conftest.py).
    camden_lns.password = PBKDF2PasswordHasher().encode(PASSWORD, "scaleoutsalt", iterations=1000)
    camden_lns.save(update_fields=["password"])
    started = []
    urls = []
    for name in ("a", "b"):
        port = free_port()
        command = [
            PYTHON, "-m", "gunicorn", "config.wsgi", "-c", str(ROOT / "config/gunicorn.conf.py"),
        ]  # fmt: skip
        started.append(start(command, environment, tmp_path / name, PORT=str(port)))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            wait_for(url + "/health/")
        yield urls
    finally:
        for process in started:
            process.terminate()
            output = process.communicate(timeout=20)[0]
            print(output[-3000:])  # shown when the test fails


def wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset or timed out while it starts
            time.sleep(0.3)
    raise AssertionError(f"{url} did not start")


class Browser:
    """A person's cookies, across both servers (one host name for both,
    as behind a load balancer: the cookies go to whichever answers)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url):
        try:
            with self.opener.open(url, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, url, data, form=None):
        """POST `data` to `url`, with the CSRF token of the form page
        `form` (by default `url` itself)."""
        _, page = self.get(form or url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}, doseq=True)
        request = urllib.request.Request(url, body.encode(), headers={"Referer": url})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def sign_in(self, server, email, password=PASSWORD):
        return self.post(f"{server}/accounts/login/", {"login": email, "password": password})


def test_two_servers_share_sessions_saves_and_lockouts(servers, camden_lns):
    a, b = servers
    person = Browser()
    status, page = person.sign_in(a, camden_lns.email)
    assert status == 200
    assert "Sign out" in page
    # Signed in on a, and on b with the same session.
    status, page = person.get(f"{b}/authorities/camden/")
    assert status == 200
    assert "Watch Camden" in page  # b has now cached the page, in Redis
    # A save through a is on the next page from b.
    status, _ = person.post(f"{a}/authorities/camden/watch/", {}, form=f"{a}/authorities/camden/")
    status, page = person.get(f"{b}/authorities/camden/")
    assert "Stop watching Camden" in page

    # Failures on both servers count together: five, then even the right
    # password is refused, on either.
    stranger = Browser()
    for n in range(5):
        server = (a, b)[n % 2]
        status, page = stranger.sign_in(server, camden_lns.email, "wrong password")
        assert "Sign out" not in page
    for server in (a, b):
        status, page = Browser().sign_in(server, camden_lns.email)
        assert "Sign out" not in page
        assert "Too many failed" in page


def test_an_email_queued_once_is_sent_once_by_two_workers(environment, tmp_path):
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        for n in range(20):
            mail.send(subject=f"Message {n:02}", body="B", to=["a@example.org"], about="a test")
    command = [PYTHON, str(ROOT / "manage.py"), "db_worker", "--batch", "--no-reload"]
    workers = [start(command, environment, tmp_path / name) for name in ("one", "two")]
    output = "".join(worker.communicate(timeout=120)[0] for worker in workers)
    assert all(worker.returncode == 0 for worker in workers), output
    sent = sorted(re.findall(r"^Subject: (Message \d\d)$", output, re.MULTILINE))
    assert sent == [f"Message {n:02}" for n in range(20)]
