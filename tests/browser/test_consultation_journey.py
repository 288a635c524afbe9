"""A Schools Forum representative logs a meeting with its block transfer
vote, and the London organiser sees it on the region page; in a real
browser, each page checked for WCAG 2.2 AA."""

import datetime
import re
import time

import pytest
from playwright.sync_api import expect

from consultations.models import Meeting, SchoolsForumOutcome
from plans.models import Answer
from plans.services import assessment_for
from tests.factories import CAMDEN, make_plan


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def answer(page, question, option):
    page.get_by_role("group", name=question).get_by_label(option, exact=True).check()


def test_forum_rep_logs_a_vote_and_the_organiser_sees_it(
    page, sign_in, visit, submit, assert_accessible, camden_forum_rep, london_organiser
):
    sign_in(camden_forum_rep)
    visit("/authorities/camden/")
    started = time.monotonic()
    with page.expect_navigation():
        page.get_by_role("link", name="Log a meeting").click()
    assert_accessible(page)

    answer(page, "Meeting", "Schools Forum")
    held_on = datetime.date.today() - datetime.timedelta(days=2)
    page.get_by_label("Date of the meeting").fill(held_on.isoformat())
    answer(page, "Was the union invited?", "Yes")
    answer(page, "Did the union attend?", "Yes")
    answer(page, "Was the union consulted before the decision?", "No")
    answer(page, "Were the SV or DBV proposals discussed?", "Yes")
    page.get_by_label("Financial year").select_option(label="2026-27")
    page.get_by_label("Amount", exact=True).fill("1,200,000")
    page.get_by_label("Per cent of the Schools Block").fill("0.5")
    page.get_by_label("Votes for").fill("9")
    page.get_by_label("Votes against").fill("-6")
    answer(page, "Outcome", "Agreed by the forum")
    submit("Save the meeting and its details")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The votes against cannot be fewer than 0")
    expect(page.get_by_label("Votes for")).to_have_value("9")  # nothing lost
    page.get_by_label("Votes against").fill("6")
    submit("Save the meeting and its details")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^Schools Forum, {held_on.day} ")
    )
    expect(page.get_by_text("9 for, 6 against")).to_be_visible()
    assert time.monotonic() - started < 60

    page.get_by_role("button", name="Sign out").click()
    sign_in(london_organiser)
    visit("/regions/london/")
    transfers = page.get_by_role("table", name=re.compile("Transfers put to Schools Forums"))
    expect(transfers).to_contain_text("Camden")
    expect(transfers).to_contain_text("£1,200,000")
    expect(transfers).to_contain_text("9 for, 6 against")
    expect(transfers).to_contain_text("Agreed by the forum")
    meetings = page.locator("#meetings ~ div table").first
    expect(meetings).to_contain_text("Camden")


def test_a_vote_that_contradicts_its_outcome_is_asked_about_once(
    page, sign_in, visit, submit, camden_forum_rep
):
    """19 for, 12 against and "not agreed": the form asks, keeps what was
    typed, and saves once the person says both are right; saved again
    unchanged, it does not ask again."""
    sign_in(camden_forum_rep)
    visit("/authorities/camden/meetings/add/")
    answer(page, "Meeting", "Schools Forum")
    held_on = datetime.date.today() - datetime.timedelta(days=3)
    page.get_by_label("Date of the meeting").fill(held_on.isoformat())
    answer(page, "Was the union invited?", "Yes")
    answer(page, "Did the union attend?", "Yes")
    answer(page, "Was the union consulted before the decision?", "Yes")
    page.get_by_label("Financial year").select_option(label="2026-27")
    page.get_by_label("Per cent of the Schools Block").fill("0.5")
    page.get_by_label("Votes for").fill("19")
    page.get_by_label("Votes against").fill("12")
    answer(page, "Outcome", "Not agreed by the forum")
    submit("Save the meeting and its details")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The vote was 19 for and 12 against")
    expect(page.get_by_label("Votes for")).to_have_value("19")  # nothing lost
    assert not Meeting.objects.exists()
    summary.get_by_role("link").click()
    confirm = page.get_by_label("Yes, the vote and the outcome are both right")
    expect(confirm).to_be_focused()
    confirm.check()
    submit("Save the meeting and its details")
    expect(page.get_by_text("19 for, 12 against")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("link", name="Change the meeting record").click()
    expect(page.get_by_label("Yes, the vote and the outcome are both right")).to_have_count(0)
    submit("Save the meeting and its details")
    expect(page.get_by_role("alert")).to_contain_text("Nothing changed")
    assert Meeting.objects.get().block_transfer.votes_for == 19


def test_lns_links_a_forum_answer_and_works_through_the_briefings_actions(
    page, sign_in, visit, submit, assert_accessible, camden_lns
):
    plan = make_plan(CAMDEN, agreement_date=datetime.date.today())
    meeting = Meeting.objects.create(
        authority=plan.authority, forum="schools_forum", held_on=datetime.date(2026, 1, 15)
    )
    SchoolsForumOutcome.objects.create(
        meeting=meeting, extra_funding="£1.5m over two years", extra_funding_amount=1500000
    )
    assessment = assessment_for(plan)
    Answer.objects.create(
        assessment=assessment,
        question=assessment.question_set.questions.get(key="extra-funding-amount"),
        response="partly",
        concern="some",
    )
    sign_in(camden_lns)

    visit(plan.get_absolute_url())
    expect(page.get_by_text("Agreed without consultation")).to_be_visible()
    visit(f"{plan.get_absolute_url()}checklist/extra-funding-amount/")
    expect(page.get_by_text("£1.5m over two years")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Link as evidence")).click()
    assert_accessible(page)
    links = page.locator("#links + ul")
    expect(links).to_contain_text("Camden: Schools Forum, 15 January 2026")
    expect(links).to_contain_text("Schools Forum answer")

    visit("/authorities/camden/actions/briefing/")
    # All five ticked, for the LNS in four weeks; one left out.
    page.get_by_label(re.compile("^Send what these discussions found")).uncheck()
    submit("Add the actions ticked")
    expect(page.get_by_role("alert")).to_contain_text("4 of the briefing's actions added")
    actions = page.locator("#actions ~ div table").first
    expect(actions.locator("tbody tr")).to_have_count(4)

    visit("/actions/")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Arrange a meeting for SENCOs")).click()
    assert_accessible(page)
    page.get_by_label("Due date").fill("2099-01-01")
    submit("Save the action")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why the due date moved")
    page.get_by_label("Reason for the change").fill("Waiting for the SENCO network's term dates.")
    submit("Save the action")
    expect(page.get_by_role("alert")).to_contain_text("Action saved")

    visit("/meetings/")
    expect(page.locator("tbody tr")).to_have_count(1)
