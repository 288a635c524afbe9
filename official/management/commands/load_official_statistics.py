"""Load official statistics files: by default the copy the project ships in
official/data/ (sources.csv says where each came from).

    manage.py load_official_statistics
    manage.py load_official_statistics path/to/timeliness_20_week.csv \\
        --release "Education, health and care plans, reporting year 2026" \\
        --source-url https://explore-education-statistics.service.gov.uk/…

Every file is read and checked before anything is written, and all of them
are loaded in one transaction: a bad file changes nothing. Loading the same
files again reports 0 new and 0 changed. Rows naming an authority the app
does not know are kept without one and listed.
"""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authorities.loading import read_rows
from authorities.models import LocalAuthority
from official.importing import load
from official.models import DatePrecision
from official.readers import BadFile, read

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SOURCES = DATA_DIR / "sources.csv"
# `published` as exact as `published_precision` says ("day", or "month" for
# a release the source dates only to the month), or empty when not known.
SOURCE_COLUMNS = ["file", "release", "publisher", "published", "published_precision", "source_url"]


def shipped_sources():
    """{file name: its release's details} from official/data/sources.csv."""
    sources = {}
    for line, row in read_rows(SOURCES, SOURCE_COLUMNS):
        try:
            published = datetime.date.fromisoformat(row["published"]) if row["published"] else None
        except ValueError:
            raise CommandError(
                f"{SOURCES}, line {line}: {row['published']!r} is not a date."
            ) from None
        precision = row["published_precision"] or DatePrecision.DAY
        if precision not in DatePrecision.values:
            raise CommandError(
                f"{SOURCES}, line {line}: {precision!r} is not one of "
                f"{', '.join(DatePrecision.values)}."
            )
        sources[row["file"]] = {
            "title": row["release"],
            "publisher": row["publisher"],
            "published": published,
            "published_precision": precision,
            "source_url": row["source_url"],
        }
    return sources


class Command(BaseCommand):
    help = "Load official statistics (EES CSVs, tribunal, DSG, inspections); idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="*", type=Path, help="Files to load (default: official/data/)."
        )
        parser.add_argument("--release", help="The release's title, for a file not shipped.")
        parser.add_argument("--publisher", default="", help="Default: the layout's publisher.")
        parser.add_argument("--published", type=datetime.date.fromisoformat, default=None)
        parser.add_argument("--source-url", help="Where the release is published.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would change; write nothing."
        )

    def handle(self, *args, paths, release, publisher, published, source_url, dry_run, **options):
        if not LocalAuthority.objects.exists():
            raise CommandError("Load the authorities first: manage.py load_reference_data")
        sources = shipped_sources()
        if not paths:
            paths = [DATA_DIR / name for name in sources]
        files = []
        for path in paths:
            details = self.details(path, sources, release, publisher, published, source_url)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except OSError as error:
                raise CommandError(f"{path}: cannot read the file ({error.strerror}).") from error
            except UnicodeDecodeError:
                raise CommandError(f"{path}: not a UTF-8 text file.") from None
            try:
                files.append((read(path.name, text), details))
            except BadFile as error:
                raise CommandError(f"Nothing loaded. {error}") from None
        with transaction.atomic():
            reports = [load(parsed, write=not dry_run, **details) for parsed, details in files]
            if dry_run:
                transaction.set_rollback(True)
        prefix = "Would load (nothing written): " if dry_run else ""
        for report in reports:
            self.stdout.write(prefix + str(report))

    def details(self, path, sources, release, publisher, published, source_url):
        if release or source_url:
            if not (release and source_url):
                raise CommandError("Give both --release and --source-url for a file not shipped.")
            return {
                "title": release,
                "publisher": publisher,
                "published": published,
                "source_url": source_url,
            }
        if path.name not in sources:
            raise CommandError(
                f"{path}: not one of the shipped files; say which release it is "
                "(--release, --source-url, and --published if known)."
            )
        return sources[path.name]
