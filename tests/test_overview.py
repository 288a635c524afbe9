"""The overview table: the national overview (/overview/), the region page's
table, their filters and sort, and the CSV and XLSX downloads."""

import csv
import io
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from authorities.access import Role
from authorities.caching import data_changed
from authorities.models import AuthorityFinance, LocalAuthority
from consultations.models import Action, Meeting
from dashboards.filters import months_before
from dashboards.models import DashboardExport
from dashboards.overview import COLUMNS, SORTS
from dashboards.warnings import early_warnings
from feedback.aggregates import FEWER
from feedback.models import FeedbackSubmission
from official.models import Figure, Level, Period, Release, Status
from plans.models import (
    Answer,
    Assessment,
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    Question,
    QuestionSet,
    ReformPlanDetails,
)

from .factories import CAMDEN, authority, checklist_questions, make_plan, make_user
from .rendering import queries_while_rendering
from .test_authorities import REGION_PAGE_QUERIES

OVERVIEW = reverse("dashboards:overview")
CSV = reverse("dashboards:overview_csv")
XLSX = reverse("dashboards:overview_xlsx")
LONDON_PAGE = reverse("dashboards:region", args=["london"])
TODAY = timezone.localdate()
DAY = timedelta(days=1)
GREENWICH, ISLINGTON, LAMBETH, LEWISHAM, SOUTHWARK = "203", "206", "208", "209", "210"


# Helpers ----------------------------------------------------------------------


def meeting(la_code, *, held_on=TODAY - 30 * DAY, **fields):
    fields.setdefault("forum", "schools_forum")
    return Meeting.objects.create(authority=authority(la_code), held_on=held_on, **fields)


def feedback(la_code, *waits):
    """One submission per wait given (None: no wait given)."""
    FeedbackSubmission.objects.bulk_create(
        FeedbackSubmission(
            authority=authority(la_code),
            source="senco_network",
            people_count=5,
            meeting_date=TODAY - 10 * DAY,
            health_care_costs="no",
            assessment_wait_weeks=weeks,
        )
        for weeks in waits
    )


def rows(response):
    return response.context["overview"].rows


def names(response):
    return [row.authority.name for row in rows(response)]


def row_for(response, name):
    return next(row for row in rows(response) if row.authority.name == name)


def page_headers(response):
    """The column headings as the page shows them (sortable ones)."""
    html = response.content.decode()
    return re.findall(r'<th scope="col"[^>]*>\s*<a [^>]*>([^<]+)<span', html)


def csv_table(response):
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def xlsx_sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))["Overview"]


def xlsx_table(response):
    return [list(values) for values in xlsx_sheet(response).iter_rows(values_only=True)]


@pytest.fixture
def london(reference_data):
    """Some London authorities with something to show.

    Camden: an SV plan agreed after a Schools Forum consulted the union, with
    money paid, withheld and reduced, three answers (one a serious concern),
    a revised DBV plan, actions, six feedback submissions and two years of
    deficit figures. Greenwich: a plan agreed with no consultation, three
    submissions, a surplus. Islington: a plan agreed after a confidential
    JCNC consultation. Lambeth: a meeting seven months ago, one submission.
    Lewisham: a confidential meeting last week.
    """
    sv = make_plan(
        CAMDEN, round_or_tranche="2023-24", agreement_date=TODAY - 100 * DAY, status="agreed"
    )
    FundingInstalment.objects.create(
        plan=sv, financial_year=2023, amount=1_000_000, status="paid", amount_paid=1_000_000
    )
    FundingInstalment.objects.create(
        plan=sv, financial_year=2024, amount=500_000, status="withheld"
    )
    FundingInstalment.objects.create(
        plan=sv, financial_year=2025, amount=400_000, status="reduced", amount_paid=300_000
    )
    bank = QuestionSet.objects.latest_version()
    assessment = Assessment.objects.create(plan=sv, question_set=bank)
    for question, concern in zip(
        Question.objects.filter(question_set=bank)[:3], ["serious", "some", "none"], strict=True
    ):
        Answer.objects.create(
            assessment=assessment, question=question, response="no", concern=concern
        )
    meeting(CAMDEN, plan=sv, held_on=TODAY - 120 * DAY, union_consulted="yes")
    meeting(CAMDEN, held_on=TODAY - 30 * DAY)
    first_dbv = make_plan(CAMDEN, "dbv", round_or_tranche="Tranche 3", status="negotiating")
    make_plan(
        CAMDEN,
        "dbv",
        round_or_tranche="Tranche 3",
        status="diagnostic",
        revision_of=first_dbv,
        revision=2,
    )
    camden = authority(CAMDEN)
    Action.objects.create(authority=camden, title="Overdue", due_on=TODAY - DAY)
    Action.objects.create(authority=camden, title="Open", due_on=TODAY + DAY)
    Action.objects.create(authority=camden, title="Done", due_on=TODAY - DAY, status="done")
    feedback(CAMDEN, 10, 20, 30, 40, 50, None)
    AuthorityFinance.objects.create(
        authority=camden, financial_year=2023, dsg_cumulative_deficit=10_000_000
    )
    AuthorityFinance.objects.create(
        authority=camden, financial_year=2024, dsg_cumulative_deficit=12_500_000
    )
    AuthorityFinance.objects.create(authority=camden, financial_year=2025, ehcp_count=2400)

    greenwich = make_plan(GREENWICH, agreement_date=TODAY - 50 * DAY)
    meeting(GREENWICH, plan=greenwich, held_on=TODAY - 10 * DAY, union_consulted="yes")  # after
    feedback(GREENWICH, 12, 14, 16)
    AuthorityFinance.objects.create(
        authority=authority(GREENWICH), financial_year=2024, dsg_cumulative_deficit=-250_000
    )

    islington = make_plan(ISLINGTON, agreement_date=TODAY - 50 * DAY)
    meeting(
        ISLINGTON,
        plan=islington,
        forum="jcnc",
        held_on=TODAY - 60 * DAY,
        union_consulted="yes",
        confidential=True,
    )
    meeting(LAMBETH, held_on=TODAY - 215 * DAY)
    feedback(LAMBETH, 8)
    meeting(LEWISHAM, held_on=TODAY - 7 * DAY, confidential=True)


# Who sees what ------------------------------------------------------------------


