"""Who may open which URL: the access matrix.

Every named URL outside the Django admin must have an entry in MATRIX, or
`test_every_url_is_in_the_matrix` fails, so a new page cannot ship without
saying who may see it. Each entry is then checked for anonymous people, for
people in scope (200) and people out of scope (404, never a leak).
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver, reverse

from .conftest import PERSONAS

LOGIN = "login"  # anonymous people are sent to the login page
EVERYONE = tuple(PERSONAS)


@dataclass(frozen=True)
class Access:
    anonymous: int | str  # a status code, or LOGIN
    allowed: tuple = EVERYONE  # personas who get `signed_in`
    signed_in: int = 200
    not_found: tuple = ()  # personas for whom the object is out of scope
    kwargs: dict = field(default_factory=dict)


PUBLIC = Access(anonymous=200)
SIGNED_IN = Access(anonymous=LOGIN)
CAMDEN_SCOPE = ("national_officer", "london_organiser", "camden_lns")
CAMDEN_SCOPE += ("camden_forum_rep", "camden_senco_lead")

MATRIX = {
    "home": SIGNED_IN,
    "authorities:list": SIGNED_IN,
    "authorities:detail": Access(
        anonymous=LOGIN,
        kwargs={"slug": "camden"},
        allowed=CAMDEN_SCOPE,
        not_found=("northwest_nem", "kent_lns", "manchester_head_rep", "no_role_user"),
    ),
    "authorities:region": Access(
        anonymous=LOGIN,
        kwargs={"slug": "london"},
        allowed=("national_officer", "london_organiser"),
        not_found=(
            "northwest_nem",
            "camden_lns",
            "camden_forum_rep",
            "camden_senco_lead",
            "kent_lns",
            "manchester_head_rep",
            "no_role_user",
        ),
    ),
    "accessibility": PUBLIC,
    "health": PUBLIC,
    # django-allauth's pages. Sign-in and password reset are public; the rest
    # need a signed-in person and concern only that person's own account.
    "account_login": Access(anonymous=200, signed_in=302),  # on to the home page
    "account_logout": Access(anonymous=302),
    "account_inactive": PUBLIC,
    "account_signup": Access(anonymous=200, signed_in=302),
    "account_reauthenticate": SIGNED_IN,
    "account_request_reauthentication_code": Access(anonymous=LOGIN, allowed=()),
    "account_confirm_reauthentication_code": Access(anonymous=LOGIN, allowed=()),
    "account_email": SIGNED_IN,
    "account_email_verification_sent": PUBLIC,
    "account_change_password": SIGNED_IN,
    "account_set_password": Access(anonymous=LOGIN, allowed=()),
    "account_reset_password": PUBLIC,
    "account_reset_password_done": PUBLIC,
    "account_reset_password_from_key": Access(
        anonymous=200, kwargs={"uidb36": "1", "key": "not-a-real-key"}
    ),
    "account_reset_password_from_key_done": PUBLIC,
    "account_confirm_login_code": Access(anonymous=302, allowed=()),
    "account_confirm_email": Access(anonymous=200, kwargs={"key": "not-a-real-key"}),
}
# The Django admin's URLs all sit behind UnionAdminSite.has_permission, which
# test_admin.py checks for each kind of person.
EXCLUDED_NAMESPACES = {"admin"}


def named_urls(patterns=None, namespace=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from named_urls(pattern.url_patterns, pattern.namespace or namespace)
        elif pattern.name and namespace not in EXCLUDED_NAMESPACES:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_is_in_the_matrix():
    missing = sorted(set(named_urls()) - set(MATRIX))
    assert not missing, f"Add these URLs to the access matrix in {__file__}: {missing}"
    stale = sorted(set(MATRIX) - set(named_urls()))
    assert not stale, f"These matrix entries name no URL: {stale}"


def test_every_scoped_entry_says_what_each_persona_gets():
    for name, access in MATRIX.items():
        if access.not_found:
            covered = set(access.allowed) | set(access.not_found)
            assert covered == set(PERSONAS), f"{name}: say what {set(PERSONAS) - covered} get"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous(client, name):
    access = MATRIX[name]
    url = reverse(name, kwargs=access.kwargs)
    response = client.get(url)
    if access.anonymous == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == access.anonymous


ALLOWED = [(name, who) for name, access in MATRIX.items() for who in access.allowed]
NOT_FOUND = [(name, who) for name, access in MATRIX.items() for who in access.not_found]


@pytest.mark.parametrize(("name", "persona"), ALLOWED)
def test_allowed(request, client_for, name, persona):
    access = MATRIX[name]
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse(name, kwargs=access.kwargs)).status_code == access.signed_in


@pytest.mark.parametrize(("name", "persona"), NOT_FOUND)
def test_out_of_scope_is_not_found(request, client_for, name, persona):
    access = MATRIX[name]
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse(name, kwargs=access.kwargs)).status_code == 404
