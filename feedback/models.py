"""Feedback from SENCO and headteacher networks and members, and its use as
evidence on plans' checklists.

Who may see what:
- anyone covering an authority sees its aggregates (small numbers suppressed,
  see aggregates.py);
- individual submissions are read by national officers, regional organisers
  and NEMs over the region, and the authority's LNS, Schools Forum and
  JCNC/JCC representatives (the people who use them as evidence: Can.
  READ_SUBMISSIONS in authorities/access.py), and by the person who
  submitted one;
- who submitted is shown only to national officers and the submitter.
"""

from collections import Counter
from datetime import date, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Count, Q
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from authorities.access import READER_ROLES, Can, covering, in_scope
from authorities.edits import Versioned
from authorities.models import LocalAuthority, MultiAcademyTrust
from authorities.recounting import Recount, RecountedQuerySet
from plans.models import Plan, Question

from .tallies import (
    COUNTED_FIELDS,
    MAINSTREAM,
    OTHER,
    PHASE_GROUPS,
    SPECIAL,
    STORED_FIELDS,
    Counts,
    count_by_term,
    histogram,
    median,
    term_dates,
    term_key,
    term_label,
)

# A submitter may change or withdraw their submission for this long.
EDIT_WINDOW = timedelta(days=14)
MAX_WAIT_WEEKS = 156  # three years: anything longer is a typing mistake
MAX_PEOPLE = 500

SMALL_NUMBER = 5
FEWER = f"fewer than {SMALL_NUMBER}"


def term_of(day):
    """The school term a date falls in, as a sortable key and a label:
    autumn is September to December, spring January to April, summer May
    to August."""
    key = term_key(day)
    return key, term_label(key)


class Source(models.TextChoices):
    SENCO_NETWORK = "senco_network", "A SENCO network"
    HEADTEACHER_NETWORK = "headteacher_network", "A headteacher network"
    MEMBER = "member", "A member"


class Phase(models.TextChoices):
    EARLY_YEARS = "early_years", "Early years"
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    ALL_THROUGH = "all_through", "All-through"
    SPECIAL = "special", "Special"
    ALTERNATIVE_PROVISION = "alternative_provision", "Alternative provision"
    POST_16 = "post_16", "Post-16"

    @property
    def group(self):
        """special, mainstream or other (PhaseGroup), as the tallies count it."""
        return PhaseGroup(PHASE_GROUPS[self.value])


class PhaseGroup(models.TextChoices):
    """The briefing's section 7 groups of setting phases (feedback/tallies.py
    PHASE_GROUPS says which phase is in which), in the order pages show them."""

    SPECIAL = SPECIAL, "Special schools"
    MAINSTREAM = MAINSTREAM, "Mainstream schools"
    OTHER = OTHER, "Other settings (early years, alternative provision, post-16)"


class Pressure(models.TextChoices):
    RISING_NEED = "rising_need", "More pupils with SEND, or more complex needs"
    SUPPORT_STAFF = "support_staff", "Too few teaching assistants or support staff"
    SENCO_TIME = "senco_time", "Not enough SENCO time"
    SCHOOL_FUNDING = "school_funding", "Funding for SEN support in school"
    MENTAL_HEALTH = "mental_health", "Behaviour, mental health and wellbeing needs"
    SPECIAL_PLACES = "special_places", "Too few special school or resource base places"
    WITHOUT_EHCP = "without_ehcp", "Pressure to meet needs without an EHCP"
    WAITING = "waiting", "Waiting for assessments and specialist services"


class Barrier(models.TextChoices):
    SPECIALIST_ADVICE = "specialist_advice", "Access to specialist advice and expertise"
    EDUCATIONAL_PSYCHOLOGY = "educational_psychology", "Educational psychology"
    THERAPIES = "therapies", "Speech and language, occupational and other therapies"
    CAMHS = "camhs", "Child and adolescent mental health services (CAMHS)"
    STAFFING = "staffing", "Staffing"
    TRAINING = "training", "Training and professional development"
    FUNDING = "funding", "Funding"
    PLACES = "places", "Places in specialist provision"