class TestScope:
    def test_a_national_officer_sees_every_authority(self, national_officer_client):
        response = national_officer_client.get(OVERVIEW)
        assert len(rows(response)) == 153
        assert response.context["overview"].scope == "England"

    def test_a_regional_organiser_sees_their_region(self, london_organiser_client):
        response = london_organiser_client.get(OVERVIEW)
        assert len(rows(response)) == 33
        assert {row.authority.region.name for row in rows(response)} == {"London"}
        assert "Overview: London" in response.content.decode()

    def test_a_nem_sees_their_region(self, client_for, northwest_nem):
        response = client_for(northwest_nem).get(OVERVIEW)
        assert {row.authority.region.name for row in rows(response)} == {"North West"}
        assert len(rows(response)) == 24

    def test_asking_for_another_region_is_an_error_not_a_leak(self, london_organiser_client):
        response = london_organiser_client.get(OVERVIEW, {"region": "north-west"})
        assert response.status_code == 200
        assert "Choose a region from the list" in response.content.decode()
        assert {row.authority.region.name for row in rows(response)} == {"London"}

    @pytest.mark.parametrize("url", [CSV, XLSX])
    def test_exports_asking_for_another_region_go_back_to_the_page(
        self, london_organiser_client, url
    ):
        response = london_organiser_client.get(url, {"region": "north-west", "sort": "-paid"})
        assert response.status_code == 302
        assert response["Location"] == f"{OVERVIEW}?region=north-west&sort=-paid"
        assert not DashboardExport.objects.exists()

    def test_the_organiser_exports_only_their_region(self, london_organiser_client):
        london = set(
            LocalAuthority.objects.filter(region__name="London").values_list("name", flat=True)
        )
        for table in (
            csv_table(london_organiser_client.get(CSV)),
            xlsx_table(london_organiser_client.get(XLSX)),
        ):
            assert {line[0] for line in table[1:]} == london
            assert {line[1] for line in table[1:]} == {"London"}

    @pytest.mark.parametrize(
        "persona", ["camden_lns", "camden_forum_rep", "camden_senco_lead", "manchester_head_rep"]
    )
    @pytest.mark.parametrize("url", [OVERVIEW, CSV, XLSX])
    def test_network_leads_and_local_roles_do_not_see_the_national_overview(
        self, request, client_for, persona, url
    ):
        client = client_for(request.getfixturevalue(persona))
        assert client.get(url).status_code == 403

    def test_the_menu_offers_the_overview_to_those_who_may_see_it(
        self, london_organiser_client, camden_lns_client
    ):
        link = f'href="{OVERVIEW}"'
        assert link in london_organiser_client.get(reverse("home")).content.decode()
        assert link not in camden_lns_client.get(reverse("home")).content.decode()


# The columns ----------------------------------------------------------------------


class TestColumns:
    def test_camden_line(self, london_organiser_client, london):
        response = london_organiser_client.get(OVERVIEW)
        camden = row_for(response, "Camden")
        # The current plans only: the DBV plan's first version was revised.
        assert [plan.short_name for plan in camden.plans] == [
            "SV 2023-24",
            "DBV Tranche 3 (revision 2)",
        ]
        assert camden.statuses == ["SV: Agreed", "DBV: Diagnostic"]
        assert camden.paid == Decimal("1300000")
        assert camden.withheld == Decimal("600000")  # withheld, and the reduction
        # SV and DBV plans are asked the same questions.
        assert camden.checklist == f"3 of {2 * checklist_questions().count()}"
        assert camden.serious == 1
        assert camden.last_meeting == TODAY - 30 * DAY
        assert camden.consulted == "Yes"
        assert (camden.open_actions, camden.overdue_actions) == (2, 1)
        assert (camden.submissions_text, camden.wait_text) == ("6", "30")
        assert (camden.deficit_text, camden.deficit_year) == ("£12,500,000", "2024-25")
        page = response.content.decode()
        assert "£1,300,000" in page
        assert "£600,000" in page

    def test_an_authority_with_no_plan(self, london_organiser_client, london):
        barnet = row_for(london_organiser_client.get(OVERVIEW), "Barnet")
        assert barnet.plans == []
        assert (barnet.paid, barnet.serious, barnet.consulted, barnet.checklist) == (
            None,
            None,
            "",
            "",
        )
        assert (barnet.submissions_text, barnet.wait_text, barnet.deficit_text) == ("0", "", "")

    def test_a_plan_agreed_without_consultation_is_flagged(self, london_organiser_client, london):
        response = london_organiser_client.get(OVERVIEW)
        # Greenwich's only consulting meeting came after the agreement.
        assert row_for(response, "Greenwich").consulted == "No"
        assert '<strong class="govuk-tag govuk-tag--red">No</strong>' in response.content.decode()

    def test_a_confidential_consultation_counts_but_is_not_shown(
        self, london_organiser_client, national_officer_client, london
    ):
        organiser = row_for(london_organiser_client.get(OVERVIEW), "Islington")
        assert organiser.consulted == "Yes"
        assert organiser.last_meeting is None  # the organiser may not see the meeting
        national = row_for(national_officer_client.get(OVERVIEW), "Islington")
        assert national.last_meeting == TODAY - 60 * DAY

    def test_a_surplus_is_named(self, london_organiser_client, london):
        greenwich = row_for(london_organiser_client.get(OVERVIEW), "Greenwich")
        assert greenwich.deficit_text == "£250,000 surplus"

    def test_feedback_from_fewer_than_5_is_suppressed_except_for_national_officers(
        self, london_organiser_client, national_officer_client, london
    ):
        organiser = row_for(london_organiser_client.get(OVERVIEW), "Greenwich")
        assert (organiser.submissions_text, organiser.wait_text) == (FEWER, FEWER)
        national = row_for(national_officer_client.get(OVERVIEW), "Greenwich")
        assert (national.submissions_text, national.wait_text) == ("3", "14")

    def test_withdrawn_feedback_is_not_counted(self, london_organiser_client, london):
        FeedbackSubmission.objects.filter(authority=authority(CAMDEN)).update(
            withdrawn_at=timezone.now()
        )
        camden = row_for(london_organiser_client.get(OVERVIEW), "Camden")
        assert (camden.submissions_text, camden.wait_text) == ("0", "")


# Filters -----------------------------------------------------------------------


