"""Official figures beside members' reports: on the checklist's questions
about refusals, gatekeeping and waits, the authority's figures beside its
region and England, each linkable as evidence in one click, the link
naming its release and surviving the figures being loaded again."""

import csv
import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from authorities.caching import data_changed
from feedback.models import FeedbackSubmission
from official.models import Figure, Level, Period, Release, Status
from plans.models import Answer, EvidenceLink
from plans.services import assessment_for

from .factories import CAMDEN, KENT, authority, make_plan
from .test_official import DATA, DSG, REQUESTS, TIMELINESS, load
from .vnu import html_errors

pytestmark = pytest.mark.django_db

REFUSALS = "request_not_assess_pc"
TWENTY_WEEKS = "pc_plans_issued_within_20_weeks"
KEY = "refusing-initial-applications"


def release(title="Education, health and care plans, reporting year 2025", **fields):
    fields.setdefault("file_name", "requests.csv")
    fields.setdefault("publisher", "Department for Education")
    fields.setdefault("source_url", "https://explore-education-statistics.service.gov.uk/")
    return Release.objects.create(title=title, **fields)


def figures(measure, period, *, la_code=None, region=None, england=None, values=None, source):
    """England's, a region's (by name) and authorities' ({la_code: value})
    figures for one measure and year: a value, or a Status for a symbol."""
    rows = []

    def row(level, code, name, value, **place):
        known = not isinstance(value, Status)
        rows.append(
            Figure(
                release=source,
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
        )

    if england is not None:
        row(Level.NATIONAL, "E92000001", "England", england)
    if region is not None:
        name, value = region
        place = authority(CAMDEN).region.__class__.objects.get(name=name)
        row(Level.REGIONAL, name, name, value, region=place)
    for code, value in (values or {}).items():
        place = authority(code)
        row(Level.LOCAL_AUTHORITY, code, place.name, value, authority=place)
    Figure.objects.bulk_create(rows)
    data_changed()  # as official/importing.py says after its bulk insert


def answer_url(plan, key=KEY):
    return reverse("plans:answer", kwargs={"pk": plan.pk, "key": key})


def link_url(plan, trend="official-refusals", period="2024", key=KEY):
    return reverse(
        "official:link_evidence",
        kwargs={"pk": plan.pk, "key": key, "trend": trend, "period": period},
    )


def answer(plan, key=KEY):
    assessment = assessment_for(plan)
    question = assessment.question_set.questions.get(key=key)
    return Answer.objects.create(
        assessment=assessment, question=question, response="partly", concern="some"
    )


def words(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def plan(reference_data):
    return make_plan(CAMDEN)


@pytest.fixture
def requests_2024(reference_data):
    source = release()
    figures(
        REFUSALS,
        "2024",
        england="25.3",
        region=("London", "21.7"),
        values={CAMDEN: "30.2", KENT: Status.SUPPRESSED},
        source=source,
    )
    figures(
        REFUSALS,
        "2023",
        england="24.1",
        region=("London", "20.0"),
        values={CAMDEN: "18.5"},
        source=source,
    )
    return source


class TestTheAnswerPage:
    def test_a_refusals_question_shows_the_figures_beside_region_and_england(
        self, camden_lns_client, plan, requests_2024
    ):
        answer(plan)
        page = words(camden_lns_client.get(answer_url(plan)))
        assert "Official figures for Camden" in page
        assert "2024 30.2% 21.7% 25.3%" in page
        assert "2023 Break in the series 18.5% 20% 24.1%" in page
        assert "Education, health and care plans, reporting year 2025" in page
        assert link_url(plan) in camden_lns_client.get(answer_url(plan)).content.decode()

    def test_without_an_answer_it_says_answer_first(self, camden_lns_client, plan, requests_2024):
        response = camden_lns_client.get(answer_url(plan))
        assert "Answer the question first: a figure can then be linked" in words(response)
        assert link_url(plan) not in response.content.decode()

    def test_readers_see_the_figures_without_a_button(
        self, client_for, camden_senco_lead, plan, requests_2024
    ):
        answer(plan)
        response = client_for(camden_senco_lead).get(answer_url(plan))
        assert "2024 30.2% 21.7% 25.3%" in words(response)
        assert link_url(plan) not in response.content.decode()

    def test_other_questions_show_none_and_ask_nothing_more(
        self, camden_lns_client, plan, requests_2024, django_assert_num_queries
    ):
        response = camden_lns_client.get(answer_url(plan, "cuts-not-efficiency"))
        assert "Official figures for" not in words(response)
        # As tests/test_checklist.py pins it before the first answer.
        with django_assert_num_queries(7):
            camden_lns_client.get(answer_url(plan, "cuts-not-efficiency"))
        # One more on a question they bear on: the figures, whatever is loaded.
        with django_assert_num_queries(8):
            camden_lns_client.get(answer_url(plan))


class TestLinking:
    def test_a_figure_is_linked_in_one_click_once_naming_its_release(
        self, client_for, london_organiser, plan, requests_2024
    ):
        mine = answer(plan)
        client = client_for(london_organiser)
        response = client.post(link_url(plan))
        assert response["Location"].endswith("#links")
        link = EvidenceLink.objects.get(answer=mine)
        assert link.url == requests_2024.source_url
        assert link.title == (
            "Requests for an assessment refused, Camden, 2024: 30.2% "
            "(London 21.7%; England 25.3%). Source: Department for Education, "
            "Education, health and care plans, reporting year 2025"
        )
        assert link.location == "requests.csv, 2024"
        assert link.added_by == london_organiser
        client.post(link_url(plan))
        assert EvidenceLink.objects.filter(answer=mine).count() == 1
        page = words(client.get(answer_url(plan)))
        assert "Requests for an assessment refused, Camden, 2024: 30.2%" in page

    def test_the_tribunal_rate_names_no_region(self, camden_lns_client, plan, reference_data):
        source = release(
            "Education, health and care plans, reporting year 2025: SEND Tribunal appeal rate",
            file_name="send-tribunal-appeal-rate-2014-2024.csv",
            publisher="Ministry of Justice and Department for Education",
        )
        figures("appeal_rate", "2024", england="2.5", values={CAMDEN: "3.1"}, source=source)
        mine = answer(plan)
        camden_lns_client.post(link_url(plan, "official-tribunal"))
        link = EvidenceLink.objects.get(answer=mine)
        assert "SEND Tribunal appeal rate, Camden, 2024: 3.1% (England 2.5%)" in link.title
        assert link.location == "send-tribunal-appeal-rate-2014-2024.csv, 2024"

    def test_without_an_answer_nothing_is_linked(self, camden_lns_client, plan, requests_2024):
        response = camden_lns_client.post(link_url(plan), follow=True)
        assert "Answer the question first" in words(response)
        assert not EvidenceLink.objects.exists()

    @pytest.mark.parametrize(
        "where",
        [
            {"period": "2019"},  # no figure that year
            {"trend": "official-20-weeks"},  # not offered on this question
            {"key": "cuts-not-efficiency"},  # a question they do not bear on
            {"trend": "no-such-thing"},
        ],
    )
    def test_only_what_is_offered_can_be_linked(
        self, camden_lns_client, plan, requests_2024, where
    ):
        answer(plan)
        assert camden_lns_client.post(link_url(plan, **where)).status_code == 404
        assert not EvidenceLink.objects.exists()

    def test_a_suppressed_figure_is_not_offered(self, client_for, kent_lns, requests_2024):
        kent_lns_client = client_for(kent_lns)
        kent_plan = make_plan(KENT)
        answer(kent_plan)
        page = kent_lns_client.get(answer_url(kent_plan))
        assert "2024 Suppressed Not available 25.3%" in words(page)
        assert link_url(kent_plan) not in page.content.decode()
        assert kent_lns_client.post(link_url(kent_plan)).status_code == 404

    def test_out_of_scope_is_not_found_and_readers_may_not(
        self, client_for, kent_lns, camden_senco_lead, plan, requests_2024
    ):
        answer(plan)
        assert client_for(kent_lns).post(link_url(plan)).status_code == 404
        assert client_for(camden_senco_lead).post(link_url(plan)).status_code == 403
        assert not EvidenceLink.objects.exists()


def test_the_evidence_outlives_loading_the_release_again_and_a_newer_one(
    camden_lns_client, plan, tmp_path
):
    load(REQUESTS)
    mine = answer(plan)
    camden_lns_client.post(link_url(plan))
    link = EvidenceLink.objects.get(answer=mine)
    shown = Figure.objects.get(authority__la_code=CAMDEN, measure=REFUSALS, period="2024")
    assert f"Camden, 2024: {shown.value.normalize():f}%" in link.title
    assert "reporting year 2025" in link.title

    load(REQUESTS)  # the same release again: nothing changes
    assert list(EvidenceLink.objects.values_list("title", "url")) == [(link.title, link.url)]

    # A later release gives a different figure for the same year: the
    # stored figure is replaced, and the evidence still says what was
    # linked, and where it was published.
    with open(DATA / REQUESTS, encoding="utf-8-sig", newline="") as published:
        rows = list(csv.reader(published))
    column = rows[0].index(REFUSALS)
    for row in rows:
        if row[0] == "2024" and CAMDEN in row:
            row[column] = "99.9"
    newer = tmp_path / REQUESTS
    with open(newer, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    load(
        str(newer),
        release="Education, health and care plans, reporting year 2026",
        source_url="https://explore-education-statistics.service.gov.uk/2026",
    )
    shown.refresh_from_db()
    assert shown.value == Decimal("99.9")
    assert shown.release.title.endswith("2026")
    assert list(EvidenceLink.objects.values_list("title", "url")) == [(link.title, link.url)]
    assert link.title in words(camden_lns_client.get(answer_url(plan)))


# Beside members' median wait ---------------------------------------------------


def test_the_feedback_figures_show_the_20_week_rate_beside_members_wait(
    camden_lns_client, reference_data
):
    FeedbackSubmission.objects.bulk_create(
        FeedbackSubmission(
            authority=authority(CAMDEN),
            source="member",
            people_count=1,
            meeting_date=timezone.localdate(),
            health_care_costs="no",
            assessment_wait_weeks=29,
        )
        for _ in range(5)
    )
    source = release(file_name="timeliness_20_week.csv")
    for year, camden in [("2023", "41"), ("2024", "38.3")]:
        figures(
            TWENTY_WEEKS,
            year,
            england="46.4",
            region=("London", "55"),
            values={CAMDEN: camden},
            source=source,
        )
    page = words(camden_lns_client.get(reverse("dashboards:authority", args=["camden"])))
    feedback = page[page.index("Feedback from schools") :]
    assert "Wait for an EHC needs assessment 29 weeks" in feedback
    assert (
        "Official: EHC plans issued within 20 weeks, 2024 38.3% in Camden "
        "(London 55%; England 46.4%)"
    ) in feedback
    assert "The official measure closest to members' median wait" in feedback
    briefing = words(camden_lns_client.get(reverse("dashboards:briefing", args=["camden"])))
    assert "Official: EHC plans issued within 20 weeks, 2024 38.3% in Camden" in briefing


def test_with_no_official_figure_the_feedback_figures_say_nothing_of_it(
    camden_lns_client, reference_data
):
    FeedbackSubmission.objects.create(
        authority=authority(CAMDEN),
        source="member",
        people_count=1,
        meeting_date=timezone.localdate(),
        health_care_costs="no",
        assessment_wait_weeks=29,
    )
    page = words(camden_lns_client.get(reverse("dashboards:authority", args=["camden"])))
    assert "Feedback from schools" in page
    assert "Official: EHC plans issued within 20 weeks" not in page


def test_each_release_says_when_it_was_published_as_exactly_as_known(
    national_officer_client, reference_data
):
    load(DSG, TIMELINESS)
    timeliness = Release.objects.get(file_name=TIMELINESS)
    # The source dates the SEN2 release only to the month.
    assert (timeliness.published, timeliness.published_label) == (
        datetime.date(2025, 6, 1),
        "June 2025",
    )
    assert Release.objects.get(file_name=DSG).published is None
    page = words(national_officer_client.get(reverse("dashboards:authority", args=["camden"])))
    assert "Department for Education, published June 2025 (file timeliness_20_week.csv" in page
    assert "publication date not recorded (file dsg-cumulative-balance-pc-2019-2023.csv" in page


def test_the_pages_with_official_figures_are_valid_html(
    camden_lns_client, london_organiser, client_for, plan, requests_2024
):
    """The crawl (tests/browser/test_crawl.py) opens one checklist question,
    not one these figures are on, and finds no similar authorities with
    nothing loaded: these are checked here."""
    answer(plan)
    place_figures = {
        "mainstream_total_pc": ("202425", Period.ACADEMIC, {CAMDEN: "40", KENT: "41"}),
        "special_total_pc": ("202425", Period.ACADEMIC, {CAMDEN: "40", KENT: "39"}),
        "dsg_cumulative_balance_pc": ("202122", Period.FINANCIAL, {CAMDEN: "-5", KENT: "2"}),
    }
    for measure, (period, kind, values) in place_figures.items():
        figures(measure, period, values=values, source=requests_2024)
        Figure.objects.filter(measure=measure).update(period_type=kind)
    pages = {
        "the answer page": camden_lns_client.get(answer_url(plan)).content,
        "the authority page": client_for(london_organiser)
        .get(reverse("dashboards:authority", args=["camden"]))
        .content,
    }
    assert 'id="similar"' in pages["the authority page"].decode()
    assert "Kent" in pages["the authority page"].decode()
    assert html_errors(pages) == []
