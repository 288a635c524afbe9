"""Recovery plans: programmes, plans, their money and commitments, and the
union's checklist answered per plan.

Scope comes from the authority: `Plan.objects.for_user(user)` is the plans of
`LocalAuthority.objects.for_user(user)`, the rule written into the plan's own
query (`authorities.access.in_scope`). What a person may change is decided by
the roles they hold over the plan's authority
(`authorities.access.AuthorityAccess`).
"""

import datetime
import itertools
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from authorities.access import in_scope
from authorities.edits import AddressedHistory, Versioned
from authorities.models import (
    FIRST_FINANCIAL_YEAR,
    LAST_FINANCIAL_YEAR,
    LocalAuthority,
    Membership,
)
from authorities.models import financial_year_label as year_label
from authorities.recounting import Recount, RecountedQuerySet

year_validators = [MinValueValidator(FIRST_FINANCIAL_YEAR), MaxValueValidator(LAST_FINANCIAL_YEAR)]
money_field = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


def year_choices():
    years = range(FIRST_FINANCIAL_YEAR, LAST_FINANCIAL_YEAR + 1)
    return [(year, year_label(year)) for year in years]


class Programme(models.Model):
    """A DfE programme an authority can be on. Data, not code: an admin adds
    the next one (the 2026 local SEND reform plans were added this way)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120, unique=True)
    short_name = models.CharField(max_length=40)
    description = models.TextField(help_text="How the programme works, in a few sentences.")
    # Where it stands now (SV closed to new agreements, DBV ended), apart
    # from how it works: it is what changes, and each change has its source
    # in the national timeline (plans/data/programme_types.csv).
    standing = models.TextField(
        "where it stands",
        blank=True,
        help_text="Where the programme stands now, as the national timeline says.",
    )
    standing_source_url = models.URLField("source for where it stands", max_length=500, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.short_name


class Recommendation(models.Model):
    """One of the ten recommendations on effective high needs systems."""

    number = models.PositiveSmallIntegerField(unique=True)
    text = models.TextField()

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"{self.number}. {self.text}"


class PlanQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(in_scope(user, "authority"))

    def with_reform(self):
        """Each plan with its reform plan details and stability grant, where
        it has them, in the same query (`plan.reform` and
        `plan.stability_grant` then ask nothing)."""
        return self.select_related("reform", "stability_grant")

    def with_later_revision(self):
        """Each plan with the revision that replaced it, if any, in the same
        query: its pk and number (`later_revision_pk`, `later_revision_number`;
        a plan is revised once, services.revise_plan), enough to link to it
        (Plan.later_revisions)."""
        later = Plan.objects.filter(revision_of=OuterRef("pk")).order_by("pk")
        return self.annotate(
            later_revision_pk=models.Subquery(later.values("pk")[:1]),
            later_revision_number=models.Subquery(later.values("revision")[:1]),
        )

    def current(self):
        """Plans not replaced by a later revision."""
        return self.exclude(Exists(Plan.objects.filter(revision_of=OuterRef("pk"))))

    def with_serious_concerns(self):
        """Plans whose checklist records at least one serious concern."""
        serious = Answer.objects.filter(
            assessment__plan=OuterRef("pk"), concern=Answer.Concern.SERIOUS
        )
        return self.filter(Exists(serious))

    def summary(self):
        """What lists and dashboards show for each plan, in one query: the
        checklist's size (the latest bank's for a plan not yet assessed),
        answers given (carried-forward ones still to confirm do not count)
        and serious concerns, read from the counts each checklist keeps
        (AssessmentQuerySet.recount)."""
        # Only the questions asked of the plan's programme count; counted
        # here only for a plan with no checklist yet (COALESCE goes no
        # further than the first value it finds).
        latest = QuestionSet.objects.order_by("-version").values("pk")[:1]
        latest_questions = Question.objects.filter(
            question_set=models.Subquery(latest)
        ).for_programme(OuterRef("programme"))
        return self.select_related("authority__region", "programme").annotate(
            question_count=Coalesce(
                F("assessment__question_count"), _count(latest_questions, "question_set")
            ),
            answered_count=Coalesce(F("assessment__answered_count"), models.Value(0)),
            serious_count=Coalesce(F("assessment__serious_count"), models.Value(0)),
        )

    def with_involvement(self, user):
        """Each plan with `involves_user`: whether it is `user`'s own, which
        is so when they hold a role at its authority or in its region (a
        national role alone does not make every plan theirs), have answered
        a question on its checklist, or were the last to change it. In the
        same query."""
        roles_here = Membership.objects.filter(user=user).filter(
            Q(authority=OuterRef("authority")) | Q(region=OuterRef("authority__region"))
        )
        answered = Answer.objects.filter(assessment__plan=OuterRef("pk"), answered_by=user)
        last_changed_by = (
            Plan.history.filter(id=OuterRef("pk"))
            .order_by("-history_date", "-history_id")
            .values("history_user")[:1]
        )
        return self.alias(last_changed_by=models.Subquery(last_changed_by)).annotate(
            involves_user=models.Case(
                models.When(
                    Exists(roles_here) | Exists(answered) | Q(last_changed_by=user.pk),
                    then=models.Value(True),
                ),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def with_targets(self):
        """Each plan's targets, each with its newest progress
        (`target.latest_update`), in one more query however many plans,
        targets and updates."""
        return self.prefetch_related(
            models.Prefetch("targets", queryset=Target.objects.with_latest_update())
        )

    def negotiating(self):
        """Plans recorded as negotiating (`negotiating_since`: when they were
        so recorded)."""
        return self.filter(status=Plan.Status.NEGOTIATING)

    def still_to_answer(self):
        """These plans with checklist questions still to answer (as
        summary() counts them: a carried-forward answer still to confirm is
        not answered yet), as a list, each given `next_question`: the first
        such question in checklist order, and `unanswered_count`. Three queries
        however many plans (and summary()'s own)."""
        plans = list(
            self.summary()
            .annotate(bank=F("assessment__question_set"))
            .filter(answered_count__lt=F("question_count"))
        )
        if not plans:
            return plans
        # The plans' banks and the latest (for plans not yet started).
        latest = QuestionSet.objects.order_by("-version").values("pk")[:1]
        banks = {}
        for question in (
            Question.objects.filter(
                Q(question_set__in={plan.bank for plan in plans if plan.bank})
                | Q(question_set=models.Subquery(latest))
            )
            .select_related("question_set")
            .with_asked_of({plan.programme_id for plan in plans})
        ):
            banks.setdefault(question.question_set, []).append(question)
        by_id = {bank.pk: questions for bank, questions in banks.items()}
        latest_bank = max(banks, key=lambda bank: bank.version, default=None)
        answered = set(
            Answer.objects.filter(
                assessment__plan__in=[plan.pk for plan in plans], carried_forward=False
            ).values_list("assessment__plan", "question")
        )
        for plan in plans:
            plan.unanswered_count = plan.question_count - plan.answered_count
            bank = plan.bank or (latest_bank.pk if latest_bank else None)
            plan.next_question = next(
                (
                    q
                    for q in by_id.get(bank, [])
                    if q.is_asked_of(plan.programme_id) and (plan.pk, q.pk) not in answered
                ),
                None,
            )
        return plans


class Plan(Versioned):
    """One authority's plan under one programme (a revision is a new row
    pointing at the plan it revises)."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "authority"

    class Status(models.TextChoices):
        RUMOURED = "rumoured", "Rumoured"
        NEGOTIATING = "negotiating", "Negotiating"
        DIAGNOSTIC = "diagnostic", "Diagnostic"
        AGREED = "agreed", "Agreed"
        IMPLEMENTATION = "implementation", "Implementation and monitoring"
        UNDER_REVIEW = "under_review", "Under review, payments withheld"
        COMPLETED = "completed", "Completed"
        ENDED = "ended", "Ended"

    # The lifecycle: the statuses a plan may move to from each, the one place
    # it is written down. A plan may always stay as it is, or end early;
    # "completed" and "ended" are where it stops. DBV goes from its
    # diagnostic to implementation; SV through negotiation to agreement.
    # Any other move (say "completed" straight from "rumoured") only a
    # national officer may record, saying why (plans.forms.PlanForm). A
    # rumour may turn out to be an agreement: the union not told of the
    # negotiation is what "agreed without consultation" records.
    NEXT_STATUSES = {
        Status.RUMOURED: (Status.NEGOTIATING, Status.DIAGNOSTIC, Status.AGREED, Status.ENDED),
        Status.NEGOTIATING: (Status.DIAGNOSTIC, Status.AGREED, Status.ENDED),
        Status.DIAGNOSTIC: (
            Status.NEGOTIATING,
            Status.AGREED,
            Status.IMPLEMENTATION,
            Status.ENDED,
        ),
        Status.AGREED: (Status.IMPLEMENTATION, Status.UNDER_REVIEW, Status.ENDED),
        Status.IMPLEMENTATION: (Status.UNDER_REVIEW, Status.COMPLETED, Status.ENDED),
        Status.UNDER_REVIEW: (Status.IMPLEMENTATION, Status.COMPLETED, Status.ENDED),
        Status.COMPLETED: (),
        Status.ENDED: (),
    }

    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="plans")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="plans")
    round_or_tranche = models.CharField(
        "round or tranche",
        max_length=40,
        blank=True,
        help_text="For example 2022-23 or Tranche 2.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUMOURED)
    status_note = models.TextField(
        blank=True, help_text="Reviews, withheld payments, extensions, legal challenges."
    )
    status_source_url = models.URLField("source for the status", max_length=500, blank=True)
    agreement_date = models.DateField(null=True, blank=True)
    first_year = models.PositiveSmallIntegerField(
        "first financial year", null=True, blank=True, validators=year_validators
    )
    last_year = models.PositiveSmallIntegerField(
        "last financial year", null=True, blank=True, validators=year_validators
    )
    total_funding = models.DecimalField(
        "total extra funding (£)",
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="Leave blank if not known.",
        **money_field,
    )
    document_url = models.URLField("published plan", max_length=500, blank=True)
    summary = models.TextField("what the plan proposes", blank=True)
    sources = models.TextField(
        "sources for the programme, dates and funding",
        blank=True,
        help_text="A link per line, with a note where it helps (which figure, which page).",
    )
    verified = models.BooleanField(
        "facts verified",
        default=False,
        help_text="Only when the source is the DfE, the authority or another primary source.",
    )
    revision_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    revision = models.PositiveSmallIntegerField(default=1)
    national_office_told_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When it was last recorded as negotiating (keep_since).
    negotiating_since = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["authority__name", "programme__order", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "programme", "round_or_tranche", "revision"],
                name="plan_unique_revision",
                violation_error_message=(
                    "This authority already has a plan for this programme and round."
                ),
            ),
            models.CheckConstraint(
                condition=Q(last_year__gte=F("first_year"))
                | Q(last_year__isnull=True)
                | Q(first_year__isnull=True),
                name="plan_last_year_not_before_first",
            ),
            models.CheckConstraint(
                condition=Q(total_funding__gte=0) | Q(total_funding__isnull=True),
                name="plan_funding_not_negative",
            ),
        ]

    def save(self, *args, **kwargs):
        keep_since(self, "negotiating_since", self.status == self.Status.NEGOTIATING, kwargs)
        super().save(*args, **kwargs)

    def __str__(self):
        """The plan's name with its authority: "Camden: SV 2022-23 (revision 2)",
        for wherever the authority is not already said."""
        return f"{self.authority}: {self.short_name}"

    def get_absolute_url(self):
        return reverse("plans:detail", kwargs={"pk": self.pk})

    def later_revisions(self):
        """[the revision that replaced it] or []: as read by
        PlanQuerySet.with_later_revision(), a link's worth of it (its pk and
        number), not the whole plan; else read now."""
        if not hasattr(self, "later_revision_pk"):
            return list(self.revisions.all())
        if self.later_revision_pk is None:
            return []
        return [Plan(pk=self.later_revision_pk, revision=self.later_revision_number)]

    def clean(self):
        if self.first_year and self.last_year and self.last_year < self.first_year:
            raise ValidationError(
                {"last_year": "The last financial year cannot be before the first."}
            )

    @classmethod
    def next_statuses(cls, status):
        """The statuses a plan at `status` may move to, in the lifecycle's
        order (a status not in the lifecycle may move anywhere)."""
        allowed = cls.NEXT_STATUSES.get(status)
        if allowed is None:
            return list(cls.Status)
        return [choice for choice in cls.Status if choice in allowed]

    @classmethod
    def follows_lifecycle(cls, old, new):
        """Whether moving from status `old` to `new` keeps to the lifecycle
        (staying as it is always does)."""
        return old == new or new in cls.next_statuses(old)

    @property
    def short_name(self):
        """The plan's one name, on every page and export: "SV 2022-23 (revision 2)".
        Where the page is not about one authority, str(plan) adds which."""
        round_ = f" {self.round_or_tranche}" if self.round_or_tranche else ""
        revision = f" (revision {self.revision})" if self.revision > 1 else ""
        return f"{self.programme.short_name}{round_}{revision}"

    @property
    def years_label(self):
        if not self.first_year:
            return ""
        if not self.last_year or self.last_year == self.first_year:
            return year_label(self.first_year)
        return f"{year_label(self.first_year)} to {year_label(self.last_year)}"

    def checklist_question_set(self):
        """The question bank the plan is answered on: its assessment's, or the
        latest for a plan nobody has started (the first answer starts it)."""
        assessment = getattr(self, "assessment", None)
        return assessment.question_set if assessment else QuestionSet.objects.latest_version()

    def money(self, instalments=None):
        """Promised, paid and withheld totals from the instalments: added up
        in Python from `instalments`, if the caller has read them already."""
        if instalments is None:
            return self.instalments.totals()
        return instalment_totals(instalments)

    @property
    def is_reform_plan(self):
        """Whether this is a local SEND reform plan (with ReformPlanDetails
        and, once recorded, a High Needs Stability Grant)."""
        return self.programme.code == REFORM_PROGRAMME


class InstalmentQuerySet(models.QuerySet):
    @staticmethod
    def _sums():
        """Promised, paid and withheld (a reduced payment withholds what was
        not paid), as aggregate expressions."""
        reduced_by = F("amount") - Coalesce(F("amount_paid"), ZERO)
        return {
            "promised": Coalesce(Sum("amount"), ZERO),
            "paid": Coalesce(Sum("amount_paid"), ZERO),
            "withheld": Coalesce(
                Sum("amount", filter=Q(status=FundingInstalment.Status.WITHHELD)), ZERO
            )
            + Coalesce(Sum(reduced_by, filter=Q(status=FundingInstalment.Status.REDUCED)), ZERO),
        }

    def totals(self):
        return self.aggregate(**self._sums())

    def for_user(self, user):
        return self.filter(in_scope(user, "plan__authority"))

    def held_back(self):
        """Instalments withheld, or paid reduced (part withheld), with their
        plan and authority (`held_back_since`: when they came to be so; None
        for those loaded in bulk before it was kept)."""
        return self.filter(status__in=FundingInstalment.HELD_BACK).select_related(
            "plan__authority", "plan__programme"
        )

    def totals_by_plan(self):
        """{plan id: totals()} for every plan with instalments here, in one
        query however many plans."""
        rows = self.order_by().values("plan").annotate(**self._sums())
        return {row.pop("plan"): row for row in rows}


class FundingInstalment(Versioned):
    """One payment the DfE promised under a plan, and what became of it."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "plan__authority"

    class Status(models.TextChoices):
        DUE = "due", "Due"
        PAID = "paid", "Paid in full"
        WITHHELD = "withheld", "Withheld"
        REDUCED = "reduced", "Paid, reduced"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="instalments")
    financial_year = models.PositiveSmallIntegerField(
        choices=year_choices, validators=year_validators
    )
    amount = models.DecimalField(
        "amount promised (£)", validators=[MinValueValidator(ZERO)], **money_field
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)
    amount_paid = models.DecimalField(
        "amount paid (£)",
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="For a reduced payment, what was actually paid.",
        **money_field,
    )
    condition = models.TextField("condition attached", blank=True)
    note = models.TextField(blank=True)
    # When it was last withheld or paid reduced (keep_since).
    held_back_since = models.DateTimeField(null=True, blank=True, editable=False)
    # Deleting one keeps it here, with who, why and from which address.
    history = HistoricalRecords(bases=[AddressedHistory])

    objects = InstalmentQuerySet.as_manager()

    HELD_BACK = (Status.WITHHELD, Status.REDUCED)

    class Meta:
        ordering = ["financial_year", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="instalment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__isnull=True) | Q(amount_paid__lte=F("amount")),
                name="instalment_paid_not_more_than_promised",
            ),
        ]

    def save(self, *args, **kwargs):
        keep_since(self, "held_back_since", self.status in self.HELD_BACK, kwargs)
        super().save(*args, **kwargs)

    def __str__(self):
        return (
            f"{year_label(self.financial_year)}: £{self.amount:,.0f} ({self.get_status_display()})"
        )

    def get_absolute_url(self):
        return self.plan.get_absolute_url() + "#money"

    def clean(self):
        """Keep the amount paid consistent with the status, so the totals add up."""
        paid, amount = self.amount_paid, self.amount
        if self.status == self.Status.PAID and paid is None and amount is not None:
            self.amount_paid = amount
        elif self.status in (self.Status.DUE, self.Status.WITHHELD) and paid:
            raise ValidationError(
                {"amount_paid": "Leave the amount paid empty for a payment not made."}
            )
        elif self.status == self.Status.REDUCED:
            if paid is None:
                raise ValidationError({"amount_paid": "Enter how much was paid."})
            if amount is not None and paid >= amount:
                raise ValidationError(
                    {"amount_paid": "A reduced payment must be less than the amount promised."}
                )
        if paid is not None and amount is not None and paid > amount:
            raise ValidationError(
                {"amount_paid": "The amount paid cannot be more than the amount promised."}
            )


