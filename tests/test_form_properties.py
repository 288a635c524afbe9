"""Every form people submit, posted a thousand ways (Hypothesis).

Each form's page is opened as the person who uses it and its form read as a
browser would post it (tests/browsing.py). Hypothesis then replaces any of its
fields with what people, browsers and scripts really send: any unicode text
(NUL bytes included), 30,000 characters, blanks and odd spaces, numbers with
commas and "£", huge and negative numbers, impossible dates and dates in the
wrong format, several values for one field, missing fields, choices the form
does not offer, ids of records out of scope or never made, stale or garbage
`base_version`s, and fields the form does not have at all (an `authority`, a
`version`). Whatever was sent:

1. never a server error: no exception escapes the view;
2. never a partial save: either the view redirects and the stored records are
   exactly what the form accepted (every field, the parts saved with it, the
   version and history moved once, or not at all when nothing changed), or it
   shows the form again (200, 400, 409) and nothing in the database changed,
   history included.

What a save should store is asked of the form itself, bound to the same post
on the records as they were: the test knows no form's rules.

Each post goes through the real view function, its templates included, with
the middleware the views rely on (the session, messages, the history's user),
built by RequestFactory rather than the test client, inside a savepoint rolled
back afterwards: the records are built once per form, not once per post.

Cost: FORM_PROPERTY_EXAMPLES posts a form, 400 unless set. The views are
most of it (15 to 55 ms a post, drawing the page again the larger part), so
400 take about four and a half minutes of one core on SQLite, longer on
PostgreSQL (`make test` spreads the forms over both cores); 50 fit in half
a minute. The examples are the same on every run (derandomized), so a
deeper search is a matter of asking for more, e.g. 5,000 before a release.

The 500s found are kept below as plain one-post reproducers ("Found by the
properties"), failing until the app is fixed.
"""

import os
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.handlers.exception import response_for_exception
from django.db import connection, transaction
from django.db.models import Max
from django.http import Http404, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.test import RequestFactory
from django.urls import resolve, reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from simple_history.middleware import HistoryRequestMiddleware

from authorities.access import Role
from authorities.edits import DeleteForm, same_text
from authorities.forms import AuthorityFinanceForm
from authorities.models import AuthorityFinance
from consultations.forms import ActionForm, MeetingForms
from consultations.models import Action, BlockTransfer, Meeting, SchoolsForumOutcome
from feedback.forms import SubmissionForm
from feedback.models import FeedbackSubmission, FeedbackTally
from plans import services as plan_services
from plans.checklist_forms import AnswerForm, CommentForm, EvidenceLinkForm
from plans.forms import (
    GrantForm,
    InstalmentForm,
    PlanForm,
    ReformPlanForm,
    TargetForm,
    TargetUpdateForm,
)
from plans.models import (
    Answer,
    Comment,
    EvidenceLink,
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Question,
    Recommendation,
    ReformPlanDetails,
    Target,
    TargetUpdate,
)

from .browsing import form_fields
from .factories import CAMDEN, KENT, authority, make_plan, make_user
from .test_edits import fully_filled_plan, make_finance, make_meeting

EXAMPLES = int(os.environ.get("FORM_PROPERTY_EXAMPLES", "400"))
APPS = ("authorities", "plans", "consultations", "feedback")
# Set by the saving code, not typed: not compared with the form.
BOOKKEEPING = {
    *("version", "updated_at", "updated_by_id", "answered_at", "answered_by_id"),
    *("national_office_told_at", "submitted_at", "created_at", "added_at", "recorded_at"),
    # Kept by save() from the fields (plans.models.keep_since).
    *("negotiating_since", "held_back_since", "serious_since", "fewer_places_since"),
}
RESHOWN = {200, 400, 409}


# Posting ---------------------------------------------------------------------

factory = RequestFactory()
# What the handler answers with 400, 403 or 404 rather than a 500.
CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)


@dataclass
class Answered:
    """A view's response, or the exception that escaped it (a 500)."""

    status: int
    content: bytes = b""
    error: str = ""  # the traceback of an exception that escaped the view


def send(user, url, data=None):
    """GET `url` (data None) or POST `data` to it, urlencoded as a browser
    posts, through the view and the middleware it needs: the session and
    messages (a save says so) and the history's user. Http404, PermissionDenied
    and bad requests become their responses, as in the real handler."""
    match = resolve(url.split("?")[0])
    if data is None:
        request = factory.get(url)
    else:
        body = urlencode(data, doseq=True)
        request = factory.post(url, body, content_type="application/x-www-form-urlencoded")
    request.user = user
    request.session = SessionStore()
    view = MessageMiddleware(
        HistoryRequestMiddleware(lambda request: match.func(request, **match.kwargs))
    )
    try:
        response = view(request)
    except CLIENT_ERRORS as exc:
        response = response_for_exception(request, exc)
    except Exception:  # every other exception that escapes is a 500: the finding
        return Answered(500, error=traceback.format_exc())
    return Answered(response.status_code, getattr(response, "content", b""))


class _Choices(HTMLParser):
    """Every name in one posting form and every value it offers (radios,
    checkboxes, options), where form_fields reads only the chosen ones."""

    def __init__(self):
        super().__init__()
        self.forms, self._current, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._current = {}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea"):
            name = attrs.get("name")
            if name:
                values = self._current.setdefault(name, [])
                if tag == "input" and attrs.get("type") in ("radio", "checkbox"):
                    values.append(attrs.get("value", "on"))
                self._select = values if tag == "select" else None
        elif tag == "option" and self._select is not None:
            self._select.append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def offered(html, having):
    reader = _Choices()
    reader.feed(html.decode())
    return next(form for form in reader.forms if having is None or having in form)


