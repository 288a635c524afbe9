"""Feedback from SENCO and headteacher networks: the form, who sees what,
the edit window, evidence on the checklist, aggregates with small numbers
suppressed, the CSV export, the national office's e-mail and retention."""

import csv
import datetime
import io
import re
import smtplib
import statistics
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from authorities.caching import data_changed
from authorities.models import LocalAuthority, Role
from feedback import exports
from feedback.aggregates import (
    FEWER,
    FeedbackSummary,
    figures_by_authority,
    region_feedback,
    summarise,
)
from feedback.identifying import looks_identifying, place_words
from feedback.models import (
    Barrier,
    FeedbackEvidence,
    FeedbackExport,
    FeedbackSubmission,
    FeedbackTally,
    HealthCosts,
    Phase,
    Practice,
    Pressure,
    Source,
    term_of,
)

from .factories import CAMDEN, KENT, MANCHESTER, authority, make_plan, make_user
from .test_authorities import REGION_PAGE_QUERIES

ADD = reverse("feedback:add", args=["camden"])
LIST = reverse("feedback:list")
EXPORT = reverse("feedback:export")
CAMDEN_PAGE = reverse("dashboards:authority", args=["camden"])
LONDON_PAGE = reverse("dashboards:region", args=["london"])
QUESTION = "cuts-not-efficiency"


def form_data(**changes):
    data = {
        "source": "senco_network",
        "phases": ["primary", "secondary"],
        "people_count": "12",
        "meeting_date": "2026-11-03",
        "pressures": ["rising_need", "support_staff"],
        "pressures_other": "",
        "working_well": "Outreach from the special school.",
        "barriers": ["educational_psychology", "funding"],
        "barriers_other": "",
        "assessment_wait_weeks": "30",
        "support_wait_weeks": "12",
        "health_care_costs": "partly",
        "practices": [],
        "bureaucratic_example": "",
        "refusing_example": "",
        "extra_information_example": "",
        "consent_to_share": "on",
        "trust": "",
        # The version the form was opened at (edits only: authorities/edits.py).
        "base_version": "1",
    }
    data.update(changes)
    return data


def submission(la_code=CAMDEN, *, by=None, **fields):
    """A submission made directly (not through the form)."""
    values = {
        "source": "senco_network",
        "phases": ["primary"],
        "people_count": 10,
        "meeting_date": date(2026, 10, 1),
        "health_care_costs": "no",
        "assessment_wait_weeks": 20,
        "barriers": ["educational_psychology"],
        "pressures": ["rising_need"],
    }
    values.update(fields)
    return FeedbackSubmission.objects.create(
        authority=authority(la_code), submitted_by=by, **values
    )


def many(la_code, n, **fields):
    """`n` submissions at once: the aggregates must not care how many."""
    place = authority(la_code)
    FeedbackSubmission.objects.bulk_create(
        FeedbackSubmission(
            authority=place,
            source="senco_network",
            phases=["primary"],
            people_count=1 + i % 20,
            meeting_date=date(2024 + i % 3, 1 + i % 12, 1),
            health_care_costs=["yes", "partly", "no", "not_known"][i % 4],
            assessment_wait_weeks=i % 60,
            support_wait_weeks=None if i % 5 else 10,
            pressures=["rising_need", "waiting"][: 1 + i % 2],
            barriers=["staffing"],
            practices=["refusing"] if i % 7 == 0 else [],
            **fields,
        )
        for i in range(n)
    )
    data_changed()  # bulk writes say so, as seed_scale's do (authorities/caching.py)


def text(response):
    return response.content.decode()


# The form ---------------------------------------------------------------------


class TestGivingFeedback:
    def test_senco_lead_submits(self, client_for, camden_senco_lead):
        response = client_for(camden_senco_lead).post(ADD, form_data())
        saved = FeedbackSubmission.objects.get()
        assert response["Location"] == saved.get_absolute_url()
        assert saved.submitted_by == camden_senco_lead
        assert saved.authority.slug == "camden"
        assert saved.phases == ["primary", "secondary"]
        assert saved.barriers == ["educational_psychology", "funding"]
        assert (saved.assessment_wait_weeks, saved.support_wait_weeks) == (30, 12)
        assert saved.consent_to_share

    def test_form_shows_guidance_fieldsets_and_legends(self, client_for, camden_senco_lead):
        content = text(client_for(camden_senco_lead).get(ADD))
        assert "no names of pupils or staff, no dates of birth or pupil numbers" in content
        assert (
            '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">'
            "Barriers (optional)</legend>"
        ) in content
        assert "I have checked" not in content  # asked only when needed

    def test_the_page_says_exactly_what_must_be_answered(self, client_for, camden_senco_lead):
        """Each question is left blank in turn: the form refuses it exactly
        when the page calls it required (named in the introduction, no
        "(optional)" on its label)."""
        client = client_for(camden_senco_lead)
        page = client.get(ADD)
        intro = re.search(r'<p class="govuk-body" id="must-answer">(.*?)</p>', text(page))[1]
        assert intro == (
            "You must say who the feedback is from, which setting phases it covers, how many "
            "people it speaks for, the date of the meeting and whether health and social care "
            "meet the costs agreed in EHCPs. Everything else is optional."
        )
        form = page.context["form"]
        required = set()
        for name in form.asked_names():
            data = form_data()
            data.pop(name)
            response = client.post(ADD, data)
            label = form[name].label
            if response.status_code == 200:
                required.add(name)
                assert name in response.context["form"].errors
                assert "(optional)" not in label
            else:
                assert response.status_code == 302
                # A single checkbox (the consent) is answered by leaving it.
                assert label.endswith("(optional)") or name == "consent_to_share"
        assert required == {
            "source",
            "phases",
            "people_count",
            "meeting_date",
            "health_care_costs",
        }
        assert FeedbackSubmission.objects.count() == len(form.asked_names()) - len(required)

    def test_only_the_required_questions_are_enough(self, client_for, camden_senco_lead):
        required = ("source", "phases", "people_count", "meeting_date", "health_care_costs")
        data = {name: value for name, value in form_data().items() if name in required}
        response = client_for(camden_senco_lead).post(ADD, data)
        saved = FeedbackSubmission.objects.get()
        assert response["Location"] == saved.get_absolute_url()
        assert (saved.pressures, saved.working_well, saved.consent_to_share) == ([], "", False)

    @pytest.mark.parametrize(
        ("field", "value", "error"),
        [
            ("assessment_wait_weeks", "-3", "Enter a number of weeks from 0 to 156"),
            ("support_wait_weeks", "900", "Enter a number of weeks from 0 to 156"),
            ("assessment_wait_weeks", "six", "Enter the number of weeks as a whole number"),
            ("people_count", "0", "Enter a number of people from 1 to 500"),
            ("meeting_date", "2099-01-01", "must be today or in the past"),
            ("working_well", "x" * 50_000, "must be 20,000 characters or fewer (it has 50000)"),
            ("health_care_costs", "", "Select whether health and social care meet"),
        ],
    )
    def test_bad_input_is_a_clear_error_and_nothing_is_lost(
        self, client_for, camden_senco_lead, field, value, error
    ):
        data = form_data(pressures_other="Rising anxiety after transition", **{field: value})
        response = client_for(camden_senco_lead).post(ADD, data)
        assert response.status_code == 200
        assert not FeedbackSubmission.objects.exists()
        content = text(response)
        assert "There is a problem" in content
        assert error in content
        # What they typed elsewhere is still in the form.
        assert "Rising anxiety after transition" in content
        assert response.context["form"]["barriers"].value() == [
            "educational_psychology",
            "funding",
        ]

    def test_an_example_needs_its_practice_ticked(self, client_for, camden_senco_lead):
        response = client_for(camden_senco_lead).post(
            ADD, form_data(refusing_example="Every first request refused in the spring.")
        )
        assert "Tick “Systematically refusing" in text(response)
        assert not FeedbackSubmission.objects.exists()

    def test_regional_organiser_may_not_submit(self, client_for, london_organiser):
        assert client_for(london_organiser).post(ADD, form_data()).status_code == 403
        assert not FeedbackSubmission.objects.exists()


class TestIdentifiableDetails:
    @pytest.mark.parametrize(
        "words",
        [
            "Pupil A123456789012 waited a year",
            "upn a12345678901X was refused",
            "Jamie Smith (12/03/2015) was refused twice",
            "refused for Olu, born 4.9.16, last term",
            # A child named beside a year group.
            "Oliver Smith in Year 3 waited a year",
            "Year 3's Oliver waited a year",
            "Year 3\u2019s Oliver waited a year",  # a phone's apostrophe
            "refused for Oliver in Year 3",
            "Oliver (Y3) has waited since the spring",
            "a Year 6 pupil, Amara, was refused twice",
            "Oliver Kent in Year 3 waited",  # a surname that is also a place
            # A person named after a title.
            "Mrs Patel said the panel refused",
            "Dr. Okafor left in the summer",
            "Mrs Kent asked again",  # a title makes even a place a name
            # Someone named beside their role in a school, or at a named school.
            "the SENCO at St Mary's Primary, Mrs Patel, was told to stop",
            "the SENCO at St Mary's Primary was told to stop",
            "St. Mary's Primary's head was told to stop asking",
            "the SENCO, Priya, was told to stop",
            "headteacher John Smith wrote to the council",
            "Jane Doe, our SENCO, wrote to the council",
            "Jane Doe (SENCO) wrote to the council",
            "Oliver Smith at Oakfield Academy waited a year",
        ],
    )
    def test_spotted(self, words, reference_data):
        assert looks_identifying(words, place_words())

    @pytest.mark.parametrize(
        "words",
        [
            "Waits of 40 weeks are common",
            "The meeting on 12/03/2026 agreed to write to the council",
            "EHCP requests refused since 01/09/2025",
            "Phone 020 7946 0000",
            # A year group, a role or a school on its own names no one.
            "Year 3 pupils wait longest",
            "Pupils in Year 3 wait longest. Children in Year 6 wait longer still.",
            "the SENCO network meets termly",
            "The SENCO network said the head teacher network agreed.",
            "Our SENCO asked the class teacher for evidence.",
            "Headteachers at Oakfield Academy and Hillside Primary said funding is short.",
            "St Mary's Primary lost its resource base",
            "The Schools Forum agreed the transfer",
            "Mrs",
            "Write to the head, cc Mr and Mrs",
            "Teacher Assessment Frameworks came in this year",
            # Sentences starting with capitals, and the places people write about.
            "Most SENCOs said the panel refuses first requests. However, Year 6 is worse.",
            "Pupils in Camden in Year 6 wait longest",
            "The meeting in Tower Hamlets on 12/03/2026 agreed to write to the council",
            "Camden's SENCOs report longer waits for Year 6 pupils.",
            "The head of SEND at Camden refused to meet.",
        ],
    )
    def test_ordinary_text_passes(self, words, reference_data):
        assert not looks_identifying(words, place_words())

    def test_long_odd_text_is_checked_quickly(self):
        """Every repeat in the patterns is bounded: a field's 20,000
        characters of anything take well under a second."""
        for odd in ("Aa'" * 7000, "." * 20000, "Aaa " * 5000, "St Mary's " * 2000):
            started = timezone.now()
            looks_identifying(odd)
            assert timezone.now() - started < timedelta(seconds=1)

    @pytest.mark.parametrize(
        "words",
        [
            "Jamie Smith (12/03/2015) waited 60 weeks",
            "Oliver Smith in Year 3 waited 60 weeks",
            "the SENCO at St Mary's Primary, Mrs Patel, was refused",
        ],
    )
    def test_warned_once_then_saved_after_confirming(self, client_for, camden_senco_lead, words):
        client = client_for(camden_senco_lead)
        data = form_data(barriers_other=words)
        response = client.post(ADD, data)
        content = text(response)
        assert not FeedbackSubmission.objects.exists()
        assert "may identify a child or a colleague" in content
        assert response.context["form"].identifying_labels() == ["Other barriers"]
        assert "tick to confirm that no child or colleague can be identified" in content
        assert response.context["form"]["barriers_other"].value() == words  # nothing lost

        client.post(ADD, {**data, "confirm_not_identifiable": "on"})
        assert FeedbackSubmission.objects.get().barriers_other == words

        # Checked once: changing something else does not ask again, but
        # new text that needs checking does.
        url = reverse("feedback:edit", args=[FeedbackSubmission.objects.get().pk])
        response = client.post(url, {**data, "people_count": "8"})
        assert response.status_code == 302
        response = client.post(
            url, {**data, "base_version": "2", "working_well": "Year 3's Ali is happier"}
        )
        assert "may identify a child or a colleague" in text(response)
        assert FeedbackSubmission.objects.get().working_well == "Outreach from the special school."

    def test_ordinary_feedback_is_not_asked_about(self, client_for, camden_senco_lead):
        words = (
            "Pupils in Camden in Year 6 wait longest. The SENCO network wrote to the Schools "
            "Forum; St Mary's Primary lost its resource base."
        )
        response = client_for(camden_senco_lead).post(ADD, form_data(barriers_other=words))
        assert response.status_code == 302
        assert FeedbackSubmission.objects.get().barriers_other == words


# Who sees what ----------------------------------------------------------------


class TestWhoSeesTheSubmitter:
    @pytest.fixture
    def given(self, reference_data, camden_senco_lead):
        camden_senco_lead.first_name, camden_senco_lead.last_name = "Sam", "Ng"
        camden_senco_lead.save()
        return submission(by=camden_senco_lead)

    def test_national_officer_and_submitter_see_who(
        self, client_for, given, national_officer, camden_senco_lead
    ):
        for person in (national_officer, camden_senco_lead):
            client = client_for(person)
            assert "Sam Ng" in text(client.get(given.get_absolute_url()))
        assert "Sam Ng" in text(client_for(national_officer).get(LIST))
        assert "You" in text(client_for(camden_senco_lead).get(LIST))

    @pytest.mark.parametrize("persona", ["london_organiser", "camden_lns", "camden_forum_rep"])
    def test_readers_do_not(self, request, client_for, given, persona):
        client = client_for(request.getfixturevalue(persona))
        for url in (given.get_absolute_url(), LIST):
            response = client.get(url)
            assert response.status_code == 200
            assert "Sam Ng" not in text(response)
            assert "camden.senco@example.org" not in text(response)

    def test_another_network_lead_sees_only_figures(self, client_for, given, camden):
        other_lead = make_user(roles=[(Role.HEADTEACHER_REP, camden)])
        client = client_for(other_lead)
        assert client.get(given.get_absolute_url()).status_code == 404
        assert given.get_absolute_url() not in text(client.get(LIST))
        assert client.get(CAMDEN_PAGE).context["feedback"].submissions == FEWER


class TestEditWindow:
    def test_submitter_changes_within_14_days(self, client_for, camden_senco_lead):
        given = submission(by=camden_senco_lead)
        client = client_for(camden_senco_lead)
        url = reverse("feedback:edit", args=[given.pk])
        assert "Change your feedback" in text(client.get(url))
        client.post(url, form_data(people_count="7"))
        given.refresh_from_db()
        assert given.people_count == 7
        assert given.submitted_by == camden_senco_lead

    def test_not_after_14_days(self, client_for, camden_senco_lead):
        given = submission(by=camden_senco_lead)
        FeedbackSubmission.objects.update(submitted_at=timezone.now() - timedelta(days=15))
        client = client_for(camden_senco_lead)
        for name in ("feedback:edit", "feedback:withdraw"):
            assert client.post(reverse(name, args=[given.pk]), form_data()).status_code == 403
        assert "Change it" not in text(client.get(given.get_absolute_url()))
        given.refresh_from_db()
        assert (given.people_count, given.withdrawn_at) == (10, None)

    def test_withdraw_asks_first_then_drops_out(self, client_for, camden_senco_lead):
        given = submission(by=camden_senco_lead)
        client = client_for(camden_senco_lead)
        url = reverse("feedback:withdraw", args=[given.pk])
        assert "Are you sure" in text(client.get(url))
        assert FeedbackSubmission.objects.active().count() == 1

        assert client.post(url)["Location"] == LIST
        given.refresh_from_db()
        assert given.is_withdrawn
        assert client.get(given.get_absolute_url()).status_code == 404
        assert client.get(CAMDEN_PAGE).context["feedback"].count == 0


# The national office's e-mail ---------------------------------------------------


def told_message(response):
    return "The national office is being told" in text(response)


class TestPracticeEmail:
    def test_sent_once_after_commit_without_who(
        self, client_for, camden_senco_lead, django_capture_on_commit_callbacks, settings
    ):
        settings.NATIONAL_OFFICE_EMAIL = "office@example.org"
        client = client_for(camden_senco_lead)
        data = form_data(practices=["refusing"], refusing_example="All first requests refused.")
        with django_capture_on_commit_callbacks() as callbacks:
            client.post(ADD, data)
            assert mail.outbox == []  # nothing until the save commits
        for callback in callbacks:
            callback()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["office@example.org"]
        assert "Camden" in message.subject
        assert "Systematically refusing initial applications" in message.body

        given = FeedbackSubmission.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("feedback:edit", args=[given.pk]),
                {**data, "practices": ["refusing", "bureaucratic"]},
            )
        assert len(mail.outbox) == 1  # once per submission

    def test_quotes_what_was_reported_and_never_who(
        self, client_for, camden_senco_lead, django_capture_on_commit_callbacks
    ):
        camden_senco_lead.first_name, camden_senco_lead.last_name = "Sam", "Ng"
        camden_senco_lead.save()
        data = form_data(
            practices=["bureaucratic", "refusing"],
            bureaucratic_example="A new portal asks for the same reports three times.\r\n"
            "Parents' & carers' paper requests are sent back.",
            refusing_example="",
        )
        with django_capture_on_commit_callbacks(execute=True):
            client_for(camden_senco_lead).post(ADD, data)
        (message,) = mail.outbox
        body = message.body
        assert body.startswith(
            "Feedback from a SENCO network in Camden (meeting of 3 November 2026) reports "
            "practices that the union's briefing says are likely to be unlawful."
        )
        assert (
            "1. Bureaucratic application arrangements\n"
            "   What they wrote:\n"
            "   > A new portal asks for the same reports three times.\n"
            "   > Parents' & carers' paper requests are sent back.\n"
        ) in body
        assert (
            "2. Systematically refusing initial applications for assessment or support\n"
            "   No example was given.\n"
        ) in body
        assert FeedbackSubmission.objects.get().get_absolute_url() in body
        for who in ("Sam", "Ng", "camden.senco@example.org", "camden.senco"):
            assert who not in body
            assert who not in message.subject

    @pytest.mark.parametrize(
        ("source", "said"),
        [("headteacher_network", "a headteacher network"), ("member", "a member")],
    )
    def test_says_who_it_is_from_in_a_sentence(
        self, client_for, camden_senco_lead, django_capture_on_commit_callbacks, source, said
    ):
        data = form_data(source=source, practices=["extra_information"])
        with django_capture_on_commit_callbacks(execute=True):
            client_for(camden_senco_lead).post(ADD, data)
        assert mail.outbox[0].body.startswith(f"Feedback from {said} in Camden")
        assert "reports a practice that the union's briefing says is likely" in (
            mail.outbox[0].body
        )

    def test_none_without_a_practice(
        self, client_for, camden_senco_lead, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(camden_senco_lead).post(ADD, form_data(), follow=True)
        assert mail.outbox == []
        assert "your feedback has been saved" in text(response)
        assert not told_message(response)

    def test_the_person_is_told_the_national_office_was_told(
        self, client_for, camden_senco_lead, django_capture_on_commit_callbacks
    ):
        client = client_for(camden_senco_lead)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(ADD, form_data(practices=["refusing"]), follow=True)
        assert len(mail.outbox) == 1
        assert (
            "The national office is being told by e-mail about the likely unlawful practice you "
            "reported. You can"
        ) in text(response)

        # Told once: a later change says nothing of it.
        url = reverse("feedback:edit", args=[FeedbackSubmission.objects.get().pk])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url, form_data(practices=["refusing", "bureaucratic"]), follow=True
            )
        assert "Your changes have been saved." in text(response)
        assert not told_message(response)
        assert len(mail.outbox) == 1

    def test_told_when_a_change_first_reports_practices(
        self, client_for, camden_senco_lead, django_capture_on_commit_callbacks
    ):
        given = submission(by=camden_senco_lead)
        url = reverse("feedback:edit", args=[given.pk])
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(camden_senco_lead).post(
                url,
                form_data(practices=["refusing", "bureaucratic"], refusing_example="Refused."),
                follow=True,
            )
        assert len(mail.outbox) == 1
        assert (
            "Your changes have been saved. The national office is being told by e-mail about "
            "the likely unlawful practices you reported and what you wrote about them."
        ) in text(response)


