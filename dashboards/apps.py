from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self):
        from django.db.models import F

        from authorities import audit

        from .models import DashboardExport
        from .warnings import keep_the_index

        audit.register_export_log(
            "overview_export", "Overview downloaded", DashboardExport, lambda: F("description")
        )
        # The open warnings indexed again with each write to what they are
        # read from (dashboards/warnings.py).
        keep_the_index(self)
