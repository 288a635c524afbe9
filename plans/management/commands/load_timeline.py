"""Load the national timeline from plans/data/national_timeline.csv (a copy
of ../shared/data/national_timeline.csv): the dates that shape SEND funding
and reform, each with how exact it is, its source and whether a primary
source confirms it.

The file is the timeline: an entry (matched by its date and event) is added,
changed to match the file, or removed when the file no longer has it.
Idempotent and all-or-nothing: the whole file is checked before anything is
written, and a second run changes nothing.
"""

import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import transaction

from authorities.caching import data_changed
from authorities.loading import Counts, read_rows
from plans.models import TimelineEntry

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "national_timeline.csv"
COLUMNS = ["date", "date_precision", "kind", "event", "source_url", "verified", "note"]
FIELDS = ("precision", "kind", "source_url", "verified", "note")


def parse_timeline(path):
    """The file's entries as field values, or CommandError naming the line."""
    entries, seen = [], {}
    precisions, kinds = set(TimelineEntry.Precision.values), set(TimelineEntry.Kind.values)
    check_url = URLValidator(schemes=["https", "http"])
    for line, row in read_rows(path, COLUMNS):
        where = f"{path}, line {line}"
        try:
            date = datetime.date.fromisoformat(row["date"])
        except ValueError:
            raise CommandError(f"{where}: {row['date']!r} is not a date (YYYY-MM-DD).") from None
        if row["date_precision"] not in precisions:
            raise CommandError(f"{where}: precision must be one of {', '.join(precisions)}.")
        if row["kind"] not in kinds:
            raise CommandError(f"{where}: kind must be one of {', '.join(kinds)}.")
        if not row["event"]:
            raise CommandError(f"{where}: the event is empty.")
        try:
            check_url(row["source_url"])
        except ValidationError:
            raise CommandError(f"{where}: {row['source_url']!r} is not a link.") from None
        if row["verified"] not in ("yes", "no"):
            raise CommandError(f"{where}: verified must be yes or no.")
        key = (date, row["event"])
        if key in seen:
            raise CommandError(f"{where}: the same event is on line {seen[key]}.")
        seen[key] = line
        entries.append(
            {
                "date": date,
                "event": row["event"],
                "precision": row["date_precision"],
                "kind": row["kind"],
                "source_url": row["source_url"],
                "verified": row["verified"] == "yes",
                "note": row["note"],
            }
        )
    return entries


class Command(BaseCommand):
    help = "Load the national timeline (plans/data/national_timeline.csv)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", type=Path, default=DATA_FILE, help="The CSV to load (default: %(default)s)."
        )

    def handle(self, *args, **options):
        entries = parse_timeline(options["file"])
        counts, removed = Counts(), 0
        with transaction.atomic():
            stored = {(e.date, e.event): e for e in TimelineEntry.objects.all()}
            for values in entries:
                entry = stored.pop((values["date"], values["event"]), None)
                if entry is None:
                    TimelineEntry.objects.create(**values)
                    counts.created += 1
                elif all(getattr(entry, name) == values[name] for name in FIELDS):
                    counts.unchanged += 1
                else:
                    for name in FIELDS:
                        setattr(entry, name, values[name])
                    entry.save()
                    counts.updated += 1
            if stored:
                removed, _ = TimelineEntry.objects.filter(
                    pk__in=[e.pk for e in stored.values()]
                ).delete()
            # Home and every plan page show the timeline: made old here, as by
            # every loader (authorities/caching.py).
            data_changed()
        self.stdout.write(f"National timeline: {counts}, {removed} removed.")
