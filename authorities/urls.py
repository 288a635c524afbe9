from django.urls import path

from . import views

app_name = "authorities"

urlpatterns = [
    path("authorities/", views.authority_list, name="list"),
    path("authorities/<slug:slug>/", views.authority_detail, name="detail"),
    path("regions/<slug:slug>/", views.region_detail, name="region"),
]
