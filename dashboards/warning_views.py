"""The warnings page and marking a warning dealt with, or reopening it.

Every warning is read through its kind's reader (dashboards/warnings.py), so
a person finds, marks and reopens only warnings they may see: anything else
is 404. Marking and reopening need Can.DEAL_WITH_WARNINGS over the warning's
authority (403 otherwise).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from authorities.access import AuthorityAccess, Can
from authorities.caching import cached_page, render_body
from authorities.edits import OUT_OF_DATE, StaleEdit, lock_version
from authorities.models import LocalAuthority, Region

from .forms import DealtWithForm, ReopenForm, WarningFilterForm
from .models import WarningDealtWith, cause_key
from .warnings import GravestFirst, Kind, Status, find_warning, warning_list

WARNINGS_PER_PAGE = 50


@require_GET
def warnings_page(request):
    """Every warning in the person's scope, gravest first, open unless they
    ask for those dealt with; filtered by kind, region, authority and date."""
    # Rendered once per person and address until the data next changes
    # (authorities/caching.py): it holds links, never a form that posts.
    page = cached_page(
        request, "warnings-page", request.GET.urlencode(), lambda: _warnings_page(request)
    )
    return render(request, "dashboards/warning_list.html", page)


def _warnings_page(request):
    user = request.user
    authorities = LocalAuthority.objects.for_user(user)
    regions = list(Region.objects.filter(authorities__in=authorities).distinct().order_by("name"))
    form = WarningFilterForm(
        request.GET,
        regions=regions,
        authorities=list(authorities.only("pk", "slug", "name").order_by("name")),
    )
    form.is_valid()
    chosen = form.chosen()
    narrowed = None
    if chosen["region"]:
        narrowed = authorities.filter(region=chosen["region"])
    if chosen["authority"]:
        narrowed = authorities.filter(pk=chosen["authority"].pk)
    if chosen["status"] == Status.OPEN:
        # Counted, and only the page built, from the index of open warnings.
        found = GravestFirst(user, narrowed, chosen["since"], kinds=chosen["kinds"])
    else:
        found = warning_list(
            user, narrowed, chosen["since"], kinds=chosen["kinds"], status=chosen["status"]
        )
    page = Paginator(found, WARNINGS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "page_query": query.urlencode(),
        "dealt_with": chosen["status"] == Status.DEALT_WITH,
        # Where this person may mark or reopen the warnings shown (one query).
        "may_act": _may_act(user, page.object_list),
        "back": request.get_full_path(),
    }
    return {
        "has_errors": bool(form.errors),
        "body": render_body(request, "dashboards/warning_list.html", context),
    }


def _may_act(user, warnings):
    """The ids of the authorities among `warnings`' where `user` may mark
    them dealt with or reopen them."""
    ids = {warning.authority.pk for warning in warnings}
    if not ids:
        return set()
    authorities = LocalAuthority.objects.where_user_may(user, Can.DEAL_WITH_WARNINGS)
    return set(authorities.filter(pk__in=ids).values_list("pk", flat=True))


def _warning(request, kind, pk):
    """The warning of `kind` about record `pk` as `request.user` may see it
    (404 if not), and that they may act on it (403 if not)."""
    if kind not in Kind.values:
        raise Http404("No such kind of warning.")
    warning = find_warning(request.user, Kind(kind), pk)
    if warning is None:
        raise Http404("No such warning.")
    if not AuthorityAccess.of(request.user, warning.authority).can_deal_with_warnings:
        raise PermissionDenied
    return warning


def _back(request, warning):
    """Where to go afterwards: the page the person came from (`next`, on
    this site), else the warnings page for the warning's authority."""
    back = request.GET.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return f"{reverse('dashboards:warnings')}?authority={warning.authority.slug}"


def _standing(warning):
    """The WarningDealtWith that holds for `warning` as it stands, or None."""
    kind, subject_pk, cause = warning.key
    return (
        WarningDealtWith.objects.current()
        .select_related("dealt_with_by")
        .filter(kind=kind, subject_id=subject_pk, cause=cause)
        .first()
    )


def _who_and_when(record):
    who = record.dealt_with_by.display_name if record.dealt_with_by else "Someone"
    when = date_format(timezone.localtime(record.dealt_with_at), "j F Y \\a\\t H:i")
    return f"{who} marked it dealt with on {when}"


@require_http_methods(["GET", "POST"])
def warning_deal(request, kind, pk):
    """Mark a warning dealt with, saying what was done: it leaves the open
    warnings for everyone until its cause recurs or someone reopens it."""
    warning = _warning(request, kind, pk)
    back = _back(request, warning)
    record = _standing(warning)
    shown_cause = cause_key(warning.cause)
    form = DealtWithForm(request.POST or None, initial={"cause": shown_cause})
    status = 200
    # What the person wrote, if it cannot be saved (someone else was first):
    # shown back to them, not lost.
    unsaved = request.POST.get("note", "").strip()
    if record is not None:
        # Already dealt with: say by whom, and offer nothing to post.
        form = None
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST" and form.is_valid():
        if form.cleaned_data["cause"] != shown_cause:
            # Its cause changed since the page was shown: what the person
            # read is not what they would mark. The note is kept, and the
            # form now carries the cause shown.
            form = _showing_cause(form, shown_cause)
            form.add_error(
                None,
                "This warning has changed since you opened the page: read it again below "
                "before marking it dealt with.",
            )
            status = 409
        else:
            try:
                with transaction.atomic():
                    WarningDealtWith.objects.mark(
                        warning, user=request.user, note=form.cleaned_data["note"].strip()
                    )
            except IntegrityError:
                # Someone else marked it between the page and the press.
                record = _standing(warning)
                form = None
                status = 409
            else:
                messages.success(request, f"Marked as dealt with: {warning.reason}.")
                return redirect(back)
    return render(
        request,
        "dashboards/warning_deal.html",
        {
            "warning": warning,
            "form": form,
            "record": record,
            "back": back,
            "record_by": _who_and_when(record) if record else "",
            "unsaved": unsaved if record else "",
        },
        status=status,
    )


def _showing_cause(form, cause):
    data = form.data.copy()
    data["cause"] = cause
    refreshed = DealtWithForm(data)
    refreshed.is_valid()
    return refreshed


@require_http_methods(["GET", "POST"])
def warning_reopen(request, pk):
    """Reopen a warning marked dealt with: it is open again for everyone;
    the record keeps who reopened it, when and why."""
    record = get_object_or_404(
        WarningDealtWith.objects.for_user(request.user)
        .current()
        .select_related("dealt_with_by", "authority"),
        pk=pk,
    )
    warning = _warning(request, record.kind, record.subject_id)
    if warning.key != (record.kind, record.subject_id, record.cause):
        # Its cause has changed since: the warning is open already.
        raise Http404("This warning is open already.")
    back = _back(request, warning)
    form = ReopenForm(request.POST or None, initial={"base_version": record.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                stored = lock_version(
                    WarningDealtWith, record.pk, form.cleaned_data["base_version"]
                )
                stored.reopened_at = timezone.now()
                stored.reopened_by = request.user
                stored.reopen_note = form.cleaned_data["reason"].strip()
                stored.version += 1
                stored.save()
        except StaleEdit:
            form.add_error(None, OUT_OF_DATE)
            status = 409
        else:
            messages.success(request, f"Reopened: {warning.reason}.")
            return redirect(back)
    return render(
        request,
        "dashboards/warning_reopen.html",
        {
            "warning": warning,
            "record": record,
            "record_by": _who_and_when(record),
            "form": form,
            "back": back,
        },
        status=status,
    )
