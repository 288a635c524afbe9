"""Camden's LNS works through the warnings page in a real browser: filters
it, marks a warning dealt with by keyboard alone (through the error for a
missing note), finds it among those dealt with, and reopens it. Each page
is checked with axe-core."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consultations.models import Action
from tests.factories import CAMDEN, authority, make_plan
from tests.test_warnings import answer

from .test_keyboard_journeys import Keyboard


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


def test_an_lns_marks_a_warning_dealt_with_and_reopens_it(
    page, live_server, sign_in, visit, assert_accessible, camden_lns
):
    today = timezone.localdate()
    Action.objects.create(
        authority=authority(CAMDEN),
        title="Chase the Schools Forum minutes",
        due_on=today - datetime.timedelta(days=4),
    )
    answer(make_plan(CAMDEN))
    sign_in(camden_lns)

    # Home links to the whole list, with its count.
    visit("/")
    with page.expect_navigation():
        page.get_by_role("link", name="See all 2 open warnings").click()
    assert_accessible(page)
    table = page.get_by_role("table", name=re.compile("Open warnings"))
    # The gravest first: a serious concern before an overdue action.
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Serious concern")
    expect(rows.nth(1)).to_contain_text("Action overdue")

    # Filtered to one kind.
    page.get_by_label("Kind of warning").select_option(label="Action overdue")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert_accessible(page)
    expect(page.get_by_role("status")).to_have_text("1 open warning.")
    expect(page.get_by_label("Kind of warning")).to_have_value("action_overdue")

    # Marked dealt with by keyboard alone.
    keys = Keyboard(page, live_server, assert_accessible)
    # From the row's link (the filters before it are a form of their own).
    page.get_by_role("link", name=re.compile("^Mark as dealt with")).focus()
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mark a warning as dealt with")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Chase the Schools Forum minutes")
    keys.tab_to(page.get_by_role("button", name="Mark as dealt with"))
    keys.press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Say what was done about it")
    keys.tab_to(page.get_by_label("What was done about it?"))
    keys.type("Minutes chased by e-mail; due next week.")
    keys.tab_to(page.get_by_role("button", name="Mark as dealt with"))
    keys.press("Enter")
    # Back on the list it came from, with the filter kept; none open now.
    expect(page.get_by_role("alert")).to_contain_text("Marked as dealt with")
    expect(page.get_by_label("Kind of warning")).to_have_value("action_overdue")
    expect(page.get_by_role("status")).to_have_text("No open warnings match.")

    # Among those dealt with, with the note, and reopened.
    page.get_by_label("Show", exact=True).select_option(label="Dealt with")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert_accessible(page)
    table = page.get_by_role("table", name=re.compile("Warnings dealt with"))
    expect(table).to_contain_text("Minutes chased by e-mail; due next week.")
    page.get_by_role("link", name=re.compile("^Reopen")).focus()
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reopen a warning")
    keys.tab_to(page.get_by_label("Why reopen it? (optional)"))
    keys.type("The minutes did not come.")
    keys.tab_to(page.get_by_role("button", name="Reopen the warning"))
    keys.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Reopened")

    # Open again, on the authority's page too.
    visit("/authorities/camden/")
    section = page.locator("#warnings + ul")
    expect(section).to_contain_text("Chase the Schools Forum minutes")
