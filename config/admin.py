from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


class AutocompleteView(AutocompleteJsonView):
    """The admin's autocomplete search. The searched model's ModelAdmin may
    label its results as its chosen options are labelled: a person by name,
    role and place (authorities.admin.UserAdmin). `autocomplete_queryset(qs)`
    loads what the label reads (once for the page of results, not once a
    result) and `autocomplete_label(obj)` says it."""

    def get_queryset(self):
        queryset = super().get_queryset()
        prepare = getattr(self.model_admin, "autocomplete_queryset", None)
        return prepare(queryset) if prepare else queryset

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label:
            result["text"] = label(obj)
        return result


class UnionAdminSite(admin.AdminSite):
    """The Django admin, for national officers only.

    Sign-in goes through the app's own login (rate-limited by allauth), so the
    admin has no second, unthrottled password form.
    """

    site_header = "SEND recovery plan tracker: administration"
    site_title = "Tracker admin"
    index_title = "People, authorities and reference data"

    def autocomplete_view(self, request):
        return AutocompleteView.as_view(admin_site=self)(request)

    def has_permission(self, request):
        return request.user.is_authenticated and request.user.can_use_admin()

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Signed in but not allowed: sending them to the login page would
            # bounce straight back here.
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", request.get_full_path()))
