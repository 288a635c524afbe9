"""Official figures beside members' reports, in a real browser: Camden's
LNS answers the checklist's question on refusals, links the official
refusal rate as evidence in one click, and reads the authorities most like
Camden on its page. Every page is checked for WCAG 2.2 AA by `visit` and
`submit`."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from official.models import Status
from plans.models import Programme
from tests.factories import CAMDEN, KENT, MANCHESTER, make_plan
from tests.test_official_evidence import REFUSALS, figures, release
from tests.test_official_similar import place


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data: reload the reference data (the
    programmes and checklist included) after the previous test's flush."""
    if not Programme.objects.exists():
        call_command("load_programmes", stdout=StringIO())


def test_lns_links_the_refusal_rate_and_reads_similar_authorities(
    page, sign_in, visit, submit, camden_lns
):
    plan = make_plan(CAMDEN)
    source = release()
    figures(
        REFUSALS,
        "2024",
        england="25.3",
        region=("London", "21.7"),
        values={CAMDEN: "30.2", KENT: Status.SUPPRESSED},
        source=source,
    )
    place(CAMDEN, mainstream=40, special=40, independent=10, dsg=-5, source=source)
    place(KENT, mainstream=41, special=39, independent=11, dsg=-5.5, source=source)
    place(MANCHESTER, mainstream=60, special=20, independent=2, dsg=2, source=source)

    sign_in(camden_lns)
    visit(f"/plans/{plan.pk}/checklist/refusing-initial-applications/")
    figures_table = page.get_by_role("table", name="Requests for an assessment refused: Camden")
    expect(figures_table).to_contain_text("30.2%")
    page.get_by_role("radio", name="Partly", exact=True).check()
    page.get_by_role("radio", name="Serious concern", exact=True).check()
    page.get_by_label("Evidence", exact=True).fill("Members report refusals at first request.")
    submit("Save answer")
    # The button's name ends with the figure it links (visually hidden).
    submit(re.compile(r"^Link as evidence\s*: Requests for an assessment refused, 2024$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Linked as evidence")
    link = page.locator("#links + ul").get_by_role("link")
    expect(link).to_contain_text("Requests for an assessment refused, Camden, 2024: 30.2%")
    expect(link).to_contain_text("reporting year 2025")

    visit("/authorities/camden/")
    similar = page.get_by_role("table", name="Camden and the authorities most like it")
    expect(similar).to_contain_text("Camden (this authority)")
    # Kent and Manchester are outside the LNS's scope: named, not linked.
    expect(similar.get_by_role("row").nth(2)).to_contain_text("Kent")
    expect(similar.get_by_role("link")).to_have_count(0)
