from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"

    def ready(self):
        from .models import keep_checklist_counts

        keep_checklist_counts()
