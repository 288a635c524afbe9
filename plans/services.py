"""Actions on plans that touch several records or send e-mail."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from authorities import mail
from authorities.edits import Saved, StaleEdit, lock_version, same_text, save_values

from .history import MOVED_TO_REVISION
from .models import (
    Answer,
    Assessment,
    EvidenceLink,
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Question,
    QuestionSet,
    ReformPlanDetails,
    Target,
    counting_checklists_later,
)


class AnswerConflict(Exception):
    """Someone else saved the answer after this person opened it."""

    def __init__(self, current):
        super().__init__("The answer changed since it was opened.")
        self.current = current


@transaction.atomic
def save_plan(*, plan, data, user, base_version=None, reason=None):
    """Store `data` (the plan's field values, by field or attribute name:
    authorities.edits.edited_values(PlanForm) gives them) on `plan`, an
    authority's new Plan or a stored one, as every edit is saved
    (authorities/edits.py): refused (StaleEdit) if someone else saved it
    since `base_version`, nothing written if unchanged. `reason`, for a
    change that skips the plan's lifecycle, is kept in its history. Tell the
    national office, once, that `user` first recorded the plan as
    negotiating (after the save commits, so a failed save sends nothing).
    Returns what save_values returns."""

    def give_reason(changed):
        if reason:
            changed._change_reason = reason

    saved = save_values(plan, data, base_version=base_version, before_save=give_reason)
    plan = saved.obj
    if not saved.changed:
        return saved
    if plan.status == Plan.Status.NEGOTIATING and plan.national_office_told_at is None:
        # The change's reason (skipping the lifecycle) belongs to the
        # change, not this note.
        plan._change_reason = None
        plan.national_office_told_at = timezone.now()
        plan.save(update_fields=["national_office_told_at"])
        url = settings.SITE_URL + plan.get_absolute_url()
        who = user.display_name
        tell_national_office_of_negotiation(plan, url, who)
    return saved


@transaction.atomic
def save_reform_details(*, record, data, base_version):
    """Store `data` (edited_values(ReformPlanForm)) on a reform plan's
    ReformPlanDetails `record`, new or stored, as every edit is saved
    (save_plan)."""
    return _save_plan_part(record, data, base_version)


@transaction.atomic
def save_grant(*, record, data, base_version):
    """Store `data` (edited_values(GrantForm)) on a reform plan's
    HighNeedsStabilityGrant `record`, new or stored, as every edit is saved
    (save_plan)."""
    return _save_plan_part(record, data, base_version)


def _save_plan_part(record, data, base_version):
    """save_values for a record a plan has one of (ReformPlanDetails,
    HighNeedsStabilityGrant). The first save creates it, from version 0;
    if someone else created it meanwhile, the save is refused (StaleEdit,
    with theirs), not a 500 on the database's one-per-plan rule."""
    if record.pk:
        return save_values(record, data, base_version=base_version)
    model = type(record)
    if base_version != 0:
        # Opened on a record that has since gone (deleted in the admin).
        raise StaleEdit(None)
    try:
        with transaction.atomic():
            return save_values(record, data)
    except IntegrityError:
        theirs = model.objects.filter(plan=record.plan_id).first()
        if theirs is None:
            raise
        raise StaleEdit(theirs) from None


def tell_national_office_of_negotiation(plan, url, who):
    mail.send(
        subject=f"{plan.authority} is negotiating {plan.programme.name}",
        body=(
            f"{who} has recorded that {plan.authority} is negotiating its involvement "
            f"in {plan.programme.name}.\n\nPlan: {url}\n\n"
            f"SEND recovery plan tracker\n{settings.SITE_URL}/\n"
        ),
        to=[settings.NATIONAL_OFFICE_EMAIL],
        about=f"the national office news of plan {plan.pk} negotiating",
    )


def assessment_for(plan):
    """The plan's checklist, started on the latest question bank if new."""
    assessment = getattr(plan, "assessment", None) if plan.pk else None
    if assessment is None:
        assessment, _ = Assessment.objects.get_or_create(
            plan=plan, defaults={"question_set": QuestionSet.objects.latest_version()}
        )
    return assessment


@transaction.atomic
def save_answer(*, plan, question, data, base_version, user, link=None):
    """Save one answer, refusing it if someone else saved since `base_version`
    (0 for "there was no answer yet"), with the lock every edit takes
    (authorities/edits.py). `data` holds the answer form's cleaned fields; a
    field it lacks (private notes, for someone who may not see them) is left
    as it was. Saving an answer unchanged writes nothing (unless it was
    carried forward: saving it confirms it). Returns Saved, for the answer.

    `link`, an unsaved EvidenceLink typed with the answer, is added to it in
    the same transaction: added even when the answer itself is unchanged,
    never when the save is refused (AnswerConflict)."""
    saved = _save_answer(plan, question, data, base_version, user)
    if link is not None:
        link.answer = saved.obj
        link.added_by = user
        link.save()
    return saved


