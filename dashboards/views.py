"""The pages that bring every app's records together: Home, the authority
list and page, the briefing pack, the region page, the overview and its
downloads, and the map.

Every object comes through a `for_user` queryset: out of scope is 404.
"""

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, Window, prefetch_related_objects
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from authorities import audit
from authorities.access import AuthorityAccess
from authorities.caching import authority_scope, cached_page, region_scope, render_body
from authorities.models import (
    Branch,
    Digest,
    LocalAuthority,
    MultiAcademyTrust,
    Region,
    Watch,
    read_coverage,
)
from consultations.models import (
    Action,
    BlockTransfer,
    Meeting,
    plans_agreed_without_consultation,
)
from feedback.aggregates import authority_feedback, region_feedback, trust_feedback
from official.presenters import official_figures, similar_authorities
from plans.models import Plan, TimelineEntry

from . import national_office
from .briefing import authority_plans, briefing_pack, forum_answers
from .briefing import short_pack as short_pack_of
from .charts import (
    assessment_wait_chart,
    dsg_deficit_chart,
    high_needs_chart,
    official_charts,
)
from .exports import csv_lines, xlsx_bytes
from .filters import Only
from .forms import AuthorityFilterForm, NationalOfficeReportForm, SearchForm
from .maps import MapForm, build_map
from .models import DashboardExport
from .needs import what_needs
from .overview import Overview
from .search import search
from .warnings import gravest_warnings

AUTHORITIES_PER_PAGE = 50
# Block transfers listed on a region page (the newest years first).
REGION_TRANSFERS = 10
REGION_UNCONSULTED = 10
# Open warnings listed on an authority's page (the gravest first); the
# warnings page lists them all.
AUTHORITY_WARNINGS = 5
# Its open actions, overdue first: the rest are on its own list of actions
# (at 10x data Camden has some 250, 79 KB of the page).
AUTHORITY_ACTIONS = 10


@require_GET
def home(request):
    user = request.user
    # Everything on it is this person's: rendered once and cached until the
    # data next changes (authorities/caching.py), or the day does ("overdue"
    # and "new" depend on it).
    page = cached_page(
        request,
        "home-page",
        None,
        lambda: {"body": render_body(request, "dashboards/home.html", _home(user))},
    )
    return render(request, "dashboards/home.html", page)


def _home(user):
    regions = list(Region.objects.for_user(user).with_authority_count())
    # National scope means all 153: the regions table is the way in, and
    # its counts add up to them (every authority is in a region).
    if user.has_national_scope:
        authorities, authority_count = None, sum(region.authority_count for region in regions)
    else:
        authorities = list(LocalAuthority.objects.for_user(user).with_coverage())
        authority_count = len(authorities)
    # Lists, read here rather than while rendering; "what needs you" is
    # worked out from the memberships and actions too.
    memberships = list(user.memberships.select_related("region", "authority"))
    my_actions = list(Action.objects.listed_for(user).filter(owner=user).open())
    needs = what_needs(user, memberships=memberships, my_actions=my_actions)
    return {
        "memberships": memberships,
        "regions": regions,
        "authorities": authorities,
        "authority_count": authority_count,
        "my_actions": my_actions,
        "needs": needs,
        # Every open warning in scope, counted for the link to the warnings page.
        "warning_total": needs.all_warning_count,
        # The national timeline's next dates (plans/_coming_up.html).
        "coming_up": TimelineEntry.objects.coming_up(timezone.localdate()),
    }


@require_GET
def authority_list(request):
    # Rendered once per person and address (search, filter, sort, page)
    # until the data next changes (authorities/caching.py).
    page = cached_page(
        request, "authority-list-page", request.GET.urlencode(), lambda: _authority_list(request)
    )
    return render(request, "dashboards/authority_list.html", page)


