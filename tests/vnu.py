"""The Nu HTML Checker (vnu.jar, from the npm package vnu-jar in the
repository's package.json) run by Debian's Java over many pages at once:
the JVM takes a second or two to start, so the pages are written to files
and checked in one run.

Without Java or the jar (`npm ci` not run) the tests that need it are
skipped locally, and fail in CI (CI=true), so CI cannot pass without
checking the HTML.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")


def require_vnu():
    """Skip (fail in CI) unless Java and vnu.jar are both here."""
    missing = []
    if not JAVA:
        missing.append("Java (Debian: apt-get install default-jre-headless)")
    if not VNU_JAR.exists():
        missing.append("vnu.jar (run `npm ci` in the repository root, or `make test`)")
    if missing:
        message = f"The Nu HTML Checker needs {' and '.join(missing)}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must check the HTML.")
        pytest.skip(message)


def html_errors(pages):
    """Check each page's HTML ({name: str or bytes}, a name being what a
    failure should point at, such as the persona and address). Returns
    ["name: line N: message"], empty when every page is valid HTML."""
    require_vnu()
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        names = {}
        for number, (name, html) in enumerate(pages.items()):
            path = Path(folder) / f"page-{number:04}.html"
            path.write_bytes(html if isinstance(html, bytes) else html.encode())
            names[path.name] = name
        run = subprocess.run(
            [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *sorted(names)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    # vnu writes its report to stderr, and exits 1 when it found errors.
    try:
        messages = json.loads(run.stderr)["messages"]
    except (ValueError, KeyError):
        raise AssertionError(
            f"vnu.jar failed (exit {run.returncode}): {run.stderr[-2000:]}"
        ) from None
    return [
        f"{names.get(Path(m.get('url', '')).name, m.get('url'))}: "
        f"line {m.get('lastLine', '?')}: {m['message']}"
        for m in messages
        if m.get("type") == "error" or m.get("subType") == "fatal"
    ]
