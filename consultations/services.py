"""Actions on meetings and actions that touch several records or send e-mail."""

from itertools import groupby

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from authorities import mail
from authorities.edits import differs, save_values
from plans.models import EvidenceLink

from .models import Action, BlockTransfer, SchoolsForumOutcome


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
