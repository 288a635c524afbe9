"""Browser tests: Playwright driving Debian's Chromium against a live server.

Nothing here downloads a browser: Playwright launches the `chromium` on PATH
(or CHROMIUM_PATH). Without one the tests are skipped locally but fail in CI
(CI=true), so CI cannot pass without really running them. Every page a test
visits goes through `visit`/`submit`, which check it with axe-core.
"""

import functools
import os
import shutil
from pathlib import Path

import axe_playwright_python
import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD, totp_code

CHROMIUM = (
    os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
)
# This machine's network is closed: without these Chromium tries (and fails)
# to reach Google's services at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# axe-core as axe-playwright-python bundles it, put in every page as an init
# script: sending its 500 KB with each check, as that library's Axe.run
# does, took longer than the check, and so did bringing back every node
# that passed (a page's full results are megabytes). Only the violations
# come back.
AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")
AXE_RUN = """options => axe.run(document, options).then(results => results.violations.map(
    v => ({id: v.id, impact: v.impact, tags: v.tags, help: v.help,
           nodes: v.nodes.slice(0, 3).map(node => node.target.join(" "))})))"""
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}
# Colour contrast, axe's slowest rule by far, off (the crawl checks it).
NO_CONTRAST = {"color-contrast": {"enabled": False}}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must run the browser tests.")
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@functools.cache
def _axe_source():
    return AXE_SCRIPT.read_text()


@pytest.fixture
def context(context):
    """pytest-playwright's browser context, with axe-core in every page."""
    context.add_init_script(path=AXE_SCRIPT)
    return context


def axe_violations(page, options=AXE_OPTIONS):
    """axe-core's violations on `page`, each a line: rule, impact, what it
    asks and where (the first three places)."""
    if not page.evaluate("typeof axe !== 'undefined'"):  # a context of the test's own
        page.evaluate(_axe_source())  # (a script tag: the app's CSP refuses it)
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']} at {'; '.join(v['nodes'])}"
        for v in page.evaluate(AXE_RUN, options)
    ]


@pytest.fixture
def assert_accessible():
    def check(page):
        violations = axe_violations(page)
        assert not violations, f"{page.url}\n" + "\n".join(violations)

    return check


@pytest.fixture
def visit(page, live_server, assert_accessible):
    """Open a path on the live server and check the page with axe-core."""

    def go(path):
        response = page.goto(f"{live_server.url}{path}")
        assert_accessible(page)
        return response

    return go


@pytest.fixture
def submit(page, assert_accessible):
    """Press a form's button, wait for the next page, check it with axe-core."""

    def press(name):
        with page.expect_navigation():
            page.get_by_role("button", name=name).click()
        assert_accessible(page)

    return press


# Long enough to type a code and post it on a busy CI machine.
CODE_SECONDS_NEEDED = 8


@pytest.fixture
def sign_in(page, visit, submit):
    """Signs in as `user`, typing the code from their authenticator app
    (tests.factories.TOTP_SECRET) when the tracker asks for one, as it does
    for every national or regional role and staff."""

    def as_(user, password=PASSWORD):
        visit("/accounts/login/")
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(password)
        submit("Sign in")
        if page.url.endswith(reverse("mfa_authenticate")):
            # allauth accepts a code once; a test signing in twice within
            # its 30 seconds types the same one, so forget it was used.
            cache.clear()
            page.get_by_label("Code").fill(totp_code(seconds_needed=CODE_SECONDS_NEEDED))
            submit("Continue")

    return as_
