"""The side-by-side benchmark: `make bench` (see bench/README.md).

Prepares a PostgreSQL database with the reference data, the demo people and
`seed_scale`'s large data set (and a second one at ten times the size, for
query counts); starts gunicorn on loopback with production settings (sync
workers, DEBUG off); signs some 120 people in through the login form (two
steps for the wide roles); then measures every page three ways, each beside a
trivial view through the same middleware (the ceiling on this machine):

- cold: the page cache off (a dummy cache), so every request is worked out;
- mixed: the page cache on, many people reading many authorities' pages
  while a writer saves changes through the app's own forms;
- warm: the page cache on, the same page asked again by the same person.

Then, in separate processes with the same settings, it counts each page's
queries with the page cache off at both sizes, and streams the CSV export of
every submission. Prints the tables and the issue's targets, met or missed.

Everything stays on 127.0.0.1 and every step is bounded in time.
"""

import argparse
import base64
import collections
import concurrent.futures
import contextlib
import hashlib
import hmac
import http.client
import http.cookies
import json
import os
import random
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/tracker_bench"
BIG_SUFFIX = "_10x"  # the ten-times database: tracker_bench_10x by default
BIG_SCALE = 10
SERVER_SECRET_KEY = "bench-only-" + "x" * 50
GUNICORN_LOG = Path(tempfile.gettempdir()) / "tracker-bench-gunicorn.log"
MIXED_SAMPLES = 4000  # (person, page) pairs drawn for each mixed row

NATIONAL = "national.officer@example.org"
LONDON = "london.organiser@example.org"
CAMDEN = "camden.lns@example.org"
SENCO = "camden.senco@example.org"

# (label, who opens it cold and warm, the path, and for the mixed column: who
# reads it (a pool of the signed-in people) and what (a path for each person))
PAGES = [
    ("trivial view (ceiling)", None, "/health/", "anonymous", "/health/"),
    ("home (national officer)", NATIONAL, "/", "national", "/"),
    ("home (London organiser)", LONDON, "/", "regional", "/"),
    ("national overview (national officer)", NATIONAL, "/overview/", "national", "/overview/"),
    ("national overview (London organiser)", LONDON, "/overview/", "regional", "/overview/"),
    ("region page (London)", LONDON, "/regions/london/", "wide", "region"),
    ("authority page (Camden)", CAMDEN, "/authorities/camden/", "everyone", "authority"),
    ("plan page", CAMDEN, "{plan}", "everyone", "plan"),
    ("briefing pack", CAMDEN, "/authorities/camden/briefing/", "everyone", "briefing"),
    ("map", NATIONAL, "/map/", "everyone", "/map/"),
    ("authority list", LONDON, "/authorities/", "everyone", "/authorities/"),
    ("feedback list", LONDON, "/feedback/", "everyone", "/feedback/"),
    ("meeting list", NATIONAL, "/meetings/", "everyone", "/meetings/"),
]
POOLS = {
    "anonymous": "nobody signed in",
    "national": "the national officers",
    "regional": "the regional organisers and NEMs",
    "wide": "national officers (any region), regional people (their own)",
    "everyone": "everyone, on authorities or plans in their scope",
}

# The targets (issue 14). Cold: (pages, least ratio, most ms alone).
COLD_TARGETS = [
    (("national overview", "region page"), 0.01, 60),
    (
        (
            "home",
            "authority page",
            "plan page",
            "briefing pack",
            "authority list",
            "feedback list",
            "meeting list",
        ),
        0.02,
        40,
    ),
]
MIXED_RATIO, MIXED_P95, MOST_QUERIES = 0.03, 150, 15
BUSY = 0.2  # cores of other work on the machine worth a mark beside a figure

