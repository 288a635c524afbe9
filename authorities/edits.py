"""Saving what people edit: nothing refused for no reason, nothing silently
overwritten, nothing written when nothing changed.

Every record people edit is `Versioned`: its `version` goes up by one with
each save that changes it. Its edit form (`VersionedForm`) carries the version
the person opened, and `save_edit` saves it (or, in a service, `save_values`
saves the values the view read from it: `edited_values(form)`) in one
transaction that locks the stored row first:

- someone else saved since: the save is refused (`StaleEdit`). The form gets
  an error saying who changed what, keeps everything the person typed, and
  from then on carries the version they have now seen, so saving again
  replaces the other change knowingly, never by accident;
- the form changes no stored value: nothing is written (no history row, no
  "updated by", no new data version for the page cache);
- otherwise the record is saved at the next version.

A record with parts edited on the same page (a meeting with its Schools Forum
outcome and block transfer, a person with their memberships) is versioned as
a whole: the parts' changes move the whole record's version. The checklist's
answers take the same lock through `lock_version`. The Django admin's change
forms use `EditAdmin` and `EditInline`, which check in the admin's own transaction.
"""

from dataclasses import dataclass, field

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst

OUT_OF_DATE = "The page was out of date: open it again and make your change there"


class Versioned(models.Model):
    """A record people edit, saved only from the version it was opened at."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class AddressedHistory(models.Model):
    """A base for django-simple-history's records (`HistoricalRecords(bases=
    [AddressedHistory])`) that keeps the address a change came from, for the
    audit trail: set from the request by authorities/audit.py."""

    ip_address = models.GenericIPAddressField("from address", null=True, blank=True)

    class Meta:
        abstract = True


class StaleEdit(Exception):
    """Someone else saved the record (or removed it) since it was opened.
    `current` is the record as stored now, None if it is gone."""

    def __init__(self, current):
        super().__init__("The record changed since it was opened.")
        self.current = current


def lock_version(model, pk, base_version):
    """The stored row `pk` of `model`, locked until the transaction ends;
    StaleEdit if it is gone or no longer at `base_version`."""
    # of=("self",): the model's default ordering may join other tables,
    # whose rows are not ours to lock.
    rows = model._default_manager.select_for_update(of=("self",)).order_by().filter(pk=pk)
    current = rows.first()
    if current is None or current.version != base_version:
        raise StaleEdit(current)
    return current


# What the other person changed ----------------------------------------------

# Bookkeeping that changes with every save and says nothing to a reader.
BOOKKEEPING = {"id", "version", "updated_at", "updated_by", "answered_at", "answered_by"}


def display(model_field, value, labels=None):
    """A stored value as a reader says it: a choice's label, Yes/No, or
    "(blank)"; `labels` maps a field's name to {stored value: label}."""
    labels = labels or {}
    if value is None or value == "":
        return "(blank)"
    if model_field.name in labels:
        return labels[model_field.name].get(value, value)
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


@dataclass
class OtherChange:
    """Who saved a record after a person opened it, when, and what changed
    (as far as the record's history says)."""

    who: str = "Someone else"
    when: object = None
    changes: list = field(default_factory=list)  # (label, was, now)

    def messages(self, what):
        """The error summary's lines: what happened, what changed, and what
        happens now."""
        if self.when is None:
            headline = f"Someone else changed this {what} while you were editing it."
        else:
            when = date_format(timezone.localtime(self.when), "j F Y \\a\\t H:i")
            headline = (
                f"Someone else changed this {what} while you were editing it: "
                f"{self.who} saved it on {when}."
            )
        lines = [headline]
        lines += [f"{label} is now “{now}” (it was “{was}”)." for label, was, now in self.changes]
        lines.append(
            "Nothing you typed has been saved or lost: check it below, and save again "
            "to replace their changes."
        )
        return lines


def other_change(current, base_version, *, hidden=()):
    """What changed on `current` since `base_version`, from its history
    (django-simple-history) where it has one. `hidden` fields are never
    named (private notes, for people who may not read them)."""
    history = getattr(type(current), "history", None)
    if history is None:
        return OtherChange(when=getattr(current, "updated_at", None))
    records = list(
        history.filter(id=current.pk, version__in=[base_version, current.version])
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    seen = next((r for r in reversed(records) if r.version == base_version), None)
    latest = records[-1] if records else None
    result = OtherChange()
    if latest is not None:
        result.when = latest.history_date
        if latest.history_user is not None:
            result.who = latest.history_user.display_name
    if seen is not None:
        for f in type(current)._meta.concrete_fields:
            if f.name in BOOKKEEPING or f.name in hidden or not hasattr(seen, f.attname):
                continue  # bookkeeping, not theirs to see, or not kept in history
            was, now = getattr(seen, f.attname), getattr(current, f.attname)
            if was != now:
                result.changes.append((capfirst(f.verbose_name), display(f, was), display(f, now)))
    return result


# Forms -----------------------------------------------------------------------


class BaseVersionField(forms.IntegerField):
    """The record's version when the form was shown (0: there was none)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        messages = dict.fromkeys(("required", "invalid", "min_value", "max_value"), OUT_OF_DATE)
        # At most what any database's integer holds: a larger number is no
        # version, and SQLite could not even compare it.
        super().__init__(min_value=0, max_value=2**31 - 1, error_messages=messages, **kwargs)


def same_text(new, old):
    # A browser posts a textarea's line breaks as CRLF: text that differs
    # from what is stored only in its line endings is not a change.
    if isinstance(new, str) and isinstance(old, str):
        return new.replace("\r\n", "\n") == old.replace("\r\n", "\n")
    return new == old


def changes(form, stored):
    """Whether a valid ModelForm would change `stored` (its record as saved):
    a field's value, or a many-to-many set."""
    return differs(edited_values(form), stored)


def edited_values(form):
    """What a valid ModelForm asks to store, as values for a service
    (save_values): each model field it edits, by attribute name
    ("programme_id"), as the form applied it to its instance (so a field
    the post left out keeps its stored value, as ModelForm has it), and each
    many-to-many field's records. Call after is_valid()."""
    values = {}
    for name in form.fields:
        try:
            model_field = form.instance._meta.get_field(name)
        except FieldDoesNotExist:  # a form-only field, such as base_version
            continue
        if model_field.many_to_many:
            values[name] = list(form.cleaned_data.get(name) or [])
        elif model_field.concrete:
            values[model_field.attname] = getattr(form.instance, model_field.attname)
    return values


def differs(values, stored):
    """Whether storing `values` (field name or attribute name → value;
    many-to-many: records) would change `stored`, the record as saved."""
    for key, value in values.items():
        model_field = stored._meta.get_field(key)
        if model_field.many_to_many:
            new = {obj.pk for obj in value}
            old = set(getattr(stored, key).values_list("pk", flat=True))
        else:
            # A related record or its id, as the key names it.
            new = getattr(value, "pk", value) if model_field.is_relation else value
            old = getattr(stored, model_field.attname)
        if not same_text(new, old):
            return True
    return False


def refuse(form, stale, *, what, hidden=()):
    """Turn a refused save into errors on `form`: what the other person
    changed, with the person's input kept and now based on the version they
    have seen (so saving again is a choice to replace the other change)."""
    data = form.data.copy()
    data[form.add_prefix("base_version")] = stale.current.version if stale.current else 0
    form.data = data
    if stale.current is None:
        form.stale = OtherChange()
        form.add_error(None, f"Someone else deleted this {what} while you were editing it.")
        return
    form.stale = other_change(
        stale.current, form.cleaned_data.get("base_version") or 0, hidden=hidden
    )
    for line in form.stale.messages(what):
        form.add_error(None, line)


class VersionedForm(forms.ModelForm):
    """A ModelForm for a `Versioned` record: carries the version it was
    opened at, and knows which stored values it would change.

    `what` names the record in the conflict message ("plan", "meeting").
    """

    what = "record"
    base_version = BaseVersionField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["base_version"].required = True
            self.initial["base_version"] = self.instance.version
        self.stale = None  # an OtherChange once a save has been refused

    def changed(self, stored):
        return changes(self, stored)

    def refuse(self, stale, *, hidden=()):
        refuse(self, stale, what=self.what, hidden=hidden)


@dataclass
class Saved:
    """What save_edit did: the record, and whether anything changed."""

    obj: object
    changed: bool

    def message(self, done, what):
        """`done` ("Plan saved."), or that nothing changed."""
        return done if self.changed else f"Nothing changed: the {what} is as it was."


def try_save(form, save=None):
    """`save()` (by default `save_edit(form)`), or None when someone else
    saved first: `form` then says who changed what, and the view shows it
    again (with status_of(form), 409)."""
    try:
        return save() if save else save_edit(form)
    except StaleEdit as stale:
        form.refuse(stale)
        return None


def status_of(form):
    """The status to show a form again with: 409 when its save was refused
    because someone else saved first."""
    return 409 if getattr(form, "stale", None) else 200


def save_edit(form, *, parts=(), before_save=None):
    """Save a valid VersionedForm as described at the top of this module.

    `parts` are what is edited with it on the same page (objects with
    `changed(stored)` and `save(obj)`), saved in the same transaction.
    `before_save(obj)` stamps bookkeeping ("updated by") and runs only when
    something changed. Raises StaleEdit; returns Saved.
    """
    with transaction.atomic():
        obj = form.instance
        if obj.pk:
            stored = lock_version(type(obj), obj.pk, form.cleaned_data["base_version"])
            changed = form.changed(stored) or any(part.changed(stored) for part in parts)
            if not changed:
                return Saved(stored, changed=False)
            obj.version = stored.version + 1
        if before_save:
            before_save(obj)
        obj = form.save()
        for part in parts:
            part.save(obj)
        return Saved(obj, changed=True)


def save_values(record, values, *, base_version=None, parts=(), before_save=None):
    """save_edit for a service, from values rather than a form: store
    `values` (field name or attribute name → value; many-to-many: records;
    edited_values(form) gives a form's) on `record`, a new record or a
    stored one, as described at the top of this module. A stored record is
    locked and refused if it is no longer at `base_version`.

    `parts` are what is edited with it on the same page (objects with
    `changed(stored)` and `save(record)`), saved in the same transaction.
    `before_save(record)` stamps bookkeeping ("updated by") and runs only
    when something changed. Raises StaleEdit; returns Saved.
    """
    model = type(record)
    links = {key for key in values if model._meta.get_field(key).many_to_many}
    with transaction.atomic():
        if record.pk:
            stored = lock_version(model, record.pk, base_version)
            changed = differs(values, stored) or any(part.changed(stored) for part in parts)
            if not changed:
                return Saved(stored, changed=False)
            record.version = stored.version + 1
        for key, value in values.items():
            if key not in links:
                setattr(record, key, value)
        if before_save:
            before_save(record)
        record.save()
        for key in links:
            getattr(record, key).set(values[key])
        for part in parts:
            part.save(record)
        return Saved(record, changed=True)


# Deleting -------------------------------------------------------------------


class DeleteForm(forms.Form):
    """Confirm a deletion, saying why: the record's history keeps it, with
    who deleted it and the reason. Carries the version the record was shown
    at, so nobody deletes a change they have not seen."""

    reason = forms.CharField(
        label="Why are you deleting it?",
        help_text="For example: entered twice, or the wrong year. This is kept in its history.",
        # django-simple-history keeps the reason in 100 characters.
        max_length=100,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Say why you are deleting it",
            "max_length": "Say why in 100 characters or fewer",
        },
    )
    base_version = BaseVersionField()

    def __init__(self, *args, record, **kwargs):
        super().__init__(*args, initial={"base_version": record.version}, **kwargs)
        self.record = record

    def delete(self):
        """Delete the record (call after is_valid()); False, with an error on
        the form, if someone changed or deleted it since it was shown."""
        with transaction.atomic():
            try:
                stored = lock_version(
                    type(self.record), self.record.pk, self.cleaned_data["base_version"]
                )
            except StaleEdit as stale:
                self.add_error(
                    None,
                    "Someone else changed this since you opened the page: "
                    "look at it again before deleting it."
                    if stale.current
                    else "Someone else has already deleted it.",
                )
                return False
            stored._change_reason = self.cleaned_data["reason"].strip()
            stored.delete()
        return True


# The Django admin ------------------------------------------------------------


class EditAdminForm(forms.ModelForm):
    """What EditAdmin adds to an admin change form: a textarea's line endings
    are not a change (a browser posts its line breaks as CRLF), and are saved
    as they were typed, with LF."""

    @property
    def changed_data(self):
        # Not cached: a formset asks before the form is cleaned.
        return [
            name
            for name in super().changed_data
            if not (
                isinstance(self[name].data, str)
                and isinstance(self[name].initial, str)
                and same_text(self[name].data, self[name].initial)
            )
        ]

    def clean(self):
        cleaned = super().clean()
        for name, value in cleaned.items():
            if isinstance(value, str):
                cleaned[name] = value.replace("\r\n", "\n")
        return cleaned


class VersionedAdminForm(EditAdminForm):
    """An admin form for a Versioned record: carries the version it was
    opened at, checked against the row locked in the admin's transaction,
    and moves it on when the record changes."""

    base_version = BaseVersionField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stale = None
        if self.instance.pk:
            self.fields["base_version"].required = True
            self.initial["base_version"] = self.instance.version

    @property
    def changed_data(self):
        return [name for name in super().changed_data if name != "base_version"]

    def clean(self):
        cleaned = super().clean()
        base_version = cleaned.get("base_version")
        if self.instance.pk and base_version is not None:
            try:
                lock_version(type(self.instance), self.instance.pk, base_version)
            except StaleEdit as stale:
                refuse(self, stale, what=self._meta.model._meta.verbose_name)
        return cleaned

    def save(self, commit=True):
        # The admin saves an inline's form only when it changed, but the
        # record's own form always (EditAdmin.save_model decides).
        if self.instance.pk and self.changed_data:
            self.instance.version += 1
        return super().save(commit)


def _versioned(model):
    return issubclass(model, Versioned)


def _edit_form(base, model):
    mixin = VersionedAdminForm if _versioned(model) else EditAdminForm
    return type(base.__name__, (mixin, base), {})


class EditAdmin(admin.ModelAdmin):
    """The admin's change forms, saving as the app's own forms do: nothing
    written when nothing changed and, for a Versioned record, a stale save
    refused.

    The admin validates and saves in one transaction (changeform_view), so
    the row locked while the form is cleaned stays locked until it is saved.
    A change to an inline alone (a person's memberships) moves the record's
    version too, so a second officer's stale save of the inlines is refused.
    """

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = _edit_form(kwargs.get("form", self.form), self.model)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        # The hidden version goes with the first fieldset, so the admin
        # renders (and posts) it.
        fieldsets = super().get_fieldsets(request, obj)
        fieldsets = [(name, dict(options)) for name, options in fieldsets]
        named = [name for _, options in fieldsets for name in options["fields"]]
        if obj is not None and _versioned(self.model) and "base_version" not in named:
            options = fieldsets[0][1]
            options["fields"] = [*options["fields"], "base_version"]
        return fieldsets

    def save_model(self, request, obj, form, change):
        if change and not form.changed_data:
            return  # nothing of the record's own changed: write nothing
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if change and _versioned(self.model) and formset.has_changed() and not form.changed_data:
            # Only an inline changed: the record's version moves all the same.
            type(form.instance).objects.filter(pk=form.instance.pk).update(
                version=models.F("version") + 1
            )


class EditInline(admin.options.InlineModelAdmin):
    """An inline saving as EditAdmin does; rows that are Versioned records
    themselves (a plan's instalments) carry and check their own version."""

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = _edit_form(kwargs.get("form", self.form), self.model)
        return super().get_formset(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if _versioned(self.model) and "base_version" not in fields:
            fields.append("base_version")
        return fields
