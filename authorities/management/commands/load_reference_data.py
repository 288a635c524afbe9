"""Load the 153 local authorities, their regions and aliases from the CSV
files kept in authorities/data/.

Idempotent: a second run reports everything unchanged. The whole file is
checked before anything is written, and the load is one transaction, so a
malformed file changes nothing.
"""

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from authorities.loading import Counts, read_rows
from authorities.models import AuthorityAlias, LocalAuthority, Region

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

REGIONS = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
AUTHORITY_COLUMNS = ["la_code", "gss_code", "name", "region"]
ALIAS_COLUMNS = ["la_code", "alias"]


def parse_authorities(path):
    rows, seen = [], {"la_code": {}, "gss_code": {}, "name": {}}
    for line, row in read_rows(path, AUTHORITY_COLUMNS):
        problem = None
        if not re.fullmatch(r"[0-9]{3}", row["la_code"]):
            problem = f"LA code {row['la_code']!r} is not three digits"
        elif not re.fullmatch(r"E[0-9]{8}", row["gss_code"]):
            problem = f"ONS/GSS code {row['gss_code']!r} is not E followed by eight digits"
        elif not row["name"]:
            problem = "the name is empty"
        elif row["region"] not in REGIONS:
            problem = f"region {row['region']!r} is not one of the nine English regions"
        else:
            for column, earlier in seen.items():
                if row[column] in earlier:
                    problem = (
                        f"{column} {row[column]!r} already appears on line {earlier[row[column]]}"
                    )
                    break
                earlier[row[column]] = line
        if problem:
            raise CommandError(f"{path}, line {line}: {problem}.")
        rows.append(row)
    if not rows:
        raise CommandError(f"{path}: the file has no authorities.")
    return rows


def parse_aliases(path, la_codes):
    rows, seen = [], {}
    for line, row in read_rows(path, ALIAS_COLUMNS):
        if row["la_code"] not in la_codes:
            raise CommandError(
                f"{path}, line {line}: no authority has LA code {row['la_code']!r}."
            )
        if not row["alias"]:
            raise CommandError(f"{path}, line {line}: the alias is empty.")
        if row["alias"].lower() in seen:
            raise CommandError(
                f"{path}, line {line}: alias {row['alias']!r} already appears on "
                f"line {seen[row['alias'].lower()]}."
            )
        seen[row["alias"].lower()] = line
        rows.append(row)
    return rows


class Command(BaseCommand):
    help = "Load or refresh the local authorities, regions and aliases (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--authorities", type=Path, default=DATA_DIR / "local_authorities.csv")
        parser.add_argument("--aliases", type=Path, default=DATA_DIR / "aliases.csv")

    def handle(self, *args, authorities, aliases, **options):
        authority_rows = parse_authorities(authorities)
        alias_rows = parse_aliases(aliases, {row["la_code"] for row in authority_rows})
        try:
            with transaction.atomic():
                regions, region_counts = self.load_regions()
                authority_counts = self.load_authorities(authority_rows, regions)
                alias_counts = self.load_aliases(alias_rows)
        except IntegrityError as error:
            raise CommandError(
                f"Nothing loaded: the file conflicts with what is stored ({error}). "
                "If two authorities really swapped codes, correct them one at a time in the admin."
            ) from error
        self.stdout.write(
            f"Regions: {region_counts}.\n"
            f"Local authorities: {authority_counts}.\n"
            f"Aliases: {alias_counts}."
        )

    def load_regions(self):
        counts, regions = Counts(), {}
        for name in REGIONS:
            region, created = Region.objects.get_or_create(
                name=name, defaults={"slug": slugify(name)}
            )
            counts.created += created
            counts.unchanged += not created
            regions[name] = region
        return regions, counts

    def load_authorities(self, rows, regions):
        counts = Counts()
        existing = {la.la_code: la for la in LocalAuthority.objects.all()}
        for row in rows:
            wanted = {
                "gss_code": row["gss_code"],
                "name": row["name"],
                "slug": slugify(row["name"]),
                "region_id": regions[row["region"]].pk,
            }
            authority = existing.get(row["la_code"])
            if authority is None:
                LocalAuthority.objects.create(la_code=row["la_code"], **wanted)
                counts.created += 1
            elif any(getattr(authority, field) != value for field, value in wanted.items()):
                for field, value in wanted.items():
                    setattr(authority, field, value)
                authority.save()
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts

    def load_aliases(self, rows):
        counts = Counts()
        authorities = dict(LocalAuthority.objects.values_list("la_code", "pk"))
        existing = {alias.name.lower(): alias for alias in AuthorityAlias.objects.all()}
        for row in rows:
            alias = existing.get(row["alias"].lower())
            authority_id = authorities[row["la_code"]]
            if alias is None:
                AuthorityAlias.objects.create(authority_id=authority_id, name=row["alias"])
                counts.created += 1
            elif alias.authority_id != authority_id or alias.name != row["alias"]:
                alias.authority_id, alias.name = authority_id, row["alias"]
                alias.save()
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts
