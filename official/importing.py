"""Loading a file read by official/readers.py: each row placed on one of the
app's authorities or regions, compared with what is stored, and written in
one transaction, or only compared (the admin's preview).

Places are matched on codes: the DfE LA code, then the ONS/GSS code (which
changes with a boundary: the 2016 inspections file gives Barnsley and
Sheffield older codes than the app's), each checked against the row's name.
Only a file that gives no DfE code is matched on names and the app's aliases
too (the DSG file, the inspection files); a file whose codes contradict its
names is matched on names where they do (Places.authorities). A row that
matches nothing (a predecessor authority such as Cumbria or
Northamptonshire) is still stored, with no authority, and named in the
report.

Loading is idempotent: a figure is written only when its value, symbol, place
or release differs from what is stored, so loading a file twice reports
nothing new and nothing changed the second time.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from authorities.caching import data_changed
from authorities.models import AuthorityAlias, LocalAuthority, Region, as_words

from .models import OGL, DatePrecision, Figure, Inspection, Level, Release
from .readers import Parsed

BATCH = 500
FIGURE_FIELDS = [
    "area_name",
    "authority_id",
    "region_id",
    "period_type",
    "value",
    "status",
    "release_id",
]
INSPECTION_FIELDS = [
    "area_name",
    "authority_id",
    "published",
    "outcome",
    "action_required",
    "action_areas",
    "revisit_outcome",
    "release_id",
]


@dataclass
class Report:
    """What loading a file does (or, in a preview, would do)."""

    file_name: str
    release: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    # "Cumbria (909)" → how many of the file's rows name it.
    unplaced: Counter = field(default_factory=Counter)
    # Places whose code and name disagree, placed by name (Places.authorities).
    placed_by_name: set = field(default_factory=set)

    @property
    def unplaced_places(self):
        """[(place, rows)], by name (a template cannot ask a Counter for its items)."""
        return sorted(self.unplaced.items())

    @property
    def placed_by_name_places(self):
        return sorted(self.placed_by_name)

    @property
    def unplaced_rows(self):
        return sum(self.unplaced.values())

    def __str__(self):
        text = (
            f"{self.file_name} ({self.release}): {self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged"
        )
        if self.unplaced:
            places = ", ".join(sorted(self.unplaced))
            text += (
                f"; {self.unplaced_rows} not placed on an authority or region the app "
                f"knows, kept without one: {places}"
            )
        if self.placed_by_name:
            places = ", ".join(sorted(self.placed_by_name))
            text += (
                f"; placed by name, as the file's code is another authority's or none: {places}"
            )
        return text + "."


class Places:
    """The app's authorities and regions by code and name, read once."""

    def __init__(self):
        authorities = LocalAuthority.objects.values_list("pk", "la_code", "gss_code", "name")
        self.by_la_code = {la_code: pk for pk, la_code, _, _ in authorities}
        self.by_gss_code = {gss_code: pk for pk, _, gss_code, _ in authorities}
        self.named = {as_words(name): pk for pk, _, _, name in authorities}
        self.aliased = {}
        self.names_of = {pk: {words} for words, pk in self.named.items()}
        for name, pk in AuthorityAlias.objects.values_list("name", "authority_id"):
            self.aliased.setdefault(as_words(name), pk)
            self.names_of.setdefault(pk, set()).add(as_words(name))
        self.regions = {
            as_words(name): pk for pk, name in Region.objects.values_list("pk", "name")
        }

    def authorities(self, places, *, by_name):
        """{(la_code, gss_code, name): authority pk or None} for a file's
        authority rows, and the places put by name against their code.

        By code, where the name agrees with it (the authority's name or an
        alias). A file that gives no DfE code (`by_name`) is matched on
        names and aliases too. A file whose codes and names disagree (the
        tribunal table gives Nottinghamshire Northamptonshire's 928) is not
        trusted for those rows, nor for its codes the app does not know:
        they are placed by the authority's own name, if one has it and no
        row of the file is placed on it by code; the rest stay unplaced, as
        a predecessor's code does in a file that agrees with itself."""
        found, doubtful = {}, []
        for place in places:
            la_code, gss_code, name = place
            pk = self.by_la_code.get(la_code) if la_code else self.by_gss_code.get(gss_code)
            if pk is not None and as_words(name) not in self.names_of[pk]:
                doubtful.append(place)
                pk = None
            elif pk is None and by_name:
                pk = self.named.get(as_words(name)) or self.aliased.get(as_words(name))
            found[place] = pk
        by_name_against_code = set()
        if doubtful:
            taken = {pk for pk in found.values() if pk is not None}
            for place in places:
                if found[place] is None and (place in doubtful or place[0] or place[1]):
                    pk = self.named.get(as_words(place[2]))
                    if pk is not None and pk not in taken:
                        found[place] = pk
                        taken.add(pk)
                        by_name_against_code.add(place)
        return found, by_name_against_code

    def region(self, name):
        return self.regions.get(as_words(name))


def _label(la_code, gss_code, name):
    code = la_code or gss_code
    return f"{name} ({code})" if code and code != name else name


