"""Data-subject requests under UK GDPR: everything held about a person
(`manage.py person_export`), and erasing it (`manage.py person_erase`).

Both find a person's data the same way, by reading the models rather than a
list kept by hand, so a model added later is covered: every column that
holds a person's id (a foreign key to the user, in every installed model,
django-simple-history's tables and many-to-many tables included), every text
column that holds their e-mail address or full name (copies kept so a record
outlives an account, such as who downloaded an export), and the history of
the account itself if it has one.
"""

import re
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import Q

from .access import NATIONAL_ROLES
from .caching import data_changed
from .models import AuditEvent, Membership

ERASED = "erased person"
ERASED_EMAIL = "erased@erased.invalid"
# Never written out, even to the person they belong to: in any model, and
# in some ("app_label.modelname", as serialised).
SECRET_FIELDS = {"password", "session_key", "session_data"}
SECRET_FIELDS_OF = {"mfa.authenticator": {"data"}, "account.emailconfirmation": {"key"}}


class LastNationalOfficer(Exception):
    """Erasing this person would leave nobody to manage people."""


def user_references():
    """(model, field) for every column holding a person's id."""
    user_model = get_user_model()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model and model is not user_model:
                yield model, field


def text_fields(model):
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField)) and not f.choices
    ]


def is_history(model):
    return hasattr(model, "instance_type") and hasattr(model, "history_type")


def account_history_models():
    """The history tables of the user model itself, if it has any: their rows
    copy the person's e-mail address and name."""
    user_model = get_user_model()
    return [
        m
        for m in apps.get_models()
        if is_history(m) and m.instance_type is user_model  # pragma: no branch
    ]


def _full_name(user):
    return f"{user.first_name} {user.last_name}".strip() if user.last_name else ""


def _naming(model, user):
    """The rows of `model` with a text column holding `user`'s e-mail address
    or full name."""
    condition = Q()
    name = _full_name(user)
    for field in text_fields(model):
        condition |= Q(**{f"{field.name}__icontains": user.email})
        if name:
            condition |= Q(**{f"{field.name}__icontains": name})
    return model._default_manager.filter(condition) if condition else model._default_manager.none()


# Export --------------------------------------------------------------------------


def _rows(queryset):
    rows = serializers.serialize("python", queryset)
    for row in rows:
        secret = SECRET_FIELDS | SECRET_FIELDS_OF.get(row["model"], set())
        for name in secret & set(row["fields"]):
            row["fields"][name] = "(withheld)"
    return rows


def export_person(user):
    """Everything held about `user`, as data json.dumps can write (with
    DjangoJSONEncoder): their account, then every row that refers to them
    by id, copies their address or name, or is their account's history."""
    found = {"account": _rows([user])[0], "records": {}}
    records = found["records"]
    for model, field in user_references():
        rows = model._default_manager.filter(**{field.attname: user.pk})
        if rows.exists():
            records[f"{model._meta.label} by {field.name}"] = _rows(rows.order_by("pk"))
    for model in apps.get_models(include_auto_created=True):
        if model is get_user_model() or model._meta.label == "sessions.Session":
            continue
        rows = _naming(model, user)
        if rows.exists():
            records[f"{model._meta.label} naming them"] = _rows(rows.order_by("pk"))
    for model in account_history_models():
        records[f"{model._meta.label} of their account"] = _rows(
            model._default_manager.filter(id=user.pk).order_by("pk")
        )
    return found


# Erasure -------------------------------------------------------------------------


def check_erasable(user):
    """LastNationalOfficer if nobody else active would be a national officer."""
    national = Membership.objects.filter(role__in=NATIONAL_ROLES, user__is_active=True)
    if national.filter(user=user).exists() and not national.exclude(user=user).exists():
        raise LastNationalOfficer(
            f"{user.email} is the last national officer: give someone else the role first."
        )


def _original_on_delete(model, field):
    try:
        return model.instance_type._meta.get_field(field.name).remote_field.on_delete
    except (FieldDoesNotExist, AttributeError):
        return None


def _scrub_text(model, user):
    """Replace their e-mail address and full name in every text column of
    `model`, row by row (so the rest of the text stays)."""
    name = _full_name(user)
    patterns = [(re.compile(re.escape(user.email), re.IGNORECASE), ERASED_EMAIL)]
    if name:
        patterns.append((re.compile(re.escape(name), re.IGNORECASE), ERASED))
    for row in _naming(model, user):
        changed = {}
        for field in text_fields(model):
            value = getattr(row, field.attname)
            if not isinstance(value, str):
                continue
            new = value
            for pattern, replacement in patterns:
                new = pattern.sub(replacement, new)
            if new != value:
                changed[field.attname] = new[: field.max_length] if field.max_length else new
        model._default_manager.filter(pk=row.pk).update(**changed)


def _end_sessions(user):
    if not apps.is_installed("django.contrib.sessions"):
        return
    from django.contrib.sessions.models import Session

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            store(session.session_key).delete()


@transaction.atomic
def erase_person(user):
    """Remove `user` from everything the app holds (see the module's
    docstring): their account and memberships are deleted; rows that refer
    to them keep their content with no one named (NULL), or go where they
    were the person's own (their memberships' history); their feedback keeps
    only its figures (each model's `objects.forget(user)`, where defined);
    their address and name are replaced wherever text copies them, and the
    addresses of what they did are cleared."""
    check_erasable(user)
    user_model = get_user_model()
    pk = user.pk
    for model in apps.get_models():
        forget = getattr(model._default_manager, "forget", None)
        if callable(forget):
            forget(user)
    _end_sessions(user)
    if apps.is_installed("django.contrib.admin"):
        from django.contrib.admin.models import LogEntry
        from django.contrib.contenttypes.models import ContentType

        about = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(user_model), object_id=str(pk)
        )
        about.delete()
    # Where they acted from is theirs too.
    AuditEvent.objects.filter(
        Q(actor=user)
        | Q(subject=user)
        | Q(actor_email__iexact=user.email)
        | Q(subject_email__iexact=user.email)
    ).update(ip_address=None, actor=None, subject=None)
    for model, field in user_references():
        if "ip_address" in {f.name for f in model._meta.concrete_fields}:
            model._default_manager.filter(**{field.attname: pk}).update(ip_address=None)
    user.delete()  # cascades to what was only theirs; SET_NULL elsewhere
    # What deleting leaves: history rows (their foreign keys are not
    # constraints), including those the cascade just wrote.
    for model in account_history_models():
        model._default_manager.filter(id=pk).delete()
    for model, field in user_references():
        rows = model._default_manager.filter(**{field.attname: pk})
        if is_history(model) and _original_on_delete(model, field) is models.CASCADE:
            rows.delete()  # the history of something that was only theirs
        elif field.null:
            rows.update(**{field.attname: None})
        else:
            rows.delete()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label != "sessions.Session":
            _scrub_text(model, user)
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.ERASURE, detail="A person's data was erased on request."
    )
    data_changed()  # cached pages may name them
