"""What only the dashboards record: each download of the overview."""

from django.db import models
from django.utils import timezone

from authorities.models import User


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
