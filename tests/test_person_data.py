"""Data-subject requests: `person_export` writes everything held about a
person; `person_erase` leaves no row anywhere that still names them."""

import json
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from authorities import audit
from authorities.access import Role
from authorities.models import AuditEvent, AuthorityFinance, Membership
from authorities.personal_data import user_references
from consultations.models import Action, Meeting, MeetingQuestion
from dashboards.models import DashboardExport
from feedback.models import FeedbackEvidence, FeedbackExport, FeedbackSubmission
from plans.models import Comment, EvidenceLink, Plan, Target, TargetUpdate

from .factories import CAMDEN, make_plan, make_user, region
from .test_authority_dashboard import answer
from .test_feedback import submission

pytestmark = pytest.mark.django_db
EMAIL = "sam.patel@example.org"
NAME = "Sam Patel"


@pytest.fixture
def sam(camden, client_for):
    """Someone who has done a little of everything, and been written about."""
    sam = make_user(EMAIL, first_name="Sam", last_name="Patel", roles=[(Role.LNS, camden)])
    Membership.objects.create(user=sam, role=Role.NEM, region=region("London"))
    Membership.objects.get(user=sam, role=Role.NEM).delete()
    client_for(sam)  # signed in: a session and an audit event
    audit.record(audit.Kind.SIGN_IN_FAILED, actor_email="Sam.Patel@example.org")

    plan = make_plan(CAMDEN)
    plan._history_user = sam
    plan.summary = "Checked by Sam Patel"
    plan.save()
    given = answer(plan, "cuts-not-efficiency", answered_by=sam, evidence="See Sam's note")
    given._history_user = sam
    given.save()
    EvidenceLink.objects.create(answer=given, url="https://example.org/a", added_by=sam)
    Comment.objects.create(answer=given, author=sam, text="Mine")
    target = Target.objects.create(plan=plan, description="Fewer EHCPs", goal="ehcp_demand")
    TargetUpdate.objects.create(target=target, status="on_track", recorded_by=sam)
    meeting = Meeting.objects.create(
        authority=camden, forum="schools_forum", held_on="2026-01-15", created_by=sam
    )
    # Going to a planned meeting (a many-to-many with its own history) and
    # a question put there.
    planned = Meeting.objects.create(
        authority=camden, forum="jcnc", held_on="2099-01-15", status="planned", created_by=sam
    )
    planned._history_user = sam
    planned.attending.set([sam])
    MeetingQuestion.objects.create(meeting=planned, text="Sam Patel asks", added_by=sam)
    Action.objects.create(authority=camden, title="Call Sam Patel", owner=sam, created_by=sam)
    Action.objects.create(authority=camden, title="Follow up", meeting=meeting, owner=sam)
    finance = AuthorityFinance(authority=camden, financial_year=2024, ehcp_count=1, updated_by=sam)
    finance._history_user = sam
    finance.save()

    kept = submission(by=sam, working_well="The outreach team, said Sam Patel")
    submission(by=sam, withdrawn_at=timezone.now())
    FeedbackEvidence.objects.create(
        submission=kept,
        plan=plan,
        question=plan.checklist_question_set().questions.get(key="cuts-not-efficiency"),
        stance="contradicts",
        point="Quoted",
        linked_by=sam,
    )
    DashboardExport.objects.create(
        exported_by=sam, exported_by_email=EMAIL, format="csv", description="All", row_count=1
    )
    FeedbackExport.objects.create(exported_by=sam, exported_by_email=EMAIL)
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1")
    request.user = sam
    audit.record(audit.Kind.BRIEFING, request=request, detail="Camden")
    LogEntry.objects.log_actions(
        user_id=sam.pk,
        queryset=[sam],
        action_flag=CHANGE,
        change_message="Changed name.",
    )
    return sam


def export(email):
    out = StringIO()
    call_command("person_export", email, stdout=out)
    return json.loads(out.getvalue())


