from decimal import Decimal

from django import template

from authorities.models import format_pounds
from plans.models import year_label

register = template.Library()

STATUS_COLOURS = {
    "rumoured": "grey",
    "negotiating": "yellow",
    "diagnostic": "light-blue",
    "agreed": "blue",
    "implementation": "turquoise",
    "under_review": "red",
    "completed": "green",
    "ended": "grey",
    # answers
    "serious": "red",
    "some": "yellow",
    "none": "green",
    # target progress
    "on_track": "green",
    "at_risk": "yellow",
    "off_track": "red",
}


@register.filter
def money(value):
    """£1,234,567 (pence only where there are any); "Not known" for None."""
    if value is None or value == "":
        return "Not known"
    return format_pounds(Decimal(value))


@register.filter
def year(value):
    return year_label(value) or "Not known"


@register.filter
def tag_colour(value):
    """The GOV.UK tag modifier for a status, concern or progress value."""
    return STATUS_COLOURS.get(value, "grey")


@register.filter
def number(value):
    """A figure without trailing zeros: 10.00 → 10, 2.50 → 2.5."""
    if value is None:
        return ""
    text = f"{Decimal(value):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def page_links(page):
    """The page numbers a GOV.UK pagination shows for a Django Page: the
    first and last, the current one and its neighbours, with None where
    numbers are left out (an ellipsis). A list of 20,000 meetings would
    otherwise link every one of its 400 pages."""
    paginator = page.paginator
    for number in paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        yield None if number == paginator.ELLIPSIS else number
