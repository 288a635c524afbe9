"""What only the dashboards record: each download of the overview, the
early warnings people have dealt with, and each report to the national
office."""

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from authorities.access import CONFIDENTIAL_ROLES, READER_ROLES, covering, in_scope
from authorities.edits import Versioned
from authorities.models import LocalAuthority, User
from plans.models import Answer

# What is said on marking a warning dealt with, or reopening it.
NOTE_LENGTH = 2000
CAUSE_LENGTH = 64


class DashboardExport(models.Model):
    """A record of each download of the overview table: who, when, in what
    format, and with which filters."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    # The address is copied so the record outlives the person's account.
    exported_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    exported_by_email = models.EmailField()
    exported_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField("from address", null=True, blank=True)
    format = models.CharField(max_length=4, choices=Format.choices)
    filters = models.JSONField(
        default=dict, blank=True, help_text="The filters and sort as chosen on the page."
    )
    description = models.CharField(
        max_length=500, help_text="The filters in words, as the page states them."
    )
    row_count = models.PositiveIntegerField("authorities exported")
    small_numbers_withheld = models.BooleanField(
        default=True,
        help_text="Whether feedback figures from fewer than 5 submissions showed as "
        "“fewer than 5”.",
    )

    class Meta:
        # Its table from when it lived in authorities: moved, not rebuilt.
        db_table = "authorities_dashboardexport"
        ordering = ["-exported_at"]

    def __str__(self):
        return f"Overview export by {self.exported_by_email} on {self.exported_at:%-d %B %Y %H:%M}"


def cause_key(cause):
    """A warning's cause as stored text: a moment in UTC to the microsecond,
    a date, any other value as written, or "" when the records do not say.
    Two warnings of one kind about one record are the same warning only if
    their causes have the same key."""
    if cause is None:
        return ""
    if isinstance(cause, datetime.datetime):
        return cause.astimezone(datetime.UTC).isoformat()
    if isinstance(cause, datetime.date):
        return cause.isoformat()
    return str(cause)[:CAUSE_LENGTH]


class WarningDealtWithQuerySet(models.QuerySet):
    def for_user(self, user):
        """Records at the authorities a person may see. Which warnings they
        may see is the warnings' readers' business (dashboards/warnings.py):
        a record is only ever shown beside its warning."""
        return self.filter(in_scope(user, "authority"))

    def current(self):
        """Those not reopened: their warnings are not open."""
        return self.filter(reopened_at__isnull=True)

    def mark(self, warning, *, user, note):
        """Record that `user` dealt with `warning` (an EarlyWarning of
        dashboards/warnings.py), saying what was done. A warning already
        dealt with raises IntegrityError (warning_dealt_with_once)."""
        kind, subject_pk, cause = warning.key
        # Typed too, for the readers' queries (KindReader.dealt_with).
        moment = warning.cause if isinstance(warning.cause, datetime.datetime) else None
        day = warning.cause if isinstance(warning.cause, datetime.date) and not moment else None
        return self.create(
            authority=warning.authority,
            kind=kind,
            subject_id=subject_pk,
            cause=cause,
            cause_at=moment,
            cause_on=day,
            note=note,
            dealt_with_by=user,
        )


class WarningDealtWith(Versioned):
    """Someone dealt with an early warning, and said how (`note`).

    A warning is identified by its kind, the record it is about (`subject_id`:
    the reader's row, or the authority for a figure worked out over it) and
    its cause: the moment or date that made it (an instalment held back on
    this day, an answer made serious at this time, this term's waits). When
    the cause recurs (a new withheld instalment is a new subject; the same
    answer made serious again after being cleared is a new cause), the
    warning is open again, since no record matches it. Reopening by hand
    keeps the record, with who reopened it and why; its history keeps every
    version.

    `kind` is not bound to the kinds' choices: a new kind of warning needs
    no migration. `cause` is the key the database holds unique; `cause_at`
    or `cause_on` the same cause, typed, so the warnings' queries can leave
    out those dealt with (dashboards/warnings.py)."""

    authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=40)
    subject_id = models.PositiveBigIntegerField()
    cause = models.CharField(max_length=CAUSE_LENGTH, blank=True)
    cause_at = models.DateTimeField(null=True, blank=True)
    cause_on = models.DateField(null=True, blank=True)
    note = models.TextField("What was done", max_length=NOTE_LENGTH)
    dealt_with_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dealt_with_at = models.DateTimeField(default=timezone.now)
    reopened_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_note = models.TextField("Why reopen it", max_length=NOTE_LENGTH, blank=True)
    history = HistoricalRecords()

    # The page cache makes this authority's pages old when one is saved.
    authority_path = "authority"

    objects = WarningDealtWithQuerySet.as_manager()

    class Meta:
        verbose_name = "warning dealt with"
        verbose_name_plural = "warnings dealt with"
        ordering = ["-dealt_with_at", "-pk"]
        constraints = [
            # One open record per warning: two people marking it at once
            # cannot both succeed unseen.
            models.UniqueConstraint(
                fields=["kind", "subject_id", "cause"],
                condition=models.Q(reopened_at__isnull=True),
                name="warning_dealt_with_once",
            ),
            models.CheckConstraint(
                condition=models.Q(cause_at__isnull=True) | models.Q(cause_on__isnull=True),
                name="warning_cause_one_type",
            ),
        ]
        indexes = [models.Index(fields=["authority", "kind"], name="warning_dealt_authority_idx")]

    def __str__(self):
        return f"{self.kind} {self.subject_id} dealt with on {self.dealt_with_at:%-d %B %Y}"

    @property
    def stands(self):
        """Whether it still holds (not reopened): its warning is not open."""
        return self.reopened_at is None


class NationalOfficeReport(models.Model):
    """What someone told the national office about an authority from its
    page (dashboards/national_office.py): the e-mail as it was sent, kept on
    the authority's page as what the national office was told, and when."""

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.CASCADE, related_name="national_office_reports"
    )
    sent_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    concerns = models.ManyToManyField(Answer, blank=True, related_name="+")
    members_figures = models.BooleanField(default=False)
    # Submissions quoted: only those whose submitters consented to sharing.
    shared_feedback = models.PositiveIntegerField(default=0)
    body = models.TextField("the e-mail as sent")

    # The authority page lists them.
    authority_path = "authority"

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self):
        return f"Report on {self.authority} to the national office, {self.sent_at:%-d %B %Y}"

    def contents(self):
        """What it told, in a few words: "2 concerns, members' figures"
        (`concern_count` annotated, as the authority page reads them)."""
        parts = []
        concerns = self.concern_count
        if concerns:
            parts.append(f"{concerns} concern{'s' if concerns != 1 else ''}")
        if self.members_figures:
            parts.append("members' figures")
        if self.shared_feedback:
            n = self.shared_feedback
            parts.append(f"{n} shared feedback submission{'s' if n != 1 else ''}")
        if self.note:
            parts.append("a note")
        return ", ".join(parts)


