"""bench/run.py's second half, in its own process with the server's settings:
the CSV export of every submission (rows per second, peak memory growth), then
the number of queries each benchmarked page makes, the first time after a
change to the data (cold) and again (warm: what it caches is cached). Prints
JSON.

Usage (bench/run.py calls it): python bench/probe.py [PLAN_PATH]
"""

import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from authorities.caching import data_changed  # noqa: E402
from authorities.models import User  # noqa: E402

EXPORTER = "national.officer@example.org"


def memory_kb(field):
    """VmRSS (now) or VmHWM (peak since the last reset) of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def client_for(email):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=email))
    return client


def export():
    """Streams the export to a file, as a browser saving it would: the time
    and memory are the server's; the rows are counted afterwards."""
    client = client_for(EXPORTER)
    # Reset the peak-memory mark (Linux), so the peak is the export's own.
    Path("/proc/self/clear_refs").write_text("5")
    before = memory_kb("VmRSS")
    with tempfile.TemporaryFile() as saved:
        started = time.monotonic()
        response = client.get("/feedback/export.csv")
        if response.status_code != 200 or not response.streaming:
            sys.exit(f"The export answered {response.status_code}, not a streamed CSV")
        for chunk in response.streaming_content:
            saved.write(chunk)
        seconds = time.monotonic() - started
        peak = memory_kb("VmHWM")
        saved.seek(0)
        # Parsed as CSV, so a line break inside a cell is not counted as a row.
        lines = sum(1 for _ in csv.reader(io.TextIOWrapper(saved, encoding="utf-8", newline="")))
    lines -= 1  # the header
    return {
        "rows": lines,
        "seconds": seconds,
        "rows_per_second": lines / seconds if seconds else 0,
        "peak_growth_mb": (peak - before) / 1024,
    }


def queries(plan_path):
    pages = {
        "/health/": None,
        "/overview/": "national.officer@example.org",
        "/regions/london/": "london.organiser@example.org",
        "/authorities/camden/": "camden.lns@example.org",
        "/authorities/camden/briefing/": "camden.lns@example.org",
        "/map/": "national.officer@example.org",
        "/": "national.officer@example.org",
        "/feedback/": "london.organiser@example.org",
        "/authorities/": "london.organiser@example.org",
        "/meetings/": "national.officer@example.org",
    }
    if plan_path:
        pages[plan_path] = "camden.lns@example.org"
    counts = {}
    for path, email in pages.items():
        client = client_for(email) if email else Client(HTTP_HOST="127.0.0.1")
        client.get(path)  # the session and the person are read from now on
        # Cold: the first request after any change to the data (a new data
        # version), when the page is worked out and stored; then warm, the
        # steady state, with what is cached cached.
        data_changed()
        counted = []
        for _ in ("cold", "warm"):
            with CaptureQueriesContext(connection) as context:
                response = client.get(path)
            ok = response.status_code == 200
            counted.append(len(context) if ok else f"{response.status_code}!")
        counts[path] = counted
    return counts


if __name__ == "__main__":
    from django.conf import settings

    result = {
        "export": export(),
        "queries": queries(sys.argv[1] if len(sys.argv) > 1 else ""),
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
    }
    print(json.dumps(result))
