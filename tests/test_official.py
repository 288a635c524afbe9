"""Official statistics: the readers on the real files, loading (idempotent,
all or nothing, unknown places reported), the command, the admin's upload
with its preview, and the authority page's figures compared with the rows of
the shipped files read here with the csv module alone."""

import csv
import datetime
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from official.models import Figure, Inspection, PendingUpload, Release, Status
from official.presenters import official_figures
from official.readers import BadFile, read

from .factories import CAMDEN, KENT, MANCHESTER, authority

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "official" / "data"
PUBLISHED = Path(__file__).resolve().parents[2] / "shared" / "data" / "official"
TIMELINESS = "timeliness_20_week.csv"
REQUESTS = "requests.csv"
CASELOAD = "caseload.csv"
TRIBUNAL = "send-tribunal-appeal-rate-2014-2024.csv"
DSG = "dsg-cumulative-balance-pc-2019-2023.csv"
INSPECTIONS = "area-send-inspections-2016-2022.csv"
INSPECTIONS_2023 = "area-send-inspections-2022-23-mi.csv"
PLYMOUTH, NOTTINGHAMSHIRE = "879", "891"
UPLOAD = reverse("admin:official_release_upload")


def load(*names, **options):
    out = StringIO()
    call_command(
        "load_official_statistics", *[str(DATA / n) for n in names], stdout=out, **options
    )
    return out.getvalue()


def text_of(name):
    return (DATA / name).read_text(encoding="utf-8-sig")


# What the files say, read without the app's readers ------------------------------


def figure(text):
    """A cell as the page should show it: a number, or the EES symbol's word."""
    text = text.strip().replace(",", "").removesuffix("%")
    return {"x": "not available", "z": "not applicable", "c": "suppressed"}.get(
        text, Decimal(text) if text else "not available"
    )


def ees(name, measure, period, *, la_code=None, region=None):
    """The headline row's `measure` for an authority, a region or England."""
    with (DATA / name).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["breakdown_topic"].startswith("All ") or row["time_period"] != period:
                continue
            if la_code and row["old_la_code"] == la_code:
                return figure(row[measure])
            if region and row["geographic_level"] == "Regional" and row["region_name"] == region:
                return figure(row[measure])
            if not (la_code or region) and row["geographic_level"] == "National":
                return figure(row[measure])
    raise AssertionError(f"{name} has no {measure} for {la_code or region or 'England'}")


def tribunal(place, year, *, in_development=False):
    """The tribunal table's appeal rate for the row named `place`."""
    with (DATA / TRIBUNAL).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            if re.sub(r"[0-9,]+$", "", row[0]) == place:
                column = 36 if in_development else 2 + (int(year) - 2014) * 3 + 2
                text = row[column].strip()
                return {"x": "suppressed", "..": "not available"}.get(text) or figure(text)
    raise AssertionError(f"no tribunal row {place}")


def dsg(place, period):
    with (DATA / DSG).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["time_period"] == period and place in (row["la_name"], row["region_name"]):
                if place == row["region_name"] and row["la_name"]:
                    continue
                return figure(row["DSG cumulative balance as a % of the total income"])
    raise AssertionError(f"no DSG row {place}")


# What the page says ---------------------------------------------------------------


def official_table(html, table_id):
    """{row label: [authority, region, England]} of one official table."""
    start = html.index(f'id="{table_id}"')
    section = html[start : html.find("<h3", start + 1)]
    rows = {}
    for row in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', section, re.S):
        label = re.search(r'<th scope="row"[^>]*>(.*?)(?:<br>|</th>)', row, re.S)
        cells = re.findall(r'data-figure="([^"]*)"', row)
        if label and cells:  # not the chart's own table of the authority's figures
            rows[label.group(1).strip()] = [_shown(cell) for cell in cells]
    return rows


def _shown(cell):
    try:
        return Decimal(cell)
    except ArithmeticError:
        return cell


def page(client, la_code):
    return client.get(authority(la_code).get_absolute_url()).content.decode()


# The readers ------------------------------------------------------------------------


