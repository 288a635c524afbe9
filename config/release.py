"""Which release is running, for the page cache's keys: a new release never
reads a page or figure the last one stored (its pickled classes, or its
templates' markup, may no longer fit).

RELEASE names it where the deploy says (a tag or commit); otherwise it is a
digest of the code and templates, the same on every server running the
same files, and different as soon as one of them changes.
"""

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What decides what is cached: the Python of the app's own apps and config,
# and the templates.
SOURCES = (
    "authorities",
    "plans",
    "consultations",
    "feedback",
    "dashboards",
    "config",
    "templates",
)


def code_digest(root=ROOT):
    digest = hashlib.sha256()
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".txt"} and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