FEEDBACK_FIELDS = {
    "source": "senco_network",
    "phases": "primary",
    "people_count": "12",
    "pressures": "senco_time",
    "barriers": "educational_psychology",
    "assessment_wait_weeks": "24",
    "support_wait_weeks": "10",
    "health_care_costs": "partly",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds per page (5)")
    parser.add_argument("--connections", type=int, default=20, help="concurrency (20)")
    parser.add_argument("--alone", type=int, default=5, help="requests alone, cold (5)")
    parser.add_argument("--writes", type=float, default=2.0, help="writes/s, mixed (2)")
    parser.add_argument("--scale", type=float, default=1.0, help="seed_scale's --scale (1)")
    parser.add_argument("--reseed", action="store_true", help="replace the seeded data")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--no-10x", action="store_true", help="skip the 10x query counts")
    parser.add_argument(
        "--queries-only", action="store_true", help="only count queries (1x and 10x)"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other work to stop (0)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    started = time.monotonic()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    global OTHERS
    OTHERS = Others()
    big_url = os.environ.get("BENCH_10X_DATABASE_URL") or database_url + BIG_SUFFIX
    timings = {}
    with timed(timings, "preparing the databases"):
        prepare(database_url, args.scale, args.reseed, timings, "1x")
        if not args.no_10x:
            prepare(big_url, BIG_SCALE * args.scale, args.reseed, timings, "10x")
    results = {"args": vars(args) | {"json": str(args.json)}, "timings": timings}
    results["machine"] = machine()
    results["started"] = time.strftime("%Y-%m-%d %H:%M %Z")
    code_at_start = code_changed_at()

    if not args.queries_only:
        static_root = Path(tempfile.mkdtemp(prefix="bench-static-"))
        try:
            measure_pages(database_url, static_root, args, results)
        finally:
            shutil.rmtree(static_root, ignore_errors=True)
    step("Counting queries with the page cache off")
    pages = [(person, path) for _, person, path, *_ in PAGES]
    with timed(timings, "queries 1x"):
        results["queries"] = {"1x": probe("queries", database_url, pages, cache_off=True) or {}}
    if not args.no_10x:
        with timed(timings, "queries 10x"):
            results["queries"]["10x"] = probe("queries", big_url, pages, cache_off=True) or {}
    if not args.queries_only:
        step("Streaming the CSV export")
        results["export"] = probe("export", database_url, None, cache_off=False)
    results["seconds"] = time.monotonic() - started
    if code_changed_at() != code_at_start:
        results["code_changed"] = time.strftime("%H:%M:%S", time.localtime(code_changed_at()))
    report(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


# Preparing the databases ---------------------------------------------------


def run(command, env=None, timeout=600, capture=False):
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
        text=True,
        capture_output=capture,
    )


def manage(*arguments, env, timeout=600):
    run([PYTHON, "manage.py", *arguments], env=env, timeout=timeout)


def psql_where(database_url):
    """psql's arguments for the server of `database_url`, and the database's name."""
    parts = urllib.parse.urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench measures on PostgreSQL: set DATABASE_URL to a postgres:// address.")
    where = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-U",
        parts.username or "root",
        "-p",
        str(parts.port or 5432),
    ]
    return where, parts.path.lstrip("/")


def ensure_database(database_url):
    where, name = psql_where(database_url)
    exists = subprocess.run(
        [
            "psql",
            *where,
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if exists.returncode != 0:
        sys.exit(f"Cannot reach PostgreSQL at {database_url}:\n{exists.stderr}")
    if exists.stdout.strip() != "1":
        run(["createdb", *where, name], timeout=60)


def prepare(database_url, scale, reseed, timings, label):
    """Schema, the data `make run` loads (reference data, programmes, the
    national timeline, official statistics, demo people and reform plans)
    and the large data set; DEBUG on for the commands that insist on it
    (never for the server). The seeded data is kept between runs unless
    --reseed."""
    step(f"Preparing the {label} database ({urllib.parse.urlsplit(database_url).path[1:]})")
    ensure_database(database_url)
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true"}
    manage("migrate", "--noinput", "-v0", env=env)
    manage("createcachetable", env=env)
    for command in (
        "load_reference_data",
        "load_programmes",
        "load_timeline",
        "load_official_statistics",
        "create_demo_people",
        "create_demo_reform_plans",
    ):
        run([PYTHON, "manage.py", command], env=env, capture=True)
    began = time.monotonic()
    seeded = subprocess.run(
        [PYTHON, "manage.py", "seed_scale", f"--scale={scale:g}"]
        + (["--replace"] if reseed else []),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if seeded.returncode == 0:
        timings[f"seed {label}"] = time.monotonic() - began
        print(seeded.stdout.strip())
    elif "already seeded" in seeded.stderr:
        print("Seeded data already there (add --reseed to make it again).")
    else:
        sys.exit(seeded.stderr)
    # The database as autovacuum keeps a live one (it may be off where this
    # runs): fresh planner statistics, and the visibility map set, without
    # which no count is read off an index alone. Unvacuumed, the London
    # organiser's feedback list counted its submissions from the table:
    # 22 → 52 ms at 1x, 35 → 230 ms at 10x.
    began = time.monotonic()
    where, name = psql_where(database_url)
    run(["psql", *where, "-d", name, "-qc", "VACUUM ANALYZE"], timeout=3600)
    timings[f"vacuum {label}"] = time.monotonic() - began


def server_env(database_url, static_root, *, page_cache):
    """Production settings, less what needs TLS in front (the bench is plain
    HTTP on loopback)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "PYTEST_ADDOPTS", "CI")}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY=SERVER_SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        STATIC_ROOT=str(static_root),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
        # Production's cache: Redis when one answers here (its reads are not
        # database queries), else the default database cache.
        CACHE_URL=os.environ.get("CACHE_URL") or bench_cache_url(),
        # The pages' own cache: the same Redis (its own key prefix), or none
        # at all (a dummy cache: every page worked out on every request).
        PAGE_CACHE_URL=(os.environ.get("PAGE_CACHE_URL") or bench_cache_url())
        if page_cache
        else "dummycache://",
        # Each benchmark person signs in from an address of their own (the
        # X-Forwarded-For a proxy would add), as people do: from one address
        # the login rate limit (30 a minute) would stop the sign-ins.
        TRUSTED_PROXY_COUNT="1",
        EMAIL_URL="consolemail://",  # no e-mail leaves the machine
    )
    return env


def bench_cache_url():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return "redis://127.0.0.1:6379/15"
    except OSError:
        return "dbcache://django_cache"


def machine():
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        names = re.findall(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = names[0] if names else cpu
    memory = 0
    with contextlib.suppress(OSError, AttributeError):
        memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
    postgres = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "root", "-d", "postgres", "-tAc", "SHOW server_version"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory / 1024 / 1024, 1),
        "postgresql": postgres,
        "cache": bench_cache_url().split(":")[0],
    }


# The server and the people -------------------------------------------------


@contextlib.contextmanager
def serving(env, workers, log_path):
    port = free_port()
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1"}
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    with open(log_path, "a") as log:
        server = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "config.wsgi",
                "-c",
                "config/gunicorn.conf.py",
                # Production's settings, but for restarting each worker after
                # about 2,000 requests: a second of starting Python and Django
                # that would fall in some measurements and not others.
                "--max-requests",
                "0",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            wait_for("127.0.0.1", port)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=60)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(host, port, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if Browser(host, port).get("/health/")[0] == 200:
                return
        time.sleep(0.3)
    sys.exit(f"gunicorn did not answer on port {port} within {seconds} s")


class Browser:
    """One person's cookies, over plain http.client (no redirects followed)."""

    def __init__(self, host, port, address=None):
        self.host, self.port = host, port
        self.cookies = {}
        self.extra = {"X-Forwarded-For": address} if address else {}

    def request(self, method, path, fields=None):
        headers = {**self.extra, "Referer": f"http://{self.host}:{self.port}{path}"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, text

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        return self.request("POST", path, fields)

    def cookie_header(self):
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


def csrf_token(page):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return match.group(1) if match else ""


def totp_code(secret, at=None):
    """The code an authenticator app shows (RFC 6238: 30 s, 6 digits)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1)
    digest = digest.digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def sign_in(port, person, number):
    """A session for `person`, through the login form and, for the wide
    roles, the authenticator code. A code is accepted once (allauth keeps
    used ones): a refused one is typed again when the next one shows."""
    browser = Browser("127.0.0.1", port, address=f"10.77.{number // 250}.{number % 250 + 1}")
    status, _, page = browser.get("/accounts/login/")
    fields = {"csrfmiddlewaretoken": csrf_token(page), "login": person["email"]}
    status, headers, page = browser.post(
        "/accounts/login/", fields | {"password": person["password"]}
    )
    where = headers.get("Location", "")
    if status != 302:
        sys.exit(f"Could not sign in as {person['email']} ({status}).")
    for _ in range(3):
        if "/2fa/" not in where:
            break
        status, _, page = browser.get(where)
        code = totp_code(person["totp"] or "")
        status, headers, _ = browser.post(
            where, {"csrfmiddlewaretoken": csrf_token(page), "code": code}
        )
        if status == 302:
            where = headers.get("Location", "")
        else:
            time.sleep(30.5 - time.time() % 30)
    if status != 302 or "/accounts/" in where or "sessionid" not in browser.cookies:
        sys.exit(f"Could not sign in as {person['email']}: ended at {status} {where}")
    return browser


def sign_everyone_in(port, people):
    step(f"Signing in {len(people)} people through the login form")
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        browsers = list(pool.map(lambda n: sign_in(port, people[n], n), range(len(people))))
    print(f"{len(people)} signed in in {time.monotonic() - began:.1f} s.")
    return {person["email"]: browser for person, browser in zip(people, browsers, strict=True)}


# Measuring -------------------------------------------------------------------


def load(
    port,
    requests,
    *,
    connections,
    duration=None,
    count=None,
    method="GET",
    body=None,
    ok=(200,),
):
    job = {
        "host": "127.0.0.1",
        "port": port,
        "requests": requests,
        "connections": connections,
        "duration": duration,
        "count": count,
        "method": method,
        "body": body,
        "ok": list(ok),
    }
    output = subprocess.run(
        [PYTHON, str(ROOT / "bench" / "load.py")],
        input=json.dumps(job),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=(duration or 0) + 600,
        check=True,
    )
    return json.loads(output.stdout)


def wait_for_quiet(most):
    """Up to `most` seconds for other work on the machine to stop (under a
    fifth of a core over two seconds), so as not to measure it too."""
    deadline = time.monotonic() + most
    waited = False
    while time.monotonic() < deadline:
        OTHERS.start()
        time.sleep(2)
        if OTHERS.cores() < BUSY:
            break
        if not waited:
            print(f"  (waiting up to {most:g} s for other work on the machine to stop)")
            waited = True


def measure(port, requests, args, workers, *, alone=False, **options):
    """Warm up (each worker process has served the pages once), measure at
    --connections for --duration, then, if asked, one request at a time."""
    wait_for_quiet(args.wait_quiet)
    OTHERS.start()
    warm_up = 2 * workers
    load(port, requests, connections=min(args.connections, workers), count=warm_up, **options)
    # The measurement starts where the warm-up stopped (in a list of many).
    requests = requests[warm_up:] + requests[:warm_up]
    result = load(port, requests, connections=args.connections, duration=args.duration, **options)
    result["used"] = [(i + warm_up) % len(requests) for i in result["used"]]
    if alone:
        single = load(port, requests, connections=1, count=args.alone, **options)
        result["alone"] = single["p50"]
    result["others"] = OTHERS.cores()
    return result


def fixed_requests(person, path, browsers):
    headers = {"Cookie": browsers[person].cookie_header()} if person else {}
    return [[path, headers]]


def fixed_column(name, port, browsers, paths, args, workers, *, alone=False):
    step(f"The {name} column: the same page asked by the same person")
    column = {}
    for label, person, path, *_ in PAGES:
        path = paths.get(path, path)
        result = measure(port, fixed_requests(person, path, browsers), args, workers, alone=alone)
        column[label] = result
        print_row(label, result, alone)
    return column


def mixed_requests(pool, target, people, browsers, plan_authority, rng, already):
    """MIXED_SAMPLES (path, headers) pairs, asked in turn: the pool's people
    take turns in a shuffled order, and each asks the page of theirs (an
    authority, plan or region in their scope) read least so far, so that few
    requests already read many people's pages on many authorities (`already`:
    how often the column's earlier rows read each authority, so that the next
    row starts with those they read least). Also
    which authority each one reads (None: none in particular) and who asks."""
    if pool == "anonymous":
        return [[target, {}]], [None], [None]
    readers = [
        p
        for p in people
        if (
            pool == "everyone"
            or p["kind"] == pool
            or (pool == "wide" and p["kind"] in ("national", "regional"))
        )
        and (target != "/overview/" or p["overview"])
        and (target != "region" or p["regions"])
        and (target != "plan" or p["plans"])
    ]
    seen = collections.Counter(already)

    def least_read(options, place=lambda option: option):
        fewest = min(seen[place(option)] for option in options)
        chosen = rng.choice([option for option in options if seen[place(option)] == fewest])
        seen[place(chosen)] += 1
        return chosen

    requests, places, who = [], [], []
    for n in range(MIXED_SAMPLES):
        if n % len(readers) == 0:
            rng.shuffle(readers)
        person = readers[n % len(readers)]
        place = None
        if target == "region":
            region = least_read([f"region {slug}" for slug in person["regions"]])
            path = f"/regions/{region.split()[1]}/"
        elif target in ("authority", "briefing"):
            place = least_read(person["authorities"])
            path = f"/authorities/{place}/" + ("briefing/" if target == "briefing" else "")
        elif target == "plan":
            plan = least_read(person["plans"], lambda pk: plan_authority[str(pk)])
            path, place = f"/plans/{plan}/", plan_authority[str(plan)]
        else:
            path = target
        requests.append([path, {"Cookie": browsers[person["email"]].cookie_header()}])
        places.append(place)
        who.append(person["email"])
    return requests, places, who


def mixed_column(port, browsers, personas, args, workers):
    step(
        f"The mixed column: {len(personas['people'])} people reading pages in their scope, "
        f"a writer saving {args.writes:g} changes a second"
    )
    rng = random.Random(2026)
    writer = Writer(port, browsers[personas["writer"]["email"]], personas["authorities"])
    column, read, readers = {}, collections.Counter(), set()
    writer.start(args.writes)
    time.sleep(3)  # measured only once the writes are under way
    try:
        for label, _, _, pool, target in PAGES:
            requests, places, who = mixed_requests(
                pool, target, personas["people"], browsers, personas["plan_authority"], rng, read
            )
            result = measure(port, requests, args, workers)
            people = {who[i] for i in result["used"] if who[i]}
            places = [places[i] for i in result["used"] if places[i]]
            result["people"], result["authorities"] = len(people), len(set(places))
            readers |= people
            read.update(places)
            del result["used"]
            column[label] = result
            extra = f"{len(people)} people"
            extra += f", {len(set(places))} authorities" if places else ""
            print_row(label, result, extra=extra if people else "")
    finally:
        writer.stop()
    summary = writer.summary()
    summary["authorities_read"], summary["readers"] = len(read), len(readers)
    summary["people"] = len(personas["people"])
    print(
        f"Writer: {summary['writes']} saves in {summary['seconds']:.0f} s "
        f"({summary['rate']:.2f}/s) to {summary['authorities']} authorities, "
        f"{summary['errors']} refused; {len(readers)} people read pages, "
        f"{len(read)} authorities' own pages."
    )
    return column, summary


class Writer:
    """Saves feedback (the feedback form, as a national officer) to random
    authorities at a steady rate, whether or not the last save has been
    answered yet (a few at once if the server is slow): each save goes
    through the app's own view and service, so it makes old whatever the
    app makes old on a write."""

    def __init__(self, port, browser, authorities):
        self.port, self.authorities = port, authorities
        status, _, page = browser.get("/authorities/camden/feedback/add/")
        self.token = csrf_token(page)
        if status != 200 or not self.token:
            sys.exit(f"The writer cannot open the feedback form ({status}).")
        self.cookie = browser.cookie_header()
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.statuses, self.touched, self.latencies = {}, set(), []

    def start(self, rate):
        self.thread = threading.Thread(target=self.run, args=(rate,), daemon=True)
        self.thread.start()

    def run(self, rate):
        rng = random.Random(14)
        self.began = time.monotonic()
        next_at = self.began
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while not self.halt.is_set():
                pool.submit(self.save, rng.choice(self.authorities))
                next_at += 1 / rate
                self.halt.wait(max(0.0, next_at - time.monotonic()))
        self.ended = time.monotonic()

    def save(self, slug):
        path = f"/authorities/{slug}/feedback/add/"
        fields = FEEDBACK_FIELDS | {
            "csrfmiddlewaretoken": self.token,
            "meeting_date": time.strftime("%Y-%m-%d"),
        }
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(
                "POST",
                path,
                body=urllib.parse.urlencode(fields, doseq=True),
                headers={
                    "Cookie": self.cookie,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Referer": f"http://127.0.0.1:{self.port}{path}",
                },
            )
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            connection.close()
        with self.lock:
            self.latencies.append(time.monotonic() - started)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.touched.add(slug)

    def stop(self):
        self.halt.set()
        self.thread.join(timeout=300)

    def summary(self):
        writes = sum(self.statuses.values())
        seconds = self.ended - self.began
        return {
            "writes": writes,
            "seconds": seconds,
            "rate": writes / seconds if seconds else 0,
            "errors": sum(n for status, n in self.statuses.items() if status != 302),
            "authorities": len(self.touched),
            "median_ms": statistics.median(self.latencies) * 1000 if self.latencies else 0,
        }


def measure_pages(database_url, static_root, args, results):
    step("Collecting static files and choosing the people")
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true"}
    manage("collectstatic", "--noinput", "-v0", env={**env, "STATIC_ROOT": str(static_root)})
    personas = json.loads(
        run(
            [PYTHON, "bench/personas.py"],
            env={**env, "SECRET_KEY": SERVER_SECRET_KEY},
            capture=True,
        ).stdout
    )
    workers = args.workers or int(os.environ.get("GUNICORN_WORKERS", os.cpu_count() * 2 + 1))
    results["workers"] = workers
    log = GUNICORN_LOG
    log.write_text("")
    timings = results["timings"]

    env = server_env(database_url, static_root, page_cache=False)
    with serving(env, workers, log) as port:
        with timed(timings, "signing in"):
            browsers = sign_everyone_in(port, [*personas["people"], personas["writer"]])
        paths = {"{plan}": find_plan(browsers[CAMDEN])}
        results["plan"] = paths["{plan}"]
        with timed(timings, "cold column"):
            results["cold"] = fixed_column(
                "cold (page cache off)", port, browsers, paths, args, workers, alone=True
            )

    env = server_env(database_url, static_root, page_cache=True)
    with serving(env, workers, log) as port:
        for browser in browsers.values():
            browser.port = port
        with timed(timings, "mixed column"):
            results["mixed"], results["writer"] = mixed_column(
                port, browsers, personas, args, workers
            )
        with timed(timings, "warm column"):
            results["warm"] = fixed_column(
                "warm (page cache on)", port, browsers, paths, args, workers
            )
        results["post"] = measure_post(port, browsers[SENCO], args, workers)
        results["hey"] = calibrate(port, args)


@contextlib.contextmanager
def timed(timings, name):
    began = time.monotonic()
    yield
    timings[name] = time.monotonic() - began


def find_plan(browser):
    """The first plan linked from Camden's page (a known SV or DBV plan)."""
    match = re.search(r'href="(/plans/\d+/)"', browser.get("/authorities/camden/")[2])
    if not match:
        sys.exit("Camden's page links no plan: were the programmes loaded?")
    return match.group(1)


def measure_post(port, browser, args, workers):
    """The feedback form, posted: each request saves a submission."""
    path = "/authorities/camden/feedback/add/"
    status, _, page = browser.get(path)
    fields = FEEDBACK_FIELDS | {
        "csrfmiddlewaretoken": csrf_token(page),
        "meeting_date": time.strftime("%Y-%m-%d"),
    }
    status, headers, _ = browser.post(path, fields)
    if status != 302:
        sys.exit(f"The feedback form did not accept the benchmark's answers ({status})")
    body = urllib.parse.urlencode(fields)
    headers = {
        "Cookie": browser.cookie_header(),
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"http://127.0.0.1:{port}{path}",
    }
    result = measure(port, [[path, headers]], args, workers, method="POST", body=body, ok=(302,))
    print_row("feedback form POST", result)
    return result


def calibrate(port, args):
    """The trivial view through `hey` (Go) too, when installed: how much the
    Python load generator's own work lowers the ceiling."""
    hey = shutil.which("hey")
    if not hey:
        return None
    output = subprocess.run(
        [
            hey,
            "-c",
            str(args.connections),
            "-z",
            f"{args.duration:g}s",
            "-disable-redirects",
            f"http://127.0.0.1:{port}/health/",
        ],
        capture_output=True,
        text=True,
        timeout=args.duration + 120,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p95 = re.search(r"\s95%+ in ([\d.]+) secs", output)
    return {
        "rps": float(match.group(1)) if match else None,
        "p95": float(p95.group(1)) * 1000 if p95 else None,
    }


def probe(what, database_url, pages, *, cache_off):
    """bench/probe.py's answer, or None (and why, printed) if it failed."""
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as static_root:
        env = server_env(database_url, Path(static_root), page_cache=not cache_off)
        # The pages name static files, which need no manifest to count queries.
        env["STATIC_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
        result = subprocess.run(
            [PYTHON, "bench/probe.py", what, json.dumps(pages)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    if result.returncode != 0:
        print(f"bench/probe.py {what} failed:\n{result.stderr[-3000:]}")
        return None
    return json.loads(result.stdout)


# Reporting -------------------------------------------------------------------


def print_row(label, result, alone=False, extra=""):
    text = (
        f"  {label:<38} {result['rps']:>8.1f}/s  p50 {result['p50']:>7.1f}  "
        f"p95 {result['p95']:>7.1f}  p99 {result['p99']:>7.1f} ms  errors {result['errors']}"
    )
    if alone:
        text += f"  alone {result['alone']:.1f} ms"
    if result["others"] >= BUSY:
        text += f"  [other work: {result['others']:.1f} cores]"
    print(text + (f"  ({extra})" if extra else ""), flush=True)


def ratio(column, label):
    ceiling = column["trivial view (ceiling)"]["rps"]
    return column[label]["rps"] / ceiling if ceiling else 0


def report(results, args):
    queries = results.get("queries", {})
    one, ten = queries.get("1x", {}), queries.get("10x", {})
    machine = results["machine"]
    step(
        f"Results ({results['started']}): {args.connections} connections, "
        f"{args.duration:g} s per page per column, scale {args.scale:g}; "
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gb']} GB, "
        f"PostgreSQL {machine['postgresql']}, cache {machine['cache']}, "
        f"{results.get('workers', '?')} sync workers"
    )
    columns = [c for c in ("cold", "mixed", "warm") if c in results]
    if columns:
        print(
            "\nSide by side: req/s, ratio to the trivial view, p95 ms (alone: the median of "
            "one request at a time, cold), errors per column, queries with the page cache "
            "off at 1x and 10x"
        )
        header = f"{'page':<38}"
        for name in columns:
            header += f" | {name + ' req/s':>11} {'ratio':>6} {'p95':>7}"
            if name == "cold":
                header += f" {'alone':>7}"
        header += f" | {'errors':>8} | {'q 1x':>5} {'q 10x':>5}"
        print(header)
        print("-" * len(header))
        for label, person, path, *_ in PAGES:
            line = f"{label:<38}"
            for name in columns:
                row = results[name][label]
                busy = "*" if row["others"] >= BUSY else " "
                line += f" | {row['rps']:>10.1f}{busy} {ratio(results[name], label):>6.3f} "
                line += f"{row['p95']:>7.1f}"
                if name == "cold":
                    line += f" {row['alone']:>7.1f}"
            errors = "/".join(str(results[name][label]["errors"]) for name in columns)
            key = f"{person} {path}"
            line += f" | {errors:>8} | {one.get(key, '')!s:>5} {ten.get(key, '')!s:>5}"
            print(line)
        for name in columns:
            print(f"\n{name}: req/s, p50, p95, p99 ms, errors (non-200 or no answer)")
            for label, *_ in PAGES:
                row = results[name][label]
                extra = ""
                if name == "mixed" and row.get("people"):
                    extra = f"  {row['people']} people"
                    if row["authorities"]:
                        extra += f", {row['authorities']} authorities"
                print(
                    f"  {label:<38} {row['rps']:>8.1f} {row['p50']:>8.1f} {row['p95']:>8.1f} "
                    f"{row['p99']:>8.1f} {row['errors']:>6}{extra}"
                )
        writer = results.get("writer")
        if writer:
            print(
                f"\nMixed: {writer['readers']} of the {writer['people']} people signed in read "
                f"pages, {writer['authorities_read']} authorities' own pages (authority page, "
                f"plan page, briefing pack); the writer saved {writer['writes']} "
                f"submissions in {writer['seconds']:.0f} s ({writer['rate']:.2f}/s, median "
                f"{writer['median_ms']:.0f} ms) to {writer['authorities']} authorities, "
                f"{writer['errors']} refused."
            )
            for pool, words in POOLS.items():
                print(f"  pool {pool}: {words}")
    if one:
        print("\nQueries and time of one request in a test client, page cache off: 1x, 10x")
        for label, person, path, *_ in PAGES:
            key = f"{person} {path}"
            ms_one = one.get("ms", {}).get(key)
            ms_ten = ten.get("ms", {}).get(key)
            print(
                f"  {label:<38} {one.get(key, '')!s:>5} {ten.get(key, '')!s:>5} queries  "
                + (f"{ms_one:>8.1f}" if ms_one is not None else " " * 8)
                + (f" {ms_ten:>8.1f} ms" if ms_ten is not None else " ms")
            )
    if "post" in results:
        post = results["post"]
        print(
            f"Feedback form POST (warm server): {post['rps']:.1f}/s, p95 {post['p95']:.1f} ms, "
            f"{post['errors']} errors"
        )
    if results.get("hey"):
        hey = results["hey"]
        print(f"Trivial view through hey (calibration): {hey['rps']:.1f}/s, p95 {hey['p95']:.1f}")
    if results.get("export"):
        export = results["export"]
        print(
            f"CSV export of {export['rows']:,} submissions: {export['seconds']:.1f} s, "
            f"{export['rows_per_second']:,.0f} rows/s, peak memory growth "
            f"{export['peak_growth_mb']:.1f} MB"
        )
    busy = {
        name: statistics.mean(results[name][label]["others"] for label, *_ in PAGES)
        for name in columns
    }
    if busy:
        print(
            "Other work on this machine while measuring (cores busy on average, outside the "
            "benchmark): "
            + ", ".join(f"{name} {cores:.2f}" for name, cores in busy.items())
            + f"; * in the table: {BUSY} cores or more during that measurement"
        )
    print(
        "Time taken: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in results["timings"].items())
    )
    print(f"The whole run: {results['seconds'] / 60:.1f} minutes.")
    if results.get("code_changed"):
        print(
            f"The app's code changed during the run (last at {results['code_changed']}): "
            "the figures may mix two versions of it."
        )
    if any(results[name][label]["errors"] for name in columns for label, *_ in PAGES):
        print(f"Errors: the server's log is {GUNICORN_LOG}.")
    targets(results)


def targets(results):
    step("Against issue 14's targets")
    lines = []
    if "cold" in results:
        for names, least, most_ms in COLD_TARGETS:
            for label, *_ in PAGES:
                if label.startswith(names):
                    row = results["cold"][label]
                    r = ratio(results["cold"], label)
                    ok = r >= least and row["alone"] < most_ms
                    lines.append(
                        (
                            ok,
                            f"cold {label}: ratio {r:.3f} (at least {least}), alone "
                            f"{row['alone']:.0f} ms (under {most_ms})",
                        )
                    )
    if "mixed" in results:
        for label, *_ in PAGES[1:]:
            row = results["mixed"][label]
            r = ratio(results["mixed"], label)
            ok = r >= MIXED_RATIO and row["p95"] <= MIXED_P95 and row["errors"] == 0
            lines.append(
                (
                    ok,
                    f"mixed {label}: ratio {r:.3f} (at least {MIXED_RATIO}), p95 "
                    f"{row['p95']:.0f} ms (at most {MIXED_P95}), "
                    f"{row['errors']} errors",
                )
            )
    queries = results.get("queries", {})
    for _, person, path, *_ in PAGES[1:]:
        key = f"{person} {path}"
        one, ten = queries.get("1x", {}).get(key), queries.get("10x", {}).get(key)
        if one is None:
            continue
        ok = isinstance(one, int) and one <= MOST_QUERIES and (ten is None or ten == one)
        lines.append(
            (
                ok,
                f"queries {path} as {person}: {one} at 1x, {ten} at 10x "
                f"(at most {MOST_QUERIES}, the same)",
            )
        )
    for ok, text in lines:
        print(f"  {'met   ' if ok else 'MISSED'} {text}")
    met = sum(ok for ok, _ in lines)
    print(f"{met} of {len(lines)} met.")


OTHERS = None  # Others, made in main()


def processes():
    """{pid: (parent pid, CPU seconds of it and its reaped children, command
    line)} of every process."""
    found = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
            found[int(entry.name)] = (
                int(fields[1]),
                sum(int(field) for field in fields[11:15]) / tick,  # utime .. cstime
                command,
            )
    return found


def busy_seconds():
    """CPU seconds spent by all cores so far, less idle and I/O wait."""
    user, nice, system, _, _, irq, softirq, steal = (
        int(n) for n in Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def serves(command):
    """Whether a process is PostgreSQL (the server, which counts the
    connections it has ended as its own, or a connection) or Redis."""
    program = command.split(" ", 1)[0]
    return (
        os.path.basename(program) in ("postgres", "postmaster")
        or program.startswith("postgres:")
        or os.path.basename(program) == "redis-server"
    )


class Others:
    """How busy the cores were with work other than the benchmark's during a
    measurement: other people's tests or servers on a shared machine lower
    every figure. All the CPU time spent, less this process's tree (gunicorn,
    the load generator, the writer), PostgreSQL and Redis (which serve it,
    though they may serve others too: a lower bound)."""

    def snapshot(self):
        found = processes()
        ours, changed = {os.getpid()}, True
        while changed:
            before = len(ours)
            ours |= {pid for pid, (parent, *_) in found.items() if parent in ours}
            changed = len(ours) != before
        # Each process counts its children once they have ended (cutime):
        # the sum over a tree, before and after, is its work in between.
        serving = {
            pid: seconds
            for pid, (_, seconds, command) in found.items()
            if pid in ours or serves(command)
        }
        return busy_seconds(), serving

    def start(self):
        self.began, (self.busy, self.before) = time.monotonic(), self.snapshot()

    def cores(self):
        """Cores kept busy by other work since start(), on average."""
        busy, after = self.snapshot()
        # A process that ended in between: its time is in its parent's now.
        ours = sum(after.values()) - sum(self.before.values())
        return max(0.0, busy - self.busy - ours) / (time.monotonic() - self.began)


def code_changed_at():
    """When the app's code (Python, templates) last changed: the page code
    may be edited while the benchmark runs, and the figures then measure
    more than one version of it."""
    newest = 0.0
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [
            name
            for name in subfolders
            if not name.startswith(".") and name not in ("node_modules", "bench", "staticfiles")
        ]
        for name in files:
            if name.endswith((".py", ".html")):
                with contextlib.suppress(OSError):
                    newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


def step(text):
    print(f"\n==> {text}", flush=True)


if __name__ == "__main__":
    main()
