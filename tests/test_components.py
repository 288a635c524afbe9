"""The GOV.UK components written once (authorities/templatetags/govuk.py and
templates/includes/): summary rows, breadcrumbs, the error summary,
pagination and the confirmation page, and the one name a plan goes by."""

import re
from pathlib import Path

import pytest
from django import forms
from django.core.paginator import Paginator
from django.template import Context, Template, TemplateSyntaxError
from django.template.loader import render_to_string
from django.urls import reverse

from consultations.models import Meeting

from .factories import CAMDEN, authority, make_plan

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def render(source, **context):
    return Template("{% load govuk %}" + source).render(Context(context))


# Written once ------------------------------------------------------------------

# Each component's own markup, and the one template allowed to write it.
COMPONENTS = {
    "govuk-summary-list__row": "includes/summary_row.html",
    "govuk-breadcrumbs": "includes/breadcrumbs.html",
    "govuk-error-summary": "includes/error_summary.html",
    "govuk-pagination": "includes/pagination.html",
    "app-table-scroll": "includes/table.html",
    "govuk-button--warning": "confirm.html",
}

# Red buttons that are not a confirmation page's: allauth's own button element
# (its "danger" buttons), and actions taken on the page itself.
OTHER_WARNING_BUTTONS = {
    "allauth/elements/button.html",
    "mfa/recovery_codes/generate.html",
    "usersessions/usersession_list.html",
}


@pytest.mark.parametrize("css_class", COMPONENTS)
def test_no_page_hand_writes_a_component(css_class):
    allowed = {COMPONENTS[css_class]}
    if css_class == "govuk-button--warning":
        allowed |= OTHER_WARNING_BUTTONS
    writers = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if re.search(rf"\b{css_class}\b", path.read_text())
    }
    assert writers == allowed


def test_every_confirmation_page_extends_the_one_layout():
    pages = [
        path
        for path in TEMPLATES.rglob("*.html")
        if "confirm_delete" in path.name or "confirm_withdraw" in path.name
    ]
    assert len(pages) >= 4
    for path in pages:
        assert path.read_text().startswith('{% extends "confirm.html" %}'), path


# Summary rows ----------------------------------------------------------------


def test_a_summary_row_keeps_its_values_markup_and_escapes_its_key():
    html = render(
        '{% summary_row key value_class="app-break-anywhere" %}<strong>{{ value }}</strong>'
        "{% endsummary_row %}",
        key="<b>Key</b>",
        value="<i>value</i>",
    )
    assert '<dt class="govuk-summary-list__key">&lt;b&gt;Key&lt;/b&gt;</dt>' in html
    assert (
        '<dd class="govuk-summary-list__value app-break-anywhere">'
        "<strong>&lt;i&gt;value&lt;/i&gt;</strong></dd>"
    ) in html
    assert "govuk-summary-list__actions" not in html


def test_a_summary_row_action_names_its_row_for_screen_readers():
    html = render(
        '{% summary_row "Agreed" action_url="/plans/1/edit/" %}1 March 2024{% endsummary_row %}'
    )
    assert (
        '<dd class="govuk-summary-list__actions"><a class="govuk-link" href="/plans/1/edit/">'
        'Change<span class="govuk-visually-hidden"> agreed</span></a></dd>'
    ) in html


# Breadcrumbs -------------------------------------------------------------------


def test_breadcrumbs_link_each_label_to_its_address_in_order():
    html = render('{% breadcrumbs "Plans" "/plans/" name "/authorities/camden/" %}', name="Camden")
    assert re.findall(r'<a class="govuk-breadcrumbs__link" href="([^"]+)">([^<]+)</a>', html) == [
        ("/plans/", "Plans"),
        ("/authorities/camden/", "Camden"),
    ]
    assert 'aria-label="Breadcrumb"' in html


def test_breadcrumbs_need_an_address_for_each_label():
    with pytest.raises(TemplateSyntaxError):
        render('{% breadcrumbs "Plans" "/plans/" "Camden" %}')


# Tables ------------------------------------------------------------------------

TABLE = """{% table table_class="app-x" %}
  <caption class="govuk-table__caption">{{ caption }}</caption>
  <tbody><tr><td>{{ cell }}</td></tr></tbody>
{% endtable %}"""


def test_a_table_scrolls_in_a_region_named_by_its_caption_and_reached_by_keyboard():
    html = render(TABLE, caption="Meetings", cell="Schools Forum")
    caption_id = re.search(r'<caption id="([^"]+)" class="govuk-table__caption">Meetings<', html)[
        1
    ]
    assert (
        f'<div class="app-table-scroll" role="region" aria-labelledby="{caption_id}" tabindex="0">'
        in html
    )
    assert '<table class="govuk-table app-x">' in html
    assert "<td>Schools Forum</td>" in html


def test_a_tables_id_is_the_same_each_time_and_differs_between_tables():
    def caption_id(**context):
        return re.search(r'<caption id="([^"]+)"', render(TABLE, **context))[1]

    assert caption_id(caption="Meetings", cell="A") == caption_id(caption="Meetings", cell="A")
    assert caption_id(caption="Meetings", cell="A") != caption_id(caption="Meetings", cell="B")


def test_a_caption_keeps_its_own_id():
    html = render('{% table %}<caption id="mine">Mine</caption>{% endtable %}')
    assert 'aria-labelledby="mine"' in html
    assert html.count('id="mine"') == 1