def test_export_holds_their_account_roles_work_and_audit_trail(sam):
    data = export("SAM.PATEL@example.org")
    assert data["account"]["fields"]["email"] == EMAIL
    assert data["account"]["fields"]["password"] == "(withheld)"
    records = data["records"]
    for label in (
        "authorities.Membership by user",
        "authorities.HistoricalMembership by user",
        "plans.Answer by answered_by",
        "plans.HistoricalAnswer by history_user",
        "plans.Comment by author",
        "plans.EvidenceLink by added_by",
        "plans.TargetUpdate by recorded_by",
        "consultations.Action by owner",
        "consultations.Meeting by created_by",
        "feedback.FeedbackSubmission by submitted_by",
        "feedback.FeedbackExport by exported_by",
        "dashboards.DashboardExport by exported_by",
        "authorities.AuditEvent by actor",
        "authorities.AuditEvent naming them",  # the failed sign-in with their address
    ):
        assert records.get(label), label
    submitted = records["feedback.FeedbackSubmission by submitted_by"]
    assert any("said Sam Patel" in row["fields"]["working_well"] for row in submitted)


def test_export_of_nobody_is_an_error(reference_data):
    with pytest.raises(CommandError, match="Nobody has the address"):
        export("nobody@example.org")


def rows_naming(email, name, pk):
    """Every row, in every table of every installed model (history and
    many-to-many tables included), that holds the e-mail address or full
    name in any column, or the id in a column that refers to a person."""
    person_columns = {}
    for model, field in user_references():
        person_columns.setdefault(model._meta.db_table, set()).add(field.column)
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = str(value).lower()
                    if email in text or name.lower() in text:
                        found.append((table, column, value))
                    if column in person_columns.get(table, ()) and value == pk:
                        found.append((table, column, value))
    return found


def test_erase_leaves_no_row_naming_them(sam):
    pk = sam.pk
    assert rows_naming(EMAIL, NAME, pk)  # the scan finds them before
    call_command("person_erase", EMAIL, "--yes", stdout=StringIO())
    assert rows_naming(EMAIL, NAME, pk) == []


def test_erase_keeps_their_feedback_only_as_figures(sam):
    call_command("person_erase", EMAIL, "--yes", stdout=StringIO())
    [kept] = FeedbackSubmission.objects.all()  # the withdrawn one is gone
    assert (kept.submitted_by, kept.working_well, kept.people_count) == (None, "", 10)
    assert kept.anonymised_at is not None
    assert FeedbackEvidence.objects.get().point == ""


def test_erase_keeps_the_work_with_no_one_named(sam):
    call_command("person_erase", EMAIL, "--yes", stdout=StringIO())
    assert Comment.objects.get().author is None
    # Their name, where someone else wrote it, and in the history of that.
    plan = Plan.objects.get(summary="Checked by erased person")
    assert {r.summary for r in plan.history.all()} == {"", "Checked by erased person"}
    assert Action.objects.filter(title="Call erased person").exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.BRIEFING, ip_address=None).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ERASURE).exists()
    about_them = ContentType.objects.get_for_model(sam)
    assert not LogEntry.objects.filter(content_type=about_them, object_id=str(sam.pk)).exists()


def test_erase_asks_first(sam, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("person_erase", EMAIL, stdout=StringIO())
    assert Membership.objects.filter(user=sam).exists()
    monkeypatch.setattr("builtins.input", lambda prompt: EMAIL)
    call_command("person_erase", EMAIL, stdout=StringIO())
    assert not Membership.objects.filter(user__email=EMAIL).exists()


def test_the_last_national_officer_is_not_erased(national_officer):
    with pytest.raises(CommandError, match="last national officer"):
        call_command("person_erase", national_officer.email, "--yes", stdout=StringIO())
    national_officer.refresh_from_db()
    other = make_user("second.officer@example.org", roles=[(Role.NATIONAL_OFFICER, None)])
    call_command("person_erase", national_officer.email, "--yes", stdout=StringIO())
    assert list(Membership.objects.filter(role=Role.NATIONAL_OFFICER)) == list(
        other.memberships.all()
    )


@pytest.mark.usefixtures("page_cache")
def test_erase_makes_cached_pages_that_named_them_old(sam, camden_lns, client_for):
    """Pages are cached until the data next changes (authorities/caching.py);
    erasing changes much of it in bulk, which no signal reports, so
    erase_person says so itself: the next page no longer names them."""
    colleague = client_for(camden_lns)
    actions = reverse("consultations:actions")
    assert NAME in colleague.get(actions).content.decode()
    # Cached: a change that sends no signal does not show...
    Action.objects.filter(title="Follow up").update(title="Follow up by phone")
    assert "Follow up by phone" not in colleague.get(actions).content.decode()

    call_command("person_erase", EMAIL, "--yes", stdout=StringIO())
    page = colleague.get(actions).content.decode()
    assert NAME not in page
    assert "Call erased person" in page
