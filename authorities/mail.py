"""Every e-mail the app sends, sent off the request path by the task worker
(Django's tasks framework, settings.TASKS) and tried again when the mail
server refuses.

`send()` queues one e-mail. With the database backend (production, `make
run`) the queued task is a row written in the same transaction as the change
that asked for it: both are committed or neither, so an invitation is never
sent for a person whose save was rolled back, and one that was saved is
never lost between the commit and the queue. With any other backend (the
immediate one the tests use) the e-mail goes once the transaction commits,
as it would reach the worker.

A refusal by the mail server is logged (never the addresses) and the e-mail
tried again after a wait that doubles each time; after ATTEMPTS it is given
up and logged as an error. A task that must know the outcome (feedback's
news to the national office) sends with `send_now()` and handles the
refusal itself, with `again()`.
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django_tasks_db import DatabaseBackend

logger = logging.getLogger(__name__)

# 2 + 4 + 8 + 16 minutes: a mail server down for half an hour is outlasted,
# and nobody is sent an invitation a day late.
ATTEMPTS = 5
FIRST_WAIT = datetime.timedelta(minutes=2)


def send(*, subject, body, to, about, html=None, with_the_save=True):
    """Queue one e-mail to the addresses `to`. `about` names what it is
    for in the log, never an address. `with_the_save=False` for one that no
    change asked for (a password reset link), queued at once whatever the
    backend."""
    message = {"subject": subject, "body": body, "to": list(to), "html": html}
    enqueue(deliver, about=about, with_the_save=with_the_save, **message)


def enqueue(a_task, *, with_the_save=True, **kwargs):
    """Queue `a_task` with the change being saved (see the module's
    docstring): in its transaction if the queue is in the database, after
    it commits otherwise."""
    if not with_the_save or isinstance(a_task.get_backend(), DatabaseBackend):
        a_task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: a_task.enqueue(**kwargs))


def send_now(*, subject, body, to, html=None):
    """Hand one e-mail to the mail server; whether it took it."""
    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to
    )
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        return False
    return True


def again(a_task, *, attempt, about, **kwargs):
    """After a refusal: queue `a_task` to try again later, with `attempt`
    one more, unless it has had ATTEMPTS. Whether it will be tried again."""
    if attempt >= ATTEMPTS:
        logger.error("Gave up sending %s after %d attempts", about, attempt)
        return False
    wait = FIRST_WAIT * 2 ** (attempt - 1)
    logger.warning("Could not send %s (attempt %d); trying again in %s", about, attempt, wait)
    if a_task.get_backend().supports_defer:
        a_task = a_task.using(run_after=timezone.now() + wait)
    a_task.enqueue(attempt=attempt + 1, about=about, **kwargs)
    return True


@task
def deliver(*, subject, body, to, about, html=None, attempt=1):
    """The task behind send(): "sent", "retrying" or "given up"."""
    if send_now(subject=subject, body=body, to=to, html=html):
        return "sent"
    message = {"subject": subject, "body": body, "to": to, "html": html}
    return "retrying" if again(deliver, attempt=attempt, about=about, **message) else "given up"