class HealthCosts(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


class Practice(models.TextChoices):
    """The practices the briefing says are likely to be unlawful."""

    BUREAUCRATIC = "bureaucratic", "Bureaucratic application arrangements"
    REFUSING = "refusing", "Systematically refusing initial applications for assessment or support"
    EXTRA_INFORMATION = (
        "extra_information",
        "Asking for additional but unnecessary information before accepting a request "
        "for assessment",
    )


# Each practice's optional example, by field.
PRACTICE_EXAMPLES = {
    Practice.BUREAUCRATIC: "bureaucratic_example",
    Practice.REFUSING: "refusing_example",
    Practice.EXTRA_INFORMATION: "extra_information_example",
}


@deconstructible
class ChoiceList:
    """Validates a JSON list of `choices` values, so the admin and any other
    writer cannot store a value the aggregates do not know."""

    def __init__(self, choices):
        self.values = sorted(choices)

    def __call__(self, value):
        if not isinstance(value, list) or not set(value) <= set(self.values):
            raise ValidationError("Choose from the list.")

    def __eq__(self, other):
        return isinstance(other, ChoiceList) and self.values == other.values


# The authority's columns read with its submissions' waits, so a WaitRise
# carries its authority without another query (LocalAuthority.from_db: in
# the model's field order).
WAIT_AUTHORITY_FIELDS = ("id", "la_code", "gss_code", "name", "slug", "region_id")


class WaitRise(NamedTuple):
    """An authority whose median wait for an EHC needs assessment rose this
    term (FeedbackSubmissionQuerySet.assessment_waits_rising)."""

    authority: LocalAuthority
    median: float
    last_median: float
    term: str  # "Spring 2026"
    last_term: str
    latest: date  # the latest meeting this term that gave a wait


class FeedbackSubmissionQuerySet(RecountedQuerySet):
    def for_user(self, user):
        """Submissions a person may read one by one (one query): see the
        module's docstring. Withdrawn ones are included; see active()."""
        return self.filter(in_scope(user, "authority")).filter(
            covering(user, READER_ROLES, region="authority__region_id", authority="authority_id")
            | Q(submitted_by=user.pk)
        )

    def readable_by(self, user):
        """The rows for_user() gives, with the scope read first into two
        short lists of authorities (two small queries): the authorities
        whose feedback this person reads, and those where they read only
        their own. The query left has no correlated subquery, so PostgreSQL
        can read it on several cores: for the export of every submission."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        in_scope = list(LocalAuthority.objects.for_user(user).values_list("pk", flat=True))
        # for_user()'s conditions, asked of each authority in scope.
        reads_all = LocalAuthority.objects.filter(pk__in=in_scope).filter(
            covering(user, READER_ROLES, region="region_id", authority="pk")
        )
        reads_all = list(reads_all.values_list("pk", flat=True))
        return self.filter(
            Q(authority__in=reads_all) | Q(authority__in=in_scope, submitted_by=user)
        )

    def active(self):
        """Not withdrawn: what lists, aggregates and evidence counts use."""
        return self.filter(withdrawn_at__isnull=True)

    def forget(self, user):
        """Erase `user` from feedback (`manage.py person_erase`): what they
        withdrew is deleted; the rest is kept only as figures, with no free
        text (nor the points quoted from it as evidence) and no link to them.
        Called by name for each model that has it, so authorities need not
        know feedback."""
        theirs = self.filter(submitted_by=user)
        theirs.filter(withdrawn_at__isnull=False).delete()
        FeedbackEvidence.objects.filter(submission__in=theirs).update(point="")
        theirs.update(
            submitted_by=None,
            anonymised_at=timezone.now(),
            **dict.fromkeys(("pressures_other", "working_well", "barriers_other"), ""),
            **dict.fromkeys(PRACTICE_EXAMPLES.values(), ""),
        )

    def reporting_practices(self):
        """Active submissions reporting at least one likely-unlawful practice,
        with their authority."""
        return self.active().exclude(practices=[]).select_related("authority")

    # Writes that send no signal for each row still keep the tallies: the
    # terms they touch are counted again once, in the same transaction
    # (RecountedQuerySet, and delete() here). The fields whose change
    # changes a submission's counts, or which counts it is in:
    counts_depend_on = frozenset({*COUNTED_FIELDS, "authority", "authority_id", "withdrawn_at"})

    def recount(self):
        return _tallies

    def recount_key(self, submission):
        return submission.tally_key()

    def recount_keys(self):
        rows = self.order_by().values_list("authority_id", "meeting_date").distinct()
        return {(authority_id, term_key(day)) for authority_id, day in rows}

    def delete(self):
        with transaction.atomic(using=self.db), counting_later() as touched:
            touched.update(self.recount_keys())
            return super().delete()

    def with_enough_per_authority(self):
        """Only submissions of authorities with at least SMALL_NUMBER of them
        in this queryset, so an export cannot single out a small group."""
        enough = (
            self.order_by()
            .values("authority")
            .annotate(n=Count("pk"))
            .filter(n__gte=SMALL_NUMBER)
            .values("authority")
        )
        return self.filter(authority__in=enough)


def _wait_weeks(verbose_name):
    return models.PositiveSmallIntegerField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_WAIT_WEEKS)],
    )


def _example(practice):
    label = f"example of {practice.label[0].lower()}{practice.label[1:]}"
    return models.TextField(label, blank=True)


class FeedbackSubmission(Versioned):
    """What one meeting or one member said about SEND in one authority. A
    meeting of 12 SENCOs is one submission speaking for 12 people."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "authority"

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="feedback_submissions"
    )
    source = models.CharField("who is it from", max_length=24, choices=Source.choices)
    phases = models.JSONField(
        "setting phases", default=list, validators=[ChoiceList(Phase.values)], blank=True
    )
    people_count = models.PositiveSmallIntegerField(
        "how many people it speaks for",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PEOPLE)],
    )
    meeting_date = models.DateField("date of the meeting")
    pressures = models.JSONField(
        default=list, blank=True, validators=[ChoiceList(Pressure.values)]
    )
    pressures_other = models.TextField("other pressures", blank=True)
    working_well = models.TextField("what is working well", blank=True)
    barriers = models.JSONField(default=list, blank=True, validators=[ChoiceList(Barrier.values)])
    barriers_other = models.TextField("other barriers", blank=True)
    assessment_wait_weeks = _wait_weeks("typical wait for an EHC needs assessment, in weeks")
    support_wait_weeks = _wait_weeks("typical wait for support to start, in weeks")
    health_care_costs = models.CharField(
        "do health and social care meet the costs agreed in EHCPs?",
        max_length=10,
        choices=HealthCosts.choices,
    )
    practices = models.JSONField(
        "practices reported", default=list, blank=True, validators=[ChoiceList(Practice.values)]
    )
    bureaucratic_example = _example(Practice.BUREAUCRATIC)
    refusing_example = _example(Practice.REFUSING)
    extra_information_example = _example(Practice.EXTRA_INFORMATION)
    trust = models.ForeignKey(
        MultiAcademyTrust,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_submissions",
        verbose_name="multi-academy trust",
        help_text="If the feedback is about schools in one trust, choose it.",
    )
    consent_to_share = models.BooleanField(
        "the national office may use this feedback, without names, in its reports and campaigning",
        default=False,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    # A default rather than auto_now_add, so bulk_create and imports can set it.
    submitted_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    national_office_told_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = FeedbackSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-meeting_date", "-pk"]
        indexes = [
            models.Index(fields=["authority", "meeting_date"], name="feedback_authority_date_idx"),
            # The lists' order: a page of the newest is read off the index
            # instead of sorting every submission in scope.
            models.Index(fields=["-meeting_date", "-id"], name="feedback_newest_first_idx"),
            # The active submissions of each authority, with who made them:
            # the lists count those a person may read (their scope, or their
            # own) off this index alone. Counting London's 215,000 at 10x
            # data read a page of the table for each: 272 → 33 ms.
            models.Index(
                fields=["authority", "submitted_by"],
                condition=Q(withdrawn_at__isnull=True),
                name="feedback_active_idx",
            ),
            # The few that report a likely-unlawful practice, by authority
            # and newest first, for the early warnings (reporting_practices):
            # read off this rather than by looking at every submission's
            # practices (at 10x data, 570 ms of a region page's counts).
            # With the id, counting them is read off the index alone (an
            # index-only scan: nationally 12 → 5 ms at 1x).
            models.Index(
                fields=["authority", "-submitted_at", "id"],
                condition=Q(withdrawn_at__isnull=True) & ~Q(practices=[]),
                name="feedback_la_practices_id_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(people_count__gte=1, people_count__lte=MAX_PEOPLE),
                name="feedback_people_count_1_to_500",
            ),
            models.CheckConstraint(
                condition=Q(assessment_wait_weeks__isnull=True)
                | Q(assessment_wait_weeks__lte=MAX_WAIT_WEEKS),
                name="feedback_assessment_wait_at_most_156",
            ),
            models.CheckConstraint(
                condition=Q(support_wait_weeks__isnull=True)
                | Q(support_wait_weeks__lte=MAX_WAIT_WEEKS),
                name="feedback_support_wait_at_most_156",
            ),
        ]

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        submission = super().from_db(db, field_names, values, **kwargs)
        # The term whose counts it is in, should a save move it to another.
        submission._counted_in = submission.tally_key()
        return submission

    def tally_key(self):
        """(authority id, (year, term)): the FeedbackTally it is counted
        in; None before it has both (or while either is not loaded)."""
        if {"authority_id", "meeting_date"} - self.__dict__.keys():
            return None
        if self.authority_id is None or self.meeting_date is None:
            return None
        # As given, a date may still be text ("2026-10-01"): as stored.
        day = self._meta.get_field("meeting_date").to_python(self.meeting_date)
        return self.authority_id, term_key(day)

    def __str__(self):
        return f"{self.get_source_display()}, {self.authority}, {self.meeting_date:%-d %B %Y}"

    def get_absolute_url(self):
        return reverse("feedback:detail", kwargs={"pk": self.pk})

    def clean(self):
        errors = {}
        for practice, field in PRACTICE_EXAMPLES.items():
            if getattr(self, field).strip() and practice.value not in (self.practices or []):
                errors[field] = f"Tick “{practice.label}”, or clear its example"
        if self.meeting_date and self.meeting_date > timezone.localdate():
            errors["meeting_date"] = "The date of the meeting must be today or in the past"
        if self.authority_id and self.trust_id and not self.trust.covers(self.authority_id):
            errors["trust"] = "Choose a trust that runs schools in this authority"
        if errors:
            raise ValidationError(errors)

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None

    @property
    def change_deadline(self):
        return self.submitted_at + EDIT_WINDOW

    def can_change(self, user):
        """Only the submitter, only for EDIT_WINDOW, and not once withdrawn."""
        return (
            user.is_authenticated
            and self.submitted_by_id == user.pk
            and not self.is_withdrawn
            and timezone.now() <= self.change_deadline
        )

    def shows_submitter_to(self, user):
        return self.submitted_by_id == user.pk or user.may(Can.SEE_SUBMITTERS)

    def source_in_a_sentence(self):
        """Who it is from, to follow "Feedback from": "a SENCO network"."""
        label = self.get_source_display()
        return label[:1].lower() + label[1:]

    def labels(self, field, choices):
        """The chosen options' labels, in the order the form lists them."""
        chosen = set(getattr(self, field) or [])
        return [label for value, label in choices.choices if value in chosen]

    def phase_labels(self):
        return self.labels("phases", Phase)

    def pressure_labels(self):
        return self.labels("pressures", Pressure)

    def barrier_labels(self):
        return self.labels("barriers", Barrier)

    def reported_practices(self):
        """(label, example) for each practice reported."""
        chosen = set(self.practices or [])
        return [
            (practice.label, getattr(self, PRACTICE_EXAMPLES[practice]))
            for practice in Practice
            if practice.value in chosen
        ]

    def withdraw(self):
        self.withdrawn_at = timezone.now()
        self.save(update_fields=["withdrawn_at", "updated_at"])


# Keeping the tallies ------------------------------------------------------

# The tallies' keys that writes touch, counted again (FeedbackTally.objects.
# refresh) at each write, or once at the end of counting_later().
_tallies = Recount("feedback_tallies_touched", lambda keys: FeedbackTally.objects.refresh(keys))
counting_later = _tallies.later


def _count_again(sender, instance, **kwargs):
    """After a submission is saved or deleted: count again the term it was
    in and the term it is in now (a new date or authority moves it)."""
    keys = {getattr(instance, "_counted_in", None), instance.tally_key()}
    instance._counted_in = instance.tally_key()
    _tallies.touched(keys)


def keep_tallies():
    """Called once, from FeedbackConfig.ready()."""
    for signal in (post_save, post_delete):
        signal.connect(_count_again, sender=FeedbackSubmission, dispatch_uid=f"tally-{signal!r}")


# Beyond this many terms, a recount reads the authorities' every submission
# rather than naming each term in the query.
FEW_TERMS = 10


class FeedbackTallyQuerySet(models.QuerySet):
    def refresh(self, keys):
        """Count again the active submissions of each (authority id, (year,
        term)) in `keys` and store the counts, in the current transaction
        (a term with none left loses its row).

        The authorities' rows are locked first, so two saves for one
        authority count one after the other: each count is a new statement,
        which on PostgreSQL sees what the other committed, where two counts
        side by side would each store a total without the other's
        submission."""
        keys = {key for key in keys if key is not None}
        if not keys:
            return
        authority_ids = sorted({authority_id for authority_id, _ in keys})
        with transaction.atomic(using=self.db):
            locked = LocalAuthority.objects.using(self.db).select_for_update()
            list(locked.filter(pk__in=authority_ids).order_by("pk").values_list("pk"))
            whole = len(keys) > FEW_TERMS
            if whole:
                # Whole authorities: each of their terms is counted again.
                where = Q(authority_id__in=authority_ids)
                stored = Q(authority_id__in=authority_ids)
            else:
                where, stored = Q(pk__in=[]), Q(pk__in=[])
                for authority_id, (year, term) in keys:
                    where |= Q(
                        authority_id=authority_id, meeting_date__range=term_dates((year, term))
                    )
                    stored |= Q(authority_id=authority_id, year=year, term=term)
            submissions = FeedbackSubmission.objects.using(self.db).active().filter(where)
            found = count_by_term(
                submissions.order_by().values_list("authority_id", *COUNTED_FIELDS).iterator()
            )
            self.model.objects.using(self.db).filter(stored).delete()
            self.model.objects.using(self.db).bulk_create(
                self.model(authority_id=authority_id, year=year, term=term, **counts.as_fields())
                for (authority_id, (year, term)), counts in found.items()
                if whole or (authority_id, (year, term)) in keys
            )
            FeedbackTotal.objects.using(self.db).add_up(authority_ids)

    def rebuild(self):
        """Every tally counted again from every submission, and every
        authority's total added up again: `manage.py
        count_feedback_again`, should they ever be in doubt."""
        with transaction.atomic(using=self.db):
            FeedbackTally.objects.using(self.db).all().delete()
            FeedbackTotal.objects.using(self.db).all().delete()
            submissions = FeedbackSubmission.objects.using(self.db).active().order_by()
            rows = submissions.values_list("authority_id", *COUNTED_FIELDS).iterator(10_000)
            by_term = count_by_term(rows)
            FeedbackTally.objects.using(self.db).bulk_create(
                (
                    FeedbackTally(authority_id=a, year=year, term=term, **counts.as_fields())
                    for (a, (year, term)), counts in by_term.items()
                ),
                batch_size=1000,
            )
            totals = {}
            for (authority_id, _), counts in by_term.items():
                totals.setdefault(authority_id, Counts())
                totals[authority_id] += counts
            FeedbackTotal.objects.using(self.db).store(totals)

    def parts(self):
        """[(authority name, slug, (year, term), Counts)] in one query: what
        feedback.aggregates.FeedbackSummary adds up."""
        rows = self.order_by().values_list(
            "authority__name", "authority__slug", "year", "term", *STORED_FIELDS
        )
        return [
            (name, slug, (year, term), Counts.from_fields(*rest))
            for name, slug, year, term, *rest in rows
        ]

    def by_term(self):
        """[((year, term), Counts)] in one query, a row an authority and
        term, each with only its submissions, people and assessment waits:
        what a line a term shows (FeedbackSummary), read without the rest
        of each tally."""
        rows = self.order_by().values_list(
            "year", "term", "submissions", "people", "assessment_waits"
        )
        return [
            (
                (year, term),
                Counts(
                    submissions=submissions,
                    people=people,
                    assessment_waits=histogram(waits),
                ),
            )
            for year, term, submissions, people, waits in rows
        ]

    def submissions_and_waits(self):
        """{authority id: (submissions, Counter of assessment waits in
        weeks)} over all its terms, in one query: what a row of the overview
        shows, read without the rest of each tally (its other histograms and
        phase groups would cost far more to decode than to show)."""
        found = {}
        rows = self.order_by().values_list("authority_id", "submissions", "assessment_waits")
        for authority_id, submissions, waits in rows:
            total, counted = found.get(authority_id, (0, Counter()))
            counted.update(histogram(waits))
            found[authority_id] = (total + submissions, counted)
        return found

    def assessment_waits_rising(self, *, above, reveal_small_numbers, today=None):
        """Where the median wait for an EHC needs assessment this term (the
        school term `today` falls in, term_of) is more than `above` weeks
        and more than last term's, read in one query: a WaitRise for each
        such authority, by name. (Meetings are never in the future,
        FeedbackSubmission.clean: this term's tally holds what happened up
        to today.)

        A median needs SMALL_NUMBER submissions giving a wait in its term
        unless `reveal_small_numbers` (national officers), as everywhere
        feedback figures are shown: fewer and the authority is left out.
        """
        today = today or timezone.localdate()
        (year, term), this_label = term_of(today)
        last_year, last_term = (year, term - 1) if term > 1 else (year - 1, 3)
        rows = (
            self.filter(Q(year=year, term=term) | Q(year=last_year, term=last_term))
            .order_by()
            .values_list(
                *(f"authority__{field}" for field in WAIT_AUTHORITY_FIELDS),
                "year",
                "term",
                "assessment_waits",
                "latest_wait_on",
            )
        )
        this_term, previous_term, latest = {}, {}, {}
        for *authority, row_year, row_term, waits, latest_on in rows:
            authority = tuple(authority)
            waits = histogram(waits)
            if (row_year, row_term) == (year, term):
                this_term[authority] = waits
                latest[authority] = latest_on
            else:
                previous_term[authority] = waits
        enough = 1 if reveal_small_numbers else SMALL_NUMBER
        found = []
        for authority, waits in this_term.items():
            before = previous_term.get(authority, Counter())
            if waits.total() < enough or before.total() < enough:
                continue
            this_median, last_median = median(waits), median(before)
            if this_median > above and this_median > last_median:
                found.append(
                    WaitRise(
                        authority=LocalAuthority.from_db(
                            self.db, WAIT_AUTHORITY_FIELDS, authority
                        ),
                        median=this_median,
                        last_median=last_median,
                        term=this_label,
                        last_term=term_label((last_year, last_term)),
                        latest=latest[authority],
                    )
                )
        return sorted(found, key=lambda rise: rise.authority.name)


class StoredCounts(models.Model):
    """tallies.Counts as stored: the sums, histograms and counts of some
    active submissions (Counts.as_fields and from_fields, in
    STORED_FIELDS' order)."""

    submissions = models.PositiveIntegerField()
    people = models.PositiveIntegerField()
    # Histograms, {"weeks": submissions}, and counts, {"option": submissions}.
    assessment_waits = models.JSONField(default=dict)
    support_waits = models.JSONField(default=dict)
    health_care_costs = models.JSONField(default=dict)
    pressures = models.JSONField(default=dict)
    barriers = models.JSONField(default=dict)
    practices = models.JSONField(default=dict)
    latest_wait_on = models.DateField(null=True)
    # {PhaseGroup: the stored counts of the submissions naming a phase in it}.
    phase_groups = models.JSONField(default=dict)

    class Meta:
        abstract = True


class FeedbackTally(StoredCounts):
    """The counts of one authority's active feedback in one school term
    (feedback/tallies.py), kept in step with its submissions in the
    transaction that changes them: the pages add these up rather than
    count the submissions themselves."""

    authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    term = models.PositiveSmallIntegerField(choices=[(1, "Spring"), (2, "Summer"), (3, "Autumn")])

    objects = FeedbackTallyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "year", "term"], name="feedback_tally_one_a_term"
            )
        ]

    def __str__(self):
        return f"{self.authority_id} {term_label((self.year, self.term))}"


