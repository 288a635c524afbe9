"""The tile map (/map/, dashboards/maps.py): its layout file, what each
measure shows, who sees what, a bad choice, and its query count."""

import csv
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from authorities.models import AuthorityFinance, LocalAuthority, Region
from consultations.models import Meeting
from dashboards import maps
from dashboards.maps import (
    LAYOUT_COLUMNS,
    MEASURES,
    NOT_PUBLISHED,
    REGION_LABELS,
    LayoutError,
    build_map,
    contrast,
    read_layout,
)
from official.models import Status
from plans.models import HighNeedsStabilityGrant, Plan, ReformPlanDetails

from .factories import CAMDEN, KENT, authority, make_plan
from .rendering import queries_while_rendering
from .test_overview import REFUSED, TWENTY_WEEKS, UNDER_REVIEW_IN_2024, official_figures

MAP = reverse("dashboards:map")
REFERENCE = Path(__file__).resolve().parents[1] / "authorities" / "data" / "local_authorities.csv"
ISLINGTON, HACKNEY, HARINGEY, BARNET = "206", "204", "309", "302"


def reference_rows():
    with REFERENCE.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


# The layout file ------------------------------------------------------------


class TestLayout:
    def test_every_authority_has_one_square_of_its_own(self):
        tiles = read_layout()
        reference = {row["la_code"]: row["name"] for row in reference_rows()}
        assert len(reference) == 153
        assert set(tiles) == set(reference)
        assert len({(tile.column, tile.row) for tile in tiles.values()}) == 153
        assert len({tile.label for tile in tiles.values()}) == 153
        # The names in the file (there for its editors) are the DfE's.
        with maps.LAYOUT_PATH.open(newline="", encoding="utf-8") as handle:
            names = {row["la_code"]: row["name"] for row in csv.DictReader(handle)}
        assert names == reference

    def test_each_region_is_one_block(self):
        tiles = read_layout()
        at = {(tile.column, tile.row): tile.la_code for tile in tiles.values()}
        regions = defaultdict(set)
        for row in reference_rows():
            regions[row["region"]].add(row["la_code"])
        assert len(regions) == 9
        for name, members in regions.items():
            first = next(iter(members))
            reached, todo = {first}, [first]
            while todo:
                tile = tiles[todo.pop()]
                for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    neighbour = at.get((tile.column + dx, tile.row + dy))
                    if neighbour in members and neighbour not in reached:
                        reached.add(neighbour)
                        todo.append(neighbour)
            assert reached == members, f"{name} is split: {sorted(members - reached)}"

    def test_every_region_is_named_in_an_empty_square(self):
        occupied = {(tile.column, tile.row) for tile in read_layout().values()}
        assert set(REGION_LABELS) == {row["region"] for row in reference_rows()}
        for name, (column, row, _, _) in REGION_LABELS.items():
            assert (int(column), int(row)) not in occupied, name

    def test_it_is_read_once_per_process(self, monkeypatch):
        maps.layout.cache_clear()
        reads = []
        monkeypatch.setattr(maps, "read_layout", lambda: reads.append(1) or {})
        maps.layout()
        maps.layout()
        maps.layout.cache_clear()
        assert reads == [1]


HEADER = ",".join(LAYOUT_COLUMNS)
CAMDEN_ROW, HACKNEY_ROW = "202,CMD,1,1,Camden", "204,HCK,2,1,Hackney"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["la_code,label,x,y,name", CAMDEN_ROW], "line 1: the header must be"),
        ([HEADER, CAMDEN_ROW, "20,HCK,2,1,Hackney"], "line 3: the DfE LA code must be 3 digits"),
        ([HEADER, "202,Cmd,1,1,Camden"], "line 2: the label must be 3 capital letters"),
        ([HEADER, "202,CMD,one,1,Camden"], "line 2: the column must be a whole number"),
        ([HEADER, "202,CMD,1,-1,Camden"], "line 2: the row must be a whole number"),
        ([HEADER, CAMDEN_ROW, "202,CMX,2,1,Camden"], "authority 202 is already on line 2"),
        ([HEADER, CAMDEN_ROW, "204,CMD,2,1,Hackney"], "the label CMD is already on line 2"),
        ([HEADER, CAMDEN_ROW, "204,HCK,1,1,Hackney"], "line 3: column 1, row 1 already holds"),
        ([HEADER, "202,CMD,1,1"], "line 2: expected 5 columns, found 4"),
        ([HEADER], "lists no authorities"),
    ],
)
def test_a_bad_layout_is_refused_naming_the_line(tmp_path, lines, message):
    path = tmp_path / "tile_map.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LayoutError, match=re.escape(message)):
        read_layout(path)


