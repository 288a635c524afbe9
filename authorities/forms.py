import re
from decimal import Decimal

from allauth.account import forms as allauth_forms
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Q

from .access import Can
from .edits import VersionedForm
from .models import (
    FIRST_FINANCIAL_YEAR,
    LAST_FINANCIAL_YEAR,
    AuthorityFinance,
    Branch,
    Digest,
    LocalAuthority,
    MultiAcademyTrust,
)


class LoginForm(allauth_forms.LoginForm):
    """allauth's login form in GOV.UK style: visible labels, no placeholders
    (GOV.UK Frontend advises against them), reset link on the page not in a hint."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "E-mail address"
        for name in ("login", "password"):
            self.fields[name].widget.attrs.pop("placeholder", None)
        self.fields["password"].help_text = ""
        if "remember" in self.fields:
            self.fields["remember"].label = "Keep me signed in on this device"


class DateInput(forms.DateInput):
    """A browser's date picker. `<input type="date">` takes its value only as
    ISO 8601 ("2026-12-29"): in the locale's format ("29/12/2026") a browser
    shows the field blank and posts it blank, so a form opened and saved
    unchanged would erase the date. The one date widget every form uses."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or "%Y-%m-%d")

    def format_value(self, value):
        """A form sent back with errors shows what was sent: a date sent in
        another accepted format ("29/12/2026", from a link or a client other
        than a browser) is shown as ISO 8601, and text that is no date is
        left out (an invalid value; a browser would show the field blank,
        and the error message says what is wrong)."""
        if isinstance(value, str):
            try:
                value = forms.DateField().to_python(value)
            except ValidationError:
                return None
        return super().format_value(value)


class PoundsInput(forms.TextInput):
    """A text input with GOV.UK's "£" prefix. Text, not type="number", as
    GOV.UK Frontend advises; `inputmode` still brings up a number keypad."""

    template_name = "authorities/widgets/pounds_input.html"

    def __init__(self, attrs=None):
        defaults = {
            "inputmode": "decimal",
            "spellcheck": "false",
            "class": "govuk-input--width-10",
        }
        super().__init__({**defaults, **(attrs or {})})


class PoundsField(forms.DecimalField):
    """An amount in pounds as people type it: "£12,500,000" means 12500000."""

    widget = PoundsInput

    def prepare_value(self, value):
        # A saved amount shown to be changed: "42,100,000", not "42100000.00".
        if isinstance(value, Decimal):
            places = 0 if value == value.to_integral_value() else 2
            return f"{value:,.{places}f}"
        return value

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[£,\s]", "", value)
        return super().to_python(value)


class CountField(forms.IntegerField):
    """A count as people type it: "2,450" means 2450."""

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[,\s]", "", value)
        return super().to_python(value)


class RecordsField(forms.ModelMultipleChoiceField):
    """Records chosen by id (checkboxes). Django checks each posted id on its
    own, then reads them all with one `IN` query, which SQLite cannot run
    with an integer past 64 bits (OverflowError, a 500): an id no key could
    be is refused here as not a choice, before any query."""

    def clean(self, value):
        field = self.queryset.model._meta.pk
        low, high = connections[self.queryset.db].ops.integer_field_range(
            field.get_internal_type()
        )
        for pk in value if isinstance(value, (list, tuple)) else ():
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # Django's own check says this is not an id
            if (low is not None and number < low) or (high is not None and number > high):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super().clean(value)


class SourceURLField(forms.URLField):
    """A source's web address. Too long is said once: URLValidator would
    otherwise add "Enter a valid URL" past 2,048 characters."""

    def to_python(self, value):
        if value and self.max_length and len(value.strip()) > self.max_length:
            raise ValidationError(self.error_messages["max_length"], code="max_length")
        return super().to_python(value)


