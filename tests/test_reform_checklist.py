"""The union's checklist for local SEND reform plans (the question bank's
reform questions, asked of reform plans alone), where SV and DBV stand since
the change (from the programmes' data), and the briefing pack and "What
changed" for reform plans."""

import csv
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from plans.models import (
    REFORM_DEADLINE_EVENT,
    Answer,
    HighNeedsStabilityGrant,
    Programme,
    QuestionSet,
    ReformPlanDetails,
    TimelineEntry,
)
from plans.services import revise_plan

from .factories import CAMDEN, checklist_questions, make_plan
from .test_reform_plans import text
from .vnu import html_errors

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "plans" / "data"
# Asked of reform plans alone, and of SV, DBV and ESFA plans alone.
REFORM_ONLY = "reform-ten-percent"
BEFORE_2026_ONLY = "dbv-diagnostic-engagement"


@pytest.fixture
def reform_plan(camden):
    return make_plan(CAMDEN, "send-reform", round_or_tranche="2026", status="negotiating")


@pytest.fixture
def sv_plan(camden):
    return make_plan(CAMDEN)


def answer_url(plan, key):
    return reverse("plans:answer", kwargs={"pk": plan.pk, "key": key})


def answer(client, plan, key, **fields):
    data = {"response": "no", "concern": "serious", "evidence": "Draft plan, page 9."}
    data.update(fields)
    response = client.post(answer_url(plan, key), {"base_version": "0", **data})
    assert response.status_code == 302, response.content.decode()[:2000]


# The question bank ---------------------------------------------------------------


def test_the_reform_questions_apply_the_briefings_tests_to_the_reform():
    with (DATA / "checklist.csv").open(encoding="utf-8") as handle:
        rows = {row["key"]: row for row in csv.DictReader(handle)}
    reform = {key: row for key, row in rows.items() if row["programmes"] == "send-reform"}
    # ISPs, special school and AP places, Experts at Hand, the Inclusive
    # Mainstream Fund, the 10%, health's share, the union consulted.
    assert set(reform) == {
        "reform-isp-who-writes",
        "reform-isp-time-training",
        "reform-special-ap-capacity",
        "reform-experts-at-hand",
        "reform-inclusive-mainstream-fund",
        "reform-ten-percent",
        "reform-health-share",
        "reform-union-consulted",
    }
    with (DATA / "national_timeline.csv").open(encoding="utf-8") as handle:
        sources = {row["source_url"] for row in csv.DictReader(handle)}
    for key, row in reform.items():
        guidance = row["guidance"]
        # Each quotes the briefing or its source, and names a source the
        # national timeline gives.
        assert "'" in guidance, key
        assert any(source in guidance for source in sources), key


def test_the_reform_bank_is_loaded_once_and_carries_the_old_keys(reference_data):
    bank = QuestionSet.objects.latest_version()
    keys = set(bank.questions.values_list("key", flat=True))
    assert {"cuts-not-efficiency", "no-cuts-to-services", REFORM_ONLY} <= keys
    out = StringIO()
    call_command("load_programmes", stdout=out)
    assert f"Checklist: version {bank.version} unchanged (45 questions)" in out.getvalue()
    reform = bank.questions.get(key=REFORM_ONLY)
    assert [p.code for p in reform.programmes.all()] == ["send-reform"]
    assert not bank.questions.get(key="cuts-not-efficiency").programmes.exists()


def test_a_question_naming_an_unknown_programme_is_refused(reference_data, monkeypatch, tmp_path):
    changed = tmp_path / "data"
    changed.mkdir()
    for name in ("programme_types.csv", "recommendations.csv", "known_plans.csv"):
        (changed / name).write_text((DATA / name).read_text())
    checklist = (DATA / "checklist.csv").read_text()
    (changed / "checklist.csv").write_text(
        checklist.replace(",send-reform\n", ",send-reforms\n", 1)
    )
    monkeypatch.setattr("plans.management.commands.load_programmes.DATA_DIR", changed)
    with pytest.raises(CommandError, match=r"line 39: unknown programme 'send-reforms'"):
        call_command("load_programmes", stdout=StringIO())
    assert QuestionSet.objects.count() == 1


def test_each_programme_is_asked_its_own_questions(reference_data):
    reform = checklist_questions("send-reform")
    sv = checklist_questions("sv")
    assert (sv.count(), reform.count()) == (37, 42)
    assert not sv.filter(key__startswith="reform-").exists()
    assert reform.filter(key__startswith="reform-").count() == 8
    assert not reform.filter(key=BEFORE_2026_ONLY).exists()


# Through the pages ------------------------------------------------------------------


