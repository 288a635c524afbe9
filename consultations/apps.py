from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"

    def ready(self):
        from plans.presenters import ANSWER_PAGE, PLAN_PAGE

        from .presenters import PlanTimeline, evidence_meetings

        # The plan's meetings among its own dates (consultations/_plan_timeline.html).
        PLAN_PAGE.register(
            lambda plan, user, access: {"consultation_timeline": PlanTimeline(plan, user)}
        )
        # Schools Forum answers and meetings to link in one click (no query
        # for the questions they do not answer).
        ANSWER_PAGE.register(
            lambda plan, question, user, access: {
                "meeting_evidence": evidence_meetings(user, plan, question.key)
                if access.can_contribute
                else None
            }
        )
