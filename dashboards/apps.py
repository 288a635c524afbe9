from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self):
        from django.db.models import F

        from authorities import audit

        from .models import DashboardExport

        audit.register_export_log(
            "overview_export", "Overview downloaded", DashboardExport, lambda: F("description")
        )