@pytest.mark.django_db(transaction=True)
def test_marked_not_told_when_the_mail_server_keeps_refusing(
    client_for, camden_senco_lead, monkeypatch
):
    """The worker tells the national office (feedback.services.tell_national_office),
    trying again on a refusal; when it gives up, the submission is marked as
    not told, so that its next save tries again."""

    def refused(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    client = client_for(camden_senco_lead)
    monkeypatch.setattr("django.core.mail.EmailMessage.send", refused)
    response = client.post(ADD, form_data(practices=["refusing"]), follow=True)
    assert "your feedback has been saved" in text(response)
    given = FeedbackSubmission.objects.get()
    assert given.national_office_told_at is None

    monkeypatch.undo()
    url = reverse("feedback:edit", args=[given.pk])
    response = client.post(url, form_data(practices=["refusing"], people_count="9"), follow=True)
    assert told_message(response)
    assert len(mail.outbox) == 1
    given.refresh_from_db()
    assert given.national_office_told_at is not None


# Aggregates -------------------------------------------------------------------


class TestAggregates:
    def test_terms(self):
        assert term_of(date(2026, 9, 1))[1] == "Autumn 2026"
        assert term_of(date(2026, 12, 31))[1] == "Autumn 2026"
        assert term_of(date(2027, 1, 5))[1] == "Spring 2027"
        assert term_of(date(2027, 4, 30))[1] == "Spring 2027"
        assert term_of(date(2027, 5, 1))[1] == "Summer 2027"
        assert term_of(date(2026, 12, 1))[0] < term_of(date(2027, 1, 1))[0]

    def test_figures(self, reference_data):
        for weeks, costs, people in [(10, "no", 12), (20, "no", 3), (30, "yes", 5), (40, "no", 2)]:
            submission(assessment_wait_weeks=weeks, health_care_costs=costs, people_count=people)
        submission(assessment_wait_weeks=None, health_care_costs="not_known", people_count=1)
        submission(
            assessment_wait_weeks=52,
            health_care_costs="partly",
            people_count=1,
            meeting_date=date(2027, 1, 10),
            barriers=[],
        )
        submission(withdrawn_at=timezone.now(), people_count=100)  # counts nowhere
        summary = summarise(FeedbackSubmission.objects.all(), reveal_small_numbers=False)
        assert summary.submissions == "6"
        assert summary.people == "24"
        assert summary.assessment_wait == (
            "30 weeks (median); from 10 to 52 weeks, in 5 submissions"
        )
        assert summary.health_care.startswith("60% say they do not (3 of 5 that answered)")
        assert dict(summary.barriers)["Educational psychology"] == "5 (83%)"
        assert summary.barriers[0].label == "Educational psychology"  # most reported first
        assert [t.label for t in summary.terms] == ["Autumn 2026", "Spring 2027"]
        # Only four of the autumn's submissions gave a wait.
        assert summary.terms[0] == ("Autumn 2026", "5", "23", FEWER)
        # Each term's figures come from fewer than 5 submissions.
        assert summary.terms[1] == ("Spring 2027", FEWER, FEWER, FEWER)

    def test_small_numbers_hidden_from_all_but_national_officers(
        self, client_for, london_organiser, camden_senco_lead, national_officer
    ):
        for _ in range(4):
            submission()
        for person in (london_organiser, camden_senco_lead):
            response = client_for(person).get(CAMDEN_PAGE)
            assert response.context["feedback"].submissions == FEWER
            assert "fewer than 5" in text(response)
            assert "20 weeks (median)" not in text(response)
        region = client_for(london_organiser).get(LONDON_PAGE)
        assert ("Camden", "camden", FEWER, FEWER) in region.context["feedback"].authorities
        response = client_for(national_officer).get(CAMDEN_PAGE)
        assert response.context["feedback"].submissions == "4"
        assert "20 weeks (median)" in text(response)
        assert "As a national officer you see every figure" in text(response)

    def test_five_submissions_are_shown(self, client_for, london_organiser):
        for _ in range(5):
            submission()
        content = text(client_for(london_organiser).get(CAMDEN_PAGE))
        assert "20 weeks (median); from 20 to 20 weeks, in 5 submissions" in content
        assert "Educational psychology" in content

    def test_empty_state(self, client_for, camden_senco_lead):
        content = text(client_for(camden_senco_lead).get(CAMDEN_PAGE))
        assert "No feedback from SENCO or headteacher networks or members in Camden yet" in content
        assert f'href="{ADD}"' in content

    def test_summary_reads_one_query(self, reference_data, django_assert_num_queries):
        many(CAMDEN, 3000)
        with django_assert_num_queries(1):
            summary = summarise(FeedbackSubmission.objects.all(), reveal_small_numbers=False)
        assert summary.count == 3000
        assert isinstance(summary, FeedbackSummary)

    @pytest.mark.parametrize("persona", ["london_organiser", "national_officer"])
    def test_a_region_s_figures_are_its_submissions_counted(
        self, request, reference_data, persona
    ):
        """From each authority's total and the tallies' lines a term, the
        same as counting the region's submissions one by one."""
        user = request.getfixturevalue(persona)
        many(CAMDEN, 40)
        many("203", 3)  # Greenwich: too few to show, but for national officers
        many(KENT, 12)  # the South East: not London's
        moved = submission(assessment_wait_weeks=90, people_count=30)
        moved.authority = authority(KENT)  # out of London
        moved.save()
        submission(withdrawn_at=timezone.now(), people_count=100)  # counts nowhere
        london = authority(CAMDEN).region
        shown = region_feedback(london, user)
        reveal = user.can_see_small_numbers
        counted = summarise(
            FeedbackSubmission.objects.filter(authority__region=london),
            reveal_small_numbers=reveal,
        )
        figures = (
            "count withheld submissions people assessment_wait support_wait health_care "
            "pressures barriers practices terms assessment_wait_weeks phase_groups"
        )
        for name in figures.split():
            assert getattr(shown, name) == getattr(counted, name), name
        by_authority = [
            summarise(
                FeedbackSubmission.objects.filter(authority=place), reveal_small_numbers=reveal
            )
            for place in (authority(CAMDEN), authority("203"))
        ]
        assert [(line.submissions, line.people) for line in shown.authorities] == [
            (each.submissions, each.people) for each in by_authority
        ]
        assert [line.name for line in shown.authorities] == ["Camden", "Greenwich"]

    @pytest.mark.parametrize("rows", [6, 3000])
    def test_region_page_queries_do_not_grow(
        self, london_organiser_client, django_assert_num_queries, reference_data, rows
    ):
        many(CAMDEN, rows)
        many("203", 3)  # Greenwich: too few to show
        # The region page's pin (tests/test_authorities.py), which includes the
        # submissions, read once for the overview table and once for the
        # figures; and the newest warnings, of one kind.
        with django_assert_num_queries(REGION_PAGE_QUERIES + 1 + 1):
            response = london_organiser_client.get(LONDON_PAGE)
        lines = {line.name: line for line in response.context["feedback"].authorities}
        assert lines["Camden"].submissions == f"{rows:,}"
        assert lines["Greenwich"].submissions == FEWER


# Evidence on the checklist ----------------------------------------------------


class TestEvidence:
    @pytest.fixture
    def plan(self, reference_data):
        return make_plan(CAMDEN)

    def link_url(self, plan):
        return reverse("feedback:link", args=[plan.pk, QUESTION])

    def test_lns_links_feedback_and_the_checklist_counts_it(
        self, client_for, camden_lns, national_officer, plan, camden_senco_lead
    ):
        given = submission(by=camden_senco_lead)
        client = client_for(camden_lns)
        response = client.post(
            self.link_url(plan),
            {"submission": given.pk, "stance": "contradicts", "point": "Cuts, not efficiency"},
        )
        answer_url = reverse("plans:answer", args=[plan.pk, QUESTION])
        assert response["Location"] == f"{answer_url}#feedback"
        # Linking again changes the link rather than adding another.
        client.post(self.link_url(plan), {"submission": given.pk, "stance": "supports"})
        evidence = FeedbackEvidence.objects.get()
        assert (evidence.stance, evidence.linked_by) == ("supports", camden_lns)

        answer_page = text(client.get(answer_url))
        assert "Member feedback: fewer than 5 supporting" in answer_page
        assert given.get_absolute_url() in answer_page
        assert "Member feedback: fewer than 5 supporting" in text(
            client.get(plan.get_absolute_url())
        )
        officer = client_for(national_officer)
        assert "Member feedback: 1 supporting" in text(officer.get(plan.get_absolute_url()))

        given.withdraw()
        assert "Member feedback" not in text(client.get(plan.get_absolute_url()))

    def test_with_none_to_link_only_those_who_may_give_feedback_are_asked_to(
        self, client_for, camden_lns, northwest_nem, plan
    ):
        """An LNS may give feedback; a national executive member, who may
        link it over their region, may not (AuthorityAccess): no link that
        would answer 403 (found by the crawl)."""
        add = reverse("feedback:add", args=["camden"])
        page = client_for(camden_lns).get(self.link_url(plan))
        assert "There is no feedback from Camden you can link yet" in text(page)
        assert f'href="{add}"' in page.content.decode()
        elsewhere = make_plan(MANCHESTER)
        page = client_for(northwest_nem).get(self.link_url(elsewhere))
        assert page.status_code == 200
        assert "There is no feedback from Manchester you can link yet" in text(page)
        assert "Give feedback" not in text(page)
        add = reverse("feedback:add", args=[elsewhere.authority.slug])
        assert client_for(northwest_nem).get(add).status_code == 403

    def test_network_lead_may_not_link(self, client_for, camden_senco_lead, plan):
        given = submission(by=camden_senco_lead)
        response = client_for(camden_senco_lead).post(
            self.link_url(plan), {"submission": given.pk, "stance": "supports"}
        )
        assert response.status_code == 403
        assert not FeedbackEvidence.objects.exists()

    def test_only_feedback_from_the_plans_authority(self, client_for, camden_lns, plan):
        submission()  # Camden's, so the form is shown
        kent = submission("886")
        response = client_for(camden_lns).post(
            self.link_url(plan), {"submission": kent.pk, "stance": "supports"}
        )
        assert "Select feedback from the list" in text(response)
        assert not FeedbackEvidence.objects.exists()

    def test_answer_page_queries_do_not_grow_with_evidence(self, client_for, camden_lns, plan):
        client = client_for(camden_lns)
        url = reverse("plans:answer", args=[plan.pk, QUESTION])

        def queries_with(n):
            for _ in range(n):
                given = submission()
                client.post(self.link_url(plan), {"submission": given.pk, "stance": "contradicts"})
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            return len(queries), response

        few, _ = queries_with(1)
        lots, response = queries_with(30)
        assert "Member feedback: 31 contradicting" in text(response)
        assert lots == few


# The export -------------------------------------------------------------------


def rows_of(response):
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


class TestExport:
    def test_organiser_gets_only_authorities_with_5_and_no_submitters(
        self, client_for, london_organiser, camden_senco_lead
    ):
        for _ in range(5):
            submission(by=camden_senco_lead)
        submission("203")  # Greenwich: one submission, left out
        submission("886")  # Kent: out of scope
        rows = rows_of(client_for(london_organiser).get(EXPORT))
        assert {row["Authority"] for row in rows} == {"Camden"}
        assert len(rows) == 5
        assert "Submitted by" not in rows[0]
        assert "camden.senco" not in str(rows)
        record = FeedbackExport.objects.get()
        assert (record.exported_by, record.small_numbers_withheld) == (london_organiser, True)

    def test_national_officer_gets_everything_and_who(
        self, client_for, national_officer, camden_senco_lead
    ):
        submission(by=camden_senco_lead)
        submission("886")
        rows = rows_of(client_for(national_officer).get(EXPORT, {"region": "london"}))
        assert [row["Submitted by"] for row in rows] == ["camden.senco@example.org"]
        assert FeedbackExport.objects.get().filters == {"region": "london"}

    def test_formulas_are_neutralised(self, client_for, national_officer):
        submission(
            working_well='=HYPERLINK("http://evil.example","click")',
            pressures_other="+1+1",
            barriers_other="@SUM(A1)",
            refusing_example="-2+3",
            practices=["refusing"],
        )
        (row,) = rows_of(client_for(national_officer).get(EXPORT))
        assert row["What is working well"] == '\'=HYPERLINK("http://evil.example","click")'
        assert row["Other pressures"] == "'+1+1"
        assert row["Other barriers"] == "'@SUM(A1)"
        assert row["Practices reported"].startswith("Systematically refusing")
        assert row["People it speaks for"] == "10"

    def test_every_cell_is_written_as_the_form_lists_it(self, client_for, national_officer):
        submission(
            phases=["secondary", "primary"],  # written in the form's order
            pressures=[],
            practices=["bureaucratic", "refusing"],
            bureaucratic_example="Forms, forms and forms",
            assessment_wait_weeks=None,
            consent_to_share=True,
            submitted_at=timezone.make_aware(datetime.datetime(2026, 10, 31, 23, 30)),
        )
        (row,) = rows_of(client_for(national_officer).get(EXPORT))
        assert row["Setting phases"] == "Primary; Secondary"
        assert row["Pressures"] == ""
        assert row["Practices reported"] == (
            f"{Practice.BUREAUCRATIC.label}: Forms, forms and forms; {Practice.REFUSING.label}"
        )
        assert row["Wait for an EHC needs assessment (weeks)"] == ""
        assert row["Health and social care meet EHCP costs"] == HealthCosts.NO.label
        assert row["National office may use it"] == "Yes"
        # 23:30 in London on the last day of British Summer Time is that day.
        assert row["Submitted"] == "2026-10-31"
        assert row["Date of the meeting"] == "2026-10-01"

    def test_no_label_starts_like_a_formula(self):
        """PostgreSQL's export neutralises free text only (feedback/exports.py)."""
        for choices in (Source, Phase, Pressure, Barrier, HealthCosts, Practice):
            for label in choices.labels:
                assert not label.startswith(exports.FORMULA_START), label

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL writes the rows with COPY"
    )
    def test_postgresql_writes_the_same_bytes_as_python(self, reference_data, camden_senco_lead):
        """feedback/exports.py has two writers: they must not drift apart."""
        many(CAMDEN, 40)
        tricky = [
            'Quotes "like this", commas, and\na new line',
            "\rA carriage return first",
            "\tA tab first",
            "=1+1",
            "-minus",
            "Ünïcödé, £ and “curly quotes”",
            "",
            " spaces around ",
        ]
        for n, value in enumerate(tricky):
            submission(
                "203",
                by=camden_senco_lead if n % 2 else None,
                working_well=value,
                pressures_other=tricky[-1 - n],
                practices=["extra_information", "bureaucratic"],
                extra_information_example=value,
                support_wait_weeks=n,
                phases=[] if n % 3 else ["special", "primary"],
            )
        submissions = FeedbackSubmission.objects.all()
        for with_submitters in (True, False):
            columns = exports.columns(with_submitters=with_submitters)
            copied = b"".join(exports.copied_lines(submissions, columns))
            written = "".join(exports.written_lines(submissions, columns)).encode()
            assert copied.decode().splitlines() == written.decode().splitlines()
            assert copied == written

    @pytest.mark.parametrize(
        "persona",
        [
            "national_officer",
            "london_organiser",
            "northwest_nem",
            "camden_lns",
            "camden_senco_lead",
            "manchester_head_rep",
            "no_role_user",
        ],
    )
    def test_the_export_reads_the_same_rows_as_every_page(
        self, request, persona, camden_senco_lead, manchester_head_rep, kent_lns
    ):
        """readable_by() (the export's scope) is for_user() read another way."""
        person = request.getfixturevalue(persona)
        for la_code in (CAMDEN, "203", "886", "352"):  # Camden, Greenwich, Kent, Manchester
            submission(la_code)
        submission(CAMDEN, by=camden_senco_lead)
        submission("352", by=manchester_head_rep)
        submission("886", by=kent_lns)
        # Their own, where they may not read the others'.
        submission("886", by=person)
        expected = set(FeedbackSubmission.objects.for_user(person))
        assert set(FeedbackSubmission.objects.readable_by(person)) == expected
        person.is_superuser = True
        assert set(FeedbackSubmission.objects.readable_by(person)) == set(
            FeedbackSubmission.objects.for_user(person)
        )

    @pytest.mark.parametrize("persona", ["northwest_nem", "camden_lns", "camden_senco_lead"])
    def test_others_may_not_export(self, request, client_for, persona):
        assert client_for(request.getfixturevalue(persona)).get(EXPORT).status_code == 403
        assert not FeedbackExport.objects.exists()

    @pytest.mark.parametrize("rows", [6, 2000])
    def test_query_count_is_pinned(
        self, london_organiser_client, django_assert_num_queries, reference_data, rows
    ):
        many(CAMDEN, rows)
        # session, user, the person's roles (may they export: one query,
        # authorities/access.py), the filter's region check and its region and
        # authority, the record, the scope read as two lists of authorities
        # (FeedbackSubmissionQuerySet.readable_by), then the rows in one
        # query (one cursor, or PostgreSQL's COPY).
        with django_assert_num_queries(7):
            assert len(rows_of(london_organiser_client.get(EXPORT))) == rows


