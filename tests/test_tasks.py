"""The task queue behind every e-mail (authorities/mail.py), on the database
backend production uses: queued with the change that asked for it, sent once
by the worker, tried again later when the mail server refuses."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from authorities import mail as outgoing

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_queue(settings):
    settings.TASKS = DATABASE_QUEUE


# The worker runs here, in the test's process: on PostgreSQL it opens and
# closes connections, which it may not do inside the test's transaction.
WORKER = pytest.mark.django_db(transaction=True)


def work():
    """What a worker does: every task that is due, then stop."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def queue_one(**fields):
    values = {"subject": "Hello", "body": "A line.", "to": ["rep@example.org"], "about": "a test"}
    outgoing.send(**(values | fields))


class RolledBack(Exception):
    pass


def change_that_fails():
    with transaction.atomic():
        queue_one()
        assert DBTaskResult.objects.count() == 1
        raise RolledBack


def test_queued_in_the_transaction_of_the_change(database_queue):
    with pytest.raises(RolledBack):
        change_that_fails()
    # The change that asked for it was not saved: neither is the e-mail.
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


@WORKER
def test_the_worker_sends_it_once(database_queue):
    queue_one(subject="Your invitation")
    assert mail.outbox == []  # nothing on the request path
    work()
    work()
    assert [m.subject for m in mail.outbox] == ["Your invitation"]
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


@WORKER
def test_a_refusal_is_tried_again_later(database_queue, monkeypatch, caplog):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    queue_one()
    before = timezone.now()
    work()
    later = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert later.args_kwargs["kwargs"]["attempt"] == 2
    wait = later.run_after - before
    assert outgoing.FIRST_WAIT <= wait < outgoing.FIRST_WAIT + datetime.timedelta(minutes=1)
    assert "Could not send a test (attempt 1)" in caplog.text
    assert "rep@example.org" not in caplog.text

    # When it is due and the server takes it, it is sent.
    monkeypatch.undo()
    DBTaskResult.objects.filter(pk=later.pk).update(run_after=timezone.now())
    work()
    assert len(mail.outbox) == 1


def test_given_up_after_the_last_attempt(monkeypatch, caplog):
    """On the tests' immediate backend the attempts follow one another."""
    tries = []

    def refuse(self, *args, **kwargs):
        tries.append(1)
        raise smtplib.SMTPException("no")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    result = outgoing.deliver.enqueue(subject="S", body="B", to=["a@example.org"], about="a test")
    assert len(tries) == outgoing.ATTEMPTS
    assert result.return_value == "retrying"
    assert f"Gave up sending a test after {outgoing.ATTEMPTS} attempts" in caplog.text
