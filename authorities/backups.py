"""Backups that restore: `make backup` and `make restore` (the `backup` and
`restore` commands), and a fingerprint of every table to prove a restore
identical (`manage.py table_fingerprints`, tests/test_backups.py).

SQLite is copied with its online backup API: a consistent copy while the app
keeps serving, never a file copied half-written. PostgreSQL is dumped with
`pg_dump` in its custom format and restored with `pg_restore`, the tools of
the server's own release, into an empty database (a restore refuses one with
tables in it, rather than merge two databases' rows).
"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
from urllib.parse import quote

from django.db import connection

from .caching import data_changed


class BackupError(Exception):
    pass


def libpq_uri(settings_dict):
    """A postgres:// URI for pg_dump and pg_restore from Django's settings."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgresql://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


def _run(command):
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def backup(path, using=connection):
    """Write a backup of the database to `path`."""
    if using.vendor == "sqlite":
        using.ensure_connection()
        target = sqlite3.connect(path)
        try:
            using.connection.backup(target)
        finally:
            target.close()
    elif using.vendor == "postgresql":
        uri = libpq_uri(using.settings_dict)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={path}", uri])
    else:
        raise BackupError(f"No backup for {using.vendor}")


def restore(path, using=connection):
    """Restore the backup at `path` into the database, which must be empty."""
    if not os.path.exists(path):
        raise BackupError(f"No backup at {path}")
    if using.introspection.table_names():
        raise BackupError(
            "The database has tables in it: restore into an empty database "
            "(a new one, or drop this one's first)"
        )
    if using.vendor == "sqlite":
        using.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(using.connection)
        finally:
            source.close()
    elif using.vendor == "postgresql":
        uri = libpq_uri(using.settings_dict)
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={uri}", path])
    else:
        raise BackupError(f"No restore for {using.vendor}")
    # Pages cached from whatever was here before show none of it.
    data_changed()


def fingerprints(using=connection):
    """{table: (rows, sha256 of its rows in a fixed order)} for every table:
    two databases with the same fingerprints hold the same data."""
    found = {}
    with using.cursor() as cursor:
        for table in sorted(using.introspection.table_names(cursor)):
            name = using.ops.quote_name(table)
            # A name from the catalogue, quoted: no input of anyone's.
            cursor.execute(f"SELECT * FROM {name}")
            rows = sorted(repr(tuple(_plain(v) for v in row)) for row in cursor.fetchall())
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            found[table] = (len(rows), digest)
    return found


def _plain(value):
    """A value as both databases' drivers give it back alike."""
    if isinstance(value, memoryview):
        return bytes(value)
    return value