def instalment_totals(instalments):
    """InstalmentQuerySet.totals() of instalments already read, worked out
    as its SQL does (tests/test_plans.py holds the two together)."""
    promised, paid, withheld = ZERO, ZERO, ZERO
    for instalment in instalments:
        promised += instalment.amount
        paid += instalment.amount_paid or ZERO
        if instalment.status == FundingInstalment.Status.WITHHELD:
            withheld += instalment.amount
        elif instalment.status == FundingInstalment.Status.REDUCED:
            withheld += instalment.amount - (instalment.amount_paid or ZERO)
    return {"promised": promised, "paid": paid, "withheld": withheld}


class Goal(models.TextChoices):
    """The DfE's two goals for the SV and DBV programmes."""

    EHCP_DEMAND = "ehcp_demand", "Managing demand for EHCPs, with fit-for-purpose assessment"
    PROVISION = "provision", "Appropriate, cost-effective provision and mainstream inclusion"


class TargetQuerySet(models.QuerySet):
    def with_latest_update(self):
        """Each target with its newest progress (`latest_update`, or None),
        in the same query: what pages show of its updates."""
        latest = TargetUpdate.objects.filter(target=OuterRef("pk")).order_by("-recorded_on", "-pk")
        return self.annotate(
            **{
                f"latest_{name}": models.Subquery(latest.values(name)[:1])
                for name in LATEST_UPDATE_FIELDS
            }
        )