class TestFilters:
    def test_region(self, national_officer_client):
        response = national_officer_client.get(OVERVIEW, {"region": "north-east"})
        assert len(rows(response)) == 12
        assert {row.authority.region.name for row in rows(response)} == {"North East"}

    def test_programme(self, national_officer_client, london):
        response = national_officer_client.get(OVERVIEW, {"programme": "dbv"})
        with_dbv = set(
            Plan.objects.current()
            .filter(programme__code="dbv")
            .values_list("authority__name", flat=True)
        )
        assert set(names(response)) == with_dbv
        assert "Camden" in with_dbv

    def test_programme_and_status_hold_for_the_same_plan(self, national_officer_client, london):
        # Camden's SV plan is agreed and its DBV plan in diagnostic.
        both = {"programme": "sv", "status": "diagnostic", "region": "london"}
        assert "Camden" not in names(national_officer_client.get(OVERVIEW, both))
        both["programme"] = "dbv"
        assert names(national_officer_client.get(OVERVIEW, both)) == ["Camden"]

    def test_a_revised_plan_s_old_status_does_not_count(self, national_officer_client, london):
        # Camden's DBV plan was negotiating before its revision.
        response = national_officer_client.get(OVERVIEW, {"status": "negotiating"})
        assert "Camden" not in names(response)

    def test_serious_concerns(self, london_organiser_client, london):
        assert names(london_organiser_client.get(OVERVIEW, {"only": "concerns"})) == ["Camden"]

    def test_not_consulted(self, london_organiser_client, london):
        response = london_organiser_client.get(OVERVIEW, {"only": "not_consulted"})
        assert names(response) == ["Greenwich"]

    def test_no_meeting_in_the_last_6_months(
        self, london_organiser_client, national_officer_client, london
    ):
        query = {"only": "no_recent_meeting", "region": "london"}
        quiet = names(london_organiser_client.get(OVERVIEW, query))
        assert "Lambeth" in quiet  # seven months ago
        assert "Barnet" in quiet  # never
        assert "Camden" not in quiet
        assert "Greenwich" not in quiet
        # Lewisham's meeting is confidential: the organiser cannot see it, as
        # in the "last meeting" column; a national officer can.
        assert "Lewisham" in quiet
        assert "Lewisham" not in names(national_officer_client.get(OVERVIEW, query))

    def test_filters_combine(self, london_organiser_client, london):
        response = london_organiser_client.get(OVERVIEW, {"only": ["concerns", "not_consulted"]})
        assert names(response) == []
        content = response.content.decode()
        assert "No authorities match these filters" in content
        assert f'<a class="govuk-link" href="{OVERVIEW}">Clear the filters</a>' in content

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"region": "atlantis"}, "Choose a region from the list"),
            ({"programme": "nope"}, "Choose a programme from the list"),
            ({"status": "sunk"}, "Choose a plan status from the list"),
            ({"only": ["not_consulted", "everything"]}, "Choose from the options shown"),
            ({"sort": "shoe-size"}, "Sort the table by one of its columns"),
        ],
    )
    def test_a_bad_value_is_reported_and_the_rest_still_apply(
        self, london_organiser_client, london, query, message
    ):
        response = london_organiser_client.get(OVERVIEW, {"only": "not_consulted", **query})
        assert response.status_code == 200
        content = response.content.decode()
        assert "govuk-error-summary" in content
        assert message in content
        if "only" not in query:
            assert names(response) == ["Greenwich"]

    def test_the_filters_are_in_the_address(self, london_organiser_client, london):
        response = london_organiser_client.get(
            OVERVIEW, {"only": "not_consulted", "status": "agreed"}
        )
        content = response.content.decode()
        assert 'value="not_consulted" class="govuk-checkboxes__input" id="id_only_1" checked' in (
            content
        )
        assert '<option value="agreed" selected>' in content
        assert "/overview/export.csv?only=not_consulted&amp;status=agreed&amp;sort=authority" in (
            content
        )

    def test_six_months_before(self):
        assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
        assert months_before(date(2028, 8, 31), 6) == date(2028, 2, 29)
        assert months_before(date(2026, 3, 15), 6) == date(2025, 9, 15)


# Sorting -----------------------------------------------------------------------


class TestSort:
    @pytest.mark.parametrize("sort", SORTS)
    def test_every_column_sorts_both_ways(self, national_officer_client, london, sort):
        response = national_officer_client.get(OVERVIEW, {"sort": sort, "region": "london"})
        assert len(rows(response)) == 33
        direction = "descending" if sort.startswith("-") else "ascending"
        headers = [h for h in response.context["overview"].headers if h.aria_sort]
        assert [(h.column.key, h.aria_sort) for h in headers] == [
            (sort.removeprefix("-"), direction)
        ]
        assert f'aria-sort="{direction}"' in response.content.decode()

    def test_by_money_withheld(self, london_organiser_client, london):
        response = london_organiser_client.get(OVERVIEW, {"sort": "-withheld"})
        assert names(response)[0] == "Camden"
        # Authorities with no plan have nothing to sort by: last, either way.
        assert rows(response)[-1].withheld is None
        ascending = london_organiser_client.get(OVERVIEW, {"sort": "withheld"})
        assert rows(ascending)[-1].withheld is None

    def test_by_deficit(self, london_organiser_client, london):
        ascending = names(london_organiser_client.get(OVERVIEW, {"sort": "deficit"}))
        assert ascending[:2] == ["Greenwich", "Camden"]
        descending = names(london_organiser_client.get(OVERVIEW, {"sort": "-deficit"}))
        assert descending[:2] == ["Camden", "Greenwich"]

    def test_fewer_than_5_sort_together(
        self, london_organiser_client, national_officer_client, london
    ):
        # Greenwich has 3 submissions, Lambeth 1: to an organiser both are
        # "fewer than 5", and the order must not tell them apart.
        for sort in ("feedback", "-feedback"):
            order = names(london_organiser_client.get(OVERVIEW, {"sort": sort}))
            assert order.index("Greenwich") < order.index("Lambeth")
        national = names(
            national_officer_client.get(OVERVIEW, {"sort": "-feedback", "region": "london"})
        )
        assert national[:3] == ["Camden", "Greenwich", "Lambeth"]

    def test_headings_keep_the_filters_and_turn_the_order(self, london_organiser_client, london):
        response = london_organiser_client.get(OVERVIEW, {"only": "not_consulted", "sort": "paid"})
        urls = {h.column.key: h.url for h in response.context["overview"].headers}
        assert urls["paid"] == "?only=not_consulted&sort=-paid"
        assert urls["withheld"] == "?only=not_consulted&sort=withheld"
        content = response.content.decode()
        assert 'Paid (£)<span class="govuk-visually-hidden">, sort descending</span>' in content


class TestPages:
    """England's table comes fifty rows a page; the status line counts them
    all and the downloads have them all."""

    def shown(self, response):
        return re.findall(
            r'<th scope="row" class="govuk-table__header"><a[^>]*>([^<]+)</a>',
            (response.content.decode()),
        )

    def test_fifty_a_page_in_the_chosen_order(self, national_officer_client):
        every = names(national_officer_client.get(OVERVIEW, {"sort": "-authority"}))
        assert len(every) == 153
        first = national_officer_client.get(OVERVIEW, {"sort": "-authority"})
        assert self.shown(first) == every[:50]
        content = first.content.decode()
        assert "153 authorities: 1 to 50 below, page 1 of 4." in content
        assert 'href="?sort=-authority&amp;page=2" rel="next"' in content
        last = national_officer_client.get(OVERVIEW, {"sort": "-authority", "page": "4"})
        assert self.shown(last) == every[150:]
        assert "151 to 153 below, page 4 of 4" in last.content.decode()

    @pytest.mark.parametrize("sort", [None, "authority", "-authority"])
    def test_sorted_by_name_only_the_page_s_rows_are_built(
        self, national_officer_client, london, sort
    ):
        """Each the row the whole table has (every column, as the
        downloads write them), in its place."""

        def values(row):
            return [part(row) for column in COLUMNS for _, part in column.exported]

        asked = {"sort": sort} if sort else {}
        for number in (1, 2, 4):
            response = national_officer_client.get(OVERVIEW, {**asked, "page": number})
            overview = response.context["overview"]
            assert "rows" not in overview.__dict__  # the whole table was not built
            shown = list(overview.page)
            whole = overview.rows[(number - 1) * 50 : number * 50]  # built now, as to sort
            assert [row.authority.name for row in shown] == [row.authority.name for row in whole]
            assert [values(row) for row in shown] == [values(row) for row in whole]
        assert any(row.plans and row.warnings for row in overview.rows)  # not empty rows

    def test_page_links_keep_the_filters_and_sort_and_headings_go_to_the_first(
        self, national_officer_client
    ):
        response = national_officer_client.get(
            OVERVIEW, {"programme": "dbv", "sort": "-paid", "page": "2"}
        )
        overview = response.context["overview"]
        assert overview.page_query == "programme=dbv&sort=-paid"
        urls = {h.column.key: h.url for h in overview.headers}
        assert urls["paid"] == "?programme=dbv&sort=paid"
        assert "page=" not in overview.csv_url

    @pytest.mark.parametrize("asked", ["0", "99", "two", ""])
    def test_a_page_that_is_not_there_shows_the_nearest(self, national_officer_client, asked):
        response = national_officer_client.get(OVERVIEW, {"page": asked})
        assert response.status_code == 200
        assert len(self.shown(response)) in (50, 3)

    def test_a_table_of_one_page_has_no_page_links(self, london_organiser_client):
        content = london_organiser_client.get(OVERVIEW).content.decode()
        assert "33 authorities." in content
        assert "govuk-pagination" not in content

    def test_the_downloads_have_every_row(self, national_officer_client):
        response = national_officer_client.get(CSV, {"page": "2"})
        assert len(csv_table(response)) == 153 + 1


