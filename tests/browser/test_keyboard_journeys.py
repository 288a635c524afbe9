"""Each role's main journey by keyboard alone: Tab, Shift+Tab, Enter, Space
and the arrow keys, never a click. From the top of a page the first Tab
reaches the skip link, which moves the focus into the main content; no
element is put out of the page's order (a positive tabindex); every element
Tab reaches shows that it has the focus (an outline or GOV.UK's focus
shadow, or a map square's or radio's own). Errors are announced (the error
summary takes the focus and holds role="alert"), its links move the focus
to their fields, and what was saved is announced (GOV.UK's success banner,
role="alert").

National officer: signs in with the second step, sorts the overview, opens
an authority from the map. Regional organiser, on a 320 px phone: the menu,
the overview's table scrolled sideways in its own region, an authority.
LNS: answers a checklist question, through its error. SENCO network lead:
gives feedback, through its errors.

Each page is checked with axe-core as it is reached, colour contrast
aside: the crawl (test_crawl.py) checks that on every kind of page."""

import datetime
import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from plans.models import QuestionSet
from tests.factories import CAMDEN, PASSWORD, make_plan, totp_code

from .conftest import AXE_OPTIONS, CODE_SECONDS_NEEDED, NO_CONTRAST, axe_violations

# The focused element: what it is, whether its focus can be seen (an
# outline that is not transparent, GOV.UK's shadow, or the map's and the
# radios' own ways), and whether it is `target` or within it. One call a
# key press: a journey presses Tab hundreds of times.
FOCUSED = """target => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const clear = colour => colour === "transparent" || /rgba\\(.*,\\s*0\\)$/.test(colour);
  const tile = element.querySelector(":scope > .app-map__tile");
  // GOV.UK draws a radio's or checkbox's focus on its label's box: the
  // input itself is invisible.
  const box = element.matches(".govuk-radios__input, .govuk-checkboxes__input")
    ? getComputedStyle(element.nextElementSibling, "::before") : null;
  return {
    outside: element === document.body,
    what: `${element.tagName.toLowerCase()}#${element.id} "${(element.textContent || "")
      .trim().replace(/\\s+/g, " ").slice(0, 50)}"`,
    visible: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
              && !clear(style.outlineColor))
      || style.boxShadow !== "none"
      || (tile !== null && getComputedStyle(tile).fill === "rgb(255, 221, 0)")
      || (box !== null && box.boxShadow !== "none"),
    is: element === target,
    within: target !== null && target.contains(element),
  };
}"""
# Elements put out of the page's order.
OUT_OF_ORDER = """() => [...document.querySelectorAll("[tabindex]")]
  .filter(element => element.tabIndex > 0).map(element => element.outerHTML.slice(0, 80))"""
