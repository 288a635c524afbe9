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
from official.comparisons import REFUSED, WITHIN_20_WEEKS, above_england_and_rising, below_england
from plans.models import REFORM_PROGRAMME, HighNeedsStabilityGrant, Plan, ReformPlanDetails

RECENT_MONTHS = 6
# Plans past their agreement: those whose agreement date decides whether
# the union was consulted before it (an ended plan may never have been
# agreed, and one not yet agreed has nothing to check).
AGREED_STATUSES = (
    Plan.Status.AGREED,
    Plan.Status.IMPLEMENTATION,
    Plan.Status.UNDER_REVIEW,
    Plan.Status.COMPLETED,
)


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
    NO_REFORM_SUBMITTED = "no_reform_submitted", "No local SEND reform plan submitted to the DfE"
    NOT_MET = "not_met", "A reform plan rated “requirements not met”"
    GRANT_WITHHELD = "grant_withheld", "The stability grant withheld (in full or in part)"
    BELOW_20_WEEKS = (
        "below_england_20_weeks",
        "EHC plans issued within 20 weeks below England's rate (latest year)",
    )
    REFUSALS_RISING = (
        "refusals_above_england_rising",
        "Requests refused an assessment above England's rate and rising (latest year)",
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
    consultations.models.plans_agreed_without_consultation), and cannot
    list a plan with no agreement date (the overview counts those).
    Official figures compare the latest year's with England's
    (official.comparisons): a figure not known matches neither way.
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
        self.regions, self.programmes = regions, programmes
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
            # A meeting planned, not yet held, is no engagement yet.
            recent = (
                Meeting.objects.for_user(self.user)
                .held()
                .filter(authority=OuterRef("pk"), held_on__gte=self.recent_since)
            )
            queryset = queryset.exclude(Exists(recent))
        if Only.NO_REFORM_SUBMITTED in only:
            # A reform plan with no stage recorded counts as not submitted.
            submitted = plans.filter(
                programme__code=REFORM_PROGRAMME, reform__isnull=False
            ).exclude(reform__stage__in=ReformPlanDetails.NOT_SUBMITTED)
            queryset = queryset.exclude(Exists(submitted))
        # The early warnings' rules (plans.models), on current plans.
        current = Plan.objects.current()
        if Only.NOT_MET in only:
            not_met = ReformPlanDetails.objects.requirements_not_met().filter(
                plan__authority=OuterRef("pk"), plan__in=current
            )
            queryset = queryset.filter(Exists(not_met))
        if Only.GRANT_WITHHELD in only:
            held_back = HighNeedsStabilityGrant.objects.held_back().filter(
                plan__authority=OuterRef("pk")
            )
            queryset = queryset.filter(Exists(held_back))
        if Only.BELOW_20_WEEKS in only:
            queryset = queryset.filter(below_england(WITHIN_20_WEEKS))
        if Only.REFUSALS_RISING in only:
            queryset = queryset.filter(above_england_and_rising(REFUSED))
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