class TestEarlyWarnings:
    def test_the_column_counts_each_authority_s_warnings(
        self, national_officer, national_officer_client, london
    ):
        response = national_officer_client.get(OVERVIEW, {"region": "london", "sort": "-warnings"})
        overview = response.context["overview"]
        listed = early_warnings(national_officer)
        counts = Counter(warning.authority.pk for warning in listed)
        assert {row.authority.pk: row.warnings for row in overview.rows if row.warnings} == counts
        assert overview.rows[0].authority.pk == counts.most_common(1)[0][0]

    def test_the_newest_are_listed_above_the_table(self, london_organiser_client, london):
        response = london_organiser_client.get(OVERVIEW)
        overview = response.context["overview"]
        assert overview.warning_count > 1, "the fixture should raise some warnings"
        content = response.content.decode()
        assert content.index('id="warnings"') < content.index('id="authorities"')
        for warning in overview.newest_warnings:
            assert warning.reason in content.replace("&#x27;", "'")

    def test_the_warnings_follow_the_filters(self, national_officer_client, london):
        kent = make_plan("886", round_or_tranche="2024-25")
        FundingInstalment.objects.create(
            plan=kent, financial_year=2025, amount=1_000_000, status="withheld"
        )

        def warned(query):
            overview = national_officer_client.get(OVERVIEW, query).context["overview"]
            warned = {warning.authority.name for warning in overview.newest_warnings}
            counted = {row.authority.name: row.warnings for row in overview.rows if row.warnings}
            assert overview.warning_count == sum(counted.values())
            return warned, counted

        everywhere, _ = warned({})
        assert {"Kent", "Camden", "Greenwich"} <= everywhere
        in_london, counted = warned({"region": "london"})
        assert "Kent" not in in_london
        assert {"Camden", "Greenwich"} <= in_london <= set(counted)
        unconsulted, counted = warned({"only": "not_consulted"})
        assert unconsulted == set(counted) == {"Greenwich"}
        response = national_officer_client.get(OVERVIEW, {"only": "not_consulted"})
        assert (
            "At the authorities that match the table\u2019s filters" in response.content.decode()
        )

    def test_the_region_page_s_warnings_follow_its_filters(self, london_organiser_client, london):
        response = london_organiser_client.get(LONDON_PAGE, {"only": "not_consulted"})
        overview = response.context["overview"]
        assert {warning.authority.name for warning in overview.newest_warnings} == {"Greenwich"}

    def test_only_the_newest_are_listed(self, london_organiser_client, london, monkeypatch):
        monkeypatch.setattr("dashboards.overview.WARNINGS_LISTED", 1)
        response = london_organiser_client.get(OVERVIEW)
        overview = response.context["overview"]
        assert len(overview.newest_warnings) == 1
        assert f"And {overview.warning_count - 1} older warning" in response.content.decode()


# Downloads --------------------------------------------------------------------


