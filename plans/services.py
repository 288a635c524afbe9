"""Actions on plans that touch several records or send e-mail."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Answer, Assessment, EvidenceLink, Plan, QuestionSet


class AnswerConflict(Exception):
    """Someone else saved the answer after this person opened it."""

    def __init__(self, current):
        super().__init__("The answer changed since it was opened.")
        self.current = current


@transaction.atomic
def save_plan(*, form, request):
    """Save a plan form; tell the national office, once, when a plan is first
    recorded as negotiating (after the save commits, so a failed save sends
    nothing)."""
    plan = form.save()
    if plan.status == Plan.Status.NEGOTIATING and plan.national_office_told_at is None:
        plan.national_office_told_at = timezone.now()
        plan.save(update_fields=["national_office_told_at"])
        url = request.build_absolute_uri(plan.get_absolute_url())
        who = request.user.display_name
        transaction.on_commit(lambda: tell_national_office_of_negotiation(plan, url, who))
    return plan


def tell_national_office_of_negotiation(plan, url, who):
    send_mail(
        subject=f"{plan.authority} is negotiating {plan.programme.name}",
        message=(
            f"{who} has recorded that {plan.authority} is negotiating its involvement "
            f"in {plan.programme.name}.\n\nPlan: {url}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[settings.NATIONAL_OFFICE_EMAIL],
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
def save_answer(*, plan, question, data, base_version, user):
    """Save one answer, refusing it if someone else saved since `base_version`
    (0 for "there was no answer yet"). `data` holds the answer form's
    cleaned fields; a field it lacks (private notes, for someone who may not
    see them) is left as it was."""
    assessment = assessment_for(plan)
    answer = (
        Answer.objects.select_for_update().filter(assessment=assessment, question=question).first()
    )
    if (answer.version if answer else 0) != base_version:
        raise AnswerConflict(answer)
    if answer is None:
        answer = Answer(assessment=assessment, question=question, version=0)
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
    return answer


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
    """Start a revision of `plan`: a new plan with the same facts whose
    checklist answers (and their evidence links) are carried forward, marked
    so until someone confirms or changes each one. Questions are matched by
    key, so answers follow a question into a newer version of the bank."""
    if plan.revisions.exists():
        raise ValueError("This plan has already been revised; revise the latest revision.")
    copied = [f.name for f in Plan._meta.concrete_fields if f.editable and f.name != "id"]
    revision = Plan(**{name: getattr(plan, name) for name in copied})
    revision.revision_of = plan
    revision.revision = plan.revision + 1
    revision.save()

    old = getattr(plan, "assessment", None)
    if old is None:
        return revision
    new = Assessment.objects.create(
        plan=revision, question_set=QuestionSet.objects.latest_version()
    )
    questions = {q.key: q for q in new.question_set.questions.all()}
    for answer in old.answers.select_related("question").prefetch_related("links"):
        question = questions.get(answer.question.key)
        if question is None:
            continue  # the question is no longer asked
        copy = Answer.objects.create(
            assessment=new,
            question=question,
            response=answer.response,
            concern=answer.concern,
            evidence=answer.evidence,
            private_notes=answer.private_notes,
            answered_by=answer.answered_by,
            answered_at=answer.answered_at,
            carried_forward=True,
        )
        EvidenceLink.objects.bulk_create(
            EvidenceLink(
                answer=copy,
                url=link.url,
                title=link.title,
                location=link.location,
                added_by=link.added_by,
            )
            for link in answer.links.all()
        )
    return revision
