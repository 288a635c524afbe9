"""Actions on meetings and actions that touch several records or send e-mail."""

from itertools import groupby

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from authorities import mail
from authorities.edits import StaleEdit, differs, edited_values, save_values
from plans.models import EvidenceLink

from .models import (
    Action,
    BlockTransfer,
    MeetingQuestion,
    SchoolsForumOutcome,
)


@transaction.atomic
def save_meeting(*, meeting, data, base_version=None, outcome=None, transfer=None):
    """Store `data` (the meeting's field values, by field or attribute name:
    authorities.edits.edited_values(MeetingForm) gives them) on
    `meeting`, an authority's new Meeting or a stored one, with its
    Schools Forum outcome and its block transfer: `outcome` and `transfer`
    are their field values to keep, or None for none (one stored is then
    removed). Saved as one versioned record (authorities/edits.py), in one
    transaction, so a bad part never leaves a half-saved meeting: refused
    (StaleEdit) if someone else saved the meeting since `base_version`,
    nothing written if neither it nor its parts change. Returns Saved."""
    parts = [
        _Part(SchoolsForumOutcome, outcome, meeting, "forum_outcome"),
        _Part(BlockTransfer, transfer, meeting, "block_transfer"),
    ]
    return save_values(meeting, data, base_version=base_version, parts=parts)


class _Part:
    """A meeting's Schools Forum outcome or block transfer, saved with it:
    stored with `values`, or removed if it was there when `values` is None."""

    def __init__(self, model, values, meeting, name):
        self.model, self.values = model, values
        # The part as the meeting was read (the meeting's lock then checks
        # that nobody changed it since).
        self.item = getattr(meeting, name, None) if meeting.pk else None

    def changed(self, meeting):
        stored = self.model.objects.filter(meeting=meeting).first()
        if self.values is None:
            return stored is not None
        return stored is None or differs(self.values, stored)

    def save(self, meeting):
        if self.values is None:
            if self.item is not None:
                self.item.delete()
            return
        item = self.item or self.model()
        for key, value in self.values.items():
            setattr(item, key, value)
        item.meeting = meeting
        item.save()


@transaction.atomic
def add_starter_actions(*, authority, user, chosen):
    """Add the briefing's suggested actions `chosen` to `authority`: (key,
    owner, due date) each, added by `user`, except any that someone opened
    there meanwhile. Returns how many were added."""
    added = 0
    for key, owner, due_on in chosen:
        try:
            with transaction.atomic():
                Action.objects.create(
                    authority=authority,
                    title=Action.STARTERS[key],
                    starter=key,
                    owner=owner,
                    created_by=user,
                    due_on=due_on,
                )
        except IntegrityError:
            continue  # someone added the same one a moment ago
        added += 1
    return added


@transaction.atomic
def link_meeting_as_evidence(*, answer, meeting, url, location, user):
    """Add `meeting` as an evidence link on `answer`, once. Returns whether
    a link was added."""
    if answer.links.filter(url=url).exists():
        return False
    EvidenceLink.objects.create(
        answer=answer,
        url=url,
        title=f"{meeting.authority.name}: {meeting}"[:200],
        location=location,
        added_by=user,
    )
    return True


# Questions to ask at a meeting ---------------------------------------------


def _next_position(meeting):
    last = MeetingQuestion.objects.filter(meeting=meeting).aggregate(last=Max("position"))
    return (last["last"] or 0) + 1


@transaction.atomic
def add_checklist_questions(*, meeting, questions, user):
    """Put the checklist `questions` at `meeting`, after those already
    there, in checklist order, each in the briefing's plain words where it
    has them (Question.to_ask); one already put is not put twice. Returns
    how many were added."""
    there = set(
        MeetingQuestion.objects.filter(meeting=meeting, question__isnull=False).values_list(
            "question_id", flat=True
        )
    )
    position = _next_position(meeting)
    added = 0
    for question in questions:
        if question.pk in there:
            continue
        try:
            with transaction.atomic():
                MeetingQuestion.objects.create(
                    meeting=meeting,
                    question=question,
                    text=question.to_ask,
                    position=position,
                    added_by=user,
                )
        except IntegrityError:
            continue  # someone put the same question a moment ago
        position += 1
        added += 1
    return added


@transaction.atomic
def add_own_question(*, meeting, text, user):
    return MeetingQuestion.objects.create(
        meeting=meeting, text=text.strip(), position=_next_position(meeting), added_by=user
    )


