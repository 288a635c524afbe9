"""The authority list's search form, the warnings page's filters and the
forms that mark a warning dealt with or reopen it (the overview's and
region page's filters are django-filter sets, in filters.py)."""

from django import forms

from authorities.edits import BaseVersionField
from authorities.forms import DateInput, RecordsField
from authorities.models import LocalAuthority, Region

from .models import CAUSE_LENGTH, NOTE_LENGTH
from .warnings import Kind, Status, severity


class AuthorityFilterForm(forms.Form):
    """The authority list's search, region filter and sort (all optional)."""

    SORTS = {
        "name": ["name"],
        "-name": ["-name"],
        "code": ["la_code"],
        "-code": ["-la_code"],
        "region": ["region__name", "name"],
        "-region": ["-region__name", "name"],
    }

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Name, other name (such as Hull) or code",
    )
    region = forms.ModelChoiceField(
        queryset=Region.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label="All regions",
        error_messages={"invalid_choice": "Choose a region from the list"},
    )
    sort = forms.ChoiceField(
        choices=[(key, key) for key in SORTS],
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Sort by name, code or region"},
    )

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions

    def filter(self, authorities):
        """Apply whatever is valid; a bad value is reported and ignored.
        Call after is_valid()."""
        data = self.cleaned_data
        authorities = authorities.search(data.get("q"))
        if data.get("region"):
            authorities = authorities.filter(region=data["region"])
        return authorities.order_by(*self.SORTS.get(data.get("sort") or "name"))


class WarningFilterForm(forms.Form):
    """The warnings page's filters (all optional): open or dealt with, kind,
    region, authority and since when. The kinds are every Kind there is, so
    a new kind of warning is a filter as soon as it exists."""

    status = forms.ChoiceField(
        label="Show",
        choices=Status.choices,
        required=False,
        error_messages={"invalid_choice": "Choose open or dealt with"},
    )
    kind = forms.ChoiceField(
        label="Kind of warning",
        required=False,
        error_messages={"invalid_choice": "Choose a kind of warning from the list"},
    )
    region = forms.ModelChoiceField(
        queryset=Region.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label="All regions",
        error_messages={"invalid_choice": "Choose a region from the list"},
    )
    authority = forms.ModelChoiceField(
        queryset=LocalAuthority.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label="All authorities",
        error_messages={"invalid_choice": "Choose an authority from the list"},
    )
    since = forms.DateField(
        label="Arisen since",
        required=False,
        widget=DateInput,
        error_messages={"invalid": "Enter a real date, for example 1 9 2026"},
    )

    def __init__(self, *args, regions, authorities, **kwargs):
        """`regions` and `authorities`: those in the person's scope (lists,
        so the form renders with no query of its own)."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "All kinds"), *sorted(Kind.choices, key=_by_severity)]
        self.fields["region"].queryset = Region.objects.filter(pk__in=[r.pk for r in regions])
        self.fields["region"].choices = [("", "All regions"), *((r.slug, r.name) for r in regions)]
        self.fields["authority"].queryset = LocalAuthority.objects.filter(
            pk__in=[a.pk for a in authorities]
        )
        self.fields["authority"].choices = [
            ("", "All authorities"),
            *((a.slug, a.name) for a in authorities),
        ]
        if len(regions) < 2:
            # One region (or an authority's people, who have no region
            # page): the authority says it all.
            del self.fields["region"]

    def chosen(self):
        """What to list, from the valid filters (a bad one is reported and
        ignored). Call after is_valid()."""
        data = self.cleaned_data
        return {
            "status": data.get("status") or Status.OPEN,
            "kinds": [Kind(data["kind"])] if data.get("kind") else None,
            "region": data.get("region"),
            "authority": data.get("authority"),
            "since": data.get("since"),
        }


def _by_severity(choice):
    return severity(Kind(choice[0]))


class DealtWithForm(forms.Form):
    """Mark a warning dealt with, saying how. Carries the cause the person
    was shown, so nobody marks a warning whose cause has changed since
    (a new instalment held back, the answer made serious again) unseen."""

    note = forms.CharField(
        label="What was done about it?",
        help_text="For example: raised at the Schools Forum on 3 March; the LNS is following "
        "it up. Everyone who can see the warning can read this.",
        max_length=NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Say what was done about it",
            "max_length": f"Say it in {NOTE_LENGTH:,} characters or fewer",
        },
    )
    cause = forms.CharField(widget=forms.HiddenInput, required=False, max_length=CAUSE_LENGTH)


class ReopenForm(forms.Form):
    """Reopen a warning marked dealt with, saying why (optional). Carries
    the version of the record shown."""

    reason = forms.CharField(
        label="Why reopen it? (optional)",
        required=False,
        max_length=NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"Say it in {NOTE_LENGTH:,} characters or fewer"},
    )
    base_version = BaseVersionField()


class NationalOfficeReportForm(forms.Form):
    """What to tell the national office about an authority: at least one of
    its concerns, members' figures, shared feedback or a note."""

    concerns = RecordsField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Concerns from the checklist",
        help_text="Select all that apply. Serious concerns are listed first.",
        error_messages={"invalid_choice": "Choose concerns from the list"},
    )
    members_figures = forms.BooleanField(
        required=False,
        label="Members' figures: submissions, waiting times and health and social care costs",
    )
    shared_feedback = forms.BooleanField(required=False)
    note = forms.CharField(
        label="Anything else the national office should know (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, concerns, shared_count, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concerns"].queryset = concerns
        self.fields["concerns"].label_from_instance = lambda answer: (
            f"{answer.get_concern_display()}: {answer.question.text} "
            f"({answer.assessment.plan.short_name})"
        )
        self.fields["shared_feedback"].label = (
            f"Feedback whose submitters agreed to share it ({shared_count} from the last "
            "year): what it says, never who gave it"
        )
        if not shared_count:
            del self.fields["shared_feedback"]

    def clean(self):
        data = super().clean()
        chosen = (
            data.get("concerns"),
            data.get("members_figures"),
            data.get("shared_feedback"),
            (data.get("note") or "").strip(),
        )
        if not any(chosen) and not self.errors:
            raise forms.ValidationError(
                "Choose what to tell the national office, or write a note", code="empty"
            )
        return data


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        max_length=200,
        help_text="Words from an authority's name, a plan, a meeting, an action or feedback",
        error_messages={
            "required": "Enter words to search for",
            "max_length": "Enter at most 200 characters",
        },
    )

    def clean_q(self):
        text = self.cleaned_data["q"].strip()
        if not any(ch.isalnum() for ch in text):
            raise forms.ValidationError("Enter words to search for")
        return text
