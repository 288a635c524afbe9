from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("authorities/<slug:slug>/meetings/", views.meeting_list, name="authority_list"),
    path("authorities/<slug:slug>/meetings/add/", views.meeting_add, name="add"),
    path("meetings/<int:pk>/", views.meeting_detail, name="detail"),
    path("authorities/<slug:slug>/meetings/plan/", views.meeting_plan, name="plan"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("meetings/<int:pk>/questions/", views.meeting_questions_page, name="questions"),
    path("meetings/<int:pk>/questions/add/", views.question_add, name="question_add"),
    path("meetings/<int:pk>/questions/print/", views.questions_print, name="questions_print"),
    path("meetings/<int:pk>/answers/", views.meeting_answers, name="answers"),
    path("meeting-questions/<int:pk>/move/", views.question_move, name="question_move"),
    path("meeting-questions/<int:pk>/remove/", views.question_remove, name="question_remove"),
    path(
        "meeting-questions/<int:pk>/evidence/",
        views.question_evidence,
        name="question_evidence",
    ),
    path(
        "plans/<int:pk>/checklist/<slug:key>/meetings/<int:meeting_pk>/link/",
        views.link_evidence,
        name="link_evidence",
    ),
    path("actions/", views.action_list, name="actions"),
    path("authorities/<slug:slug>/actions/", views.action_list, name="authority_actions"),
    path("authorities/<slug:slug>/actions/add/", views.action_add, name="action_add"),
    path("authorities/<slug:slug>/actions/briefing/", views.action_starter, name="action_starter"),
    path("actions/<int:pk>/", views.action_edit, name="action_edit"),
]