class TestExports:
    QUERY = {"region": "london", "sort": "-withheld"}

    @pytest.mark.parametrize("read", [csv_table, xlsx_table])
    def test_the_columns_and_rows_are_the_table_s(self, national_officer_client, london, read):
        page = national_officer_client.get(OVERVIEW, self.QUERY)
        url = CSV if read is csv_table else XLSX
        table = read(national_officer_client.get(url, self.QUERY))
        # The same columns, the checklist's "3 of 74" as two numbers, and
        # what a cell of the page says beside its figure as columns of its own.
        added = {
            "Withheld (£)": ["Payments withheld"],
            "Checklist answered": ["Checklist questions"],
            "Grant payment": ["Grant held back (£)"],
            "EHC plans within 20 weeks (%)": [
                "EHC plans within 20 weeks: year",
                "EHC plans within 20 weeks: England (%)",
                "EHC plans within 20 weeks: against England",
            ],
            "Requests refused an assessment (%)": [
                "Requests refused: year",
                "Requests refused: England (%)",
                "Requests refused: previous year (%)",
                "Requests refused: against England",
            ],
        }
        headers = page_headers(page)
        assert set(added) <= set(headers)
        assert table[0] == [
            label for header in headers for label in [header, *added.get(header, [])]
        ]
        assert [line[0] for line in table[1:]] == names(page)

    def test_csv_values(self, national_officer_client, london):
        table = csv_table(national_officer_client.get(CSV, self.QUERY))
        camden = dict(zip(table[0], table[1], strict=True))
        questions = 2 * checklist_questions().count()
        assert camden == {
            "Authority": "Camden",
            "Region": "London",
            "Programme": "SV 2023-24; DBV Tranche 3 (revision 2)",
            "Plan status": "SV: Agreed; DBV: Diagnostic",
            "Paid (£)": "1300000.00",
            "Withheld (£)": "600000.00",
            "Payments withheld": "Yes",
            # No reform plan (TestReformAndOfficialExports has them).
            "Reform plan stage": "",
            "DfE rating": "",
            "Stability grant (£)": "",
            "Grant payment": "",
            "Grant held back (£)": "",
            "Checklist answered": "3",
            "Checklist questions": str(questions),
            "Serious concerns": "1",
            # A withheld and a reduced instalment, the serious concern and
            # the overdue action (tests/test_warnings.py tests each kind).
            "Early warnings": "4",
            "Last meeting": (TODAY - 30 * DAY).isoformat(),
            "Consulted before agreement": "Yes",
            "Open actions": "2",
            "Overdue actions": "1",
            "Feedback submissions": "6",
            "Median wait for an assessment (weeks)": "30",
            # No official figures loaded.
            **dict.fromkeys(
                (label for label in NEW_COLUMNS if "20 weeks" in label or "refused" in label), ""
            ),
            "Latest DSG deficit (£)": "12500000.00",
            "Deficit year": "2024-25",
        }

    def test_xlsx_values_are_typed(self, national_officer_client, london):
        sheet = xlsx_sheet(national_officer_client.get(XLSX, self.QUERY))
        header = [cell.value for cell in sheet[1]]
        camden = dict(zip(header, sheet[2], strict=True))
        assert camden["Paid (£)"].value == 1_300_000
        assert camden["Paid (£)"].number_format == '"£"#,##0.00'
        assert camden["Last meeting"].value.date() == TODAY - 30 * DAY
        assert camden["Open actions"].value == 2
        questions = 2 * checklist_questions().count()
        checklist = (camden["Checklist answered"], camden["Checklist questions"])
        assert [(cell.value, cell.data_type) for cell in checklist] == [(3, "n"), (questions, "n")]

    @pytest.mark.parametrize("read", [csv_table, xlsx_table])
    def test_no_plan_leaves_the_checklist_empty(self, national_officer_client, london, read):
        url = CSV if read is csv_table else XLSX
        table = read(national_officer_client.get(url, {"region": "london"}))
        barnet = dict(zip(table[0], next(r for r in table if r[0] == "Barnet"), strict=True))
        empty = "" if read is csv_table else None
        assert (barnet["Checklist answered"], barnet["Checklist questions"]) == (empty, empty)

    @pytest.mark.parametrize("reader", ["csv", "xlsx"])
    def test_suppression_is_the_page_s(
        self, london_organiser_client, national_officer_client, london, reader
    ):
        def greenwich(client):
            url, read = (CSV, csv_table) if reader == "csv" else (XLSX, xlsx_table)
            table = read(client.get(url, {"region": "london"}))
            line = dict(zip(table[0], next(r for r in table if r[0] == "Greenwich"), strict=True))
            return (
                line["Feedback submissions"],
                line["Median wait for an assessment (weeks)"],
            )

        assert greenwich(london_organiser_client) == (FEWER, FEWER)
        expected = ("3", "14") if reader == "csv" else (3, 14)
        assert greenwich(national_officer_client) == expected

    @pytest.mark.parametrize("reader", ["csv", "xlsx"])
    def test_formula_cells_are_neutralised(self, national_officer_client, london, reader):
        names_ = {
            CAMDEN: "=HYPERLINK(1)",
            GREENWICH: "+SUM(1)",
            ISLINGTON: "-2+3",
            LAMBETH: "@cmd",
            LEWISHAM: "\tTab",
            SOUTHWARK: "\rReturn",
        }
        for code, name in names_.items():
            LocalAuthority.objects.filter(la_code=code).update(name=name)
        Programme.objects.filter(code="sv").update(short_name="=SV")
        if reader == "csv":
            table = csv_table(national_officer_client.get(CSV, {"region": "london"}))
            cells = [line[0] for line in table] + [line[2] for line in table]
            for name in [*names_.values(), "=SV 2023-24; DBV Tranche 3 (revision 2)"]:
                assert f"'{name}" in cells
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
        else:
            sheet = xlsx_sheet(national_officer_client.get(XLSX, {"region": "london"}))
            cells = [c for line in sheet.iter_rows() for c in line if isinstance(c.value, str)]
            values = [cell.value for cell in cells]
            for name in [*names_.values(), "=SV 2023-24; DBV Tranche 3 (revision 2)"]:
                # XML reads a carriage return back as a line feed.
                assert f"'{name}".replace("\r", "\n") in values
            assert all(cell.data_type == "s" for cell in cells)  # never "f", a formula

    def test_a_control_character_does_not_break_the_workbook(
        self, national_officer_client, london
    ):
        LocalAuthority.objects.filter(la_code=CAMDEN).update(name="Camden\x01")
        response = national_officer_client.get(XLSX, {"region": "london"})
        assert response.status_code == 200
        assert "Camden" in [line[0] for line in xlsx_table(response)]

    def test_each_download_is_recorded(self, london_organiser_client, london_organiser, london):
        response = london_organiser_client.get(CSV, {"only": "not_consulted", "sort": "-paid"})
        assert response["Content-Disposition"] == (
            f'attachment; filename="overview-{TODAY:%Y-%m-%d}.csv"'
        )
        london_organiser_client.get(XLSX)
        xlsx, csv_ = DashboardExport.objects.order_by("-exported_at", "-pk")
        assert csv_.exported_by == london_organiser
        assert csv_.exported_by_email == "london.organiser@example.org"
        assert csv_.format == "csv"
        assert csv_.filters == {"only": ["not_consulted"], "sort": "-paid"}
        assert csv_.description == (
            "Show only authorities with: A plan agreed without consultation; "
            "sorted by Paid (£), descending"
        )
        assert csv_.row_count == 1
        assert csv_.small_numbers_withheld
        assert (xlsx.format, xlsx.row_count) == ("xlsx", 33)
        assert xlsx.description == "All authorities in scope, sorted by Authority"

    def test_a_national_officer_s_download_reveals_small_numbers(self, national_officer_client):
        national_officer_client.get(CSV)
        assert not DashboardExport.objects.get().small_numbers_withheld

    def test_the_record_is_read_only_in_the_admin(self, national_officer_client):
        national_officer_client.get(CSV)
        changelist = reverse("admin:dashboards_dashboardexport_changelist")
        assert national_officer_client.get(changelist).status_code == 200
        add = reverse("admin:dashboards_dashboardexport_add")
        assert national_officer_client.get(add).status_code == 403
        export = DashboardExport.objects.get()
        change = reverse("admin:dashboards_dashboardexport_change", args=[export.pk])
        response = national_officer_client.post(change, {"exported_by_email": "x@example.org"})
        assert response.status_code == 403
        export.refresh_from_db()
        assert export.exported_by_email == "national.officer@example.org"


# The region page -----------------------------------------------------------------


class TestRegionPage:
    def test_it_shows_the_table_with_who_covers_each_authority(
        self, london_organiser_client, camden_lns, london
    ):
        response = london_organiser_client.get(LONDON_PAGE)
        assert len(rows(response)) == 33
        content = response.content.decode()
        assert "Carys Evans" in content
        headers = page_headers(response)
        assert "Region" not in headers  # the page is the region's
        assert "Covered by" in content

    def test_it_names_the_first_three_who_cover_an_authority(
        self, london_organiser_client, camden_lns
    ):
        for n in range(4):
            make_user(f"camden.rep{n}@example.org", roles=[(Role.SENCO_LEAD, authority(CAMDEN))])
        content = response_text = london_organiser_client.get(LONDON_PAGE).content.decode()
        start = content.index('href="/authorities/camden/">Camden</a></th>')
        covered = content[start : content.index("</td>", start)]
        # Five cover Camden: three named, the rest a link to its page.
        assert covered.count("govuk-!-font-size-14") == 3
        assert re.search(r"and 2 more<span[^>]*> covering Camden</span>", covered)
        assert 'href="/authorities/camden/#coverage"' in response_text

    def test_it_filters_and_sorts(self, london_organiser_client, london):
        response = london_organiser_client.get(
            LONDON_PAGE, {"only": "not_consulted", "sort": "-paid"}
        )
        assert names(response) == ["Greenwich"]
        content = response.content.decode()
        # The downloads are the overview's, for this region.
        assert (
            'href="/overview/export.csv?only=not_consulted&amp;region=london&amp;sort=-paid"'
        ) in content
        # The region's other sections stay.
        assert 'id="feedback"' in content
        assert 'id="not-consulted"' in content

    def test_a_bad_filter_is_an_error_not_a_500(self, london_organiser_client):
        response = london_organiser_client.get(LONDON_PAGE, {"status": "lost"})
        assert response.status_code == 200
        assert "Choose a plan status from the list" in response.content.decode()