def _authority_list(request):
    authorities = LocalAuthority.objects.for_user(request.user)
    regions = Region.objects.filter(authorities__in=authorities).distinct()
    form = AuthorityFilterForm(request.GET, regions=regions)
    form.is_valid()
    authorities = form.filter(authorities).select_related("region")
    # A search with no sort chosen lists the best matches first: the whole
    # name or an alias, then whole words, then parts of words, each by name
    # (LocalAuthorityQuerySet.search).
    best_first = bool(form.cleaned_data.get("q")) and not form.cleaned_data.get("sort")
    if best_first:
        authorities = authorities.order_by("search_rank", "name")
    page = Paginator(authorities, AUTHORITIES_PER_PAGE).get_page(request.GET.get("page"))
    # Links keep the search and filter: sorting resets the page, paging keeps the sort.
    filter_query = request.GET.copy()
    for key in ("page", "sort"):
        filter_query.pop(key, None)
    page_query = filter_query.copy()
    if request.GET.get("sort"):
        page_query["sort"] = request.GET["sort"]
    context = {
        "form": form,
        "page": page,
        # No column is marked as sorted while the best matches come first.
        "sort": "" if best_first else form.cleaned_data.get("sort") or "name",
        "best_first": best_first,
        "filter_query": filter_query.urlencode(),
        "page_query": page_query.urlencode(),
    }
    return {
        "page_number": page.number,
        "body": render_body(request, "dashboards/authority_list.html", context),
    }


@require_GET
def authority_detail(request, slug):
    user = request.user
    authority = get_object_or_404(
        LocalAuthority.objects.for_user(user).select_related("region"), slug=slug
    )
    # Everything on the page is this person's view of the authority: it is
    # rendered once and cached until the authority's data next changes
    # (authorities/caching.py). Unpickling the lists would cost more than
    # reading them.
    page = cached_page(
        request,
        "authority-page-html",
        authority.pk,
        lambda: _rendered_authority_page(request, authority),
        scope=authority_scope(authority),
    )
    return render(request, "dashboards/authority_detail.html", {"authority": authority, **page})


def _rendered_authority_page(request, authority):
    context = _authority_page(request.user, authority)
    return {
        "region_visible": context["region_visible"],
        "body": render_body(request, "dashboards/authority_detail.html", context),
    }


def _authority_page(user, authority):
    """The authority page's context: lists and charts, read here, so the
    page makes no query while it renders. `authority` comes with its region
    (the view's scoped read); who covers it and its aliases are added."""
    read_coverage(authority)
    prefetch_related_objects([authority], "aliases")
    region_visible = Region.objects.for_user(user).filter(pk=authority.region_id).exists()
    # One look at this person's roles decides what they may record here.
    roles = authority.roles_of(user)
    access = AuthorityAccess(frozenset(roles))
    finance_years = authority.finance_years.trend()
    feedback = authority_feedback(authority, user, roles)
    official = official_charts(official_figures(authority))
    # Its gravest open warnings, and how many it has.
    warnings, warning_total = gravest_warnings(
        user, LocalAuthority.objects.filter(pk=authority.pk), limit=AUTHORITY_WARNINGS
    )
    return {
        "authority": authority,
        "region_visible": region_visible,
        "warnings": warnings,
        "warning_total": warning_total,
        "plans": authority_plans(user, authority, access),
        # Whether this person's daily digest covers the authority, and how
        # (one query: their digest, and whether they watch it).
        **_watching(user, authority),
        "can_add_plan": access.can_edit,
        "can_plan_meetings": access.can_plan_meetings,
        "finance_years": finance_years,
        "finance_charts": [dsg_deficit_chart(finance_years), high_needs_chart(finance_years)]
        if finance_years
        else [],
        "can_edit_finance": access.can_edit,
        # Feedback figures, small numbers suppressed (feedback/_summary.html).
        "feedback": feedback,
        "feedback_chart": assessment_wait_chart(feedback)
        if feedback.count and not feedback.withheld
        else None,
        # The briefing's section 7 (dashboards/_trusts_and_branches.html).
        "trusts_and_branches": authority.trusts_and_branches(),
        "recent_meetings": list(
            Meeting.objects.for_user(user).filter(authority=authority).listed()[:5]
        ),
        "forum_answers": forum_answers(user, authority),
        "block_transfers": list(
            BlockTransfer.objects.for_user(user).filter(meeting__authority=authority).listed()
        ),
        **_open_actions(user, authority),
        # Official statistics beside its region and England (official/_figures.html),
        # the 20-week rate beside members' median wait (feedback/_figures.html),
        # and the authorities most like it by them (official/_similar.html).
        "official": official,
        "official_wait": official.twenty_weeks,
        "similar": similar_authorities(authority, user),
        "national_office_reports": list(
            authority.national_office_reports.select_related("sent_by").annotate(
                concern_count=Count("concerns")
            )[:RECENT_REPORTS]
        ),
        "can_tell_national_office": access.can_contribute,
    }