# The database, as rows -------------------------------------------------------


def app_tables():
    """Every table of the app's models, their history and many-to-many tables."""
    return sorted(
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in APPS
    )


@dataclass(frozen=True)
class Rows:
    """What a post may have changed: every app table's row count, and every
    row of the tables the page writes to, as the database returns them."""

    counts: tuple
    rows: tuple


def rows_now(tables, written):
    quote_name = connection.ops.quote_name
    counts = ()
    with connection.cursor() as cursor:
        if tables:
            cursor.execute(
                "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote_name(t)})" for t in tables)
            )
            counts = tuple(zip(tables, cursor.fetchone(), strict=True))
        rows = []
        for table in written:
            cursor.execute(f"SELECT * FROM {quote_name(table)} ORDER BY 1")
            rows.append((table, tuple(cursor.fetchall())))
    return Rows(counts, tuple(rows))


def changed_counts(before, after):
    return {
        table: n - was
        for (table, was), (_, n) in zip(before.counts, after.counts, strict=True)
        if n != was
    }


def row_of(record):
    """A record's stored values by attribute name ("plan_id"), without the
    bookkeeping its saving sets."""
    return {
        f.attname: getattr(record, f.attname)
        for f in record._meta.concrete_fields
        if f.attname not in BOOKKEEPING
    }


def differences(expected, stored):
    """The fields where `stored` is not what was expected (text compared as
    a browser posts it: CRLF and LF alike)."""
    return {
        name: (value, stored.get(name))
        for name, value in expected.items()
        if not same_text(value, stored.get(name))
    }


def history_of(model):
    return model.history.model._meta.db_table


# The records, once per form --------------------------------------------------


@dataclass
class World:
    """Camden's records of every kind, fully filled, and what lies beyond the
    editor's reach: Kent's plan, meeting and person, and ids never used."""

    editor: object
    submitter: object
    plan: Plan
    instalment: FundingInstalment
    target: Target
    finance: AuthorityFinance
    meeting: Meeting
    action: Action
    submission: FeedbackSubmission
    question: Question
    answer: Answer
    reform: ReformPlanDetails  # on a reform plan of Camden's
    grant: HighNeedsStabilityGrant  # on the same reform plan
    elsewhere: dict = field(default_factory=dict)  # name -> an id out of scope

    @property
    def known(self):
        """The records the pages edit, by model: {model: pk}."""
        return {
            type(record): record.pk
            for record in (
                self.plan,
                self.instalment,
                self.target,
                self.finance,
                self.meeting,
                self.meeting.forum_outcome,
                self.meeting.block_transfer,
                self.action,
                self.submission,
                self.answer,
                self.reform,
                self.grant,
            )
        } | {TargetUpdate: None, EvidenceLink: None, Comment: None}

    @property
    def camden(self):
        return self.plan.authority

    def fresh(self, record):
        """The record as stored, for a form to be bound to as the view binds it."""
        return type(record).objects.get(pk=record.pk)


@pytest.fixture
def world(camden_lns, camden_senco_lead, kent_lns):
    plan = fully_filled_plan()
    instalment = FundingInstalment.objects.create(
        plan=plan,
        financial_year=2024,
        amount=Decimal("5000000"),
        status=FundingInstalment.Status.REDUCED,
        amount_paid=Decimal("4000000"),
        condition="Progress on EHCP numbers.",
        note="Part withheld.",
    )
    target = Target.objects.create(
        plan=plan,
        description="Fewer new EHCPs",
        goal="ehcp_demand",
        baseline=Decimal("1200"),
        target_value=Decimal("1000"),
        unit="new EHCPs a year",
        due_year=2026,
    )
    target.recommendations.set(Recommendation.objects.filter(number__in=[1, 3]))
    meeting, _ = make_meeting()
    owner = make_user(roles=[(Role.LNS, authority(CAMDEN))])
    action = Action.objects.create(
        authority=authority(CAMDEN),
        owner=owner,
        meeting=meeting,
        plan=plan,
        title="Ask for the plan's consultation",
        due_on=date(2026, 12, 29),
        notes="Write to the director.",
    )
    submission = FeedbackSubmission.objects.create(
        authority=authority(CAMDEN),
        submitted_by=camden_senco_lead,
        source="senco_network",
        phases=["primary"],
        people_count=10,
        meeting_date=date(2026, 11, 3),
        health_care_costs="no",
        assessment_wait_weeks=20,
        pressures=["rising_need"],
        working_well="Outreach from the special school.",
    )
    question = plan.checklist_question_set().questions.order_by("pk").first()
    answer = plan_services.save_answer(
        plan=plan,
        question=question,
        data={"response": "partly", "concern": "some", "evidence": "Minutes, p. 4."},
        base_version=0,
        user=camden_lns,
    ).obj
    reform_plan = make_plan(CAMDEN, "send-reform", round_or_tranche="2026")
    reform = ReformPlanDetails.objects.create(
        plan=reform_plan,
        stage="submitted",
        started_on=date(2026, 1, 12),
        submitted_on=date(2026, 7, 31),
        health_partner="NHS North Central London ICB",
        aim_early="Speech and language support in every early years setting.",
        special_school_capacity="reduce",
        special_school_places_change=-40,
        mainstream_investment=Decimal("2400000"),
        isp_readiness="planned",
    )
    grant = HighNeedsStabilityGrant.objects.create(
        plan=reform_plan,
        eligible_deficit=Decimal("41250000"),
        deficit_figure="s251",
        status="reduced",
        amount_paid=Decimal("30000000"),
        paid_on=date(2026, 11, 6),
        remaining_plan="From reserves.",
    )
    kent_plan = make_plan(KENT)
    kent_meeting = Meeting.objects.create(
        authority=authority(KENT), forum="jcnc", title="Kent JCNC", held_on=date(2026, 1, 5)
    )
    return World(
        editor=camden_lns,
        submitter=camden_senco_lead,
        plan=plan,
        instalment=instalment,
        target=target,
        finance=make_finance()[0],
        meeting=meeting,
        action=action,
        submission=submission,
        question=question,
        answer=answer,
        reform=reform,
        grant=grant,
        elsewhere={
            "plan": kent_plan.pk,
            "meeting": kent_meeting.pk,
            "person": kent_lns.pk,
            "question": Question.objects.exclude(pk=question.pk).first().pk,
        },
    )


