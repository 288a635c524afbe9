from django.urls import path

from . import checklist_views, views

app_name = "plans"

urlpatterns = [
    # Plans, their money and targets, and their history (views.py).
    path("plans/", views.plan_list, name="list"),
    path("authorities/<slug:slug>/plans/add/", views.plan_add, name="add"),
    path("plans/<int:pk>/", views.plan_detail, name="detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="edit"),
    path("plans/<int:pk>/revise/", views.plan_revise, name="revise"),
    path("plans/<int:pk>/history/", views.plan_history, name="history"),
    path("plans/<int:pk>/reform/", views.reform_edit, name="reform_edit"),
    path("plans/<int:pk>/grant/", views.grant_edit, name="grant_edit"),
    path("plans/<int:pk>/instalments/add/", views.instalment_add, name="instalment_add"),
    path(
        "plans/<int:pk>/instalments/<int:instalment_pk>/",
        views.instalment_edit,
        name="instalment_edit",
    ),
    path(
        "plans/<int:pk>/instalments/<int:instalment_pk>/delete/",
        views.instalment_delete,
        name="instalment_delete",
    ),
    path("plans/<int:pk>/targets/add/", views.target_add, name="target_add"),
    path("plans/<int:pk>/targets/<int:target_pk>/", views.target_edit, name="target_edit"),
    path(
        "plans/<int:pk>/targets/<int:target_pk>/progress/",
        views.target_update_add,
        name="target_update_add",
    ),
    # The checklist (checklist_views.py).
    path("plans/<int:pk>/checklist/<slug:key>/", checklist_views.answer, name="answer"),
    path(
        "plans/<int:pk>/checklist/<slug:key>/evidence/",
        checklist_views.evidence_add,
        name="evidence_add",
    ),
    path(
        "plans/<int:pk>/checklist/<slug:key>/comments/",
        checklist_views.comment_add,
        name="comment_add",
    ),
    path(
        "plans/<int:pk>/checklist/<slug:key>/confirm/",
        checklist_views.answer_confirm,
        name="answer_confirm",
    ),
    path(
        "plans/<int:pk>/questions-to-ask/",
        checklist_views.questions_to_ask,
        name="questions_to_ask",
    ),
]