@require_http_methods(["GET", "POST"])
def tell_national_office(request, slug):
    """Send a report on an authority to the national office: for those who
    may contribute to its records (AuthorityAccess.can_contribute); others
    in scope get 403, and out of scope 404."""
    user = request.user
    authority = get_object_or_404(
        LocalAuthority.objects.for_user(user).select_related("region"), slug=slug
    )
    roles = authority.roles_of(user)
    if not AuthorityAccess(frozenset(roles)).can_contribute:
        raise PermissionDenied
    shared = national_office.shared_feedback(authority)
    form = NationalOfficeReportForm(
        request.POST if request.method == "POST" else None,
        concerns=national_office.reportable_concerns(user, authority),
        shared_count=len(shared),
    )
    figures = authority_feedback(authority, user, roles)
    if form.is_valid():
        data = form.cleaned_data
        national_office.send_report(
            authority=authority,
            sender=user,
            concerns=list(data["concerns"]),
            figures=figures if data["members_figures"] else None,
            feedback=shared if data.get("shared_feedback") else [],
            note=data["note"],
        )
        messages.success(
            request,
            f"Your report on {authority.name} is on its way to the national office. "
            "It is listed under “Told to the national office”.",
        )
        return redirect(authority.get_absolute_url() + "#national-office")
    return render(
        request,
        "dashboards/national_office_form.html",
        {"authority": authority, "form": form, "figures": figures},
    )


@require_GET
def search_page(request):
    """The one search box: what the person may read that matches their
    words (dashboards/search.py). Never cached: it is read to find."""
    form = SearchForm(request.GET or None)
    found = search(request.user, form.cleaned_data["q"]) if form.is_valid() else None
    return render(request, "dashboards/search.html", {"form": form, "found": found})


# Reports to the national office listed on the authority page, newest first.
RECENT_REPORTS = 5


def _open_actions(user, authority):
    """The first AUTHORITY_ACTIONS of the authority's open actions, overdue
    first, and how many there are, in one query (each row counts them all)."""
    actions = Action.objects.listed_for(user).filter(authority=authority).open()
    actions = list(actions.annotate(open_count=Window(Count("pk")))[:AUTHORITY_ACTIONS])
    return {"open_actions": actions, "open_action_count": actions[0].open_count if actions else 0}


def _watching(user, authority):
    digest = (
        Digest.objects.filter(person=user)
        .annotate(watching=Exists(Watch.objects.filter(person=user, authority=authority)))
        .first()
    )
    if digest is None:  # made with the person; gone only if deleted by hand
        return {"digest_covers": Digest.Covers.SCOPE, "watching": False}
    return {"digest_covers": digest.covers, "watching": digest.watching}


# A plan's id in the briefing pack's address: digits, and few enough for
# any database's integer (a longer number is no plan either).
PLAN_ID = re.compile(r"[0-9]{1,9}")


@require_GET
def briefing(request, slug):
    """The printable briefing pack: everyone who reads the authority's page
    may print it. `?plan=<id>` narrows it to one of the authority's plans;
    any other plan, or anything but an id, is not found."""
    user = request.user
    authority = get_object_or_404(
        LocalAuthority.objects.for_user(user).select_related("region"), slug=slug
    )
    plan_id = request.GET.get("plan", "")
    if plan_id and not PLAN_ID.fullmatch(plan_id):
        raise Http404("No such plan.")
    plan_pk = int(plan_id) if plan_id else None
    # Rendered once per person and plan until the authority's data next
    # changes (authorities/caching.py); the footer says when it was printed.
    page = cached_page(
        request,
        "briefing-page",
        (authority.pk, plan_pk),
        lambda: _briefing(request, authority, plan_pk),
        scope=authority_scope(authority),
    )
    if not page:
        raise Http404("No such plan.")
    # What leaves the app on paper is in the audit trail: whoever opens the
    # pack may print it.
    plan_detail = f", {page['plan_name']}" if page.get("plan_name") else ""
    audit.record(audit.Kind.BRIEFING, request=request, detail=f"{authority.name}{plan_detail}")
    return render(
        request,
        "dashboards/briefing.html",
        {"authority": authority, "produced_by": user, "produced_at": timezone.localtime(), **page},
    )


