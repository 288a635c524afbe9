"""Caching of rendered pages and the expensive aggregates behind them, with
one rule for invalidation: a change makes old every cached value that could
show it, and only those.

Everything here is kept in the "pages" cache alias (PAGE_CACHE_URL), never
the default one: that holds the security counters (allauth's rate limits),
which no number of cached pages may push out (settings.CACHES).

Versions live in the page cache: one for everything, one for England (every
authority's data), one for each region and one for each authority. A cached
value is stored under the versions of what it shows (its scope: one
authority, one region or England) and the version for everything, so the
next request after a change computes afresh and a save is visible on the
very next page. A save or delete of a record that belongs to an authority
(its model's `authority_path` says how to reach it) sets new versions for
that authority, its region and England (and, if the record moved, for where
it was); any other record of the app's own apps (programmes, the checklist,
people and their roles) sets a new version for everything. Outside a
transaction at once, inside one again when it commits. So a note added in
Camden makes Camden's pages, London's and the national ones old, and leaves
Kent's page and the North West's as they were: with people saving all over
England, a page of one authority stays cached until that authority changes.

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
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_save,
    pre_delete,
    pre_save,
)
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

CACHE_ALIAS = "pages"
VERSION_KEY = "data-version"  # everything's; the scopes' add to it
ENGLAND = "england"
TIMEOUT = 60 * 60  # an hour: a value no one asks for again soon is dropped
# The apps whose data the dashboards read; the dashboards' own records too,
# as a warning marked dealt with leaves the lists of open ones.
APPS = frozenset({"authorities", "plans", "consultations", "feedback", "official", "dashboards"})
# Records of who downloaded or did what: they change no figure. Feedback's
# tallies change with a submission, which has made the data new already. An
# official statistics file waiting for its confirmation changes nothing yet
# (loading it makes the data new: official/importing.py).
IGNORED = frozenset(
    {
        "dashboardexport",
        "feedbackexport",
        "auditevent",
        "feedbacktally",
        "feedbacktotal",
        "pendingupload",
        # Kept in step with the records it indexes (dashboards/warnings.py).
        "openwarning",
    }
)

# Sent by data_changed(), inside the transaction of the change, for what
# is kept in step with the data beside the cache (the index of open
# warnings, dashboards/warnings.py): `sender`, the model of the record
# changed (None: not known, as after a bulk write), and `authorities`, the
# ids of the authorities it belongs to (None: any).
changed = Signal()


def _cache():
    return caches[CACHE_ALIAS]


def authority_scope(authority):
    """The scope of a page that shows one authority's data."""
    return f"authority:{authority.pk}"


def region_scope(region):
    """The scope of a page that shows one region's authorities."""
    return f"region:{region.pk}"


def _key(scope):
    return f"{VERSION_KEY}:{scope}"


def _versions(scope):
    """The versions everything and `scope` are at (one read of the cache):
    a lost version is replaced by a new one."""
    keys = [VERSION_KEY, _key(scope)]
    found = _cache().get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        found |= _new_versions(missing)
    return tuple(found[key] for key in keys)


def _new_versions(keys):
    # A time, not a counter: if a key is ever evicted, a new value can
    # never repeat an old one (and so never revive an old cached value).
    versions = dict.fromkeys(keys, time.time_ns())
    _cache().set_many(versions, None)
    return versions


def data_version():
    """The versions a page of all England is cached at: any change to the
    app's data gives new ones."""
    return _versions(ENGLAND)


def data_changed(places=None, *, model=None):
    """Make old what the change could show: with `places`, (authority id,
    region id) pairs, those authorities', regions' and England's cached
    values; without, every cached value. Now, and again when the current
    transaction commits (so that nothing computed from the data before the
    commit outlives it). `model`: the changed record's, where known (the
    `changed` signal's sender)."""
    if places:
        keys = {_key(ENGLAND)}
        for authority_id, region_id in places:
            keys |= {_key(f"authority:{authority_id}"), _key(f"region:{region_id}")}
    else:
        keys = {VERSION_KEY}
    changed.send(
        sender=model,
        authorities={authority_id for authority_id, _ in places} if places else None,
    )
    _new_versions(keys)
    transaction.on_commit(lambda: _new_versions(keys))


def cached(name, user, parts, compute, *, today, scope=ENGLAND):
    """compute(), cached for `user` (None: a value the same for everyone,
    `parts` saying what it depends on) under the versions of `scope` (what
    it shows: authority_scope(), region_scope() or, by default, ENGLAND)
    and `today`; `parts` (hashable by repr) tells apart the variants of one
    page, such as its filters."""
    detail = hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
    person = user.pk if user is not None else "all"
    versions = ".".join(map(str, _versions(scope)))
    key = f"{name}:{person}:{scope}:{versions}:{today.isoformat()}:{detail}"
    value = _cache().get(key)
    if value is None:
        value = compute()
        _cache().set(key, value, TIMEOUT)
    return value


def cached_page(request, name, parts, make, *, scope=ENGLAND):
    """What a page shows below its menu, cached for the person asking as
    cached() caches a value (`parts`: what else it depends on, such as the
    address; `scope`: what it shows). make() returns a dict: "body", the
    rendered HTML (render_body), and whatever the page's title and
    breadcrumbs need; or an empty dict when there is no such page for this
    person (the view answers 404). The body must hold no form that posts: a
    CSRF token belongs to one browser, and a person may be signed in on
    two."""
    page = cached(name, request.user, parts, make, today=timezone.localdate(), scope=scope)
    return {**page, "body": mark_safe(page["body"])} if page else page


def render_body(request, template, context):
    """`template`'s "body" partial (Django's template partials), rendered."""
    return render_to_string(f"{template}#body", context, request)


def _counts(sender, kwargs):
    """Whether a change to a `sender` record can change what a page shows."""
    meta = getattr(sender, "_meta", None)
    if meta is None or meta.app_label not in APPS or meta.model_name in IGNORED:
        return False
    # django-simple-history's records are written beside the real change,
    # which has already made the data new.
    if meta.model_name.startswith("historical"):
        return False
    # Signing in records the time on the person, which no figure shows.
    return kwargs.get("update_fields") != frozenset({"last_login"})


def _places(sender, pk):
    """{(authority id, region id)} of the stored record `pk` of `sender`, a
    model with an `authority_path` (one query; empty when it is gone)."""
    path = sender.authority_path
    rows = sender._base_manager.filter(pk=pk).values_list(path, f"{path}__region")
    return set(rows)


def _before(sender, instance, **kwargs):
    """Where a record belongs before it is saved or deleted: a save may move
    it to another authority, and a deleted one cannot be asked after."""
    if (
        instance.pk is not None
        and getattr(sender, "authority_path", None)
        and _counts(sender, kwargs)
    ):
        instance._places_before = _places(sender, instance.pk)


def _on_change(sender, **kwargs):
    if not _counts(sender, kwargs):
        return
    instance = kwargs.get("instance")
    if getattr(sender, "authority_path", None) is None or kwargs.get("raw"):
        data_changed(model=sender)  # the whole of England's, or not known where
        return
    places = getattr(instance, "_places_before", set())
    if kwargs.get("signal") is post_save:
        places = places | _places(sender, instance.pk)
    # Nowhere found (a record already gone with what it belonged to): all.
    data_changed(places or None, model=sender)


def connect():
    """Called once, from AuthoritiesConfig.ready()."""
    for signal in (pre_save, pre_delete):
        signal.connect(_before, dispatch_uid=f"data-version-{signal!r}")
    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(_on_change, dispatch_uid=f"data-version-{signal!r}")