def test_a_reform_plans_checklist_lists_only_its_questions(camden_lns_client, reform_plan):
    page = text(camden_lns_client.get(reform_plan.get_absolute_url()))
    assert "0 of 42" in page
    assert "Who will write and review Individual Support Plans (ISPs)" in page
    assert "How will the authority meet the 10% of its deficit the grant leaves it" in page
    assert "For DBV, were stakeholders engaged during the diagnostic phase?" not in page
    assert "How much extra funding does the authority receive through SV or DBV?" not in page


def test_an_sv_plans_checklist_has_no_reform_questions(camden_lns_client, sv_plan):
    page = text(camden_lns_client.get(sv_plan.get_absolute_url()))
    assert "0 of 37" in page
    assert "Individual Support Plans" not in page
    assert "For DBV, were stakeholders engaged during the diagnostic phase?" in page


def test_a_question_not_asked_of_the_plan_is_not_found(camden_lns_client, sv_plan, reform_plan):
    assert camden_lns_client.get(answer_url(sv_plan, REFORM_ONLY)).status_code == 404
    assert camden_lns_client.get(answer_url(reform_plan, BEFORE_2026_ONLY)).status_code == 404
    response = camden_lns_client.post(
        answer_url(sv_plan, REFORM_ONLY),
        {"base_version": "0", "response": "no", "concern": "serious"},
    )
    assert response.status_code == 404
    assert not Answer.objects.exists()


def test_a_reform_question_shows_its_guidance_and_goes_on_among_its_own(
    camden_lns_client, reform_plan
):
    page = text(camden_lns_client.get(answer_url(reform_plan, REFORM_ONLY)))
    assert "How will the authority meet the 10% of its deficit" in page
    assert "90% of high-needs deficits built up to the end of 2025-26 are written off" in page
    # The 34 questions every plan is asked, then the reform questions.
    assert "Question 40 of 42" in page
    # Answered and moved on: the next question is the reform plan's next.
    response = camden_lns_client.post(
        answer_url(reform_plan, REFORM_ONLY),
        {"base_version": "0", "response": "not_known", "concern": "some", "next": "1"},
    )
    assert response.url == answer_url(reform_plan, "reform-health-share")
    page = text(camden_lns_client.get(reform_plan.get_absolute_url()))
    assert "1 of 42" in page


def test_the_questions_to_ask_are_the_reform_plans_own(camden_lns_client, reform_plan):
    page = text(
        camden_lns_client.get(reverse("plans:questions_to_ask", kwargs={"pk": reform_plan.pk}))
    )
    assert "42 questions to ask" in page
    assert "Experts at Hand" in page
    assert "diagnostic phase" not in page


def test_a_revised_reform_plan_carries_its_answers_forward_by_key(
    camden_lns_client, camden_lns, reform_plan
):
    answer(camden_lns_client, reform_plan, REFORM_ONLY)
    answer(camden_lns_client, reform_plan, "cuts-not-efficiency", response="partly")
    revision = revise_plan(plan=reform_plan, user=camden_lns)
    carried = Answer.objects.filter(assessment__plan=revision)
    assert sorted(carried.values_list("question__key", "carried_forward")) == [
        ("cuts-not-efficiency", True),
        (REFORM_ONLY, True),
    ]


# SV and DBV after the change ------------------------------------------------------


def test_where_each_programme_stands_is_loaded_with_its_source(reference_data):
    sv, dbv = Programme.objects.get(code="sv"), Programme.objects.get(code="dbv")
    assert "no new agreement has been made since 4 December 2024" in sv.standing
    assert "Existing agreements continue" in sv.standing
    assert sv.standing_source_url.startswith("https://localgovernmentlawyer.co.uk/")
    assert dbv.standing.startswith("Ended: phase one ended in 2024")
    assert dbv.standing_source_url == "https://dbvinsend.com/about"
    with (DATA / "national_timeline.csv").open(encoding="utf-8") as handle:
        sources = {row["source_url"] for row in csv.DictReader(handle)}
    for programme in Programme.objects.exclude(standing=""):
        assert programme.standing_source_url in sources, programme.code


def test_where_it_stands_needs_its_source(reference_data, monkeypatch, tmp_path):
    changed = tmp_path / "data"
    changed.mkdir()
    for name in ("checklist.csv", "recommendations.csv", "known_plans.csv"):
        (changed / name).write_text((DATA / name).read_text())
    programmes = (DATA / "programme_types.csv").read_text()
    (changed / "programme_types.csv").write_text(
        programmes.replace("https://dbvinsend.com/about", "")
    )
    monkeypatch.setattr("plans.management.commands.load_programmes.DATA_DIR", changed)
    with pytest.raises(CommandError, match="line 3: where the programme stands needs its source"):
        call_command("load_programmes", stdout=StringIO())