def _briefing(request, authority, plan_pk):
    """The briefing pack's title and body; empty when `plan_pk` is none of
    the authority's plans in scope."""
    pack = briefing_pack(
        request.user, authority, authority.roles_of(request.user), plan_pk=plan_pk
    )
    if plan_pk is not None and not pack.plans:
        return {}
    official = official_charts(official_figures(authority))
    return {
        "plan_name": pack.plans[0].plan.short_name if pack.one_plan else "",
        "body": render_body(
            request,
            "dashboards/briefing.html",
            {
                "pack": pack,
                "authority": authority,
                "official": official,
                "official_wait": official.twenty_weeks,
            },
        ),
    }


@require_GET
def short_pack(request, pk):
    """One or two pages to print for one meeting: everyone who sees the
    meeting may print it (out of scope, or confidential to them: 404)."""
    user = request.user
    meeting = get_object_or_404(
        Meeting.objects.for_user(user).select_related("authority__region", "plan__programme"),
        pk=pk,
    )
    authority = meeting.authority
    pack = short_pack_of(user, meeting, authority.roles_of(user))
    # What leaves the app on paper is in the audit trail (as the full pack).
    audit.record(
        audit.Kind.BRIEFING,
        request=request,
        detail=f"{authority.name}, short pack for {meeting}",
    )
    return render(
        request,
        "dashboards/short_pack.html",
        {
            "pack": pack,
            "meeting": meeting,
            "authority": authority,
            "produced_by": user,
            "produced_at": timezone.localtime(),
        },
    )


@require_GET
def region_detail(request, slug):
    user = request.user
    region = get_object_or_404(Region.objects.for_user(user), slug=slug)
    # Rendered once per person and address (the table's filters and sort)
    # until the region's data next changes (authorities/caching.py): a large region's
    # table, meetings and transfers take longer to draw than to read.
    page = cached_page(
        request,
        "region-page",
        (region.pk, request.GET.urlencode()),
        lambda: {
            "body": render_body(
                request, "dashboards/region_detail.html", _region_page(request, region)
            )
        },
        scope=region_scope(region),
    )
    return render(request, "dashboards/region_detail.html", {"region": region, **page})


def _region_page(request, region):
    """The region page's context: lists, read here, so the page makes no
    query while it renders."""
    user = request.user
    transfers = BlockTransfer.objects.for_user(user).filter(meeting__authority__region=region)
    return {
        "region": region,
        "regional_people": list(region.memberships.select_related("user")),
        # The overview table for the region, with its filters and downloads
        # (dashboards/overview.py).
        "overview": Overview(user, request.GET, region=region),
        # Feedback figures, small numbers suppressed (feedback/_summary.html).
        "feedback": region_feedback(region, user),
        # Where the union was left out (consultations/_region_section.html):
        # the most recently agreed, each with how many there are in all.
        **_unconsulted(user, region),
        "region_meetings": list(
            Meeting.objects.for_user(user).filter(authority__region=region).listed()[:10]
        ),
        # The newest and a count: a region's every transfer made the page
        # hundreds of kilobytes; each authority's page lists all of its own.
        "block_transfers": list(transfers.listed()[:REGION_TRANSFERS]),
        "block_transfer_count": transfers.count(),
    }


def _unconsulted(user, region):
    """The region's plans agreed without consultation that were agreed
    last, and how many there are (in the same query, a window's count): at
    10x London has hundreds, which made a list longer than the rest of the
    page, where the authorities' table filters to them in one click."""
    plans = plans_agreed_without_consultation(
        Plan.objects.for_user(user).filter(authority__region=region).current()
    )
    newest = list(
        plans.select_related("authority", "programme")
        .annotate(total=Window(Count("pk")))
        .order_by("-agreement_date", "authority__name", "pk")[:REGION_UNCONSULTED]
    )
    return {
        "unconsulted_plans": newest,
        "unconsulted_count": newest[0].total if newest else 0,
        "only_unconsulted": f"?{urlencode({'only': Only.NOT_CONSULTED.value})}#authorities",
    }


