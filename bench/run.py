"""The side-by-side benchmark: `make bench` (see bench/README.md).

Prepares a PostgreSQL database with the reference data, the demo people and
`seed_scale`'s large data set; starts gunicorn on loopback with production
settings (sync workers, DEBUG off); signs in as real personas; warms up; then
measures each page with `hey` at a fixed concurrency for a fixed time, beside a
trivial view through the same middleware (the ceiling on this machine). Then,
in a separate process with the same settings, it counts each page's queries
and streams the CSV export of every submission, measuring rows per second and
peak memory growth. Prints one table.

Everything stays on 127.0.0.1 and every step is bounded in time.
"""

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/tracker_bench"
DEMO_PASSWORD = "demo-tracker-2026"  # create_demo_people's, local use only

# (label, persona who opens it, path or a key resolved after sign-in, method)
PAGES = [
    ("trivial view (ceiling)", None, "/health/", "GET"),
    ("national overview", "national.officer@example.org", "/overview/", "GET"),
    ("region dashboard", "london.organiser@example.org", "/regions/london/", "GET"),
    ("authority dashboard", "camden.lns@example.org", "/authorities/camden/", "GET"),
    ("plan page", "camden.lns@example.org", "{plan}", "GET"),
    ("briefing pack", "camden.lns@example.org", "/authorities/camden/briefing/", "GET"),
    ("map", "national.officer@example.org", "/map/", "GET"),
    ("home (national officer)", "national.officer@example.org", "/", "GET"),
    # Feedback figures are on the region and authority pages; this is the list.
    ("feedback list", "london.organiser@example.org", "/feedback/", "GET"),
    ("authority list", "london.organiser@example.org", "/authorities/", "GET"),
    ("meeting list", "national.officer@example.org", "/meetings/", "GET"),
    ("feedback form POST", "camden.senco@example.org", "{feedback_form}", "POST"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per page (10)")
    parser.add_argument("--connections", type=int, default=20, help="concurrency (20)")
    parser.add_argument("--scale", type=float, default=1.0, help="seed_scale's --scale (1)")
    parser.add_argument("--reseed", action="store_true", help="replace the seeded data")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    args = parser.parse_args()

    hey = shutil.which("hey")
    if not hey:
        sys.exit("bench needs `hey` (Debian: apt-get install hey).")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    ensure_database(database_url)
    static_root = Path(tempfile.mkdtemp(prefix="bench-static-"))
    prepare(database_url, args, static_root)

    env = production_env(database_url, static_root)
    port = free_port()
    env.update(PORT=str(port), HOST="127.0.0.1")
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    log = open(static_root / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health/")
        sessions = {}
        results = []
        plan_path = None
        for label, persona, path, method in PAGES:
            headers = []
            body = None
            if persona:
                if persona not in sessions:
                    sessions[persona] = sign_in(base, persona)
                opener, cookies = sessions[persona]
                if path == "{plan}":
                    plan_path = plan_path or find_plan(opener, base)
                    path = plan_path
                elif path == "{feedback_form}":
                    path = "/authorities/camden/feedback/add/"
                headers = ["-H", f"Cookie: {cookies}"]
                if method == "POST":
                    body = feedback_body(opener, base, path)
                    token = cookie_value(opener, "csrftoken")
                    headers += ["-H", f"X-CSRFToken: {token}", "-H", f"Referer: {base}{path}"]
            url = base + path
            run_hey(hey, url, headers, body, method, requests=50, connections=4)  # warm-up
            measured = run_hey(
                hey, url, headers, body, method, duration=args.duration,
                connections=args.connections,
            )  # fmt: skip
            results.append((label, path, *measured))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    probe = run_probe(env, plan_path)
    report(results, probe, args)
    shutil.rmtree(static_root, ignore_errors=True)


def run(command, env=None, timeout=600):
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=timeout)


def manage(*arguments, env, timeout=600):
    run([PYTHON, "manage.py", *arguments], env=env, timeout=timeout)


def ensure_database(database_url):
    parts = urllib.parse.urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench measures on PostgreSQL: set DATABASE_URL to a postgres:// address.")
    name = parts.path.lstrip("/")
    exists = subprocess.run(
        ["psql", "-h", parts.hostname or "127.0.0.1", "-U", parts.username or "root",
         "-p", str(parts.port or 5432), "-d", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if exists.returncode != 0:
        sys.exit(f"Cannot reach PostgreSQL at {database_url}:\n{exists.stderr}")
    if exists.stdout.strip() != "1":
        run(["createdb", "-h", parts.hostname or "127.0.0.1", "-U", parts.username or "root",
             "-p", str(parts.port or 5432), name], timeout=60)  # fmt: skip


def prepare(database_url, args, static_root):
    """Schema, reference data, demo people and the large data set; DEBUG on
    for the commands that insist on it (never for the server)."""
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true"}
    step("Preparing the database")
    manage("migrate", "--noinput", "-v0", env=env)
    manage("createcachetable", env=env)
    manage("load_reference_data", env=env)
    manage("load_programmes", env=env)
    manage("create_demo_people", env=env)
    seeded = subprocess.run(
        [PYTHON, "manage.py", "seed_scale", f"--scale={args.scale}"]
        + (["--replace"] if args.reseed else []),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if seeded.returncode == 0:
        print(seeded.stdout.strip())
    elif "already seeded" in seeded.stderr:
        print("Seeded data already there (add --reseed to make it again).")
    else:
        sys.exit(seeded.stderr)
    manage("collectstatic", "--noinput", "-v0", env={**env, "STATIC_ROOT": str(static_root)})


def production_env(database_url, static_root):
    """Production settings, less what needs TLS in front (the bench is plain
    HTTP on loopback)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "PYTEST_ADDOPTS", "CI")}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY="bench-only-" + "x" * 50,
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
        # The cached pages too (their own key prefix in the same Redis).
        PAGE_CACHE_URL=os.environ.get("PAGE_CACHE_URL") or bench_cache_url(),
        # The login rate limit would otherwise stop the sign-ins after a few
        # runs; no e-mail leaves the machine.
        EMAIL_URL="consolemail://",
    )
    return env


def bench_cache_url():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return "redis://127.0.0.1:6379/15"
    except OSError:
        return "dbcache://django_cache"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"gunicorn did not answer {url} within {seconds} s")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(base, email):
    """A session for a persona, through the real login form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    page = opener.open(base + "/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": email, "password": DEMO_PASSWORD}
    ).encode()
    request = urllib.request.Request(
        base + "/accounts/login/", data=data, headers={"Referer": base + "/accounts/login/"}
    )
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as redirect:
        if redirect.code != 302:
            raise
    if not cookie_value(opener, "sessionid"):
        sys.exit(f"Could not sign in as {email}: is create_demo_people's password unchanged?")
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    return opener, cookies


def cookie_value(opener, name):
    for handler in opener.handlers:
        if isinstance(handler, urllib.request.HTTPCookieProcessor):
            for cookie in handler.cookiejar:
                if cookie.name == name:
                    return cookie.value
    return None


def find_plan(opener, base):
    """The first plan linked from Camden's page (a known SV or DBV plan)."""
    page = opener.open(base + "/authorities/camden/", timeout=30).read().decode()
    match = re.search(r'href="(/plans/\d+/)"', page)
    if not match:
        sys.exit("Camden's page links no plan: were the programmes loaded?")
    return match.group(1)


def feedback_body(opener, base, path):
    """A valid feedback form, checked once before it is measured."""
    page = opener.open(base + path, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    fields = {
        "csrfmiddlewaretoken": token,
        "source": "senco_network",
        "phases": "primary",
        "people_count": "12",
        "meeting_date": time.strftime("%Y-%m-%d"),
        "pressures": "senco_time",
        "barriers": "educational_psychology",
        "assessment_wait_weeks": "24",
        "support_wait_weeks": "10",
        "health_care_costs": "partly",
    }
    body = urllib.parse.urlencode(fields)
    request = urllib.request.Request(
        base + path, data=body.encode(), headers={"Referer": base + path}
    )
    try:
        response = opener.open(request, timeout=30)
        sys.exit(f"The feedback form did not accept the benchmark's answers ({response.status})")
    except urllib.error.HTTPError as redirect:
        if redirect.code != 302:
            raise
    return body


def run_hey(hey, url, headers, body, method, *, duration=None, requests=None, connections):
    command = [hey, "-c", str(connections), "-m", method, "-disable-redirects", *headers]
    command += ["-z", f"{duration}s"] if duration else ["-n", str(requests)]
    if body is not None:
        command += ["-T", "application/x-www-form-urlencoded", "-d", body]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=(duration or 60) + 60
    ).stdout
    return parse_hey(output, ok={302} if method == "POST" else {200})


def parse_hey(output, ok):
    """(requests per second, p50, p95, p99 in ms, errors) from hey's summary."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))

    def percentile(p):
        match = re.search(rf"\s{p}%+ in ([\d.]+) secs", output)
        return float(match.group(1)) * 1000 if match else float("nan")

    errors = 0
    for code, count in re.findall(r"\[(\d+)\]\s+(\d+) responses", output):
        if int(code) not in ok:
            errors += int(count)
    error_block = output.split("Error distribution:", 1)
    if len(error_block) == 2:
        errors += sum(int(n) for n in re.findall(r"\[(\d+)\]", error_block[1]))
    return rps, percentile(50), percentile(95), percentile(99), errors


def run_probe(env, plan_path):
    step("Counting queries and streaming the export")
    result = subprocess.run(
        [PYTHON, "bench/probe.py", plan_path or ""],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if result.returncode != 0:
        sys.exit(result.stderr)
    return json.loads(result.stdout)


def report(results, probe, args):
    ceiling = results[0][2]
    step(
        f"Results: {args.connections} connections, {args.duration} s per page, "
        f"{os.cpu_count()} cores, scale {args.scale}, cache {probe['cache']}"
    )
    header = f"{'page':<24} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
    header += f"{'errors':>7} {'ratio':>7} {'queries':>8} {'cold':>5}"
    print(header)
    print("-" * len(header))
    for label, path, rps, p50, p95, p99, errors in results:
        cold, warm = probe["queries"].get(path) or ("", "")
        print(
            f"{label:<24} {rps:>8.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} "
            f"{errors:>7} {rps / ceiling:>7.3f} {warm!s:>8} {cold!s:>5}"
        )
    export = probe["export"]
    print(
        f"\nCSV export of {export['rows']:,} submissions: {export['seconds']:.1f} s, "
        f"{export['rows_per_second']:,.0f} rows/s, peak memory growth "
        f"{export['peak_growth_mb']:.1f} MB"
    )


def step(text):
    print(f"\n==> {text}", flush=True)


if __name__ == "__main__":
    main()