def test_a_table_without_a_caption_is_refused():
    with pytest.raises(TemplateSyntaxError):
        render("{% table %}<thead></thead>{% endtable %}")


# The error summary -------------------------------------------------------------


class AnswerForm(forms.Form):
    response = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect)
    evidence = forms.CharField()
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("Someone else saved it first")


class CommentForm(forms.Form):
    text = forms.CharField()


def test_one_summary_lists_every_forms_errors_linked_to_their_fields():
    answer = AnswerForm({"version": "x"})
    comment = CommentForm({}, prefix="comment")

    html = render("{% error_summary answer comment %}", answer=answer, comment=comment)

    assert html.count('class="govuk-error-summary"') == 1
    assert "There is a problem" in html
    items = re.findall(r"<li>(.*?)</li>", html)
    assert items == [
        "Someone else saved it first",  # the form's own: nowhere to link
        '<a href="#id_response_0">This field is required.</a>',  # radios: the first
        '<a href="#id_evidence">This field is required.</a>',
        "Enter a whole number.",  # a hidden field: nothing to link to
        '<a href="#id_comment-text">This field is required.</a>',
    ]


def test_a_list_of_forms_counts_as_its_forms():
    html = render("{% error_summary forms %}", forms=[CommentForm({}), CommentForm()])
    assert len(re.findall(r"<li>", html)) == 1


def test_no_errors_no_summary():
    assert render("{% error_summary form %}", form=CommentForm({"text": "Fine"})).strip() == ""
    assert render("{% error_summary form %}", form=CommentForm()).strip() == ""


def test_a_description_is_shown_with_the_pages_context():
    description = Template("<p>{{ theirs }}</p>")
    html = render(
        '{% error_summary title="They saved first" description=description %}',
        description=description,
        theirs="Their answer",
    )
    assert '<h2 class="govuk-error-summary__title">They saved first</h2>' in html
    assert "<p>Their answer</p>" in html
    assert "govuk-error-summary__list" not in html


# Pagination --------------------------------------------------------------------


def test_pagination_between_items_links_either_side():
    html = render_to_string(
        "includes/pagination.html",
        {
            "label": "Other questions",
            "item": "question",
            "previous_url": "/q/1/",
            "previous_label": "Question 1: Is it fair?",
            "next_url": "",
        },
    )
    assert "govuk-pagination--block" in html
    assert 'href="/q/1/" rel="prev"' in html
    assert 'Previous<span class="govuk-visually-hidden"> question</span>' in html
    assert "Question 1: Is it fair?" in html
    assert 'rel="next"' not in html


def test_pagination_of_one_page_or_nothing_shows_nothing():
    one = Paginator(range(3), 50).get_page(1)
    assert "govuk-pagination" not in render_to_string(
        "includes/pagination.html", {"page": one, "page_query": "", "label": "Pages"}
    )
    assert "govuk-pagination" not in render_to_string(
        "includes/pagination.html", {"label": "Other questions"}
    )


# The confirmation page ---------------------------------------------------------


def test_the_confirmation_page_warns_asks_why_and_offers_a_way_back(camden_lns_client):
    plan = make_plan(CAMDEN, round_or_tranche="2023-24")
    instalment = plan.instalments.create(financial_year=2024, amount=1_000_000, status="paid")

    html = camden_lns_client.get(
        reverse("plans:instalment_delete", args=[plan.pk, instalment.pk])
    ).content.decode()

    assert '<span class="govuk-caption-l">Camden: SV 2023-24</span>' in html
    assert '<h1 class="govuk-heading-l">Remove the 2024-25 instalment?</h1>' in html
    assert '<div class="govuk-warning-text">' in html
    assert 'for="id_reason"' in html  # why, kept in its history
    button = r'class="govuk-button govuk-button--warning"[^>]*>Yes, remove it</button>'
    assert re.search(button, html)
    assert f'<a class="govuk-link" href="{plan.get_absolute_url()}#money">No, keep it</a>' in html


# One name for a plan -----------------------------------------------------------


@pytest.mark.django_db
def test_a_plan_is_named_by_its_programme_round_and_revision(reference_data):
    first = make_plan(CAMDEN, round_or_tranche="2023-24")
    revised = make_plan(CAMDEN, round_or_tranche="2023-24", revision=2, revision_of=first)

    assert first.short_name == "SV 2023-24"
    assert revised.short_name == "SV 2023-24 (revision 2)"
    assert str(revised) == "Camden: SV 2023-24 (revision 2)"


def test_pages_about_a_plan_name_it_the_same_way(camden_lns_client):
    first = make_plan(CAMDEN, round_or_tranche="2023-24")
    plan = make_plan(CAMDEN, round_or_tranche="2023-24", revision=2, revision_of=first)
    meeting = Meeting.objects.create(
        authority=authority(CAMDEN), forum="schools_forum", held_on="2026-01-15", plan=plan
    )
    name = "SV 2023-24 (revision 2)"

    plan_page = camden_lns_client.get(plan.get_absolute_url()).content.decode()
    assert f'<h1 class="govuk-heading-l">{name}</h1>' in plan_page
    meeting_page = camden_lns_client.get(meeting.get_absolute_url()).content.decode()
    assert f'<a class="govuk-link" href="{plan.get_absolute_url()}">{name}</a>' in meeting_page
    questions = camden_lns_client.get(reverse("plans:questions_to_ask", args=[plan.pk]))
    assert f'href="{plan.get_absolute_url()}">{name}</a>' in questions.content.decode()