# What each form should store -------------------------------------------------


@dataclass
class Expected:
    """What a redirect after a post should have stored: records by (model,
    pk), with None for a record that was to be deleted and pk None for the
    one record to be added; and how many rows each table may have gained
    (a range), every other table staying as it was."""

    records: dict
    grows: dict = field(default_factory=dict)  # table -> (fewest, most) rows added
    reason: str = ""  # why a deleted record was deleted, kept in its history


def edit(world, record, form, *, history=True, extra=()):
    """A versioned record edited by a ModelForm: its form fields as the form
    cleaned them, everything else as it was; version and history moved once,
    or not at all when nothing changed."""
    assert form.is_valid(), f"redirected, but the form refuses the post: {form.errors}"
    was = world.fresh(record)
    expected = row_of(was) | {
        name: value for name, value in row_of(form.instance).items() if name in form_names(form)
    }
    m2m = {
        f.name: {obj.pk for obj in form.cleaned_data.get(f.name) or []}
        for f in record._meta.many_to_many
        if f.name in form.fields
    }
    changed = bool(differences(expected, row_of(was))) or any(
        names != set(getattr(was, name).values_list("pk", flat=True))
        for name, names in m2m.items()
    )
    expected["version"] = was.version + changed
    grows = dict(extra)
    if history:
        grows[history_of(type(record))] = saves(type(record)) if changed else (0, 0)
    return Expected({(type(record), record.pk): (expected, m2m)}, grows)


def add(form, model, *, history=True, also=None, extra=()):
    """One new record: its form fields as the form cleaned them, and the
    values the view sets (`also`)."""
    assert form.is_valid(), f"redirected, but the form refuses the post: {form.errors}"
    expected = {
        name: value for name, value in row_of(form.instance).items() if name in form_names(form)
    } | (also or {})
    m2m = {
        f.name: {obj.pk for obj in form.cleaned_data.get(f.name) or []}
        for f in model._meta.many_to_many
        if f.name in form.fields
    }
    if hasattr(model, "version"):
        expected["version"] = 1
    grows = {model._meta.db_table: (1, 1), **dict(extra)}
    if history:
        grows[history_of(model)] = saves(model)
    return Expected({(model, None): (expected, m2m)}, grows)


def saves(model):
    """How many history rows one save writes: one, and one more for each
    change to the links it keeps in its history (a target's
    recommendations: removing some, adding others)."""
    return (1, 3 if model._meta.many_to_many else 1)


def form_names(form):
    """The attribute names of the model fields a ModelForm sets."""
    return {
        f.attname for f in form.instance._meta.concrete_fields if f.name in form.fields
    } - BOOKKEEPING


def delete(world, record, data):
    form = DeleteForm(data, record=world.fresh(record))
    assert form.is_valid(), f"redirected, but the form refuses the post: {form.errors}"
    return Expected(
        {(type(record), record.pk): None},
        {type(record)._meta.db_table: (-1, -1), history_of(type(record)): (1, 1)},
        reason=form.cleaned_data["reason"].strip(),
    )


def stored_now(world, newest):
    """What a redirect left stored, read inside the post's savepoint: for
    each model a page may write, its known record (None once deleted) and
    the record added by the post (pk None), with their many-to-many pks and
    their latest history entry."""
    stored = {}
    for model, newest_pk in newest.items():
        pk = world.known[model]
        for key, record in (
            ((model, pk), pk and model.objects.filter(pk=pk).first()),
            ((model, None), model.objects.filter(pk__gt=newest_pk).first()),
        ):
            stored[key] = record and (
                full_row(record),
                {
                    f.name: set(getattr(record, f.name).values_list("pk", flat=True))
                    for f in model._meta.many_to_many
                },
            )
        if pk and hasattr(model, "history"):
            stored[(model, "history")] = (
                model.history.filter(id=pk)
                .order_by("-history_id")
                .values_list("history_type", "history_change_reason")
                .first()
            )
    return stored