class TestList:
    @pytest.mark.parametrize("rows", [6, 2000])
    def test_query_count_is_pinned(
        self, london_organiser_client, django_assert_num_queries, reference_data, rows
    ):
        many(CAMDEN, rows)
        # session, user, the person's roles, the filter's choices, the page
        # of submissions and its count, and what each may show.
        with django_assert_num_queries(8):
            response = london_organiser_client.get(LIST)
        assert response.context["page"].paginator.count == rows

    def test_filter_and_empty_state(self, national_officer_client):
        submission()
        response = national_officer_client.get(LIST, {"authority": "kent"})
        assert "No feedback you can read matches the filter" in text(response)
        response = national_officer_client.get(LIST, {"authority": "camden"})
        assert response.context["page"].paginator.count == 1


# Retention --------------------------------------------------------------------


def test_retention_anonymises_old_and_deletes_old_withdrawn(reference_data, settings):
    settings.FEEDBACK_RETENTION_DAYS = 365
    senco = make_user(roles=[(Role.SENCO_LEAD, LocalAuthority.objects.get(slug="camden"))])
    old = submission(by=senco, working_well="The outreach team", refusing_example="Refused")
    old_withdrawn = submission(by=senco, withdrawn_at=timezone.now())
    recent = submission(by=senco, working_well="Keep me")
    plan = make_plan(CAMDEN)
    FeedbackEvidence.objects.create(
        submission=old,
        plan=plan,
        question=plan.checklist_question_set().questions.get(key=QUESTION),
        stance="contradicts",
        point="Quoted from the meeting",
    )
    long_ago = timezone.now() - timedelta(days=400)
    FeedbackSubmission.objects.exclude(pk=recent.pk).update(submitted_at=long_ago)

    out = StringIO()
    call_command("prune_feedback", "--dry-run", stdout=out)
    assert "Would delete 1 withdrawn and would anonymise 1" in out.getvalue()
    assert FeedbackSubmission.objects.count() == 3

    call_command("prune_feedback", stdout=StringIO())
    old.refresh_from_db()
    assert (old.submitted_by, old.working_well, old.refusing_example) == (None, "", "")
    assert old.anonymised_at is not None
    assert (old.people_count, old.assessment_wait_weeks) == (10, 20)  # figures kept
    assert FeedbackEvidence.objects.get().point == ""
    assert not FeedbackSubmission.objects.filter(pk=old_withdrawn.pk).exists()
    recent.refresh_from_db()
    assert (recent.submitted_by, recent.working_well) == (senco, "Keep me")


