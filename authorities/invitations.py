"""Invitations: how a person added in the admin comes to sign in.

A national officer invites a person (the admin's "Send an invitation now" on
adding them, or the "Send an invitation" action on the people list). The
person is e-mailed a link, to SITE_URL, that sets their password once and
signs them in. Nothing is stored: the link carries

- `who`: the invited person and the inviter, signed (so the page may name
  the inviter even when the link no longer works, and nobody can make it
  name anyone else), and
- `token`: InvitationTokenGenerator's, which hashes the person's password
  and last sign-in as Django's password reset token does, so it stops
  working once used (or once another invitation is sent: sending one makes
  the password unusable again, with a new hash), and after INVITATION_DAYS.
"""

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.utils import perform_login
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.db import transaction
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from . import mail
from .models import User

WHO_SALT = "authorities.invitations.who"


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password reset token with its own salt (a reset token is no
    invitation, nor the other way round) and its own lifetime."""

    key_salt = "authorities.invitations.InvitationTokenGenerator"

    def check_token(self, user, token):
        """As Django's, but valid for INVITATION_DAYS, not PASSWORD_RESET_TIMEOUT."""
        if not (user and token):
            return False
        try:
            timestamp, _ = token.split("-")
            timestamp = base36_to_int(timestamp)
        except ValueError:
            return False
        secrets = [self.secret, *self.secret_fallbacks]
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in secrets
        ):
            return False
        age = self._num_seconds(self._now()) - timestamp
        return 0 <= age <= timedelta(days=settings.INVITATION_DAYS).total_seconds()


tokens = InvitationTokenGenerator()


def invitation_url(person, invited_by):
    who = signing.dumps([person.pk, invited_by.pk], salt=WHO_SALT)
    path = reverse("accept_invitation", kwargs={"who": who, "token": tokens.make_token(person)})
    return settings.SITE_URL + path


@dataclass
class Invitation:
    """What send_invitation did: the person and the link e-mailed to them."""

    person: User
    url: str


@transaction.atomic
def send_invitation(*, person, invited_by):
    """Invite `person` to set a password: make their password unusable (so
    no earlier link, nor a password nobody told them, works any more) and
    queue an e-mail with a link, with the save (authorities/mail.py: the
    worker sends it, and tries again if the mail server refuses)."""
    person.set_unusable_password()
    person.save(update_fields=["password"])
    invitation = Invitation(person=person, url=invitation_url(person, invited_by))
    context = {
        "person": person,
        "inviter": invited_by,
        "url": invitation.url,
        "days": settings.INVITATION_DAYS,
        "expires": timezone.localtime() + timedelta(days=settings.INVITATION_DAYS),
        "site_url": settings.SITE_URL,
    }
    mail.send(
        subject=render_to_string("account/email/invitation_subject.txt", context).strip(),
        body=render_to_string("account/email/invitation_message.txt", context),
        to=[person.email],
        about=f"an invitation to person {person.pk}",
    )
    return invitation


def invited(who):
    """The active person and the inviter a link's `who` names, or (None,
    None) for one this app did not sign. The inviter is None if deleted."""
    try:
        person_pk, inviter_pk = signing.loads(who, salt=WHO_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None, None
    people = User.objects.filter(pk__in=[person_pk, inviter_pk]).in_bulk()
    person = people.get(person_pk)
    return (person if person and person.is_active else None), people.get(inviter_pk)


class InvitationForm(SetPasswordForm):
    """A first password, twice, checked by AUTH_PASSWORD_VALIDATORS."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Password"
        self.fields["new_password2"].label = "Confirm password"
        self.fields["new_password2"].help_text = "Type the same password again."


@login_not_required
@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def accept_invitation(request, who, token):
    """Set a first password from an invitation's link, then sign in through
    allauth (its checks, and any second step the person's role requires,
    apply as to any sign-in). A link that expired, was used or was never
    ours is refused with whom to ask for a new one.

    Opening the page counts too, not only posting it (allauth's limits skip
    GET): each visit checks a link, and whoever tries links by the thousand
    opens the page to do it. The counter is allauth's, per address
    (ACCOUNT_RATE_LIMITS["accept_invitation"]), kept with the login
    lockout's where no cached page can push it out (settings.CACHES)."""
    if limited := ratelimit.consume_or_429(request, action="accept_invitation", limit_get=True):
        return limited
    person, inviter = invited(who)
    if person is None or not tokens.check_token(person, token):
        return render(request, "account/invitation_refused.html", {"inviter": inviter})
    form = InvitationForm(person, request.POST if request.method == "POST" else None)
    if form.is_valid():
        form.save()
        messages.success(request, "Your password is set. Sign in with it from now on.")
        return perform_login(request, person, email=person.email, redirect_url=reverse("home"))
    return render(
        request,
        "account/invitation_form.html",
        {"form": form, "person": person, "inviter": inviter},
    )
