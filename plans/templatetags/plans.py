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
    # a reform plan's stage with the DfE, and its rating
    "started": "light-blue",
    "draft_shared": "light-blue",
    "feedback": "light-blue",
    "submitted": "blue",
    "approved": "green",
    "requirements_not_met": "red",
    "revised": "purple",
    "partly_met": "yellow",
    "met": "turquoise",
    "exceeded": "green",
    # a payment (an instalment, the High Needs Stability Grant)
    "due": "grey",
    "paid": "green",
    "withheld": "red",
    "reduced": "orange",
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
