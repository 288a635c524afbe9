from django import forms
from django.core.validators import MaxLengthValidator

from authorities.edits import VersionedForm
from authorities.forms import DateInput, PoundsField, RecordsField

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


def label_of(status):
    return dict(Plan.Status.choices).get(status, status)


def status_list(statuses):
    """The statuses in words: “Negotiating”, “Diagnostic” or “Ended”."""
    names = [f"“{label_of(status)}”" for status in statuses]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


class PlanForm(LimitedTextMixin, VersionedForm):
    """Record or change a plan's facts. A change of status keeps to the
    plan's lifecycle (Plan.NEXT_STATUSES); someone who may skip it
    (`may_skip_lifecycle`: national officers) may record any other change by
    saying why, and the reason is kept in the plan's history. The reason's
    field shows only when a change needs it: hidden until then, so the page
    works without JavaScript."""

    what = "plan"
    first_year = YearField(label="First financial year")
    last_year = YearField(label="Last financial year")
    skip_reason = forms.CharField(
        label="Reason for skipping the usual order",
        help_text="Kept in the plan history, in 100 characters or fewer.",
        required=False,
        # django-simple-history keeps a change's reason in 100 characters.
        max_length=100,
        widget=forms.HiddenInput,
        error_messages={"max_length": "Say why in 100 characters or fewer"},
    )

    class Meta:
        model = Plan
        fields = [
            "programme",
            "round_or_tranche",
            "status",
            "skip_reason",
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

    def __init__(self, *args, authority, may_skip_lifecycle=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.authority = authority
        self.fields["programme"].queryset = Programme.objects.all()
        self.fields["programme"].empty_label = None
        self.fields["programme"].label_from_instance = lambda programme: programme.name
        self.fields["total_funding"].localize = True
        # The status as stored: a new plan may start at any status.
        self.saved_status = self.instance.status if self.instance.pk else None
        self.skips_lifecycle = False
        if self.saved_status:
            self.fields["status"].help_text = self.lifecycle_hint()
            if may_skip_lifecycle:
                self.fields[
                    "status"
                ].help_text += " As a national officer you may record another change, saying why."
        if not (self.saved_status and may_skip_lifecycle):
            del self.fields["skip_reason"]

    def lifecycle_hint(self):
        current = label_of(self.saved_status)
        following = Plan.next_statuses(self.saved_status)
        if not following:
            return f"A plan at “{current}” has reached the end of its lifecycle."
        return f"From “{current}” a plan moves on to {status_list(following)}."

    def clean(self):
        cleaned = super().clean()
        self.check_lifecycle(cleaned)
        # The form has no authority or revision field, so Django's own check
        # of the unique constraint would skip it: check here, not with a 500.
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

    def check_lifecycle(self, cleaned):
        """Refuse a change of status out of the lifecycle's order, unless the
        person may skip it and says why. Not checked when the form is out of
        date: the save is then refused as stale (authorities/edits.py), with
        what the other person changed, and the next save is checked against
        the status as it is now."""
        status = cleaned.get("status")
        if (
            not self.saved_status
            or not status
            or Plan.follows_lifecycle(self.saved_status, status)
            or cleaned.get("base_version") != self.instance.version
        ):
            # No reason needed, so none is kept, and a bad one (too long)
            # in a field not shown stops nothing.
            self.errors.pop("skip_reason", None)
            cleaned.pop("skip_reason", None)
            return
        current = label_of(self.saved_status)
        following = Plan.next_statuses(self.saved_status)
        if following:
            order = (
                f"“{label_of(status)}” does not follow “{current}” in the lifecycle of a "
                f"plan: from “{current}” it moves on to {status_list(following)}."
            )
        else:
            order = (
                f"A plan at “{current}” has reached the end of its lifecycle: "
                "its status does not change."
            )
        if "skip_reason" not in self.fields:
            ask = "Choose one of those, or ask" if following else "Ask"
            self.add_error("status", f"{order} {ask} a national officer to record this change.")
            return
        # Someone who may skip the order: the reason's field shows now.
        field = self.fields["skip_reason"]
        field.widget = forms.Textarea(attrs={"rows": 2})
        self.skips_lifecycle = True
        if not cleaned.get("skip_reason") and "skip_reason" not in self.errors:
            self.add_error("skip_reason", f"{order} To record it all the same, say why.")

    def change_reason(self):
        """Why the change skips the lifecycle, for the plan's history; None
        when it keeps to it. Call after is_valid()."""
        return self.cleaned_data["skip_reason"] if self.skips_lifecycle else None


class InstalmentForm(LimitedTextMixin, VersionedForm):
    what = "instalment"
    financial_year = YearField(label="Financial year", required=True, blank_label="Choose a year")

    class Meta:
        model = FundingInstalment
        fields = ["financial_year", "amount", "status", "amount_paid", "condition", "note"]
        # As people write amounts: "£1,500,000" is 1500000.
        field_classes = {"amount": PoundsField, "amount_paid": PoundsField}
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