def full_row(record):
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def check_saved(name, expected, before, after, stored):
    grown = changed_counts(before, after)
    for table in set(grown) | set(expected.grows):
        fewest, most = expected.grows.get(table, (0, 0))
        assert fewest <= grown.get(table, 0) <= most, (
            f"{name} saved, and {table} gained {grown.get(table, 0)} rows "
            f"(expected {fewest} to {most})"
        )
    for (model, pk), want in expected.records.items():
        found = stored[(model, pk)]
        if want is None:
            assert found is None, f"{name} saved, but left {model.__name__} {pk} in place"
            history_type, reason = stored[(model, "history")]
            assert (history_type, reason) == ("-", expected.reason), (
                f"{name} deleted {model.__name__} {pk} without keeping why in its history"
            )
            continue
        assert found is not None, f"{name} saved, but no {model.__name__} was stored"
        (values, links), (row, stored_links) = want, found
        wrong = differences(values, row)
        assert not wrong, f"{name} stored {model.__name__} not as the form cleaned it: {wrong}"
        for link, pks in links.items():
            assert stored_links[link] == pks, (
                f"{name} linked {link} {stored_links[link]}, not {pks}"
            )


def expect_plan(world, data, adding):
    plan = Plan() if adding else world.fresh(world.plan)
    told = plan.national_office_told_at
    form = PlanForm(data, instance=plan, authority=world.camden)
    if adding:
        expected = add(form, Plan, also={"authority_id": world.camden.pk})
    else:
        expected = edit(world, world.plan, form)
    if form.cleaned_data["status"] == Plan.Status.NEGOTIATING and told is None:
        # Saving when the national office is told is a second history row.
        fewest, most = expected.grows[history_of(Plan)]
        expected.grows[history_of(Plan)] = (fewest and fewest + 1, most and most + 1)
    return expected


def expect_instalment(world, data, adding):
    instalment = FundingInstalment(plan=world.plan) if adding else world.fresh(world.instalment)
    form = InstalmentForm(data, instance=instalment, plan=world.plan)
    if adding:
        return add(form, FundingInstalment, also={"plan_id": world.plan.pk})
    return edit(world, world.instalment, form)


def expect_reform(world, data, adding):
    form = ReformPlanForm(data, instance=world.fresh(world.reform), plan=world.reform.plan)
    return edit(world, world.reform, form)


def expect_grant(world, data, adding):
    form = GrantForm(data, instance=world.fresh(world.grant), plan=world.grant.plan)
    return edit(world, world.grant, form)


def expect_target(world, data, adding):
    target = Target(plan=world.plan) if adding else world.fresh(world.target)
    form = TargetForm(data, instance=target, plan=world.plan)
    # Recommendations have their own history rows, one per link.
    links = {
        Target.recommendations.through._meta.db_table: (-10, 10),
        history_of(Target) + "_recommendations": (0, 20),
    }
    if adding:
        return add(form, Target, also={"plan_id": world.plan.pk}, extra=links)
    return edit(world, world.target, form, extra=links)


def expect_target_update(world, data, adding):
    form = TargetUpdateForm(data, target=world.target, user=world.editor)
    also = {"target_id": world.target.pk, "recorded_by_id": world.editor.pk}
    return add(form, TargetUpdate, history=False, also=also)


def expect_answer(world, data, adding):
    """The answer as the form cleaned it and, when the link fields typed with
    it were filled in, the evidence link added to it (whether or not the
    answer changed)."""
    form = AnswerForm(data, private_notes=True)
    assert form.is_valid(), f"redirected, but the form refuses the post: {form.errors}"
    was = world.fresh(world.answer)
    typed = form.answer_data()
    changed = bool(differences(typed, row_of(was)))
    expected = row_of(was) | typed | {"carried_forward": False, "version": was.version + changed}
    if changed:
        expected["answered_by_id"] = world.editor.pk
    saved = Expected(
        {(Answer, was.pk): (expected, {})},
        {history_of(Answer): (1, 1) if changed else (0, 0)},
    )
    if form.new_link() is not None:
        also = {"answer_id": was.pk, "added_by_id": world.editor.pk}
        link = add(form.link_form, EvidenceLink, also=also)
        saved.records |= link.records
        saved.grows |= link.grows
    return saved


def expect_evidence(world, data, adding):
    form = EvidenceLinkForm(data, prefix="link")
    also = {"answer_id": world.answer.pk, "added_by_id": world.editor.pk}
    return add(form, EvidenceLink, also=also)


def expect_comment(world, data, adding):
    form = CommentForm(data, prefix="comment")
    also = {"answer_id": world.answer.pk, "author_id": world.editor.pk}
    return add(form, Comment, history=False, also=also)


def expect_finance(world, data, adding):
    finance = AuthorityFinance(authority=world.camden) if adding else world.fresh(world.finance)
    form = AuthorityFinanceForm(data, instance=finance)
    if adding:
        return add(form, AuthorityFinance, also={"authority_id": world.camden.pk})
    return edit(world, world.finance, form)