class TestReaders:
    def test_an_ees_file_gives_its_headline_rows_with_every_measure(self):
        parsed = read(TIMELINESS, text_of(TIMELINESS))
        assert parsed.layout == "ees"
        assert "pc_plans_issued_within_20_weeks" in parsed.measures
        headline_rows = 970  # 6 years of England, 9 regions and the authorities
        assert len(parsed.figures) == headline_rows * len(parsed.measures)
        camden_2024 = next(
            row
            for row in parsed.figures
            if row.la_code == CAMDEN
            and row.period == "2024"
            and row.measure == "pc_plans_issued_within_20_weeks"
        )
        assert camden_2024.value == ees(
            TIMELINESS, "pc_plans_issued_within_20_weeks", "2024", la_code=CAMDEN
        )

    def test_symbols_are_kept_never_read_as_0(self):
        parsed = read(REQUESTS, text_of(REQUESTS))
        england_2019 = {
            row.measure: row for row in parsed.figures if row.period == "2019" and not row.la_code
        }
        refusals = england_2019["request_not_assess_pc"]
        assert refusals.value is None
        assert refusals.status == Status.NOT_AVAILABLE

    @pytest.mark.parametrize(
        ("cell", "expected"),
        [
            ("z", Status.NOT_APPLICABLE),
            ("c", Status.SUPPRESSED),
            ("low", Status.LOW),
            ("u", Status.LOW_RELIABILITY),
            ("x", Status.NOT_AVAILABLE),
        ],
    )
    def test_each_ees_symbol_is_a_status(self, cell, expected):
        text = text_of(TIMELINESS).splitlines()
        header, first = text[0], text[1].split(",")
        first[-1] = cell  # PC_plans_issued_gt_1_year_ex, England 2019
        parsed = read("t.csv", "\n".join([header, ",".join(first)]))
        row = next(r for r in parsed.figures if r.measure == "PC_plans_issued_gt_1_year_ex")
        assert (row.value, row.status) == (None, expected)

    def test_the_tribunal_table_reads_the_rate_under_its_title_rows(self):
        parsed = read(TRIBUNAL, text_of(TRIBUNAL))
        rates = {
            (row.area_name, row.period): row.value
            for row in parsed.figures
            if row.measure == "appeal_rate"
        }
        assert rates[("Camden", "2024")] == tribunal("Camden", "2024")
        assert rates[("England", "2019")] == tribunal("England Total", "2019")
        # Footnote marks are not part of the name.
        assert ("Bournemouth, Christchurch and Poole", "2024") in rates

    def test_the_inspection_files_read_each_inspection(self):
        old = read(INSPECTIONS, text_of(INSPECTIONS))
        new = read(INSPECTIONS_2023, text_of(INSPECTIONS_2023))
        assert len(old.inspections) == 149
        assert len(new.inspections) == 16
        plymouth = next(i for i in new.inspections if i.area_name == "Plymouth")
        assert (plymouth.action_required, plymouth.action_areas) == (True, 5)

    def test_an_unknown_layout_is_refused_by_name(self):
        with pytest.raises(BadFile, match="not a layout the app reads"):
            read("notes.csv", "name,value\nCamden,1\n")

    def test_a_missing_column_is_named(self):
        header, *rows = text_of(TIMELINESS).splitlines()
        without = header.replace("old_la_code,", "")
        with pytest.raises(BadFile, match="old_la_code"):
            read("t.csv", "\n".join([without, *rows]))

    def test_a_cell_that_is_no_figure_names_its_line(self):
        lines = text_of(TIMELINESS).splitlines()
        lines[3] = lines[3].replace(",59,", ",fifty-nine,", 1)
        with pytest.raises(BadFile, match="line 4"):
            read("t.csv", "\n".join(lines))

    @pytest.mark.skipif(not PUBLISHED.exists(), reason="the published files are not here")
    @pytest.mark.parametrize("name", [TIMELINESS, REQUESTS, CASELOAD])
    def test_the_shipped_copy_is_the_published_headline_rows_unchanged(self, name):
        published = (PUBLISHED / "sen2-2025" / name).read_text(encoding="utf-8").splitlines()
        shipped = (DATA / name).read_text(encoding="utf-8").splitlines()
        headline = [published[0]] + [
            line for line in published[1:] if next(csv.reader([line]))[10].startswith("All ")
        ]
        assert shipped == headline


# Loading ------------------------------------------------------------------------------


