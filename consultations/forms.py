from django import forms
from django.db.models import Exists, OuterRef, Q
from django.forms.utils import ErrorDict

from authorities.access import NATIONAL_ROLES, Can
from authorities.edits import VersionedForm, edited_values
from authorities.forms import DateInput, PoundsField, RecordsField
from authorities.models import Membership, User
from plans.forms import LimitedTextMixin, YearField

from .models import (
    Action,
    BlockTransfer,
    Forum,
    Meeting,
    MeetingQuestion,
    SchoolsForumOutcome,
    YesNo,
    starter_due_date,
)

SMALL_RADIOS = {"class": "govuk-radios--small"}
INLINE_RADIOS = {"class": "govuk-radios--inline govuk-radios--small"}
COUNT = {"inputmode": "numeric", "class": "govuk-input--width-4", "spellcheck": "false"}


class MeetingForm(LimitedTextMixin, VersionedForm):
    """The meeting itself: what matters first (which meeting, when, and was
    the union invited, there and consulted), then everything optional."""

    what = "meeting"
    UNION_QUESTIONS = {
        "union_invited": "Say whether the union was invited",
        "union_attended": "Say whether the union attended",
        "union_consulted": "Say whether the union was consulted before the decision",
    }

    class Meta:
        model = Meeting
        fields = [
            "status",
            "forum",
            "title",
            "held_on",
            "union_invited",
            "union_attended",
            "union_consulted",
            "plan",
            "plan_draft",
            "branch",
            "trust",
            "agenda",
            "papers",
            "attending",
            "attendees",
            "summary",
            "decisions",
            "next_steps",
            "minutes_url",
            "minutes_page",
            "confidential",
        ]
        widgets = {
            "status": forms.RadioSelect(attrs=SMALL_RADIOS),
            "forum": forms.RadioSelect(attrs=SMALL_RADIOS),
            "held_on": DateInput(attrs={"class": "govuk-input--width-10"}),
            "agenda": forms.Textarea,
            "papers": forms.Textarea,
            "attending": forms.CheckboxSelectMultiple(attrs={"class": "govuk-checkboxes--small"}),
            "union_invited": forms.RadioSelect(attrs=INLINE_RADIOS),
            "union_attended": forms.RadioSelect(attrs=INLINE_RADIOS),
            "union_consulted": forms.RadioSelect(attrs=INLINE_RADIOS),
            "summary": forms.Textarea,
            "decisions": forms.Textarea,
            "next_steps": forms.Textarea,
        }
        # An id no key could be is refused as not a choice, never a 500.
        field_classes = {"attending": RecordsField}
        error_messages = {
            "forum": {"required": "Choose which meeting it was"},
            "held_on": {
                "required": "Enter the date of the meeting",
                "invalid": "Enter the date of the meeting as a real date, like 14 3 2026",
            },
        }

    # Asked first, on one screen of a phone; the rest is optional.
    ESSENTIALS = (
        "status",
        "forum",
        "title",
        "held_on",
        "union_invited",
        "union_attended",
        "union_consulted",
    )
    # A planned meeting asks up front which plan it concerns: whether it
    # can count as consultation on a plan depends on it.
    PLANNED_ESSENTIALS = ("status", "forum", "title", "held_on", "plan")
    # Only a meeting that has taken place can say these; a planned one
    # keeps "Not known" until it is held.
    AFTER_THE_MEETING = ("union_attended", "union_consulted", "summary", "decisions")

    def __init__(self, *args, authority, user, access=None, planning=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.authority = authority
        new = not self.instance.pk
        if new:
            self.instance.created_by = user
            # Ask, rather than preselect "Not known": these three answers are
            # what organisers read across a region.
            for name in self.UNION_QUESTIONS:
                self.initial.pop(name, None)
        for name, message in self.UNION_QUESTIONS.items():
            self.fields[name].error_messages["required"] = message
        # A meeting is planned from "Plan a meeting" and stays planned until
        # someone says it took place; a held meeting is not planned again.
        self.planned = planning if new else self.instance.is_planned
        if new:
            self.instance.status = Meeting.Status.PLANNED if planning else Meeting.Status.HELD
            del self.fields["status"]
        elif not self.instance.is_planned:
            del self.fields["status"]
        else:
            self.fields["status"].label = "Has the meeting taken place?"
            self.fields["status"].help_text = (
                "Once it has, say what happened: the union's part, the outcome and the "
                "answers to the questions you put."
            )
        if self.planned:
            if new:
                for name in self.AFTER_THE_MEETING:
                    del self.fields[name]
            # Not known until the meeting: asked, not required, until it is
            # marked as held (clean()). "Not known" stored is not preselected.
            for name in self.UNION_QUESTIONS:
                if name in self.fields:
                    self.fields[name].required = False
                    if self.initial.get(name) == YesNo.NOT_KNOWN:
                        self.initial.pop(name)
            self.fields["attendees"].label = "Anyone else going for the union"
            self.fields["attendees"].help_text = "Names, for people not listed above."
        self.fields["forum"].choices = Forum.choices
        plan = self.fields["plan"]
        plan.queryset = authority.plans.select_related("programme")
        plan.empty_label = "Not about a particular plan"
        plan.label = "Which plan is it about?" if self.planned else "Which plan was discussed?"
        if self.planned:
            plan.help_text = (
                "A meeting about a plan, held before the plan was agreed with the union "
                "consulted, counts as consultation on it."
            )
        # The briefing's section 7: a branch's own meeting, and meetings with
        # or about a multi-academy trust; only those covering this authority.
        branch = self.fields["branch"]
        branch.queryset = authority.branches.order_by("name")
        branch.empty_label = "Not a branch meeting"
        trust = self.fields["trust"]
        trust.queryset = authority.trusts.order_by("name")
        trust.empty_label = "Not about a particular trust"
        attending = self.fields["attending"]
        attending.queryset = people_covering(authority)
        attending.label_from_instance = lambda person: person.name_with_roles
        if access is not None and not access.may(Can.SEE_CONFIDENTIAL_MEETINGS):
            # They could not see it again: a meeting they mark confidential
            # would vanish from their own lists.
            del self.fields["confidential"]

    def clean(self):
        cleaned = super().clean()
        if "status" in self.fields and cleaned.get("status") == Meeting.Status.HELD:
            for name, message in self.UNION_QUESTIONS.items():
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, message)
        elif self.planned:
            for name in self.UNION_QUESTIONS:
                if name in self.fields and not cleaned.get(name):
                    cleaned[name] = YesNo.NOT_KNOWN
                    setattr(self.instance, name, YesNo.NOT_KNOWN)
        return cleaned

    def essentials(self):
        if not self.planned:
            names = self.ESSENTIALS
        elif "status" in self.fields:
            # A planned meeting opened again, perhaps to say it took place.
            names = (*self.ESSENTIALS, "plan")
        else:
            names = self.PLANNED_ESSENTIALS
        return [self[name] for name in names if name in self.fields]

    def details(self):
        shown = {field.name for field in self.essentials()}
        return [field for field in self.visible_fields() if field.name not in shown]


