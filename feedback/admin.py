from django.contrib import admin

from authorities.admin import ReadOnlyAdmin
from authorities.edits import EditAdmin

from .models import FeedbackEvidence, FeedbackExport, FeedbackSubmission


@admin.register(FeedbackSubmission)
class FeedbackSubmissionAdmin(EditAdmin):
    list_display = ["__str__", "people_count", "submitted_at", "withdrawn_at", "anonymised_at"]
    list_filter = ["source", "authority__region"]
    search_fields = ["authority__name"]
    raw_id_fields = ["authority"]
    readonly_fields = [
        "submitted_by",
        "submitted_at",
        "withdrawn_at",
        "anonymised_at",
        "national_office_told_at",
    ]


@admin.register(FeedbackEvidence)
class FeedbackEvidenceAdmin(EditAdmin):
    list_display = ["__str__", "plan", "stance", "linked_by", "linked_at"]
    raw_id_fields = ["submission", "plan", "question"]
    # Bookkeeping: the admin's date-time input would drop the microseconds.
    readonly_fields = ["linked_by", "linked_at"]


@admin.register(FeedbackExport)
class FeedbackExportAdmin(ReadOnlyAdmin):
    """The record of exports: read only, so it can be trusted."""

    list_display = ["exported_by_email", "exported_at", "filters", "small_numbers_withheld"]
