"""The audit trail: who did what that matters for special-category data,
when, and from which address.

What no other record keeps is written here as an `AuditEvent`: signing in
and failing to (Django's signals, so allauth's sign-in and the admin's are
both seen), two-factor changes (allauth.mfa's signals, when it is
installed, which the admin's removals send too: mfa.remove_authenticators),
password changes and resets (allauth's), invitations (callers use
`record`), briefing packs opened and feedback withdrawn (their views call
`record`).

What is already kept elsewhere is read there, never copied: overview and
feedback exports (`DashboardExport`, `FeedbackExport`, which their apps
register with `register_export_log`), role and scope
changes (django-simple-history's `HistoricalMembership`) and deletions (the
"-" rows of every history table of the app's own apps, which keep who
deleted what and why). `trail()` reads all of them as one list, newest
first, in one query for the count and one for a page.

The address is the request's REMOTE_ADDR, or, when settings say the app is
behind trusted proxies (`ALLAUTH_TRUSTED_PROXY_COUNT`, also what allauth's
login rate limit reads), the X-Forwarded-For entry the outermost of them
added: entries further left are whatever the client sent, and could be
forged.
"""

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from .access import Role
from .models import AuditEvent, LocalAuthority, Membership, Region, User

Kind = AuditEvent.Kind

# The apps whose history tables hold the deletions the trail shows.
APPS = ("authorities", "plans", "consultations", "feedback")


def client_ip(request):
    """The address a request came from (see the module's docstring), or
    None when there is no request or no valid address."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    address = meta.get("REMOTE_ADDR")
    proxies = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    forwarded = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def record(kind, *, request=None, actor=None, subject=None, detail="", actor_email=""):
    """Add `kind` to the audit trail: done by `actor` (by default the
    request's signed-in person) to or about `subject` (by default no one),
    from the request's address. `actor_email` names an actor with no
    account (the address tried in a failed sign-in)."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_email=(actor.email if actor is not None else actor_email)[:254],
        subject=subject,
        subject_email=subject.email if subject is not None else "",
        ip_address=client_ip(request),
        detail=detail[:500],
    )


# What signals record ----------------------------------------------------------


def _signed_in(sender, request, user, **kwargs):
    record(Kind.SIGN_IN, request=request, actor=user)


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password with stars; only the address
    # tried is kept.
    tried = credentials.get("email") or credentials.get("username") or ""
    record(Kind.SIGN_IN_FAILED, request=request, actor_email=str(tried))


def _on_own_account(kind):
    """A receiver for allauth's signals about `user`'s own way in, made by
    them, or by the person signed in when that is someone else (a national
    officer removing a lost phone in the admin: authorities/mfa.py)."""

    def receiver(sender, request, user, **kwargs):
        authenticator = kwargs.get("authenticator")
        detail = authenticator.get_type_display() if authenticator is not None else ""
        signed_in = getattr(request, "user", None)
        actor = signed_in if signed_in is not None and signed_in.is_authenticated else user
        record(kind, request=request, actor=actor, subject=user, detail=detail)

    receiver.__name__ = f"record_{kind}"
    return receiver


_password_changed = _on_own_account(Kind.PASSWORD_CHANGED)
_password_reset = _on_own_account(Kind.PASSWORD_RESET)
_mfa_added = _on_own_account(Kind.MFA_ADDED)
_mfa_removed = _on_own_account(Kind.MFA_REMOVED)
_mfa_reset = _on_own_account(Kind.MFA_RESET)


def _address_history(sender, history_instance, **kwargs):
    """Stamp a history record (one with `AddressedHistory`) with the address
    of the request that made it, if any."""
    if hasattr(history_instance, "ip_address"):
        history_instance.ip_address = client_ip(
            getattr(HistoricalRecords.context, "request", None)
        )


