from django.urls import path

from . import views

app_name = "authorities"

urlpatterns = [
    path("authorities/", views.authority_list, name="list"),
    path("authorities/<slug:slug>/", views.authority_detail, name="detail"),
    path("authorities/<slug:slug>/briefing/", views.briefing, name="briefing"),
    path("authorities/<slug:slug>/finance/add/", views.finance_add, name="finance_add"),
    path("authorities/<slug:slug>/finance/<int:year>/", views.finance_edit, name="finance_edit"),
    path(
        "authorities/<slug:slug>/finance/<int:year>/delete/",
        views.finance_delete,
        name="finance_delete",
    ),
    path("regions/<slug:slug>/", views.region_detail, name="region"),
    path("overview/", views.overview, name="overview"),
    path(
        "overview/export.csv", views.overview_export, {"file_format": "csv"}, name="overview_csv"
    ),
    path(
        "overview/export.xlsx",
        views.overview_export,
        {"file_format": "xlsx"},
        name="overview_xlsx",
    ),
    path("map/", views.authority_map, name="map"),
    path("audit/", views.audit_trail, name="audit"),
]