# Queries -------------------------------------------------------------------------


def populate(count):
    """Plans, instalments, answers, meetings, actions and feedback for
    `count` authorities (London's first, then the rest)."""
    places = list(LocalAuthority.objects.order_by("region__name", "name")[:count])
    reform = Programme.objects.get(code="send-reform")
    plans = Plan.objects.bulk_create(
        Plan(authority=la, programme=reform, status="agreed", agreement_date=TODAY - 90 * DAY)
        for la in places
    )
    FundingInstalment.objects.bulk_create(
        FundingInstalment(plan=plan, financial_year=year, amount=100, status="withheld")
        for plan in plans
        for year in (2024, 2025)
    )
    ReformPlanDetails.objects.bulk_create(
        ReformPlanDetails(plan=plan, stage="approved", rating="met") for plan in plans
    )
    HighNeedsStabilityGrant.objects.bulk_create(
        HighNeedsStabilityGrant(plan=plan, eligible_deficit=1000, status="withheld")
        for plan in plans
    )
    for measure in (TWENTY_WEEKS, REFUSED):
        for year in ("2023", "2024"):
            official_figures(measure, year, 50, {la.la_code: 40 for la in places})
    bank = QuestionSet.objects.latest_version()
    assessments = Assessment.objects.bulk_create(
        Assessment(plan=plan, question_set=bank) for plan in plans
    )
    questions = list(bank.questions.all()[:3])
    Answer.objects.bulk_create(
        Answer(assessment=a, question=q, response="no", concern="serious")
        for a in assessments
        for q in questions
    )
    Meeting.objects.bulk_create(
        Meeting(authority=la, forum="jcnc", held_on=TODAY - n * DAY, confidential=n % 2)
        for la in places
        for n in range(3)
    )
    Action.objects.bulk_create(
        Action(authority=la, title="Follow up", due_on=TODAY - n * DAY)
        for la in places
        for n in range(3)
    )
    FeedbackSubmission.objects.bulk_create(
        FeedbackSubmission(
            authority=la,
            source="senco_network",
            people_count=3,
            meeting_date=TODAY,
            health_care_costs="no",
            assessment_wait_weeks=n,
        )
        for la in places
        for n in range(6)
    )
    AuthorityFinance.objects.bulk_create(
        AuthorityFinance(authority=la, financial_year=year, dsg_cumulative_deficit=year)
        for la in places
        for year in (2023, 2024)
    )
    data_changed()  # bulk writes say so, as seed_scale's do (authorities/caching.py)


# session, user, regions in scope, programmes, authorities (with their latest
# deficit and last meeting), the checklist bank (latest version, its size),
# plans (with their checklist counts and consultation flag, and a reform
# plan's details and grant joined), instalments, actions, feedback, the official
# figures (every row's in one query: official.comparisons.compare), and the
# early warnings (counted by authority from the index of open warnings in
# one query, and the tallies for rising waits; then, where there are some,
# the twenty newest from the index and the records of each kind among them:
# dashboards/warnings.warning_summary). Cold: nothing from the page cache.
OVERVIEW_ROWS_QUERIES = 12  # and, with warnings, the newest (1) and a query a kind among them
# populate() makes six kinds: for one authority five are among the twenty
# newest; from ten, the instalments of today are more than twenty.
KINDS_READ = {1: 5, 10: 1, 150: 1}
OVERVIEW_QUERIES = OVERVIEW_ROWS_QUERIES
# Asked again before the data changes, with the page cache on: session and
# user; the rest is the cached page.
OVERVIEW_QUERIES_CACHED = 2


class TestQueries:
    @pytest.mark.usefixtures("page_cache")
    @pytest.mark.parametrize("count", [1, 10, 150])
    def test_the_overview_makes_the_same_queries_however_many(
        self, national_officer_client, django_assert_num_queries, count
    ):
        populate(count)
        with django_assert_num_queries(OVERVIEW_QUERIES + 1 + KINDS_READ[count]):
            response = national_officer_client.get(OVERVIEW, {"sort": "-withheld"})
        assert len(rows(response)) == 153
        assert sum(1 for row in rows(response) if row.withheld == 200) == count
        with django_assert_num_queries(OVERVIEW_QUERIES_CACHED):
            again = national_officer_client.get(OVERVIEW, {"sort": "-withheld"})

        # The same page, bar what each response carries afresh: the scripts'
        # nonce and the sign-out form's CSRF token.
        def page(r):
            return re.sub(r'(nonce|value)="[^"]*"', "", r.content.decode())

        assert page(again) == page(response)

    @pytest.mark.parametrize("count", [1, 10, 150])
    @pytest.mark.parametrize("url", [CSV, XLSX])
    def test_the_downloads_too(
        self, national_officer_client, django_assert_num_queries, count, url
    ):
        populate(count)
        # The rows as for the page, and the record of the download.
        with django_assert_num_queries(OVERVIEW_ROWS_QUERIES + 1 + KINDS_READ[count] + 1):
            response = national_officer_client.get(url, {"only": "concerns"})
        table = csv_table(response) if url == CSV else xlsx_table(response)
        assert len(table) == count + 1

    @pytest.mark.usefixtures("page_cache")
    @pytest.mark.parametrize("count", [1, 10, 33])
    def test_the_region_page(
        self, london_organiser_client, django_assert_num_queries, count, reference_data
    ):
        populate(count)
        for la in LocalAuthority.objects.filter(region__name="London"):
            make_user(roles=[(Role.LNS, la)])
        # tests/test_authorities.py's region pin, and the newest warnings
        # and the one kind among them: none of populate()'s first ten
        # authorities is in London.
        with django_assert_num_queries(REGION_PAGE_QUERIES + 2 * (count > 10)):
            response = london_organiser_client.get(LONDON_PAGE)
        assert len(rows(response)) == 33
        # The second time the page comes from the cache: session, user and
        # region.
        with django_assert_num_queries(3):
            london_organiser_client.get(LONDON_PAGE)

    @pytest.mark.parametrize(
        ("persona", "url"),
        [("national_officer", OVERVIEW), ("london_organiser", LONDON_PAGE)],
    )
    def test_no_query_while_the_page_renders(
        self, request, client_for, reference_data, persona, url
    ):
        populate(10)
        client = client_for(request.getfixturevalue(persona))
        page = "dashboards/overview.html" if url == OVERVIEW else "dashboards/region_detail.html"
        response, during = queries_while_rendering(client, url, page, {"sort": "-concerns"})
        assert response.status_code == 200
        assert during == []


# 2026: reform plans, the grant, payments withheld and official figures ---------------

TWENTY_WEEKS, REFUSED = "pc_plans_issued_within_20_weeks", "request_not_assess_pc"
# The SV agreements put under review in March 2024 (plans/data/known_plans.csv,
# from the gov.uk update and Schools Week): payments withheld, no amount published.
UNDER_REVIEW_IN_2024 = {
    "Bath and North East Somerset",
    "Cambridgeshire",
    "Dorset",
    "Hillingdon",
    "Norfolk",
}


