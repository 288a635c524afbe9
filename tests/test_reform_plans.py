"""Local SEND reform plans (2026): the DfE's stages and rating, the plan's
aims and proposals, the High Needs Stability Grant as a ledger, and the
national timeline ("What comes next")."""

import datetime
import html
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from authorities import caching
from plans.management.commands.load_timeline import DATA_FILE
from plans.models import (
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    ReformPlanDetails,
    TimelineEntry,
    written_off_part,
)
from plans.services import revise_plan

from .browsing import form_fields, resubmit
from .factories import CAMDEN, make_plan

SHARED_TIMELINE = Path(__file__).resolve().parents[2] / "shared" / "data" / "national_timeline.csv"


def text(response):
    """The page's words, tags stripped, entities read and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def reform_plan(camden):
    return make_plan(CAMDEN, "send-reform", round_or_tranche="2026", status="negotiating")


def reform_url(plan):
    return reverse("plans:reform_edit", args=[plan.pk])


def grant_url(plan):
    return reverse("plans:grant_edit", args=[plan.pk])


# Recording Camden's reform plan, from draft to approval ----------------------


def test_camden_records_its_reform_plan_from_draft_to_approval(camden_lns_client, camden):
    client = camden_lns_client
    # The plan itself, under the 2026 programme.
    added = resubmit(
        client,
        reverse("plans:add", args=["camden"]),
        programme=str(Programme.objects.get(code="send-reform").pk),
        round_or_tranche="2026",
        status="negotiating",
    )
    assert added.status_code == 302
    plan = Plan.objects.get(authority=camden, programme__code="send-reform")
    page = text(client.get(plan.get_absolute_url()))
    assert "The reform plan" in page
    assert "not recorded yet" in page
    assert "No grant recorded" in page

    # A draft shared with the DfE: the first save creates the details.
    saved = resubmit(
        client,
        reform_url(plan),
        stage="draft_shared",
        started_on="2026-01-12",
        draft_shared_on="2026-04-30",
        health_partner="NHS North Central London ICB",
        signed_by="Director of Children's Services; ICB Director of Nursing",
        aim_early="Speech and language support in every early years setting.",
        aim_shared="A partnership board with schools and the parent carer forum.",
    )
    assert saved.status_code == 302
    assert saved["Location"] == plan.get_absolute_url() + "#reform"
    details = ReformPlanDetails.objects.get(plan=plan)
    assert (details.stage, details.version) == ("draft_shared", 1)

    # Feedback, submission, then approval with the DfE's rating, and the
    # proposals with their evidence.
    assert resubmit(client, reform_url(plan), stage="feedback", feedback_on="2026-06-19")
    assert resubmit(client, reform_url(plan), stage="submitted", submitted_on="2026-07-31")
    approved = resubmit(
        client,
        reform_url(plan),
        stage="approved",
        decided_on="2026-09-04",
        rating="met",
        rated_on="2026-09-04",
        rating_source_url="https://democracy.camden.gov.uk/cabinet/2026-09-reform.pdf",
        special_school_capacity="hold",
        special_school_places_change="0",
        ap_capacity="reduce",
        ap_places_change="-30",
        capacity_evidence="Plan, section 4, page 18.",
        mainstream_investment="£2,400,000",
        mainstream_investment_evidence="Inclusion fund, page 21.",
        isp_readiness="resourced",
        isp_evidence="Two days' SENCO release a term for ISPs (page 23).",
    )
    assert approved.status_code == 302
    details.refresh_from_db()
    assert details.stage == ReformPlanDetails.Stage.APPROVED
    assert details.rating == ReformPlanDetails.Rating.MET
    assert details.ap_places_change == -30
    assert details.mainstream_investment == Decimal("2400000")
    assert details.version == 4
    assert details.history.count() == 4

    # The grant: its eligible deficit, which figure, the authority's 10%.
    granted = resubmit(
        client,
        grant_url(plan),
        eligible_deficit="£41,250,000",
        deficit_figure="s251",
        deficit_source_url="https://democracy.camden.gov.uk/forum/2026-05-dsg.pdf",
        remaining_plan="From reserves over three years.",
        due_on="2026-10-30",
        conditions="Paid only if the DfE approves the reform plan.",
    )
    assert granted.status_code == 302
    grant = HighNeedsStabilityGrant.objects.get(plan=plan)
    assert grant.written_off == Decimal("37125000.00")
    assert grant.remaining == Decimal("4125000.00")
    # Paid in full: the amount paid is the 90%, not typed.
    assert resubmit(client, grant_url(plan), status="paid", paid_on="2026-11-06")
    grant.refresh_from_db()
    assert (grant.status, grant.amount_paid) == ("paid", Decimal("37125000.00"))

    page = text(client.get(plan.get_absolute_url()))
    for shown in (
        "Approved",
        "Submitted: 31 July 2026",
        "Meets requirements on 4 September 2026",
        "NHS North Central London ICB",
        "Speech and language support in every early years setting.",
        "Reduce (-30 places)",
        "£2,400,000",
        "Written off (90%) £37,125,000",
        "Left to the authority (10%) £4,125,000",
        "How it says it will meet it: From reserves over three years.",
        "Paid in full £37,125,000 paid on 6 November 2026",
    ):
        assert shown in page
    # Its history lists the reform plan's and the grant's changes.
    history = text(client.get(reverse("plans:history", args=[plan.pk])))
    assert "Reform plan" in history
    assert "High Needs Stability Grant" in history


def test_the_authority_page_shows_the_sv_ledger_and_the_grant(camden_lns_client, reform_plan):
    sv = make_plan(CAMDEN, "sv", round_or_tranche="2022-23")
    FundingInstalment.objects.create(
        plan=sv, financial_year=2024, amount=Decimal("5000000"), status="withheld"
    )
    HighNeedsStabilityGrant.objects.create(
        plan=reform_plan, eligible_deficit=Decimal("10000000"), status="withheld"
    )
    page = text(camden_lns_client.get(reverse("dashboards:authority", args=["camden"])))
    assert "£5,000,000 promised, £0 paid, £5,000,000 withheld" in page
    assert "High Needs Stability Grant £9,000,000 to be written off (90% of £10,000,000)" in page


def test_only_a_reform_plan_has_reform_details_or_a_grant(camden_lns_client, camden):
    sv = make_plan(CAMDEN, "sv")
    assert camden_lns_client.get(reform_url(sv)).status_code == 404
    assert camden_lns_client.get(grant_url(sv)).status_code == 404
    page = text(camden_lns_client.get(sv.get_absolute_url()))
    assert "The reform plan" not in page
    assert "High Needs Stability Grant" not in page


def test_a_reader_may_not_record_a_reform_plan(client_for, camden_senco_lead, reform_plan):
    client = client_for(camden_senco_lead)
    assert client.post(reform_url(reform_plan), {"stage": "submitted"}).status_code == 403
    assert not ReformPlanDetails.objects.exists()


def test_the_dates_keep_to_the_order_of_the_stages(camden_lns_client, reform_plan):
    response = resubmit(
        camden_lns_client,
        reform_url(reform_plan),
        stage="submitted",
        draft_shared_on="2026-05-01",
        submitted_on="2026-04-01",
    )
    assert response.status_code == 200
    assert "“Submitted” cannot be before “Draft shared with the DfE”" in text(response)
    assert not ReformPlanDetails.objects.exists()


def test_an_approved_plan_is_not_rated_requirements_not_met(camden_lns_client, reform_plan):
    response = resubmit(
        camden_lns_client, reform_url(reform_plan), stage="approved", rating="requirements_not_met"
    )
    assert response.status_code == 200
    assert "An approved plan cannot be rated" in text(response)


# Nothing overwritten --------------------------------------------------------


def test_a_stale_save_of_the_reform_plan_is_refused(
    camden_lns_client, national_officer_client, reform_plan
):
    ReformPlanDetails.objects.create(plan=reform_plan, stage="draft_shared")
    opened = form_fields(camden_lns_client.get(reform_url(reform_plan)).content)
    resubmit(national_officer_client, reform_url(reform_plan), stage="submitted")

    stale = camden_lns_client.post(reform_url(reform_plan), opened | {"stage": "feedback"})

    assert stale.status_code == 409
    page = text(stale)
    assert "Someone else changed this reform plan while you were editing it" in page
    assert "Stage with the DfE is now “Submitted” (it was “Draft shared with the DfE”)" in page
    assert ReformPlanDetails.objects.get(plan=reform_plan).stage == "submitted"
    # Saving again, having seen theirs, replaces it knowingly.
    again = camden_lns_client.post(reform_url(reform_plan), form_fields(stale.content))
    assert again.status_code == 302
    assert ReformPlanDetails.objects.get(plan=reform_plan).stage == "feedback"


def test_two_first_saves_of_the_grant_make_one_and_refuse_the_other(
    camden_lns_client, national_officer_client, reform_plan
):
    opened = form_fields(camden_lns_client.get(grant_url(reform_plan)).content)
    assert opened["base_version"] == "0"
    resubmit(national_officer_client, grant_url(reform_plan), eligible_deficit="1000000")

    stale = camden_lns_client.post(grant_url(reform_plan), opened | {"eligible_deficit": "2"})

    assert stale.status_code == 409
    assert "Someone else changed this grant" in text(stale)
    grant = HighNeedsStabilityGrant.objects.get(plan=reform_plan)
    assert grant.eligible_deficit == Decimal("1000000")


def test_saving_the_grant_unchanged_writes_nothing(camden_lns_client, reform_plan, page_cache):
    grant = HighNeedsStabilityGrant.objects.create(
        plan=reform_plan, eligible_deficit=Decimal("1000000.50"), status="due"
    )
    before = caching.data_version()
    response = resubmit(camden_lns_client, grant_url(reform_plan))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.version == 1
    assert grant.history.count() == 1
    assert caching.data_version() == before


# The 90% is worked out -------------------------------------------------------


@pytest.mark.parametrize(
    ("deficit", "written_off", "remaining"),
    [
        ("41250000", "37125000.00", "4125000.00"),
        ("1000000.05", "900000.05", "100000.00"),  # 900,000.045: half a penny up
        ("0.01", "0.01", "0.00"),
        ("0", "0.00", "0.00"),
    ],
)
def test_ninety_per_cent_is_written_off(deficit, written_off, remaining):
    grant = HighNeedsStabilityGrant(eligible_deficit=Decimal(deficit))
    assert grant.written_off == Decimal(written_off)
    assert grant.remaining == Decimal(remaining)
    assert grant.written_off + grant.remaining == Decimal(deficit)


def test_nothing_is_written_off_when_the_deficit_is_not_known():
    assert written_off_part(None) is None
    assert HighNeedsStabilityGrant().remaining is None


def test_the_written_off_amount_cannot_be_typed(camden_lns_client, reform_plan):
    resubmit(camden_lns_client, grant_url(reform_plan), eligible_deficit="100", written_off="99")
    assert HighNeedsStabilityGrant.objects.get(plan=reform_plan).written_off == Decimal("90.00")


@pytest.mark.parametrize(
    ("status", "paid", "error"),
    [
        ("reduced", "90", "A reduced payment must be less than the 90% written off"),
        ("reduced", "", "Enter how much was paid"),
        ("paid", "95", "The amount paid cannot be more than the 90% written off"),
        ("withheld", "10", "Leave the amount paid empty for a payment not made"),
    ],
)
def test_the_payment_agrees_with_its_status(camden_lns_client, reform_plan, status, paid, error):
    response = resubmit(
        camden_lns_client,
        grant_url(reform_plan),
        eligible_deficit="100",
        status=status,
        amount_paid=paid,
    )
    assert response.status_code == 200
    assert error in text(response)
    assert not HighNeedsStabilityGrant.objects.exists()


def test_a_revised_reform_plan_takes_its_details_and_grant(camden_lns, reform_plan):
    ReformPlanDetails.objects.create(
        plan=reform_plan, stage="requirements_not_met", rating="requirements_not_met"
    )
    grant = HighNeedsStabilityGrant.objects.create(
        plan=reform_plan, eligible_deficit=Decimal("1000"), status="withheld"
    )
    revision = revise_plan(plan=reform_plan, user=camden_lns)
    assert revision.reform.rating == "requirements_not_met"
    assert reform_plan.reform.pk != revision.reform.pk  # a copy: each keeps its own
    grant.refresh_from_db()
    assert grant.plan == revision  # moved, counted once
    assert grant.version == 2


# The national timeline -------------------------------------------------------


def load_timeline(**options):
    out = StringIO()
    call_command("load_timeline", stdout=out, **options)
    return out.getvalue()


def test_the_timeline_loads_idempotently(db):
    assert "14 created, 0 updated, 0 unchanged, 0 removed" in load_timeline()
    stored = list(TimelineEntry.objects.values_list("pk", "date", "event", "verified"))
    assert "0 created, 0 updated, 14 unchanged, 0 removed" in load_timeline()
    assert list(TimelineEntry.objects.values_list("pk", "date", "event", "verified")) == stored
    unverified = TimelineEntry.objects.filter(verified=False).count()
    assert unverified == 3


def test_the_project_copy_of_the_timeline_is_the_shared_file():
    if not SHARED_TIMELINE.exists():
        pytest.skip("No ../shared checkout beside the project")
    assert DATA_FILE.read_text(encoding="utf-8") == SHARED_TIMELINE.read_text(encoding="utf-8")


def test_the_timeline_follows_its_file(db, tmp_path):
    load_timeline()
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    # The grant's row now verified, the last row gone.
    grant_row = next(i for i, row in enumerate(rows) if row.startswith("2026-10-01"))
    rows[grant_row] = rows[grant_row].replace(",no,", ",yes,")
    changed = tmp_path / "timeline.csv"
    changed.write_text("\n".join([header, *rows[:-1]]) + "\n", encoding="utf-8")

    assert "0 created, 1 updated, 12 unchanged, 1 removed" in load_timeline(file=changed)
    assert TimelineEntry.objects.get(date=datetime.date(2026, 10, 1)).verified
    assert not TimelineEntry.objects.filter(date=datetime.date(2029, 9, 1)).exists()


def test_a_bad_timeline_changes_nothing(db, tmp_path):
    load_timeline()
    bad = tmp_path / "timeline.csv"
    good = DATA_FILE.read_text(encoding="utf-8")
    bad.write_text(good.replace("2028-03-31,day", "2028-03-31,fortnight"), encoding="utf-8")
    with pytest.raises(CommandError, match="line 14: precision"):
        load_timeline(file=bad)
    assert TimelineEntry.objects.count() == 14


@pytest.mark.parametrize(
    ("precision", "when"),
    [
        ("day", "9 March 2026"),
        ("month", "March 2026"),
        ("approximate", "around March 2026"),
        ("year", "2026"),
    ],
)
def test_a_date_is_shown_as_exactly_as_it_is_known(precision, when):
    entry = TimelineEntry(date=datetime.date(2026, 3, 9), precision=precision)
    assert entry.when == when


def entry(days, event, *, precision="day", verified=True):
    return TimelineEntry.objects.create(
        date=timezone.localdate() + datetime.timedelta(days=days),
        precision=precision,
        kind="funding",
        event=event,
        source_url="https://www.gov.uk/",
        verified=verified,
    )


def test_what_comes_next_is_the_next_three_dates_with_unverified_ones_marked(
    camden_lns_client, reform_plan
):
    entry(-40, "Long past")
    entry(30, "Grant paid", verified=False)
    entry(60, "Consultation closes")
    entry(400, "Override ends")
    entry(800, "ISPs required")
    for url in (reform_plan.get_absolute_url(), reverse("home")):
        page = text(camden_lns_client.get(url))
        coming = page[page.index("What comes next") :]
        assert "Long past" not in coming
        assert "ISPs required" not in coming
        assert re.search(r"Not verified\s*:\s*Grant paid", coming)
        assert not re.search(r"Not verified\s*:\s*Consultation closes", coming)
        assert coming.index("Grant paid") < coming.index("Consultation closes")
        assert "Override ends" in coming


def test_a_month_not_yet_over_is_still_to_come(db):
    for precision, event in (("month", "In March"), ("day", "On 1 March")):
        TimelineEntry.objects.create(
            date=datetime.date(2026, 3, 1),
            precision=precision,
            kind="policy",
            event=event,
            source_url="https://www.gov.uk/",
        )
    coming = TimelineEntry.objects.coming_up(datetime.date(2026, 3, 15))
    assert [e.event for e in coming] == ["In March"]


def test_loading_the_timeline_makes_cached_pages_old(db, page_cache):
    before = caching.data_version()
    load_timeline()
    assert caching.data_version() != before


# Demo data --------------------------------------------------------------------


def test_make_run_shows_reform_plans_in_several_states(settings, reference_data):
    settings.DEBUG = True
    call_command("create_demo_reform_plans", stdout=StringIO())
    call_command("create_demo_reform_plans", stdout=StringIO())
    plans = Plan.objects.filter(programme__code="send-reform")
    assert plans.count() == 6
    stages = set(ReformPlanDetails.objects.values_list("stage", flat=True))
    assert {"started", "feedback", "submitted", "approved", "requirements_not_met"} <= stages
    statuses = set(HighNeedsStabilityGrant.objects.values_list("status", flat=True))
    assert statuses == {"due", "paid", "withheld"}
    assert not plans.filter(verified=True).exists()
    # Every demo grant and plan is valid as its form would have it.
    for grant in HighNeedsStabilityGrant.objects.all():
        grant.full_clean()
    for details in ReformPlanDetails.objects.all():
        details.full_clean()


def test_demo_reform_plans_are_never_made_in_production(settings, reference_data):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local use only"):
        call_command("create_demo_reform_plans", stdout=StringIO())
    assert not Plan.objects.filter(programme__code="send-reform").exists()


# Query counts ----------------------------------------------------------------

# As an SV plan's page (tests/test_plans.py), whose other rows are none here
# (with no checklist yet, the latest question bank is read instead),
# with the reform plan's details and grant read with the plan, and their
# history one query each.
REFORM_PLAN_PAGE_QUERIES = 15


@pytest.mark.parametrize("changes", [1, 12])
def test_the_reform_plan_page_is_pinned(
    camden_lns_client, reform_plan, django_assert_num_queries, changes
):
    details = ReformPlanDetails.objects.create(plan=reform_plan)
    grant = HighNeedsStabilityGrant.objects.create(plan=reform_plan, eligible_deficit=100)
    for n in range(changes):
        details.health_partner = f"ICB {n}"
        details.save()
        grant.note = f"Note {n}"
        grant.save()
    load_timeline()
    camden_lns_client.get(reform_plan.get_absolute_url())  # the session's first request
    with django_assert_num_queries(REFORM_PLAN_PAGE_QUERIES):
        response = camden_lns_client.get(reform_plan.get_absolute_url())
    assert f"ICB {changes - 1}" in text(response)
