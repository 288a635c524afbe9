from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("authorities/", views.authority_list, name="authority_list"),
    path("authorities/<slug:slug>/", views.authority_detail, name="authority"),
    path("authorities/<slug:slug>/briefing/", views.briefing, name="briefing"),
    path(
        "authorities/<slug:slug>/tell-national-office/",
        views.tell_national_office,
        name="tell_national_office",
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
    path("search/", views.search_page, name="search"),
]
