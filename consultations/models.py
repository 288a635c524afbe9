"""Meetings and consultations, Schools Forum outcomes with block transfers,
and the actions that follow.

Scope comes from the authority (`LocalAuthority.objects.for_user`), with one
rule more: a *confidential* meeting is seen only by national officers and the
authority's LNS, Schools Forum and JCNC/JCC representatives (CONFIDENTIAL_ROLES,
the people who see its papers). Regional organisers, NEMs and the SENCO and
headteacher network people of the authority do not see it: for them it is a
404 and it is never counted in their lists. The rule lives in
`readable_meetings`, which `MeetingQuerySet.for_user` and every other model
here that hangs off a meeting apply to their rows.

Who may do what (`authorities.access.AuthorityAccess`): editors (Can.EDIT) log and
change meetings, outcomes and block transfers; contributors (editors plus the
region's organisers and NEMs) add and update actions; everyone in scope reads.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from authorities.access import CONFIDENTIAL_ROLES, CONTRIBUTOR_ROLES, covering, in_scope
from authorities.edits import Versioned
from authorities.models import (
    Branch,
    LocalAuthority,
    MultiAcademyTrust,
    financial_year_label,
)
from plans.models import (
    ZERO,
    EvidenceLink,
    Plan,
    Question,
    money_field,
    year_choices,
    year_validators,
)


class YesNo(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


class Forum(models.TextChoices):
    """The meetings the briefing asks representatives to be part of."""

    SCHOOLS_FORUM = "schools_forum", "Schools Forum"
    JCNC = "jcnc", "JCNC"
    JCC = "jcc", "JCC"
    HEADTEACHER_GROUP = "headteacher_group", "Headteacher group"
    SENCO_NETWORK = "senco_network", "SENCO network"
    DBV_DIAGNOSTIC = "dbv_diagnostic", "DBV diagnostic stakeholder session"
    PARENT_CARER_FORUM = "parent_carer_forum", "Parent carer forum"
    COUNCIL = "council", "Council scrutiny or cabinet"
    # The briefing's section 7: school funding on the agenda of the next
    # local branch meeting, and NEMs discussing SEN provision with branches.
    BRANCH = "branch", "Branch meeting"
    OTHER = "other", "Other"


# A plan agreed with none of these consulted (the union consulted before the
# decision) is flagged: the briefing's list of who must be consulted.
CONSULTING_FORUMS = (
    Forum.SCHOOLS_FORUM.value,
    Forum.JCNC.value,
    Forum.JCC.value,
    Forum.HEADTEACHER_GROUP.value,
    Forum.SENCO_NETWORK.value,
)
# A meeting that consulted the union, on the plan it is about when it was
# held before the plan's agreement (MeetingQuerySet.consulting_on,
# plans_agreed_without_consultation): one of those forums, held (a planned
# meeting never counts, whatever its record says), the union consulted
# before the decision. Meeting's index of them has this condition too.
CONSULTED_THE_UNION = Q(status="held", union_consulted=YesNo.YES, forum__in=CONSULTING_FORUMS)


def readable_meetings(user, path=""):
    """A condition on rows: those whose meeting (at `path` from the row,
    "meeting__" from a block transfer; "" for meetings) `user` may read:
    of an authority in scope, and not confidential unless they hold a role
    that sees confidential meetings over its authority (the module
    docstring)."""
    return in_scope(user, f"{path}authority") & (
        Q(**{f"{path}confidential": False})
        | covering(
            user,
            CONFIDENTIAL_ROLES,
            region=f"{path}authority__region_id",
            authority=f"{path}authority_id",
        )
    )


class MeetingQuerySet(models.QuerySet):
    def held(self):
        """Meetings that have taken place: what counts as engagement (the
        last meeting, "no meeting in six months", consultation)."""
        return self.filter(status=Meeting.Status.HELD)

    def planned(self):
        return self.filter(status=Meeting.Status.PLANNED)

    def for_user(self, user):
        """Meetings of the authorities in scope, less the confidential ones
        this person may not see (see the module docstring)."""
        return self.filter(readable_meetings(user))

    def listed(self):
        """What a list of meetings shows, in one query however long."""
        return self.select_related(
            "authority", "plan__programme", "forum_outcome", "block_transfer"
        ).order_by("-held_on", "-pk")

    def without_outcome(self):
        """Meetings whose record says nothing under "What happened" or
        "Decisions": the home page asks whoever logs them to add the outcome.
        A planned meeting whose day has not come has no outcome to log yet."""
        return self.filter(summary="", decisions="").exclude(
            status=Meeting.Status.PLANNED, held_on__gt=timezone.localdate()
        )

    def consulting_on(self, plan):
        """Meetings that count as consulting the union on `plan` before it
        was agreed: a Schools Forum, JCNC/JCC, headteacher group or SENCO
        network meeting about this plan, held before the agreement date,
        where the union was consulted before the decision. A planned
        meeting never counts, whatever its record says."""
        return self.filter(CONSULTED_THE_UNION, plan=plan, held_on__lt=plan.agreement_date)

    def last_held(self):
        """The date of the latest of these meetings held at the authority of
        the query this is a subquery of (OuterRef("pk")), None if none: for
        annotating authorities. One index lookup for each (a planned
        meeting is not engagement yet)."""
        latest = self.held().filter(authority=OuterRef("pk")).order_by("-held_on")
        return models.Subquery(latest.values("held_on")[:1])


class Meeting(Versioned):
    """A meeting or a consultation exercise, logged by a representative."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "authority"

    class Status(models.TextChoices):
        # "Outcome logged" is not a status of its own: it is a held meeting
        # whose record says what happened (`stage`), so the two cannot disagree.
        PLANNED = "planned", "Planned: it has not happened yet"
        HELD = "held", "Held: it has taken place"

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="meetings"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.HELD)
    forum = models.CharField("meeting", max_length=24, choices=Forum.choices)
    held_on = models.DateField("date of the meeting")
    union_invited = models.CharField(
        "was the union invited?", max_length=10, choices=YesNo.choices, default=YesNo.NOT_KNOWN
    )
    union_attended = models.CharField(
        "did the union attend?", max_length=10, choices=YesNo.choices, default=YesNo.NOT_KNOWN
    )
    union_consulted = models.CharField(
        "was the union consulted before the decision?",
        max_length=10,
        choices=YesNo.choices,
        default=YesNo.NOT_KNOWN,
    )
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        help_text="The recovery plan discussed, if any.",
    )
    plan_draft = models.CharField(
        "which draft of the plan",
        max_length=100,
        blank=True,
        help_text="For example: first draft, or the version in the cabinet papers.",
    )
    trust = models.ForeignKey(
        MultiAcademyTrust,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name="multi-academy trust",
        help_text="The trust the meeting was with or about, if any.",
    )
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name="local branch",
        help_text="For a branch meeting: the branch that met.",
    )
    title = models.CharField(
        "name of the meeting",
        max_length=200,
        blank=True,
        help_text="Only if the meeting type does not say it, such as for “Other”.",
    )
    attendees = models.CharField("who attended for the union", max_length=300, blank=True)
    attending = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name="who from the union is going",
        help_text="People who cover this authority. Add anyone else by name below.",
    )
    agenda = models.TextField(
        "agenda items", blank=True, help_text="One item a line, in the order of the agenda."
    )
    papers = models.TextField(
        "papers for the meeting",
        blank=True,
        help_text="One paper a line: its title, then its link. For example: "
        "High needs budget 2027-28 https://democracy.camden.gov.uk/item5.pdf",
    )
    summary = models.TextField("what happened", blank=True)
    decisions = models.TextField(blank=True)
    next_steps = models.TextField("next steps", blank=True)
    minutes_url = models.URLField("link to the minutes or papers", max_length=500, blank=True)
    minutes_page = models.CharField(
        "page or item in the minutes", max_length=60, blank=True, help_text="For example: item 5."
    )
    confidential = models.BooleanField(
        "confidential",
        default=False,
        help_text="Only national officers and this authority's LNS, Schools Forum and "
        "JCNC/JCC representatives will see it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[attending])

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [
            # Lists show the newest first, 50 at a time: read off this index,
            # the first page of 20,000 meetings costs 2 ms instead of 100.
            models.Index(fields=["-held_on", "-id"], name="meeting_newest_first_idx"),
            # Each authority's latest meeting held (MeetingQuerySet.
            # last_held), found in one lookup where the overview grouped
            # every meeting: at 10x data 41 → 2 ms.
            models.Index(
                fields=["authority", "-held_on"],
                condition=Q(status="held"),
                name="meeting_last_held_idx",
            ),
            # The meetings that count as consulting the union on a plan
            # (MeetingQuerySet.consulting_on), by plan: "agreed with no
            # consultation logged" looks for one before each agreed plan's
            # date. At 10x data the warning's count read all 200,000
            # meetings for their 33,000 (44 ms); 4 ms off this.
            models.Index(
                fields=["plan", "held_on"],
                condition=CONSULTED_THE_UNION,
                name="meeting_consulting_idx",
            ),
        ]

    def __str__(self):
        return f"{self.name}, {self.held_on:%-d %B %Y}"

    def get_absolute_url(self):
        return reverse("consultations:detail", kwargs={"pk": self.pk})

    @property
    def name(self):
        return self.title or self.get_forum_display()

    @property
    def is_schools_forum(self):
        return self.forum == Forum.SCHOOLS_FORUM

    @property
    def is_planned(self):
        return self.status == self.Status.PLANNED

    @property
    def stage(self):
        """Planned, held, or held with its outcome logged, as people say it."""
        if self.is_planned:
            return "Planned"
        if self.summary or self.decisions:
            return "Outcome logged"
        return "Held, outcome not logged yet"

    def paper_links(self):
        """The papers as (title, link) pairs, one a line of `papers`: the
        link is the line's last word starting http:// or https://, the title
        what comes before it (the link again when there is none)."""
        found = []
        for line in self.papers.splitlines():
            words = line.split()
            if not words:
                continue
            url = words[-1]
            title = " ".join(words[:-1]).strip(" -\u2013\u2014:|") or url
            found.append((title, url))
        return found

    def agenda_items(self):
        return [line.strip() for line in self.agenda.splitlines() if line.strip()]

    def clean(self):
        errors = {}
        if (
            self.held_on
            and self.held_on > timezone.localdate()
            and self.status != self.Status.PLANNED
        ):
            # A meeting to come is planned ("Plan a meeting"), and a planned
            # one is said to have taken place only once it has.
            errors["held_on"] = (
                "The date of the meeting must be today or in the past: a meeting to come "
                "is planned, not logged"
            )
        papers = self._papers_errors()
        if papers:
            errors["papers"] = papers
        if self.plan_id and self.authority_id and self.plan.authority_id != self.authority_id:
            errors["plan"] = "Choose one of this authority's plans"
        if self.forum == Forum.OTHER and not self.title.strip():
            errors["title"] = "Enter the name of the meeting"
        # A trust or branch is linked only where it works: one covering
        # this meeting's authority.
        if self.authority_id and self.trust_id and not self.trust.covers(self.authority_id):
            errors["trust"] = "Choose a trust that runs schools in this authority"
        if self.authority_id and self.branch_id and not self.branch.covers(self.authority_id):
            errors["branch"] = "Choose a branch that covers this authority"
        if self.branch_id and self.forum != Forum.BRANCH:
            errors["branch"] = "Choose a branch only for a branch meeting"
        if errors:
            raise ValidationError(errors)

    def _papers_errors(self):
        validate = URLValidator(schemes=["http", "https"])
        errors = []
        lines = [line for line in self.papers.splitlines() if line.strip()]
        for number, line in enumerate(lines, 1):
            url = line.split()[-1]
            try:
                validate(url)
            except ValidationError:
                errors.append(
                    f"Paper {number} (“{line.strip()[:60]}”) needs a link at the end of its "
                    "line, starting https://"
                )
        return errors


def pounds(verbose_name, help_text="In pounds. Leave blank if not given."):
    return models.DecimalField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text=help_text,
        **money_field,
    )