def _money_errors(figure):
    return {
        "invalid": f"Enter the {figure} as an amount in pounds, like 12500000",
        "max_digits": f"Enter the {figure} as an amount below £1 trillion",
        "max_whole_digits": f"Enter the {figure} as an amount below £1 trillion",
        "max_decimal_places": f"Enter the {figure} in pounds and pence, like 1250.50",
        "min_value": f"The {figure} must be £0 or more",
    }


_SOURCE_ERRORS = {
    "invalid": "Enter a web address, like https://www.example.gov.uk/schools-forum",
    "max_length": "Enter a web address of 500 characters or fewer",
}
_NUMBER = {"inputmode": "numeric", "spellcheck": "false", "autocomplete": "off"}


class EssentialsFirst:
    """A long form in two parts: `ESSENTIALS`, the fields people come to
    change most, then a save button, then the rest and the button again
    (templates/includes/form_in_two_parts.html). On a phone the first
    button is within two screens of the top (tests/browser/test_round_trip.py),
    so correcting one essential needs no scrolling past the rest. Either
    button saves the whole form."""

    ESSENTIALS = ()

    def essentials(self):
        """The essentials shown: a field hidden until needed (a plan's reason
        for skipping its lifecycle) is among the hidden fields until then."""
        return [
            self[name]
            for name in self.ESSENTIALS
            if name in self.fields and not self[name].is_hidden
        ]

    def details(self):
        return [field for field in self.visible_fields() if field.name not in self.ESSENTIALS]


class AuthorityFinanceForm(EssentialsFirst, VersionedForm):
    """One financial year's figures for one authority, each with its source.
    The instance must carry its authority: a year is recorded once per
    authority."""

    what = "year's figures"
    ESSENTIALS = ("financial_year", "dsg_cumulative_deficit", "dsg_cumulative_deficit_source_url")

    class Meta:
        model = AuthorityFinance
        fields = [
            "financial_year",
            *(name for pair in AuthorityFinance.FIGURES for name in pair),
        ]
        field_classes = {
            "dsg_cumulative_deficit": PoundsField,
            "high_needs_block_allocation": PoundsField,
            "schools_block_transfer": PoundsField,
            "ehcp_count": CountField,
            **{source: SourceURLField for _, source in AuthorityFinance.FIGURES},
        }
        widgets = {
            "financial_year": forms.TextInput(attrs={**_NUMBER, "class": "govuk-input--width-4"}),
            "ehcp_count": forms.TextInput(attrs={**_NUMBER, "class": "govuk-input--width-10"}),
            **{
                source: forms.URLInput(attrs={"spellcheck": "false"})
                for _, source in AuthorityFinance.FIGURES
            },
        }
        error_messages = {
            "financial_year": {
                "required": "Enter the year the financial year starts, like 2024",
                "invalid": "Enter the year as 4 digits, like 2024",
                "min_value": f"Enter a year from {FIRST_FINANCIAL_YEAR} to {LAST_FINANCIAL_YEAR}",
                "max_value": f"Enter a year from {FIRST_FINANCIAL_YEAR} to {LAST_FINANCIAL_YEAR}",
            },
            "dsg_cumulative_deficit": _money_errors("DSG cumulative deficit"),
            "high_needs_block_allocation": _money_errors("High Needs Block allocation"),
            "schools_block_transfer": _money_errors("block transfer"),
            "ehcp_count": {
                "invalid": "Enter the number of EHCPs as a whole number, like 2450",
                "min_value": "The number of EHCPs must be 0 or more",
                "max_value": "Enter a smaller number of EHCPs",
            },
            **{source: _SOURCE_ERRORS for _, source in AuthorityFinance.FIGURES},
        }

    def clean_financial_year(self):
        year = self.cleaned_data["financial_year"]
        others = AuthorityFinance.objects.filter(
            authority=self.instance.authority_id, financial_year=year
        ).exclude(pk=self.instance.pk)
        if others.exists():
            label = AuthorityFinance(financial_year=year).financial_year_label
            raise ValidationError(
                f"Figures for {label} are already recorded: change them from the authority page"
            )
        return year

    def clean(self):
        cleaned_data = super().clean()
        # The model's clean() judges the figures together (a source beside
        # each figure, at least one figure). A value this form refused (not a
        # number, not a web address) never reaches the instance, so the model
        # would see a blank and ask for what the person did type. Hand it the
        # typed text instead (the form is invalid, nothing is saved): one
        # message per mistake, not two.
        for name in (name for pair in AuthorityFinance.FIGURES for name in pair):
            if name in self.errors:
                setattr(self.instance, name, self.data.get(self.add_prefix(name)))
        return cleaned_data