# What with_latest_update() reads of a target's newest progress.
LATEST_UPDATE_FIELDS = ("pk", "recorded_on", "value", "status", "reason")


class Target(Versioned):
    """Something the plan commits to, with progress reported against it."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "plan__authority"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    description = models.CharField(
        max_length=300,
        help_text='For example "reduce new EHCPs by 10%" or "move 40 placements to '
        'maintained special schools".',
    )
    goal = models.CharField("DfE goal", max_length=20, choices=Goal.choices)
    recommendations = models.ManyToManyField(
        Recommendation,
        blank=True,
        related_name="targets",
        help_text="Which of the ten recommendations it answers, if any.",
    )
    baseline = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    target_value = models.DecimalField(
        "target", max_digits=14, decimal_places=2, null=True, blank=True
    )
    unit = models.CharField(
        max_length=60, blank=True, help_text="For example: new EHCPs a year, %, placements."
    )
    due_year = models.PositiveSmallIntegerField(
        "due by financial year", null=True, blank=True, choices=year_choices
    )
    history = HistoricalRecords(m2m_fields=[recommendations])

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["goal", "pk"]

    def __str__(self):
        return self.description

    @cached_property
    def latest_update(self):
        """Its newest progress, or None: from TargetQuerySet.with_latest_update()'s
        columns, else read now (a template would show a missing column as
        no progress at all)."""
        if not hasattr(self, "latest_pk"):
            return self.updates.first()
        if self.latest_pk is None:
            return None
        fields = {name: getattr(self, f"latest_{name}") for name in LATEST_UPDATE_FIELDS}
        return TargetUpdate(target=self, **fields)

    def get_absolute_url(self):
        return self.plan.get_absolute_url() + "#targets"


class TargetUpdate(models.Model):
    """Progress reported against a target. A slip must say why."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "target__plan__authority"

    class Status(models.TextChoices):
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        OFF_TRACK = "off_track", "Off track"

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="updates")
    recorded_on = models.DateField(default=timezone.localdate)
    value = models.DecimalField(
        "latest figure", max_digits=14, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.TextField(blank=True, help_text="Required when the target is slipping.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_on", "-pk"]
        get_latest_by = ["recorded_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="on_track") | ~Q(reason=""),
                name="target_update_slip_has_reason",
                violation_error_message="Say why the target is slipping.",
            ),
        ]

    def __str__(self):
        return f"{self.get_status_display()} on {self.recorded_on:%-d %B %Y}"

    def clean(self):
        if self.status != self.Status.ON_TRACK and not self.reason.strip():
            raise ValidationError({"reason": "Say why the target is slipping."})