def connect():
    """Called once, from AuthoritiesConfig.ready()."""
    from allauth.account import signals as account

    user_logged_in.connect(_signed_in, dispatch_uid="audit-sign-in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
    account.password_changed.connect(_password_changed, dispatch_uid="audit-password-changed")
    account.password_reset.connect(_password_reset, dispatch_uid="audit-password-reset")
    pre_create_historical_record.connect(_address_history, dispatch_uid="audit-history-address")
    # Two-factor authentication, once allauth.mfa is installed.
    if apps.is_installed("allauth.mfa"):
        try:
            from allauth.mfa import signals as mfa
        except ImportError:  # pragma: no cover: an allauth without mfa
            return
        mfa.authenticator_added.connect(_mfa_added, dispatch_uid="audit-mfa-added")
        mfa.authenticator_removed.connect(_mfa_removed, dispatch_uid="audit-mfa-removed")
        mfa.authenticator_reset.connect(_mfa_reset, dispatch_uid="audit-mfa-reset")


# Reading the trail ------------------------------------------------------------

# Kinds read from records kept elsewhere.
ROLE_CHANGE = "role_change"
DELETION = "deletion"

KIND_LABELS = {
    **dict(Kind.choices),
    ROLE_CHANGE: "Role or scope changed",
    DELETION: "Record deleted",
}


@dataclass(frozen=True)
class ExportLog:
    """A model an app above this one keeps of its downloads (with
    `exported_by`, `exported_by_email`, `exported_at` and `ip_address`),
    read into the trail. `detail` is the expression shown as the event's
    detail, `describe` turns it into words when it is not already."""

    model: type
    detail: Callable[[], models.Expression]
    describe: Callable[[str], str] | None = None


# Filled by each app that keeps one, in its AppConfig.ready(): the trail
# reads them without this floor importing the apps above it.
EXPORT_LOGS: dict[str, ExportLog] = {}


def register_export_log(kind, label, model, detail, describe=None):
    KIND_LABELS[kind] = label
    EXPORT_LOGS[kind] = ExportLog(model, detail, describe)


# The columns every source is read as, in this order (a UNION needs one).
COLUMNS = (
    "audit_kind",
    "audit_at",
    "audit_actor",
    "audit_email",
    "audit_subject_email",
    "audit_ip",
    "audit_detail",
    "audit_reason",
)
_TEXT = models.CharField()
_NO_ADDRESS = Value(None, output_field=models.GenericIPAddressField())


def _text(value=""):
    return Value(value, output_field=_TEXT)


def _columns(queryset, **columns):
    """`queryset` as the trail's columns; `columns` maps each name without
    its "audit_" prefix to an expression."""
    return queryset.order_by().annotate(**{name: columns[name[6:]] for name in COLUMNS})


def history_models():
    """django-simple-history's record models of the app's own apps (not the
    many-to-many ones, which only list a change's related rows)."""
    return [
        model
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        if hasattr(model, "instance_type")
        and "history_type" in {f.name for f in model._meta.fields}
    ]


def _person(email):
    return User.objects.filter(email__iexact=email).values("pk")


def _events(kind, person):
    events = AuditEvent.objects.all()
    if kind:
        events = events.filter(kind=kind)
    if person:
        events = events.filter(Q(actor_email__iexact=person) | Q(subject_email__iexact=person))
    return _columns(
        events,
        kind=F("kind"),
        at=F("at"),
        actor=F("actor_id"),
        email=F("actor_email"),
        subject_email=F("subject_email"),
        ip=F("ip_address"),
        detail=F("detail"),
        reason=_text(),
    )


def _exports(model, kind, person, detail):
    exports = model.objects.all()
    if person:
        exports = exports.filter(exported_by_email__iexact=person)
    return _columns(
        exports,
        kind=_text(kind),
        at=F("exported_at"),
        actor=F("exported_by_id"),
        email=F("exported_by_email"),
        subject_email=_text(),
        ip=F("ip_address"),
        detail=detail,
        reason=_text(),
    )


def _history_actor(model, **columns):
    """The columns of a history record: who made it, when and from where."""
    has_address = "ip_address" in {f.name for f in model._meta.fields}
    return {
        "at": F("history_date"),
        "actor": F("history_user_id"),
        "email": Coalesce(F("history_user__email"), _text()),
        "ip": F("ip_address") if has_address else _NO_ADDRESS,
        "reason": Coalesce(F("history_change_reason"), _text()),
        **columns,
    }


def _role_changes(person):
    changes = Membership.history.all()
    if person:
        changes = changes.filter(
            Q(history_user__email__iexact=person) | Q(user__in=_person(person))
        )
    # The place by subquery, as the history's own foreign keys are not
    # database constraints (a row may name a place since removed).
    authority = LocalAuthority.objects.filter(pk=OuterRef("authority_id")).values("name")[:1]
    region = Region.objects.filter(pk=OuterRef("region_id")).values("name")[:1]
    email = User.objects.filter(pk=OuterRef("user_id")).values("email")[:1]
    return _columns(
        changes,
        **_history_actor(
            Membership.history.model,
            kind=_text(ROLE_CHANGE),
            subject_email=Coalesce(Subquery(email), _text()),
            detail=Concat(
                F("history_type"),
                _text("|"),
                F("role"),
                _text("|"),
                Coalesce(Subquery(authority), Subquery(region), _text()),
                output_field=_TEXT,
            ),
        ),
    )


def _deletions(model, person):
    deleted = model.objects.filter(history_type="-")
    if person:
        deleted = deleted.filter(history_user__email__iexact=person)
    name = str(model.instance_type._meta.verbose_name)
    return _columns(
        deleted,
        **_history_actor(
            model,
            kind=_text(DELETION),
            subject_email=_text(),
            detail=Concat(
                _text(f"{name[:1].upper()}{name[1:]} #"),
                Cast("id", output_field=_TEXT),
                output_field=_TEXT,
            ),
        ),
    )


def trail(*, kind="", person=""):
    """Every kind of audited event as one queryset of dicts (COLUMNS),
    newest first; `kind` narrows to one of KIND_LABELS, `person` to what an
    e-mail address did (or, for role changes and events about someone, had
    done to them)."""
    person = person.strip()
    sources = []
    if not kind or kind in Kind.values:
        sources.append(_events(kind, person))
    for log_kind, log in EXPORT_LOGS.items():
        if kind in ("", log_kind):
            sources.append(_exports(log.model, log_kind, person, log.detail()))
    if kind in ("", ROLE_CHANGE):
        sources.append(_role_changes(person))
    if kind in ("", DELETION):
        sources += [
            _deletions(model, person)
            for model in history_models()
            if model is not Membership.history.model  # its "-" rows are role changes
        ]
    first, *rest = [source.values(*COLUMNS) for source in sources]
    if rest:
        first = first.union(*rest, all=True)
    return first.order_by("-audit_at")


@dataclass(frozen=True)
class Entry:
    """One line of the audit page."""

    kind: str
    what: str
    at: datetime
    who: str
    email: str
    address: str
    detail: str


_ROLE_CHANGE = {"+": "given", "~": "changed", "-": "removed"}


def _detail(row):
    kind, detail = row["audit_kind"], row["audit_detail"] or ""
    if kind == ROLE_CHANGE:
        change, role, place = [*detail.split("|"), "", "", ""][:3]
        role = Role(role).label if role in Role.values else role
        held = f"{role}, {place}" if place else role
        return f"{held}: {_ROLE_CHANGE.get(change, change)}"
    if kind in EXPORT_LOGS and EXPORT_LOGS[kind].describe:
        return EXPORT_LOGS[kind].describe(detail)
    if kind == DELETION and row["audit_reason"]:
        return f"{detail}: “{row['audit_reason']}”"
    return detail


def entries(rows):
    """A page of trail() rows as Entry, with each actor's name read in one
    query however many rows."""
    rows = list(rows)
    people = User.objects.in_bulk({row["audit_actor"] for row in rows if row["audit_actor"]})
    found = []
    for row in rows:
        person = people.get(row["audit_actor"])
        email = row["audit_email"] or (person.email if person else "")
        found.append(
            Entry(
                kind=row["audit_kind"],
                what=KIND_LABELS.get(row["audit_kind"], row["audit_kind"]),
                at=row["audit_at"],
                who=person.display_name if person else "",
                email=email,
                address=row["audit_ip"] or "",
                detail=_detail(row),
            )
        )
    return found


class AuditFilterForm(forms.Form):
    """The audit page's filters: one kind, one person's e-mail address."""

    kind = forms.ChoiceField(
        label="What happened",
        required=False,
        # Read when the form is made: apps add their export kinds at start-up.
        choices=lambda: [("", "Everything"), *KIND_LABELS.items()],
        error_messages={"invalid_choice": "Choose what happened from the list"},
    )
    person = forms.CharField(
        label="E-mail address",
        required=False,
        max_length=254,
        error_messages={"max_length": "Enter an e-mail address of 254 characters or fewer"},
    )
