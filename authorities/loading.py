"""Reading the project's reference CSV files, shared by the loaders of each app.

A loader checks a whole file before writing anything, and names the line of
the first problem it finds, so a bad file changes nothing.
"""

import csv
from dataclasses import dataclass

from django.core.management.base import CommandError


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self):
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def read_rows(path, columns):
    """Yield (line number, row) from a CSV whose header must be `columns`."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise CommandError(f"{path}: cannot read the file ({error.strerror}).") from error
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != columns:
            raise CommandError(
                f"{path}, line 1: the header must be {','.join(columns)}, "
                f"not {','.join(header or [])!r}."
            )
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise CommandError(
                    f"{path}, line {reader.line_num}: expected {len(columns)} "
                    f"columns, found {len(row)}."
                )
            yield reader.line_num, dict(zip(columns, (cell.strip() for cell in row), strict=True))
