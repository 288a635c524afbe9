"""Saving edits (authorities/edits.py), for every kind of record people edit:
a save that changes nothing writes nothing; a save from a page opened before
someone else's save is refused, says what they changed and keeps what was
typed; and, on PostgreSQL, fifty racing edits lose nothing.

Forms are posted as the page shows them (tests/browsing.py), changed only
where a test says.
"""

import html
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from authorities.access import Role
from authorities.caching import data_version
from authorities.models import AuthorityFinance
from consultations.models import Action, BlockTransfer, Meeting, SchoolsForumOutcome
from feedback.models import FeedbackSubmission
from plans.models import FundingInstalment, Plan, Recommendation, Target

from .browsing import form_fields, resubmit
from .factories import CAMDEN, authority, give_totp, make_plan, make_user


def fully_filled_plan():
    return make_plan(
        CAMDEN,
        round_or_tranche="2023-24",
        status=Plan.Status.AGREED,
        status_note="Agreed in March.",
        agreement_date=date(2024, 3, 6),
        first_year=2023,
        last_year=2027,
        total_funding=Decimal("20000000"),
        document_url="https://example.org/sv.pdf",
        summary="Cut new EHCPs.",
        sources="https://example.org/dfe",
        verified=True,
    )


@dataclass
class Kind:
    """One kind of record people edit: how to make one (fully filled), its
    edit page, the text field a test changes, and who edits it."""

    model: type
    make: object  # () -> (record, url)
    field: str  # the form field a test changes (a text the tests append to)
    attr: str  # the model attribute it fills
    editors: tuple = ("camden_lns", "national_officer")


def make_plan_edit():
    plan = fully_filled_plan()
    return plan, reverse("plans:edit", args=[plan.pk])


def make_instalment():
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
    return instalment, reverse("plans:instalment_edit", args=[plan.pk, instalment.pk])


def make_target():
    plan = fully_filled_plan()
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
    return target, reverse("plans:target_edit", args=[plan.pk, target.pk])


def make_finance():
    finance = AuthorityFinance.objects.create(
        authority=authority(CAMDEN),
        financial_year=2024,
        dsg_cumulative_deficit=Decimal("42100000"),
        dsg_cumulative_deficit_source_url="https://example.org/forum",
        ehcp_count=2450,
        ehcp_count_source_url="https://example.org/sen2",
    )
    return finance, reverse("authorities:finance_edit", args=["camden", 2024])


def make_meeting():
    meeting = Meeting.objects.create(
        authority=authority(CAMDEN),
        forum="schools_forum",
        title="Autumn forum",
        held_on=date(2026, 10, 14),
        union_invited="yes",
        union_attended="yes",
        union_consulted="no",
        attendees="Carys Evans",
        summary="The plan was presented as decided.",
        minutes_url="https://example.org/minutes",
        minutes_page="12",
    )
    SchoolsForumOutcome.objects.create(
        meeting=meeting,
        funding_on_agenda="yes",
        proposals_discussed="yes",
        extra_funding="About £1m.",
        extra_funding_amount=Decimal("1000000"),
    )
    BlockTransfer.objects.create(
        meeting=meeting,
        financial_year=2026,
        amount=Decimal("1200000"),
        percent=Decimal("0.5"),
        votes_for=9,
        votes_against=6,
        abstentions=1,
        outcome="agreed",
    )
    return meeting, reverse("consultations:edit", args=[meeting.pk])


def make_action():
    owner = make_user(roles=[(Role.LNS, authority(CAMDEN))])
    action = Action.objects.create(
        authority=authority(CAMDEN),
        owner=owner,
        title="Ask for the plan's consultation",
        due_on=date(2026, 12, 29),
        notes="Write to the director.",
    )
    return action, reverse("consultations:action_edit", args=[action.pk])


KINDS = {
    "plan": Kind(Plan, make_plan_edit, "summary", "summary"),
    "instalment": Kind(FundingInstalment, make_instalment, "note", "note"),
    "target": Kind(Target, make_target, "description", "description"),
    "finance year": Kind(
        AuthorityFinance,
        make_finance,
        "dsg_cumulative_deficit_source_url",
        "dsg_cumulative_deficit_source_url",
    ),
    "meeting": Kind(Meeting, make_meeting, "summary", "summary"),
    "action": Kind(Action, make_action, "notes", "notes"),
}


@pytest.fixture
def editors(request):
    def clients(kind):
        made = []
        for persona in kind.editors:
            client = Client()
            client.force_login(request.getfixturevalue(persona))
            made.append(client)
        return made

    return clients


def history_count(record):
    history = getattr(type(record), "history", None)
    return history.filter(id=record.pk).count() if history else None


