from django.contrib import admin

from .models import FeedbackEvidence, FeedbackExport, FeedbackSubmission


@admin.register(FeedbackSubmission)
class FeedbackSubmissionAdmin(admin.ModelAdmin):
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
class FeedbackEvidenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "stance", "linked_by", "linked_at"]
    raw_id_fields = ["submission", "plan", "question"]


@admin.register(FeedbackExport)
class FeedbackExportAdmin(admin.ModelAdmin):
    """The record of exports: read only, so it can be trusted."""

    list_display = ["exported_by_email", "exported_at", "filters", "small_numbers_withheld"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
