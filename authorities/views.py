"""Pages about authorities, regions and the person using the app.

Every object comes through a `for_user` queryset: out of scope is 404.
"""

from copy import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from consultations.models import (
    Action,
    BlockTransfer,
    Consultation,
    plans_agreed_without_consultation,
)
from feedback.aggregates import authority_feedback, region_feedback
from plans.models import Plan

from .forms import AuthorityFilterForm, AuthorityFinanceForm
from .models import EDITOR_ROLES, AuthorityFinance, LocalAuthority, Region

AUTHORITIES_PER_PAGE = 50


@require_GET
def home(request):
    user = request.user
    regions = Region.objects.for_user(user).with_authority_count()
    authorities = LocalAuthority.objects.for_user(user)
    context = {
        "memberships": user.memberships.select_related("region", "authority"),
        "regions": regions,
        # National scope means all 153: the regions table is the way in.
        "authorities": None if user.has_national_scope else authorities.with_coverage(),
        "authority_count": authorities.count(),
        "my_actions": Action.objects.for_user(user).filter(owner=user).open().overdue_first(),
    }
    return render(request, "authorities/home.html", context)


@require_GET
def authority_list(request):
    authorities = LocalAuthority.objects.for_user(request.user)
    regions = Region.objects.filter(authorities__in=authorities).distinct()
    form = AuthorityFilterForm(request.GET, regions=regions)
    form.is_valid()
    page = Paginator(
        form.filter(authorities).select_related("region"), AUTHORITIES_PER_PAGE
    ).get_page(request.GET.get("page"))
    # Links keep the search and filter: sorting resets the page, paging keeps the sort.
    filter_query = request.GET.copy()
    for key in ("page", "sort"):
        filter_query.pop(key, None)
    page_query = filter_query.copy()
    if request.GET.get("sort"):
        page_query["sort"] = request.GET["sort"]
    return render(
        request,
        "authorities/authority_list.html",
        {
            "form": form,
            "page": page,
            "sort": form.cleaned_data.get("sort") or "name",
            "filter_query": filter_query.urlencode(),
            "page_query": page_query.urlencode(),
        },
    )


@require_GET
def authority_detail(request, slug):
    authority = get_object_or_404(
        LocalAuthority.objects.for_user(request.user).with_coverage().prefetch_related("aliases"),
        slug=slug,
    )
    region_visible = Region.objects.for_user(request.user).filter(pk=authority.region_id).exists()
    # One look at this person's roles decides what they may record here.
    roles = authority.roles_of(request.user)
    can_edit = not EDITOR_ROLES.isdisjoint(roles)
    return render(
        request,
        "authorities/authority_detail.html",
        {
            "authority": authority,
            "region_visible": region_visible,
            "plans": Plan.objects.for_user(request.user).filter(authority=authority).summary(),
            "can_add_plan": can_edit,
            "finance_years": authority.finance_years.trend(),
            "can_edit_finance": can_edit,
            # Feedback figures, small numbers suppressed (feedback/_summary.html).
            "feedback": authority_feedback(authority, request.user, roles),
            # Meetings, block transfers and actions (consultations/_authority_section.html).
            "recent_meetings": Consultation.objects.for_user(request.user)
            .filter(authority=authority)
            .listed()[:5],
            "block_transfers": BlockTransfer.objects.for_user(request.user)
            .filter(consultation__authority=authority)
            .listed(),
            "open_actions": Action.objects.for_user(request.user)
            .filter(authority=authority)
            .open()
            .overdue_first(),
        },
    )


@require_GET
def region_detail(request, slug):
    region = get_object_or_404(Region.objects.for_user(request.user), slug=slug)
    return render(
        request,
        "authorities/region_detail.html",
        {
            "region": region,
            "regional_people": region.memberships.select_related("user"),
            "authorities": region.authorities.with_coverage(),
            # Feedback figures, small numbers suppressed (feedback/_summary.html).
            "feedback": region_feedback(region, request.user),
            # Where the union was left out (consultations/_region_section.html).
            "unconsulted_plans": plans_agreed_without_consultation(
                Plan.objects.for_user(request.user).filter(authority__region=region).current()
            ).select_related("authority", "programme"),
            "region_meetings": Consultation.objects.for_user(request.user)
            .filter(authority__region=region)
            .listed()[:10],
            "block_transfers": BlockTransfer.objects.for_user(request.user)
            .filter(consultation__authority__region=region)
            .listed(),
        },
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
        finance = form.save(commit=False)
        finance.updated_by = request.user
        try:
            with transaction.atomic():
                finance.save()
        except IntegrityError:
            # Someone recorded the same year between the form's check and now.
            form.add_error("financial_year", "Figures for this year are already recorded")
        else:
            messages.success(
                request, f"{authority}: the {finance.financial_year_label} figures are saved"
            )
            return redirect(authority)
    return render(
        request,
        "authorities/finance_form.html",
        {"authority": authority, "form": form, "saved": saved},
    )


@require_http_methods(["GET", "POST"])
def finance_delete(request, slug, year):
    authority = _finance_authority(request, slug)
    finance = get_object_or_404(authority.finance_years, financial_year=year)
    if request.method == "POST":
        finance.delete()
        messages.success(
            request, f"{authority}: the {finance.financial_year_label} figures are deleted"
        )
        return redirect(authority)
    return render(
        request,
        "authorities/finance_confirm_delete.html",
        {"authority": authority, "finance": finance},
    )