@transaction.atomic
def move_question(*, item, up):
    """Swap `item` with the question before it (`up`) or after it at its
    meeting; the first cannot go up nor the last down (nothing changes).
    Positions are numbered afresh, 1 up, so ties left by removals go. Each
    moved row's history keeps the move; versions stay (an order is not an
    answer, and must not refuse someone recording answers meanwhile)."""
    rows = list(
        MeetingQuestion.objects.select_for_update()
        .filter(meeting_id=item.meeting_id)
        .order_by("position", "pk")
    )
    index = next((i for i, row in enumerate(rows) if row.pk == item.pk), None)
    other = None if index is None else index - 1 if up else index + 1
    if other is None or not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, 1):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    return True


class StaleAnswer(StaleEdit):
    """StaleEdit for one row of the answers form: `form` says which."""

    def __init__(self, stale, form):
        super().__init__(stale.current)
        self.form = form


@transaction.atomic
def record_answers(*, forms):
    """Store each valid MeetingAnswerForm of `forms` (forms.AnswersForms) as
    one versioned record, all in one transaction: a row someone else saved
    since it was opened refuses the whole save (StaleAnswer, naming the
    form), so no answers are half recorded. Returns how many changed."""
    changed = 0
    for form in forms:
        try:
            saved = save_values(
                form.instance,
                edited_values(form),
                base_version=form.cleaned_data["base_version"],
            )
        except StaleEdit as stale:
            raise StaleAnswer(stale, form) from None
        changed += saved.changed
    return changed


@transaction.atomic
def answer_as_evidence(*, item, answer, url, user):
    """Link what was answered to `item` at its meeting as evidence on the
    plan's `answer` to the same checklist question, once. Returns the link,
    or None when it was linked already."""
    item = MeetingQuestion.objects.select_for_update().get(pk=item.pk)
    if item.evidence_id is not None:
        return None
    said = " ".join(item.answer.split())
    title = f"{item.meeting.authority.name}, {item.meeting}: “{said}”"
    if len(title) > 200:
        title = title[:198] + "…”"
    link = EvidenceLink.objects.create(
        answer=answer,
        url=url,
        title=title,
        location="Answer given at the meeting",
        added_by=user,
    )
    item.evidence = link
    item.save(update_fields=["evidence"])
    return link


def send_overdue_reminders(*, today=None):
    """E-mail each owner of overdue actions one message listing them all,
    at most once a day per action. The actions are marked before the mail
    is sent (on commit), so two runs on the same day cannot both send.
    Returns (people e-mailed, actions reminded)."""
    today = today or timezone.localdate()
    due = (
        Action.objects.overdue(today)
        .filter(owner__isnull=False, owner__is_active=True)
        .exclude(last_reminded_on=today)
        .select_related("owner", "authority")
        .order_by("owner_id", "due_on", "pk")
    )
    people = actions = 0
    for _, group in groupby(due, key=lambda action: action.owner_id):
        group = list(group)
        with transaction.atomic():
            # Only the rows this run marks are sent: a second run that
            # started at the same time marks (and sends) none of them.
            ids = list(
                Action.objects.select_for_update()
                .filter(pk__in=[a.pk for a in group])
                .exclude(last_reminded_on=today)
                .values_list("pk", flat=True)
            )
            if not ids:
                continue
            Action.objects.filter(pk__in=ids).update(last_reminded_on=today)
            mine = [a for a in group if a.pk in ids]
            _remind(mine, today)
        people += 1
        actions += len(mine)
    return people, actions


def _remind(actions, today):
    owner = actions[0].owner
    lines = [
        f"- {a.title} ({a.authority.name}), due {a.due_on:%-d %B %Y}, "
        f"{(today - a.due_on).days} day{'s' if (today - a.due_on).days != 1 else ''} overdue"
        for a in actions
    ]
    count = len(actions)
    mail.send(
        subject=(
            f"{count} overdue action{'s' if count != 1 else ''} in the SEND recovery plan tracker"
        ),
        body=(
            f"Hello {owner.first_name or owner.display_name},\n\n"
            f"These actions you own are past their due date:\n\n" + "\n".join(lines) + "\n\n"
            "Mark them done, or move the due date and say why, in the tracker:\n"
            f"{settings.SITE_URL}{reverse('consultations:actions')}\n\n"
            f"SEND recovery plan tracker\n{settings.SITE_URL}/\n"
        ),
        to=[owner.email],
        about=f"a reminder of overdue actions to person {owner.pk}",
    )
