"""Small factories for test data: one place, plain functions."""

import hashlib
import itertools
import os
import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.webauthn.internal.auth import WebAuthn
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_encode
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

from authorities.access import WIDE_ROLES
from authorities.models import LocalAuthority, Membership, Region, User
from plans.models import Plan, Programme, Question, QuestionSet

PASSWORD = "correct-horse-battery-staple"
# The authenticator-app secret of every test person who has one (base32):
# tests type `totp_code()` where a person would read their phone.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_sequence = itertools.count(1)


def make_user(email=None, *, roles=(), password=PASSWORD, totp=None, **fields):
    """A person with the given (role, place) memberships; place is a Region,
    a LocalAuthority, or None for national roles. People who must sign in in
    two steps (national and regional roles, staff) have an authenticator app
    with TOTP_SECRET, as they would after their first sign-in, unless
    `totp=False`; `totp=True` gives anyone one."""
    email = email or f"person{next(_sequence)}@example.org"
    user = User.objects.create_user(email, password, **fields)
    for role, place in roles:
        Membership.objects.create(
            user=user,
            role=role,
            region=place if isinstance(place, Region) else None,
            authority=place if isinstance(place, LocalAuthority) else None,
        )
    must = user.is_staff or user.is_superuser or any(role in WIDE_ROLES for role, _ in roles)
    if totp or (totp is None and must):
        give_totp(user)
    return user


def give_totp(user, secret=TOTP_SECRET):
    """An authenticator app for `user`, set up with `secret`."""
    return TOTP.activate(user, secret).instance


def give_security_key(user, name="Blue key"):
    """A security key (WebAuthn) for `user`, as allauth stores one once the
    browser has registered it: a real credential, signed by no device,
    which is enough to list, rename and remove it (never to sign in)."""
    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = os.urandom(16)
    attested = AttestedCredentialData.create(
        Aaguid.NONE, credential_id, ES256.from_cryptography_key(key.public_key())
    )
    flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT
    rp_id_hash = hashlib.sha256(b"localhost").digest()
    auth_data = AuthenticatorData.create(rp_id_hash, flags, 0, attested)
    client_data = CollectedClientData.create(
        type="webauthn.create", challenge=os.urandom(16), origin="http://localhost"
    )
    credential = {
        "id": websafe_encode(credential_id),
        "rawId": websafe_encode(credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": websafe_encode(client_data),
            "attestationObject": websafe_encode(AttestationObject.create("none", auth_data, {})),
        },
        "clientExtensionResults": {},
    }
    return WebAuthn.add(user, name, credential).instance


def totp_code(secret=TOTP_SECRET, *, seconds_needed=5):
    """The code an authenticator app set up with `secret` shows now, or, if
    fewer than `seconds_needed` of its 30 seconds are left, the next one
    (waited for): allauth takes a code only in its own 30 seconds, and a
    post on a busy machine can miss their end (CI's PostgreSQL run once
    posted one 50 ms too late)."""
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < seconds_needed:
        time.sleep(left + 0.1)
    counter = next(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


def authority(la_code):
    return LocalAuthority.objects.select_related("region").get(la_code=la_code)


def region(name):
    return Region.objects.get(name=name)


CAMDEN, KENT, MANCHESTER = "202", "886", "352"


def make_plan(la_code, programme="sv", **fields):
    fields.setdefault("status", Plan.Status.AGREED)
    return Plan.objects.create(
        authority=authority(la_code), programme=Programme.objects.get(code=programme), **fields
    )


def checklist_questions(programme="sv"):
    """The latest question bank's questions asked of plans of `programme`
    (a code), in checklist order: a reform plan is asked questions an SV
    plan is not, and the other way round."""
    bank = QuestionSet.objects.latest_version()
    return Question.objects.filter(question_set=bank).for_programme(
        Programme.objects.get(code=programme)
    )