def overview_permitted(request):
    """National officers see every authority, regional organisers and NEMs
    their region's; the people who cover single authorities (network leads
    among them) get 403: they work from their authorities' pages."""
    if not request.user.can_see_overview:
        raise PermissionDenied


@require_GET
def overview(request):
    overview_permitted(request)
    # Rendered once per person and address (filters and sort) until the data
    # next changes (authorities/caching.py).
    page = cached_page(
        request, "overview-page", request.GET.urlencode(), lambda: _overview(request)
    )
    return render(request, "dashboards/overview.html", page)


def _overview(request):
    overview = Overview(request.user, request.GET)
    return {
        "scope": overview.scope,
        "body": render_body(request, "dashboards/overview.html", {"overview": overview}),
    }


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_GET
def overview_export(request, file_format):
    """The overview table as CSV (streamed) or XLSX, with the page's filters,
    sort and suppression; each download is recorded. A filter that is not
    valid sends the person back to the page, which says what is wrong."""
    overview_permitted(request)
    overview = Overview(request.user, request.GET)
    if not overview.is_valid:
        return redirect(f"{reverse('dashboards:overview')}?{request.GET.urlencode()}")
    header, rows = overview.export_table()
    DashboardExport.objects.create(
        exported_by=request.user,
        exported_by_email=request.user.email,
        ip_address=audit.client_ip(request),
        format=file_format,
        filters=overview.filterset.chosen(),
        description=overview.description()[:500],
        row_count=len(rows),
        small_numbers_withheld=not overview.reveal_small_numbers,
    )
    if file_format == DashboardExport.Format.CSV:
        response = StreamingHttpResponse(
            csv_lines(header, rows), content_type=EXPORT_TYPES[file_format]
        )
    else:
        response = HttpResponse(xlsx_bytes(header, rows), content_type=EXPORT_TYPES[file_format])
    filename = f"overview-{timezone.localdate():%Y-%m-%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def authority_map(request):
    """The tile map: everyone signed in; their scope decides which squares
    are filled. A bad measure is reported and the default drawn."""
    form = MapForm(request.GET)
    form.is_valid()
    measure = form.chosen()
    # 153 squares and the table beside them take longer to draw than to
    # read: the drawing is cached per person and measure until the data
    # next changes (authorities/caching.py).
    page = cached_page(
        request,
        "map-page",
        measure.key,
        lambda: {
            "body": render_body(
                request, "dashboards/map.html", {"tile_map": build_map(request.user, measure)}
            )
        },
    )
    return render(request, "dashboards/map.html", {"form": form, **page})


# The briefing's section 7: a trust's and a branch's pages, with what is
# linked to them. Their lists and forms are the authorities app's.

COVERING_MEETINGS = 50  # the newest; the meetings list has the rest


@require_GET
def trust_detail(request, pk):
    user = request.user
    trust = get_object_or_404(MultiAcademyTrust.objects.for_user(user).with_authorities(), pk=pk)
    meetings = Meeting.objects.for_user(user).filter(trust=trust).listed()
    return render(
        request,
        "dashboards/trust_detail.html",
        {
            "trust": trust,
            "may_edit": trust.can_edit(user),
            "meetings": list(meetings[:COVERING_MEETINGS]),
            # Small numbers suppressed as on every page (feedback/_summary.html).
            "feedback": trust_feedback(trust, user),
        },
    )


@require_GET
def branch_detail(request, pk):
    user = request.user
    branch = get_object_or_404(Branch.objects.for_user(user).with_authorities(), pk=pk)
    meetings = Meeting.objects.for_user(user).filter(branch=branch).listed()
    return render(
        request,
        "dashboards/branch_detail.html",
        {
            "branch": branch,
            "may_edit": branch.can_edit(user),
            "meetings": list(meetings[:COVERING_MEETINGS]),
        },
    )