class TestLoading:
    def test_loading_twice_changes_nothing(self):
        first = load(TRIBUNAL, DSG, INSPECTIONS, INSPECTIONS_2023)
        stored = set(Figure.objects.values_list("measure", "period", "area_code", "value"))
        second = load(TRIBUNAL, DSG, INSPECTIONS, INSPECTIONS_2023)
        assert "5530 new" in first
        assert "0 new, 0 changed, 5530 unchanged" in second
        assert "0 new, 0 changed, 478 unchanged" in second
        assert "0 new, 0 changed, 149 unchanged" in second
        assert set(Figure.objects.values_list("measure", "period", "area_code", "value")) == stored
        assert Release.objects.count() == 4

    def test_a_predecessors_code_is_reported_and_kept_without_an_authority(self, tmp_path):
        lines = text_of(TIMELINESS).splitlines()
        cumbria = [line for line in lines if ",909,Cumbria," in line]
        path = tmp_path / TIMELINESS
        path.write_text("\n".join([lines[0], *cumbria]), encoding="utf-8")
        out = StringIO()
        call_command(
            "load_official_statistics",
            str(path),
            release="Test release",
            source_url="https://example.org/",
            stdout=out,
        )
        assert "not placed on an authority or region the app knows" in out.getvalue()
        assert "Cumbria (909)" in out.getvalue()
        assert Figure.objects.unplaced().count() == len(cumbria) * 14
        assert not Figure.objects.filter(authority__isnull=False).exists()

    def test_codes_that_contradict_names_are_placed_by_name(self, reference_data):
        """The tribunal table gives Nottinghamshire 928 and Nottingham 891
        (Nottinghamshire's): each is placed by its name, and the row calling
        892 Northamptonshire on no one."""
        out = load(TRIBUNAL)
        assert "Nottinghamshire (928)" in out
        assert "Northamptonshire (892)" in out  # kept without an authority
        rate = Figure.objects.get(
            authority=authority(NOTTINGHAMSHIRE), measure="appeal_rate", period="2024"
        )
        assert rate.value == tribunal("Nottinghamshire", "2024")
        assert rate.area_name == "Nottinghamshire"

    def test_a_bad_file_changes_nothing_even_beside_a_good_one(self, tmp_path):
        header, *rows = text_of(TIMELINESS).splitlines()
        bad = tmp_path / TIMELINESS
        bad.write_text("\n".join([header.replace("old_la_code", "la_code"), *rows]))
        with pytest.raises(CommandError, match=r"Nothing loaded.*old_la_code"):
            load(DSG, str(bad))
        assert not Figure.objects.exists()
        assert not Release.objects.exists()

    def test_a_file_not_shipped_needs_its_release(self, tmp_path):
        path = tmp_path / "new.csv"
        path.write_text(text_of(DSG))
        with pytest.raises(CommandError, match="--release"):
            load(str(path))

    def test_a_dry_run_writes_nothing(self):
        out = load(DSG, dry_run=True)
        assert "Would load (nothing written)" in out
        assert "478 new" in out
        assert not Figure.objects.exists()

    def test_the_command_loads_the_whole_shipped_copy_once(self):
        first = load()
        assert Release.objects.count() == 7
        counts = Figure.objects.count(), Inspection.objects.count()
        second = load()
        assert " 0 new, 0 changed" in second
        assert " new, 0 changed" not in second.replace(" 0 new, 0 changed", "")
        assert (Figure.objects.count(), Inspection.objects.count()) == counts
        assert "Cumbria (909)" in first


# The authority page and briefing pack -----------------------------------------------