def test_the_plan_and_authority_pages_say_where_the_programme_stands(
    camden_lns_client, sv_plan, camden
):
    dbv = make_plan(CAMDEN, "dbv", round_or_tranche="Tranche 2")
    sv_stands = "no new agreement has been made since 4 December 2024"
    dbv_stands = "Ended: phase one ended in 2024"
    page = text(camden_lns_client.get(sv_plan.get_absolute_url()))
    assert sv_stands in page
    assert "Source for where SV stands" in page
    page = text(camden_lns_client.get(dbv.get_absolute_url()))
    assert dbv_stands in page
    page = text(camden_lns_client.get(camden.get_absolute_url()))
    assert sv_stands in page
    assert dbv_stands in page


# The deadline the reform-plan warning reads ---------------------------------------


def test_the_shipped_timeline_has_the_reform_plans_deadline(db):
    call_command("load_timeline", stdout=StringIO())
    [deadline] = TimelineEntry.objects.filter(event__startswith=REFORM_DEADLINE_EVENT)
    assert (deadline.date.year, deadline.date.month) == (2026, 10)


# The briefing pack and "What changed" ---------------------------------------------


def details_and_grant(plan):
    ReformPlanDetails.objects.create(
        plan=plan,
        stage="submitted",
        health_partner="NHS North Central London ICB",
        ap_capacity="reduce",
        ap_places_change=-30,
        isp_readiness="planned",
    )
    return HighNeedsStabilityGrant.objects.create(
        plan=plan,
        eligible_deficit=Decimal("41250000"),
        remaining_plan="From reserves over three years.",
        status="due",
    )


def test_the_briefing_pack_shows_the_reform_plan_and_its_grant(camden_lns_client, reform_plan):
    details_and_grant(reform_plan)
    page = text(camden_lns_client.get(reverse("dashboards:briefing", args=["camden"])))
    for shown in (
        "The reform plan",
        "Stage with the DfE Submitted",
        "Health partner (ICB) NHS North Central London ICB",
        "Alternative provision places Reduce (-30 places)",
        "High Needs Stability Grant",
        "Written off (90%) £37,125,000",
        "Left to the authority (10%) £4,125,000",
        "How it says it will meet it: From reserves over three years.",
        "Under way in 2026: every area writes its plan with its health partners",
    ):
        assert shown in page, shown
    # Nothing to change from a printed page.
    assert "Change the reform plan" not in page
    assert "Change the grant" not in page


def test_what_changed_includes_the_reform_details_and_the_grant(
    camden_lns, camden_lns_client, reform_plan
):
    grant = details_and_grant(reform_plan)
    revision = revise_plan(plan=reform_plan, user=camden_lns)
    details = ReformPlanDetails.objects.get(plan=revision)
    details.stage = "approved"
    details.save()
    grant.refresh_from_db()
    grant.status = "paid"
    grant.amount_paid = Decimal("37125000")
    grant.save()
    page = text(camden_lns_client.get(revision.get_absolute_url()))
    changed = page[
        page.index("What changed from revision 1") : page.index("What the plan proposes")
    ]
    assert "Reform plan Stage with the DfE: Submitted → Approved" in changed
    assert "High Needs Stability Grant Payment: Due → Paid in full" in changed
    assert "Amount paid (£): (blank) → 37125000.00" in changed


def test_an_unchanged_revision_says_so(camden_lns, camden_lns_client, reform_plan):
    details_and_grant(reform_plan)
    revision = revise_plan(plan=reform_plan, user=camden_lns)
    page = text(camden_lns_client.get(revision.get_absolute_url()))
    changed = page[
        page.index("What changed from revision 1") : page.index("What the plan proposes")
    ]
    assert "Reform plan No change. High Needs Stability Grant No change." in changed


def test_the_pages_changed_for_reform_plans_are_valid_html(
    camden_lns, camden_lns_client, reform_plan
):
    details_and_grant(reform_plan)
    revision = revise_plan(plan=reform_plan, user=camden_lns)
    sv = make_plan(CAMDEN)
    pages = {
        url: camden_lns_client.get(url).content
        for url in (
            revision.get_absolute_url(),
            sv.get_absolute_url(),
            reverse("dashboards:authority", args=["camden"]),
            reverse("dashboards:briefing", args=["camden"]),
            answer_url(revision, REFORM_ONLY),
        )
    }
    assert html_errors(pages) == []


def test_a_bank_copied_in_the_admin_keeps_which_programmes_each_question_is_for(
    national_officer_client,
):
    bank = QuestionSet.objects.latest_version()
    response = national_officer_client.post(
        reverse("admin:plans_questionset_changelist"),
        {"action": "copy_as_new_version", "_selected_action": [str(bank.pk)]},
    )
    assert response.status_code == 302
    copy = QuestionSet.objects.latest_version()
    assert copy.version == bank.version + 1

    def asked(question_set):
        return sorted(
            (q.key, tuple(sorted(p.code for p in q.programmes.all())))
            for q in question_set.questions.prefetch_related("programmes")
        )

    assert asked(copy) == asked(bank)
    assert ("reform-ten-percent", ("send-reform",)) in asked(copy)
