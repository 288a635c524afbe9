"""Forms for answering the checklist: the answer itself, its evidence links,
comments, and confirming an answer carried forward from a previous revision."""

from django import forms
from django.core.validators import MaxLengthValidator

from authorities.forms import EssentialsFirst

from .models import Answer, Comment, EvidenceLink

# Long enough for a page of notes or a pasted extract of minutes; a longer
# document belongs in an evidence link.
TEXT_LIMIT = 20_000


def limited(what):
    return MaxLengthValidator(
        TEXT_LIMIT,
        message=f"{what} must be 20,000 characters or fewer (it has %(show_value)d): "
        "shorten it, or add the document as an evidence link instead",
    )


class BaseVersionField(forms.IntegerField):
    """The answer's version when the form was shown (0: no answer yet), so a
    save that started from an older version is refused, not overwritten."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(
            min_value=0,
            error_messages={
                "required": "The page was out of date: open the question again and resubmit",
                "invalid": "The page was out of date: open the question again and resubmit",
                "min_value": "The page was out of date: open the question again and resubmit",
            },
            **kwargs,
        )


class AnswerForm(EssentialsFirst, forms.Form):
    # The answer and how worrying it is; the evidence and notes after.
    ESSENTIALS = ("response", "concern")
    response = forms.ChoiceField(
        label="Answer",
        choices=Answer.Response.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select an answer"},
    )
    concern = forms.ChoiceField(
        label="Level of concern",
        choices=Answer.Concern.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the level of concern"},
    )
    evidence = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=Answer._meta.get_field("evidence").help_text,
        validators=[limited("Evidence")],
    )
    private_notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=Answer._meta.get_field("private_notes").help_text,
        validators=[limited("Private notes")],
    )
    base_version = BaseVersionField()

    def __init__(self, *args, private_notes=True, link=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not private_notes:
            # Not shown, and not saved: save_answer leaves a field it is not
            # given as it was.
            del self.fields["private_notes"]
        # An evidence link typed with the answer is saved with it: in a form
        # of its own, a link typed before pressing "Save answer" was lost.
        # `link`: whether the person may add links (every editor may).
        self.link_form = (
            EvidenceLinkForm(self.data if self.is_bound else None, prefix="link", optional=True)
            if link
            else None
        )

    def is_valid(self):
        # Both checked, whatever the first says: the errors of each are shown
        # at once, with what was typed in the other kept.
        valid = super().is_valid()
        return (self.link_form is None or self.link_form.is_valid()) and valid

    @classmethod
    def initial_for(cls, answer):
        if answer is None:
            return {"base_version": 0}
        return {
            "response": answer.response,
            "concern": answer.concern,
            "evidence": answer.evidence,
            "private_notes": answer.private_notes,
            "base_version": answer.version,
        }

    def answer_data(self):
        """The cleaned fields save_answer takes (call after is_valid())."""
        return {k: v for k, v in self.cleaned_data.items() if k != "base_version"}

    def new_link(self):
        """The evidence link typed with the answer, unsaved; None if its
        fields were left blank (call after is_valid())."""
        return self.link_form.new_link() if self.link_form else None


class EvidenceLinkForm(forms.ModelForm):
    """An evidence link, added on its own, or (`optional`) typed with the
    answer: left blank, it adds nothing; half typed, it is refused."""

    class Meta:
        model = EvidenceLink
        fields = ["url", "title", "location"]
        labels = {"title": "Title (optional)", "location": "Page or paragraph (optional)"}
        help_texts = {"url": "The web address of the plan, minutes or report."}
        error_messages = {
            "url": {
                "required": "Enter the link",
                "invalid": "Enter the link as a web address, like https://www.example.org/plan.pdf",
                "max_length": "The link must be 500 characters or fewer",
            },
            "title": {"max_length": "The title must be 200 characters or fewer"},
            "location": {
                "max_length": "The page or paragraph must be 60 characters or fewer",
            },
        }

    def __init__(self, *args, optional=False, **kwargs):
        # Optional, it is not marked required to assistive technology either.
        super().__init__(*args, use_required_attribute=not optional, **kwargs)
        # As a formset's extra form: fields left blank are no link, with
        # nothing to check.
        self.empty_permitted = optional

    def new_link(self):
        """The link typed, unsaved; None if the fields were left blank (call
        after is_valid())."""
        return self.instance if self.has_changed() else None


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["text"]
        labels = {"text": "Comment"}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"text": {"required": "Enter your comment"}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].validators.append(limited("A comment"))


class ConfirmForm(forms.Form):
    base_version = BaseVersionField()