class TestThePageShowsThePublishedFigures:
    """Each test loads the shipped files it reads (loading them all takes
    seconds; caseload, the largest, has a test of its own)."""

    def test_ehc_plans_in_20_weeks_by_year_beside_region_and_england(
        self, national_officer_client
    ):
        load(TIMELINESS)
        measure = "pc_plans_issued_within_20_weeks"
        for la_code in (CAMDEN, KENT, MANCHESTER, PLYMOUTH):
            place = authority(la_code)
            table = official_table(page(national_officer_client, la_code), "official-20-weeks")
            assert list(table) == ["2019", "2020", "2021", "2022", "2023", "2024"]
            for year, shown in table.items():
                assert shown == [
                    ees(TIMELINESS, measure, year, la_code=la_code),
                    ees(TIMELINESS, measure, year, region=place.region.name),
                    ees(TIMELINESS, measure, year),
                ]

    def test_a_chart_of_the_authoritys_own_figures(self, national_officer_client):
        load(TRIBUNAL)
        html = page(national_officer_client, PLYMOUTH)
        chart = html[html.index('id="chart-official-tribunal"') :]
        chart = chart[: chart.index("</figure>")]
        assert "SEND Tribunal appeal rate: Plymouth" in chart
        assert (
            "The SEND Tribunal appeal rate in Plymouth grew from 0.7% in 2019 to 8.2% in 2024."
            in chart
        )
        assert "<svg" in chart

    def test_the_2023_break_is_marked(self, national_officer_client):
        load(TIMELINESS)
        html = page(national_officer_client, CAMDEN)
        section = html[html.index('id="official-20-weeks"') :]
        assert "2023<br><span" in section
        assert "Break in the series" in section

    def test_refusals_and_6_weeks_where_published(self, national_officer_client):
        load(REQUESTS)
        html = page(national_officer_client, KENT)
        for table_id, measure in [
            ("official-refusals", "request_not_assess_pc"),
            ("official-6-weeks", "request_outcome_six_weeks_pc"),
        ]:
            table = official_table(html, table_id)
            # Not collected before 2023: those years are left out, not shown as 0.
            assert list(table) == ["2023", "2024"]
            for year, shown in table.items():
                assert shown == [
                    ees(REQUESTS, measure, year, la_code=KENT),
                    ees(REQUESTS, measure, year, region="South East"),
                    ees(REQUESTS, measure, year),
                ]

    def test_the_tribunal_rate_with_a_suppressed_cell(self, national_officer_client):
        load(TRIBUNAL)
        table = official_table(page(national_officer_client, PLYMOUTH), "official-tribunal")
        assert table["2024"] == [
            tribunal("Plymouth", "2024"),
            "not published",  # the table gives no regional figures
            tribunal("England Total", "2024"),
        ]
        in_development = table["2024, in development"]
        assert in_development[0] == tribunal("Plymouth", "2024", in_development=True)
        assert in_development[0] == "suppressed"
        assert in_development[2] == tribunal("England Total", "2024", in_development=True)

    def test_the_dsg_balance(self, national_officer_client):
        load(DSG)
        table = official_table(page(national_officer_client, CAMDEN), "official-dsg")
        for label, period in [("2019-20", "201920"), ("2021-22", "202122")]:
            assert table[label] == [
                dsg("Camden", period),
                dsg("London", period),
                dsg("England", period),
            ]
        assert "7.14% surplus" in page(national_officer_client, CAMDEN)

    def test_an_inspection_with_no_statement_has_no_weaknesses_to_count(
        self, national_officer_client
    ):
        load(INSPECTIONS, INSPECTIONS_2023)
        html = page(national_officer_client, CAMDEN)
        section = html[html.index('id="official-inspection"') :]
        assert "Written statement of action required" in section
        # The file's blank count beside "No": not applicable, not 0.
        assert re.search(r"Significant weaknesses</dt>\s*<dd[^>]*>\s*Not applicable", section)

    def test_the_latest_inspection_and_its_priority_action_plan(self, national_officer_client):
        load(INSPECTIONS, INSPECTIONS_2023)
        html = page(national_officer_client, PLYMOUTH)
        section = html[html.index('id="official-inspection"') :]
        assert "Widespread and/or systemic failings" in section
        assert re.search(r"Priority action plan required</dt>\s*<dd[^>]*>\s*Yes", section)
        assert re.search(r"Areas for priority action</dt>\s*<dd[^>]*>\s*5", section)

    def test_each_table_names_its_source(self, national_officer_client):
        load(TIMELINESS)
        html = page(national_officer_client, CAMDEN)
        section = html[html.index('id="official-20-weeks"') : html.index('id="official-refusals"')]
        assert "Education, health and care plans, reporting year 2025" in section
        assert "timeliness_20_week.csv" in section
        assert "Open Government Licence v3.0" in section

    def test_the_briefing_pack_shows_them_too(self, camden_lns_client):
        load(TIMELINESS)
        html = camden_lns_client.get(reverse("dashboards:briefing", args=["camden"])).content
        table = official_table(html.decode(), "official-20-weeks")
        assert table["2024"][0] == ees(
            TIMELINESS, "pc_plans_issued_within_20_weeks", "2024", la_code=CAMDEN
        )

    def test_two_queries_whatever_is_loaded(self, camden):
        load(TRIBUNAL, DSG, INSPECTIONS)
        with CaptureQueriesContext(connection) as queries:
            official_figures(camden)
        assert len(queries) == 2


def test_ehc_plans_by_setting(national_officer_client):
    load(CASELOAD)
    for la_code in (CAMDEN, KENT):
        place = authority(la_code)
        table = official_table(page(national_officer_client, la_code), "official-settings")
        where = [{"la_code": la_code}, {"region": place.region.name}, {}]
        assert table["Mainstream schools"] == [
            ees(CASELOAD, "mainstream_total_pc", "202425", **w) for w in where
        ]
        assert table["Special schools (all kinds)"] == [
            ees(CASELOAD, "special_total_pc", "202425", **w) for w in where
        ]
        independent = [
            (
                ees(CASELOAD, "special_independent", "202425", **w)
                * 100
                / ees(CASELOAD, "ehcplans", "202425", **w)
            ).quantize(Decimal("0.1"))
            for w in where
        ]
        assert table["Independent special schools"] == independent


