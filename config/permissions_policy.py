"""The Permissions-Policy header, which Django (6.1) does not set itself.

settings.PERMISSIONS_POLICY maps each browser feature to the origins allowed
to use it: [] for none, ["self"] for the app's own. The header is built once.
"""

from django.conf import settings


def header_value(policy):
    """{"camera": [], "publickey-credentials-get": ["self"]} as
    'camera=(), publickey-credentials-get=(self)'."""
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in policy.items())


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.value = header_value(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.value)
        return response
