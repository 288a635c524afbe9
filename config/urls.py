from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from authorities import invitations, sessions
from dashboards import views as dashboard_views

from . import views

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("", include("dashboards.urls")),
    path("", include("authorities.urls")),
    path("", include("plans.urls")),
    path("", include("consultations.urls")),
    path("", include("feedback.urls")),
    path("", include("official.urls")),
    # In place of allauth's e-mail page, which let anyone signed in switch
    # their login to an address nobody verified: this one only says who
    # changes it (a national officer, in the admin) and refuses a POST (405).
    path(
        "accounts/email/",
        TemplateView.as_view(template_name="account/email.html"),
        name="account_email",
    ),
    # allauth's sessions page, which also ends one session at a time and
    # leaves out (and ends) those already over (authorities/sessions.py).
    path("accounts/sessions/", sessions.session_list, name="usersessions_list"),
    # An invitation's one-time link: a first password, then signed in
    # (authorities/invitations.py). Public: the link is the credential.
    path(
        "accounts/invitation/<str:who>/<str:token>/",
        invitations.accept_invitation,
        name="accept_invitation",
    ),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("health/", views.health, name="health"),
    path("ready/", views.ready, name="ready"),
]