class DigestForm(VersionedForm):
    """What a person's daily e-mail digest covers."""

    what = "digest setting"

    class Meta:
        model = Digest
        fields = ["covers"]
        widgets = {"covers": forms.RadioSelect}
        help_texts = {
            "covers": "Each morning, if anything happened the day before: new early "
            "warnings, meetings logged and plans changed. Nothing is sent on a quiet day."
        }


# Small checkboxes: an organiser's region has up to 33 authorities.
AUTHORITY_CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "govuk-checkboxes--small"})


class CoveringForm(EssentialsFirst, VersionedForm):
    """A MAT or a branch, with the authorities it covers: offered are those
    over which the person may record one (Can.RECORD_TRUSTS_AND_BRANCHES).
    Authorities it covers beyond them are not shown and stay as they are,
    so an organiser's save never drops another region's authority."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        offered = LocalAuthority.objects.where_user_may(user, Can.RECORD_TRUSTS_AND_BRANCHES)
        field = self.fields["authorities"]
        field.queryset = offered.order_by("name")
        # Ids only: the stored authorities are read once, here.
        self.kept = (
            set(self.instance.authorities.exclude(pk__in=offered).values_list("pk", flat=True))
            if self.instance.pk
            else set()
        )
        if self.kept:
            field.required = False
            field.help_text += (
                f" It also covers {len(self.kept)} authorities outside your area, "
                "which stay as they are."
            )
        field.error_messages["required"] = f"Choose at least one authority the {self.what} covers"

    def clean_authorities(self):
        # The whole set to store: what was chosen and what was not offered.
        chosen = self.cleaned_data["authorities"]
        if not self.kept:
            return chosen
        return LocalAuthority.objects.filter(Q(pk__in=chosen) | Q(pk__in=self.kept))


class TrustForm(CoveringForm):
    what = "trust"
    # Up to 153 authorities to tick follow, then the button again.
    ESSENTIALS = ("name", "mainstream_schools", "special_schools", "notes")

    class Meta:
        model = MultiAcademyTrust
        fields = ["name", "authorities", "mainstream_schools", "special_schools", "notes"]
        labels = {"name": "Name of the trust"}
        widgets = {
            "authorities": AUTHORITY_CHECKBOXES,
            "mainstream_schools": forms.TextInput(
                attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}
            ),
            "special_schools": forms.TextInput(
                attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}
            ),
        }
        field_classes = {
            "authorities": RecordsField,
            "mainstream_schools": CountField,
            "special_schools": CountField,
        }
        error_messages = {
            "mainstream_schools": {
                "invalid": "Enter the number of mainstream schools as a whole number, like 12",
                "min_value": "The number of mainstream schools must be 0 or more",
                "max_value": "Enter a number of mainstream schools below 32,768",
            },
            "special_schools": {
                "invalid": "Enter the number of special schools as a whole number, like 3",
                "min_value": "The number of special schools must be 0 or more",
                "max_value": "Enter a number of special schools below 32,768",
            },
            "name": {"required": "Enter the name of the trust"},
        }


class BranchForm(CoveringForm):
    what = "branch"
    ESSENTIALS = ("name",)

    class Meta:
        model = Branch
        fields = ["name", "authorities"]
        labels = {"name": "Name of the branch"}
        widgets = {
            "authorities": AUTHORITY_CHECKBOXES,
        }
        field_classes = {"authorities": RecordsField}
        error_messages = {"name": {"required": "Enter the name of the branch"}}