def _save_answer(plan, question, data, base_version, user):
    assessment = assessment_for(plan)
    found = Answer.objects.filter(assessment=assessment, question=question).only("pk").first()
    if found is None:
        if base_version != 0:
            raise AnswerConflict(None)
        answer = Answer(assessment=assessment, question=question, version=0)
    else:
        try:
            answer = lock_version(Answer, found.pk, base_version)
        except StaleEdit as stale:
            raise AnswerConflict(stale.current) from None
        unchanged = all(same_text(getattr(answer, field), value) for field, value in data.items())
        if unchanged and not answer.carried_forward:
            return Saved(answer, changed=False)
    for field, value in data.items():
        setattr(answer, field, value)
    answer.answered_by = user
    answer.answered_at = timezone.now()
    answer.carried_forward = False
    answer.version += 1
    try:
        with transaction.atomic():
            answer.save()
    except IntegrityError:
        # Two first answers at once: the other one won.
        raise AnswerConflict(
            Answer.objects.get(assessment=assessment, question=question)
        ) from None
    return Saved(answer, changed=True)


@transaction.atomic
def confirm_answer(*, answer, base_version, user):
    """Accept a carried-forward answer as still true for the revised plan."""
    current = Answer.objects.select_for_update().get(pk=answer.pk)
    if current.version != base_version:
        raise AnswerConflict(current)
    current.carried_forward = False
    current.answered_by = user
    current.answered_at = timezone.now()
    current.version += 1
    current.save()
    return current


@transaction.atomic
def revise_plan(*, plan, user):
    """Start a revision of `plan`: a new plan with the same facts, which
    takes over the plan's instalments and targets (see move_to_revision) and
    whose checklist answers (and their evidence links) are carried forward,
    marked so until someone confirms or changes each one. Questions are
    matched by key, so answers follow a question into a newer version of the
    bank. A plan is revised once: revise the latest revision (ValueError)."""
    # Locked first, so that two people revising at once make one revision.
    Plan.objects.select_for_update(of=("self",)).order_by().get(pk=plan.pk)
    if plan.revisions.exists():
        raise ValueError("This plan has already been revised; revise the latest revision.")
    copied = [f.name for f in Plan._meta.concrete_fields if f.editable and f.name != "id"]
    revision = Plan(**{name: getattr(plan, name) for name in copied})
    revision.revision_of = plan
    revision.revision = plan.revision + 1
    revision.save()
    move_to_revision(plan=plan, revision=revision)
    copy_reform_details(plan=plan, revision=revision)

    old = getattr(plan, "assessment", None)
    if old is None:
        return revision
    new = Assessment.objects.create(
        plan=revision, question_set=QuestionSet.objects.latest_version()
    )
    asked = Question.objects.filter(question_set=new.question_set_id)
    questions = {q.key: q for q in asked.for_programme(revision.programme_id)}
    with counting_checklists_later():
        _carry_forward(old, new, questions, user)
    return revision


def _carry_forward(old, new, questions, user):
    """Copy the answers of checklist `old` to `new` ({key: question} of
    `new`), marked carried forward, with their evidence links."""
    for answer in old.answers.select_related("question").prefetch_related("links"):
        question = questions.get(answer.question.key)
        if question is None:
            continue  # the question is no longer asked, or not of this programme
        copy = Answer.objects.create(
            assessment=new,
            question=question,
            response=answer.response,
            concern=answer.concern,
            evidence=answer.evidence,
            private_notes=answer.private_notes,
            answered_by=answer.answered_by,
            answered_at=answer.answered_at,
            serious_since=answer.serious_since,  # serious since then, not since the copy
            carried_forward=True,
        )
        # With history, like every other write of evidence.
        bulk_create_with_history(
            [
                EvidenceLink(
                    answer=copy,
                    url=link.url,
                    title=link.title,
                    location=link.location,
                    added_by=link.added_by,
                )
                for link in answer.links.all()
            ],
            EvidenceLink,
            default_user=user,
            default_change_reason="carried forward to the revised plan",
        )


def move_to_revision(*, plan, revision):
    """Move `plan`'s instalments and targets (their progress and
    recommendations go with them) to `revision`, which replaces it.

    A reform plan's High Needs Stability Grant moves the same way.

    Moved, not copied: a payment is one event, and pages that read current
    plans (totals, warnings, the map) then count it once, on the plan that
    is current. Each row is saved on its own so its history records the move
    (marked MOVED_TO_REVISION: RevisionChanges reads from it what the
    previous revision had) and keeps its earlier records, from which "held
    back since" is read; its version moves on, so an edit opened before the
    move is refused. Call inside a transaction."""
    for model in (FundingInstalment, Target, HighNeedsStabilityGrant):
        rows = model.objects.select_for_update(of=("self",)).order_by("pk").filter(plan=plan)
        for row in rows:
            row.plan = revision
            row.version += 1
            row._change_reason = MOVED_TO_REVISION
            row.save(update_fields=["plan", "version"])


def copy_reform_details(*, plan, revision):
    """A revised reform plan starts from what the plan it revises said and
    where it stood with the DfE (a copy: the earlier revision keeps its
    own, with its history)."""
    details = ReformPlanDetails.objects.filter(plan=plan).first()
    if details is None:
        return
    copied = [
        f.name
        for f in ReformPlanDetails._meta.concrete_fields
        if f.editable and f.name not in ("id", "plan")
    ]
    ReformPlanDetails.objects.create(
        plan=revision,
        # Proposing fewer places since then, not since the copy.
        fewer_places_since=details.fewer_places_since,
        **{name: getattr(details, name) for name in copied},
    )
