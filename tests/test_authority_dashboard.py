"""The authority page as a dashboard: plans with their money and targets, the
checklist with serious concerns first, meetings, the Schools Forum's
questions, block transfers, actions, members' feedback, the finance trend as
charts, who covers it and recent changes, in a fixed number of queries and
none while the page renders."""

import itertools
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from authorities.models import AuthorityFinance, financial_year_label, format_pounds
from consultations.models import Action, BlockTransfer, Meeting, SchoolsForumOutcome
from dashboards.charts import (
    MAX_BAR,
    MIN_SLOT,
    Point,
    bar_chart,
    deficit_text,
    dsg_deficit_chart,
    high_needs_chart,
    nice_step,
    short_pounds,
)
from feedback.models import FeedbackSubmission
from plans.models import Answer, FundingInstalment, Plan, Target, TargetUpdate
from plans.services import assessment_for

from .factories import CAMDEN, authority, checklist_questions, make_plan
from .rendering import queries_while_rendering

PAGE = reverse("dashboards:authority", args=["camden"])
TODAY = timezone.localdate()
TEMPLATE = "dashboards/authority_detail.html"


def text(response):
    """The page's words, tags stripped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# Camden with `rows` of everything -----------------------------------------


def answer(plan, key, **fields):
    assessment = assessment_for(plan)
    fields.setdefault("response", Answer.Response.PARTLY)
    fields.setdefault("concern", Answer.Concern.NONE)
    return Answer.objects.create(
        assessment=assessment, question=assessment.question_set.questions.get(key=key), **fields
    )


def fill_camden(rows, *, owner=None):
    """`rows` plans (each with `rows` instalments, targets with `rows`
    progress updates, and `rows` answers), meetings with Schools Forum
    outcomes and block transfers, actions, feedback submissions over
    `rows` terms and finance years. Returns the plans."""
    camden = authority(CAMDEN)
    keys = list(checklist_questions().values_list("key", flat=True))
    plans = []
    for n in range(rows):
        plan = make_plan(
            CAMDEN, round_or_tranche=f"Round {n}", total_funding=Decimal(1_000_000 * (n + 1))
        )
        plans.append(plan)
        for year in range(rows):
            FundingInstalment.objects.create(
                plan=plan,
                financial_year=2020 + year,
                amount=Decimal(100_000),
                status="paid",
                amount_paid=Decimal(100_000),
            )
            target = Target.objects.create(
                plan=plan, description=f"Target {n}.{year}", goal="ehcp_demand"
            )
            for m in range(rows):
                TargetUpdate.objects.create(
                    target=target, status="at_risk", reason="Late", recorded_on=TODAY - m * DAY
                )
        for m, key in enumerate(keys[:rows]):
            answer(plan, key, concern=("serious", "some", "none")[m % 3], private_notes="x")
        plan.status = Plan.Status.IMPLEMENTATION
        plan.save()  # a change for the history
    for n in range(rows):
        meeting = Meeting.objects.create(
            authority=camden, forum="schools_forum", held_on=TODAY - n * DAY
        )
        SchoolsForumOutcome.objects.create(meeting=meeting, extra_funding=f"£{n}m")
        BlockTransfer.objects.create(meeting=meeting, financial_year=2020 + n, amount=n)
        Action.objects.create(authority=camden, title=f"Action {n}", owner=owner)
        AuthorityFinance.objects.create(
            authority=camden,
            financial_year=2015 + n,
            dsg_cumulative_deficit=Decimal(1_000_000 * n),
            dsg_cumulative_deficit_source_url="https://example.org/dsg",
        )
        for _ in range(5):
            FeedbackSubmission.objects.create(
                authority=camden,
                source="senco_network",
                phases=["primary"],
                people_count=3,
                meeting_date=date(2024, 1, 15) + timedelta(days=122 * n),
                health_care_costs="no",
                assessment_wait_weeks=10 + n,
            )
    return plans


DAY = timedelta(days=1)


# What the page shows ------------------------------------------------------


class TestSections:
    def test_every_section_shows_its_data(self, camden_lns_client, camden_lns):
        fill_camden(3, owner=camden_lns)
        page = text(camden_lns_client.get(PAGE))
        # Plans: status, money, targets with their latest progress.
        assert "SV Round 2" in page
        assert "Implementation and monitoring" in page
        assert "£300,000 promised, £300,000 paid, £0 withheld" in page
        assert "Target 2.1" in page
        assert "At risk" in page
        # The checklist, one line per plan.
        assert (
            page.count("3 of 37 questions answered; 1 serious concern , 1 of some concern.") == 3
        )
        # The Schools Forum's questions: the latest answer, and the others unanswered.
        assert "How much extra funding comes with the programme? £0m Recorded at" in page
        assert page.count("No answer recorded yet") == 2
        assert "2022-23 , Camden, Schools Forum of" in page  # a block transfer
        assert "Action 2" in page
        assert "Submissions 15" in page
        # The charts, each with its sentence and its data as a table.
        assert "The DSG deficit grew from £0 in 2015-16 to £2m in 2017-18." in page
        assert "No figures for the High Needs Block allocation are known yet." in page
        assert "The median wait members report grew from 10 weeks in Spring 2024" in page
        assert "Camden's figures by financial year" in page
        assert "Carys Evans" in page  # who covers it
        assert "SV Round 2: Plan changed by an automatic import" in page

    def test_the_contents_list_links_to_every_section(self, camden_lns_client):
        content = camden_lns_client.get(PAGE).content.decode()
        contents = content[
            content.index('id="contents-title"') : content.index(
                "</nav>", content.index('id="contents-title"')
            )
        ]
        targets = re.findall(r'href="#([a-z-]+)"', contents)
        assert len(targets) == 13
        for target in targets:
            assert f'id="{target}"' in content

    def test_serious_concerns_come_first(self, camden_lns_client, camden):
        plan = make_plan(CAMDEN)
        answer(plan, "cuts-not-efficiency", concern="some")
        answer(plan, "pressures-on-school-system", concern="serious")
        answer(plan, "extra-funding-amount", concern="none")
        page = text(camden_lns_client.get(PAGE))
        serious = page.index("Will the plan increase pressures")
        some = page.index("Does the plan seek genuine efficiency")
        assert serious < some
        assert "1 serious concern" in page
        # A question of no concern is counted, not listed.
        assert (
            "How much extra funding comes with the programme?"
            not in page.split("Meetings and consultation")[0]
        )

    def test_a_revised_plan_is_listed_under_its_revision(self, camden_lns_client, camden):
        first = make_plan(CAMDEN, round_or_tranche="2022-23")
        second = make_plan(CAMDEN, round_or_tranche="2022-23", revision=2, revision_of=first)
        response = camden_lns_client.get(PAGE)
        assert [p.plan for p in response.context["plans"].current] == [second]
        assert response.context["plans"].revised == [first]
        assert "Since revised: SV 2022-23 ." in text(response)

    def test_a_plan_agreed_without_consultation_says_so(self, camden_lns_client, camden):
        make_plan(CAMDEN, agreement_date=date(2024, 3, 1))
        assert "Agreed with no consultation of the union logged before 1 March 2024" in text(
            camden_lns_client.get(PAGE)
        )

    def test_a_surplus_is_a_bar_below_the_line(self, camden_lns_client, camden):
        for year, deficit in ((2022, "-1200000"), (2023, "3100000")):
            AuthorityFinance.objects.create(
                authority=camden,
                financial_year=year,
                dsg_cumulative_deficit=Decimal(deficit),
                dsg_cumulative_deficit_source_url="https://example.org/dsg",
            )
        response = camden_lns_client.get(PAGE)
        chart = response.context["finance_charts"][0]
        surplus, deficit = chart.bars
        assert surplus.negative
        assert surplus.text == "£1.2m surplus"
        assert surplus.y == chart.zero_y  # hangs from the line
        assert deficit.y + deficit.height == chart.zero_y  # stands on it
        assert "The DSG deficit grew from £1.2m surplus in 2022-23 to £3.1m in 2023-24." in text(
            response
        )


class TestEmptyStates:
    def test_an_authority_with_nothing_recorded(self, client_for, london_organiser):
        response = client_for(london_organiser).get(PAGE)
        page = text(response)
        assert "No Safety Valve, Delivering Better Value or other recovery plan" in page
        assert "there is none to answer yet" in page
        assert "No meetings have been logged for Camden." in page
        assert page.count("No answer recorded yet") == 3
        assert "No block transfer has been recorded" in page
        assert "No open actions for Camden." in page
        assert "No feedback from SENCO or headteacher networks" in page
        assert "No finance figures are recorded for Camden yet." in page
        assert "No changes to Camden's plans recorded." in page
        assert "<svg" not in response.content.decode()


class TestPrivacy:
    def test_changes_to_private_notes_only_for_those_who_may_read_them(
        self, client_for, camden_lns, london_organiser
    ):
        plan = make_plan(CAMDEN)
        note = answer(plan, "cuts-not-efficiency", private_notes="Before")
        note.private_notes = "Told in confidence by the head of Zebra Primary"
        note.save()
        assert "Zebra Primary" in text(client_for(camden_lns).get(PAGE))
        assert "Zebra Primary" not in client_for(london_organiser).get(PAGE).content.decode()

    def test_the_wait_chart_keeps_small_numbers_suppressed(
        self, client_for, london_organiser, national_officer
    ):
        camden = authority(CAMDEN)
        for weeks in (18, 19, 20, 21, 22, 23):
            FeedbackSubmission.objects.create(
                authority=camden,
                source="senco_network",
                phases=["primary"],
                people_count=3,
                # Five in the autumn, one in the spring.
                meeting_date=date(2025, 10, 1) if weeks < 23 else date(2026, 2, 1),
                health_care_costs="no",
                assessment_wait_weeks=weeks,
            )
        chart = client_for(london_organiser).get(PAGE).context["feedback_chart"]
        assert [(bar.label, bar.text) for bar in chart.bars] == [
            ("Autumn 2025", "20"),
            ("Spring 2026", "fewer than 5"),
        ]
        assert "23" not in [bar.text for bar in chart.bars]
        chart = client_for(national_officer).get(PAGE).context["feedback_chart"]
        assert [bar.text for bar in chart.bars] == ["20", "23"]


# Speed ---------------------------------------------------------------------


# Session and user; the authority (in scope, with its region), who covers it
# (1, directly or through its region: read_coverage) and its aliases;
# whether its region is visible (for a national officer: no query for one
# who covers no region; the person's roles come with them, User.held); the finance years; the
# feedback; the plans with their checklist counts (the latest question bank
# and its size, then the plans), targets with their latest progress (one
# query, TargetQuerySet.with_latest_update); the history (the
# plans, instalments, targets, questions and answers; the programmes' names
# only for a change of programme, plans/history.py);
# instalment totals; answers of concern; the Schools Forum's answers;
# meetings, block transfers and actions; the official figures and the area
# SEND inspections (official/presenters.py); every authority's latest
# official figures, for similar authorities (similar_authorities: with
# figures loaded, two more, their releases and which of the authorities the
# person may open; tests/test_official_similar.py); its gravest open
# warnings (counted from the index of open warnings, the feedback tallies
# for rising waits, the first AUTHORITY_WARNINGS from the index, then the
# records of each kind among them: with one row each of fill_camden's two
# kinds both are read, with six the gravest alone fills the list, so a page
# with more warnings makes one query fewer, never more than one a kind;
# dashboards/warnings.py gravest_warnings); whether the reader watches the authority (with
# their digest); its trusts and branches (one union); the reports to the
# national office. Nothing from the page cache: the cold page.
AUTHORITY_PAGE_QUERIES = {
    "national_officer": {1: 32, 6: 31},
    "camden_lns": {1: 31, 6: 30},  # no region to see
}
# Asked again before the data changes, with the page cache on: session,
# user and the authority; the rest is the cached page.
AUTHORITY_PAGE_QUERIES_CACHED = 3


def main(response):
    content = response.content.decode()
    return content[content.index("<main") : content.index("</main>")]


class TestQueryCount:
    @pytest.mark.usefixtures("page_cache")
    @pytest.mark.parametrize("rows", [1, 6])
    @pytest.mark.parametrize("persona", ["camden_lns", "national_officer"])
    def test_pinned(self, request, camden, client_for, django_assert_num_queries, rows, persona):
        user = request.getfixturevalue(persona)
        fill_camden(rows, owner=user)
        client = client_for(user)
        with django_assert_num_queries(AUTHORITY_PAGE_QUERIES[persona][rows]):
            response = client.get(PAGE)
        assert len(response.context["plans"].current) == rows
        with django_assert_num_queries(AUTHORITY_PAGE_QUERIES_CACHED):
            again = client.get(PAGE)
        # The same page (less the per-request nonce and token in its head).
        assert main(again) == main(response)

    @pytest.mark.parametrize("rows", [1, 6])
    def test_no_queries_while_rendering(self, camden_lns_client, camden_lns, rows):
        fill_camden(rows, owner=camden_lns)
        response, queries = queries_while_rendering(camden_lns_client, PAGE, TEMPLATE)
        assert response.status_code == 200
        assert queries == []


# The charts' geometry -------------------------------------------------------


def money_chart(values, start=2021):
    return bar_chart(
        id="chart",
        title="DSG",
        subject="DSG deficit",
        points=[
            Point(financial_year_label(start + n), None if v is None else Decimal(v))
            for n, v in enumerate(values)
        ],
        axis_title="£",
        label_heading="Financial year",
        value_heading="DSG deficit",
        short=lambda v: deficit_text(v, short_pounds),
        full=lambda v: deficit_text(v, format_pounds),
        tick_text=short_pounds,
    )


def inside(chart, bar):
    """Every part of the bar and its printed value lies within the drawing."""
    return (
        bar.x >= 0
        and bar.x + bar.width <= chart.width
        and bar.y >= 0
        and bar.y + bar.height <= chart.height
        and 0 < bar.value_y < chart.label_y < chart.height
    )


class TestCharts:
    def test_a_negative_value_hangs_below_the_line(self):
        chart = money_chart(["-1200000", "3100000"])
        surplus, deficit = chart.bars
        assert surplus.negative
        assert not deficit.negative
        assert surplus.y == chart.zero_y
        assert surplus.height > 0
        assert deficit.y + deficit.height == chart.zero_y
        assert surplus.value_y > surplus.y + surplus.height  # printed under the bar
        assert deficit.value_y < deficit.y  # printed over it
        assert (surplus.text, surplus.table_text) == ("£1.2m surplus", "£1,200,000 surplus")
        assert [tick.text for tick in chart.ticks] == ["-£2m", "£0", "£2m", "£4m"]
        assert all(inside(chart, bar) for bar in chart.bars)

    def test_every_value_blank(self):
        chart = money_chart([None, None])
        assert not chart.has_data
        assert chart.ticks == ()
        assert [(bar.known, bar.text, bar.height) for bar in chart.bars] == [
            (False, "Not known", 0),
            (False, "Not known", 0),
        ]
        assert chart.summary == "No figures for the DSG deficit are known yet."

    def test_a_gap_is_not_a_zero(self):
        chart = money_chart(["1000000", None, "0"])
        _, gap, zero = chart.bars
        assert not gap.known
        assert gap.table_text == "Not known"
        assert zero.known
        assert zero.text == "£0"
        assert chart.unknown_labels == ["2022-23"]
        assert chart.summary == (
            "The DSG deficit fell from £1m in 2021-22 to £0 in 2023-24. No figure for 2022-23."
        )

    def test_a_single_year(self):
        chart = money_chart(["3100000"], start=2024)
        (bar,) = chart.bars
        assert bar.width == MAX_BAR
        assert bar.centre == (chart.plot_left + chart.plot_right) / 2
        # Under the axis's top figure (£4m), standing on its zero.
        assert chart.ticks[-1].y <= bar.y < chart.zero_y
        assert bar.y + bar.height == chart.zero_y
        assert chart.summary == "The DSG deficit was £3.1m in 2024-25."

    def test_large_numbers_are_formatted_as_pounds(self):
        chart = money_chart(["123456789012.34", "98765432100"])
        big, _ = chart.bars
        assert big.table_text == format_pounds(Decimal("123456789012.34"))
        assert big.table_text == "£123,456,789,012.34"
        assert big.text == "£123,456.8m"
        assert float(chart.ticks[-1].text.strip("£m").replace(",", "")) * 1e6 >= 123456789012.34
        assert all(inside(chart, bar) for bar in chart.bars)

    def test_every_value_zero(self):
        chart = money_chart(["0", "0"])
        assert [bar.height for bar in chart.bars] == [0, 0]
        assert chart.summary == "The DSG deficit was £0 in 2021-22 and again in 2022-23."

    def test_many_years_widen_the_drawing_so_values_do_not_collide(self):
        chart = money_chart([str(n * 1_000_000) for n in range(20)], start=2010)
        slots = [b.centre for b in chart.bars]
        assert min(b - a for a, b in itertools.pairwise(slots)) >= MIN_SLOT
        assert chart.width > 640

    def test_the_axis_reads_in_plain_numbers(self):
        chart = bar_chart(
            id="chart",
            title="Wait",
            subject="median wait",
            points=[Point("Autumn 2025", Decimal(12)), Point("Spring 2026", Decimal(38))],
            axis_title="Weeks",
            label_heading="Term",
            value_heading="Median wait",
            short=lambda weeks: f"{weeks:g}",
            full=lambda weeks: f"{weeks:g} weeks",
        )
        assert [tick.text for tick in chart.ticks] == ["0", "10", "20", "30", "40"]

    @pytest.mark.parametrize(
        ("span", "step"), [(1, 0.25), (7, 2), (24_600_000, 10_000_000), (0.9, 0.25), (100, 25)]
    )
    def test_axis_steps_are_round(self, span, step):
        assert nice_step(span) == pytest.approx(step)

    @pytest.mark.parametrize(
        ("amount", "shown"),
        [
            ("999", "£999"),
            ("450000", "£450k"),
            ("24600000", "£24.6m"),
            ("1000000", "£1m"),
            ("-1200000", "-£1.2m"),
            ("0.4", "£0"),
            ("999999", "£1m"),
            ("999.5", "£1k"),
            ("999.4", "£999"),
        ],
    )
    def test_short_pounds(self, amount, shown):
        assert short_pounds(Decimal(amount)) == shown

    def test_finance_years_not_recorded_are_gaps(self, camden):
        rows = [
            AuthorityFinance(
                authority=camden, financial_year=2021, dsg_cumulative_deficit=Decimal(1)
            ),
            AuthorityFinance(
                authority=camden, financial_year=2024, high_needs_block_allocation=Decimal(5)
            ),
        ]
        deficit, high_needs = dsg_deficit_chart(rows), high_needs_chart(rows)
        assert [b.label for b in deficit.bars] == ["2021-22", "2022-23", "2023-24", "2024-25"]
        assert [b.known for b in deficit.bars] == [True, False, False, False]
        assert [b.known for b in high_needs.bars] == [False, False, False, True]


class TestChartTemplate:
    def render(self, chart, **context):
        return render_to_string("includes/chart.html", {"chart": chart, **context})

    def test_the_picture_is_named_by_its_title_and_summary(self):
        html = self.render(money_chart(["-1200000", None, "3100000"]))
        assert 'role="img" aria-labelledby="chart-title chart-summary"' in html
        assert 'id="chart-title"' in html
        assert 'id="chart-summary"' in html
        assert "<details" in html  # the table, one click away
        assert ">£1.2m surplus</tspan></text>" in html
        assert html.count('<rect class="app-chart__bar') == 2  # no bar for the gap
        assert "Not known" in html

    def test_the_briefing_shows_the_table_as_it_is(self):
        html = self.render(money_chart(["1"]), table_open=True)
        assert "<details" not in html
        assert '<table class="govuk-table app-chart__table">' in html

    def test_nothing_to_draw(self):
        html = self.render(money_chart([None]))
        assert "<svg" not in html
        assert "<table" not in html
        assert "No figures for the DSG deficit are known yet." in html