class FeedbackTotalQuerySet(models.QuerySet):
    def add_up(self, authority_ids):
        """Add up again the tallies of each of `authority_ids` and store
        the totals: in the transaction, and under the lock, of the recount
        of their tallies (FeedbackTallyQuerySet.refresh); an authority with
        no tally left loses its total."""
        rows = (
            FeedbackTally.objects.using(self.db)
            .filter(authority_id__in=authority_ids)
            .order_by()
            .values_list("authority_id", *STORED_FIELDS)
        )
        totals = {}
        for authority_id, *stored in rows:
            totals.setdefault(authority_id, Counts())
            totals[authority_id] += Counts.from_fields(*stored)
        self.filter(authority_id__in=authority_ids).delete()
        self.store(totals)

    def store(self, totals):
        """Save {authority id: Counts} as the authorities' totals."""
        self.bulk_create(
            (
                self.model(authority_id=authority_id, **counts.as_fields())
                for authority_id, counts in totals.items()
            ),
            batch_size=1000,
        )

    def lines(self):
        """[(authority name, slug, Counts)] in one query: what a page with a
        line for each authority adds up (feedback.aggregates.FeedbackSummary)."""
        rows = self.order_by().values_list("authority__name", "authority__slug", *STORED_FIELDS)
        return [(name, slug, Counts.from_fields(*rest)) for name, slug, *rest in rows]