class OptionalPartMixin:
    """A part of the meeting form that may be left as it comes: then it
    records nothing, and is valid without errors. `DEFAULTS` are the values
    the radios come with, which do not count as input; `CONFIRMATIONS` are
    the boxes ticked in answer to the form's own questions, which do not
    either."""

    DEFAULTS = {}
    CONFIRMATIONS = ()

    def has_input(self):
        for name in self.fields:
            if name in self.CONFIRMATIONS:
                continue
            value = (self.data.get(self.add_prefix(name)) or "").strip()
            if value and value != self.DEFAULTS.get(name):
                return True
        return False

    def full_clean(self):
        if self.is_bound and not self.has_input():
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()


class SchoolsForumOutcomeForm(OptionalPartMixin, LimitedTextMixin, forms.ModelForm):
    """The Schools Forum's answers; left as it comes, nothing is recorded."""

    prefix = "forum"
    DEFAULTS = {"funding_on_agenda": YesNo.NOT_KNOWN, "proposals_discussed": YesNo.NOT_KNOWN}

    class Meta:
        model = SchoolsForumOutcome
        fields = [
            "funding_on_agenda",
            "proposals_discussed",
            "extra_funding",
            "extra_funding_amount",
            "extra_funding_source",
            "dsg_transfer",
            "dsg_transfer_amount",
            "dsg_transfer_source",
            "nhs_contribution",
            "nhs_contribution_amount",
            "nhs_contribution_source",
        ]
        widgets = {
            "funding_on_agenda": forms.RadioSelect(attrs=INLINE_RADIOS),
            "proposals_discussed": forms.RadioSelect(attrs=INLINE_RADIOS),
        }
        field_classes = {
            "extra_funding_amount": PoundsField,
            "dsg_transfer_amount": PoundsField,
            "nhs_contribution_amount": PoundsField,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("extra_funding_amount", "dsg_transfer_amount", "nhs_contribution_amount"):
            self.fields[name].error_messages["invalid"] = "Enter an amount in pounds, like 250000"
            self.fields[name].error_messages["min_value"] = "Enter an amount of £0 or more"


class BlockTransferForm(OptionalPartMixin, LimitedTextMixin, forms.ModelForm):
    """A block transfer put to the meeting; all blank, none is recorded.

    A vote that says the opposite of the outcome (more for than against, yet
    not agreed) is asked about: nothing is saved until the person corrects
    one of them or ticks that both are right. A vote and outcome saved
    before (and so confirmed then) are not asked about again."""

    prefix = "transfer"
    CONFIRM = "confirm_vote"
    DEFAULTS = {
        "outcome": BlockTransfer.Outcome.PROPOSED,
        "disapplication_request": YesNo.NOT_KNOWN,
    }
    CONFIRMATIONS = (CONFIRM,)
    financial_year = YearField(label="Financial year", blank_label="Choose a year")
    confirm_vote = forms.BooleanField(
        label="Yes, the vote and the outcome are both right",
        help_text="For example, when the forum's rules need more than a simple majority.",
        required=False,
    )

    class Meta:
        model = BlockTransfer
        fields = [
            "financial_year",
            "amount",
            "percent",
            "votes_for",
            "votes_against",
            "abstentions",
            "outcome",
            "disapplication_request",
            "note",
        ]
        field_classes = {"amount": PoundsField}
        widgets = {
            "percent": forms.TextInput(
                attrs={"inputmode": "decimal", "class": "govuk-input--width-4"}
            ),
            "votes_for": forms.TextInput(attrs=COUNT),
            "votes_against": forms.TextInput(attrs=COUNT),
            "abstentions": forms.TextInput(attrs=COUNT),
            "outcome": forms.RadioSelect(attrs=SMALL_RADIOS),
            "disapplication_request": forms.RadioSelect(attrs=INLINE_RADIOS),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].error_messages["invalid"] = "Enter an amount in pounds, like 250000"
        self.fields["amount"].error_messages["min_value"] = "Enter an amount of £0 or more"
        self.fields["percent"].error_messages.update(
            invalid="Enter the percentage as a number, like 0.5",
            min_value="Enter a percentage of 0 or more",
            max_value="Enter a percentage of 100 or less",
        )
        for name in ("votes_for", "votes_against", "abstentions"):
            field = self.fields[name]
            field.error_messages.update(
                invalid=f"Enter the {field.label.lower()} as a whole number, like 12",
                min_value=f"The {field.label.lower()} cannot be fewer than 0",
            )
        self.saved_vote = self.vote_of(self.instance) if self.instance.pk else None
        self.asks_about_vote = False  # set by clean()

    @staticmethod
    def vote_of(transfer):
        return (transfer.votes_for, transfer.votes_against, transfer.outcome)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("financial_year") and "financial_year" not in self.errors:
            self.add_error("financial_year", "Choose the financial year of the transfer")
        posted = BlockTransfer(
            votes_for=cleaned.get("votes_for"),
            votes_against=cleaned.get("votes_against"),
            outcome=cleaned.get("outcome"),
        )
        self.asks_about_vote = (
            posted.vote_contradicts_outcome and self.vote_of(posted) != self.saved_vote
        )
        if self.asks_about_vote and not cleaned.get(self.CONFIRM):
            self.add_error(
                self.CONFIRM,
                f"The vote was {posted.votes_for} for and {posted.votes_against} against, "
                f"but the outcome says “{posted.get_outcome_display()}”: correct the votes "
                "or the outcome, or tick to say that both are right",
            )
        return cleaned

    def shown_fields(self):
        """The fields as the page shows them: the question about the vote,
        when there is one, straight after the outcome."""
        shown = []
        for field in self.visible_fields():
            if field.name != self.CONFIRM:
                shown.append(field)
            if field.name == "outcome" and self.asks_about_vote:
                shown.append(self[self.CONFIRM])
        return shown


class MeetingForms:
    """The meeting form with, for a Schools Forum meeting, its outcome and
    its block transfer: bound and validated together, for the view to save
    in one transaction (services.save_meeting), so a bad vote count never
    leaves a half-saved meeting."""

    def __init__(
        self, data, *, authority, user, meeting=None, initial=None, access=None, planning=False
    ):
        self.meeting = MeetingForm(
            data,
            instance=meeting,
            initial=initial,
            authority=authority,
            user=user,
            access=access,
            planning=planning,
        )
        outcome = getattr(meeting, "forum_outcome", None) if meeting else None
        transfer = getattr(meeting, "block_transfer", None) if meeting else None
        self.outcome = SchoolsForumOutcomeForm(data, instance=outcome)
        self.transfer = BlockTransferForm(data, instance=transfer)

    @property
    def all(self):
        return [self.meeting, self.outcome, self.transfer]

    @property
    def has_errors(self):
        return any(form.is_bound and form.errors for form in self.all)

    def is_valid(self):
        if not self.meeting.is_bound:
            return False
        valid = self.meeting.is_valid()
        forum = self.meeting.cleaned_data.get("forum")
        if forum == Forum.SCHOOLS_FORUM:
            # Left blank, either part is valid and records nothing.
            valid = self.outcome.is_valid() & self.transfer.is_valid() & valid
        elif forum and (self.outcome.has_input() or self.transfer.has_input()):
            self.meeting.add_error(
                "forum",
                "Schools Forum answers and block transfers are for Schools Forum meetings: "
                "choose Schools Forum, or clear them",
            )
            valid = False
        return valid

    def values(self):
        """What services.save_meeting stores, besides the meeting itself:
        its `data`, `base_version`, and the values of its `outcome` and
        `transfer` to keep, None for a part to remove (left blank, or not a
        Schools Forum meeting: then the parts were checked to be empty).
        Call after is_valid()."""
        schools_forum = self.meeting.cleaned_data["forum"] == Forum.SCHOOLS_FORUM

        def kept(form):
            return edited_values(form) if schools_forum and form.has_input() else None

        return {
            "data": edited_values(self.meeting),
            "base_version": self.meeting.cleaned_data["base_version"],
            "outcome": kept(self.outcome),
            "transfer": kept(self.transfer),
        }


class ActionForm(LimitedTextMixin, VersionedForm):
    """Add or change an action. A moved due date or a dropped action needs a
    reason; the reason is kept in the action's history."""

    class Meta:
        model = Action
        fields = ["title", "owner", "due_on", "status", "plan", "meeting", "notes", "reason"]
        widgets = {
            "title": forms.TextInput,
            "due_on": DateInput(attrs={"class": "govuk-input--width-10"}),
            "status": forms.RadioSelect(attrs=SMALL_RADIOS),
            "notes": forms.Textarea,
            "reason": forms.Textarea,
        }
        error_messages = {
            "title": {"required": "Enter what needs doing"},
            "due_on": {"invalid": "Enter the due date as a real date, like 30 4 2026"},
        }

    def __init__(self, *args, authority, user, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.authority = authority
        self.saved_due_on = self.instance.due_on
        self.saved_status = self.instance.status if self.instance.pk else None
        if not self.instance.pk:
            self.instance.created_by = user
            self.initial.setdefault("owner", user.pk)
            del self.fields["status"]
            del self.fields["reason"]
        else:
            # A fresh reason for each change; the last one is in the history.
            self.initial["reason"] = ""
        self.fields["owner"].queryset = people_covering(authority)
        self.fields["owner"].required = True
        self.fields["owner"].error_messages["required"] = "Choose who will do it"
        self.fields["owner"].empty_label = "Choose a person"
        self.fields["owner"].label_from_instance = lambda person: person.name_with_roles
        self.fields["plan"].queryset = authority.plans.select_related("programme")
        self.fields["plan"].empty_label = "No particular plan"
        self.fields["meeting"].queryset = meetings
        self.fields["meeting"].empty_label = "No particular meeting"
        self.fields["meeting"].label = "Meeting it follows from"

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        reason = (cleaned.get("reason") or "").strip()
        moved = (
            "due_on" in cleaned and self.saved_due_on and cleaned["due_on"] != self.saved_due_on
        )
        if moved and not reason:
            self.add_error("reason", "Say why the due date moved")
        elif (
            cleaned.get("status") == Action.Status.DROPPED
            and self.saved_status != Action.Status.DROPPED
            and not reason
        ):
            self.add_error("reason", "Say why the action was dropped")
        if not reason:
            # Keep the reason given for the last change.
            cleaned["reason"] = self.instance.reason
        return cleaned


def people_covering(authority):
    """Everyone who may own an action on `authority`: national officers, the
    region's people and the authority's own; each with the roles through
    which they cover it (and only those: see User.name_with_roles)."""
    covering = Membership.objects.filter(
        Q(role__in=NATIONAL_ROLES) | Q(region=authority.region_id) | Q(authority=authority)
    )
    return User.objects.filter(
        Exists(covering.filter(user=OuterRef("pk"))), is_active=True
    ).with_memberships(covering)


class MeetingFilterForm(forms.Form):
    """The meeting lists' filters (all optional)."""

    forum = forms.ChoiceField(
        label="Meeting",
        choices=[("", "Any meeting"), *Forum.choices],
        required=False,
        error_messages={"invalid_choice": "Choose a meeting from the list"},
    )
    consulted = forms.ChoiceField(
        label="Union consulted before the decision",
        choices=[("", "Any"), *YesNo.choices],
        required=False,
        error_messages={"invalid_choice": "Choose yes, no or not known"},
    )
    held_from = forms.DateField(
        label="Held from",
        required=False,
        widget=DateInput,
        error_messages={"invalid": "Enter the first date as a real date"},
    )
    held_to = forms.DateField(
        label="Held up to",
        required=False,
        widget=DateInput,
        error_messages={"invalid": "Enter the last date as a real date"},
    )

    def filter(self, meetings):
        """Apply whatever is valid; call after is_valid()."""
        data = self.cleaned_data
        if data.get("forum"):
            meetings = meetings.filter(forum=data["forum"])
        if data.get("consulted"):
            meetings = meetings.filter(union_consulted=data["consulted"])
        if data.get("held_from"):
            meetings = meetings.filter(held_on__gte=data["held_from"])
        if data.get("held_to"):
            meetings = meetings.filter(held_on__lte=data["held_to"])
        return meetings


class ActionFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("open", "Open"), ("", "All"), *Action.Status.choices],
        required=False,
        error_messages={"invalid_choice": "Choose a status from the list"},
    )
    mine = forms.BooleanField(label="Only mine", required=False)

    def filter(self, actions, user):
        data = self.cleaned_data
        status = data.get("status", "open") if self.is_bound and "status" in self.data else "open"
        if status == "open":
            actions = actions.open()
        elif status:
            actions = actions.filter(status=status)
        if data.get("mine"):
            actions = actions.filter(owner=user)
        return actions


