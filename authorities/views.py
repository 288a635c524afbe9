"""Pages about authorities, regions and the person using the app.

Every object comes through a `for_user` queryset: out of scope is 404.
"""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .forms import AuthorityFilterForm
from .models import LocalAuthority, Region

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
    return render(
        request,
        "authorities/authority_detail.html",
        {"authority": authority, "region_visible": region_visible},
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
        },
    )
