from django.apps import AppConfig


class OfficialConfig(AppConfig):
    name = "official"
    verbose_name = "Official statistics"

    def ready(self):
        from plans.presenters import ANSWER_PAGE

        from .presenters import checklist_figures

        # On the checklist's questions about refusals, gatekeeping and
        # waits, the official figures to link as evidence (one query; none
        # for the other questions): official/_checklist_evidence.html.
        ANSWER_PAGE.register(
            lambda plan, question, user, access: {
                "official_evidence": checklist_figures(plan.authority, question.key)
            }
        )