# The checklist ---------------------------------------------------------------


class QuestionSetQuerySet(models.QuerySet):
    def latest_version(self):
        return self.order_by("-version").first()


class QuestionSet(models.Model):
    """A version of the union's question bank. Assessments keep the version
    they were started with; a changed bank is a new version."""

    version = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=120, default="Union checklist for SV and DBV plans")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = QuestionSetQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]

    def __str__(self):
        return f"{self.title} (version {self.version})"


class Section(models.Model):
    question_set = models.ForeignKey(
        QuestionSet, on_delete=models.CASCADE, related_name="sections"
    )
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)

    class Meta:
        ordering = ["question_set", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question_set", "number"], name="section_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"


class QuestionQuerySet(models.QuerySet):
    def for_programme(self, programme):
        """The questions asked of plans of `programme` (a Programme, its id,
        or an expression relative to this query, such as OuterRef to a
        plan's programme): those that name it, and those that name no
        programme, which are asked of every plan."""
        if hasattr(programme, "resolve_expression"):
            # One level further out: the programme is compared inside Exists.
            programme = OuterRef(programme)
        named = Question.programmes.through.objects.filter(question=OuterRef("pk"))
        return self.filter(~Exists(named) | Exists(named.filter(programme=programme)))

    def with_asked_of(self, programme_ids):
        """Each question with whether it is asked of each programme of
        `programme_ids` (Question.is_asked_of), in the same query: for lists
        of several plans' questions, read once for all of them."""
        return self.annotate(
            **{
                f"asked_of_{pk}": Exists(
                    Question.objects.filter(pk=OuterRef("pk")).for_programme(pk)
                )
                for pk in programme_ids
            }
        )

    def for_plan(self, plan):
        """The questions on `plan`'s checklist, in checklist order: its
        bank's (Plan.checklist_question_set) that are asked of its
        programme. Empty when no bank is loaded."""
        bank = plan.checklist_question_set()
        if bank is None:
            return self.none()
        return self.filter(question_set=bank).for_programme(plan.programme_id)


class Question(models.Model):
    question_set = models.ForeignKey(
        QuestionSet, on_delete=models.CASCADE, related_name="questions"
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(
        max_length=80, help_text="Stays the same across versions, so answers carry forward."
    )
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    # The question as the briefing itself puts it, for people to ask at a
    # meeting; `text` is the checklist's own wording, which answers are
    # given to. Not part of what makes a version (load_programmes fills it
    # in place), since it changes how a question is put, not what it asks.
    plain_words = models.TextField(
        blank=True, help_text="The question in the briefing's own words, to ask at a meeting."
    )
    guidance = models.TextField(blank=True, help_text="What a good answer looks like.")
    # A question about some programmes only (the reform plans' ISPs; SV
    # and DBV money and diagnostics) is asked only of their plans; one
    # naming none is asked of every plan (plans/data/checklist.csv's
    # `programmes` column).
    programmes = models.ManyToManyField(
        Programme,
        blank=True,
        related_name="questions",
        help_text="Asked only of plans of these programmes; none chosen: of every plan.",
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["section__number", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["question_set", "key"], name="question_unique_key")
        ]

    def __str__(self):
        return self.text

    @property
    def to_ask(self):
        """The words to put to the authority: the briefing's plain words,
        else the checklist's wording (the reform questions, which the
        briefing predates, have none)."""
        return self.plain_words or self.text

    def is_asked_of(self, programme_id):
        """Whether the question is asked of plans of the programme
        `programme_id`: read from QuestionQuerySet.with_asked_of where it
        was read with it, else a query."""
        annotated = f"asked_of_{programme_id}"
        if hasattr(self, annotated):
            return getattr(self, annotated)
        named = [programme.pk for programme in self.programmes.all()]
        return not named or programme_id in named


class AssessmentQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """A bulk write sends no signal: the new checklists are counted here."""
        with transaction.atomic(using=self.db):
            made = super().bulk_create(objs, *args, **kwargs)
            Assessment.objects.using(self.db).filter(pk__in=[a.pk for a in made]).recount()
        return made

    def recount(self):
        """Count again each of these checklists' questions (its bank's that
        are asked of its plan's programme), answers given (a carried-forward
        one still to confirm is not) and serious concerns, and store them,
        in the current transaction: every list of plans then reads three
        columns (PlanQuerySet.summary) rather than counting each plan's
        checklist. Three queries however many checklists.

        The rows are locked first, so two saves to one checklist count one
        after the other: each count is a new statement, which on PostgreSQL
        sees what the other committed, where two counts side by side would
        each store a total without the other's answer (as
        feedback.models.FeedbackTallyQuerySet.refresh)."""
        with transaction.atomic(using=self.db):
            ids = list(self.select_for_update().order_by("pk").values_list("pk", flat=True))
            if not ids:
                return
            answers = Answer.objects.filter(assessment=OuterRef("pk"))
            questions = Question.objects.filter(
                question_set=OuterRef("question_set")
            ).for_programme(OuterRef("plan__programme"))
            counted = (
                Assessment.objects.using(self.db)
                .filter(pk__in=ids)
                .annotate(
                    questions=_count(questions, "question_set"),
                    answered=_count(answers.filter(carried_forward=False), "assessment"),
                    serious=_count(answers.filter(concern=Answer.Concern.SERIOUS), "assessment"),
                )
                .only("pk")
            )
            changed = []
            for assessment in counted:
                assessment.question_count = assessment.questions
                assessment.answered_count = assessment.answered
                assessment.serious_count = assessment.serious
                changed.append(assessment)
            Assessment.objects.using(self.db).bulk_update(
                changed, ["question_count", "answered_count", "serious_count"], batch_size=1000
            )


def _count(queryset, group_by):
    """How many rows `queryset` has, as a subquery (0 for none)."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(models.Subquery(counted), models.Value(0))


class Assessment(models.Model):
    """The union's checklist for one plan."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "plan__authority"

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="assessment")
    question_set = models.ForeignKey(
        QuestionSet, on_delete=models.PROTECT, related_name="assessments"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Its counts, kept by AssessmentQuerySet.recount() in the transaction of
    # every write that changes them (keep_checklist_counts): read by every
    # list of plans, and at ten times the data counting them on each read
    # was most of the national overview's query.
    question_count = models.PositiveIntegerField(default=0, editable=False)
    answered_count = models.PositiveIntegerField(default=0, editable=False)
    serious_count = models.PositiveIntegerField(default=0, editable=False)

    objects = AssessmentQuerySet.as_manager()

    def __str__(self):
        return f"Checklist for {self.plan}"


class AnswerQuerySet(RecountedQuerySet):
    def for_user(self, user):
        return self.filter(in_scope(user, "assessment__plan__authority"))

    # Bulk writes keep the checklists' counts (RecountedQuerySet; a delete
    # sends a signal for each answer).
    counts_depend_on = frozenset({"assessment", "assessment_id", "concern", "carried_forward"})

    def recount(self):
        return _checklists

    def recount_key(self, answer):
        return answer.assessment_id

    def recount_keys(self):
        return set(self.order_by().values_list("assessment_id", flat=True).distinct())

    def serious(self):
        """Serious concerns on current plans (a revised plan's answers are
        read on its latest revision), with the question, plan and authority
        (`serious_since`: when the concern became serious)."""
        return self.filter(
            concern=Answer.Concern.SERIOUS, assessment__plan__in=Plan.objects.current()
        ).select_related("question", "assessment__plan__authority", "assessment__plan__programme")

    def for_briefing(self):
        """Answers as dashboards and the briefing pack show them: serious
        concerns first, then some, then the rest, each in checklist order,
        with the question and its section. Private notes are not even read
        (deferred), so no page built on this can show them."""
        return (
            self.select_related("question__section", "assessment")
            .defer("private_notes")
            .order_by(
                models.Case(
                    models.When(concern=Answer.Concern.SERIOUS, then=0),
                    models.When(concern=Answer.Concern.SOME, then=1),
                    default=2,
                ),
                "question__section__number",
                "question__order",
                "question__pk",
            )
        )


class Answer(Versioned):
    """The union's answer to one question about one plan.

    `version` goes up with every save: a save that started from an older
    version is refused rather than overwriting someone else's change.
    """

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "assessment__plan__authority"

    class Response(models.TextChoices):
        YES = "yes", "Yes"
        PARTLY = "partly", "Partly"
        NO = "no", "No"
        NOT_KNOWN = "not_known", "Not known"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    class Concern(models.TextChoices):
        NONE = "none", "No concern"
        SOME = "some", "Some concern"
        SERIOUS = "serious", "Serious concern"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    response = models.CharField(max_length=20, choices=Response.choices)
    concern = models.CharField("level of concern", max_length=10, choices=Concern.choices)
    evidence = models.TextField(
        blank=True, help_text="What the answer rests on: documents, minutes, what members report."
    )
    private_notes = models.TextField(
        blank=True,
        help_text="Seen only by national officers and this authority's own representatives.",
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)
    carried_forward = models.BooleanField(
        default=False, help_text="Copied from the previous revision and not yet confirmed."
    )
    # When the concern last became serious (keep_since): a later edit of
    # the evidence does not move it.
    serious_since = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = AnswerQuerySet.as_manager()

    class Meta:
        ordering = ["question__section__number", "question__order"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "question"], name="answer_unique"),
        ]

    def save(self, *args, **kwargs):
        keep_since(self, "serious_since", self.concern == self.Concern.SERIOUS, kwargs)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.question}: {self.get_response_display()}"