def expect_meeting(world, data, adding):
    """The meeting with, for a Schools Forum, its outcome and block transfer:
    each kept when filled in (and saved again with its meeting), removed when
    not; a change to any of them moves the meeting's version, once."""
    meeting = None if adding else world.fresh(world.meeting)
    forms = MeetingForms(data, authority=world.camden, user=world.editor, meeting=meeting)
    assert forms.is_valid(), "redirected, but the forms refuse the post"
    also = {"authority_id": world.camden.pk, "created_by_id": world.editor.pk}
    if adding:
        expected = add(forms.meeting, Meeting, also=also)
    else:
        expected = edit(world, world.meeting, forms.meeting)
    ((own, _),) = expected.records.values()
    schools_forum = forms.meeting.cleaned_data["forum"] == "schools_forum"
    changed = adding or own["version"] != meeting.version
    kept = []
    for form, model in ((forms.outcome, SchoolsForumOutcome), (forms.transfer, BlockTransfer)):
        stored = None if adding else model.objects.filter(meeting=meeting).first()
        key = (model, stored.pk if stored else None)
        if schools_forum and form.has_input():
            values = {
                name: value
                for name, value in row_of(form.instance).items()
                if name in form_names(form)
            }
            expected.records[key] = (values, {})
            expected.grows[model._meta.db_table] = (0, 0) if stored else (1, 1)
            changed |= stored is None or bool(differences(values, row_of(stored)))
            kept.append(model)
        elif stored:
            expected.records[key] = None
            expected.grows[model._meta.db_table] = (-1, -1)
            expected.grows[history_of(model)] = (1, 1)
            changed = True
    for model in kept:
        expected.grows[history_of(model)] = (1, 1) if changed else (0, 0)
    # Who will attend: the chosen people, in place of those before. Each new
    # version of the meeting in its history keeps the list as it then was.
    chosen = {person.pk for person in forms.meeting.cleaned_data.get("attending") or ()}
    was = set() if adding else set(meeting.attending.values_list("pk", flat=True))
    expected.grows[Meeting.attending.through._meta.db_table] = (len(chosen) - len(was),) * 2
    expected.grows[history_of(Meeting) + "_attending"] = (0, 3 * (len(chosen) + len(was)))
    if not adding:
        own["version"] = meeting.version + changed
        # One row, and one more for each change to who attends (saves()).
        expected.grows[history_of(Meeting)] = saves(Meeting) if changed else (0, 0)
    return expected


def expect_action(world, data, adding):
    meetings = Meeting.objects.for_user(world.editor).filter(authority=world.camden)
    action = Action(authority=world.camden) if adding else world.fresh(world.action)
    form = ActionForm(
        data, instance=action, authority=world.camden, user=world.editor, meetings=meetings
    )
    if adding:
        also = {"authority_id": world.camden.pk, "created_by_id": world.editor.pk}
        return add(form, Action, also=also)
    return edit(world, world.action, form)


def expect_submission(world, data, adding):
    submission = FeedbackSubmission() if adding else world.fresh(world.submission)
    form = SubmissionForm(data, instance=submission, authority=world.camden)
    # Feedback's counts for a school term new to the authority gain a row;
    # a date moved to another term may leave the old one with none.
    tallies = FeedbackTally._meta.db_table
    if adding:
        also = {"authority_id": world.camden.pk, "submitted_by_id": world.submitter.pk}
        return add(form, FeedbackSubmission, history=False, also=also, extra={tallies: (0, 1)})
    return edit(world, world.submission, form, history=False, extra={tallies: (-1, 1)})


def expect_instalment_deleted(world, data, adding):
    return delete(world, world.instalment, data)


def expect_finance_deleted(world, data, adding):
    return delete(world, world.finance, data)


# The forms -------------------------------------------------------------------


@dataclass
class Page:
    """One form people submit: where it is, what a save should store and in
    which models, who uses it, which of the page's forms it is (a field only
    it has), where it posts when not to the page itself, what a person types
    into a blank form, and the query parameter the page takes, if any."""

    url: object  # (world) -> the page's address
    expect: object  # (world, posted QueryDict, adding) -> Expected
    models: tuple
    having: str | None = "base_version"
    person: str = "editor"
    posts_to: object = None  # (world) -> address
    typed: object = None  # (world) -> {field: value}: a blank form filled in validly
    query: str = ""  # "plan" for "?plan=…"

    @property
    def adding(self):
        return self.typed is not None

    @property
    def written(self):
        """The tables the page writes to: its models' and their links'."""
        return [
            table
            for model in self.models
            for table in (
                model._meta.db_table,
                *(link.remote_field.through._meta.db_table for link in model._meta.many_to_many),
            )
        ]


def answer_page(world):
    return reverse("plans:answer", args=[world.plan.pk, world.question.key])


def on_answer(name):
    return lambda world: reverse(name, args=[world.plan.pk, world.question.key])


