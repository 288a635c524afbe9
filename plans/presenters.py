"""What the plan pages show that is not a model (STYLE.md: presenters)."""

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import OuterRef, Q, Subquery
from django.utils.formats import date_format

from authorities.edits import display

from .history import MOVED_TO_REVISION
from .models import (
    ZERO,
    Answer,
    FundingInstalment,
    HighNeedsStabilityGrant,
    InstalmentQuerySet,
    Question,
    ReformPlanDetails,
    Target,
    TargetUpdate,
)
from .templatetags.plans import money, number

MONEY = (("promised", "Money promised"), ("paid", "Money paid"), ("withheld", "Money withheld"))
# A target's own terms, compared between revisions (its progress is compared
# apart, from its updates).
TARGET_FIELDS = ("description", "goal", "baseline", "target_value", "unit", "due_year")
PROGRESS = dict(TargetUpdate.Status.choices)


def _facts(plan):
    """The plan's facts a revision is most likely to change, as people read them."""
    agreed = plan.agreement_date
    return {
        "Status": plan.get_status_display(),
        "Agreement date": date_format(agreed, "j F Y") if agreed else "Not known",
        "Financial years": plan.years_label or "Not known",
        "Total extra funding": money(plan.total_funding),
        "Published plan": plan.document_url or "Not found yet",
    }


def _target_value(target, name):
    model_field = Target._meta.get_field(name)
    value = getattr(target, model_field.attname)
    if model_field.get_internal_type() == "DecimalField":
        return number(value) or "(blank)"
    return display(model_field, value, {})


def _answer_text(answer):
    """ "Partly, serious concern"."""
    return f"{answer.get_response_display()}, {answer.get_concern_display().lower()}"


def _record_changes(model, before, after):
    """A Change for each field people edit that differs between two records
    of `model` (either may be None: not recorded), as people read them."""
    found = []
    for model_field in model._meta.concrete_fields:
        if not model_field.editable or model_field.name in ("id", "plan"):
            continue
        was = getattr(before, model_field.attname) if before is not None else None
        now = getattr(after, model_field.attname) if after is not None else None
        if was != now:
            label = model_field.verbose_name
            found.append(
                Change(
                    label[:1].upper() + label[1:],
                    display(model_field, was),
                    display(model_field, now),
                )
            )
    return found


def _add(*totals):
    return {key: sum((t.get(key) or ZERO for t in totals), ZERO) for key, _ in MONEY}


@dataclass(frozen=True)
class Change:
    """One thing that differs between two revisions, as people read it."""

    label: str
    before: str
    after: str


@dataclass
class TargetChange:
    description: str  # as it is now
    # Change, each labelled to follow the description: "target", "progress".
    changes: list = field(default_factory=list)


@dataclass(frozen=True)
class AnswerChange:
    question: object  # the Question on this revision's checklist
    before: str
    after: str


