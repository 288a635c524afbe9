from django.contrib import admin
from django.urls import include, path

from authorities import views as authority_views

from . import views

urlpatterns = [
    path("", authority_views.home, name="home"),
    path("", include("authorities.urls")),
    path("", include("plans.urls")),
    path("", include("consultations.urls")),
    path("", include("feedback.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("health/", views.health, name="health"),
]