PAGES = {
    "plans:add": Page(
        lambda w: reverse("plans:add", args=[w.camden.slug]),
        expect_plan,
        (Plan,),
        typed=lambda w: {"round_or_tranche": "2027-28", "status": "rumoured"},
    ),
    "plans:edit": Page(lambda w: reverse("plans:edit", args=[w.plan.pk]), expect_plan, (Plan,)),
    "plans:instalment_add": Page(
        lambda w: reverse("plans:instalment_add", args=[w.plan.pk]),
        expect_instalment,
        (FundingInstalment,),
        typed=lambda w: {"financial_year": "2025", "amount": "1000000", "status": "due"},
    ),
    "plans:instalment_edit": Page(
        lambda w: reverse("plans:instalment_edit", args=[w.plan.pk, w.instalment.pk]),
        expect_instalment,
        (FundingInstalment,),
    ),
    "plans:instalment_delete": Page(
        lambda w: reverse("plans:instalment_delete", args=[w.plan.pk, w.instalment.pk]),
        expect_instalment_deleted,
        (FundingInstalment,),
        having="reason",
    ),
    "plans:reform_edit": Page(
        lambda w: reverse("plans:reform_edit", args=[w.reform.plan_id]),
        expect_reform,
        (ReformPlanDetails,),
    ),
    "plans:grant_edit": Page(
        lambda w: reverse("plans:grant_edit", args=[w.grant.plan_id]),
        expect_grant,
        (HighNeedsStabilityGrant,),
    ),
    "plans:target_add": Page(
        lambda w: reverse("plans:target_add", args=[w.plan.pk]),
        expect_target,
        (Target,),
        typed=lambda w: {"description": "More inclusion", "goal": "provision"},
    ),
    "plans:target_edit": Page(
        lambda w: reverse("plans:target_edit", args=[w.plan.pk, w.target.pk]),
        expect_target,
        (Target,),
    ),
    "plans:target_update_add": Page(
        lambda w: reverse("plans:target_update_add", args=[w.plan.pk, w.target.pk]),
        expect_target_update,
        (TargetUpdate,),
        having="recorded_on",
        typed=lambda w: {"status": "at_risk", "value": "1100", "reason": "Demand rose."},
    ),
    # The answer with the evidence link typed with it: posted with a link
    # typed (a web page: no page or paragraph), and changed from there.
    "plans:answer": Page(
        answer_page,
        expect_answer,
        (Answer, EvidenceLink),
        having="response",
        typed=lambda w: {"link-url": "https://example.org/consultation", "link-title": "Notes"},
    ),
    "plans:evidence_add": Page(
        answer_page,
        expect_evidence,
        (EvidenceLink,),
        having="link-url",
        posts_to=on_answer("plans:evidence_add"),
        typed=lambda w: {"link-url": "https://example.org/minutes.pdf", "link-location": "p. 4"},
    ),
    "plans:comment_add": Page(
        answer_page,
        expect_comment,
        (Comment,),
        having="comment-text",
        posts_to=on_answer("plans:comment_add"),
        typed=lambda w: {"comment-text": "Ask for the minutes."},
    ),
    "authorities:finance_add": Page(
        lambda w: reverse("authorities:finance_add", args=[w.camden.slug]),
        expect_finance,
        (AuthorityFinance,),
        typed=lambda w: {
            "financial_year": "2025",
            "ehcp_count": "2,500",
            "ehcp_count_source_url": "https://example.org/sen2",
        },
    ),
    "authorities:finance_edit": Page(
        lambda w: reverse("authorities:finance_edit", args=[w.camden.slug, 2024]),
        expect_finance,
        (AuthorityFinance,),
    ),
    "authorities:finance_delete": Page(
        lambda w: reverse("authorities:finance_delete", args=[w.camden.slug, 2024]),
        expect_finance_deleted,
        (AuthorityFinance,),
        having="reason",
    ),
    "consultations:add": Page(
        lambda w: reverse("consultations:add", args=[w.camden.slug]),
        expect_meeting,
        (Meeting, SchoolsForumOutcome, BlockTransfer),
        typed=lambda w: {
            "forum": "schools_forum",
            "title": "Spring forum",
            "held_on": "2026-03-14",
            "union_invited": "yes",
            "union_attended": "yes",
            "union_consulted": "no",
            "transfer-financial_year": "2026",
            "transfer-percent": "0.5",
        },
        query="plan",
    ),
    "consultations:edit": Page(
        lambda w: reverse("consultations:edit", args=[w.meeting.pk]),
        expect_meeting,
        (Meeting, SchoolsForumOutcome, BlockTransfer),
    ),
    "consultations:action_add": Page(
        lambda w: reverse("consultations:action_add", args=[w.camden.slug]),
        expect_action,
        (Action,),
        typed=lambda w: {
            "title": "Write to the director",
            "owner": str(w.editor.pk),
            "due_on": "2026-12-01",
        },
        query="meeting",
    ),
    "consultations:action_edit": Page(
        lambda w: reverse("consultations:action_edit", args=[w.action.pk]),
        expect_action,
        (Action,),
    ),
    "feedback:add": Page(
        lambda w: reverse("feedback:add", args=[w.camden.slug]),
        expect_submission,
        (FeedbackSubmission,),
        person="submitter",
        typed=lambda w: {
            "source": "senco_network",
            "phases": "primary",
            "people_count": "12",
            "meeting_date": "2026-03-12",
            "health_care_costs": "no",
        },
    ),
    "feedback:edit": Page(
        lambda w: reverse("feedback:edit", args=[w.submission.pk]),
        expect_submission,
        (FeedbackSubmission,),
        person="submitter",
    ),
}


# What gets posted ------------------------------------------------------------

