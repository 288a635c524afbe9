"""The GOV.UK Frontend components every app's pages share, each written once:
its markup is the template under templates/includes/, and these tags are how a
page fills it in. No page hand-writes a summary row, breadcrumbs, an error
summary or pagination (the field template, templates/django/forms/, does the
same for form fields; templates/confirm.html for confirmation pages).

They live on the ground floor so that every app's templates may use them."""

import datetime
import hashlib
import re

from django import template
from django.forms import BaseForm
from django.template.loader import get_template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_block_tag
def summary_row(content, key, *, value_class="", action_url="", action_text="Change"):
    """One row of a GOV.UK summary list: `key`, and the tag's content as the
    value. With `action_url`, a link (`action_text`, "Change" unless told)
    whose hidden text names the row for screen readers.

        {% summary_row "Date" %}{{ meeting.held_on|date:"j F Y" }}{% endsummary_row %}
    """
    return get_template("includes/summary_row.html").render(
        {
            "key": key,
            # Still safe: the content is rendered template output.
            "value": mark_safe(content.strip()),
            "value_class": value_class,
            "action_url": action_url,
            "action_text": action_text,
        }
    )


@register.simple_block_tag
def table(content, *, table_class=""):
    """A GOV.UK table (the tag's content: its caption, head and body) in a
    box that scrolls sideways on a phone rather than the page (WCAG 1.4.10).
    The box is a region named by the caption, so a screen reader lists it
    with its name, and focusable, so someone on a keyboard can scroll it.

        {% table table_class="govuk-!-font-size-16" %}
          <caption class="govuk-table__caption govuk-table__caption--s">Meetings</caption>
          <thead>…</tbody>
        {% endtable %}

    The caption's id is made from the table itself, unless it has one: the
    same table gets the same id however often it is drawn (so a cached page
    does not change), and two tables of a page different ones."""
    content = content.strip()
    caption = CAPTION.match(content)
    if not caption:
        raise template.TemplateSyntaxError("A table starts with its caption: it names the table")
    named = CAPTION_ID.search(caption["attributes"])
    if named:
        id = named[1]
    else:
        id = "table-" + hashlib.blake2s(content.encode(), digest_size=5).hexdigest()
        content = f'<caption id="{id}"{content[len("<caption") :]}'
    return get_template("includes/table.html").render(
        # Still safe: the content is rendered template output.
        {"id": id, "table_class": table_class, "content": mark_safe(content)}
    )


CAPTION = re.compile(r"<caption(?P<attributes>[^>]*)>")
CAPTION_ID = re.compile(r"""\bid=["']?([^"'\s>]+)""")


@register.simple_tag
def breadcrumbs(*labels_and_urls):
    """GOV.UK breadcrumbs from alternate labels and addresses:

        {% breadcrumbs "Plans" plans_url plan.authority.name plan.authority.get_absolute_url %}

    A view that builds its trail passes includes/breadcrumbs.html a list of
    (label, url) pairs as `crumbs` instead."""
    if len(labels_and_urls) % 2:
        raise template.TemplateSyntaxError("breadcrumbs takes a label and an address for each")
    crumbs = list(zip(labels_and_urls[::2], labels_and_urls[1::2], strict=True))
    return get_template("includes/breadcrumbs.html").render({"crumbs": crumbs})


@register.simple_tag(takes_context=True)
def error_summary(context, *forms, title="", description=""):
    """The page's one GOV.UK error summary: every error of every form given
    (a form, or a list of them), each linked to its field; shown only when
    there is one, or a `description`.

    `title` replaces "There is a problem"; `description` names a template
    (a partial, "page.html#name") shown above the list, rendered with the
    page's context: a conflict shows what the other person saved there."""
    errors = list(_error_links(_flatten(forms)))
    if not errors and not description:
        return ""
    with context.push(errors=errors, title=title, description=description):
        return get_template("includes/error_summary.html").template.render(context)


def _flatten(forms):
    for item in forms:
        if isinstance(item, BaseForm):
            yield item
        elif item:
            yield from _flatten(item)


def _error_links(forms):
    """(message, anchor) for each error: a field's links to its input (to
    the first option of radios and checkboxes, whose label is a legend and
    for which Django gives no id_for_label); a form's own errors and a
    hidden field's have nowhere to link to."""
    for form in forms:
        if not form.is_bound or not form.errors:
            continue
        for message in form.non_field_errors():
            yield message, ""
        for field in form:
            if field.is_hidden:
                anchor = ""
            else:
                anchor = field.id_for_label or (
                    field.subwidgets[0].id_for_label if field.subwidgets else ""
                )
            for message in field.errors:
                yield message, anchor


@register.filter
def page_links(page):
    """The page numbers a GOV.UK pagination shows for a Django Page: the
    first and last, the current one and its neighbours, with None where
    numbers are left out (an ellipsis). A list of 20,000 meetings would
    otherwise link every one of its 400 pages."""
    paginator = page.paginator
    for number in paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        yield None if number == paginator.ELLIPSIS else number


@register.filter(expects_localtime=True)
def iso_datetime(value):
    """A date or a time as a `<time datetime>` value: ISO 8601, to the
    second. Django's `date:"c"` keeps the microseconds, which HTML does not
    allow (three digits of a second at most).

        <time datetime="{{ answer.answered_at|iso_datetime }}">…</time>
    """
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return ""
