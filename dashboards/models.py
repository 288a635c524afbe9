"""What only the dashboards record: each download of the overview, and
each report to the national office."""

from django.db import models
from django.utils import timezone

from authorities.models import LocalAuthority, User
from plans.models import Answer


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