class OpenWarningQuerySet(models.QuerySet):
    def for_user(self, user):
        """The warnings `user` may see, as each kind's own rows' `for_user`
        decides (dashboards/warnings.py): at the authorities in scope; about
        a confidential meeting only for those who see those over its
        authority; a report in feedback only for those who read the
        authority's submissions, and its submitter."""
        where = {"region": "authority__region_id", "authority": "authority_id"}
        everyone = Q(readers=OpenWarning.Readers.IN_SCOPE)
        confidential = Q(readers=OpenWarning.Readers.CONFIDENTIAL) & covering(
            user, CONFIDENTIAL_ROLES, **where
        )
        feedback = Q(readers=OpenWarning.Readers.FEEDBACK) & (
            covering(user, READER_ROLES, **where) | Q(submitted_by_id=user.pk)
        )
        return self.filter(in_scope(user, "authority"), everyone | confidential | feedback)

    def arisen_by(self, today):
        """Those that are warnings on `today`: an action is overdue, or a
        reform plan's deadline near, only from its day on."""
        return self.filter(Q(from_day__isnull=True) | Q(from_day__lte=today))


class OpenWarning(models.Model):
    """One early warning no one has dealt with, kept in step with the
    records it is about by dashboards.warnings.index_warnings, in the
    transaction of every write to them: the pages count these (by
    authority and kind, with the newest day) rather than count every kind's
    rows afresh, which cost a tenth of a second on every page that shows
    warnings, and more as the records grew.

    A row is not any one person's: who may see it is decided when it is
    read (`readers`, OpenWarningQuerySet.for_user), and a warning that is
    one only from a day on says which day (`from_day`), so nothing needs
    redoing when people's roles change or a day passes."""

    class Readers(models.TextChoices):
        IN_SCOPE = "in_scope", "Everyone with the authority in scope"
        CONFIDENTIAL = "confidential", "Those who see its confidential meetings"
        FEEDBACK = "feedback", "Those who read its feedback, and the submitter"

    authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)  # as WarningDealtWith.kind
    subject_id = models.PositiveBigIntegerField()
    day = models.DateField(null=True)  # the day it arose; None when the records do not say
    from_day = models.DateField(null=True)
    readers = models.CharField(max_length=12, choices=Readers.choices)
    # The submitter of a report in feedback; the owner of an overdue action
    # (Home leaves out the reader's own). Ids, not keys: a person deleted
    # leaves a number that matches no one who signs in.
    submitted_by_id = models.PositiveBigIntegerField(null=True)
    owner_id = models.PositiveBigIntegerField(null=True)

    objects = OpenWarningQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_id"], name="open_warning_once")
        ]
        indexes = [models.Index(fields=["authority", "kind"], name="open_warning_authority_idx")]

    def __str__(self):
        return f"{self.kind} {self.subject_id}"

    def as_stored(self):
        """Its values but its id: two rows with the same are one warning,
        indexed alike (index_warnings keeps a row that stands)."""
        return (
            self.kind,
            self.subject_id,
            self.authority_id,
            self.day,
            self.from_day,
            self.readers,
            self.submitted_by_id,
            self.owner_id,
        )
