"""Camden's LNS opens the app to find what needs them this week and follows
the links, by keyboard, to the next checklist question and to a meeting
waiting for its outcome; the SENCO lead sees the warning but is not asked
for what they do not record. Every page is checked for WCAG 2.2 AA."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consultations.models import Action, Meeting
from plans.models import FundingInstalment, QuestionSet
from tests.factories import CAMDEN, authority, make_plan

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def test_the_lns_sees_what_needs_them_and_goes_to_it(
    page, sign_in, visit, camden_lns, camden_senco_lead, assert_accessible
):
    camden = authority(CAMDEN)
    plan = make_plan(CAMDEN, round_or_tranche="2022-23")
    FundingInstalment.objects.create(
        plan=plan, financial_year=2025, amount=5_000_000, status="withheld"
    )
    Action.objects.create(
        authority=camden,
        title="Ask for the Schools Forum papers",
        owner=camden_lns,
        due_on=TODAY - 3 * DAY,
    )
    Meeting.objects.create(authority=camden, forum="jcnc", held_on=TODAY - 4 * DAY)
    first_question = QuestionSet.objects.latest_version().questions.first()

    sign_in(camden_lns)
    expect(page.get_by_role("heading", name="What needs you")).to_be_visible()
    expect(page.get_by_role("heading", name="Your overdue actions")).to_be_visible()
    expect(page.get_by_role("link", name="Ask for the Schools Forum papers")).to_be_visible()
    warnings = page.get_by_role("table", name="New early warnings")
    expect(warnings).to_contain_text("Instalment withheld")
    expect(warnings).to_contain_text("£5,000,000 instalment for 2025-26 withheld (SV 2022-23)")

    # Keyboard only: tab to the next question's link and follow it.
    question_link = page.get_by_role("link", name=first_question.text)
    for _ in range(60):
        page.keyboard.press("Tab")
        if question_link.evaluate("link => link === document.activeElement"):
            break
    else:
        pytest.fail("The next question's link cannot be reached with the keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page)
    assert page.url.endswith(f"/plans/{plan.pk}/checklist/{first_question.key}/")

    visit("/")
    with page.expect_navigation():
        page.get_by_role("link", name="Record the outcome of JCNC").click()
    assert_accessible(page)
    expect(page.get_by_label("Decisions")).to_be_visible()

    page.context.clear_cookies()
    sign_in(camden_senco_lead)
    # The lead reads Camden's plans, so sees the warning; they neither answer
    # the checklist nor log meetings, so are not asked to.
    expect(page.get_by_role("table", name="New early warnings")).to_contain_text("withheld")
    expect(page.get_by_role("heading", name="Checklist questions to answer")).to_have_count(0)
    expect(page.get_by_role("link", name="Record the outcome of JCNC")).to_have_count(0)
