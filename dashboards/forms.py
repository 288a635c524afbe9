"""The authority list's search form (the overview's and region page's
filters are django-filter sets, in filters.py)."""

from django import forms

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
