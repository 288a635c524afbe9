"""Every HTML page the app serves carries the security headers: for every URL
of the access matrix, as someone signed out, someone in scope and, where
there is one, someone out of scope or without the role (their 404 and 403
pages are HTML too)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from config.permissions_policy import header_value

from .test_access import MATRIX

pytestmark = pytest.mark.django_db


def assert_security_headers(response, where):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp, where
    assert "script-src 'self'" in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", where
    policy = headers.get("Permissions-Policy", "")
    for denied in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert denied in policy, (where, policy)
    assert "publickey-credentials-get=(self)" in policy, where
    assert "publickey-credentials-create=(self)" in policy, where


def people_for(access):
    """Signed out, then the first persona of each kind the entry names."""
    yield None
    for kind in (access.allowed, access.not_found, access.forbidden):
        if kind:
            yield kind[0]


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_html_page_carries_the_security_headers(request, client_for, name):
    access = MATRIX[name]
    clients = {
        persona: Client() if persona is None else client_for(request.getfixturevalue(persona))
        for persona in people_for(access)
    }
    # As test_access.get(), after the personas exist, but once for them all.
    made = access.setup() if access.setup else None
    url = reverse(name, kwargs=made if isinstance(made, dict) else access.kwargs)
    checked = []
    for persona, client in clients.items():
        response = client.get(url)
        if response.headers.get("Content-Type", "").startswith("text/html"):
            assert_security_headers(response, (name, persona, response.status_code))
            checked.append(persona)
    # None of them may escape the check silently.
    assert checked or name in NO_HTML, name


# URLs that show none of these people an HTML page: sign-out and a code
# confirmation redirect, the health and readiness checks answer in JSON.
NO_HTML = {"account_logout", "account_confirm_login_code", "health", "ready"}


def test_a_redirect_carries_them_too(client):
    response = client.get("/overview/")
    assert response.status_code == 302
    assert "Permissions-Policy" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_permissions_policy_is_built_from_the_setting():
    value = header_value(settings.PERMISSIONS_POLICY)
    assert value.startswith("accelerometer=(), ")
    assert "publickey-credentials-get=(self)" in value
