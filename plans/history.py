"""Who changed what, from django-simple-history's tables.

The records of one kind are read in one query and compared in Python, each
with the record before it for the same object, so a page of history costs a
fixed number of queries however long it is.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import groupby

from authorities.edits import display

# Bookkeeping that changes on every save and says nothing to a reader; and
# the moments the early warnings are dated by (plans.models.keep_since),
# which change only with a field the entry shows already (the status, the
# concern, the places).
IGNORED = {
    "id",
    "version",
    "answered_at",
    "answered_by",
    "national_office_told_at",
    "revision",
    "negotiating_since",
    "held_back_since",
    "serious_since",
    "fewer_places_since",
}
KINDS = {"+": "added", "~": "changed", "-": "removed"}
# The change reason on the history record of an instalment or target moved to
# a plan's new revision (plans.services.revise_plan); read back to tell what
# the previous revision had (plans.presenters.RevisionChanges).
MOVED_TO_REVISION = "moved here when the plan was revised"


@dataclass
class Entry:
    when: object
    who: object
    kind: str
    what: str
    reason: str = ""  # why, where the change said (a deletion, a move to a revision)
    changes: list = field(default_factory=list)


class ReadWhenAsked(Mapping):
    """{key: label} read by `read()` only when a label is first asked for:
    most histories never show the field these name."""

    def __init__(self, read):
        self._read = read
        self._labels = None

    def _all(self):
        if self._labels is None:
            self._labels = self._read()
        return self._labels

    def __getitem__(self, key):
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())


def entries(history, *, describe, hidden=(), labels=None):
    """Turn a historical queryset into Entries, newest first.

    `describe(record)` names the object ("Instalment 2024-25"); `hidden` fields
    are never shown (private notes for those who may not read them); `labels`
    maps a foreign key's name to {id: label}.
    """
    labels = labels or {}
    model = history.model.instance_type
    # Fields the history keeps (a model may leave some out of it).
    kept = {f.name for f in history.model._meta.concrete_fields}
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.name in kept and f.name not in IGNORED and f.name not in hidden
    ]
    records = history.select_related("history_user").order_by("id", "history_date", "history_id")
    result = []
    for _, group in groupby(records, key=lambda record: record.id):
        previous = None
        for record in group:
            entry = Entry(
                when=record.history_date,
                who=record.history_user,
                kind=KINDS[record.history_type],
                what=describe(record),
                reason=record.history_change_reason or "",
            )
            if record.history_type == "~" and previous is not None:
                for f in fields:
                    old, new = getattr(previous, f.attname), getattr(record, f.attname)
                    if old != new:
                        entry.changes.append(
                            (f.verbose_name, display(f, old, labels), display(f, new, labels))
                        )
                if not entry.changes and not record.history_change_reason:
                    previous = record
                    continue  # only bookkeeping changed
            result.append(entry)
            previous = record
    result.sort(key=lambda e: e.when, reverse=True)
    return result


def plan_changes(plans, *, show_private_notes, name_plans=False, question_texts=None):
    """Every change to `plans`, their instalments, targets and answers (and a
    reform plan's details and grant), newest first, in at most eight queries
    however many plans and changes (four when none is a reform plan, no
    programme changed and `question_texts`, {question id: text}, names every
    question answered).

    `plans` need their programme and assessment selected. Private notes'
    changes are left out unless `show_private_notes`. With `name_plans`
    each entry says which plan it is about ("SV 2022-23: Target: …"), for
    pages that show several plans' history together.
    """
    # Imported here: the models' module needs nothing from this one, and
    # entries() above stays usable on its own.
    from .models import (
        REFORM_PROGRAMME,
        Answer,
        FundingInstalment,
        HighNeedsStabilityGrant,
        Plan,
        Programme,
        Question,
        ReformPlanDetails,
        Target,
        year_label,
    )

    by_id = {plan.pk: plan for plan in plans}
    ids = list(by_id)

    def named(plan_id, what):
        return f"{by_id[plan_id].short_name}: {what}" if name_plans else what

    programmes = ReadWhenAsked(lambda: dict(Programme.objects.values_list("pk", "short_name")))
    found = entries(
        Plan.history.filter(id__in=ids),
        describe=lambda r: named(r.id, "Plan"),
        labels={"programme": programmes},
        hidden={"authority", "revision_of"},
    )
    found += entries(
        FundingInstalment.history.filter(plan_id__in=ids),
        describe=lambda r: named(r.plan_id, f"Instalment {year_label(r.financial_year)}"),
        hidden={"plan"},
    )
    found += entries(
        Target.history.filter(plan_id__in=ids),
        describe=lambda r: named(r.plan_id, f"Target: {r.description}"),
        hidden={"plan"},
    )
    reform_ids = [pk for pk, plan in by_id.items() if plan.programme.code == REFORM_PROGRAMME]
    if reform_ids:
        found += entries(
            ReformPlanDetails.history.filter(plan_id__in=reform_ids),
            describe=lambda r: named(r.plan_id, "Reform plan"),
            hidden={"plan"},
        )
        found += entries(
            HighNeedsStabilityGrant.history.filter(plan_id__in=reform_ids),
            describe=lambda r: named(r.plan_id, "High Needs Stability Grant"),
            hidden={"plan"},
        )
    assessments = [getattr(plan, "assessment", None) for plan in by_id.values()]
    plan_of = {a.pk: a.plan_id for a in assessments if a is not None}
    if plan_of:
        banks = {a.question_set_id for a in assessments if a is not None}
        every_question = ReadWhenAsked(
            lambda: dict(Question.objects.filter(question_set__in=banks).values_list("pk", "text"))
        )
        known = question_texts or {}

        def question(pk):
            return known.get(pk) or every_question.get(pk, "a question")

        found += entries(
            Answer.history.filter(assessment_id__in=list(plan_of)),
            describe=lambda r: named(
                plan_of[r.assessment_id], f"Answer: {question(r.question_id)}"
            ),
            hidden={"assessment", "question"}
            | (set() if show_private_notes else {"private_notes"}),
        )
    found.sort(key=lambda e: e.when, reverse=True)
    return found
