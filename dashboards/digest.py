"""The daily digest: one e-mail a day to each person, of the new early
warnings, meetings logged and plans changed in the authorities it covers
(authorities.models.Digest), and none when nothing happened.

Sent off the request path by the task worker (settings.TASKS). The task
send_digests runs once a day at SEND_AT and queues the next day's run as it
finishes; `manage.py schedule_digests` (run by `make run` and `make serve`)
queues the first when none is waiting. A person's day is claimed in the
same transaction as their e-mail is queued (Digest.last_sent_on), so two
workers, or a run repeated by hand, never send anyone two digests for a day.

Each digest covers the days from the last one to yesterday: a warning that
arises today is in tomorrow's. Everything in it is read through the models'
`for_user`, so a digest never tells its reader more than their pages would.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from authorities import mail
from authorities.models import Digest
from consultations.models import Meeting
from plans.models import Plan

from .warnings import early_warnings

# Early in the morning, before the working day's meetings.
SEND_AT = datetime.time(6, 30)


@dataclass
class DigestContent:
    person: object  # the User
    since: datetime.date  # the first day covered
    until: datetime.date  # the last day covered (yesterday)
    warnings: list = field(default_factory=list)
    meetings: list = field(default_factory=list)
    plans: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.warnings or self.meetings or self.plans)


def digest_for(digest, today):
    """What a Digest for `today` would say."""
    person = digest.person
    until = today - datetime.timedelta(days=1)
    since = digest.last_sent_on or until
    content = DigestContent(person, since, until)
    if digest.covers == Digest.Covers.NONE:
        return content
    authorities = digest.authorities()
    content.warnings = [
        warning
        for warning in early_warnings(person, authorities, since, today=today)
        if warning.on < today
    ]
    window = {"gte": _start_of(since), "lt": _start_of(today)}
    content.meetings = list(
        Meeting.objects.for_user(person)
        .filter(authority__in=authorities, created_at__gte=window["gte"])
        .filter(created_at__lt=window["lt"])
        .select_related("authority")
        .order_by("authority__name", "held_on")
    )
    changed = Plan.history.filter(
        history_date__gte=window["gte"], history_date__lt=window["lt"]
    ).values("id")
    content.plans = list(
        Plan.objects.for_user(person)
        .filter(authority__in=authorities, pk__in=changed)
        .select_related("authority", "programme")
        .order_by("authority__name", "pk")
    )
    return content


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def render_digest(content):
    """The digest's subject and plain-text body."""
    count = len(content.warnings)
    subject = (
        f"{count} new warning{'s' if count != 1 else ''} and what changed"
        if count
        else "What changed"
    )
    body = render_to_string(
        "dashboards/email/digest.txt",
        {
            "content": content,
            "site_url": settings.SITE_URL,
            "settings_url": settings.SITE_URL + reverse("authorities:digest"),
        },
    )
    return f"SEND recovery plan tracker: {subject}", body


def send_digest(digest, today):
    """Claim a Digest for `today` and queue it if there is anything to say.
    Whether one was queued."""
    person = digest.person
    with transaction.atomic():
        claimed = (
            Digest.objects.filter(pk=digest.pk)
            .exclude(last_sent_on__gte=today)
            .update(last_sent_on=today)
        )
        if not claimed:  # another worker has it
            return False
        content = digest_for(digest, today)
        if not content:
            return False
        subject, body = render_digest(content)
        mail.send(
            subject=subject, body=body, to=[person.email], about=f"person {person.pk}'s digest"
        )
        return True


def due(today):
    return (
        Digest.objects.filter(person__is_active=True)
        .exclude(covers=Digest.Covers.NONE)
        .exclude(last_sent_on__gte=today)
        .select_related("person")
        .order_by("pk")
    )


@task
def send_digests(*, today=None, again=True):
    """Every person's digest for `today` (ISO date; by default the local
    date), then, with `again`, the next run queued for tomorrow at SEND_AT.
    How many were queued."""
    today = datetime.date.fromisoformat(today) if today else timezone.localdate()
    sent = sum(send_digest(digest, today) for digest in due(today))
    forget_finished_tasks()
    if again:
        schedule(after=today)
    return sent


# A queued e-mail keeps its address and body (and an invitation, its link)
# in the queue's row: kept a day once sent, to see what went, and a month if
# it failed, to find out why; then deleted.
KEEP_SENT = datetime.timedelta(days=1)
KEEP_FAILED = datetime.timedelta(days=30)


def forget_finished_tasks():
    now = timezone.now()
    finished = DBTaskResult.objects.filter(finished_at__isnull=False)
    finished.filter(status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - KEEP_SENT).delete()
    finished.filter(status=TaskResultStatus.FAILED, finished_at__lt=now - KEEP_FAILED).delete()


def next_run(after):
    """The moment of the run after the day `after`."""
    day = after + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, SEND_AT))


def schedule(*, after=None):
    """Queue the next send_digests run, to start at SEND_AT on the day after
    `after` (today if not given), unless the queue cannot wait (the tests'
    immediate backend) or a run is already waiting."""
    backend = send_digests.get_backend()
    if not backend.supports_defer:
        return None
    waiting = DBTaskResult.objects.filter(
        task_path=send_digests.module_path, status=TaskResultStatus.READY
    ).exists()
    if waiting:
        return None
    after = after or timezone.localdate() - datetime.timedelta(days=1)
    return send_digests.using(run_after=next_run(after)).enqueue()
