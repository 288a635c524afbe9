"""The charts' text, drawn by Chromium: no label, value or axis figure
touches another, however many and however long they are, and none is cut
off at the drawing's edge. dashboards/charts.py lays the text out from an
estimate of its width; this is where the estimate meets a real font.

The crawl (test_crawl.py) checks the same on every page with a chart; here
the charts are made to be hard: many bars, long labels and values, gaps,
surpluses and a wide axis."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from dashboards.charts import Point, bar_chart, deficit_text, short_pounds, weeks_text

STYLESHEET = Path(settings.BASE_DIR, "static", "govuk", "css", "app.css")

# Every pair of texts in a chart's drawing whose boxes intersect, and every
# text reaching outside the drawing. The first result is the number of
# texts: a chart that drew nothing would find no overlaps either.
TEXT_BOXES = """() => {
  const found = {texts: 0, overlaps: [], outside: []};
  for (const svg of document.querySelectorAll("svg.app-chart__svg")) {
    const frame = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")]
      .map(text => [text.textContent, text.getBoundingClientRect()]);
    found.texts += texts.length;
    texts.forEach(([text, box], n) => {
      if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5
          || box.top < frame.top - 0.5 || box.bottom > frame.bottom + 0.5) {
        found.outside.push(text);
      }
      for (const [other, next] of texts.slice(n + 1)) {
        if (box.left < next.right && next.left < box.right
            && box.top < next.bottom && next.top < box.bottom) {
          found.overlaps.push(`${text} / ${other}`);
        }
      }
    });
  }
  return found;
}"""


def money(value):
    return deficit_text(value, short_pounds)


HARD_CHARTS = {
    # Twenty terms with long names, some suppressed: the wait chart at its worst.
    "terms": dict(
        points=[
            Point(
                f"{('Spring', 'Summer', 'Autumn')[n % 3]} term {2015 + n // 3}",
                None if n % 4 == 1 else Decimal(8 + n * 1.5),
                "fewer than 5",
            )
            for n in range(20)
        ],
        short=lambda weeks: f"{weeks:g}",
        full=weeks_text,
        tick_text=weeks_text,
    ),
    # Surpluses and deficits side by side, with long values either way.
    "surpluses": dict(
        points=[
            Point(
                f"Financial year {2010 + n}-{11 + n}", Decimal((-1) ** n * 123_456_789 * (n + 1))
            )
            for n in range(12)
        ],
        short=money,
        full=money,
        tick_text=short_pounds,
    ),
    # One word too long for any slot, and very few bars.
    "long words": dict(
        points=[
            Point("Extraordinarilylongcategoryname", Decimal(3)),
            Point("Notknownatall", None, "Not known to anybody at all yet"),
        ],
        short=lambda value: f"{value:g} per cent of income",
        full=str,
    ),
}


@pytest.mark.parametrize("name", HARD_CHARTS)
def test_no_text_in_a_chart_touches_another(page, name):
    chart = bar_chart(
        id="chart",
        title="A chart made to be hard to lay out",
        subject="figure",
        axis_title="What the figures are, in some detail",
        label_heading="When",
        value_heading="Figure",
        **HARD_CHARTS[name],
    )
    figure = render_to_string("includes/chart.html", {"chart": chart})
    page.set_content(
        f'<!DOCTYPE html><html lang="en"><head><title>Chart</title>'
        f"<style>{STYLESHEET.read_text()}</style></head>"
        f'<body class="govuk-template__body"><main>{figure}</main></body></html>'
    )
    found = page.evaluate(TEXT_BOXES)
    assert found["texts"] > 2 * len(chart.bars)
    assert not found["overlaps"], f"{name}: these touch: {found['overlaps']}"
    assert not found["outside"], f"{name}: these are cut off: {found['outside']}"


def test_the_wait_chart_gives_its_unit_on_the_axis():
    chart = bar_chart(
        id="chart",
        title="Wait",
        subject="median wait",
        points=[Point("Autumn 2025", Decimal(12)), Point("Spring 2026", Decimal(38))],
        axis_title="Weeks",
        label_heading="Term",
        value_heading="Median wait",
        short=lambda weeks: f"{weeks:g}",
        full=weeks_text,
        tick_text=weeks_text,
    )
    assert [tick.text for tick in chart.ticks] == [
        "0 weeks",
        "10 weeks",
        "20 weeks",
        "30 weeks",
        "40 weeks",
    ]