def test_a_good_layout_is_read(tmp_path):
    path = tmp_path / "tile_map.csv"
    path.write_text("\n".join([HEADER, CAMDEN_ROW, HACKNEY_ROW]) + "\n", encoding="utf-8")
    assert read_layout(path) == {
        "202": maps.Tile("202", "CMD", 1, 1),
        "204": maps.Tile("204", "HCK", 2, 1),
    }


def test_a_missing_layout_is_refused(tmp_path):
    with pytest.raises(LayoutError, match="cannot read the file"):
        read_layout(tmp_path / "nowhere.csv")


# Colours and markers ----------------------------------------------------------


@pytest.mark.parametrize("measure", MEASURES.values(), ids=list(MEASURES))
def test_colours_meet_contrast_rules_and_markers_tell_categories_apart(measure):
    for category in measure.categories:
        if category.filled:
            # WCAG 1.4.11: a fill that carries meaning, against the page.
            assert contrast(category.fill, "#ffffff") >= 3, category
        # WCAG 1.4.3: the square's label and marker, against its fill.
        assert contrast(category.text_colour, category.fill) >= 4.5, category
    keys = [category.key for category in measure.categories]
    markers = [category.marker for category in measure.categories]
    fills = [(category.fill, category.dashed) for category in measure.categories]
    assert len(set(keys)) == len(set(markers)) == len(set(fills)) == len(keys)
    assert measure.default.category in keys


# What each measure shows ------------------------------------------------------


@pytest.fixture
def no_plans(reference_data):
    """Start from no plans at all (the reference data loads the known ones)."""
    Plan.objects.all().delete()


def shown(user, measure, **kwargs):
    """{DfE code: (category, text)} for every authority the map fills."""
    tile_map = build_map(user, measure, **kwargs)
    return {c.authority.la_code: (c.category.key, c.value.text) for c in tile_map.rows}


def meeting(la_code, plan, held_on, consulted="yes", forum="schools_forum"):
    return Meeting.objects.create(
        authority=authority(la_code),
        plan=plan,
        forum=forum,
        held_on=held_on,
        union_consulted=consulted,
    )