IS_FOCUSED = "element => element === document.activeElement"
BEFORE_FOCUS = """element => document.activeElement !== document.body
  && Boolean(element.compareDocumentPosition(document.activeElement)
             & Node.DOCUMENT_POSITION_FOLLOWING)"""


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data (see test_journeys.py)."""


class Keyboard:
    """A person with a keyboard and no mouse, on `page`."""

    def __init__(self, page, live_server, assert_accessible):
        self.page = page
        self.origin = live_server.url
        self.assert_accessible = assert_accessible

    def open(self, path):
        """Go to an address, as typed into the browser's address bar."""
        self.page.goto(self.origin + path)
        self.arrived()

    def arrived(self):
        self.assert_accessible(self.page)
        assert not self.page.evaluate(OUT_OF_ORDER), f"{self.page.url}: a positive tabindex"

    def tab(self, key="Tab", target=None):
        self.page.keyboard.press(key)
        focused = target.evaluate(FOCUSED) if target else self.page.evaluate(FOCUSED, None)
        # Past the page's last element is the browser's own controls: the
        # journeys never need to go round that way (Shift+Tab goes back).
        assert not focused["outside"], f"{self.page.url}: the focus left the page"
        assert focused["visible"], f"{self.page.url}: the focus on {focused['what']} is not seen"
        return focused

    def tab_to(self, locator, limit=300, *, within=False):
        """Tab until `locator` (or, `within`, something in it) has the
        focus, or Shift+Tab to go back to it; fails if it never does."""
        target = locator.element_handle()
        key = "Shift+Tab" if target.evaluate(BEFORE_FOCUS) else "Tab"
        for _ in range(limit):
            focused = self.tab(key, target)
            if focused["within" if within else "is"]:
                return
        pytest.fail(f"{self.page.url}: {locator} cannot be reached with Tab")

    def press(self, key="Enter"):
        """A key that opens another page (a link, a form's button)."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.arrived()

    def choose(self, radio):
        """Tab into the radio's group (Tab stops once in a group), then the
        arrow keys move to it, which chooses it."""
        self.tab_to(radio.locator("xpath=ancestor::fieldset[1]"), within=True)
        for _ in range(10):
            if radio.evaluate(IS_FOCUSED):
                break
            self.page.keyboard.press("ArrowDown")
        expect(radio).to_be_focused()
        expect(radio).to_be_checked()

    def type(self, text):
        self.page.keyboard.type(text)

    def skip_to_main(self):
        """From the top of a page: the first Tab reaches the skip link, and
        Enter moves the focus into the main content."""
        skip = self.page.get_by_role("link", name="Skip to main content")
        self.tab()
        expect(skip).to_be_focused()
        self.page.keyboard.press("Enter")
        expect(self.page.locator("main")).to_be_focused()

    def sign_in(self, user):
        self.open("/accounts/login/")
        self.skip_to_main()
        self.tab_to(self.page.get_by_label("E-mail address"))
        self.type(user.email)
        self.tab_to(self.page.get_by_label("Password"))
        self.type(PASSWORD)
        self.press("Enter")
        if "/accounts/2fa/" in self.page.url:
            # allauth accepts a code once (see conftest.sign_in).
            cache.clear()
            self.tab_to(self.page.get_by_label("Code"))
            self.type(totp_code(seconds_needed=CODE_SECONDS_NEEDED))
            self.press("Enter")
        expect(self.page.get_by_role("heading", level=1)).to_be_visible()

    def follow(self, locator, limit=300):
        """Tab to a link and follow it."""
        self.tab_to(locator, limit)
        self.press("Enter")

    def fix_first_error(self, message):
        """The error summary has the focus and is announced; Tab reaches
        its first link, whose Enter moves the focus to the field."""
        summary = self.page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("alert")).to_contain_text(message)
        self.tab()
        link = summary.get_by_role("link").first
        expect(link).to_be_focused()
        expect(link).to_have_text(message)
        self.page.keyboard.press("Enter")


@pytest.fixture
def keyboard(page, live_server):
    def assert_accessible(page):
        # Colour contrast, axe's slowest rule (seconds on the overview's
        # 153 rows), is checked on every kind of page by the crawl.
        violations = axe_violations(page, {**AXE_OPTIONS, "rules": NO_CONTRAST})
        assert not violations, f"{page.url}\n" + "\n".join(violations)

    return Keyboard(page, live_server, assert_accessible)


def menu(page, name):
    return page.get_by_role("navigation", name="Main menu").get_by_role("link", name=name)


def test_national_officer_sorts_the_overview_and_opens_an_authority_from_the_map(
    page, keyboard, national_officer
):
    make_plan(CAMDEN, "sv", round_or_tranche="2024-25")
    keyboard.sign_in(national_officer)
    keyboard.follow(menu(page, "Overview"))
    keyboard.skip_to_main()

    # A sortable heading: Enter sorts, and the heading says how.
    paid = page.get_by_role("link", name="Paid (£)")
    keyboard.follow(paid)
    heading = page.get_by_role("columnheader", name="Paid (£)")
    expect(heading).to_have_attribute("aria-sort", "ascending")

    keyboard.follow(menu(page, "Map"))
    keyboard.skip_to_main()
    camden = page.locator("svg a.app-map__cell", has_text="CMD")
    keyboard.tab_to(camden)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Camden")


def test_organiser_on_a_phone_scrolls_the_overview_table_in_its_own_region(
    page, keyboard, london_organiser
):
    page.set_viewport_size({"width": 320, "height": 640})
    keyboard.sign_in(london_organiser)
    # At 320 px the menu is behind a button.
    toggle = page.get_by_role("button", name="Menu")
    keyboard.tab_to(toggle)
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    keyboard.follow(menu(page, "Overview"))

    # The table's region has its caption for a name, takes the focus, and
    # scrolls sideways with the arrow keys: the page itself does not.
    region = page.get_by_role("region", name="Authorities in London")
    keyboard.tab_to(region)
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    assert region.evaluate("box => box.scrollLeft") > 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320

    keyboard.follow(region.get_by_role("link", name="Camden", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Camden")


def test_lns_answers_a_checklist_question_through_its_error(page, keyboard, camden_lns):
    plan = make_plan(CAMDEN)
    first = QuestionSet.objects.latest_version().questions.first()
    keyboard.sign_in(camden_lns)
    # Signing in is announced, and the focus is on the announcement.
    expect(page.get_by_role("alert")).to_be_focused()
    # Home lists the plan with its next question to answer.
    keyboard.follow(page.get_by_role("link", name=first.text))
    assert page.url.endswith(f"/plans/{plan.pk}/checklist/{first.key}/")

    save = page.get_by_role("button", name="Save answer")
    keyboard.tab_to(save)
    keyboard.press("Enter")
    keyboard.fix_first_error("Select an answer")
    yes = page.get_by_role("radio", name="Yes", exact=True)
    expect(yes).to_be_focused()
    page.keyboard.press("Space")
    expect(yes).to_be_checked()
    keyboard.choose(page.get_by_role("radio", name="Serious concern", exact=True))
    keyboard.tab_to(page.get_by_label("Evidence", exact=True))
    keyboard.type("The plan cuts places without saying how needs will be met.")
    keyboard.tab_to(save)
    keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(re.compile("answer.* saved"))


def test_senco_lead_gives_feedback_through_its_errors(page, keyboard, camden_senco_lead):
    keyboard.sign_in(camden_senco_lead)
    keyboard.follow(menu(page, "Feedback"))
    keyboard.follow(page.get_by_role("link", name="Give feedback for Camden"))

    send = page.get_by_role("button", name="Send feedback")
    keyboard.tab_to(send, limit=300)
    keyboard.press("Enter")
    keyboard.fix_first_error("Select who the feedback is from")
    network = page.get_by_role("radio", name="A SENCO network")
    expect(network).to_be_focused()
    page.keyboard.press("Space")
    expect(network).to_be_checked()
    keyboard.tab_to(page.get_by_role("checkbox", name="Primary", exact=True))
    page.keyboard.press("Space")
    keyboard.tab_to(page.get_by_label("How many people does it speak for?"))
    keyboard.type("12")
    meeting = page.get_by_label("Date of the meeting")
    keyboard.tab_to(meeting)
    # A date field's parts come in the order of the browser's language:
    # Playwright starts Chromium in American English, month first.
    day = datetime.date.today() - datetime.timedelta(days=7)
    keyboard.type(day.strftime("%m%d%Y"))
    expect(meeting).to_have_value(day.isoformat())
    keyboard.choose(page.get_by_role("radio", name="Partly", exact=True))
    keyboard.tab_to(send, limit=300)
    keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("your feedback has been saved")