def stored(record):
    return type(record).objects.get(pk=record.pk)


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("name", KINDS)
class TestEveryKind:
    @pytest.mark.usefixtures("page_cache")
    def test_saving_unchanged_writes_nothing(self, name, editors):
        kind = KINDS[name]
        record, url = kind.make()
        clients = editors(kind)
        before, history, cached = stored(record), history_count(record), data_version()
        for client in clients:
            response = resubmit(client, url)
            assert response.status_code == 302, form_errors(response)
            assert "Nothing changed" in text(client.get(response["Location"]))
        after = stored(record)
        assert after.version == before.version
        assert history_count(record) == history
        assert data_version() == cached  # no page was made old
        assert getattr(after, "updated_at", None) == getattr(before, "updated_at", None)

    def test_a_change_is_saved_at_the_next_version(self, name, editors):
        kind = KINDS[name]
        record, url = kind.make()
        history = history_count(record)
        client = editors(kind)[0]
        value = changed_value(kind, form_fields(client.get(url).content)[kind.field])
        response = resubmit(client, url, **{kind.field: value})
        assert response.status_code == 302, form_errors(response)
        after = stored(record)
        assert after.version == record.version + 1
        assert getattr(after, kind.attr) == value
        assert history_count(record) == history + 1

    def test_a_stale_save_is_refused_and_says_what_changed(self, name, editors):
        kind = KINDS[name]
        record, url = kind.make()
        first, second = editors(kind)
        # The second person opens the page; the first saves a change.
        opened = form_fields(second.get(url).content)
        theirs = changed_value(kind, opened[kind.field], "their change")
        assert resubmit(first, url, **{kind.field: theirs}).status_code == 302

        mine = changed_value(kind, opened[kind.field], "my change")
        response = second.post(url, {**opened, kind.field: mine})
        assert response.status_code == 409
        page = text(response)
        assert f"Someone else changed this {form_what(response)}" in page
        assert "Carys Evans" in page or "Nadia Okafor" in page
        assert "Nothing you typed has been saved or lost" in page
        # What they typed is still there, and nothing of theirs was saved.
        kept = form_fields(response.content)
        assert kept[kind.field].replace("\r\n", "\n") == mine
        assert getattr(stored(record), kind.attr) == theirs

        # Saving again is now a deliberate choice, and goes through.
        response = second.post(url, kept)
        assert response.status_code == 302, form_errors(response)
        assert getattr(stored(record), kind.attr) == mine


def changed_value(kind, value, note="changed"):
    value = (value or "").replace("\r\n", "\n")
    if kind.field.endswith("_url"):
        return f"{value}?{note.replace(' ', '-')}"
    return f"{value} ({note})"


def form_what(response):
    return response.context["form"].what if "form" in response.context else "meeting"


def text(response):
    return html.unescape(response.content.decode())


def form_errors(response):
    context = getattr(response, "context", None) or {}
    form = context.get("form") or getattr(context.get("forms"), "meeting", None)
    return form.errors if form is not None else response.status_code


class TestFeedback:
    """Only the submitter changes their feedback: a stale save comes from
    their own second window."""

    def submission(self, person):
        return FeedbackSubmission.objects.create(
            authority=authority(CAMDEN),
            submitted_by=person,
            source="senco_network",
            phases=["primary"],
            people_count=10,
            meeting_date=date(2026, 11, 3),
            health_care_costs="no",
            assessment_wait_weeks=20,
            pressures=["rising_need"],
            working_well="Outreach from the special school.",
        )

    def test_unchanged_writes_nothing_and_stale_is_refused(self, client_for, camden_senco_lead):
        given = self.submission(camden_senco_lead)
        url = reverse("feedback:edit", args=[given.pk])
        client = client_for(camden_senco_lead)
        updated_at = given.updated_at

        assert resubmit(client, url).status_code == 302
        assert stored(given).updated_at == updated_at
        assert stored(given).version == 1

        window = form_fields(client.get(url).content)
        assert resubmit(client, url, people_count="12").status_code == 302
        response = client.post(url, {**window, "people_count": "14"})
        assert response.status_code == 409
        assert "Someone else changed this feedback" in text(response)
        assert stored(given).people_count == 12


class TestAnswers:
    def test_saving_an_answer_unchanged_keeps_who_answered(
        self, client_for, camden_lns, national_officer
    ):
        plan = fully_filled_plan()
        url = reverse("plans:answer", args=[plan.pk, "cuts-not-efficiency"])
        response = resubmit(
            client_for(camden_lns),
            url,
            having="response",
            response="partly",
            concern="some",
            evidence="Minutes, p. 4.",
        )
        assert response.status_code == 302
        answer = plan.assessment.answers.get()
        history = answer.history.count()

        officer = client_for(national_officer)
        response = resubmit(officer, url, having="response")
        assert response.status_code == 302
        assert "Nothing changed" in text(officer.get(url))
        again = plan.assessment.answers.get()
        assert (again.answered_by, again.answered_at, again.version) == (
            camden_lns,
            answer.answered_at,
            answer.version,
        )
        assert again.history.count() == history


