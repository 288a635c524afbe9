from django.urls import path

from . import views, warning_views

app_name = "dashboards"

urlpatterns = [
    path("authorities/", views.authority_list, name="authority_list"),
    path("authorities/<slug:slug>/", views.authority_detail, name="authority"),
    path("authorities/<slug:slug>/briefing/", views.briefing, name="briefing"),
    path("meetings/<int:pk>/pack/", views.short_pack, name="short_pack"),
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
    path("warnings/", warning_views.warnings_page, name="warnings"),
    path(
        "warnings/<slug:kind>/<int:pk>/dealt-with/",
        warning_views.warning_deal,
        name="warning_deal",
    ),
    path(
        "warnings/dealt-with/<int:pk>/reopen/",
        warning_views.warning_reopen,
        name="warning_reopen",
    ),
    path("search/", views.search_page, name="search"),
    path("trusts/<int:pk>/", views.trust_detail, name="trust"),
    path("branches/<int:pk>/", views.branch_detail, name="branch"),
]
