"""Several gunicorn workers writing to one SQLite file at once.

With Django's SQLite defaults, concurrent failed logins (each one writes the
rate-limit counter) have been seen to give "database is locked" 500s. This runs
the real thing: gunicorn with sync workers on a file database, and a burst of
simultaneous failed logins, none of which may fail with a server error.
"""

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_on_sqlite(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CACHE_URL", "PAGE_CACHE_URL")
    } | {
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "SECRET_KEY": "concurrency-test-secret-key",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(free_port()),
        "GUNICORN_WORKERS": "4",
    }
    for command in (["migrate", "-v0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT,
        env=env | {"HOST": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{env['PORT']}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/health/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield base
    server.terminate()
    server.wait(timeout=10)


def failed_login(base, n):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": f"someone{n % 3}@example.org", "password": "x"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    try:
        return opener.open(request, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def test_simultaneous_failed_logins_never_give_a_server_error(gunicorn_on_sqlite):
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda n: failed_login(gunicorn_on_sqlite, n), range(48)))
    # 429 is the rate limit on one IP address doing its job; 5xx is the failure.
    assert set(statuses) <= {200, 429}, statuses
    assert 200 in statuses