NUL = "\x00"
ODD_TEXT = [
    *("", " ", "\t", "\r\n", "\u00a0", "\u200b", "\ufeff", "\u202e", "\u2028"),
    *(NUL, f"a{NUL}b", f"2024{NUL}"),
    *("<script>alert(1)</script>", "{{ form }}{% csrf_token %}", "%(value)s %s %d"),
    *("' OR 1=1 --", "\u2603\U0001f600\u00e9", "on", "true", "None", "null", "[]"),
]
ODD_NUMBERS = [
    *("0", "-0", "-1", "1.5", "0.001", "12.345", "1e3", "1E+400", "1e-400", "0x10", " 7 "),
    *("NaN", "sNaN", "Infinity", "-Infinity", "1_000", "999999999999.99", "1000000000000"),
    *("£12,500,000", "12,500,000.555", "£-5", "-£5", "1,2,3", ",", "£", "9" * 14, "9" * 30),
    *("32767", "32768", "65536", "2147483648", str(2**63 - 1), str(2**63), str(2**64)),
    "\u0663",  # an Arabic-Indic 3: int() reads it
    "\u00b2",  # a superscript 2: isdigit() says yes, int() says no
    "\u00bd",  # a half
    "\u22125",  # a minus sign, not a hyphen
]
ODD_DATES = [
    *("2026-02-30", "2026-13-01", "2025-02-29", "2024-02-29", "0000-00-00", "0001-01-01"),
    *("9999-12-31", "10000-01-01", "-2026-01-01", "2026-W01", "2026-12-31T10:00", "today"),
    *("31/12/2026", "12/31/2026", "2026/12/31", "2026-12-31 10:00", "29 2 2023", "1 1 1"),
]
CHANGES = 4  # fields changed in one post, at most: a bug seldom needs more than two
LENGTHS = [40, 41, 60, 61, 100, 101, 200, 201, 300, 301, 500, 501, 2048, 2049, 20_000, 20_001]
# Fields no form has, which a script might post to set what the person may not.
SMUGGLED = [
    *("id", "version", "authority", "plan", "revision", "revision_of", "meeting"),
    *("created_by", "updated_by", "submitted_by", "answered_by", "carried_forward"),
    *("national_office_told_at", "withdrawn_at", "target", "answer"),
]


def stretch(unit, length):
    return (unit * (length // len(unit) + 1))[:length]


LONG_TEXT = st.builds(
    stretch,
    st.text(min_size=1, max_size=2),
    st.one_of(st.sampled_from([*LENGTHS, 30_000]), st.integers(0, 30_000)),
)
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d %m %Y", "%Y%m%d", "%-d %B %Y"]


ANYTHING = st.one_of(
    st.text(max_size=8),
    LONG_TEXT,
    st.sampled_from(ODD_TEXT + ODD_NUMBERS + ODD_DATES),
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(-(10**13), 10**13, places=2).map(str),
    st.builds(
        date.strftime, st.dates(date(1, 1, 1), date(9999, 12, 31)), st.sampled_from(DATE_FORMATS)
    ),
)


def values_for(name, original, choices, ids, version):
    """What may be posted for one field (None: leave it out): anything, or
    what this field might take (the page's choices for it, ids in and out of
    scope, versions near the one shown and far from it, what was there with
    a twist), one value or several."""
    near = [*choices, *ids, original, f" {original} ", original.upper(), f"{original}{NUL}"]
    if name.endswith("base_version"):
        near += [version - 1, version + 1, 0, -1, 2**31, 2**63, 10**30, "1.0", "\u0661"]
    scalar = st.one_of(st.sampled_from([str(value) for value in near]), ANYTHING)
    return st.one_of(st.none(), scalar, st.lists(scalar, min_size=2, max_size=3))


def posts(fields, choices, ids, version, query):
    """The form as shown, with any of its fields dropped, replaced with one
    value or several, and fields it does not have added; and, for a page
    that takes one, any value of its query parameter."""
    names = sorted(set(fields) | set(choices) | set(SMUGGLED))
    values = {
        name: values_for(
            name,
            fields[name] if isinstance(fields.get(name), str) else "",
            choices.get(name, []),
            ids,
            version,
        )
        for name in names
    }
    queries = st.one_of(
        st.none(), st.sampled_from([str(i) for i in ids] + ODD_NUMBERS), st.text(max_size=4)
    )

    @st.composite
    def post(draw):
        data = dict(fields)
        for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=CHANGES)):
            value = draw(values[name])
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        value = draw(queries) if query else None
        return data, "" if value is None else f"?{query}={quote(value)}"

    return post()


# The properties --------------------------------------------------------------


@dataclass
class Opened:
    """A form as its page shows it to the person who uses it, filled in as
    they would (add pages), ready to post."""

    person: object
    posts_to: str
    fields: dict
    choices: dict  # every field's name -> the values the page offers for it


def opened(page, world):
    person = getattr(world, page.person)
    url = page.url(world)
    shown = send(person, url)
    assert shown.status == 200, shown.error or shown.status
    fields = form_fields(shown.content, having=page.having)
    return Opened(
        person,
        page.posts_to(world) if page.posts_to else url,
        fields | (page.typed(world) if page.typed else {}),
        offered(shown.content, page.having),
    )