class TestMeasures:
    def test_programme(self, no_plans, national_officer):
        make_plan(CAMDEN, "sv", round_or_tranche="2022-23")
        make_plan(ISLINGTON, "dbv", round_or_tranche="Tranche 2")
        make_plan(HACKNEY, "dbv", round_or_tranche="1")
        make_plan(HACKNEY, "sv", round_or_tranche="2023-24")
        make_plan(HARINGEY, "esfa")
        values = shown(national_officer, "programme")
        assert values[CAMDEN] == ("sv", "Safety Valve 2022-23")
        assert values[ISLINGTON] == ("dbv", "Delivering Better Value Tranche 2")
        # Safety Valve colours a square whatever else the authority is on.
        assert values[HACKNEY] == (
            "sv",
            "Safety Valve 2023-24 and Delivering Better Value 1",
        )
        assert values[HARINGEY] == ("other", "ESFA-supported deficit management")
        assert values[BARNET] == ("none", "No programme")
        assert len(values) == 153

    def test_plan_status_reads_the_latest_revision(self, no_plans, national_officer):
        first = make_plan(CAMDEN, "sv", status=Plan.Status.AGREED)
        make_plan(CAMDEN, "sv", status=Plan.Status.UNDER_REVIEW, revision_of=first, revision=2)
        make_plan(ISLINGTON, "dbv", status=Plan.Status.NEGOTIATING)
        make_plan(HACKNEY, "dbv", status=Plan.Status.DIAGNOSTIC)
        make_plan(HARINGEY, "sv", status=Plan.Status.ENDED)
        make_plan(KENT, "sv", status=Plan.Status.IMPLEMENTATION)
        values = shown(national_officer, "status")
        assert values[CAMDEN] == ("withheld", "Under review, payments withheld (Safety Valve)")
        assert values[ISLINGTON][0] == "early"
        assert values[HACKNEY] == ("diagnostic", "Diagnostic (Delivering Better Value)")
        assert values[HARINGEY][0] == "finished"
        assert values[KENT][0] == "agreed"
        assert values[BARNET] == ("none", "No plan")

    def test_union_consulted_before_agreement(self, no_plans, national_officer):
        agreed = date(2024, 3, 1)
        camden_plan = make_plan(CAMDEN, "sv", agreement_date=agreed)
        meeting(CAMDEN, camden_plan, date(2024, 2, 1))
        # Islington's meeting came after the agreement; Hackney's did not
        # consult the union; Kent's was a parent carer forum.
        islington_plan = make_plan(ISLINGTON, "sv", agreement_date=agreed)
        meeting(ISLINGTON, islington_plan, date(2024, 4, 1))
        hackney_plan = make_plan(HACKNEY, "sv", agreement_date=agreed)
        meeting(HACKNEY, hackney_plan, date(2024, 2, 1), consulted="no")
        kent_plan = make_plan(KENT, "sv", agreement_date=agreed)
        meeting(KENT, kent_plan, date(2024, 2, 1), forum="parent_carer_forum")
        make_plan(HARINGEY, "dbv")
        values = shown(national_officer, "consultation")
        assert values[CAMDEN] == (
            "consulted",
            "Union consulted before Safety Valve was agreed on 1 March 2024",
        )
        assert values[ISLINGTON] == (
            "not_consulted",
            "No consultation logged before Safety Valve was agreed on 1 March 2024",
        )
        assert values[HACKNEY][0] == values[KENT][0] == "not_consulted"
        assert values[HARINGEY] == (
            "not_agreed",
            "No agreement date recorded for Delivering Better Value",
        )
        assert values[BARNET] == ("none", "No plan")

    def test_latest_dsg_deficit_in_bands(self, national_officer):
        def figures(la_code, year, deficit):
            AuthorityFinance.objects.create(
                authority=authority(la_code),
                financial_year=year,
                dsg_cumulative_deficit=deficit,
                dsg_cumulative_deficit_source_url="https://example.org/papers",
            )

        figures(CAMDEN, 2023, Decimal(150_000_000))
        figures(CAMDEN, 2024, Decimal(42_100_000))  # the latest year counts
        figures(KENT, 2024, Decimal(100_000_000))
        figures(ISLINGTON, 2024, Decimal(9_999_999))
        figures(HACKNEY, 2024, Decimal(-250_000))
        figures(HARINGEY, 2023, Decimal(60_000_000))
        figures(HARINGEY, 2024, None)  # a later year without the figure
        values = shown(national_officer, "deficit")
        assert values[CAMDEN] == ("10m", "£42,100,000 at the end of 2024-25")
        assert values[KENT][0] == "100m"
        assert values[ISLINGTON][0] == "under_10m"
        assert values[HACKNEY] == ("none", "£250,000 surplus at the end of 2024-25")
        assert values[HARINGEY] == ("50m", "£60,000,000 at the end of 2023-24")
        assert values[BARNET] == ("unknown", "Not known")

    def test_the_summary_counts_each_category(self, no_plans, national_officer):
        make_plan(CAMDEN, "sv")
        make_plan(KENT, "sv")
        make_plan(ISLINGTON, "dbv")
        tile_map = build_map(national_officer, "programme")
        assert [(entry.category.key, entry.count) for entry in tile_map.legend] == [
            ("sv", 2),
            ("dbv", 1),
            ("other", 0),
            ("none", 150),
        ]
        assert tile_map.summary == (
            "Of the 153 authorities in England: 2 in Safety Valve, "
            "1 in Delivering Better Value and 150 on no programme."
        )

    def test_an_authority_not_on_the_grid_is_still_in_the_table(self, national_officer):
        newer = LocalAuthority.objects.create(
            la_code="999",
            gss_code="E06099999",
            name="Newtown",
            slug="newtown",
            region=Region.objects.get(name="London"),
        )
        tile_map = build_map(national_officer, "programme")
        assert [cell.authority for cell in tile_map.unplaced] == [newer]
        assert newer not in [cell.authority for cell in tile_map.cells]
        assert tile_map.total == 154