def source(what):
    return models.CharField(
        f"source of the {what}",
        max_length=300,
        blank=True,
        help_text="A link to the paper, or who said it.",
    )


class SchoolsForumOutcome(models.Model):
    """What a Schools Forum meeting said on the briefing's questions."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "meeting__authority"

    # (answer field, checklist question key); each answer field has an
    # `_amount` and a `_source` beside it.
    ANSWERS = (
        ("extra_funding", "extra-funding-amount"),
        ("dsg_transfer", "dsg-transfer-to-high-needs"),
        ("nhs_contribution", "nhs-contribution-ehcps"),
    )

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="forum_outcome")
    funding_on_agenda = models.CharField(
        "was school funding on the agenda?",
        max_length=10,
        choices=YesNo.choices,
        default=YesNo.NOT_KNOWN,
    )
    proposals_discussed = models.CharField(
        "were the SV or DBV proposals discussed?",
        max_length=10,
        choices=YesNo.choices,
        default=YesNo.NOT_KNOWN,
    )
    extra_funding = models.TextField(
        "how much extra funding comes with the programme?",
        blank=True,
        help_text="The answer the forum was given.",
    )
    extra_funding_amount = pounds("extra funding")
    extra_funding_source = source("extra funding figure")
    dsg_transfer = models.TextField(
        "are transfers from the DSG to the High Needs Block happening or recommended?",
        blank=True,
        help_text="The answer the forum was given.",
    )
    dsg_transfer_amount = pounds("amount transferred or recommended")
    dsg_transfer_source = source("transfer figure")
    nhs_contribution = models.TextField(
        "what does the NHS contribute to the EHCPs of children in mainstream and special schools?",
        blank=True,
        help_text="The answer the forum was given.",
    )
    nhs_contribution_amount = pounds("NHS contribution")
    nhs_contribution_source = source("NHS contribution figure")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(extra_funding_amount__isnull=True) | Q(extra_funding_amount__gte=0))
                    & (Q(dsg_transfer_amount__isnull=True) | Q(dsg_transfer_amount__gte=0))
                    & (Q(nhs_contribution_amount__isnull=True) | Q(nhs_contribution_amount__gte=0))
                ),
                name="forum_outcome_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"Schools Forum outcome: {self.meeting}"

    def get_absolute_url(self):
        return self.meeting.get_absolute_url() + "#outcome"

    def answers(self):
        """(question, answer, figure, source) for the three questions."""
        return [
            (
                self._meta.get_field(field).verbose_name,
                getattr(self, field),
                getattr(self, f"{field}_amount"),
                getattr(self, f"{field}_source"),
            )
            for field, _ in self.ANSWERS
        ]

    def answer_for(self, key):
        """(text, amount, source) recorded for a checklist question key, or
        None when nothing was recorded for it."""
        for field, question_key in self.ANSWERS:
            if question_key == key:
                text = getattr(self, field)
                amount = getattr(self, f"{field}_amount")
                if text or amount is not None:
                    return text, amount, getattr(self, f"{field}_source")
        return None


# The checklist questions each kind of record answers: the Schools Forum's
# three questions from its outcome, the stakeholder questions from meetings
# of the matching forums.
OUTCOME_QUESTIONS = {key: field for field, key in SchoolsForumOutcome.ANSWERS}
MEETING_QUESTIONS = {
    "schools-forum-consulted": (Forum.SCHOOLS_FORUM,),
    "jcnc-jcc-consulted": (Forum.JCNC, Forum.JCC),
    "headteacher-groups-consulted": (Forum.HEADTEACHER_GROUP,),
    "senco-networks-consulted": (Forum.SENCO_NETWORK,),
    "dbv-diagnostic-engagement": (Forum.DBV_DIAGNOSTIC,),
}


def plans_agreed_without_consultation(plans):
    """`plans` that have an agreement date and no meeting consulting the
    union on them before it (MeetingQuerySet.consulting_on).

    Counted over every meeting, confidential ones included: the flag is a
    fact about the plan, and an organiser who cannot read a confidential
    JCNC meeting should not be told that nobody was consulted."""
    consulted = Meeting.objects.filter(
        CONSULTED_THE_UNION, plan=OuterRef("pk"), held_on__lt=OuterRef("agreement_date")
    )
    return plans.filter(agreement_date__isnull=False).exclude(Exists(consulted))


def with_agreed_without_consultation(plans):
    """`plans`, each annotated with `agreed_without_consultation`: whether
    plans_agreed_without_consultation would list it (the same rule, every
    meeting counted), in the same query."""
    flagged = plans_agreed_without_consultation(Plan.objects.filter(pk=OuterRef("pk")))
    return plans.annotate(agreed_without_consultation=Exists(flagged))


class BlockTransferQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(readable_meetings(user, "meeting__"))

    def listed(self):
        return self.select_related("meeting__authority").order_by(
            "-financial_year", "meeting__authority__name", "-meeting__held_on"
        )

    def proposed(self):
        """Transfers put to a forum and not yet decided, with their meeting
        and authority."""
        return self.filter(outcome=BlockTransfer.Outcome.PROPOSED).select_related(
            "meeting__authority"
        )


class BlockTransfer(models.Model):
    """A proposed transfer from the Schools Block to the High Needs Block,
    put to a Schools Forum meeting, and the forum's vote on it."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "meeting__authority"

    class Outcome(models.TextChoices):
        PROPOSED = "proposed", "Proposed, not yet decided"
        AGREED = "agreed", "Agreed by the forum"
        NOT_AGREED = "not_agreed", "Not agreed by the forum"
        WITHDRAWN = "withdrawn", "Withdrawn"

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="block_transfer"
    )
    financial_year = models.PositiveSmallIntegerField(
        choices=year_choices, validators=year_validators
    )
    amount = models.DecimalField(
        "amount",
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="In pounds. Leave blank if only the percentage was given.",
        **money_field,
    )
    percent = models.DecimalField(
        "per cent of the Schools Block",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO), MaxValueValidator(100)],
        help_text="For example 0.5. Leave blank if not given.",
    )
    votes_for = models.PositiveSmallIntegerField("votes for", null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField("votes against", null=True, blank=True)
    abstentions = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PROPOSED)
    disapplication_request = models.CharField(
        "did a disapplication request go to the Secretary of State?",
        max_length=10,
        choices=YesNo.choices,
        default=YesNo.NOT_KNOWN,
    )
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = BlockTransferQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="block_transfer_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gte=0, percent__lte=100),
                name="block_transfer_percent_0_to_100",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=False) | Q(percent__isnull=False),
                name="block_transfer_has_amount_or_percent",
                violation_error_message="Enter the amount, the percentage, or both",
            ),
        ]

    def __str__(self):
        return f"Block transfer {self.financial_year_label}: {self.meeting.authority}"

    def get_absolute_url(self):
        return self.meeting.get_absolute_url() + "#block-transfer"

    @property
    def financial_year_label(self):
        return financial_year_label(self.financial_year)

    @property
    def vote(self):
        """ "12 for, 3 against, 1 abstention", or "" when no vote was recorded."""
        parts = []
        for count, label in (
            (self.votes_for, "for"),
            (self.votes_against, "against"),
            (self.abstentions, "abstention" if self.abstentions == 1 else "abstentions"),
        ):
            if count is not None:
                parts.append(f"{count} {label}")
        return ", ".join(parts)

    @property
    def vote_contradicts_outcome(self):
        """Whether the vote says the opposite of the outcome recorded: more
        for than against yet not agreed, or more against than for yet
        agreed. Worth asking about, not refusing: a forum's rules may need
        more than a simple majority. A tie contradicts neither (a chair's
        casting vote may go either way)."""
        if self.votes_for is None or self.votes_against is None:
            return False
        if self.outcome == self.Outcome.AGREED:
            return self.votes_against > self.votes_for
        if self.outcome == self.Outcome.NOT_AGREED:
            return self.votes_for > self.votes_against
        return False

    def clean(self):
        if self.amount is None and self.percent is None:
            raise ValidationError({"amount": "Enter the amount, the percentage, or both"})


