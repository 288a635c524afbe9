"""Actions on meetings and actions that touch several records or send e-mail."""

from itertools import groupby

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from authorities.edits import changes, save_edit
from plans.models import EvidenceLink

from .forms import BlockTransferForm, ConsultationForm, SchoolsForumOutcomeForm
from .models import Action, Forum, starter_due_date


class MeetingForms:
    """The meeting form with, for a Schools Forum meeting, its outcome and
    its block transfer: validated together and saved in one transaction,
    so a bad vote count never leaves a half-saved meeting."""

    def __init__(self, data, *, authority, user, meeting=None, initial=None):
        self.meeting = ConsultationForm(
            data, instance=meeting, initial=initial, authority=authority, user=user
        )
        outcome = getattr(meeting, "forum_outcome", None) if meeting else None
        transfer = getattr(meeting, "block_transfer", None) if meeting else None
        self.outcome = SchoolsForumOutcomeForm(data, instance=outcome)
        self.transfer = BlockTransferForm(data, instance=transfer)

    @property
    def all(self):
        return [self.meeting, self.outcome, self.transfer]

    @property
    def has_errors(self):
        return any(form.is_bound and form.errors for form in self.all)

    def is_valid(self):
        if not self.meeting.is_bound:
            return False
        valid = self.meeting.is_valid()
        forum = self.meeting.cleaned_data.get("forum")
        if forum == Forum.SCHOOLS_FORUM:
            # Left blank, either part is valid and records nothing.
            valid = self.outcome.is_valid() & self.transfer.is_valid() & valid
        elif forum and (self.outcome.has_input() or self.transfer.has_input()):
            self.meeting.add_error(
                "forum",
                "Schools Forum answers and block transfers are for Schools Forum meetings: "
                "choose Schools Forum, or clear them",
            )
            valid = False
        return valid

    def save(self):
        """Save the meeting with its parts, as one versioned record
        (authorities/edits.py): refused if someone else saved the meeting
        since it was opened, nothing written if nothing changed. Returns
        save_edit's Saved."""
        schools_forum = self.meeting.cleaned_data["forum"] == Forum.SCHOOLS_FORUM
        # Not a Schools Forum: the parts were checked to be empty, and
        # clearing them removes them.
        parts = [
            _Part(self.outcome, keep=schools_forum and self.outcome.has_input()),
            _Part(self.transfer, keep=schools_forum and self.transfer.has_input()),
        ]
        return save_edit(self.meeting, parts=parts)


class _Part:
    """A meeting's Schools Forum outcome or block transfer, saved with it:
    kept when `keep`, else removed if it was there."""

    def __init__(self, form, *, keep):
        self.form, self.keep = form, keep

    def changed(self, meeting):
        stored = type(self.form.instance).objects.filter(consultation=meeting).first()
        if not self.keep:
            return stored is not None
        return stored is None or changes(self.form, stored)

    def save(self, meeting):
        if self.keep:
            item = self.form.save(commit=False)
            item.consultation = meeting
            item.save()
        elif self.form.instance.pk:
            self.form.instance.delete()


@transaction.atomic
def add_starter_actions(*, authority, user):
    """Add the briefing's suggested actions to `authority`, owned by `user`,
    except those already open there. Returns how many were added."""
    open_ = set(
        Action.objects.filter(authority=authority)
        .open()
        .exclude(starter="")
        .values_list("starter", flat=True)
    )
    added = 0
    for key, title in Action.STARTERS.items():
        if key in open_:
            continue
        try:
            with transaction.atomic():
                Action.objects.create(
                    authority=authority,
                    title=title,
                    starter=key,
                    owner=user,
                    created_by=user,
                    due_on=starter_due_date(),
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
            transaction.on_commit(lambda mine=mine: _remind(mine, today))
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
    send_mail(
        subject=(
            f"{count} overdue action{'s' if count != 1 else ''} in the SEND recovery plan tracker"
        ),
        message=(
            f"Hello {owner.first_name or owner.display_name},\n\n"
            f"These actions you own are past their due date:\n\n" + "\n".join(lines) + "\n\n"
            "Mark them done, or move the due date and say why, in the tracker:\n"
            f"{settings.SITE_URL}{reverse('consultations:actions')}\n\n"
            f"SEND recovery plan tracker\n{settings.SITE_URL}/\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[owner.email],
    )
