from django.urls import path

from . import views

app_name = "official"

urlpatterns = [
    path(
        "plans/<int:pk>/checklist/<slug:key>/official/<slug:trend>/<str:period>/link/",
        views.link_evidence,
        name="link_evidence",
    ),
]