@pytest.mark.parametrize("name", PAGES)
def test_no_post_makes_a_server_error_or_a_partial_save(name, world, record_property):
    page = PAGES[name]
    form = opened(page, world)
    tables = app_tables()
    before = rows_now(tables, page.written)
    newest = {
        model: model.objects.aggregate(newest=Max("pk"))["newest"] or 0 for model in page.models
    }
    version = int(form.fields.get("base_version") or 0)
    ids = {
        *world.elsewhere.values(),
        *(pk for pk in world.known.values() if pk),
        world.editor.pk,
        *(0, -1, 999_999, 2**31, 2**63, 2**64),
    }
    ended = Counter()
    shows_form = f'name="{page.having}"'.encode()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        # Shrunk to the smallest post that fails; not traced line by line.
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(posts(form.fields, form.choices, sorted(ids), version, page.query))
    def post_anything(post):
        data, query = post
        with transaction.atomic():
            answered = send(form.person, form.posts_to + query, data)
            if answered.error:
                transaction.set_rollback(True)
                raise AssertionError(f"{name} answered 500:\n{answered.error}")
            after = rows_now(tables, page.written)
            stored = stored_now(world, newest) if answered.status == 302 else None
            transaction.set_rollback(True)
        ended[answered.status] += 1
        if answered.status in RESHOWN:
            assert answered.status == 400 or shows_form in answered.content, (
                f"{name} answered {answered.status} without the form"
            )
            assert after == before, (
                f"{name} showed the form again ({answered.status}) but changed "
                f"{changed_counts(before, after) or page.written}"
            )
            return
        assert answered.status == 302, f"{name} answered {answered.status}"
        posted = QueryDict(urlencode(data, doseq=True))
        check_saved(name, page.expect(world, posted, page.adding), before, after, stored)

    started = time.perf_counter()
    try:
        post_anything()
    finally:
        took = time.perf_counter() - started
        # Reported after the run (tests/conftest.py), from any xdist worker.
        record_property(
            "form properties",
            f"{name}: {sum(ended.values())} posts in {took:.1f}s, "
            f"answered {dict(sorted(ended.items()))}",
        )


@pytest.mark.parametrize("name", PAGES)
def test_a_nul_byte_in_any_field_never_reaches_the_database(name, world):
    """PostgreSQL refuses text with a NUL byte ("A string literal cannot
    contain NUL"): one that got past a form would be a 500 there, and stored
    as typed on SQLite. Each field in turn, the rest of the form as a person
    filled it in."""
    page = PAGES[name]
    form = opened(page, world)
    for field_name in sorted(set(form.fields) | set(form.choices)):
        original = form.fields.get(field_name)
        typed = original if isinstance(original, str) and original else "1"
        with transaction.atomic():
            answered = send(
                form.person, form.posts_to, form.fields | {field_name: f"{typed}{NUL}"}
            )
            stored = None if answered.error else rows_now([], page.written)
            transaction.set_rollback(True)
        assert not answered.error, f"{name}, {field_name} with a NUL: 500\n{answered.error}"
        assert not [
            value
            for _, rows in stored.rows
            for row in rows
            for value in row
            if isinstance(value, str) and (NUL in value or "\\u0000" in value)
        ], f"{name} stored {field_name} with its NUL byte"


# Found by the properties -----------------------------------------------------
# Plain reproducers of the 500s the properties found, one post each: kept so
# that each stays fixed.

EDITS_WITH_HISTORY = [
    "plans:edit",
    "plans:reform_edit",
    "plans:grant_edit",
    "plans:instalment_edit",
    "plans:target_edit",
    "authorities:finance_edit",
    "consultations:edit",
    "consultations:action_edit",
]


@pytest.mark.parametrize("name", EDITS_WITH_HISTORY)
def test_found_a_base_version_past_64_bits_is_refused_not_a_500(name, world):
    """Was a 500 on SQLite: a version other than the record's is refused,
    and saying what changed since looked the posted version up in the
    record's history, which SQLite cannot do past 2**63 - 1 (OverflowError
    in authorities/edits.py, other_change)."""
    form = opened(PAGES[name], world)
    answered = send(form.person, form.posts_to, form.fields | {"base_version": str(2**63)})
    assert answered.status in (200, 409), answered.error or answered.status


@pytest.mark.parametrize("name", ["plans:target_add", "plans:target_edit"])
def test_found_a_recommendation_id_past_64_bits_is_refused_not_a_500(name, world):
    """Was a 500 on SQLite: ModelMultipleChoiceField checks each id on its
    own, then reads them all with one `IN` query, which SQLite cannot take
    past 2**63 - 1 (OverflowError). authorities.forms.RecordsField refuses
    such an id first."""
    form = opened(PAGES[name], world)
    answered = send(form.person, form.posts_to, form.fields | {"recommendations": str(2**63)})
    assert answered.status == 200, answered.error or answered.status


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_found_a_meeting_id_that_only_looks_like_digits_is_not_a_500(method, world):
    """Was a 500 on every database: "Log an action from this meeting" passes
    ?meeting=<id>, checked with str.isdigit(), which is true for "²" (a
    superscript two), which int() then refuses (ValueError)."""
    form = opened(PAGES["consultations:action_add"], world)
    url = reverse("consultations:action_add", args=[world.camden.slug]) + "?meeting=%C2%B2"
    answered = send(form.person, url, form.fields if method == "POST" else None)
    assert answered.status in (200, 302), answered.error or answered.status


@pytest.mark.parametrize(
    ("name", "record"),
    [("plans:instalment_delete", "instalment"), ("authorities:finance_delete", "finance")],
)
@pytest.mark.parametrize("length", [100, 101, 300])
def test_found_a_deletion_reason_is_kept_in_full_or_refused(name, record, length, world):
    """Was a 500 on PostgreSQL: the form took a reason of up to 300
    characters, kept in django-simple-history's history_change_reason, a
    varchar(100) (StringDataRightTruncation); SQLite kept it all."""
    form = opened(PAGES[name], world)
    reason = stretch("Entered twice, ", length - 1) + "."
    answered = send(form.person, form.posts_to, form.fields | {"reason": reason})
    assert answered.status in (200, 302), answered.error or answered.status
    deleted = type(getattr(world, record)).history.filter(history_type="-")
    if answered.status == 302:
        assert deleted.get().history_change_reason == reason
    else:
        assert not deleted.exists()
