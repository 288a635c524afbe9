from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"

    def ready(self):
        from django.db.models import CharField
        from django.db.models.functions import Cast

        from authorities import audit
        from plans.presenters import ANSWER_PAGE, PLAN_PAGE

        from .aggregates import evidence_by_question, question_evidence
        from .exports import filters_in_words
        from .models import FeedbackExport, keep_tallies

        keep_tallies()

        # Counts of members' feedback linked to each checklist question.
        PLAN_PAGE.register(
            lambda plan, user, access: {"feedback_evidence": evidence_by_question(plan, user)}
        )
        ANSWER_PAGE.register(
            lambda plan, question, user, access: {
                "feedback": question_evidence(
                    plan=plan, question=question, user=user, access=access
                )
            }
        )

        audit.register_export_log(
            "feedback_export",
            "Feedback downloaded",
            FeedbackExport,
            lambda: Cast("filters", output_field=CharField()),
            filters_in_words,
        )
