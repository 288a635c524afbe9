"""The authority list's search form (the overview's and region page's
filters are django-filter sets, in filters.py)."""

from django import forms

from authorities.forms import RecordsField
from authorities.models import Region


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
