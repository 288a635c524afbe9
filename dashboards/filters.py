"""The overview table's filters, with django-filter.

Every filter is a GET parameter, so a filtered view is a link that can be
bookmarked and shared. A value that is not one of the choices is reported in
the form's error summary and ignored; the rest still apply.
"""

import calendar
import datetime

import django_filters
from django import forms
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from authorities.models import LocalAuthority
from consultations.models import Meeting, plans_agreed_without_consultation
from plans.models import Plan

RECENT_MONTHS = 6


def months_before(day, months):
    """The same day of the month `months` earlier (the month's last day when
    it is shorter: 31 August less 6 months is 28 or 29 February)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Only(models.TextChoices):
    """The "show only authorities with" options."""

    CONCERNS = "concerns", "A serious concern recorded on a plan"
    NOT_CONSULTED = "not_consulted", "A plan agreed without consultation"
    NO_RECENT_MEETING = (
        "no_recent_meeting",
        f"No meeting logged in the last {RECENT_MONTHS} months",
    )


class OverviewForm(forms.Form):
    """The filters' form, with the table's sort kept beside them (a hidden
    field: the column headings set it)."""

    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Sort the table by one of its columns"},
    )


class OverviewFilter(django_filters.FilterSet):
    """Which authorities the overview table shows.

    Plan filters look at each authority's current plans (those not replaced
    by a revision); programme and status must hold for the same plan.
    Meetings count only if the person may see them, like the table's "last
    meeting" column; "agreed without consultation" counts every meeting (see
    consultations.models.plans_agreed_without_consultation).
    """

    region = django_filters.ChoiceFilter(
        label="Region",
        empty_label="All regions",
        error_messages={"invalid_choice": "Choose a region from the list"},
    )
    programme = django_filters.ChoiceFilter(
        label="Programme",
        empty_label="Any programme",
        error_messages={"invalid_choice": "Choose a programme from the list"},
    )
    status = django_filters.ChoiceFilter(
        label="Plan status",
        choices=Plan.Status.choices,
        empty_label="Any status",
        error_messages={"invalid_choice": "Choose a plan status from the list"},
    )
    only = django_filters.MultipleChoiceFilter(
        label="Show only authorities with",
        choices=Only.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose from the options shown"},
    )

    class Meta:
        model = LocalAuthority
        fields = []  # only the filters declared above
        form = OverviewForm

    def __init__(self, data, queryset, *, user, regions, programmes, sorts, today=None):
        """`regions`: (slug, name) pairs to choose from, or None when the
        region is fixed (the region page). `programmes`: (code, name) pairs.
        `sorts`: the sort keys the table accepts. Pass lists, not querysets:
        the form then renders without a query."""
        super().__init__(data, queryset)
        self.user = user
        self.today = today or timezone.localdate()
        if regions is None:
            del self.filters["region"]
        else:
            self.filters["region"].extra["choices"] = regions
        self.filters["programme"].extra["choices"] = programmes
        self.form.fields["sort"].choices = [(key, key) for key in sorts]

    def filter_queryset(self, queryset):
        # One filter at a time would let programme and status be met by two
        # different plans: the plan filters are combined here instead.
        data = self.form.cleaned_data
        if data.get("region"):
            queryset = queryset.filter(region__slug=data["region"])
        plans = Plan.objects.for_user(self.user).current().filter(authority=OuterRef("pk"))
        matching = plans
        if data.get("programme"):
            matching = matching.filter(programme__code=data["programme"])
        if data.get("status"):
            matching = matching.filter(status=data["status"])
        if matching is not plans:
            queryset = queryset.filter(Exists(matching))
        only = set(data.get("only") or ())
        if Only.CONCERNS in only:
            queryset = queryset.filter(Exists(plans.with_serious_concerns()))
        if Only.NOT_CONSULTED in only:
            queryset = queryset.filter(Exists(plans_agreed_without_consultation(plans)))
        if Only.NO_RECENT_MEETING in only:
            recent = Meeting.objects.for_user(self.user).filter(
                authority=OuterRef("pk"), held_on__gte=self.recent_since
            )
            queryset = queryset.exclude(Exists(recent))
        return queryset

    @property
    def recent_since(self):
        """The first day of the last RECENT_MONTHS months."""
        return months_before(self.today, RECENT_MONTHS)

    def chosen(self):
        """The valid filters and sort as chosen, for the export record:
        {name: value}, blanks left out."""
        self.form.is_valid()  # cleaned_data holds the valid fields either way
        return {name: value for name, value in self.form.cleaned_data.items() if value}

    def description(self):
        """The valid filters in words ("Region: London; …"), "" for none."""
        chosen = self.chosen()
        parts = []
        for name, filter_ in self.filters.items():
            if name in chosen:
                labels = dict(filter_.extra["choices"])
                values = chosen[name] if isinstance(chosen[name], list) else [chosen[name]]
                parts.append(f"{filter_.label}: {', '.join(str(labels[v]) for v in values)}")
        return "; ".join(parts)