class RevisionChanges:
    """What changed from the previous revision to `plan`, in the union's
    terms, for the plan page.

    - The plan's facts: the previous revision's as they stand against this
      one's (`facts`, and the labels of those `unchanged`).
    - Its money and targets: what the previous revision had when it was
      revised is read from the history records of the instalments and
      targets that moved here then (services.move_to_revision), with any
      still on it (none, unless added since or from before moving began).
      What this revision has is what is on it now, with what has since moved
      on to a later revision, if any. Targets `added`, `removed` and
      `changed` (its terms, and its latest progress since the revision).
    - The checklist: answers carried forward `to_confirm`, answers
      `confirmed` unchanged, `answers_changed` (response or concern) and
      questions `newly_answered`, against the previous revision's answers.
    - A reform plan's details (`reform_changes`: the previous revision's
      own against this one's copy, as changed since) and its grant
      (`grant_changes`: as it was when it moved here, from its history,
      against what it is now), each field a Change. Two more queries, for
      reform plans only.

    Empty (`shown` false, no query) for a plan that revises nothing.
    Otherwise six queries however many instalments, targets and answers:
    the previous revision (which the page reads anyway), the instalments'
    and the targets' move records, the instalment totals, the targets with
    their progress, the answers.
    """

    def __init__(self, plan):
        self.plan = plan
        self.previous = plan.revision_of if plan.revision_of_id else None
        self.facts, self.unchanged = [], []
        self.targets_added, self.targets_removed, self.targets_changed = [], [], []
        self.to_confirm = self.confirmed = 0
        self.answers_changed, self.newly_answered = [], []
        self.reform_changes, self.grant_changes = [], []
        if self.previous is None:
            return
        before, after = _facts(self.previous), _facts(plan)
        before_money, after_money = self._money()
        for key, label in MONEY:
            before[label], after[label] = money(before_money[key]), money(after_money[key])
        for label, was in before.items():
            if was == after[label]:
                self.unchanged.append(label)
            else:
                self.facts.append(Change(label, was, after[label]))
        self._compare_targets()
        self._compare_answers()
        if plan.is_reform_plan:
            self._compare_reform()

    @property
    def shown(self):
        return self.previous is not None

    @property
    def targets_unchanged(self):
        return not (self.targets_added or self.targets_removed or self.targets_changed)

    def _moved(self, model):
        """`model`'s records of rows moved here, or moved on from here."""
        return model.history.filter(history_change_reason=MOVED_TO_REVISION).filter(
            Q(plan=self.plan.pk) | Q(plan__revision_of=self.plan.pk)
        )

    def _money(self):
        # The same sums as the plan page's totals (InstalmentQuerySet.totals).
        moved = self._moved(FundingInstalment).order_by().values("plan")
        moved = {row.pop("plan"): row for row in moved.annotate(**InstalmentQuerySet._sums())}
        moved_in = moved.pop(self.plan.pk, {})
        on = FundingInstalment.objects.filter(
            plan__in=[self.previous.pk, self.plan.pk]
        ).totals_by_plan()
        before = _add(moved_in, on.get(self.previous.pk, {}))
        after = _add(on.get(self.plan.pk, {}), *moved.values())
        return before, after

    def _compare_targets(self):
        moved_in, moved_on = {}, {}
        for record in self._moved(Target).order_by("history_date", "history_id"):
            (moved_in if record.plan_id == self.plan.pk else moved_on)[record.id] = record
        # When the revision was made: its progress is compared from then.
        since = min((r.history_date for r in moved_in.values()), default=None)

        def latest_progress(**within):
            updates = TargetUpdate.objects.filter(target=OuterRef("pk"), **within)
            return Subquery(updates.order_by("-recorded_on", "-pk").values("status")[:1])

        targets = Target.objects.filter(plan__in=[self.previous.pk, self.plan.pk]).annotate(
            progress_now=latest_progress()
        )
        if since is not None:
            targets = targets.annotate(progress_then=latest_progress(recorded_at__lt=since))
        before, after = dict(moved_in), {}
        for target in targets:
            (after if target.plan_id == self.plan.pk else before)[target.pk] = target
        after |= moved_on

        self.targets_added = [t.description for pk, t in after.items() if pk not in before]
        self.targets_removed = [t.description for pk, t in before.items() if pk not in after]
        for pk, was in before.items():
            now = after.get(pk)
            if now is None:
                continue
            change = TargetChange(now.description)
            for name in TARGET_FIELDS:
                old, new = _target_value(was, name), _target_value(now, name)
                if old != new:
                    label = Target._meta.get_field(name).verbose_name  # "DfE goal"
                    change.changes.append(Change(label, old, new))
            then = getattr(now, "progress_then", None)
            current = getattr(now, "progress_now", None)
            if then != current:
                change.changes.append(
                    Change(
                        "progress",
                        PROGRESS.get(then, "No progress recorded"),
                        PROGRESS.get(current, "No progress recorded"),
                    )
                )
            if change.changes:
                self.targets_changed.append(change)

    def _compare_answers(self):
        answers = (
            Answer.objects.filter(assessment__plan__in=[self.previous.pk, self.plan.pk])
            .select_related("question", "assessment")
            .only(
                "response",
                "concern",
                "carried_forward",
                "question__key",
                "question__text",
                "assessment__plan",
            )
        )
        previous, here = {}, []
        for answer in answers:
            if answer.assessment.plan_id == self.plan.pk:
                here.append(answer)
            else:
                previous[answer.question.key] = answer
        for answer in here:
            was = previous.get(answer.question.key)
            if answer.carried_forward:
                self.to_confirm += 1
            elif was is None:
                self.newly_answered.append(answer.question)
            elif (was.response, was.concern) == (answer.response, answer.concern):
                self.confirmed += 1
            else:
                self.answers_changed.append(
                    AnswerChange(answer.question, _answer_text(was), _answer_text(answer))
                )

    def _compare_reform(self):
        details = {
            d.plan_id: d
            for d in ReformPlanDetails.objects.filter(plan__in=[self.previous.pk, self.plan.pk])
        }
        self.reform_changes = _record_changes(
            ReformPlanDetails, details.get(self.previous.pk), details.get(self.plan.pk)
        )
        # The grant moves from revision to revision: what it was when it
        # moved here, against what it is now (here, or moved on since).
        moved = list(self._moved(HighNeedsStabilityGrant).order_by("history_date", "history_id"))
        then = next((r for r in moved if r.plan_id == self.plan.pk), None)
        now = HighNeedsStabilityGrant.objects.filter(plan=self.plan.pk).first() or next(
            (r for r in reversed(moved) if r.plan_id != self.plan.pk), None
        )
        self.grant_changes = _record_changes(HighNeedsStabilityGrant, then, now)

    @property
    def reform_unchanged(self):
        return not (self.reform_changes or self.grant_changes)


class Neighbour(NamedTuple):
    """A question next to the one shown, as the page links to it."""

    key: str
    number: int
    text: str

    @property
    def label(self):
        return f"Question {self.number}: {self.text}"


@dataclass
class Place:
    """Where a question stands in its bank: its number, how many there are,
    and the questions either side (None at either end)."""

    number: int
    count: int
    previous: Neighbour | None
    next: Neighbour | None

    @classmethod
    def of(cls, question, programme_id):
        """Among the questions of its bank asked of plans of the programme
        `programme_id`, in one query, however many questions the bank has."""
        rows = list(
            Question.objects.filter(question_set_id=question.question_set_id)
            .for_programme(programme_id)
            .values_list("key", "text")
        )
        at = [key for key, _ in rows].index(question.key)

        def neighbour(index):
            if 0 <= index < len(rows):
                return Neighbour(rows[index][0], index + 1, rows[index][1])
            return None

        return cls(at + 1, len(rows), neighbour(at - 1), neighbour(at + 1))


class Panels:
    """What the apps above plans show on its pages (a plan's meetings, the
    feedback linked to its checklist), without plans importing them: each
    app registers a function in its AppConfig.ready(), and the view calls
    them all for the page's context. The functions read their lists there,
    so the page still makes no query while it renders."""

    def __init__(self):
        self._readers = []

    def register(self, reader):
        self._readers.append(reader)
        return reader

    def context(self, **page):
        found = {}
        for reader in self._readers:
            found |= reader(**page)
        return found


# Called with plan, user and access.
PLAN_PAGE = Panels()
# Called with plan, question, user and access.
ANSWER_PAGE = Panels()
