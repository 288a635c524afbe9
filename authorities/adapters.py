from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib import messages
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse

from . import mail

ASK_TO_CHANGE = "Ask a national officer to change your e-mail address."
# What every e-mail calls the app (templates/base.html's header says the same).
APP_NAME = "SEND recovery plan tracker"


def is_login_address(user, email):
    """Whether `email` is the address `user` signs in with: User.email, which
    only a national officer changes (in the admin). allauth also signs in and
    sends reset links to any address in its EmailAddress table, which may hold
    others: ones added on the e-mail page before it closed, or the old address
    left behind when the admin changed it. Those must open nothing."""
    return bool(email) and user.email.lower() == email.strip().lower()


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Nobody signs themselves up: a national officer creates each person
        (in the Django admin) and they set a password by the link of their
        invitation (authorities/invitations.py)."""
        return False

    def authenticate(self, request, **credentials):
        """A right password for an address other than the person's login
        address is a failed sign-in, counted towards the lockout like any."""
        user = super().authenticate(request, **credentials)
        login = credentials.get("email") or credentials.get("username")
        if user is None or is_login_address(user, login):
            return user
        # super() gave back the failure it counted, the password being right.
        self.pre_authenticate(request, **credentials)
        self.authentication_failed(request, **credentials)
        return None

    def send_password_reset_mail(self, user, email, context):
        """A reset link goes only to the address the person signs in with."""
        if is_login_address(user, email):
            super().send_password_reset_mail(user, email, context)

    def confirm_email(self, request, email_address):
        """Confirming an address makes it the login when the person has no
        primary one, so only their login address may be confirmed."""
        if is_login_address(email_address.user, email_address.email):
            return super().confirm_email(request, email_address)
        self.add_message(request, messages.ERROR, message=ASK_TO_CHANGE)
        return False

    # E-mails: in the app's own words (templates/account/email/), with links
    # to SITE_URL rather than to whichever host the request came in by.

    def format_email_subject(self, subject):
        """allauth prefixes "[host] "; ours name the app instead."""
        return f"{APP_NAME}: {subject}"

    def send_mail(self, template_prefix, email, context):
        """Rendered here, in allauth's way; sent by the task worker, as
        every e-mail of the app is (authorities/mail.py). The templates are
        plain text only (templates/account/email/)."""
        request = allauth_context.request
        context = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            "site_url": settings.SITE_URL,
            **context,
        }
        message = self.render_mail(template_prefix, email, context)
        mail.send(
            subject=message.subject,
            body=message.body,
            to=message.to,
            about=f"allauth's {template_prefix.rpartition('/')[2]} e-mail",
            with_the_save=False,
        )

    def _get_login_attempts_cache_key(self, request, **credentials):
        """The lockout's key: the address alone. allauth's adds the request's
        host, port included, and Django lets any port through with an allowed
        name ("tracker.example.org:1"): each made-up port in a Host header
        would be five more guesses, and two servers behind one name on
        different ports would count apart (tests/test_scale_out.py)."""
        login = credentials.get("email", credentials.get("username", ""))
        return f"login:{login.lower()}"

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        """A change to how someone signs in is told to their login address,
        not to an old address allauth may still hold as primary."""
        context = {"user": user, **(context or {})}  # greeted by name
        super().send_notification_mail(template_prefix, user, context, email=user.email)

    def get_reset_password_from_key_url(self, key):
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return settings.SITE_URL + path.replace("UID-KEY", quote(key))

    def get_email_confirmation_url(self, request, emailconfirmation):
        return settings.SITE_URL + reverse("account_confirm_email", args=[emailconfirmation.key])