def test_with_nothing_loaded_the_page_says_so(camden_lns_client):
    html = camden_lns_client.get(reverse("dashboards:authority", args=["camden"])).content
    assert b"No official statistics are loaded for Camden" in html


# The admin's upload ----------------------------------------------------------------------


def details(**more):
    return {
        "title": "SEND and AP inclusion dashboard (test)",
        "publisher": "",
        "published": "",
        "source_url": "https://www.gov.uk/",
        "licence": "Open Government Licence v3.0",
        **more,
    }


def upload(name, content=None):
    return SimpleUploadedFile(name, (content or text_of(name)).encode(), "text/csv")


class TestAdminUpload:
    def test_a_preview_then_a_confirmation(self, national_officer_client):
        assert national_officer_client.get(UPLOAD).status_code == 200
        preview = national_officer_client.post(UPLOAD, details(file=upload(DSG)))
        html = preview.content.decode()
        assert 'data-count="new">478<' in html
        assert 'data-count="unplaced">5<' in html
        assert "Cumbria" in html
        assert not Figure.objects.exists()  # a preview writes no figure
        token = preview.context["form"]["token"].value()
        # The file waits in the database, where any server finds it.
        assert PendingUpload.objects.get(token=token).file_name == DSG
        confirm = national_officer_client.post(
            UPLOAD, details(token=token, file_name=DSG, confirm="Load it")
        )
        assert confirm.status_code == 302
        assert Figure.objects.count() == 478
        assert not PendingUpload.objects.exists()  # the waiting file is gone once loaded
        assert Release.objects.get().file_name == DSG
        again = national_officer_client.post(UPLOAD, details(file=upload(DSG))).content.decode()
        assert 'data-count="new">0<' in again
        assert 'data-count="changed">0<' in again
        assert 'data-count="unchanged">478<' in again

    def test_a_bad_file_is_refused_with_why(self, national_officer_client):
        response = national_officer_client.post(
            UPLOAD, details(file=upload("notes.csv", "name,value\nCamden,1\n"))
        )
        assert "not a layout the app reads" in response.content.decode()
        assert not Release.objects.exists()

    def test_a_preview_nobody_confirmed_is_dropped_after_a_day(self, national_officer_client):
        national_officer_client.post(UPLOAD, details(file=upload(DSG)))
        PendingUpload.objects.update(uploaded_at=timezone.now() - datetime.timedelta(days=2))
        national_officer_client.post(UPLOAD, details(file=upload(DSG)))
        assert PendingUpload.objects.count() == 1

    def test_a_confirmation_whose_file_has_gone_loads_nothing(self, national_officer_client):
        response = national_officer_client.post(
            UPLOAD, details(token="0" * 32, file_name=DSG, confirm="Load it")
        )
        assert "upload it again" in response.content.decode()
        assert not Figure.objects.exists()

    def test_the_release_list_links_to_it(self, national_officer_client):
        html = national_officer_client.get(reverse("admin:official_release_changelist"))
        assert UPLOAD in html.content.decode()

    @pytest.mark.parametrize("persona", ["london_organiser", "camden_lns"])
    def test_nobody_else_may(self, request, client_for, persona):
        client = client_for(request.getfixturevalue(persona))
        assert client.get(UPLOAD, follow=True).status_code == 403
        response = client.post(UPLOAD, details(file=upload(DSG)), follow=True)
        assert response.status_code == 403
        assert not Figure.objects.exists()

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(UPLOAD, follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


@pytest.mark.parametrize("model", ["release", "figure", "inspection"])
def test_the_loaded_records_are_listed_in_the_admin(national_officer_client, model):
    load(DSG, INSPECTIONS)
    response = national_officer_client.get(reverse(f"admin:official_{model}_changelist"))
    assert response.status_code == 200
    if model != "release":
        # What the app could not place on one of its authorities.
        unplaced = national_officer_client.get(
            reverse(f"admin:official_{model}_changelist") + "?authority__isempty=1"
        )
        assert unplaced.status_code == 200
        assert "Cumbria" in unplaced.content.decode()