def _place_authorities(places, rows, by_name, report):
    keys = list(dict.fromkeys((row.la_code, row.gss_code, row.area_name) for row in rows))
    found, against_code = places.authorities(keys, by_name=by_name)
    report.placed_by_name.update(_label(*key) for key in against_code)
    return found


@transaction.atomic
def load(
    parsed: Parsed,
    *,
    title,
    source_url,
    publisher="",
    published=None,
    published_precision=DatePrecision.DAY,
    licence=OGL,
    write,
):
    """Compare `parsed` with what is stored and, with `write`, store it as
    release `title`: all of it or, on any error, none of it."""
    release = Release.objects.filter(title=title, file_name=parsed.file_name).first()
    details = {
        "publisher": publisher or parsed.publisher,
        "published": published,
        "published_precision": published_precision,
        "source_url": source_url,
        "licence": licence or OGL,
    }
    if write:
        if release is None:
            release = Release.objects.create(title=title, file_name=parsed.file_name, **details)
        elif any(getattr(release, k) != v for k, v in details.items()):
            for key, value in details.items():
                setattr(release, key, value)
            release.save()
    report = Report(parsed.file_name, title)
    places = Places()
    release_id = release.pk if release else None
    if parsed.figures:
        _figures(parsed, places, release_id, report, write)
    if parsed.inspections:
        _inspections(parsed, places, release_id, report, write)
    if write:
        # bulk_create and bulk_update send no signal: cached pages showing
        # official figures are made old here (authorities/caching.py).
        data_changed()
    return report


def _stored(queryset, key_fields, fields):
    """{key: (pk, (field values…))} of the stored rows, as tuples (a file
    of 50,000 figures is compared in a second)."""
    width = len(key_fields)
    return {
        row[1 : 1 + width]: (row[0], row[1 + width :])
        for row in queryset.values_list("pk", *key_fields, *fields)
    }


def _compare(stored, key, wanted, fields, report, new, changed, make):
    found = stored.get(key)
    if found is None:
        new.append(make(**wanted))
        report.new += 1
    elif found[1] != tuple(wanted[name] for name in fields):
        changed.append(make(pk=found[0], **wanted))
        report.changed += 1
    else:
        report.unchanged += 1


def _figures(parsed, places, release_id, report, write):
    by_name = any(row.by_name for row in parsed.figures)
    stored = _stored(
        Figure.objects.filter(measure__in=parsed.measures),
        ["measure", "period", "level", "area_code"],
        FIGURE_FIELDS,
    )
    authorities = _place_authorities(
        places, [r for r in parsed.figures if r.level == Level.LOCAL_AUTHORITY], by_name, report
    )
    new, changed = [], []
    for row in parsed.figures:
        authority_id = region_id = None
        if row.level == Level.LOCAL_AUTHORITY:
            authority_id = authorities[(row.la_code, row.gss_code, row.area_name)]
            if authority_id is None:
                report.unplaced[_label(row.la_code, row.gss_code, row.area_name)] += 1
        elif row.level == Level.REGIONAL:
            region_id = places.region(row.area_name)
            if region_id is None:
                report.unplaced[row.area_name] += 1
        wanted = {
            "measure": row.measure,
            "period": row.period,
            "area_code": row.area_code,
            "level": row.level,
            "area_name": row.area_name,
            "authority_id": authority_id,
            "region_id": region_id,
            "period_type": row.period_type,
            "value": row.value,
            "status": row.status,
            "release_id": release_id,
        }
        _compare(stored, row.key, wanted, FIGURE_FIELDS, report, new, changed, Figure)
    if write:
        Figure.objects.bulk_create(new, batch_size=BATCH)
        Figure.objects.bulk_update(changed, FIGURE_FIELDS, batch_size=BATCH)


def _inspections(parsed, places, release_id, report, write):
    frameworks = {row.framework for row in parsed.inspections}
    stored = _stored(
        Inspection.objects.filter(framework__in=frameworks),
        ["framework", "area_code", "started"],
        INSPECTION_FIELDS,
    )
    authorities = _place_authorities(places, parsed.inspections, True, report)
    new, changed = [], []
    for row in parsed.inspections:
        authority_id = authorities[("", row.gss_code, row.area_name)]
        if authority_id is None:
            report.unplaced[_label("", row.gss_code, row.area_name)] += 1
        wanted = {
            "framework": row.framework,
            "area_code": row.area_code,
            "started": row.started,
            "area_name": row.area_name,
            "authority_id": authority_id,
            "published": row.published,
            "outcome": row.outcome,
            "action_required": row.action_required,
            "action_areas": row.action_areas,
            "revisit_outcome": row.revisit_outcome,
            "release_id": release_id,
        }
        _compare(stored, row.key, wanted, INSPECTION_FIELDS, report, new, changed, Inspection)
    if write:
        Inspection.objects.bulk_create(new, batch_size=BATCH)
        Inspection.objects.bulk_update(changed, INSPECTION_FIELDS, batch_size=BATCH)