class ActionQuerySet(models.QuerySet):
    def for_user(self, user):
        """Actions on authorities in scope; one that follows a meeting this
        person may not see (a confidential one) is not shown either."""
        return self.filter(in_scope(user, "authority")).filter(
            Q(meeting__isnull=True) | readable_meetings(user, "meeting__")
        )

    def listed_for(self, user):
        """The actions `user` may see, each with whether they may change it
        (with_may_change), overdue first: what every list of actions shows."""
        return self.for_user(user).with_may_change(user).overdue_first()

    def with_may_change(self, user):
        """Each action with `may_change`: whether `user` may open it to
        change it (Can.CONTRIBUTE over its authority, as AuthorityAccess
        decides), so a list links only those; in the same query."""
        may = covering(
            user, CONTRIBUTOR_ROLES, region="authority__region_id", authority="authority_id"
        )
        # A Case, so that a condition true of every row, or of none, is
        # still a boolean (True or False) rather than SQL's bare 1 or 0.
        return self.annotate(
            may_change=models.Case(
                models.When(may, then=models.Value(True)), default=models.Value(False)
            )
        )

    def open(self):
        return self.filter(status__in=Action.OPEN)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def overdue_first(self):
        """Overdue first (oldest due date first), then by due date, then
        those with none, with who and where in the same query."""
        today = timezone.localdate()
        return self.select_related("authority", "owner", "plan__programme").order_by(
            models.Case(
                models.When(due_on__lt=today, then=0),
                models.When(due_on__isnull=False, then=1),
                default=2,
            ),
            "due_on",
            "pk",
        )

    def counts_by_authority(self, today=None):
        """{authority id: (open, overdue)} for the actions here, in one query
        however many authorities and actions (overdue as in overdue())."""
        today = today or timezone.localdate()
        rows = (
            self.open()
            .order_by()
            .values("authority")
            .annotate(
                open=models.Count("pk"),
                overdue=models.Count("pk", filter=Q(due_on__lt=today)),
            )
        )
        return {row["authority"]: (row["open"], row["overdue"]) for row in rows}


