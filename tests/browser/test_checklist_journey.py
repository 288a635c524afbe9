"""The checklist in a real browser: Camden's LNS answers, the London organiser
reads. Every page is checked for WCAG 2.2 AA by `visit` and `submit`."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from plans.models import Programme
from tests.factories import CAMDEN, make_plan

ANSWERS = {
    "cuts-not-efficiency": ("No", "Serious concern", "Cabinet paper: two resource bases close."),
    "schools-forum-consulted": ("Partly", "Some concern", "Forum saw a summary, not the plan."),
    "training-and-cpd": ("Not known", "Some concern", "No training budget in the papers."),
}


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data: reload the reference data (the
    programmes and checklist included) after the previous test's flush."""
    if not Programme.objects.exists():
        call_command("load_programmes", stdout=StringIO())


def test_lns_answers_and_the_organiser_reads(
    page, sign_in, visit, submit, camden_lns, london_organiser
):
    plan = make_plan(CAMDEN)

    sign_in(camden_lns)
    visit(f"/plans/{plan.pk}/checklist/cuts-not-efficiency/")
    submit("Save answer")  # nothing chosen: the error summary, checked by axe too
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Select an answer").click()
    expect(page.get_by_role("radio", name="Yes", exact=True)).to_be_focused()

    for n, (key, (response, concern, evidence)) in enumerate(ANSWERS.items()):
        visit(f"/plans/{plan.pk}/checklist/{key}/")
        expect(page.get_by_text("Not answered yet.")).to_be_visible()
        page.get_by_role("radio", name=response, exact=True).check()
        page.get_by_role("radio", name=concern, exact=True).check()
        page.get_by_label("Evidence", exact=True).fill(evidence)
        # A link typed with the answer is saved by "Save answer" too.
        page.get_by_label("Link", exact=True).fill(f"https://www.camden.gov.uk/send-plan-{n}.pdf")
        page.get_by_label("Title (optional)").fill(f"Camden SEND plan, part {n}")
        page.get_by_label("Page or paragraph (optional)").fill(f"page {n + 10}")
        submit("Save answer")
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Your answer and its evidence link have been saved."
        )
        expect(page.get_by_role("link", name=f"Camden SEND plan, part {n}")).to_be_visible()

    # A half-typed link is refused with the answer's change kept; a web page
    # needs no page or paragraph.
    visit(f"/plans/{plan.pk}/checklist/pressures-on-school-system/")
    page.get_by_role("radio", name="Partly", exact=True).check()
    page.get_by_role("radio", name="Some concern", exact=True).check()
    page.get_by_label("Title (optional)").fill("Cabinet report")
    submit("Save answer")
    page.locator(".govuk-error-summary").get_by_role("link", name="Enter the link").click()
    expect(page.get_by_label("Link", exact=True)).to_be_focused()
    expect(page.get_by_role("radio", name="Partly", exact=True)).to_be_checked()
    page.get_by_label("Link", exact=True).fill("https://www.camden.gov.uk/cabinet/report")
    submit("Save and go to the next question")
    # On to question 3, which says so; its "previous" link names question 2.
    expect(page).to_have_url(re.compile(r"/checklist/early-intervention-resourced/$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your answer to question 2 and its evidence link have been saved."
    )
    previous = page.get_by_role("link", name=re.compile("^Previous question"))
    expect(previous).to_contain_text("Question 2: Will the plan increase pressures")
    with page.expect_navigation():
        previous.click()
    expect(page.get_by_role("link", name="Cabinet report")).to_be_visible()
    expect(page.locator("dl.govuk-summary-list").first).to_contain_text("Partly")

    submit("Sign out")
    sign_in(london_organiser)
    for n, (key, (response, concern, evidence)) in enumerate(ANSWERS.items()):
        visit(f"/plans/{plan.pk}/checklist/{key}/")
        answer = page.locator("dl.govuk-summary-list").first
        expect(answer).to_contain_text(response)
        expect(answer).to_contain_text(concern)
        expect(answer).to_contain_text(evidence)
        expect(answer).to_contain_text("Carys Evans")
        expect(answer).not_to_contain_text("Private notes")
        link = page.get_by_role("listitem").filter(
            has=page.get_by_role("link", name=f"Camden SEND plan, part {n}")
        )
        expect(link).to_contain_text(f"page {n + 10}")
        history = page.locator(".app-history")
        expect(history).to_contain_text("Answer added by Carys Evans")
        expect(page.get_by_role("button", name="Save answer")).to_have_count(0)
        expect(page.get_by_role("button", name="Add comment")).to_be_visible()

    visit(f"/plans/{plan.pk}/questions-to-ask/")
    expect(page.get_by_text("Answered “not known”.")).to_be_visible()
    expect(page.get_by_text("Serious concern (answered “no”)")).to_be_visible()
