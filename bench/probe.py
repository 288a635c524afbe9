"""bench/run.py's helper, in its own process with the server's settings.

`probe.py queries PAGES` (PAGES: JSON, a list of [person's e-mail or null,
path]; "{plan}" is the first plan linked from Camden's page): the number of
queries each page makes, asked a second time by the same person (the first
loads what a process keeps once loaded), with whatever page cache the
settings name (bench/run.py runs it with none), and how long that request
took in this process. `probe.py export`: the CSV
export of every submission streamed to a file (rows per second, peak memory
growth). Prints JSON.
"""

import csv
import io
import json
import os
import re
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


def queries(pages):
    counts, times = {}, {}
    clients = {}
    plan_path = None
    for email, path in pages:
        if email not in clients:
            clients[email] = client_for(email) if email else Client(HTTP_HOST="127.0.0.1")
        client = clients[email]
        asked = path
        if path == "{plan}":
            if plan_path is None:
                page = client_for("camden.lns@example.org").get("/authorities/camden/")
                plan_path = re.search(r'href="(/plans/\d+/)"', page.content.decode()).group(1)
            asked = plan_path
        client.get(asked)
        with CaptureQueriesContext(connection) as context:
            started = time.perf_counter()
            response = client.get(asked)
            took = time.perf_counter() - started
        ok = response.status_code == 200
        counts[f"{email} {path}"] = len(context) if ok else f"{response.status_code}!"
        # In this process, queries recorded: a rough cost, for 1x beside 10x.
        times[f"{email} {path}"] = took * 1000
    counts["plan"], counts["ms"] = plan_path, times
    return counts


if __name__ == "__main__":
    if sys.argv[1] == "queries":
        print(json.dumps(queries(json.loads(sys.argv[2]))))
    else:
        print(json.dumps(export()))