class Action(Versioned):
    """Something a representative will do about an authority: the
    briefing's suggested actions and any other. Moving the due date or
    dropping the action needs a reason, kept in the history."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "authority"

    class Status(models.TextChoices):
        TO_DO = "to_do", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    OPEN = (Status.TO_DO.value, Status.IN_PROGRESS.value)

    # The briefing's suggested actions for LNSs, NEMs and local secretaries,
    # added as a set with one click (key: title).
    STARTERS = {
        "funding-on-agenda": "Put school funding on the agenda of the next branch or committee "
        "meeting, and give members there a copy of the briefing",
        "senco-meeting": "Arrange a meeting for SENCOs: their experiences, pressures, what works "
        "well, and the SV or DBV plan",
        "specialist-services-feedback": "Seek feedback on specialist support services: barriers "
        "to assessment and support, waiting times for assessment and for support",
        "health-care-costs-feedback": "Seek feedback on whether health and social care meet "
        "the costs of the provision agreed in EHCPs",
        "tell-national-office": "Send what these discussions found to the national office "
        "by e-mail",
    }

    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="actions")
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
    )
    title = models.CharField("what needs doing", max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="actions",
        help_text="Who will do it.",
    )
    due_on = models.DateField("due date", null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TO_DO)
    notes = models.TextField(blank=True)
    reason = models.TextField(
        "reason for the change",
        blank=True,
        help_text="Why the due date moved or the action was dropped.",
    )
    starter = models.SlugField(max_length=40, blank=True, editable=False)
    last_reminded_on = models.DateField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["last_reminded_on"])

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="dropped") | ~Q(reason=""),
                name="action_dropped_has_reason",
                violation_error_message="Say why the action was dropped",
            ),
            # Adding the briefing's set twice must not duplicate what is still open.
            models.UniqueConstraint(
                fields=["authority", "starter"],
                condition=~Q(starter="") & Q(status__in=("to_do", "in_progress")),
                name="action_one_open_starter_per_authority",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("consultations:action_edit", kwargs={"pk": self.pk})

    @property
    def is_open(self):
        return self.status in self.OPEN

    def is_overdue(self, today=None):
        return (
            self.is_open
            and self.due_on is not None
            and self.due_on < (today or timezone.localdate())
        )


def starter_due_date():
    """The briefing's actions are for the coming weeks: a month from today."""
    return timezone.localdate() + datetime.timedelta(days=28)


