"""Small factories for test data: one place, plain functions."""

import itertools

from authorities.models import LocalAuthority, Membership, Region, User
from plans.models import Plan, Programme

PASSWORD = "correct-horse-battery-staple"
_sequence = itertools.count(1)


def make_user(email=None, *, roles=(), password=PASSWORD, **fields):
    """A person with the given (role, place) memberships; place is a Region,
    a LocalAuthority, or None for national roles."""
    email = email or f"person{next(_sequence)}@example.org"
    user = User.objects.create_user(email, password, **fields)
    for role, place in roles:
        Membership.objects.create(
            user=user,
            role=role,
            region=place if isinstance(place, Region) else None,
            authority=place if isinstance(place, LocalAuthority) else None,
        )
    return user


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
