"""Personas (STYLE.md): the people of DESIGN.md, each with a signed-in client.

National officers, regional organisers and NEMs must sign in in two steps
(authorities/mfa.py), so their personas have an authenticator app set up
with tests.factories.TOTP_SECRET (make_user gives it them): their clients
open every page, and a browser test's `sign_in` types the app's code.

The 153 authorities are loaded once into the test database and copied
aside there (ReferenceCopy); a test that uses `transactional_db` (the
browser tests, the races) empties the database as it ends, and the copy is
put back straight after (pytest_runtest_teardown).
"""

from io import StringIO

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from pytest_django.plugin import blocking_manager_key

from authorities.access import Role
from authorities.models import LocalAuthority

from .factories import CAMDEN, KENT, MANCHESTER, authority, make_user, region


class ReferenceCopy:
    """The reference data as loaded, copied table by table into tables of
    the test database that are no model's (so a flush leaves them), and put
    back after each flush by one INSERT … SELECT a table. Loading it again
    through the commands took 0.6 s on SQLite and 3 s on PostgreSQL after
    every one of some 250 transactional tests."""

    PREFIX = "reference_copy_"

    def __init__(self):
        self.tables = []

    def take(self):
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for n, table in enumerate(sorted(connection.introspection.django_table_names())):
                cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")
                if cursor.fetchone():
                    copy = f"{self.PREFIX}{n}"
                    cursor.execute(f"CREATE TABLE {quote(copy)} AS SELECT * FROM {quote(table)}")
                    self.tables.append((table, copy))

    def put_back(self):
        quote = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            for table, copy in self.tables:
                # Content types and permissions come back by themselves
                # (the flush's post_migrate), with ids of their own.
                cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")
                if not cursor.fetchone():
                    cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {quote(copy)}")


REFERENCE_COPY = ReferenceCopy()


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete_on_postgresql():
    """Django empties PostgreSQL after a transactional test with one
    TRUNCATE of every table: 2.5 s, for tables holding a few rows each.
    DELETE takes a hundredth of that (the foreign keys are deferred, so the
    order is free). Sequences are not reset either way (reset_sequences is
    off), so the copy's ids never meet new ones."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {self.quote_name(t)};" for t in tables]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_reference_data()
        REFERENCE_COPY.take()
    yield
    # psycopg's pool keeps connections open, and PostgreSQL will not drop a
    # test database that is still in use.
    for opened in connections.all(initialized_only=True):
        if getattr(opened, "pool", None) is not None:
            opened.close()
            opened.close_pool()


TRANSACTIONAL = {"transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A test in `transactional_db` (the browser tests, the races) empties
    the database as it ends. Load the reference data again then, committed,
    so that whatever test comes next (any, under xdist) finds it, as tests
    assume whether or not they ask for `reference_data`."""
    result = yield
    if nextitem is None:
        # The last test: the test database itself has been torn down, and
        # the connection points at the real one again.
        return result
    marker = item.get_closest_marker("django_db")
    if TRANSACTIONAL & set(getattr(item, "fixturenames", ())) or (
        marker and marker.kwargs.get("transaction")
    ):
        with item.config.stash[blocking_manager_key].unblock():
            if not LocalAuthority.objects.exists():
                REFERENCE_COPY.put_back()
    return result


def pytest_terminal_summary(terminalreporter):
    """The form properties' posts and timings (tests/test_form_properties.py),
    recorded as test properties so that they reach here from xdist workers."""
    lines = sorted(
        value
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", ())
        if name == "form properties"
    )
    if lines:
        terminalreporter.write_sep("-", "form properties")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def page_cache(settings):
    """The page cache on, in this process's memory (tests run without it:
    pyproject.toml), for tests of caching itself; empty at the start."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages-under-test",
            "KEY_PREFIX": "pages",
        },
    }
    cache = caches["pages"]
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def database_page_cache(settings):
    """The page cache as production has it with nothing set: a database
    cache of its own beside the counters' (the suite runs without one)."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "page_cache",
            "KEY_PREFIX": "pages",
        },
    }
    call_command("createcachetable", verbosity=0)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Personas have real passwords (the browser tests type them); hashing them
    with the production hasher would make the suite crawl."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_reference_data():
    """The 153 authorities, then the programmes, checklist and known plans."""
    call_command("load_reference_data", stdout=StringIO())
    call_command("load_programmes", stdout=StringIO())


@pytest.fixture
def reference_data(db):
    if not LocalAuthority.objects.exists():
        load_reference_data()


@pytest.fixture
def camden(reference_data):
    return authority(CAMDEN)


@pytest.fixture
def kent(reference_data):
    return authority(KENT)


@pytest.fixture
def national_officer(reference_data):
    return make_user(
        "national.officer@example.org",
        first_name="Nadia",
        last_name="Okafor",
        is_staff=True,
        roles=[(Role.NATIONAL_OFFICER, None)],
    )


@pytest.fixture
def london_organiser(reference_data):
    return make_user(
        "london.organiser@example.org",
        first_name="Liam",
        last_name="Hughes",
        roles=[(Role.REGIONAL_ORGANISER, region("London"))],
    )


@pytest.fixture
def northwest_nem(reference_data):
    return make_user(
        "northwest.nem@example.org",
        first_name="Priya",
        last_name="Shah",
        roles=[(Role.NEM, region("North West"))],
    )


@pytest.fixture
def camden_lns(camden):
    return make_user(
        "camden.lns@example.org",
        first_name="Carys",
        last_name="Evans",
        roles=[(Role.LNS, camden)],
    )


@pytest.fixture
def camden_forum_rep(camden):
    return make_user("camden.forum@example.org", roles=[(Role.SCHOOLS_FORUM_REP, camden)])


@pytest.fixture
def camden_senco_lead(camden):
    return make_user("camden.senco@example.org", roles=[(Role.SENCO_LEAD, camden)])


@pytest.fixture
def kent_lns(kent):
    return make_user(
        "kent.lns@example.org",
        first_name="Kate",
        last_name="Morgan",
        roles=[(Role.LNS, kent)],
    )


@pytest.fixture
def other_la_lns(kent_lns):
    """STYLE.md's name for "an LNS somewhere else": Kent's."""
    return kent_lns


@pytest.fixture
def manchester_head_rep(reference_data):
    return make_user(
        "manchester.heads@example.org", roles=[(Role.HEADTEACHER_REP, authority(MANCHESTER))]
    )


@pytest.fixture
def no_role_user(reference_data):
    """Signed in, but nobody has given them a role yet."""
    return make_user("new.person@example.org")


PERSONAS = [
    "national_officer",
    "london_organiser",
    "northwest_nem",
    "camden_lns",
    "camden_forum_rep",
    "camden_senco_lead",
    "kent_lns",
    "manchester_head_rep",
    "no_role_user",
]


@pytest.fixture
def client_for():
    """A client signed in as the given user."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def camden_lns_client(client_for, camden_lns):
    return client_for(camden_lns)


@pytest.fixture
def london_organiser_client(client_for, london_organiser):
    return client_for(london_organiser)


@pytest.fixture
def national_officer_client(client_for, national_officer):
    return client_for(national_officer)
