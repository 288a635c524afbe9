"""The pages the ground floor owns: an authority's finance figures and the
audit trail. The pages that show them (the authority page, the overview)
are the dashboards app's.

Every object comes through a `for_user` queryset: out of scope is 404.
"""

from copy import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from . import audit
from .access import Can
from .edits import DeleteForm, save_edit, status_of, try_save
from .forms import AuthorityFinanceForm, DigestForm
from .models import AuthorityFinance, Digest, LocalAuthority, Watch


def _finance_authority(request, slug):
    """The authority whose figures are being changed: 404 out of scope, 403
    for people in scope who may only read them."""
    authority = get_object_or_404(LocalAuthority.objects.for_user(request.user), slug=slug)
    if not authority.can_edit_finance(request.user):
        raise PermissionDenied
    return authority


@require_http_methods(["GET", "POST"])
def finance_add(request, slug):
    authority = _finance_authority(request, slug)
    return _finance_form(request, AuthorityFinance(authority=authority))


@require_http_methods(["GET", "POST"])
def finance_edit(request, slug, year):
    authority = _finance_authority(request, slug)
    finance = get_object_or_404(authority.finance_years, financial_year=year)
    return _finance_form(request, finance)


def _finance_form(request, finance):
    authority = finance.authority
    # The row as saved, for the heading and the delete link: binding the form
    # may change the instance's year before it is valid.
    saved = copy(finance) if finance.pk else None
    form = AuthorityFinanceForm(
        request.POST if request.method == "POST" else None, instance=finance
    )
    if form.is_valid():

        def stamp(finance):
            finance.updated_by = request.user

        try:
            result = try_save(form, lambda: save_edit(form, before_save=stamp))
        except IntegrityError:
            # Someone recorded the same year between the form's check and now.
            form.add_error("financial_year", "Figures for this year are already recorded")
        else:
            if result:
                label = result.obj.financial_year_label
                done = f"{authority}: the {label} figures are saved"
                messages.success(request, result.message(done, f"{label} figures"))
                return redirect(authority)
    return render(
        request,
        "authorities/finance_form.html",
        {"authority": authority, "form": form, "saved": saved},
        status=status_of(form),
    )


@require_http_methods(["GET", "POST"])
def finance_delete(request, slug, year):
    authority = _finance_authority(request, slug)
    finance = get_object_or_404(authority.finance_years, financial_year=year)
    form = DeleteForm(request.POST or None, record=finance)
    if form.is_valid() and form.delete():
        messages.success(
            request, f"{authority}: the {finance.financial_year_label} figures are deleted"
        )
        return redirect(authority)
    return render(
        request,
        "authorities/finance_confirm_delete.html",
        {"authority": authority, "finance": finance, "form": form},
    )


@require_http_methods(["GET", "POST"])
def digest_settings(request):
    """A person's own choice of what their daily digest covers, with the
    authorities they watch."""
    person = request.user
    digest, _ = Digest.objects.get_or_create(person=person)
    form = DigestForm(request.POST if request.method == "POST" else None, instance=digest)
    if form.is_valid():
        result = try_save(form)
        if result:
            messages.success(request, result.message("Your digest setting is saved", "setting"))
            return redirect("authorities:digest")
    watched = LocalAuthority.objects.for_user(person).filter(watchers__person=person)
    return render(
        request,
        "authorities/digest_form.html",
        {"form": form, "digest": digest, "watched": watched.order_by("name")},
        status=status_of(form),
    )


@require_http_methods(["GET", "POST"])
def watch(request, slug):
    """Watch an authority in scope, or stop watching it: a confirmation
    linked from the authority page (whose cached part holds no form), then
    back to it. Twice is the same as once."""
    authority = get_object_or_404(LocalAuthority.objects.for_user(request.user), slug=slug)
    watching = Watch.objects.filter(person=request.user, authority=authority)
    if request.method == "POST":
        if request.POST.get("stop"):
            watching.delete()
            messages.success(request, f"You no longer watch {authority.name}")
        else:
            Watch.objects.get_or_create(person=request.user, authority=authority)
            messages.success(request, f"You watch {authority.name}: your daily digest covers it")
        return redirect(authority)
    digest = Digest.objects.filter(person=request.user).first()
    return render(
        request,
        "authorities/watch_confirm.html",
        {"authority": authority, "watching": watching.exists(), "digest": digest},
    )


AUDIT_PER_PAGE = 50


@require_GET
def audit_trail(request):
    """The audit trail, newest first (authorities/audit.py): national
    officers only; everyone else gets 403. Never cached: it is read to find
    out what just happened."""
    if not request.user.may(Can.READ_AUDIT_TRAIL):
        raise PermissionDenied
    form = audit.AuditFilterForm(request.GET)
    chosen = form.cleaned_data if form.is_valid() else {}
    rows = audit.trail(kind=chosen.get("kind", ""), person=chosen.get("person", ""))
    page = Paginator(rows, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    page_query = request.GET.copy()
    page_query.pop("page", None)
    return render(
        request,
        "authorities/audit.html",
        {
            "form": form,
            "page": page,
            "entries": audit.entries(page.object_list),
            "page_query": page_query.urlencode(),
        },
    )