# Questions to ask at a planned meeting -------------------------------------


class PickQuestionsForm(forms.Form):
    """Checklist questions of the meeting's plan to put at the meeting,
    suggested ones first (presenters.checklist_choices)."""

    questions = forms.TypedMultipleChoiceField(
        label="Questions from the checklist",
        coerce=int,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "govuk-checkboxes--small"}),
        error_messages={
            "required": "Choose at least one question to add",
            "invalid_choice": "Choose questions from the list: the checklist may have changed",
        },
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questions"].choices = choices
        self.fields["questions"].help_text = (
            "Suggested first: questions not answered yet, answered “Not known”, or of "
            "serious concern."
        )


class OwnQuestionForm(LimitedTextMixin, forms.Form):
    prefix = "own"
    text = forms.CharField(
        label="Your own question",
        help_text="Put it as you will ask it.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter the question to add"},
    )


class MeetingAnswerForm(LimitedTextMixin, VersionedForm):
    """After the meeting: whether one question was asked and the answer
    given. One of the answers form's rows (AnswersForms)."""

    what = "question"

    class Meta:
        model = MeetingQuestion
        fields = ["asked", "answer"]
        widgets = {
            "asked": forms.RadioSelect(attrs=INLINE_RADIOS),
            "answer": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asked"].choices = MeetingQuestion.Asked.choices
        self.fields["asked"].required = False
        self.fields["answer"].help_text = "As the authority gave it. Blank if none was given."


class AnswersForms:
    """One MeetingAnswerForm per question of a meeting, in its order, each
    with its own prefix and version: validated together and saved in one
    transaction (services.record_answers)."""

    def __init__(self, data, *, questions):
        self.forms = []
        for number, item in enumerate(questions, 1):
            form = MeetingAnswerForm(data, instance=item, prefix=f"q{item.pk}")
            # Each row's labels name its question, for a screen reader's
            # list of fields and the error summary.
            form.fields["asked"].label = f"Was question {number} asked?"
            form.fields["answer"].label = f"The answer given to question {number}"
            self.forms.append(form)

    def __iter__(self):
        return iter(self.forms)

    def __bool__(self):
        return bool(self.forms)

    @property
    def has_errors(self):
        return any(form.is_bound and form.errors for form in self.forms)

    @property
    def stale(self):
        return any(form.stale for form in self.forms)

    def is_valid(self):
        return bool(self.forms) and all([form.is_valid() for form in self.forms])


class StarterActionForm(forms.Form):
    """One of the briefing's suggested actions: whether to add it, who will
    do it and by when (StarterActionForm.for_authority gives one a starter,
    each with its own prefix)."""

    add = forms.BooleanField(required=False)
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Who will do it",
        empty_label="Choose a person",
    )
    due_on = forms.DateField(
        label="Due by",
        required=False,
        widget=DateInput(attrs={"class": "govuk-input--width-10"}),
        error_messages={"invalid": "Enter the due date as a real date, like 30 4 2026"},
    )

    def __init__(self, *args, key, title, people, **kwargs):
        super().__init__(*args, prefix=key, **kwargs)
        self.key, self.title = key, title
        self.fields["add"].label = title
        self.fields["owner"].queryset = people
        self.fields["owner"].label_from_instance = lambda person: person.name_with_roles

    def clean(self):
        data = super().clean()
        if data.get("add"):
            if not data.get("owner") and "owner" not in self.errors:
                self.add_error("owner", "Choose who will do it")
            if not data.get("due_on") and "due_on" not in self.errors:
                self.add_error("due_on", "Enter the date it is due by")
        return data

    @classmethod
    def for_authority(cls, authority, user, open_keys, data=None):
        """A form for each suggested action not already open in `authority`:
        ticked, owned by `user` and due in four weeks unless changed."""
        people = people_covering(authority)
        return [
            cls(
                data,
                key=key,
                title=title,
                people=people,
                initial={"add": True, "owner": user.pk, "due_on": starter_due_date()},
            )
            for key, title in Action.STARTERS.items()
            if key not in open_keys
        ]
