"""The pages the ground floor owns: an authority's finance figures, the
lists and forms of multi-academy trusts and local branches, and the audit
trail. The pages that show them (the authority page, the overview)
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
from .forms import AuthorityFinanceForm, BranchForm, DigestForm, TrustForm
from .models import (
    AuthorityFinance,
    Branch,
    Digest,
    LocalAuthority,
    MultiAcademyTrust,
    Watch,
)


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


# Multi-academy trusts and local branches (the briefing's section 7) ---------
# Their own pages, with the meetings and feedback linked to them, are the
# dashboards app's (dashboards:trust, dashboards:branch).

COVERING_PER_PAGE = 50


def _may_record_any(user):
    """Whether the person may record a trust or a branch anywhere (one query)."""
    return LocalAuthority.objects.where_user_may(user, Can.RECORD_TRUSTS_AND_BRANCHES).exists()


def _covering_list(request, model, template):
    """The trusts or branches in the person's scope, by name, each with its
    authorities: three queries (count, page, authorities) however many."""
    rows = model.objects.for_user(request.user).with_authorities().order_by("name", "pk")
    page = Paginator(rows, COVERING_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {"page": page, "page_query": "", "may_add": _may_record_any(request.user)},
    )


def _covering_form(request, record, form_class, template):
    """Add or change a trust or a branch: bind, validate, save (refused if
    someone else saved first, authorities/edits.py), message, redirect."""
    form = form_class(
        request.POST if request.method == "POST" else None, instance=record, user=request.user
    )
    if form.is_valid():

        def stamp(record):
            record.updated_by = request.user

        result = try_save(form, lambda: save_edit(form, before_save=stamp))
        if result:
            messages.success(request, result.message(f"{result.obj.name} is saved", form.what))
            return redirect(result.obj)
    return render(
        request,
        template,
        {"form": form, "record": record if record.pk else None},
        status=status_of(form),
    )


def _covering_to_change(request, model, pk):
    """404 out of scope; 403 in scope for those who may only read it."""
    record = get_object_or_404(model.objects.for_user(request.user), pk=pk)
    if not record.can_edit(request.user):
        raise PermissionDenied
    return record


@require_GET
def trust_list(request):
    return _covering_list(request, MultiAcademyTrust, "authorities/trust_list.html")


@require_http_methods(["GET", "POST"])
def trust_add(request):
    if not _may_record_any(request.user):
        raise PermissionDenied
    return _covering_form(request, MultiAcademyTrust(), TrustForm, "authorities/trust_form.html")


@require_http_methods(["GET", "POST"])
def trust_edit(request, pk):
    trust = _covering_to_change(request, MultiAcademyTrust, pk)
    return _covering_form(request, trust, TrustForm, "authorities/trust_form.html")


@require_GET
def branch_list(request):
    return _covering_list(request, Branch, "authorities/branch_list.html")


@require_http_methods(["GET", "POST"])
def branch_add(request):
    if not _may_record_any(request.user):
        raise PermissionDenied
    return _covering_form(request, Branch(), BranchForm, "authorities/branch_form.html")


@require_http_methods(["GET", "POST"])
def branch_edit(request, pk):
    branch = _covering_to_change(request, Branch, pk)
    return _covering_form(request, branch, BranchForm, "authorities/branch_form.html")
