from django import forms
from django.core.validators import MaxLengthValidator

from authorities.edits import VersionedForm
from authorities.forms import (
    CountField,
    DateInput,
    EssentialsFirst,
    PoundsField,
    RecordsField,
)

from .models import (
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    ReformPlanDetails,
    Target,
    TargetUpdate,
    year_choices,
)

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


class PlanForm(EssentialsFirst, LimitedTextMixin, VersionedForm):
    """Record or change a plan's facts. A change of status keeps to the
    plan's lifecycle (Plan.NEXT_STATUSES); someone who may skip it
    (`may_skip_lifecycle`: national officers) may record any other change by
    saying why, and the reason is kept in the plan's history. The reason's
    field shows only when a change needs it: hidden until then, so the page
    works without JavaScript."""

    what = "plan"
    ESSENTIALS = (
        "programme",
        "round_or_tranche",
        "status",
        "skip_reason",
        "status_note",
        "status_source_url",
        "agreement_date",
    )
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


class OneToOneForm(VersionedForm):
    """A VersionedForm for a record a plan has at most one of (its reform
    details, its grant), which the first save creates. A form opened before
    there was one carries version 0, so that a save after someone else
    created it is refused as stale, like any other (plans.services)."""

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.plan = plan
        self.fields["base_version"].required = True
        self.initial.setdefault("base_version", 0)


class ReformPlanForm(LimitedTextMixin, OneToOneForm):
    what = "reform plan"

    class Meta:
        model = ReformPlanDetails
        fields = [
            "stage",
            "started_on",
            "draft_shared_on",
            "feedback_on",
            "submitted_on",
            "decided_on",
            "revised_on",
            "rating",
            "rated_on",
            "rating_source_url",
            "health_partner",
            "signed_by",
            "aim_early",
            "aim_local",
            "aim_fair",
            "aim_effective",
            "aim_shared",
            "special_school_capacity",
            "special_school_places_change",
            "ap_capacity",
            "ap_places_change",
            "capacity_evidence",
            "mainstream_investment",
            "mainstream_investment_evidence",
            "isp_readiness",
            "isp_evidence",
        ]
        field_classes = {
            "mainstream_investment": PoundsField,
            "special_school_places_change": CountField,
            "ap_places_change": CountField,
        }
        widgets = {
            **{name: DateInput() for name, _ in ReformPlanDetails.DATES},
            "rated_on": DateInput(),
            "stage": forms.RadioSelect,
            "rating": forms.RadioSelect,
            "special_school_capacity": forms.RadioSelect,
            "ap_capacity": forms.RadioSelect,
            "isp_readiness": forms.RadioSelect,
            "mainstream_investment": money_widget(),
            "special_school_places_change": forms.TextInput(
                attrs={"inputmode": "numeric", "class": "govuk-input--width-5"}
            ),
            "ap_places_change": forms.TextInput(
                attrs={"inputmode": "numeric", "class": "govuk-input--width-5"}
            ),
        }
        labels = {
            "aim_early": "Early: what the plan says",
            "aim_local": "Local: what the plan says",
            "aim_fair": "Fair: what the plan says",
            "aim_effective": "Effective: what the plan says",
            "aim_shared": "Shared: what the plan says",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("rating", "special_school_capacity", "ap_capacity", "isp_readiness"):
            # Blank is "not known": said in words, as a radio of its own.
            field = self.fields[name]
            field.choices = [("", "Not known"), *field.choices[1:]]
        self.fields["mainstream_investment"].localize = True

    # The page's parts: (heading, what to put there, fields).
    SECTIONS = (
        (
            "Where it stands with the DfE",
            "The DfE's steps, with the date of each that has happened.",
            ("stage", *(name for name, _ in ReformPlanDetails.DATES)),
        ),
        (
            "The DfE's rating",
            "The DfE's quality rating, when it was given and where it is written down.",
            ("rating", "rated_on", "rating_source_url"),
        ),
        ("Who shares it", "", ("health_partner", "signed_by")),
        (
            "Its aims: the five principles",
            "What the plan says it will do for each of the DfE's principles, in its words, "
            "with the page. Leave blank where it says nothing.",
            ("aim_early", "aim_local", "aim_fair", "aim_effective", "aim_shared"),
        ),
        (
            "What it proposes",
            "Its key proposals, each with the evidence: where the plan or its papers say so.",
            (
                "special_school_capacity",
                "special_school_places_change",
                "ap_capacity",
                "ap_places_change",
                "capacity_evidence",
                "mainstream_investment",
                "mainstream_investment_evidence",
                "isp_readiness",
                "isp_evidence",
            ),
        ),
    )

    def sections(self):
        return [
            (heading, intro, [self[name] for name in names])
            for heading, intro, names in self.SECTIONS
        ]


class GrantForm(EssentialsFirst, LimitedTextMixin, OneToOneForm):
    what = "grant"
    # The deficit written off first; its payment after.
    ESSENTIALS = ("eligible_deficit", "deficit_figure", "deficit_source_url", "remaining_plan")

    class Meta:
        model = HighNeedsStabilityGrant
        fields = [
            "eligible_deficit",
            "deficit_figure",
            "deficit_source_url",
            "remaining_plan",
            "due_on",
            "status",
            "amount_paid",
            "paid_on",
            "conditions",
            "note",
        ]
        field_classes = {"eligible_deficit": PoundsField, "amount_paid": PoundsField}
        widgets = {
            "eligible_deficit": money_widget(),
            "amount_paid": money_widget(),
            "deficit_figure": forms.RadioSelect,
            "status": forms.RadioSelect,
            "due_on": DateInput(),
            "paid_on": DateInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["deficit_figure"]
        field.choices = [("", "Not known"), *field.choices[1:]]
        self.fields["eligible_deficit"].help_text += (
            " The grant writes off 90% of it, worked out from this figure; the other 10% "
            "is the authority's to meet."
        )


class TargetForm(EssentialsFirst, LimitedTextMixin, VersionedForm):
    what = "target"
    # The recommendations it serves, a long list of boxes, come after.
    ESSENTIALS = ("description", "goal", "baseline", "target_value", "unit", "due_year")
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