class TestMeasuresOf2026:
    def test_reform_plan_stage(self, no_plans, national_officer):
        def reform(la_code, **details):
            plan = make_plan(la_code, "send-reform", round_or_tranche="2026")
            if details:
                ReformPlanDetails.objects.create(plan=plan, **details)
            return plan

        reform(CAMDEN, stage="submitted")
        reform(ISLINGTON, stage="requirements_not_met", rating="requirements_not_met")
        reform(HACKNEY, stage="approved", rating="met")
        reform(HARINGEY)
        reform(KENT, stage="draft_shared")
        make_plan(BARNET, "sv")
        values = shown(national_officer, "reform")
        assert values[CAMDEN] == ("submitted", "Submitted (SEND reform plan 2026)")
        assert values[ISLINGTON] == (
            "not_met",
            "Requirements not met (SEND reform plan 2026), rated “Requirements not met”",
        )
        assert values[HACKNEY][0] == "approved"
        assert values[HARINGEY] == ("unknown", "SEND reform plan 2026: stage not recorded")
        assert values[KENT][0] == "preparing"
        assert values[BARNET] == ("none", "No reform plan")  # an SV plan is not one

    def test_grant_and_payments_withheld(self, national_officer):
        camden = make_plan(CAMDEN, "send-reform")
        HighNeedsStabilityGrant.objects.create(plan=camden, eligible_deficit=Decimal("1000000"))
        islington = make_plan(ISLINGTON, "send-reform")
        HighNeedsStabilityGrant.objects.create(
            plan=islington, eligible_deficit=Decimal("2000000"), status="withheld"
        )
        hackney = make_plan(HACKNEY, "send-reform")
        HighNeedsStabilityGrant.objects.create(
            plan=hackney,
            eligible_deficit=Decimal("1000000"),
            status="paid",
            amount_paid=Decimal("900000"),
        )
        tile_map = build_map(national_officer, "grant")
        values = {c.authority.la_code: (c.category.key, c.value.text) for c in tile_map.rows}
        assert values[CAMDEN] == ("due", "Stability grant of £900,000 due")
        assert values[ISLINGTON] == ("withheld", "Stability grant withheld (£1,800,000)")
        assert values[HACKNEY] == ("paid", "Stability grant of £900,000 paid")
        assert values[BARNET][0] == "none"
        # The SV agreements under review since March 2024, loaded with the
        # known plans: payments withheld, though no amount is recorded.
        withheld = {c.authority.name for c in tile_map.rows if c.category.key == "withheld"}
        assert withheld == UNDER_REVIEW_IN_2024 | {"Islington"}
        hillingdon = next(c for c in tile_map.rows if c.authority.name == "Hillingdon")
        assert hillingdon.value.text == (
            "Safety Valve 2021-22 under review, payments withheld (amount not recorded)"
        )

    @pytest.fixture
    def figures(self, reference_data):
        official_figures(TWENTY_WEEKS, "2023", 50, {CAMDEN: 41})
        official_figures(
            TWENTY_WEEKS,
            "2024",
            "45.9",
            {CAMDEN: "38.2", ISLINGTON: 70, HACKNEY: Status.SUPPRESSED, KENT: "45.9"},
        )
        official_figures(REFUSED, "2023", 24, {CAMDEN: 20, ISLINGTON: 30, KENT: Status.LOW})
        official_figures(
            REFUSED, "2024", "25.2", {CAMDEN: "30.1", ISLINGTON: 28, HACKNEY: 10, KENT: 40}
        )

    def test_twenty_weeks_against_england(self, figures, national_officer):
        values = shown(national_officer, "twenty_weeks")
        assert values[CAMDEN] == ("below", "38.2% in 2024, below England's 45.9%")
        assert values[ISLINGTON] == ("not_below", "70% in 2024, above England's 45.9%")
        assert values[KENT] == ("not_below", "45.9% in 2024, the same as England")
        # Suppressed, or no figure at all: not known, never 0.
        assert values[HACKNEY] == ("unknown", "Suppressed in 2024 (England 45.9%)")
        assert values[BARNET] == ("unknown", "No figure published")

    def test_refusals_against_england_and_last_year(self, figures, national_officer):
        values = shown(national_officer, "refusals")
        assert values[CAMDEN] == (
            "above_rising",
            "30.1% in 2024, above England's 25.2%, rising from 20% in 2023",
        )
        assert values[ISLINGTON] == (
            "above",
            "28% in 2024, above England's 25.2%, not rising (30% in 2023)",
        )
        assert values[KENT] == (
            "above",
            "40% in 2024, above England's 25.2%; 2023: fewer than 0.5 (rounds to 0)",
        )
        assert values[HACKNEY] == ("not_above", "10% in 2024, below England's 25.2%")
        assert values[BARNET] == ("unknown", "No figure published")

    def test_official_figures_are_read_only_for_the_scope(self, figures, camden_lns):
        # A square outside the scope is an outline: its figure is not read.
        assert maps._refusal_values(camden_lns, None).keys() == {authority(CAMDEN).pk}
        assert shown(camden_lns, "refusals").keys() == {CAMDEN}


