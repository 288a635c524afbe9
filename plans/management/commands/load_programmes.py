"""Load the plans app's reference data from plans/data/: the programmes, the
ten recommendations, the checklist's question bank and the known SV and DBV
plans (a copy of ../shared/data/programmes.csv).

Idempotent and all-or-nothing, like load_reference_data. Two rules keep
people's work safe:
- the question bank is versioned: a changed checklist.csv becomes a new
  version, and plans already being assessed keep the version they started with;
  a question's plain words (the briefing's own, to ask at a meeting) are not
  part of the version: they are set in place on every version's question
  with the same key and wording, so assessments under way get them too;
- a known plan is created once; if representatives have since changed it, the
  file does not overwrite them (the run reports it as "kept").
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import transaction

from authorities.caching import data_changed
from authorities.loading import Counts, read_rows
from authorities.models import LocalAuthority
from plans.models import Plan, Programme, Question, QuestionSet, Recommendation, Section

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
KEY = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
YEAR = re.compile(r"(20[0-9]{2})-[0-9]{2}")


@dataclass
class PlanCounts(Counts):
    kept: int = 0

    def __str__(self):
        return f"{self.created} created, {self.unchanged} unchanged, {self.kept} kept as edited"


def parse_programmes(path):
    rows = []
    columns = [
        "code",
        "name",
        "short_name",
        "description",
        "standing",
        "standing_source_url",
        "order",
    ]
    check_url = URLValidator(schemes=["https", "http"])
    for line, row in read_rows(path, columns):
        if not (KEY.fullmatch(row["code"]) and row["name"] and row["short_name"]):
            raise CommandError(f"{path}, line {line}: code, name and short name are required.")
        if not row["order"].isdigit():
            raise CommandError(f"{path}, line {line}: order must be a whole number.")
        # Where a programme stands comes from the national timeline: it
        # says which entry's source.
        if row["standing"]:
            try:
                check_url(row["standing_source_url"])
            except ValidationError:
                raise CommandError(
                    f"{path}, line {line}: where the programme stands needs its source (a link)."
                ) from None
        rows.append(row | {"order": int(row["order"])})
    return rows


def parse_recommendations(path):
    rows = list(read_rows(path, ["number", "text"]))
    numbers = [row["number"] for _, row in rows]
    if numbers != [str(n) for n in range(1, 11)]:
        raise CommandError(f"{path}: expected the ten recommendations numbered 1 to 10.")
    return [(int(row["number"]), row["text"][:1].upper() + row["text"][1:]) for _, row in rows]


def parse_checklist(path, programme_codes):
    """The questions, each with `programmes`: the codes of the programmes
    whose plans it is asked of (space-separated in the file), as a sorted
    tuple, empty for every programme."""
    rows, keys, titles = [], {}, {}
    columns = ["section", "section_title", "key", "text", "plain_words", "guidance", "programmes"]
    for line, row in read_rows(path, columns):
        codes = tuple(sorted(set(row["programmes"].split())))
        unknown = [code for code in codes if code not in programme_codes]
        if unknown:
            raise CommandError(f"{path}, line {line}: unknown programme {unknown[0]!r}.")
        row["programmes"] = codes
        if not row["section"].isdigit():
            raise CommandError(f"{path}, line {line}: section must be a number.")
        if not KEY.fullmatch(row["key"]):
            raise CommandError(f"{path}, line {line}: key {row['key']!r} is not a slug.")
        if row["key"] in keys:
            raise CommandError(
                f"{path}, line {line}: key {row['key']!r} already appears "
                f"on line {keys[row['key']]}."
            )
        if not row["text"]:
            raise CommandError(f"{path}, line {line}: the question is empty.")
        section = int(row["section"])
        if titles.setdefault(section, row["section_title"]) != row["section_title"]:
            raise CommandError(f"{path}, line {line}: section {section} has two titles.")
        keys[row["key"]] = line
        rows.append(row | {"section": section})
    if not rows:
        raise CommandError(f"{path}: the checklist has no questions.")
    return rows


def parse_known_plans(path, programme_codes):
    columns = [
        "la_name",
        "la_code",
        "programme",
        "round_or_tranche",
        "agreement_year",
        "total_funding_gbp",
        "duration_years",
        "source_url",
        "verified",
        "status_note",
    ]
    authorities = {la.la_code: la for la in LocalAuthority.objects.all()}
    plans = []
    for line, row in read_rows(path, columns):
        where = f"{path}, line {line}"
        authority = authorities.get(row["la_code"])
        if authority is None:
            try:
                authority = LocalAuthority.objects.get_by_name(row["la_name"])
            except LocalAuthority.DoesNotExist:
                raise CommandError(f"{where}: no authority {row['la_name']!r}.") from None
        code = row["programme"].lower()
        if code not in programme_codes:
            raise CommandError(f"{where}: unknown programme {row['programme']!r}.")
        first_year = None
        if row["agreement_year"]:
            match = YEAR.fullmatch(row["agreement_year"])
            if not match:
                raise CommandError(f"{where}: agreement year {row['agreement_year']!r}.")
            first_year = int(match.group(1))
        try:
            funding = Decimal(row["total_funding_gbp"]) if row["total_funding_gbp"] else None
        except InvalidOperation:
            raise CommandError(f"{where}: funding {row['total_funding_gbp']!r}.") from None
        if not (row["duration_years"] or "0").isdigit() or row["verified"] not in ("yes", "no"):
            raise CommandError(f"{where}: duration must be a number, verified yes or no.")
        duration = int(row["duration_years"]) if row["duration_years"] else None
        round_ = row["round_or_tranche"]
        plans.append(
            {
                "authority": authority,
                "programme_code": code,
                "round_or_tranche": f"Tranche {round_}" if round_.isdigit() else round_,
                # The file records agreements made; the five SV agreements put
                # under review in March 2024 say so in their note.
                "status": (
                    Plan.Status.UNDER_REVIEW
                    if row["status_note"].lower().startswith("under review")
                    else Plan.Status.AGREED
                ),
                "status_note": row["status_note"],
                "first_year": first_year,
                "last_year": first_year + duration - 1 if first_year and duration else None,
                "total_funding": funding,
                "sources": "\n".join(part.strip() for part in row["source_url"].split(" ; ")),
                "verified": row["verified"] == "yes",
            }
        )
    return plans


class Command(BaseCommand):
    help = "Load programmes, recommendations, the checklist and the known SV/DBV plans."

    def handle(self, *args, **options):
        if not LocalAuthority.objects.exists():
            raise CommandError("Load the authorities first: manage.py load_reference_data")
        programmes = parse_programmes(DATA_DIR / "programme_types.csv")
        recommendations = parse_recommendations(DATA_DIR / "recommendations.csv")
        codes = {row["code"] for row in programmes}
        checklist = parse_checklist(DATA_DIR / "checklist.csv", codes)
        known_plans = parse_known_plans(DATA_DIR / "known_plans.csv", codes)
        with transaction.atomic():
            programme_counts = self.load_programmes(programmes)
            recommendation_counts = self.load_recommendations(recommendations)
            checklist_result = self.load_checklist(checklist)
            plan_counts = self.load_known_plans(known_plans)
            # Programmes and recommendations are changed by update(), which
            # sends no signal: cached pages naming them are made old here
            # (authorities/caching.py).
            data_changed()
        self.stdout.write(
            f"Programmes: {programme_counts}.\n"
            f"Recommendations: {recommendation_counts}.\n"
            f"Checklist: {checklist_result}.\n"
            f"Known plans: {plan_counts}."
        )

    def load_programmes(self, rows):
        counts = Counts()
        for row in rows:
            names = ("name", "short_name", "description", "standing", "standing_source_url")
            fields = {k: row[k] for k in (*names, "order")}
            programme = Programme.objects.filter(code=row["code"]).first()
            if programme is None:
                Programme.objects.create(code=row["code"], **fields)
                counts.created += 1
            elif all(getattr(programme, k) == v for k, v in fields.items()):
                counts.unchanged += 1
            else:
                Programme.objects.filter(pk=programme.pk).update(**fields)
                counts.updated += 1
        return counts

    def load_recommendations(self, rows):
        counts = Counts()
        stored = dict(Recommendation.objects.values_list("number", "text"))
        for number, text in rows:
            if number not in stored:
                Recommendation.objects.create(number=number, text=text)
                counts.created += 1
            elif stored[number] == text:
                counts.unchanged += 1
            else:
                Recommendation.objects.filter(number=number).update(text=text)
                counts.updated += 1
        return counts

    def load_checklist(self, rows):
        latest = QuestionSet.objects.latest_version()
        wanted = [
            (r["section"], r["section_title"], r["key"], r["text"], r["guidance"], r["programmes"])
            for r in rows
        ]
        if latest is not None:
            stored = [
                (
                    q.section.number,
                    q.section.title,
                    q.key,
                    q.text,
                    q.guidance,
                    tuple(sorted(p.code for p in q.programmes.all())),
                )
                for q in latest.questions.select_related("section").prefetch_related("programmes")
            ]
            if stored == wanted:
                plain = self.load_plain_words(rows)
                return f"version {latest.version} unchanged ({len(stored)} questions{plain})"
        question_set = QuestionSet.objects.create(version=(latest.version + 1) if latest else 1)
        sections = {}
        programmes = {p.code: p for p in Programme.objects.all()}
        plain_words = {r["key"]: r["plain_words"] for r in rows}
        for order, (number, title, key, text, guidance, codes) in enumerate(wanted, start=1):
            if number not in sections:
                sections[number] = Section.objects.create(
                    question_set=question_set, number=number, title=title
                )
            question = Question.objects.create(
                question_set=question_set,
                section=sections[number],
                key=key,
                order=order,
                text=text,
                plain_words=plain_words[key],
                guidance=guidance,
            )
            question.programmes.set([programmes[code] for code in codes])
        # Earlier versions' questions of the same wording get them too.
        plain = self.load_plain_words(rows)
        return f"version {question_set.version} created ({len(wanted)} questions{plain})"

    def load_plain_words(self, rows):
        """Set each question's plain words, in every version whose question
        of that key has the file's wording (words written for one wording
        may not fit another). Returns ", N with new plain words", or ""
        when none changed."""
        wanted = {row["key"]: (row["text"], row["plain_words"]) for row in rows}
        changed = 0
        for pk, key, text, plain_words in Question.objects.filter(key__in=wanted).values_list(
            "pk", "key", "text", "plain_words"
        ):
            file_text, file_plain_words = wanted[key]
            if text == file_text and plain_words != file_plain_words:
                Question.objects.filter(pk=pk).update(plain_words=file_plain_words)
                changed += 1
        return f", {changed} with new plain words" if changed else ""

    def load_known_plans(self, rows):
        counts = PlanCounts()
        programmes = {p.code: p for p in Programme.objects.all()}
        for row in rows:
            fields = dict(row)
            programme = programmes[fields.pop("programme_code")]
            plan = Plan.objects.filter(
                authority=fields["authority"],
                programme=programme,
                round_or_tranche=fields["round_or_tranche"],
                revision=1,
            ).first()
            if plan is None:
                Plan.objects.create(programme=programme, **fields)
                counts.created += 1
            elif all(getattr(plan, k) == v for k, v in fields.items()):
                counts.unchanged += 1
            else:
                counts.kept += 1
        return counts