class EvidenceLink(models.Model):
    """A document behind an answer, and where in it to look."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "answer__assessment__plan__authority"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="links")
    url = models.URLField("link", max_length=500)
    title = models.CharField(max_length=200, blank=True)
    # Optional: a web page has no page number, and a link's address does not
    # reliably say whether it is a document (council committee systems serve
    # PDFs from addresses such as ".../mgConvert2PDF.aspx?ID=123"), so a rule
    # on the address would ask a web page for a page number and let some
    # documents by without one. The hint asks for it where it helps.
    location = models.CharField(
        "page or paragraph",
        max_length=60,
        blank=True,
        help_text="For a document, where to look: for example, page 12 or paragraph 3.4. "
        "Leave it blank for a web page.",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["added_at", "pk"]

    def __str__(self):
        where = f" ({self.location})" if self.location else ""
        return f"{self.title or self.url}{where}"


class Comment(models.Model):
    """A remark on an answer, from anyone who may contribute (organisers and
    NEMs included)."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "answer__assessment__plan__authority"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:60]


def needs_asking(answer):
    """Whether the union still has to ask the authority a question: it has
    no answer, the answer is "not known", or the answer is of serious
    concern."""
    return (
        answer is None
        or answer.response == Answer.Response.NOT_KNOWN
        or answer.concern == Answer.Concern.SERIOUS
    )


def still_to_ask(plans, *, answers=None):
    """What the union still needs each plan's authority to answer, for the
    next Schools Forum or JCNC meeting: {plan id: {section: [(question,
    answer or None)]}}, sections and questions in checklist order.

    `plans` need their assessment selected (select_related("assessment")).
    `answers`, if the caller has read them, are every answer on their
    checklists. A plan with no question bank to answer (none loaded) is
    left out; only the questions asked of each plan's programme are listed.
    At most two queries however many plans: the questions (of the latest
    bank too, found in the same query, when a plan has no assessment yet)
    and the answers (private notes unread), unless given.
    """
    plans = list(plans)
    bank_of, assessment_of, unassessed = {}, {}, []
    for plan in plans:
        assessment = getattr(plan, "assessment", None)
        if assessment is not None:
            bank_of[plan.pk] = assessment.question_set_id
            assessment_of[plan.pk] = assessment.pk
        else:
            unassessed.append(plan.pk)
    questions = {}
    if plans:
        banks = Q(question_set__in=set(bank_of.values()))
        found = Question.objects.select_related("section")
        if unassessed:
            latest = models.Subquery(QuestionSet.objects.order_by("-version").values("pk")[:1])
            found = found.annotate(latest_bank=latest)
            banks |= Q(question_set=latest)
        found = list(found.filter(banks).with_asked_of({plan.programme_id for plan in plans}))
        for question in found:
            questions.setdefault(question.question_set_id, []).append(question)
        if unassessed and found:
            # Every row names the latest bank: its questions are among them.
            bank_of.update(dict.fromkeys(unassessed, found[0].latest_bank))
    if answers is None and assessment_of:
        answers = Answer.objects.filter(assessment__in=assessment_of.values()).defer(
            "private_notes"
        )
    answers = {(answer.assessment_id, answer.question_id): answer for answer in answers or ()}
    result = {}
    for plan in plans:
        if plan.pk not in bank_of:
            continue
        sections = result[plan.pk] = {}
        for question in questions.get(bank_of[plan.pk], []):
            if not question.is_asked_of(plan.programme_id):
                continue
            answer = answers.get((assessment_of.get(plan.pk), question.pk))
            if needs_asking(answer):
                sections.setdefault(question.section, []).append((question, answer))
    return result


def keep_since(record, field, inside, save_kwargs):
    """Keep `record.<field>` the moment it last came into a state (`inside`:
    whether it is in it as saved now): stamped when it enters, kept while
    it stays, cleared when it leaves. Called by save(), so the early
    warnings read a column rather than working it out from the history on
    every read (the migration that added the columns filled them from it)."""
    current = getattr(record, field)
    wanted = (current or timezone.now()) if inside else None
    if wanted != current:
        setattr(record, field, wanted)
        if save_kwargs.get("update_fields") is not None:
            save_kwargs["update_fields"] = {*save_kwargs["update_fields"], field}


# Local SEND reform plans (2026) ----------------------------------------------

