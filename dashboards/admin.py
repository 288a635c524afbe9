from django.contrib import admin

from authorities.admin import ReadOnlyAdmin

from .models import DashboardExport


@admin.register(DashboardExport)
class DashboardExportAdmin(ReadOnlyAdmin):
    """The record of overview downloads: read only, so it can be trusted."""

    list_display = ["exported_by_email", "exported_at", "format", "description", "row_count"]
    list_filter = ["format", "small_numbers_withheld"]
    search_fields = ["exported_by_email", "description"]