# The page ----------------------------------------------------------------------


def links(response):
    """{authority slug: the square's name} for each linked square."""
    square = r'<a class="app-map__cell[^"]*" href="/authorities/([a-z0-9-]+)/">\s*<title>([^<]*)<'
    return dict(re.findall(square, response.content.decode()))


class TestPage:
    def test_a_national_officer_sees_every_authority(self, national_officer_client):
        response = national_officer_client.get(MAP)
        assert response.status_code == 200
        squares = links(response)
        assert len(squares) == 153
        assert squares["camden"] == "Camden: No programme"
        assert squares["kent"].startswith("Kent: Safety Valve")
        assert "Outside what you can see" not in response.content.decode()

    def test_an_organiser_sees_only_their_region_filled(self, no_plans, london_organiser_client):
        make_plan(CAMDEN, "sv", round_or_tranche="2022-23")
        make_plan(KENT, "dbv", round_or_tranche="Tranche Zeta")
        response = london_organiser_client.get(MAP + "?measure=programme")
        squares = links(response)
        assert len(squares) == 33
        assert squares["camden"] == "Camden: Safety Valve 2022-23"
        assert "kent" not in squares
        page = response.content.decode()
        # Kent is drawn as an outline, with nothing about it on the page.
        assert "Kent" not in page
        assert "Zeta" not in page
        assert page.count("app-map__tile--outside") == 120 + 1  # and its key
        table = response.context["tile_map"].rows
        assert {cell.authority.region.name for cell in table} == {"London"}
        assert "Of the 33 authorities you can see: 1 in Safety Valve" in page

    def test_a_secretary_sees_their_authority_only(self, camden_lns_client):
        squares = links(camden_lns_client.get(MAP + "?measure=status"))
        assert list(squares) == ["camden"]

    def test_someone_with_no_role_sees_outlines_only(self, client_for, no_role_user):
        response = client_for(no_role_user).get(MAP)
        assert links(response) == {}
        assert "You cannot see any authority" in response.content.decode()

    def test_a_region_page_fills_only_that_region(self, national_officer):
        tile_map = build_map(national_officer, "status", region=Region.objects.get(slug="london"))
        assert len(tile_map.rows) == 33
        assert tile_map.summary.startswith("Of the 33 authorities in London:")

    @pytest.mark.parametrize("measure", list(MEASURES))
    def test_each_measure_draws_its_key_and_table(self, national_officer_client, measure):
        response = national_officer_client.get(MAP, {"measure": measure})
        page = response.content.decode()
        assert response.context["tile_map"].measure.key == measure
        assert re.search(rf'value="{measure}"[^>]* checked', page)
        assert f"Key: {MEASURES[measure].label}" in page
        assert page.count('<tr class="govuk-table__row">') == 153 + 1  # and the header

    @pytest.mark.parametrize("bad", ["rainfall", "<script>", "PROGRAMME"])
    def test_a_bad_measure_is_an_error_not_a_failure(self, national_officer_client, bad):
        response = national_officer_client.get(MAP, {"measure": bad})
        assert response.status_code == 200
        page = response.content.decode()
        assert "govuk-error-summary" in page
        assert "Choose what to colour the map by from the list" in page
        assert "<title>Error: Map of authorities" in page
        assert "<script>" not in page.split("<main", 1)[1]
        # The default is drawn meanwhile.
        assert response.context["tile_map"].measure.key == "programme"
        assert len(links(response)) == 153

    def test_no_choice_is_the_default_not_an_error(self, national_officer_client):
        response = national_officer_client.get(MAP, {"measure": ""})
        assert "govuk-error-summary" not in response.content.decode()
        assert response.context["tile_map"].measure.key == "programme"


