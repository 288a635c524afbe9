"""Camden's SENCO network lead gives feedback on a phone, reporting a practice
(the national office is e-mailed what, not who); the London organiser sees
the figures but not who gave it. Every page is checked for WCAG 2.2 AA by
`visit` and `submit`."""

import re
from datetime import date

import pytest
from django.core import mail
from playwright.sync_api import expect

from feedback.models import FeedbackSubmission
from tests.factories import CAMDEN, authority

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def test_senco_lead_gives_feedback_and_the_organiser_reads_the_figures(
    page, sign_in, visit, submit, camden_senco_lead, london_organiser
):
    # Four earlier meetings, so this one makes five and the figures show.
    for weeks in (18, 22, 26, 40):
        FeedbackSubmission.objects.create(
            authority=authority(CAMDEN),
            source="senco_network",
            phases=["primary"],
            people_count=8,
            meeting_date=date(2026, 10, 6),
            health_care_costs="no",
            assessment_wait_weeks=weeks,
        )

    page.set_viewport_size(PHONE)
    sign_in(camden_senco_lead)
    visit("/feedback/")
    with page.expect_navigation():
        page.get_by_role("link", name="Give feedback for Camden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Give feedback from schools")
    expect(page.locator("#must-answer")).to_contain_text("Everything else is optional.")

    page.get_by_role("radio", name="A SENCO network").check()
    page.get_by_role("checkbox", name="Primary", exact=True).check()
    page.get_by_role("checkbox", name="Secondary", exact=True).check()
    page.get_by_label("How many people does it speak for?").fill("12")
    page.get_by_label("Date of the meeting").fill("2026-11-03")
    page.get_by_role("checkbox", name="Not enough SENCO time").check()
    page.get_by_role("checkbox", name="Educational psychology").check()
    page.get_by_label("Other barriers").fill("Oliver Smith in Year 3 waited 60 weeks")
    page.get_by_label("Typical wait for an EHC needs assessment, in weeks").fill("900")
    page.get_by_role("radio", name="Partly", exact=True).check()
    page.get_by_role("checkbox", name="Systematically refusing initial applications").check()
    page.get_by_label("Example: systematically refusing").fill("Every first request refused.")
    submit("Send feedback")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a number of weeks from 0 to 156")
    expect(summary).to_contain_text("no child or colleague can be identified")
    expect(page.get_by_label("How many people does it speak for?")).to_have_value("12")
    expect(page.get_by_role("checkbox", name="Educational psychology")).to_be_checked()

    page.get_by_label("Other barriers").fill("Assessments refused at the first request")
    page.get_by_label("Typical wait for an EHC needs assessment, in weeks").fill("30")
    page.get_by_role("checkbox", name="I have checked").check()
    submit("Send feedback")
    expect(page.get_by_role("alert")).to_contain_text("your feedback has been saved")
    expect(page.get_by_role("alert")).to_contain_text("The national office is being told")
    (message,) = mail.outbox
    assert "Every first request refused." in message.body
    assert "camden.senco@example.org" not in message.body
    expect(page.get_by_role("link", name="Change it")).to_be_visible()
    detail_path = re.sub(r"^https?://[^/]+", "", page.url)

    submit("Sign out")
    sign_in(london_organiser)
    visit("/authorities/camden/")
    figures = page.locator("#feedback + dl")
    expect(figures).to_contain_text("Submissions")
    expect(figures).to_contain_text("5")
    expect(figures).to_contain_text("26 weeks (median); from 18 to 40 weeks, in 5 submissions")

    visit(detail_path)
    expect(page.get_by_text("Assessments refused at the first request")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("camden.senco@example.org")
    expect(page.locator("main")).not_to_contain_text("Submitted by")
    visit("/feedback/")
    expect(page.locator("tbody tr").first).to_contain_text("Not shown")
