from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


class UnionAdminSite(admin.AdminSite):
    """The Django admin, for national officers only.

    Sign-in goes through the app's own login (rate-limited by allauth), so the
    admin has no second, unthrottled password form.
    """

    site_header = "SEND recovery plan tracker: administration"
    site_title = "Tracker admin"
    index_title = "People, authorities and reference data"

    def has_permission(self, request):
        return request.user.is_authenticated and request.user.can_use_admin()

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Signed in but not allowed: sending them to the login page would
            # bounce straight back here.
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", request.get_full_path()))