class TestMediansByAuthority:
    """The overview's figures come from the tallies' histograms of waits:
    the same as Python's median of the submissions themselves."""

    @pytest.mark.parametrize(
        "waits",
        [
            [20],
            [10, 13],  # an even number: the mean of the middle two
            [5, 7, None, 52, 7],
            [None, None],
            list(range(0, 157, 3)) + [None] * 4,
        ],
    )
    def test_the_same_as_statistics_median(self, reference_data, waits):
        for weeks in waits:
            submission(assessment_wait_weeks=weeks)
        submission(assessment_wait_weeks=99, withdrawn_at=timezone.now())  # counts nowhere
        figures = figures_by_authority(FeedbackTally.objects.all(), reveal_small_numbers=True)
        given = [weeks for weeks in waits if weeks is not None]
        expected = statistics.median(given) if given else None
        camden = figures[authority(CAMDEN).pk]
        assert camden.submissions == len(waits)
        assert camden.assessment_wait == expected
        assert type(camden.assessment_wait) is type(expected)

    def test_one_query_for_every_authority(self, reference_data, django_assert_num_queries):
        many(CAMDEN, 300)
        many("203", 7)
        with django_assert_num_queries(1):
            figures = figures_by_authority(FeedbackTally.objects.all(), reveal_small_numbers=False)
        assert figures[authority("203").pk].submissions == 7
