"""The lockout holds: allauth's rate-limit counters live in the default
cache, and the cached pages in their own ("pages"), so no number of pages
can push a counter out (settings.CACHES)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.urls import reverse

from authorities import caching

from .factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN_URL = reverse("account_login")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clear_caches():
    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()


def sign_in(client, email, password, **headers):
    return client.post(LOGIN_URL, {"login": email, "password": password}, **headers)


@pytest.mark.usefixtures("database_page_cache")
def test_a_lockout_holds_however_many_pages_are_cached(client, camden_lns):
    for _ in range(5):
        sign_in(client, camden_lns.email, "guess")
    # As many pages as searching the authorities for 5,000 different words
    # would cache: with one cache for both and Django's cap of 300 entries,
    # these pushed the counters out and lifted the lockout.
    pages = caches[caching.CACHE_ALIAS]
    pages.set_many({f"authorities:search:{n}": "<p>A page</p>" * 20 for n in range(5000)})
    response = sign_in(client, camden_lns.email, PASSWORD)
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


@pytest.mark.usefixtures("database_page_cache")
def test_pages_are_cached_apart_from_the_counters(client_for, camden_lns):
    client = client_for(camden_lns)
    counters, pages = rows("django_cache"), rows("page_cache")
    client.get(reverse("dashboards:authority_list") + "?q=somewhere")
    assert rows("page_cache") > pages
    assert rows("django_cache") == counters


@pytest.mark.usefixtures("database_page_cache")
def test_the_counters_cache_never_reaches_its_cap():
    default = caches["default"]
    assert default._max_entries >= 1_000_000
    assert caches["pages"]._table != default._table


def settings_with(**env):
    """settings.CACHES as a fresh process reads them from `env`."""
    environment = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "PAGE_CACHE_URL")}
    code = "from django.conf import settings; import json; print(json.dumps(settings.CACHES))"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environment | {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"} | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_both_caches_may_share_one_redis_without_their_keys_meeting():
    redis = "redis://127.0.0.1:6379/1"
    caches_read = settings_with(CACHE_URL=redis, PAGE_CACHE_URL=redis)
    assert caches_read["default"]["LOCATION"] == caches_read["pages"]["LOCATION"] == redis
    assert caches_read["default"].get("KEY_PREFIX", "") != caches_read["pages"]["KEY_PREFIX"]


def test_with_nothing_set_both_are_database_caches_createcachetable_makes():
    caches_read = settings_with()
    assert {c["BACKEND"] for c in caches_read.values()} == {
        "django.core.cache.backends.db.DatabaseCache"
    }
    assert caches_read["default"]["OPTIONS"]["MAX_ENTRIES"] == 1_000_000


def test_a_lockout_holds_whatever_the_host_header_says(client, camden_lns, settings):
    """Django allows any port with an allowed name: a made-up port in the
    Host header must not start a fresh count of failures."""
    settings.ALLOWED_HOSTS = ["tracker.example.org"]
    for port in range(5):
        sign_in(client, camden_lns.email, "guess", HTTP_HOST=f"tracker.example.org:{8000 + port}")
    response = sign_in(client, camden_lns.email, PASSWORD, HTTP_HOST="tracker.example.org:9999")
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
