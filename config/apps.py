from django.contrib.admin.apps import AdminConfig


class UnionAdminConfig(AdminConfig):
    """Replaces django.contrib.admin so `admin.site` is the national-officer-only site."""

    default_site = "config.admin.UnionAdminSite"