# The programme whose plans are local SEND reform plans (plans/data/
# programme_types.csv): its plans have ReformPlanDetails and may have a
# HighNeedsStabilityGrant.
REFORM_PROGRAMME = "send-reform"
# A change in places, more or fewer: bounds no authority comes near.
PLACES_VALIDATORS = [MinValueValidator(-100_000), MaxValueValidator(100_000)]
PRINCIPLES = (
    ("early", "Early"),
    ("local", "Local"),
    ("fair", "Fair"),
    ("effective", "Effective"),
    ("shared", "Shared"),
)


# The national timeline's entry the reform plans are due by (plans/data/
# national_timeline.csv, matched by the start of its event): the High
# Needs Stability Grant, paid "in the autumn" only to authorities whose plan
# the DfE has approved. The sources read give no submission date of its own,
# so a plan not submitted as this nears is the warning (the loaded file is
# checked to have it: tests/test_reform_checklist.py).
REFORM_DEADLINE_EVENT = "High Needs Stability Grant paid"
# How long before the deadline a plan not yet submitted starts to warn.
REFORM_DEADLINE_WARNING = datetime.timedelta(weeks=8)


class ReformPlanQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(in_scope(user, "plan__authority"))

    def current(self):
        """Those of plans not replaced by a later revision, with the plan,
        its programme and authority."""
        return self.filter(plan__in=Plan.objects.current()).select_related(
            "plan__authority", "plan__programme"
        )

    def not_submitted_by_deadline(self, today):
        """Plans still in hand (not ended or completed) and not yet
        submitted to the DfE (started, draft shared, DfE feedback) when the
        timeline's deadline (REFORM_DEADLINE_EVENT) is within
        REFORM_DEADLINE_WARNING of `today`, or past; none when the timeline
        has no such entry. Each with the entry's `deadline` and
        `deadline_precision`, and `warning_from`, the day the deadline came
        within REFORM_DEADLINE_WARNING, all in the same query."""
        entry = TimelineEntry.objects.filter(event__startswith=REFORM_DEADLINE_EVENT).order_by(
            "date"
        )[:1]
        return (
            self.annotate(
                deadline=models.Subquery(entry.values("date")),
                deadline_precision=models.Subquery(entry.values("precision")),
                # Cast: PostgreSQL gives a date less an interval as a
                # timestamp, and the warning's cause must be the same date on
                # both databases (dashboards/warnings.py matches it when
                # someone has dealt with the warning).
                warning_from=Cast(
                    models.ExpressionWrapper(
                        F("deadline") - REFORM_DEADLINE_WARNING, output_field=models.DateField()
                    ),
                    output_field=models.DateField(),
                ),
            )
            .filter(
                stage__in=ReformPlanDetails.NOT_SUBMITTED,
                deadline__lte=today + REFORM_DEADLINE_WARNING,
            )
            .exclude(plan__status__in=(Plan.Status.ENDED, Plan.Status.COMPLETED))
        )

    def requirements_not_met(self):
        """Plans the DfE rated, or decided, "requirements not met", each
        with `not_met_on`: the date of the rating, or of the decision."""
        not_met = ReformPlanDetails.Rating.NOT_MET
        return self.filter(Q(rating=not_met) | Q(stage=ReformPlanDetails.Stage.NOT_MET)).annotate(
            not_met_on=Coalesce("rated_on", "decided_on")
        )

    def fewer_places_unmatched(self):
        """Plans proposing fewer special school or AP places with no
        investment in mainstream inclusion recorded
        (ReformPlanDetails.fewer_places_unmatched)."""
        return self.filter(fewer_places_since__isnull=False)