class MeetingQuestionQuerySet(models.QuerySet):
    def for_user(self, user):
        """Questions of the meetings this person may see (confidential ones
        included only for those who see them)."""
        return self.filter(readable_meetings(user, "meeting__"))


class MeetingQuestion(Versioned):
    """A question the union means to put at a planned meeting, in the
    order it will be asked: one of the plan's checklist questions, or the
    representative's own; after the meeting, whether it was asked and the
    answer given."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "meeting__authority"

    class Asked(models.TextChoices):
        YES = "yes", "Asked"
        NO = "no", "Not asked"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    question = models.ForeignKey(
        Question,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The checklist question it puts, if it is one.",
    )
    # Kept as it was put to the meeting: a newer checklist wording does not
    # change what was asked.
    text = models.TextField("question")
    asked = models.CharField(
        "was it asked?", max_length=3, choices=Asked.choices, blank=True, default=""
    )
    answer = models.TextField("the answer given", blank=True)
    # The evidence link made from the answer (one step, from the meeting's
    # questions), so it is offered once.
    evidence = models.ForeignKey(
        EvidenceLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = MeetingQuestionQuerySet.as_manager()

    class Meta:
        ordering = ["meeting", "position", "pk"]
        constraints = [
            # A checklist question is put once at a meeting.
            models.UniqueConstraint(
                fields=["meeting", "question"],
                condition=Q(question__isnull=False),
                name="meeting_question_once",
            ),
        ]

    def __str__(self):
        return self.text[:80]

    def get_absolute_url(self):
        return reverse("consultations:questions", kwargs={"pk": self.meeting_id}) + (
            f"#question-{self.pk}"
        )

    def clean(self):
        if self.answer.strip() and self.asked == self.Asked.NO:
            raise ValidationError(
                {"asked": "You gave an answer: choose “Asked”, or clear the answer"}
            )
