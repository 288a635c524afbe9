"""Reflow (WCAG 1.4.10): at 320 CSS pixels wide nothing makes the page
scroll sideways; a wide data table scrolls inside its own box
(`.app-table-scroll`). Each page is checked with axe-core at that width too."""

import pytest

from tests.factories import CAMDEN, make_plan

# The outermost elements that reach past the window's right edge.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const past = el => el.getBoundingClientRect().right > width + 1;
  return [...document.querySelectorAll("body *")]
    .filter(el => past(el) && !past(el.parentElement))
    .slice(0, 5)
    .map(el => el.outerHTML.slice(0, 120));
}"""


@pytest.fixture(autouse=True)
def _browser_db(transactional_db, reference_data):
    """The live server needs committed data: reload the authorities after
    the previous browser test's flush."""


@pytest.mark.parametrize(
    "page_name",
    ["overview", "authority", "meeting form", "map", "plan"],
)
def test_nothing_scrolls_sideways_at_320_pixels(page, sign_in, visit, national_officer, page_name):
    path = {
        "overview": "/overview/",
        "authority": "/authorities/camden/",
        "meeting form": "/authorities/camden/meetings/add/",
        "map": "/map/",
    }.get(page_name) or make_plan(CAMDEN).get_absolute_url()
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(national_officer)
    visit(path)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"{path} is {width} px wide: {page.evaluate(OVERFLOWING)}"
