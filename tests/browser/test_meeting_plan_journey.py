"""The London organiser plans Camden's next Schools Forum meeting, picks a
checklist question and adds their own, puts them in order, prints the short
pack, records the answers after the meeting and turns one into evidence on
the checklist; in a real browser, each page checked for WCAG 2.2 AA."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from consultations.models import Meeting, MeetingQuestion
from plans.models import Answer, EvidenceLink
from plans.services import assessment_for
from tests.factories import CAMDEN, make_plan


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def choose(page, group, option):
    page.get_by_role("group", name=group).get_by_label(option, exact=True).check()


def test_an_organiser_plans_a_meeting_and_records_its_answers(
    page, sign_in, visit, submit, assert_accessible, london_organiser
):
    plan = make_plan(CAMDEN, summary="Cuts outreach and specialist places.")
    assessment = assessment_for(plan)
    question = assessment.question_set.questions.get(key="cuts-not-efficiency")
    concern = Answer.objects.create(
        assessment=assessment, question=question, response="partly", concern="serious"
    )

    sign_in(london_organiser)
    visit("/authorities/camden/")
    with page.expect_navigation():
        page.get_by_role("link", name="Plan a meeting").click()
    assert_accessible(page)
    # The first save button within two screens of a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    button = page.get_by_role("button", name="Save and choose the questions")
    assert button.bounding_box()["y"] < 2 * 844
    page.set_viewport_size({"width": 1280, "height": 900})

    choose(page, "Meeting", "Schools Forum")
    held_on = datetime.date.today() + datetime.timedelta(days=21)
    page.get_by_label("Date of the meeting").fill(held_on.isoformat())
    page.get_by_label("Which plan is it about?").select_option(str(plan.pk))
    page.get_by_label("Agenda items").fill("Apologies\nHigh needs budget 2027-28")
    page.get_by_label("Papers for the meeting").fill("High needs budget paper")
    submit("Save and choose the questions")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("needs a link at the end of its line")
    expect(page.get_by_label("Agenda items")).to_have_value(
        re.compile("High needs budget 2027-28")
    )  # nothing lost
    page.get_by_label("Papers for the meeting").fill(
        "High needs budget paper https://democracy.camden.gov.uk/item5.pdf"
    )
    submit("Save and choose the questions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions to ask")
    meeting = Meeting.objects.get()
    assert meeting.is_planned

    # Suggested first: the serious concern, in the briefing's own words.
    page.get_by_label(f"{question.plain_words} (serious concern)").check()
    submit("Add the chosen questions")
    page.get_by_label("Your own question").fill("Who will pay for outreach from 2027?")
    submit("Add the question")
    submit(re.compile(r"^Move up\s+question 2$"))
    expect(page.locator("#questions + ol > li").first).to_contain_text("Who will pay")

    with page.expect_navigation():
        page.get_by_role("link", name="Print a short pack for the meeting").click()
    assert_accessible(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Short pack: Schools Forum")
    expect(page.locator("#questions + ol")).to_contain_text("Who will pay for outreach")
    expect(page.get_by_text("Serious concern:")).to_be_visible()
    # One or two A4 pages.
    pdf = page.pdf(format="A4")
    assert 1 <= len(re.findall(rb"/Type\s*/Page\b", pdf)) <= 2

    # The meeting takes place.
    Meeting.objects.filter(pk=meeting.pk).update(held_on=datetime.date.today())
    visit(meeting.get_absolute_url())
    with page.expect_navigation():
        page.get_by_role("link", name="Change the planned meeting").click()
    assert_accessible(page)
    submit(re.compile("^Save the meeting$"))  # unchanged: nothing is written
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Nothing changed")
    with page.expect_navigation():
        page.get_by_role("link", name="Change the planned meeting").click()
    choose(page, "Has the meeting taken place?", "Held: it has taken place")
    choose(page, "Was the union invited?", "Yes")
    choose(page, "Did the union attend?", "Yes")
    choose(page, "Was the union consulted before the decision?", "No")
    submit(re.compile("^Save the meeting$"))
    expect(page.get_by_text("Held, outcome not logged yet")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("link", name="Record whether each was asked").click()
    assert_accessible(page)
    choose(page, "Was question 1 asked?", "Asked")
    page.get_by_label("The answer given to question 1").fill("Schools will, from their budgets.")
    choose(page, "Was question 2 asked?", "Asked")
    page.get_by_label("The answer given to question 2").fill(
        "The outreach service is cut to one day a week."
    )
    submit("Save the answers")
    assert set(MeetingQuestion.objects.values_list("asked", flat=True)) == {"yes"}

    submit(re.compile("^Add as evidence on the checklist"))
    link = EvidenceLink.objects.get(answer=concern)
    assert "cut to one day a week" in link.title
    visit(f"/plans/{plan.pk}/checklist/{question.key}/")
    expect(page.locator("#links")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("cut to one day a week"))).to_be_visible()