class FeedbackTotal(StoredCounts):
    """All one authority's tallies added up, kept with them (in the same
    transaction, FeedbackTallyQuerySet.refresh): a region's page adds up a
    row an authority, where its tallies are one an authority and term (at
    10x data London's are 3,300, and decoding and adding them was a
    quarter of the page's time)."""

    authority = models.OneToOneField(
        LocalAuthority, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    objects = FeedbackTotalQuerySet.as_manager()

    def __str__(self):
        return f"{self.authority_id} all terms"


class Stance(models.TextChoices):
    SUPPORTS = "supports", "Supports the plan"
    CONTRADICTS = "contradicts", "Contradicts the plan"


class FeedbackEvidenceQuerySet(models.QuerySet):
    def for_plan(self, plan):
        """Evidence on a plan from submissions not withdrawn."""
        return self.filter(plan=plan, submission__withdrawn_at__isnull=True)

    def counts_by_question(self):
        """{question id: {stance: n}} in one query."""
        counts = {}
        rows = self.order_by().values("question_id", "stance").annotate(n=Count("pk"))
        for row in rows:
            counts.setdefault(row["question_id"], {})[row["stance"]] = row["n"]
        return counts


class FeedbackEvidence(models.Model):
    """A submission (or one point in it) linked to a question of a plan's
    checklist, as evidence that supports or contradicts what the plan says."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "plan__authority"

    submission = models.ForeignKey(
        FeedbackSubmission, on_delete=models.CASCADE, related_name="evidence"
    )
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="feedback_evidence")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    stance = models.CharField(max_length=12, choices=Stance.choices)
    point = models.TextField(
        "the point it makes",
        blank=True,
        help_text="Optional: the part of the feedback that bears on this question, in a "
        "sentence or two. No names.",
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    objects = FeedbackEvidenceQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "feedback evidence"
        ordering = ["-linked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "plan", "question"],
                name="feedback_evidence_once_per_question",
                violation_error_message="This feedback is already linked to this question.",
            ),
        ]

    def __str__(self):
        return f"{self.submission} {self.get_stance_display().lower()} ({self.question.key})"


class FeedbackExport(models.Model):
    """A record of each CSV export: who, when and with what filter."""

    # The address is copied so the record outlives the person's account.
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    exported_by_email = models.EmailField()
    exported_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField("from address", null=True, blank=True)
    filters = models.JSONField(default=dict, help_text="The filter as chosen on the page.")
    with_submitters = models.BooleanField(default=False)
    small_numbers_withheld = models.BooleanField(
        default=True,
        help_text="Whether authorities with fewer than 5 submissions were left out.",
    )

    class Meta:
        ordering = ["-exported_at"]

    def __str__(self):
        return f"Export by {self.exported_by_email} on {self.exported_at:%-d %B %Y %H:%M}"