# Speed -------------------------------------------------------------------------


def fill(la_codes):
    """A plan agreed after a meeting, a reform plan with its grant, and two
    years' finance and official figures for each."""
    for la_code in la_codes:
        plan = make_plan(la_code, "sv", agreement_date=date(2024, 3, 1))
        meeting(la_code, plan, date(2024, 2, 1))
        reform = make_plan(la_code, "send-reform", status="negotiating")
        ReformPlanDetails.objects.create(plan=reform, stage="submitted")
        HighNeedsStabilityGrant.objects.create(plan=reform, eligible_deficit=1000)
        for year in (2023, 2024):
            AuthorityFinance.objects.create(
                authority=authority(la_code),
                financial_year=year,
                dsg_cumulative_deficit=Decimal(20_000_000),
                dsg_cumulative_deficit_source_url="https://example.org/papers",
            )
    for measure in (TWENTY_WEEKS, REFUSED):
        for year in ("2023", "2024"):
            official_figures(measure, year, 50, dict.fromkeys(la_codes, 40))


class TestQueryCount:
    # Session and user (with their wide roles: 2), the authorities and the
    # measure's figures (2); the scope for anyone who does not see England.
    @pytest.mark.parametrize("authorities", [1, 10, 40])
    @pytest.mark.parametrize("measure", list(MEASURES))
    def test_pinned_whatever_the_number_of_plans(
        self, no_plans, national_officer_client, django_assert_num_queries, authorities, measure
    ):
        la_codes = LocalAuthority.objects.order_by("name").values_list("la_code", flat=True)
        fill(list(la_codes[:authorities]))
        with django_assert_num_queries(4):
            response = national_officer_client.get(MAP, {"measure": measure})
        assert len(response.context["tile_map"].rows) == 153

    @pytest.mark.parametrize("authorities", [1, 10, 33])
    def test_pinned_for_an_organiser(
        self, no_plans, london_organiser_client, django_assert_num_queries, authorities
    ):
        london = LocalAuthority.objects.filter(region__slug="london").order_by("name")
        fill(list(london.values_list("la_code", flat=True)[:authorities]))
        with django_assert_num_queries(5):
            london_organiser_client.get(MAP, {"measure": "consultation"})

    @pytest.mark.parametrize("persona", ["national_officer", "london_organiser", "camden_lns"])
    def test_no_queries_while_rendering(self, request, client_for, no_plans, persona):
        fill(["202", "886", "352"])
        client = client_for(request.getfixturevalue(persona))
        response, queries = queries_while_rendering(
            client, MAP, "dashboards/map.html", {"measure": "deficit"}
        )
        assert response.status_code == 200
        assert queries == []


def test_the_official_layers_say_not_known_in_one_way():
    """Every layer read from official statistics shows a figure the release
    does not give as the one category, so their legends cannot drift apart."""
    official = [m for m in MEASURES.values() if NOT_PUBLISHED in m.categories]
    assert [m.key for m in official] == ["twenty_weeks", "refusals"]
    for measure in official:
        assert measure.default.category == NOT_PUBLISHED.key
    others = [
        category
        for measure in MEASURES.values()
        for category in measure.categories
        if category is not NOT_PUBLISHED
    ]
    assert NOT_PUBLISHED.label not in {category.label for category in others}
