"""How long a signed-in session lasts, and the page where a person ends one.

A session ends after a time without a request (settings.SESSION_IDLE_TIMEOUT,
shorter for the roles given Can.SHORT_SESSIONS: SESSION_IDLE_TIMEOUT_WIDE_ROLES)
and, however busy, SESSION_LIFETIME after signing in. The middleware signs
the person out, says why, and sends them to the login page.

The session records when it was signed in and, at most once a minute, when it
was last used: a session is saved (a database write) only when something in
it changes, so recording every request would write on every page. An idle
session may therefore end up to a minute early.

Changing one's password ends every other session (Django's session hash; see
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE).
"""

import re
import time
from importlib import import_module

from allauth.mfa import signals as mfa_signals
from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.models import UserSession
from allauth.usersessions.views import ListUserSessionsView
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone

from .access import Can

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "last_seen_at"
RECORD_EVERY = 60  # seconds between recordings of the last request


def idle_timeout(user):
    """Seconds without a request after which `user`'s session ends."""
    if user.may(Can.SHORT_SESSIONS):
        return settings.SESSION_IDLE_TIMEOUT_WIDE_ROLES
    return settings.SESSION_IDLE_TIMEOUT


def _duration(seconds):
    minutes = round(seconds / 60)
    if minutes < 120 and minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def why_over(session, user, now):
    """Why `session` (signed in as `user`) is over at `now`, to tell them;
    None while it lasts."""
    signed_in_at = session.get(SIGNED_IN_AT)
    if signed_in_at is None:
        return None
    if now - signed_in_at >= settings.SESSION_LIFETIME:
        return (
            f"You have been signed out because you signed in "
            f"{_duration(settings.SESSION_LIFETIME)} ago. Sign in again to carry on."
        )
    timeout = idle_timeout(user)
    if now - session.get(LAST_SEEN_AT, signed_in_at) >= timeout:
        return (
            f"You have been signed out because you had not used the tracker for "
            f"{_duration(timeout)}. Sign in again to carry on."
        )
    return None


def _start(session, now):
    session[SIGNED_IN_AT] = session[LAST_SEEN_AT] = int(now)


def _on_login(sender, request, user, **kwargs):
    # A fresh sign-in starts a fresh session, even where Django kept the
    # browser's session data across it.
    if request is not None and hasattr(request, "session"):
        _start(request.session, time.time())


user_logged_in.connect(_on_login, dispatch_uid="session-timeout-start")


def _end_other_sessions(sender, request, user, **kwargs):
    """A second step added, removed or reset ends the person's other
    sessions, as a new password does: whoever holds one of them may be why
    it changed. The browser that made the change stays signed in."""
    current = getattr(getattr(request, "session", None), "session_key", None)
    get_adapter().end_sessions(UserSession.objects.filter(user=user).exclude(session_key=current))


for _signal in (mfa_signals.authenticator_added, mfa_signals.authenticator_removed):
    _signal.connect(_end_other_sessions, dispatch_uid=f"sessions-end-{id(_signal)}")
mfa_signals.authenticator_reset.connect(_end_other_sessions, dispatch_uid="sessions-end-reset")


class SessionTimeoutMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            reason = why_over(session, request.user, now)
            if reason:
                logout(request)
                messages.warning(request, reason)
                # Back to the page they asked for, if it was one to read.
                next_url = request.get_full_path() if request.method == "GET" else "/"
                return redirect_to_login(next_url)
            if SIGNED_IN_AT not in session:
                _start(session, now)  # signed in before this middleware was
            elif now - session.get(LAST_SEEN_AT, 0) >= RECORD_EVERY:
                session[LAST_SEEN_AT] = int(now)
        return self.get_response(request)


# The sessions page: allauth's list, which can end all other sessions at
# once, and here each one by itself.

BROWSERS = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome")]
BROWSERS += [("Safari/", "Safari")]
SYSTEMS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android")]
SYSTEMS += [("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS")]
SYSTEMS += [("Linux", "Linux")]


def describe_browser(user_agent):
    """'Firefox on Windows', from a browser's User-Agent; people do not
    recognise their own browser in the raw string."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if re.search(mark, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "An unknown browser"


class EndSessionForm(forms.Form):
    """One of the person's other sessions (their current one ends by signing out)."""

    session = forms.ModelChoiceField(queryset=UserSession.objects.none())

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = UserSession.objects.filter(
            user_id=request.user.pk
        ).exclude(session_key=request.session.session_key)


class SessionListView(ListUserSessionsView):
    template_name = "usersessions/usersession_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # allauth lists every session still stored; one this middleware would
        # end on its next request is over already: end it now, and leave it out.
        engine = import_module(settings.SESSION_ENGINE)
        now, over, sessions = time.time(), [], []
        for session in context["sessions"]:
            stored = engine.SessionStore(session.session_key)
            ended = not session.is_current() and why_over(stored, self.request.user, now)
            (over if ended else sessions).append(session)
            session.browser = describe_browser(session.user_agent)
        get_adapter().end_sessions(over)
        context.update(
            sessions=sessions,
            session_count=len(sessions),
            idle_timeout=_duration(idle_timeout(self.request.user)),
            lifetime=_duration(settings.SESSION_LIFETIME),
        )
        return context

    def post(self, request, *args, **kwargs):
        if "session" not in request.POST:
            return super().post(request, *args, **kwargs)  # all the others
        form = EndSessionForm(request.POST, request=request)
        if not form.is_valid():
            raise Http404("No such session of yours.")
        ended = form.cleaned_data["session"]
        get_adapter().end_sessions([ended])
        signed_in = timezone.localtime(ended.created_at)
        messages.success(
            request,
            f"Signed out of {describe_browser(ended.user_agent)} "
            f"(signed in on {signed_in:%-d %B %Y at %H:%M}).",
        )
        return redirect("usersessions_list")


session_list = SessionListView.as_view()
