"""Similar authorities by the official figures themselves: standardised
measures, Euclidean distance, authorities missing a measure handled and
said, only those in the reader's scope linked, in a fixed few queries."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from authorities.caching import data_changed
from authorities.models import LocalAuthority
from official.models import Figure, Level, Period
from official.presenters import similar_authorities

from .factories import CAMDEN, KENT, MANCHESTER, authority
from .test_official import CASELOAD, DSG, load
from .test_official_evidence import release

pytestmark = pytest.mark.django_db

HACKNEY, ISLINGTON, LAMBETH = "204", "206", "208"
PAGE = reverse("dashboards:authority", args=["camden"])


def place(la_code, *, mainstream=None, special=None, independent=None, dsg=None, source):
    """One authority's figures: the shares in mainstream and special
    schools and the count in independent special schools of 100 EHC plans
    (January 2025), and the DSG balance as a % of income (2021-22)."""
    la = authority(la_code)
    rows = []
    for measure, period, kind, value in [
        ("mainstream_total_pc", "202425", Period.ACADEMIC, mainstream),
        ("special_total_pc", "202425", Period.ACADEMIC, special),
        ("special_independent", "202425", Period.ACADEMIC, independent),
        ("ehcplans", "202425", Period.ACADEMIC, 100 if independent is not None else None),
        ("dsg_cumulative_balance_pc", "202122", Period.FINANCIAL, dsg),
    ]:
        if value is not None:
            rows.append(
                Figure(
                    release=source,
                    level=Level.LOCAL_AUTHORITY,
                    area_code=la_code,
                    area_name=la.name,
                    authority=la,
                    measure=measure,
                    period=period,
                    period_type=kind,
                    value=Decimal(str(value)),
                )
            )
    Figure.objects.bulk_create(rows)
    data_changed()  # as official/importing.py says after its bulk insert


@pytest.fixture
def places(reference_data):
    source = release(file_name="caseload.csv")
    place(CAMDEN, mainstream=40, special=40, independent=10, dsg=-5, source=source)
    place(KENT, mainstream=41, special=39, independent=11, dsg=-5.5, source=source)
    place(MANCHESTER, mainstream=60, special=20, independent=2, dsg=2, source=source)
    # No DSG figure: compared on the other three.
    place(HACKNEY, mainstream=42, special=38, independent=9, source=source)
    # Two of the four: too few to compare.
    place(ISLINGTON, mainstream=40, special=40, source=source)
    return source


def test_nearest_first_by_standardised_distance(camden_lns, places):
    similar = similar_authorities(authority(CAMDEN), camden_lns)
    assert similar.enough
    assert [n.name for n in similar.neighbours] == ["Kent", "Hackney", "Manchester"]
    assert [n.shared for n in similar.neighbours] == [4, 3, 4]
    assert similar.not_compared == 1  # Islington
    distances = [n.distance for n in similar.neighbours]
    assert distances == sorted(distances)
    assert similar.mine.name == "Camden"
    # Their figures as shown: the shares, independent special schools
    # worked out from the counts, the DSG balance signed.
    assert [cell.text for cell in similar.neighbours[0].cells[:4]] == [
        "41%",
        "39%",
        "11%",
        "5.5% deficit",
    ]
    assert [heading for heading, _ in similar.columns][:2] == [
        "In mainstream schools",
        "In special schools",
    ]
    assert similar.columns[0][1] == "January 2025"
    assert similar.columns[3][1] == "2021-22"


def test_the_distance_is_euclidean_over_standardised_measures(camden_lns, places):
    similar = similar_authorities(authority(CAMDEN), camden_lns)
    compared = {  # the four measures of the authorities with any (not Islington's two)
        "Camden": (40, 40, 10, -5),
        "Kent": (41, 39, 11, -5.5),
        "Manchester": (60, 20, 2, 2),
        "Hackney": (42, 38, 9, None),
    }
    # Each measure standardised over every authority with a figure for it
    # (Islington's mainstream and special shares count there too).
    columns = list(zip(*compared.values(), strict=True))
    columns[0] += (40,)
    columns[1] += (40,)

    def z(n, value):
        known = [v for v in columns[n] if v is not None]
        mean = sum(known) / len(known)
        spread = (sum((v - mean) ** 2 for v in known) / len(known)) ** 0.5
        return (value - mean) / spread

    kent = (
        sum(
            (z(n, a) - z(n, b)) ** 2
            for n, (a, b) in enumerate(zip(*[compared["Camden"], compared["Kent"]], strict=True))
        )
        ** 0.5
    )
    assert similar.neighbours[0].distance == pytest.approx(kent)
    hackney = (
        sum((z(n, compared["Camden"][n]) - z(n, compared["Hackney"][n])) ** 2 for n in range(3))
        * 4
        / 3
    ) ** 0.5
    assert similar.neighbours[1].distance == pytest.approx(hackney)


def test_only_authorities_in_scope_are_linked(camden_lns, london_organiser, places):
    camden_view = similar_authorities(authority(CAMDEN), camden_lns)
    assert [n.url for n in camden_view.neighbours] == ["", "", ""]
    london_view = similar_authorities(authority(CAMDEN), london_organiser)
    assert {n.name: n.url for n in london_view.neighbours} == {
        "Kent": "",
        "Hackney": "/authorities/hackney/",
        "Manchester": "",
    }


def test_too_few_figures_finds_none(camden_lns, reference_data):
    source = release()
    place(CAMDEN, mainstream=40, special=40, source=source)
    place(KENT, mainstream=41, special=39, independent=11, dsg=-5.5, source=source)
    similar = similar_authorities(authority(CAMDEN), camden_lns)
    assert not similar.enough
    assert similar.neighbours == []


def test_three_queries_whatever_is_loaded(camden_lns, places, django_assert_num_queries):
    camden = authority(CAMDEN)
    camden_lns.has_national_scope  # noqa: B018 (asked once per request, as on a page)
    with django_assert_num_queries(3):
        similar_authorities(camden, camden_lns)
    for la_code in (LAMBETH,):
        place(la_code, mainstream=30, special=50, independent=20, dsg=-10, source=places)
    with django_assert_num_queries(3):
        assert len(similar_authorities(camden, camden_lns).neighbours) == 4


def section(response):
    """The similar authorities' section of the page, as HTML."""
    html = response.content.decode()
    html = html[html.index('id="similar"') :]
    return html[: html.index("<h2")]


def test_the_page_says_how_and_shows_the_ten_from_the_published_files(
    london_organiser, client_for
):
    load(CASELOAD, DSG)
    html = section(client_for(london_organiser).get(PAGE))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "The 10 authorities whose official figures are nearest to Camden" in text
    assert "standardised" in text
    assert "Euclidean" in text
    assert "Camden (this authority)" in text
    similar = similar_authorities(authority(CAMDEN), london_organiser)
    assert len(similar.neighbours) == 10
    for neighbour in similar.neighbours:
        assert neighbour.name in text
        if neighbour.url:
            assert f'href="{neighbour.url}#official"' in html
    # The London organiser may open London's authorities, and no others.
    london = set(
        LocalAuthority.objects.filter(region__name="London").values_list("name", flat=True)
    )
    names = {neighbour.name for neighbour in similar.neighbours}
    assert {n.name for n in similar.neighbours if n.url} == names & london
    assert "caseload.csv" in text
