from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("authorities/<slug:slug>/meetings/", views.meeting_list, name="authority_list"),
    path("authorities/<slug:slug>/meetings/add/", views.meeting_add, name="add"),
    path("meetings/<int:pk>/", views.meeting_detail, name="detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="edit"),
    path(
        "plans/<int:pk>/checklist/<slug:key>/meetings/<int:meeting_pk>/link/",
        views.link_evidence,
        name="link_evidence",
    ),
    path("actions/", views.action_list, name="actions"),
    path("authorities/<slug:slug>/actions/add/", views.action_add, name="action_add"),
    path("authorities/<slug:slug>/actions/briefing/", views.action_starter, name="action_starter"),
    path("actions/<int:pk>/", views.action_edit, name="action_edit"),
]
