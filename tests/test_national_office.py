"""Telling the national office about an authority from its page
(dashboards/national_office.py): what is chosen is sent, feedback only with
its submitters' consent and never with a name, and the authority's page
lists what was told."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from dashboards.models import NationalOfficeReport
from feedback.models import FeedbackSubmission
from plans.models import Answer, Assessment, QuestionSet

from .factories import CAMDEN, KENT, authority, make_plan

pytestmark = pytest.mark.django_db

URL = reverse("dashboards:tell_national_office", args=["camden"])
TODAY = timezone.localdate()


def concern(plan, level="serious", n=0):
    bank = QuestionSet.objects.latest_version()
    assessment, _ = Assessment.objects.get_or_create(plan=plan, defaults={"question_set": bank})
    return Answer.objects.create(
        assessment=assessment,
        question=bank.questions.all()[n],
        response="no",
        concern=level,
        evidence="The Schools Forum papers of 3 March say so.",
        private_notes="Heard from the head of Greenfield Primary.",
    )


def feedback(*, consent, by=None, **fields):
    values = {
        "source": "senco_network",
        "people_count": 12,
        "meeting_date": TODAY - datetime.timedelta(days=10),
        "health_care_costs": "no",
        "working_well": "The outreach team from Swiss Cottage school.",
        "consent_to_share": consent,
    }
    return FeedbackSubmission.objects.create(
        authority=authority(CAMDEN), submitted_by=by, **(values | fields)
    )


@pytest.fixture
def plan(camden):
    return make_plan(CAMDEN)


def send(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, data)


def test_sends_what_is_chosen_and_lists_it_on_the_page(
    client_for, camden_lns, camden_senco_lead, plan, django_capture_on_commit_callbacks
):
    serious = concern(plan)
    concern(plan, "some", n=1)  # not chosen
    feedback(consent=True, by=camden_senco_lead, refusing_example="x")
    feedback(consent=False, by=camden_senco_lead, working_well="Not for sharing, this.")
    client = client_for(camden_lns)
    response = send(
        client,
        django_capture_on_commit_callbacks,
        concerns=[serious.pk],
        members_figures="on",
        shared_feedback="on",
        note="The Schools Forum meets on 12 January.",
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["national.office@localhost"]
    body = message.body
    assert "The Schools Forum meets on 12 January." in body
    assert "Concerns from the union's checklist (1):" in body
    assert serious.question.text in body
    assert "The Schools Forum papers of 3 March say so." in body
    assert "Greenfield" not in body  # private notes never leave the app
    assert "Submissions: fewer than 5" in body  # suppressed as the LNS's page shows it
    assert "The outreach team from Swiss Cottage school." in body  # consented: quoted
    assert "Not for sharing" not in body  # no consent: never quoted
    assert camden_senco_lead.email not in body
    assert camden_senco_lead.display_name not in body

    report = NationalOfficeReport.objects.get()
    assert (report.sent_by, report.shared_feedback, report.members_figures) == (
        camden_lns,
        1,
        True,
    )
    assert list(report.concerns.all()) == [serious]
    page = client.get(reverse("dashboards:authority", args=["camden"])).content.decode()
    assert "1 concern, members&#x27; figures, 1 shared feedback submission, a note" in page


def test_nothing_chosen_is_refused_with_nothing_sent(
    client_for, camden_lns, plan, django_capture_on_commit_callbacks
):
    response = send(client_for(camden_lns), django_capture_on_commit_callbacks, note="   ")
    assert response.status_code == 200
    assert "Choose what to tell the national office, or write a note" in response.content.decode()
    assert mail.outbox == []
    assert not NationalOfficeReport.objects.exists()


def test_a_concern_out_of_reach_is_refused_and_the_note_kept(
    client_for, camden_lns, kent, django_capture_on_commit_callbacks
):
    other = concern(make_plan(KENT))
    response = send(
        client_for(camden_lns),
        django_capture_on_commit_callbacks,
        concerns=[other.pk],
        note="Keep this text",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose concerns from the list" in page
    assert "Keep this text" in page
    assert mail.outbox == []


def test_no_shared_feedback_no_choice_of_it(client_for, camden_lns, plan):
    page = client_for(camden_lns).get(URL).content.decode()
    assert 'name="shared_feedback"' not in page
    feedback(consent=True)
    page = client_for(camden_lns).get(URL).content.decode()
    assert "Feedback whose submitters agreed to share it (1 from the last year)" in page


def test_network_leads_may_not_send(client_for, camden_senco_lead, plan):
    assert client_for(camden_senco_lead).post(URL, {"note": "hello"}).status_code == 403
    assert not NationalOfficeReport.objects.exists()
