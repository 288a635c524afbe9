from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.text import capfirst

from authorities.edits import VersionedForm, same_text
from authorities.forms import DateInput
from authorities.models import LocalAuthority, Region
from plans.forms import TEXT_LIMIT, LimitedTextMixin

from .identifying import looks_identifying, place_words
from .models import (
    MAX_PEOPLE,
    MAX_WAIT_WEEKS,
    PRACTICE_EXAMPLES,
    Barrier,
    FeedbackEvidence,
    FeedbackSubmission,
    Phase,
    Practice,
    Pressure,
)


def checkboxes(choices, label, help_text="", *, error_messages=None, **kwargs):
    return forms.MultipleChoiceField(
        label=label,
        choices=choices.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
        error_messages={"invalid_choice": "Choose from the list", **(error_messages or {})},
        **kwargs,
    )


def weeks(label):
    message = f"Enter a number of weeks from 0 to {MAX_WAIT_WEEKS}, or leave it blank"
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_WAIT_WEEKS,
        help_text="Whole weeks. Leave blank if not known.",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "class": "govuk-input--width-4", "spellcheck": "false"}
        ),
        error_messages={
            "invalid": "Enter the number of weeks as a whole number, like 20",
            "min_value": message,
            "max_value": message,
        },
    )


class SubmissionForm(LimitedTextMixin, VersionedForm):
    """The feedback form. If any text looks as if it could identify a child
    or a colleague (identifying.py), the form comes back once with a warning,
    and saves only when the person ticks that they have checked.

    What must be answered is what the fields require: the labels of the
    others say "(optional)", and the page's introduction lists the required
    ones from MUST_ANSWER (must_answer()), so neither can drift from the rules.
    """

    what = "feedback"
    CONFIRM = "confirm_not_identifiable"
    TEXT_FIELDS = (
        "pressures_other",
        "working_well",
        "barriers_other",
        *PRACTICE_EXAMPLES.values(),
    )
    SECTIONS = (
        ("About the feedback", ("source", "phases", "people_count", "meeting_date")),
        ("Pressures schools face", ("pressures", "pressures_other")),
        ("What is working well", ("working_well",)),
        ("Barriers to assessment and support", ("barriers", "barriers_other")),
        ("Waiting times", ("assessment_wait_weeks", "support_wait_weeks")),
        ("Health and social care", ("health_care_costs",)),
        ("Practices that are likely to be unlawful", ("practices", *PRACTICE_EXAMPLES.values())),
        # The briefing's section 7; late in the form, as few ever need it.
        ("Multi-academy trust", ("trust",)),
        ("Sharing with the national office", ("consent_to_share",)),
    )
    # How the introduction names each required question, in the form's order.
    MUST_ANSWER = {
        "source": "who the feedback is from",
        "phases": "which setting phases it covers",
        "people_count": "how many people it speaks for",
        "meeting_date": "the date of the meeting",
        "health_care_costs": "whether health and social care meet the costs agreed in EHCPs",
    }

    phases = checkboxes(
        Phase,
        "Setting phases",
        "Select all that the feedback covers.",
        error_messages={"required": "Select at least one setting phase"},
    )
    people_count = forms.IntegerField(
        label="How many people does it speak for?",
        min_value=1,
        max_value=MAX_PEOPLE,
        help_text="A meeting of 12 SENCOs is one submission that speaks for 12 people.",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "class": "govuk-input--width-4", "spellcheck": "false"}
        ),
        error_messages={
            "required": "Enter how many people the feedback speaks for",
            "invalid": "Enter how many people as a whole number, like 12",
            "min_value": f"Enter a number of people from 1 to {MAX_PEOPLE}",
            "max_value": f"Enter a number of people from 1 to {MAX_PEOPLE}",
        },
    )
    pressures = checkboxes(Pressure, "Pressures", "Select all that apply.", required=False)
    barriers = checkboxes(
        Barrier,
        "Barriers",
        "What gets in the way of assessments and support? Select all that apply.",
        required=False,
    )
    assessment_wait_weeks = weeks("Typical wait for an EHC needs assessment, in weeks")
    support_wait_weeks = weeks("Typical wait for support to start, in weeks")
    practices = checkboxes(
        Practice,
        "Practices reported",
        "The briefing says these are likely to be unlawful. Tick any that members have met: "
        "the national office is e-mailed which, where and what you write about them, "
        "without your name.",
        required=False,
    )
    confirm_not_identifiable = forms.BooleanField(
        label="I have checked: no child or colleague can be identified",
        required=False,
    )

    class Meta:
        model = FeedbackSubmission
        fields = [
            "source",
            "phases",
            "trust",
            "people_count",
            "meeting_date",
            "pressures",
            "pressures_other",
            "working_well",
            "barriers",
            "barriers_other",
            "assessment_wait_weeks",
            "support_wait_weeks",
            "health_care_costs",
            "practices",
            *PRACTICE_EXAMPLES.values(),
            "consent_to_share",
        ]
        labels = {
            "source": "Who is the feedback from?",
            "meeting_date": "Date of the meeting",
            "health_care_costs": "Do health and social care meet the costs agreed in EHCPs?",
            "consent_to_share": "The national office may use this feedback, without names, "
            "in its reports and campaigning",
        }
        help_texts = {
            "meeting_date": "For feedback from one member, the date they gave it.",
            "working_well": "Practice, services or support worth keeping.",
        }
        widgets = {
            "source": forms.RadioSelect,
            "health_care_costs": forms.RadioSelect,
            "meeting_date": DateInput(attrs={"class": "govuk-input--width-10"}),
        }
        error_messages = {
            "source": {"required": "Select who the feedback is from"},
            "meeting_date": {
                "required": "Enter the date of the meeting",
                "invalid": "Enter the date of the meeting as a real date, like 12/03/2026",
            },
            "health_care_costs": {
                "required": "Select whether health and social care meet the costs agreed in "
                "EHCPs (or “Not known”)"
            },
        }

    def __init__(self, *args, authority, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.authority = authority
        for field in self.fields.values():
            for validator in field.validators:
                if isinstance(validator, MaxLengthValidator):
                    validator.message = (
                        f"{capfirst(field.label)} must be {TEXT_LIMIT:,} characters or fewer "
                        "(it has %(show_value)d): shorten it"
                    )
        for practice, name in PRACTICE_EXAMPLES.items():
            field = self.fields[name]
            field.label = f"Example: {practice.label[0].lower()}{practice.label[1:]}"
            field.help_text = "What happened, without names. Tick the practice above too."
            field.widget.attrs["rows"] = 3
        self.fields["health_care_costs"].choices = self.fields["health_care_costs"].choices[1:]
        self.fields["source"].choices = self.fields["source"].choices[1:]
        # The briefing's section 7: feedback about one trust's schools.
        trust = self.fields["trust"]
        trust.queryset = authority.trusts.order_by("name")
        trust.empty_label = "Not about one trust"
        trust.label = "Is the feedback about the schools of one multi-academy trust?"
        # The questions as asked, for the warning to name (without "(optional)").
        self.asked = {name: field.label for name, field in self.fields.items()}
        for name in self.asked_names():
            field = self.fields[name]
            # A single checkbox left unticked is an answer ("no"), not a gap.
            if not field.required and not isinstance(field, forms.BooleanField):
                field.label = f"{field.label} (optional)"
        # The confirmation is asked for only when the text needs checking:
        # text saved before (and so checked then) is not asked about again.
        self._places = None
        self.identifying = [
            name
            for name in self.TEXT_FIELDS
            if self.is_bound
            and self._looks_identifying(typed := self.data.get(self.add_prefix(name), ""))
            and not same_text(typed, getattr(self.instance, name, None) or "")
        ]
        if not self.identifying:
            del self.fields[self.CONFIRM]

    def _looks_identifying(self, text):
        # The places are read only for text that would otherwise warn:
        # knowing them can only take a warning away ("Camden in Year 6").
        if not looks_identifying(text):
            return False
        if self._places is None:
            self._places = place_words()
        return looks_identifying(text, self._places)

    def clean(self):
        cleaned = super().clean()
        if self.identifying and not cleaned.get(self.CONFIRM):
            self.add_error(
                self.CONFIRM,
                "Remove names, dates of birth and pupil numbers, or tick to confirm that "
                "no child or colleague can be identified",
            )
        return cleaned

    def sections(self):
        """(heading, bound fields) in the order the form asks them."""
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def asked_names(self):
        return [name for _, names in self.SECTIONS for name in names]

    def must_answer(self):
        """The required questions, as the introduction lists them: "who the
        feedback is from, …, and whether …". A required field missing from
        MUST_ANSWER is a KeyError, so the page cannot leave one out."""
        said = [
            self.MUST_ANSWER[name] for name in self.asked_names() if self.fields[name].required
        ]
        return f"{', '.join(said[:-1])} and {said[-1]}" if len(said) > 1 else "".join(said)

    def identifying_labels(self):
        return [self.asked[name] for name in self.identifying]


class EvidenceForm(LimitedTextMixin, forms.ModelForm):
    """Link one of the authority's submissions to a checklist question."""

    submission = forms.ModelChoiceField(
        queryset=FeedbackSubmission.objects.none(),
        label="Which feedback?",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Select the feedback to link",
            "invalid_choice": "Select feedback from the list",
        },
    )

    class Meta:
        model = FeedbackEvidence
        fields = ["submission", "stance", "point"]
        labels = {"stance": "Does it support or contradict what the plan says?"}
        widgets = {"stance": forms.RadioSelect}
        error_messages = {"stance": {"required": "Select whether it supports or contradicts"}}

    def __init__(self, *args, submissions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submission"].queryset = submissions
        self.fields["submission"].label_from_instance = lambda s: (
            f"{s.get_source_display()}, {s.meeting_date:%-d %B %Y}, speaking for {s.people_count}"
        )
        self.fields["stance"].choices = self.fields["stance"].choices[1:]


class FilterForm(forms.Form):
    """Which submissions to list or export (all optional)."""

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

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.for_user(user)
        if regions.exists():
            self.fields["region"].queryset = regions
        else:
            del self.fields["region"]  # they cover authorities, not regions
        self.fields["authority"].queryset = LocalAuthority.objects.for_user(user)

    def filter(self, submissions):
        """Apply whatever is valid; call after is_valid()."""
        data = self.cleaned_data
        if data.get("region"):
            submissions = submissions.filter(authority__region=data["region"])
        if data.get("authority"):
            submissions = submissions.filter(authority=data["authority"])
        return submissions

    def description(self):
        """The filter as applied, for the export's record."""
        return {
            name: value.slug
            for name in ("region", "authority")
            if (value := self.cleaned_data.get(name))
        }