def official_figures(measure, period, england, values):
    """England's figure and authorities' ({la_code: value, or a Status for
    the symbol printed instead}) for one measure and year, as loaded."""
    release, _ = Release.objects.get_or_create(
        title="Education, health and care plans, reporting year 2025",
        file_name="timeliness_20_week.csv" if measure == TWENTY_WEEKS else "requests.csv",
        defaults={"publisher": "Department for Education", "source_url": "https://example.org/"},
    )

    def figure(level, code, name, value, **place):
        known = not isinstance(value, Status)
        return Figure(
            release=release,
            level=level,
            area_code=code,
            area_name=name,
            measure=measure,
            period=period,
            period_type=Period.CALENDAR,
            value=Decimal(str(value)) if known else None,
            status=Status.KNOWN if known else value,
            **place,
        )

    Figure.objects.bulk_create(
        [
            figure(Level.NATIONAL, "E92000001", "England", england),
            *(
                figure(
                    Level.LOCAL_AUTHORITY,
                    code,
                    authority(code).name,
                    value,
                    authority=authority(code),
                )
                for code, value in values.items()
            ),
        ]
    )


@pytest.fixture
def reform(reference_data):
    """London reform plans at several stages, with grants, and official
    figures for two years.

    Camden: submitted, grant of £900,000 due; 20-week rate below England,
    refusals above England and rising. Greenwich: rated "requirements not
    met", grant withheld; 20 weeks above England, refusals above but falling.
    Islington: a reform plan with no details yet; its 20-week figure
    suppressed, refusals below England. Lambeth: approved, rated "meets
    requirements", grant paid reduced; 20 weeks the same as England,
    refusals above England with last year's not available. Lewisham: no
    figures at all."""
    camden = make_plan(CAMDEN, "send-reform", round_or_tranche="2026", status="negotiating")
    ReformPlanDetails.objects.create(plan=camden, stage="submitted")
    HighNeedsStabilityGrant.objects.create(plan=camden, eligible_deficit=Decimal("1000000"))
    greenwich = make_plan(GREENWICH, "send-reform", status="negotiating")
    ReformPlanDetails.objects.create(
        plan=greenwich, stage="requirements_not_met", rating="requirements_not_met"
    )
    HighNeedsStabilityGrant.objects.create(
        plan=greenwich, eligible_deficit=Decimal("2000000"), status="withheld"
    )
    make_plan(ISLINGTON, "send-reform", status="negotiating")
    lambeth = make_plan(LAMBETH, "send-reform", agreement_date=TODAY - 10 * DAY)
    ReformPlanDetails.objects.create(plan=lambeth, stage="approved", rating="met")
    HighNeedsStabilityGrant.objects.create(
        plan=lambeth,
        eligible_deficit=Decimal("1000000"),
        status="reduced",
        amount_paid=Decimal("500000"),
    )
    official_figures(TWENTY_WEEKS, "2023", 50, {CAMDEN: 41, GREENWICH: 60, LAMBETH: 44})
    official_figures(
        TWENTY_WEEKS,
        "2024",
        "45.9",
        {CAMDEN: "38.2", GREENWICH: 70, ISLINGTON: Status.SUPPRESSED, LAMBETH: "45.9"},
    )
    official_figures(
        REFUSED, "2023", 24, {CAMDEN: 20, GREENWICH: 30, LAMBETH: Status.NOT_AVAILABLE}
    )
    official_figures(
        REFUSED, "2024", "25.2", {CAMDEN: "30.1", GREENWICH: 28, ISLINGTON: 10, LAMBETH: 40}
    )


class TestReformAndOfficialColumns:
    def test_reform_plan_rating_and_grant(self, london_organiser_client, reform):
        response = london_organiser_client.get(OVERVIEW)
        line = {
            name: (row.reform_stage, row.rating, row.grant_text, row.grant_payment)
            for name in ("Camden", "Greenwich", "Islington", "Lambeth", "Barnet")
            for row in [row_for(response, name)]
        }
        assert line == {
            "Camden": ("Submitted", "", "£900,000", "Due"),
            "Greenwich": (
                "Requirements not met",
                "Requirements not met",
                "£1,800,000",
                "Withheld",
            ),
            "Islington": ("Stage not recorded", "", "", ""),
            "Lambeth": ("Approved", "Meets requirements", "£900,000", "Paid, reduced"),
            "Barnet": ("", "", "", ""),
        }
        assert row_for(response, "Lambeth").grant_withheld_text == "£400,000 held back"
        page = response.content.decode()
        assert "No reform plan" in page
        assert '<strong class="govuk-tag govuk-tag--red">Requirements not met</strong>' in page

    def test_official_figures_beside_england(self, london_organiser_client, reform):
        response = london_organiser_client.get(OVERVIEW)
        figures = {
            name: (
                row.twenty_weeks.text,
                row.twenty_weeks_note,
                row.refused.text,
                row.refused_note,
            )
            for name in ("Camden", "Greenwich", "Islington", "Lambeth", "Lewisham")
            for row in [row_for(response, name)]
        }
        assert figures == {
            "Camden": (
                "38.2%",
                "below England's 45.9% (2024)",
                "30.1%",
                "above England's 25.2% (2024), rising from 20% in 2023",
            ),
            "Greenwich": (
                "70%",
                "above England's 45.9% (2024)",
                "28%",
                "above England's 25.2% (2024), not rising (30% in 2023)",
            ),
            # Suppressed and missing figures say so: never 0.
            "Islington": (
                "suppressed",
                "2024; England 45.9%",
                "10%",
                "below England's 25.2% (2024)",
            ),
            "Lambeth": (
                "45.9%",
                "the same as England (2024)",
                "40%",
                "above England's 25.2% (2024), 2023 not available",
            ),
            "Lewisham": (
                "not available",
                "2024; England 45.9%",
                "not available",
                "2024; England 25.2%",
            ),
        }
        page = response.content.decode()
        assert ">Suppressed</span>" in page
        assert "<strong>below England&#x27;s 45.9% (2024)</strong>" in page

    def test_with_no_official_figures_loaded_the_cells_are_empty(
        self, london_organiser_client, london
    ):
        camden = row_for(london_organiser_client.get(OVERVIEW), "Camden")
        assert (camden.twenty_weeks.period, camden.twenty_weeks_note) == ("", "")

    def test_the_five_sv_agreements_under_review_show_payments_withheld(
        self, national_officer_client, reference_data
    ):
        # No instalment is recorded for them: the status, loaded from the
        # data file with its source, says payments are withheld.
        response = national_officer_client.get(OVERVIEW)
        withheld = {row.authority.name for row in rows(response) if row.withheld_unrecorded}
        assert withheld == UNDER_REVIEW_IN_2024
        hillingdon = row_for(response, "Hillingdon")
        assert hillingdon.withheld == 0
        assert hillingdon.withheld_text == "Withheld, amount not recorded"
        assert "schoolsweek.co.uk" in hillingdon.withheld_unrecorded[0].status_note
        assert "<strong>Withheld, amount not recorded</strong>" in response.content.decode()
        # Sorted by money withheld, they come before authorities with none.
        descending = names(national_officer_client.get(OVERVIEW, {"sort": "-withheld"}))
        assert set(descending[:5]) == UNDER_REVIEW_IN_2024

    def test_an_amount_recorded_later_is_shown_and_not_recorded_as_well(
        self, national_officer_client, reference_data
    ):
        plan = Plan.objects.get(authority__name="Hillingdon", status="under_review")
        FundingInstalment.objects.create(
            plan=plan, financial_year=2023, amount=4_000_000, status="withheld"
        )
        hillingdon = row_for(national_officer_client.get(OVERVIEW), "Hillingdon")
        assert hillingdon.withheld_unrecorded == []
        assert hillingdon.withheld_text == "£4,000,000"

    def test_plans_with_no_agreement_date_are_counted_not_passed(
        self, national_officer_client, reference_data
    ):
        # The known SV and DBV plans are loaded with their year, not a date.
        undated = Plan.objects.current().filter(
            agreement_date=None, status__in=["agreed", "implementation", "under_review"]
        )
        assert undated.count() > 50
        for query in ({}, {"only": "not_consulted"}):
            response = national_officer_client.get(OVERVIEW, query)
            assert response.context["overview"].undated_agreements == undated.count()
            assert f"{undated.count()} current plans have been agreed but have no" in (
                response.content.decode()
            )
        # With the filter, over the authorities the other filters choose.
        response = national_officer_client.get(
            OVERVIEW, {"only": "not_consulted", "region": "london"}
        )
        in_london = undated.filter(authority__region__name="London").count()
        assert response.context["overview"].undated_agreements == in_london

    def test_no_undated_plan_no_message(self, london_organiser_client, reform):
        Plan.objects.filter(agreement_date=None).update(agreement_date=TODAY)
        response = london_organiser_client.get(OVERVIEW)
        assert response.context["overview"].undated_agreements == 0
        assert 'id="undated-agreements"' not in response.content.decode()


