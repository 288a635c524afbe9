"""The people bench/run.py signs in, and what each may open. Prints JSON.

Run by bench/run.py on the benchmark database only, with DEBUG on (like
create_demo_people: it sets known passwords and two-step secrets) and the
server's SECRET_KEY (two-step secrets are stored encrypted with a key made
from it, authorities/mfa.py).

The people: the demo personas (create_demo_people); four more national
officers and one more who only writes (the mixed column's writer), made here;
and from seed_scale's 3,000, the first regional organiser or NEM of each region
(organisers and NEMs in turn) and one person on each of the first
AUTHORITY_PEOPLE authorities
(their roles vary: LNS, Schools Forum and JCNC/JCC representatives, SENCO and
headteacher network leads). Everyone who must sign in in two steps gets the
demo authenticator secret, as create_demo_people gives the demo people.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from authorities.management.commands.create_demo_people import (  # noqa: E402
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    PERSONAS,
)
from authorities.mfa import MFAAdapter  # noqa: E402
from authorities.models import (  # noqa: E402
    REGIONAL_ROLES,
    LocalAuthority,
    Membership,
    Region,
    Role,
    User,
)
from dashboards.management.commands.seed_scale import SEED_DOMAIN  # noqa: E402
from plans.models import Plan  # noqa: E402

SEED_PASSWORD = "scale-seed-password"  # seed_scale's, for every person it makes
AUTHORITY_PEOPLE = 100
EXTRA_NATIONAL = [f"bench.national{n}@example.org" for n in range(1, 5)]
WRITER = "bench.writer@example.org"


def ensure_national(email):
    user, made = User.objects.get_or_create(
        email=email, defaults={"first_name": "Bench", "last_name": email.split("@")[0]}
    )
    if made:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(user=user, role=Role.NATIONAL_OFFICER)
    return user


def ensure_totp(user):
    """The demo secret as this person's authenticator app, readable with
    this SECRET_KEY (one made under another key cannot be read: replaced)."""
    adapter = MFAAdapter()
    mine = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if mine and adapter.decrypt(mine.data["secret"]) == DEMO_TOTP_SECRET:
        return
    Authenticator.objects.filter(user=user).delete()  # with any recovery codes
    TOTP.activate(user, DEMO_TOTP_SECRET)


def chosen_seeded():
    seeded = Membership.objects.filter(user__email__endswith=f"@{SEED_DOMAIN}").order_by(
        "user__email"
    )
    picked = []
    for n, region in enumerate(Region.objects.order_by("name")):
        # An organiser in every other region, an NEM in the rest.
        first = seeded.filter(region=region, role=REGIONAL_ROLES[n % 2]).first()
        if first:
            picked.append(first.user)
    covered = set()
    for membership in seeded.filter(authority__isnull=False).select_related("user"):
        if membership.authority_id not in covered:
            covered.add(membership.authority_id)
            picked.append(membership.user)
            if len(covered) == AUTHORITY_PEOPLE:
                break
    return picked


def describe(user, password):
    roles = list(user.memberships.select_related("region", "authority"))
    authorities = list(
        LocalAuthority.objects.for_user(user).order_by("slug").values_list("slug", flat=True)
    )
    plans = Plan.objects.for_user(user).order_by("pk").values_list("pk", flat=True)
    if user.has_national_scope:
        kind = "national"
    elif any(m.role in REGIONAL_ROLES for m in roles):
        kind = "regional"
    else:
        kind = "authority"
    return {
        "email": user.email,
        "password": password,
        "totp": DEMO_TOTP_SECRET if user.requires_mfa else None,
        "kind": kind,
        "roles": [
            f"{Role(m.role).label}, {(m.region or m.authority or 'national').__str__()}"
            for m in roles
        ],
        "overview": bool(user.can_see_overview),
        "regions": list(
            Region.objects.for_user(user).order_by("slug").values_list("slug", flat=True)
        ),
        "authorities": authorities,
        "plans": list(plans),
    }


def main():
    if not settings.DEBUG:
        sys.exit("bench/personas.py sets known passwords: run it with DEBUG on, on the bench.")
    with transaction.atomic():
        demo = [User.objects.get(email=email) for email, *_ in PERSONAS]
        extra = [ensure_national(email) for email in [*EXTRA_NATIONAL, WRITER]]
        seeded = chosen_seeded()
        if seeded and not seeded[0].check_password(SEED_PASSWORD):
            sys.exit("seed_scale's people no longer have its password: reseed (--reseed).")
        people = [(user, DEMO_PASSWORD) for user in demo + extra]
        people += [(user, SEED_PASSWORD) for user in seeded]
        for user, _ in people:
            if user.requires_mfa:
                ensure_totp(user)
    described = [describe(user, password) for user, password in people]
    writer = next(p for p in described if p["email"] == WRITER)
    print(
        json.dumps(
            {
                "people": [p for p in described if p["email"] != WRITER],
                "writer": writer,
                "authorities": list(
                    LocalAuthority.objects.order_by("slug").values_list("slug", flat=True)
                ),
                # Each plan's authority: which authorities the plan pages read.
                "plan_authority": dict(Plan.objects.values_list("pk", "authority__slug")),
            }
        )
    )


if __name__ == "__main__":
    main()
