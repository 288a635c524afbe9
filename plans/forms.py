from django import forms
from django.core.validators import MaxLengthValidator

from authorities.edits import VersionedForm
from authorities.forms import DateInput, RecordsField

from .models import FundingInstalment, Plan, Programme, Target, TargetUpdate, year_choices

# Long enough for any real note, short enough that a runaway paste is a form
# error rather than megabytes in the database.
TEXT_LIMIT = 20_000


class LimitedTextMixin:
    """Give every text field without a limit the project's limit, so the
    error is a clear message on the field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and field.max_length is None:
                field.max_length = TEXT_LIMIT
                field.validators.append(MaxLengthValidator(TEXT_LIMIT))
                if isinstance(field.widget, forms.Textarea):
                    field.widget.attrs["rows"] = 5


class YearField(forms.TypedChoiceField):
    """A financial year picked from a list ("2024-25"), stored as 2024."""

    def __init__(self, *, blank_label="Not known", **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(
            choices=[("", blank_label), *year_choices()], coerce=int, empty_value=None, **kwargs
        )


def money_widget():
    return forms.TextInput(
        attrs={"inputmode": "decimal", "class": "govuk-input--width-10", "spellcheck": "false"}
    )


class PlanForm(LimitedTextMixin, VersionedForm):
    what = "plan"
    first_year = YearField(label="First financial year")
    last_year = YearField(label="Last financial year")

    class Meta:
        model = Plan
        fields = [
            "programme",
            "round_or_tranche",
            "status",
            "status_note",
            "status_source_url",
            "agreement_date",
            "first_year",
            "last_year",
            "total_funding",
            "document_url",
            "summary",
            "sources",
            "verified",
        ]
        widgets = {"agreement_date": DateInput(), "total_funding": money_widget()}

    def __init__(self, *args, authority, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.authority = authority
        self.fields["programme"].queryset = Programme.objects.all()
        self.fields["programme"].empty_label = None
        self.fields["programme"].label_from_instance = lambda programme: programme.name
        self.fields["total_funding"].localize = True

    def clean(self):
        # The form has no authority or revision field, so Django's own check
        # of the unique constraint would skip it: check here, not with a 500.
        cleaned = super().clean()
        duplicate = Plan.objects.filter(
            authority=self.instance.authority,
            programme=cleaned.get("programme"),
            round_or_tranche=cleaned.get("round_or_tranche", ""),
            revision=self.instance.revision,
        ).exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise forms.ValidationError(
                "This authority already has a plan for this programme and round. "
                "Change that plan, or give this one a different round or tranche."
            )
        return cleaned


class InstalmentForm(LimitedTextMixin, VersionedForm):
    what = "instalment"
    financial_year = YearField(label="Financial year", required=True, blank_label="Choose a year")

    class Meta:
        model = FundingInstalment
        fields = ["financial_year", "amount", "status", "amount_paid", "condition", "note"]
        widgets = {"amount": money_widget(), "amount_paid": money_widget()}

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.plan = plan


class TargetForm(LimitedTextMixin, VersionedForm):
    what = "target"
    due_year = YearField(label="Due by financial year")

    class Meta:
        model = Target
        fields = [
            "description",
            "goal",
            "recommendations",
            "baseline",
            "target_value",
            "unit",
            "due_year",
        ]
        field_classes = {"recommendations": RecordsField}
        widgets = {
            "recommendations": forms.CheckboxSelectMultiple,
            "goal": forms.RadioSelect,
            "baseline": money_widget(),
            "target_value": money_widget(),
        }

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.plan = plan


class TargetUpdateForm(LimitedTextMixin, forms.ModelForm):
    class Meta:
        model = TargetUpdate
        fields = ["recorded_on", "status", "value", "reason"]
        widgets = {
            "recorded_on": DateInput(),
            "status": forms.RadioSelect,
            "value": money_widget(),
        }

    def __init__(self, *args, target, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.target = target
        self.instance.recorded_by = user


class PlanFilterForm(forms.Form):
    """The plan list's filters (all optional)."""

    programme = forms.ModelChoiceField(
        queryset=Programme.objects.all(),
        required=False,
        to_field_name="code",
        empty_label="All programmes",
        error_messages={"invalid_choice": "Choose a programme from the list"},
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Plan.Status.choices],
        required=False,
        error_messages={"invalid_choice": "Choose a status from the list"},
    )
    region = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="slug",
        empty_label="All regions",
        error_messages={"invalid_choice": "Choose a region from the list"},
    )

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions

    def filter(self, plans):
        """Apply whatever is valid. Call after is_valid()."""
        data = self.cleaned_data
        if data.get("programme"):
            plans = plans.filter(programme=data["programme"])
        if data.get("status"):
            plans = plans.filter(status=data["status"])
        if data.get("region"):
            plans = plans.filter(authority__region=data["region"])
        return plans
