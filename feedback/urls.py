from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("feedback/", views.submission_list, name="list"),
    path("feedback/export.csv", views.export, name="export"),
    path("feedback/<int:pk>/", views.submission_detail, name="detail"),
    path("feedback/<int:pk>/edit/", views.submission_edit, name="edit"),
    path("feedback/<int:pk>/withdraw/", views.submission_withdraw, name="withdraw"),
    path("authorities/<slug:slug>/feedback/add/", views.submission_add, name="add"),
    path(
        "plans/<int:pk>/checklist/<slug:key>/feedback/",
        views.evidence_link,
        name="link",
    ),
]
