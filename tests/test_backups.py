"""The backup drill: back up a database with data in it (the scale seed),
restore into an empty database, and find every table identical, row counts
and checksums, on SQLite and PostgreSQL alike (CI runs the suite on both)."""

import copy
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections

from authorities.backups import BackupError, backup, fingerprints, restore
from authorities.caching import data_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def empty_database(tmp_path):
    """A second, empty database of the same kind, as a Django connection."""
    settings = copy.deepcopy(connection.settings_dict)
    settings["OPTIONS"].pop("pool", None)
    if connection.vendor == "sqlite":
        settings["NAME"] = str(tmp_path / "restored.sqlite3")
        settings["OPTIONS"].pop("init_command", None)
        yield type(connections["default"])(settings, alias="restored")
        return
    settings["NAME"] = f"{connection.settings_dict['NAME']}_restored"
    admin = {k: v for k, v in {"host": settings["HOST"], "user": settings["USER"]}.items() if v}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{settings["NAME"]}"')
        server.execute(f'CREATE DATABASE "{settings["NAME"]}"')
    restored = type(connections["default"])(settings, alias="restored")
    yield restored
    restored.close()
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{settings["NAME"]}" WITH (FORCE)')


def test_a_backup_restores_identical(settings, reference_data, tmp_path, empty_database):
    settings.DEBUG = True  # seed_scale makes data only for benchmarks
    call_command("seed_scale", scale=0.01, stdout=StringIO())
    path = tmp_path / "tracker.backup"
    backup(str(path))
    version = data_version()
    restore(str(path), using=empty_database)
    assert data_version() != version  # no page cached before is shown after
    before, after = fingerprints(), fingerprints(using=empty_database)
    assert before["feedback_feedbacksubmission"][0] > 100  # the seed is in it
    assert after == before


def test_a_restore_refuses_a_database_with_tables(tmp_path):
    path = tmp_path / "tracker.backup"
    backup(str(path))
    with pytest.raises(BackupError, match="restore into an empty database"):
        restore(str(path))