class ReformPlanDetails(Versioned):
    """What a local SEND reform plan says and where it stands with the DfE:
    one row beside its Plan (a plan of the "send-reform" programme).

    Kept apart from Plan rather than as fields on it: Plan is the record of
    every programme (SV, DBV, ESFA), and 30 fields only reform plans have
    would be blank on the rest, offered on the plan form of every SV plan
    and compared between every revision. The plan's own facts (status,
    documents, sources) stay on Plan; this is what the DfE's reform
    process adds."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "plan__authority"

    class Stage(models.TextChoices):
        """The DfE's process for a reform plan, in its order."""

        STARTED = "started", "Started"
        DRAFT_SHARED = "draft_shared", "Draft shared with the DfE"
        FEEDBACK = "feedback", "DfE feedback given"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        NOT_MET = "requirements_not_met", "Requirements not met"
        REVISED = "revised", "Revised after “requirements not met”"

    class Rating(models.TextChoices):
        """The DfE's four-level quality rating. Only the two ends are named
        in the sources read (Schools Week, 13 March 2026); the two middle
        labels are ours until the framework is published."""

        NOT_MET = "requirements_not_met", "Requirements not met"
        PARTLY_MET = "partly_met", "Partly meets requirements"
        MET = "met", "Meets requirements"
        EXCEEDED = "exceeded", "Exceeds requirements"

    class Capacity(models.TextChoices):
        EXPAND = "expand", "Expand"
        HOLD = "hold", "Hold as it is"
        REDUCE = "reduce", "Reduce"

    class IspReadiness(models.TextChoices):
        NOT_ADDRESSED = "not_addressed", "Not addressed"
        PLANNED = "planned", "Planned, without time or training set aside"
        RESOURCED = "resourced", "Planned, with time and training set aside"
        UNDER_WAY = "under_way", "Under way in schools"

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="reform")
    stage = models.CharField(
        "stage with the DfE", max_length=24, choices=Stage.choices, default=Stage.STARTED
    )
    started_on = models.DateField("date started", null=True, blank=True)
    draft_shared_on = models.DateField(
        "date the draft was shared with the DfE", null=True, blank=True
    )
    feedback_on = models.DateField("date of the DfE's feedback", null=True, blank=True)
    submitted_on = models.DateField("date submitted", null=True, blank=True)
    decided_on = models.DateField(
        "date of the DfE's decision",
        null=True,
        blank=True,
        help_text="When the DfE approved it or said requirements were not met.",
    )
    revised_on = models.DateField("date revised and sent again", null=True, blank=True)
    rating = models.CharField(
        "DfE quality rating", max_length=24, choices=Rating.choices, blank=True
    )
    rated_on = models.DateField("date of the rating", null=True, blank=True)
    rating_source_url = models.URLField("source for the rating", max_length=500, blank=True)
    health_partner = models.CharField(
        "health partner (ICB)",
        max_length=200,
        blank=True,
        help_text="The integrated care board that shares the plan.",
    )
    signed_by = models.CharField(
        "signed by",
        max_length=300,
        blank=True,
        help_text="Who signed it for the council and for health, with their posts.",
    )
    aim_early = models.TextField("early", blank=True)
    aim_local = models.TextField("local", blank=True)
    aim_fair = models.TextField("fair", blank=True)
    aim_effective = models.TextField("effective", blank=True)
    aim_shared = models.TextField("shared", blank=True)
    special_school_capacity = models.CharField(
        "special school places", max_length=10, choices=Capacity.choices, blank=True
    )
    special_school_places_change = models.IntegerField(
        "change in special school places",
        null=True,
        blank=True,
        validators=PLACES_VALIDATORS,
        help_text="How many places more (or fewer, as a negative number), if the plan says.",
    )
    ap_capacity = models.CharField(
        "alternative provision (AP) places", max_length=10, choices=Capacity.choices, blank=True
    )
    ap_places_change = models.IntegerField(
        "change in AP places",
        null=True,
        blank=True,
        validators=PLACES_VALIDATORS,
        help_text="How many places more (or fewer, as a negative number), if the plan says.",
    )
    capacity_evidence = models.TextField(
        "evidence on special school and AP places",
        blank=True,
        help_text="Where the plan says it: a link and the page or paragraph.",
    )
    mainstream_investment = models.DecimalField(
        "investment in mainstream inclusion (£)",
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="New money for inclusion in mainstream schools. Leave blank if not known.",
        **money_field,
    )
    mainstream_investment_evidence = models.TextField(
        "evidence on mainstream inclusion",
        blank=True,
        help_text="What the money pays for and where the plan says it.",
    )
    isp_readiness = models.CharField(
        "readiness for Individual Support Plans (ISPs)",
        max_length=16,
        choices=IspReadiness.choices,
        blank=True,
    )
    isp_evidence = models.TextField(
        "evidence on ISPs",
        blank=True,
        help_text="Who writes them, with what time and training, and where the plan says so.",
    )
    # When it last came to propose fewer special school or AP places with
    # no investment in mainstream inclusion recorded (keep_since): the
    # early warning's date.
    fewer_places_since = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = ReformPlanQuerySet.as_manager()

    # The stages before the plan is first submitted to the DfE.
    NOT_SUBMITTED = (Stage.STARTED, Stage.DRAFT_SHARED, Stage.FEEDBACK)

    class Meta:
        verbose_name = "reform plan details"
        verbose_name_plural = "reform plan details"
        constraints = [
            models.CheckConstraint(
                condition=Q(mainstream_investment__gte=0) | Q(mainstream_investment__isnull=True),
                name="reform_investment_not_negative",
            ),
        ]

    def save(self, *args, **kwargs):
        keep_since(self, "fewer_places_since", self.fewer_places_unmatched, kwargs)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.plan}: {self.get_stage_display()}"

    @property
    def fewer_places(self):
        """Whether the plan proposes fewer special school or AP places."""
        reduce = self.Capacity.REDUCE
        return (
            self.special_school_capacity == reduce
            or self.ap_capacity == reduce
            or (self.special_school_places_change or 0) < 0
            or (self.ap_places_change or 0) < 0
        )

    @property
    def fewer_places_unmatched(self):
        """Fewer special school or AP places, and no investment in
        mainstream inclusion recorded to take the children they would have
        taken: the briefing's "no new pressure on schools without
        resources". How much would match is not something the plan's
        figures can say, so only none at all is flagged."""
        return self.fewer_places and not self.mainstream_investment

    def get_absolute_url(self):
        return self.plan.get_absolute_url() + "#reform"

    # Each dated step, in the lifecycle's order, with the field of its date.
    DATES = (
        ("started_on", "Started"),
        ("draft_shared_on", "Draft shared with the DfE"),
        ("feedback_on", "DfE feedback given"),
        ("submitted_on", "Submitted"),
        ("decided_on", "DfE decision"),
        ("revised_on", "Revised and sent again"),
    )

    def clean(self):
        errors = {}
        dated = [(name, label, getattr(self, name)) for name, label in self.DATES]
        dated = [(name, label, when) for name, label, when in dated if when]
        for (_, before_label, before), (name, label, when) in itertools.pairwise(dated):
            if when < before:
                errors[name] = f"“{label}” cannot be before “{before_label}”."
        rating = self.rating
        if self.stage == self.Stage.APPROVED and rating == self.Rating.NOT_MET:
            errors["rating"] = "An approved plan cannot be rated “requirements not met”."
        if self.stage == self.Stage.NOT_MET and rating and rating != self.Rating.NOT_MET:
            errors["rating"] = (
                "The DfE said requirements were not met: the rating is “requirements not met”."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def aims(self):
        """The five principles with what the plan says for each ("" where
        it says nothing)."""
        return [(label, getattr(self, f"aim_{key}")) for key, label in PRINCIPLES]

    @property
    def dates(self):
        """The steps with a date, in the lifecycle's order: (label, date)."""
        return [(label, getattr(self, name)) for name, label in self.DATES if getattr(self, name)]


WRITE_OFF_SHARE = Decimal("0.90")
PENCE = Decimal("0.01")


def written_off_part(deficit):
    """The High Needs Stability Grant's share of an eligible deficit, to the
    penny (half a penny up): 90%. None when the deficit is not known."""
    if deficit is None:
        return None
    return (deficit * WRITE_OFF_SHARE).quantize(PENCE, rounding="ROUND_HALF_UP")


class GrantQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(in_scope(user, "plan__authority"))

    def held_back(self):
        """Grants withheld, or paid reduced, on plans not since revised
        (the grant moves to the revision), with the plan and its authority
        (`held_back_since`: when they came to be so)."""
        return self.filter(
            status__in=FundingInstalment.HELD_BACK, plan__in=Plan.objects.current()
        ).select_related("plan__authority", "plan__programme")


class HighNeedsStabilityGrant(Versioned):
    """The High Needs Stability Grant for one local SEND reform plan: the
    eligible deficit, the 90% written off (worked out, never typed), the 10%
    left to the authority and how it says it will meet it, and the payment,
    whose status reads like an SV instalment's (FundingInstalment).

    One per reform plan, paid (DfE, 9 February 2026) in the autumn only if
    the DfE approves the plan. An authority in Safety Valve keeps its SV plan
    and instalments; this ledger is on its reform plan beside them."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "plan__authority"

    class Figure(models.TextChoices):
        """Which figure of the deficit at 31 March 2026 the DfE used: the
        lowest of the three where they differ (the explanatory note)."""

        S251 = "s251", "S251 outturn"
        ACCOUNTS = "accounts", "Statement of accounts"
        S151 = "s151", "Assured by the s151 officer"

    Status = FundingInstalment.Status

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="stability_grant")
    eligible_deficit = models.DecimalField(
        "eligible high-needs deficit at 31 March 2026 (£)",
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="The high-needs DSG deficit the DfE counts. Leave blank if not known.",
        **money_field,
    )
    deficit_figure = models.CharField(
        "figure the DfE used", max_length=10, choices=Figure.choices, blank=True
    )
    deficit_source_url = models.URLField("source for the deficit", max_length=500, blank=True)
    remaining_plan = models.TextField(
        "how the authority says it will meet its 10%",
        blank=True,
        help_text="What it will cut, charge or move to find it, in its own words.",
    )
    due_on = models.DateField("payment due", null=True, blank=True)
    status = models.CharField(
        "payment", max_length=10, choices=FundingInstalment.Status.choices, default="due"
    )
    amount_paid = models.DecimalField(
        "amount paid (£)",
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text="For a reduced payment, what was actually paid.",
        **money_field,
    )
    paid_on = models.DateField("paid on", null=True, blank=True)
    conditions = models.TextField("conditions attached", blank=True)
    note = models.TextField(blank=True)
    # When it was last withheld or paid reduced (keep_since), as an
    # instalment's.
    held_back_since = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = "High Needs Stability Grant"
        constraints = [
            models.CheckConstraint(
                condition=Q(eligible_deficit__gte=0) | Q(eligible_deficit__isnull=True),
                name="grant_deficit_not_negative",
            ),
            # The exact bound (90%, to the penny) is clean()'s; the database
            # holds the looser one it can compare without rounding.
            models.CheckConstraint(
                condition=Q(amount_paid__isnull=True)
                | Q(eligible_deficit__isnull=True)
                | Q(amount_paid__lte=F("eligible_deficit")),
                name="grant_paid_not_more_than_deficit",
            ),
        ]

    def save(self, *args, **kwargs):
        keep_since(self, "held_back_since", self.status in FundingInstalment.HELD_BACK, kwargs)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"High Needs Stability Grant: {self.get_status_display()}"

    def get_absolute_url(self):
        return self.plan.get_absolute_url() + "#grant"

    @property
    def written_off(self):
        """90% of the eligible deficit: the grant."""
        return written_off_part(self.eligible_deficit)

    @property
    def remaining(self):
        """The 10% the authority must meet itself."""
        if self.eligible_deficit is None:
            return None
        return self.eligible_deficit - self.written_off

    @property
    def withheld(self):
        """What the DfE held back: all of it, or what a reduced payment left
        out (None when not known)."""
        if self.status == self.Status.WITHHELD:
            return self.written_off
        if self.status == self.Status.REDUCED and self.written_off is not None:
            return self.written_off - (self.amount_paid or ZERO)
        return ZERO

    def clean(self):
        """Keep the payment consistent with its status, as an instalment's."""
        paid, grant = self.amount_paid, self.written_off
        if self.status == self.Status.PAID and paid is None:
            if grant is None:
                raise ValidationError(
                    {"amount_paid": "Enter how much was paid, or the eligible deficit."}
                )
            self.amount_paid = paid = grant
        if self.status in (self.Status.DUE, self.Status.WITHHELD):
            errors = {}
            if paid is not None:
                errors["amount_paid"] = "Leave the amount paid empty for a payment not made."
            if self.paid_on:
                errors["paid_on"] = "Leave the date paid empty for a payment not made."
            if errors:
                raise ValidationError(errors)
        if self.status == self.Status.REDUCED:
            if paid is None:
                raise ValidationError({"amount_paid": "Enter how much was paid."})
            if grant is not None and paid >= grant:
                raise ValidationError(
                    {"amount_paid": "A reduced payment must be less than the 90% written off."}
                )
        if paid is not None and grant is not None and paid > grant:
            raise ValidationError(
                {"amount_paid": "The amount paid cannot be more than the 90% written off."}
            )


class TimelineEntryQuerySet(models.QuerySet):
    def coming_up(self, today, count=3):
        """The next `count` entries not yet past on `today` (an entry dated
        to a month or a season is not past until its month is), as a list.
        The whole timeline is a few dozen rows: read in one query and
        chosen here."""
        return [entry for entry in self.order_by("date", "pk") if entry.ends_on >= today][:count]


class TimelineEntry(models.Model):
    """One national event or deadline for SEND funding and reform (plans/data/
    national_timeline.csv, loaded by `manage.py load_timeline`), with how
    exact its date is and whether a primary source confirms it."""

    class Precision(models.TextChoices):
        DAY = "day", "Day"
        MONTH = "month", "Month"
        APPROXIMATE = "approximate", "Approximate"
        YEAR = "year", "Year"

    class Kind(models.TextChoices):
        POLICY = "policy", "Policy"
        PROGRAMME = "programme", "Programme"
        FUNDING = "funding", "Funding"
        REFORM = "reform", "Reform"

    date = models.DateField()
    precision = models.CharField(max_length=12, choices=Precision.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    event = models.TextField()
    source_url = models.URLField(max_length=500)
    verified = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        ordering = ["date", "pk"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.UniqueConstraint(fields=["date", "event"], name="timeline_entry_unique"),
        ]

    def __str__(self):
        return f"{self.when}: {self.event}"

    @property
    def when(self):
        """The date as exactly as it is known: "9 February 2026", "March
        2026", "around October 2026", "2029"."""
        if self.precision == self.Precision.DAY:
            return f"{self.date.day} {self.date:%B %Y}"
        if self.precision == self.Precision.MONTH:
            return f"{self.date:%B %Y}"
        if self.precision == self.Precision.YEAR:
            return str(self.date.year)
        return f"around {self.date:%B %Y}"

    @property
    def ends_on(self):
        """The last day the date could mean."""
        if self.precision == self.Precision.DAY:
            return self.date
        if self.precision == self.Precision.YEAR:
            return self.date.replace(month=12, day=31)
        following = self.date.replace(day=28) + datetime.timedelta(days=4)
        return following - datetime.timedelta(days=following.day)


# Keeping the checklists' counts -------------------------------------------

# The checklists whose answers writes touch, counted again
# (AssessmentQuerySet.recount) at each write, or once at the end of
# counting_checklists_later(): for writes of many answers (a revision's
# carried-forward checklist, a bulk write).
_checklists = Recount(
    "checklists_touched", lambda ids: Assessment.objects.filter(pk__in=ids).recount()
)
counting_checklists_later = _checklists.later


def _answer_written(sender, instance, **kwargs):
    _checklists.touched({instance.assessment_id})


def _assessment_saved(sender, instance, created, raw=False, **kwargs):
    # A new checklist's size; its bank and plan are not changed afterwards.
    if created and not raw:
        Assessment.objects.filter(pk=instance.pk).recount()


def _plan_saved(sender, instance, created, raw=False, **kwargs):
    # A plan moved to another programme is asked other questions. (A new
    # plan has no checklist yet.)
    if not created and not raw:
        Assessment.objects.filter(plan=instance.pk).recount()


def _question_changed(sender, instance, raw=False, **kwargs):
    # A question added to, taken from or moved between programmes of a bank
    # already in use (the admin; load_programmes makes a new bank instead).
    if not raw:
        Assessment.objects.filter(question_set=instance.question_set_id).recount()


def _question_programmes_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if not reverse:
        checklists = Assessment.objects.filter(question_set=instance.question_set_id)
    elif pk_set is None:  # a programme cleared of its questions: which is not known
        checklists = Assessment.objects.all()
    else:  # from the programme's side: `pk_set` names the questions
        banks = Question.objects.filter(pk__in=pk_set).values("question_set")
        checklists = Assessment.objects.filter(question_set__in=banks)
    checklists.recount()


def keep_checklist_counts():
    """Called once, from PlansConfig.ready(): every write that changes what
    a checklist counts counts it again (bulk writes of answers and
    checklists, which send no signal, through their querysets' own
    bulk_create and update; a write behind the ORM's back calls
    AssessmentQuerySet.recount itself)."""
    for signal in (models.signals.post_save, models.signals.post_delete):
        signal.connect(_answer_written, sender=Answer, dispatch_uid=f"checklist-answer-{signal!r}")
        signal.connect(
            _question_changed, sender=Question, dispatch_uid=f"checklist-question-{signal!r}"
        )
    models.signals.post_save.connect(
        _assessment_saved, sender=Assessment, dispatch_uid="checklist-assessment"
    )
    models.signals.post_save.connect(_plan_saved, sender=Plan, dispatch_uid="checklist-plan")
    models.signals.m2m_changed.connect(
        _question_programmes_changed,
        sender=Question.programmes.through,
        dispatch_uid="checklist-question-programmes",
    )