class TestAdmin:
    def test_a_stale_change_to_a_persons_roles_is_refused(
        self, client_for, national_officer, camden_lns
    ):
        other_officer = type(national_officer).objects.create_user(
            "second.officer@example.org", "x", is_staff=True
        )
        other_officer.memberships.create(role="national_officer")
        give_totp(other_officer)  # national officers sign in in two steps
        url = reverse("admin:authorities_user_change", args=[camden_lns.pk])
        mine, theirs = client_for(national_officer), client_for(other_officer)
        opened = form_fields(mine.get(url).content, having="email")

        response = resubmit(theirs, url, having="email", **{"memberships-0-role": "jcnc_rep"})
        assert response.status_code == 302
        assert camden_lns.memberships.get().role == "jcnc_rep"

        response = mine.post(url, {**opened, "last_name": "Evans-Jones"})
        assert response.status_code == 200
        assert "Someone else changed this" in text(response)
        camden_lns.refresh_from_db()
        assert camden_lns.last_name == "Evans"
        assert camden_lns.memberships.get().role == "jcnc_rep"

    def test_saving_a_person_unchanged_writes_nothing(
        self, client_for, national_officer, camden_lns
    ):
        url = reverse("admin:authorities_user_change", args=[camden_lns.pk])
        history = camden_lns.memberships.get().history.count()
        response = resubmit(client_for(national_officer), url, having="email")
        assert response.status_code == 302
        assert type(camden_lns).objects.get(pk=camden_lns.pk).version == camden_lns.version
        assert camden_lns.memberships.get().history.count() == history


# Racing edits ----------------------------------------------------------------

# Four at once: a real race, and few enough that refusals do not swamp the
# run (the test client renders every refused page in full).
RACERS = 4
EDITS = 50


def token(n):
    """Tokens that cannot be read inside one another: Aa, Ab, … Bx."""
    return f"{chr(65 + n // 26)}{chr(97 + n % 26)}"


def make_feedback(submitter):
    submission = FeedbackSubmission.objects.create(
        authority=authority(CAMDEN),
        submitted_by=submitter,
        source="senco_network",
        phases=["primary"],
        people_count=10,
        meeting_date=date(2026, 11, 3),
        health_care_costs="no",
        working_well="Outreach.",
    )
    return submission, reverse("feedback:edit", args=[submission.pk])


def make_person(_):
    person = make_user(roles=[(Role.LNS, authority(CAMDEN))], first_name="X")
    return person, reverse("admin:authorities_user_change", args=[person.pk])


@dataclass
class Race:
    """Fifty edits of one record, each appending a token to `field` (with
    `sep` between), by `editors` taking turns."""

    make: object  # (first editor) -> (record, url)
    field: str
    editors: tuple = ("camden_lns", "national_officer")
    sep: str = " "


RACES = {
    **{
        name: Race(lambda _, kind=kind: kind.make(), kind.field, kind.editors)
        for name, kind in KINDS.items()
    },
    # Only the submitter changes feedback: the race is between their windows.
    "feedback": Race(make_feedback, "working_well", ("camden_senco_lead",)),
    # A person and their memberships, in the admin, by two national officers.
    "person (admin)": Race(make_person, "first_name", ("national_officer", "second_officer"), ""),
}
RACES["finance year"].sep = "&"  # its field is a web address


@pytest.fixture
def second_officer(reference_data):
    return make_user(is_staff=True, roles=[(Role.NATIONAL_OFFICER, None)])


def append_until_saved(client, url, race, piece):
    """Read the page, append `piece` to the field, save; when refused
    because someone else saved first, read the page again and retry.
    Returns the number of refusals."""
    for refusals in range(200):
        data = form_fields(client.get(url).content)
        value = data[race.field].replace("\r\n", "\n")
        data[race.field] = f"{value}{race.sep}{piece}"
        response = client.post(url, data)
        if response.status_code == 302:
            return refusals
        # The app answers 409; the admin shows its form again with the error.
        assert response.status_code == 409 or "Someone else changed" in text(response), (
            form_errors(response)
        )
    raise AssertionError(f"{url}: refused 200 times in a row")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="racing writers need PostgreSQL's row locks"
)
@pytest.mark.parametrize("name", RACES)
def test_fifty_racing_edits_lose_nothing(name, transactional_db, reference_data, request):
    race = RACES[name]
    people = [request.getfixturevalue(persona) for persona in race.editors]
    record, url = race.make(people[0])
    start = threading.Barrier(RACERS)

    def racer(n):
        try:
            client = Client()
            client.force_login(people[n % len(people)])
            start.wait(timeout=60)
            return sum(
                append_until_saved(client, url, race, token(i)) for i in range(n, EDITS, RACERS)
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(RACERS) as pool:
        refusals = sum(pool.map(racer, range(RACERS)))
    final = stored(record)
    lost = [token(i) for i in range(EDITS) if token(i) not in getattr(final, race.field)]
    assert lost == [], f"{len(lost)} of {EDITS} edits lost"
    assert final.version == record.version + EDITS
    assert refusals > 0  # they really raced