class TestReformAndOfficialFilters:
    @pytest.mark.parametrize(
        ("only", "expected"),
        [
            ("not_met", ["Greenwich"]),
            ("grant_withheld", ["Greenwich", "Lambeth"]),  # reduced holds part back
            ("below_england_20_weeks", ["Camden"]),  # Islington's is suppressed
            ("refusals_above_england_rising", ["Camden"]),
        ],
    )
    def test_each(self, london_organiser_client, reform, only, expected):
        response = london_organiser_client.get(OVERVIEW, {"only": only})
        assert response.context["overview"].is_valid
        assert names(response) == expected

    def test_no_reform_plan_submitted(self, london_organiser_client, reform):
        response = london_organiser_client.get(OVERVIEW, {"only": "no_reform_submitted"})
        shown = names(response)
        assert len(shown) == 30
        assert "Islington" in shown  # a reform plan, its stage not recorded
        assert "Barnet" in shown  # none
        assert not {"Camden", "Greenwich", "Lambeth"} & set(shown)

    def test_a_revised_reform_plan_s_old_rating_does_not_count(
        self, london_organiser_client, reform
    ):
        old = Plan.objects.get(authority__la_code=GREENWICH, programme__code="send-reform")
        revision = make_plan(
            GREENWICH, "send-reform", status="negotiating", revision_of=old, revision=2
        )
        ReformPlanDetails.objects.create(plan=revision, stage="submitted")
        assert names(london_organiser_client.get(OVERVIEW, {"only": "not_met"})) == []

    def test_the_filters_agree_with_the_columns(self, national_officer_client, reform):
        response = national_officer_client.get(OVERVIEW, {"region": "london"})
        table = rows(response)
        expected = {
            "not_met": {r.authority.name for r in table if r.rated_not_met},
            "grant_withheld": {r.authority.name for r in table if r.grant_held_back},
            "below_england_20_weeks": {
                r.authority.name for r in table if r.twenty_weeks.against_england == "below"
            },
            "refusals_above_england_rising": {
                r.authority.name
                for r in table
                if r.refused.against_england == "above" and r.refused.rising
            },
        }
        for only, names_ in expected.items():
            filtered = national_officer_client.get(OVERVIEW, {"only": only, "region": "london"})
            assert set(names(filtered)) == names_, only

    def test_the_description_names_them(self, national_officer_client, reform):
        overview = national_officer_client.get(
            OVERVIEW, {"only": ["grant_withheld", "below_england_20_weeks"]}
        ).context["overview"]
        assert overview.description().startswith(
            "Show only authorities with: The stability grant withheld (in full or in part), "
            "EHC plans issued within 20 weeks below England's rate (latest year)"
        )


class TestReformAndOfficialExports:
    @pytest.mark.parametrize("read", [csv_table, xlsx_table])
    def test_the_new_columns(self, national_officer_client, reform, read):
        url = CSV if read is csv_table else XLSX
        table = read(national_officer_client.get(url, {"region": "london"}))

        def line(name):
            return dict(zip(table[0], next(r for r in table if r[0] == name), strict=True))

        empty = "" if read is csv_table else None

        def number(text):
            return text if read is csv_table else float(text)

        camden, islington = line("Camden"), line("Islington")
        assert {key: camden[key] for key in camden if key in NEW_COLUMNS} == {
            "Reform plan stage": "Submitted",
            "DfE rating": empty,
            "Stability grant (£)": number("900000.00"),
            "Grant payment": "Due",
            "Grant held back (£)": number("0.00"),
            "EHC plans within 20 weeks (%)": number("38.20"),
            "EHC plans within 20 weeks: year": "2024",
            "EHC plans within 20 weeks: England (%)": number("45.90"),
            "EHC plans within 20 weeks: against England": "Below England",
            "Requests refused an assessment (%)": number("30.10"),
            "Requests refused: year": "2024",
            "Requests refused: England (%)": number("25.20"),
            "Requests refused: previous year (%)": number("20.00"),
            "Requests refused: against England": "Above England and rising",
        }
        # A suppressed figure is written as the release's word, never 0.
        assert islington["EHC plans within 20 weeks (%)"] == "suppressed"
        assert islington["EHC plans within 20 weeks: against England"] == empty
        assert islington["Reform plan stage"] == "Stage not recorded"
        assert line("Lambeth")["Requests refused: previous year (%)"] == "not available"
        assert line("Lambeth")["Grant held back (£)"] == number("400000.00")
        hillingdon = line("Hillingdon")
        assert (hillingdon["Withheld (£)"], hillingdon["Payments withheld"]) == (
            empty,
            "Yes, amount not recorded",
        )
        assert line("Barnet")["Reform plan stage"] == empty


NEW_COLUMNS = {
    "Reform plan stage",
    "DfE rating",
    "Stability grant (£)",
    "Grant payment",
    "Grant held back (£)",
    "EHC plans within 20 weeks (%)",
    "EHC plans within 20 weeks: year",
    "EHC plans within 20 weeks: England (%)",
    "EHC plans within 20 weeks: against England",
    "Requests refused an assessment (%)",
    "Requests refused: year",
    "Requests refused: England (%)",
    "Requests refused: previous year (%)",
    "Requests refused: against England",
}
