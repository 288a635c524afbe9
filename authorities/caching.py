"""Caching of rendered pages and the expensive aggregates behind them, with
one rule for invalidation: any change to the app's data makes every cached
value old.

Everything here is kept in the "pages" cache alias (PAGE_CACHE_URL), never
the default one: that holds the security counters (allauth's rate limits),
which no number of cached pages may push out (settings.CACHES).

A single "data version" lives in the page cache. Every save or delete of a
model of the app's own apps (outside transactions at once, inside them when
they commit) sets a new version; cached values are stored under the version
they were computed at, so the next request after a change computes afresh
and a save is visible on the very next page. Writes are rare beside reads
(a meeting logged, an answer given), so the simple rule costs little.

Values are cached per person (their scope, their roles and what they may read
all shape them) and per day (overdue and "new" depend on the date).

A new release never reads an old release's values: the page cache's key
prefix names the release (settings.RELEASE, config/release.py).

Bulk writes that send no signals (QuerySet.update, bulk_create) must call
`data_changed()` themselves; the management commands that write do.
"""

import hashlib
import time

from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

CACHE_ALIAS = "pages"
VERSION_KEY = "data-version"
TIMEOUT = 60 * 60  # an hour: a value no one asks for again soon is dropped
# The apps whose data the dashboards read.
APPS = frozenset({"authorities", "plans", "consultations", "feedback", "official"})
# Records of who downloaded or did what: they change no figure. Feedback's
# tallies change with a submission, which has made the data new already.
IGNORED = frozenset({"dashboardexport", "feedbackexport", "auditevent", "feedbacktally"})


def _cache():
    return caches[CACHE_ALIAS]


def data_version():
    version = _cache().get(VERSION_KEY)
    if version is None:
        version = _new_version()
    return version


def _new_version():
    # A time, not a counter: if the key is ever evicted, a new value can
    # never repeat an old one (and so never revive an old cached value).
    version = time.time_ns()
    _cache().set(VERSION_KEY, version, None)
    return version


def data_changed():
    """Make every cached aggregate old: now, and again when the current
    transaction commits (so that nothing computed from the data before the
    commit outlives it)."""
    _new_version()
    transaction.on_commit(_new_version)


def cached(name, user, parts, compute, *, today):
    """compute(), cached for `user` (None: a value the same for everyone,
    `parts` saying what it depends on) under the current data version and
    `today`; `parts` (hashable by repr) tells apart the variants of one page,
    such as its filters."""
    detail = hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
    person = user.pk if user is not None else "all"
    key = f"{name}:{person}:{data_version()}:{today.isoformat()}:{detail}"
    value = _cache().get(key)
    if value is None:
        value = compute()
        _cache().set(key, value, TIMEOUT)
    return value


def cached_page(request, name, parts, make):
    """What a page shows below its menu, cached for the person asking as
    cached() caches a value (`parts`: what else it depends on, such as the
    address). make() returns a dict: "body", the rendered HTML (render_body),
    and whatever the page's title and breadcrumbs need; or an empty dict
    when there is no such page for this person (the view answers 404).
    The body must hold no form that posts: a CSRF token belongs to one
    browser, and a person may be signed in on two."""
    page = cached(name, request.user, parts, make, today=timezone.localdate())
    return {**page, "body": mark_safe(page["body"])} if page else page


def render_body(request, template, context):
    """`template`'s "body" partial (Django's template partials), rendered."""
    return render_to_string(f"{template}#body", context, request)


def _on_change(sender, **kwargs):
    meta = getattr(sender, "_meta", None)
    if meta is None or meta.app_label not in APPS or meta.model_name in IGNORED:
        return
    # django-simple-history's records are written beside the real change,
    # which has already made the data new.
    if meta.model_name.startswith("historical"):
        return
    # Signing in records the time on the person, which no figure shows.
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return
    data_changed()


def connect():
    """Called once, from AuthoritiesConfig.ready()."""
    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(_on_change, dispatch_uid=f"data-version-{signal!r}")
