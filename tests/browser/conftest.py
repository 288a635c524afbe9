"""Browser tests: Playwright driving Debian's Chromium against a live server.

Nothing here downloads a browser: Playwright launches the `chromium` on PATH
(or CHROMIUM_PATH). Without one the tests are skipped locally but fail in CI
(CI=true), so CI cannot pass without really running them. Every page a test
visits goes through `visit`/`submit`, which check it with axe-core.
"""

import os
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
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


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def assert_accessible(axe):
    def check(page):
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"

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
