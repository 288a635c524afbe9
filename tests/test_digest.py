"""The daily digest (dashboards/digest.py): one e-mail per person, of only
what happened in what they watch and may see, none on a quiet day, never
two for one day; and the pages where a person chooses what it covers."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from authorities import mail as mail_module
from authorities.models import Digest, Watch
from consultations.models import Meeting
from dashboards import digest
from plans.models import FundingInstalment

from .factories import CAMDEN, KENT, authority, make_plan

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# Everything a test makes happens today: tomorrow's digest covers it.
TOMORROW = TODAY + datetime.timedelta(days=1)


@pytest.fixture
def run_digests(django_capture_on_commit_callbacks):
    """Run the daily task as the worker would on `day`, and return the
    e-mails it sent, by recipient."""

    def run(day=TOMORROW):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            digest.send_digests.enqueue(today=day.isoformat(), again=False)
        return {message.to[0]: message for message in mail.outbox}

    return run


def withheld_instalment(la_code):
    plan = make_plan(la_code)
    return FundingInstalment.objects.create(
        plan=plan, financial_year=2025, amount=Decimal(5_000_000), status="withheld"
    )


def meeting(la_code):
    return Meeting.objects.create(
        authority=authority(la_code),
        forum="schools_forum",
        held_on=TODAY - datetime.timedelta(days=2),
    )


def test_one_email_per_person_with_only_what_they_may_see(
    run_digests, national_officer, camden_lns, kent_lns, manchester_head_rep, no_role_user
):
    withheld_instalment(CAMDEN)
    meeting(KENT)
    sent = run_digests()
    assert set(sent) == {national_officer.email, camden_lns.email, kent_lns.email}

    camden = sent[camden_lns.email].body
    assert "£5,000,000 instalment for 2025-26 withheld" in camden
    assert "Kent" not in camden
    assert "https://tracker.example.org/" in camden  # links to the app, not a test host
    kent = sent[kent_lns.email].body
    assert "Meetings logged (1):" in kent
    assert "Kent: Schools Forum" in kent
    assert "Camden" not in kent
    national = sent[national_officer.email].body
    assert "Camden" in national
    assert "Kent" in national
    assert sent[camden_lns.email].subject == (
        "SEND recovery plan tracker: 1 new warning and what changed"
    )


def test_never_two_for_one_day_and_none_on_a_quiet_one(run_digests, camden_lns):
    withheld_instalment(CAMDEN)
    assert list(run_digests()) == [camden_lns.email]
    assert run_digests() == {}  # run again (by hand, or a second worker): nothing
    assert Digest.objects.get(person=camden_lns).last_sent_on == TOMORROW
    # The day after, nothing new happened: no e-mail at all.
    assert run_digests(TOMORROW + datetime.timedelta(days=1)) == {}


def test_covers_the_days_since_the_last(run_digests, camden_lns):
    three_days_ago = TODAY - datetime.timedelta(days=3)
    Digest.objects.filter(person=camden_lns).update(last_sent_on=three_days_ago)
    withheld_instalment(CAMDEN)
    body = run_digests()[camden_lns.email].body
    assert f"from {TODAY - datetime.timedelta(days=3):%-d %B}" in body


def test_only_watched_authorities_when_chosen(run_digests, london_organiser, camden):
    Digest.objects.filter(person=london_organiser).update(covers=Digest.Covers.WATCHED)
    withheld_instalment(CAMDEN)
    assert run_digests() == {}
    Digest.objects.filter(person=london_organiser).update(last_sent_on=None)
    Watch.objects.create(person=london_organiser, authority=camden)
    assert "Camden" in run_digests()[london_organiser.email].body


def test_a_watch_never_reaches_beyond_scope(run_digests, camden_lns, kent):
    Digest.objects.filter(person=camden_lns).update(covers=Digest.Covers.WATCHED)
    Watch.objects.create(person=camden_lns, authority=kent)  # a role since taken away
    withheld_instalment(KENT)
    assert run_digests() == {}


def test_none_for_those_who_turned_it_off(run_digests, camden_lns):
    Digest.objects.filter(person=camden_lns).update(covers=Digest.Covers.NONE)
    withheld_instalment(CAMDEN)
    assert run_digests() == {}


# The worker runs in the test's process: on PostgreSQL it opens and closes
# connections, which it may not do inside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_scheduled_once_on_the_database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("schedule_digests", verbosity=0)
    call_command("schedule_digests", verbosity=0)
    [waiting] = DBTaskResult.objects.all()
    assert waiting.task_path == "dashboards.digest.send_digests"
    assert timezone.localtime(waiting.run_after).time() == digest.SEND_AT
    # The run queues the next, for the day after.
    DBTaskResult.objects.all().delete()
    digest.send_digests.enqueue(today=TODAY.isoformat())
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    [after] = DBTaskResult.objects.filter(status="READY", task_path=waiting.task_path)
    assert timezone.localtime(after.run_after).date() == TOMORROW


# Choosing what it covers -------------------------------------------------------


def test_a_person_chooses_what_their_digest_covers(client_for, camden_lns):
    client = client_for(camden_lns)
    url = reverse("authorities:digest")
    page = client.get(url)
    assert "Every authority I can see" in page.content.decode()
    digest = Digest.objects.get(person=camden_lns)
    response = client.post(url, {"covers": "watched", "base_version": digest.version})
    assert response.status_code == 302
    digest.refresh_from_db()
    assert digest.covers == Digest.Covers.WATCHED


def test_an_unknown_choice_is_refused_and_nothing_saved(client_for, camden_lns):
    digest = Digest.objects.get(person=camden_lns)
    response = client_for(camden_lns).post(
        reverse("authorities:digest"), {"covers": "hourly", "base_version": digest.version}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    digest.refresh_from_db()
    assert digest.covers == Digest.Covers.SCOPE


def test_a_save_since_opened_is_not_overwritten(client_for, camden_lns):
    digest = Digest.objects.get(person=camden_lns)
    client, url = client_for(camden_lns), reverse("authorities:digest")
    # Saved from another tab, opened at the same version.
    client.post(url, {"covers": "none", "base_version": digest.version})
    response = client.post(url, {"covers": "watched", "base_version": digest.version})
    assert response.status_code == 409
    digest.refresh_from_db()
    assert digest.covers == Digest.Covers.NONE


def test_watch_and_stop_watching_from_the_authority_page(client_for, london_organiser, camden):
    client = client_for(london_organiser)
    url = reverse("authorities:watch", args=["camden"])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # twice is once
    assert list(london_organiser.watches.values_list("authority__slug", flat=True)) == ["camden"]
    page = client.get(reverse("dashboards:authority", args=["camden"])).content.decode()
    assert "Stop watching Camden" in page
    assert "Stop watching Camden?" in client.get(url).content.decode()
    client.post(url, {"stop": "1"})
    assert not london_organiser.watches.exists()


def test_no_watch_out_of_scope(client_for, camden_lns, kent):
    response = client_for(camden_lns).post(reverse("authorities:watch", args=["kent"]))
    assert response.status_code == 404
    assert not Watch.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_daily_run_forgets_finished_e_mails(settings, run_digests):
    """A queued e-mail's row holds its address and body: gone a day after
    it was sent."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    for subject in ("Old", "New"):
        mail_module.send(subject=subject, body="B", to=["a@example.org"], about="a test")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    old = DBTaskResult.objects.get(args_kwargs__kwargs__subject="Old")
    DBTaskResult.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=2)
    )
    digest.forget_finished_tasks()
    assert [r.args_kwargs["kwargs"]["subject"] for r in DBTaskResult.objects.all()] == ["New"]
