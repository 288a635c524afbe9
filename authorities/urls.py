from django.urls import path

from . import views

app_name = "authorities"

urlpatterns = [
    path("authorities/<slug:slug>/finance/add/", views.finance_add, name="finance_add"),
    path("authorities/<slug:slug>/finance/<int:year>/", views.finance_edit, name="finance_edit"),
    path(
        "authorities/<slug:slug>/finance/<int:year>/delete/",
        views.finance_delete,
        name="finance_delete",
    ),
    path("authorities/<slug:slug>/watch/", views.watch, name="watch"),
    path("accounts/digest/", views.digest_settings, name="digest"),
    path("audit/", views.audit_trail, name="audit"),
    path("trusts/", views.trust_list, name="trusts"),
    path("trusts/add/", views.trust_add, name="trust_add"),
    path("trusts/<int:pk>/edit/", views.trust_edit, name="trust_edit"),
    path("branches/", views.branch_list, name="branches"),
    path("branches/add/", views.branch_add, name="branch_add"),
    path("branches/<int:pk>/edit/", views.branch_edit, name="branch_edit"),
]
