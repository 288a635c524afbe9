"""Two-step sign-in (django-allauth's `allauth.mfa`): who must use it, and
the middleware that sends them to set it up.

allauth asks for the second step at sign-in once a person has one, but it
makes nobody set one up. National officers, regional organisers, NEMs and
staff read special-category data across many authorities, so for them it is
not optional: until they have an authenticator app or a security key, every
page but setting one up (and signing out) sends them to do so.
"""

import base64

from allauth.mfa import signals as mfa_signals
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.utils.crypto import salted_hmac

# What counts as a second step. Recovery codes only stand in for a lost one:
# allauth makes them alongside the first and removes them with the last.
SECOND_STEPS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

# Pages a person who must set up two-step sign-in may open before they have:
# setting it up (all of allauth.mfa's pages, "mfa_…"), confirming their
# password first when allauth asks (it does before adding a step to an
# account signed in a while ago), signing out, and what anyone may read
# signed out. Static files are served before any view (whitenoise).
OPEN_BEFORE_ENROLMENT = frozenset(
    {
        "account_logout",
        "account_reauthenticate",
        "account_request_reauthentication_code",
        "account_confirm_reauthentication_code",
        "health",
        "accessibility",
    }
)


def has_second_step_subquery(user_ref="pk"):
    """Whether the person has a second step, for annotating a User query
    (authorities/backends.py loads it with the signed-in person)."""
    return Exists(Authenticator.objects.filter(user=OuterRef(user_ref), type__in=SECOND_STEPS))


def has_second_step(user):
    loaded = getattr(user, "has_second_step", None)
    if loaded is not None:  # annotated by the login backend: no query
        return loaded
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_STEPS).exists()


@transaction.atomic
def remove_authenticators(authenticators, *, request):
    """Remove anyone's `authenticators` (the admin's way for a national
    officer to take away a lost phone or key) as allauth's own pages remove
    a person's own: their recovery codes go with their last second step, and
    allauth's `authenticator_removed` is sent for each one removed, so that
    what follows any removal follows this one too: the audit trail records
    who removed whose (authorities/audit.py) and the owner's sessions end
    (authorities/sessions.py). Deleting in bulk would bypass all of that."""
    removed = []
    for authenticator in authenticators:
        authenticator.delete()
        removed.append(authenticator)
    for owner in {authenticator.user for authenticator in removed}:
        if not Authenticator.objects.filter(user=owner, type__in=SECOND_STEPS).exists():
            for left in Authenticator.objects.filter(user=owner):  # recovery codes
                left.delete()
                removed.append(left)
    for authenticator in removed:
        mfa_signals.authenticator_removed.send(
            sender=Authenticator,
            request=request,
            user=authenticator.user,
            authenticator=authenticator,
        )


class MFARequiredMiddleware:
    """Sends a signed-in person who must use two-step sign-in, and has no
    second step yet, to the page that sets one up (allauth's `mfa_index`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.requires_mfa):
            return None
        view_name = request.resolver_match.view_name
        if view_name.startswith("mfa_") or view_name in OPEN_BEFORE_ENROLMENT:
            return None
        if has_second_step(user):
            return None
        return redirect("mfa_index")


# What a Fernet token starts with (its version byte, 0x80, in base64).
FERNET_PREFIX = "gAAAAA"


def _fernet():
    """Fernet keys derived from SECRET_KEY, then each SECRET_KEY_FALLBACKS:
    rotating SECRET_KEY the Django way (the old one kept as a fallback)
    keeps every authenticator readable; what is written uses the new key."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derived(key))) for key in keys])


def _derived(secret):
    """32 bytes for Fernet, from `secret`, for this use only."""
    return salted_hmac(__name__, "mfa-secrets", secret=secret, algorithm="sha256").digest()


class MFAAdapter(DefaultMFAAdapter):
    """Our words, who may remove a second step, and secrets encrypted.

    An authenticator app's secret and the recovery codes' seed are stored
    encrypted (allauth stores them as given unless its adapter says
    otherwise), so that a copy of the database, a backup say, does not hand
    over everyone's second step with it."""

    def encrypt(self, text):
        return _fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text):
        if not encrypted_text.startswith(FERNET_PREFIX):
            # Stored before secrets were encrypted (a local database made
            # with `make run` on the day two-step sign-in came in).
            return encrypted_text
        try:
            return _fernet().decrypt(encrypted_text.encode()).decode()
        except InvalidToken:
            # Not ours (SECRET_KEY changed with no fallback): nothing can
            # match it, so the person uses a recovery code or is reset.
            return ""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": (
            "You must keep a second step to sign in with: add another (an "
            "authenticator app or a security key) before removing this one."
        ),
        "incorrect_code": (
            "The code is not correct. Enter the code your authenticator app shows now."
        ),
    }

    def can_delete_authenticator(self, authenticator):
        """People who must use two-step sign-in may swap their second step
        but not remove the last one (the middleware would only send them
        back to add one)."""
        if authenticator.type not in SECOND_STEPS or not authenticator.user.requires_mfa:
            return True
        others = Authenticator.objects.filter(user_id=authenticator.user_id, type__in=SECOND_STEPS)
        return others.exclude(pk=authenticator.pk).exists()
