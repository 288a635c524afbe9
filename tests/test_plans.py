"""Plans: the known participants, recording and editing plans, money, targets,
revisions and history, as each persona sees them."""

import csv
import random
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from authorities import caching
from authorities.access import AuthorityAccess, Role
from plans.models import (
    Answer,
    FundingInstalment,
    Plan,
    Programme,
    QuestionSet,
    Recommendation,
    Target,
    TargetUpdate,
    instalment_totals,
)
from plans.services import assessment_for, revise_plan

from .browsing import form_fields, resubmit
from .factories import CAMDEN, make_plan, make_user

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[1] / "plans" / "data"


@pytest.fixture
def camden_plan(reference_data):
    return make_plan(CAMDEN, round_or_tranche="2023-24", total_funding=Decimal("12000000"))


def plan_data(**overrides):
    """A valid plan form, as a browser would post it."""
    data = {
        "programme": Programme.objects.get(code="dbv").pk,
        "round_or_tranche": "Tranche 3",
        "status": "diagnostic",
        "status_note": "",
        "status_source_url": "",
        "agreement_date": "",
        "first_year": "2024",
        "last_year": "2025",
        "total_funding": "1000000",
        "document_url": "",
        "summary": "Cut new EHCPs; more mainstream inclusion.",
        "sources": "https://example.org/dbv",
        # The version the form was opened at (edits only: authorities/edits.py).
        "base_version": "1",
    }
    return data | overrides


def answer(plan, key, **fields):
    assessment = assessment_for(plan)
    question = assessment.question_set.questions.get(key=key)
    fields.setdefault("response", Answer.Response.PARTLY)
    fields.setdefault("concern", Answer.Concern.SOME)
    return Answer.objects.create(assessment=assessment, question=question, **fields)


class TestKnownPlans:
    def test_the_known_sv_and_dbv_plans_are_loaded_with_their_sources(self, reference_data):
        bury = Plan.objects.get(authority__name="Bury", programme__code="sv")
        assert bury.round_or_tranche == "2020-21"
        assert bury.total_funding == Decimal("20000000")
        assert (bury.first_year, bury.last_year) == (2020, 2028)  # extended to nine years
        assert bury.verified
        assert bury.sources.startswith("https://schoolsweek.co.uk/")
        assert "extension to 9 years: https://" in bury.sources.splitlines()[1]
        assert Plan.objects.filter(programme__code="dbv", round_or_tranche="Tranche 1").exists()

    def test_blanks_stay_unknown_and_reviews_are_marked(self, reference_data):
        kingston = Plan.objects.get(authority__la_code="314")
        assert kingston.last_year is None  # duration not stated
        dorset = Plan.objects.get(authority__name="Dorset", programme__code="sv")
        assert dorset.status == Plan.Status.UNDER_REVIEW

    def test_second_load_changes_nothing_and_keeps_edits(self, reference_data):
        bury = Plan.objects.get(authority__name="Bury", programme__code="sv")
        bury.status = Plan.Status.ENDED
        bury.save()
        out = StringIO()
        call_command("load_programmes", stdout=out)
        assert "Known plans: 0 created, 83 unchanged, 1 kept as edited." in out.getvalue()
        assert "Checklist: version 1 unchanged (45 questions)" in out.getvalue()
        bury.refresh_from_db()
        assert bury.status == Plan.Status.ENDED

    def test_a_changed_checklist_becomes_a_new_version(
        self, reference_data, monkeypatch, tmp_path
    ):
        changed = tmp_path / "data"
        changed.mkdir()
        for name in ("programme_types.csv", "recommendations.csv", "known_plans.csv"):
            (changed / name).write_text((DATA / name).read_text())
        text = (DATA / "checklist.csv").read_text()
        (changed / "checklist.csv").write_text(
            text.replace("Does the plan seek genuine efficiency", "Does the plan seek efficiency")
        )
        monkeypatch.setattr("plans.management.commands.load_programmes.DATA_DIR", changed)
        out = StringIO()
        call_command("load_programmes", stdout=out)
        # 37 asked of SV and DBV plans, 8 of reform plans alone.
        assert "Checklist: version 2 created (45 questions)" in out.getvalue()
        assert QuestionSet.objects.latest_version().version == 2

    def test_a_malformed_checklist_is_refused_naming_the_line(
        self, reference_data, monkeypatch, tmp_path
    ):
        for name in ("programme_types.csv", "recommendations.csv", "known_plans.csv"):
            (tmp_path / name).write_text((DATA / name).read_text())
        lines = (DATA / "checklist.csv").read_text().splitlines()
        lines.insert(3, lines[2])  # the same question twice
        (tmp_path / "checklist.csv").write_text("\n".join(lines))
        monkeypatch.setattr("plans.management.commands.load_programmes.DATA_DIR", tmp_path)
        with pytest.raises(CommandError, match=r"line 4: key .* already appears on line 3"):
            call_command("load_programmes", stdout=StringIO())

    def test_the_ten_recommendations_and_four_programmes(self, reference_data):
        assert Recommendation.objects.count() == 10
        assert Recommendation.objects.get(number=1).text.startswith("Local authorities should")
        assert list(Programme.objects.values_list("code", flat=True)) == [
            "sv",
            "dbv",
            "esfa",
            "send-reform",
        ]

    def test_the_project_copy_matches_the_shared_data(self):
        shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "programmes.csv"
        if not shared.exists():
            pytest.skip("../shared is not beside this checkout")
        assert shared.read_text() == (DATA / "known_plans.csv").read_text()


# The questions in the briefing's own words -------------------------------------

# The reform plans' questions (section 8) came after the briefing, written in
# 2022: it has no words for ISPs, Experts at Hand, the Inclusive Mainstream
# Fund or the grant's 10%, so they are put in the checklist's own wording
# (tests/test_reform_checklist.py names them).
REFORM = "send-reform"


def shipped_checklist():
    with (DATA / "checklist.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def words(text):
    return re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "").replace("'", ""))


class TestPlainWords:
    def test_every_question_the_briefing_has_words_for_has_them(self):
        rows = shipped_checklist()
        without = {row["key"] for row in rows if not row["plain_words"]}
        assert without == {row["key"] for row in rows if row["programmes"] == REFORM}
        for row in rows:
            assert row["plain_words"] != row["text"] or row["key"] == "nhs-contribution-ehcps"

    def test_the_plain_words_are_the_briefings_own(self):
        briefing = Path(__file__).resolve().parents[2] / "shared" / "seed" / "briefing-sv-dbv.txt"
        if not briefing.exists():
            pytest.skip("../shared is not beside this checkout")
        said = " {} ".format(" ".join(words(briefing.read_text(encoding="utf-8"))))
        for row in shipped_checklist():
            if not row["plain_words"]:
                continue
            put = words(row["plain_words"])
            # Each quotes at least five words running from the briefing.
            runs = (" {} ".format(" ".join(put[i : i + 5])) for i in range(len(put) - 4))
            assert any(run in said for run in runs), row["key"]

    def test_loaded_into_the_bank_without_a_new_version(self, reference_data):
        bank = QuestionSet.objects.latest_version()
        transfer = bank.questions.get(key="dsg-transfer-to-high-needs")
        assert transfer.plain_words == (
            "Are transfers taking place or being recommended from the DSG to the High Needs Block?"
        )
        assert transfer.to_ask == transfer.plain_words
        ten_percent = bank.questions.get(key="reform-ten-percent")
        assert ten_percent.to_ask == ten_percent.text
        # A bank loaded before there were plain words gets them in place:
        # the plans being assessed on it keep their version and gain them.
        bank.questions.update(plain_words="")
        out = StringIO()
        call_command("load_programmes", stdout=out)
        assert (
            f"Checklist: version {bank.version} unchanged (45 questions, 37 with new plain words)"
            in out.getvalue()
        )
        assert QuestionSet.objects.count() == 1
        transfer.refresh_from_db()
        assert transfer.plain_words.startswith("Are transfers taking place")
        out = StringIO()
        call_command("load_programmes", stdout=out)
        assert f"Checklist: version {bank.version} unchanged (45 questions)." in out.getvalue()

    def test_changed_plain_words_reach_each_version_asking_the_same(
        self, reference_data, monkeypatch, tmp_path
    ):
        first = QuestionSet.objects.latest_version()
        changed = tmp_path / "data"
        changed.mkdir()
        for name in ("programme_types.csv", "recommendations.csv", "known_plans.csv"):
            (changed / name).write_text((DATA / name).read_text())
        checklist = (DATA / "checklist.csv").read_text()
        # One question reworded (a new version), another's plain words.
        checklist = checklist.replace(
            "Does the plan seek genuine efficiency", "Does the plan seek efficiency"
        ).replace(
            "Will the proposals increase pressures on other parts of the school system?",
            "Will the proposals increase pressures on other parts of the school system at all?",
        )
        (changed / "checklist.csv").write_text(checklist)
        monkeypatch.setattr("plans.management.commands.load_programmes.DATA_DIR", changed)
        out = StringIO()
        call_command("load_programmes", stdout=out)
        assert "Checklist: version 2 created (45 questions, 1 with new plain words)" in (
            out.getvalue()
        )
        for bank in (first, QuestionSet.objects.latest_version()):
            pressures = bank.questions.get(key="pressures-on-school-system")
            assert pressures.plain_words.endswith("school system at all?")
        # Words written for the new wording are not given to the old one.
        old = first.questions.get(key="cuts-not-efficiency")
        assert old.text.startswith("Does the plan seek genuine efficiency")
        assert "proposals shift the focus from plans" in old.plain_words


class TestAuthorityPage:
    def test_known_plans_appear_on_their_authority_with_sources(self, national_officer_client):
        response = national_officer_client.get(reverse("dashboards:authority", args=["bury"]))
        content = response.content.decode()
        assert "SV 2020-21" in content
        assert "£20,000,000" in content
        plan = Plan.objects.get(authority__name="Bury")
        page = national_officer_client.get(plan.get_absolute_url()).content.decode()
        assert 'href="https://schoolsweek.co.uk/school-leaders-rebel' in page

    def test_editors_may_record_a_plan_readers_may_not(
        self, client_for, camden_lns, camden_senco_lead
    ):
        add = reverse("plans:add", args=["camden"])
        url = reverse("dashboards:authority", args=["camden"])
        assert add in client_for(camden_lns).get(url).content.decode()
        page = client_for(camden_senco_lead).get(url).content.decode()
        assert add not in page
        assert "No Safety Valve, Delivering Better Value or other recovery plan" in page


class TestPlanList:
    url = reverse("plans:list")

    def test_shows_only_plans_in_scope(self, camden_lns_client, camden_plan):
        response = camden_lns_client.get(self.url)
        assert [p.authority.name for p in response.context["page"]] == ["Camden"]

    def test_organiser_filters_by_programme_and_status(self, london_organiser_client):
        response = london_organiser_client.get(self.url, {"programme": "sv"})
        names = {p.authority.name for p in response.context["page"]}
        assert "Hillingdon" in names
        assert "Brent" not in names  # DBV
        response = london_organiser_client.get(self.url, {"status": "under_review"})
        assert [p.authority.name for p in response.context["page"]] == ["Hillingdon"]

    def test_filter_by_region(self, national_officer_client):
        response = national_officer_client.get(self.url, {"region": "london"})
        assert response.context["page"].paginator.count == 15

    def test_bad_filter_is_reported(self, national_officer_client):
        response = national_officer_client.get(self.url, {"status": "sunk"})
        assert "Choose a status from the list" in response.content.decode()

    def test_a_revised_plan_shows_once(self, camden_lns_client, camden_plan, camden_lns):
        revision = revise_plan(plan=camden_plan, user=camden_lns)
        response = camden_lns_client.get(self.url)
        assert list(response.context["page"]) == [revision]

    def test_checklist_progress_is_counted(self, camden_lns_client, camden_plan):
        answer(camden_plan, "cuts-not-efficiency", concern=Answer.Concern.SERIOUS)
        answer(camden_plan, "no-cuts-to-services")
        plan = camden_lns_client.get(self.url).context["page"][0]
        assert (plan.answered_count, plan.question_count, plan.serious_count) == (2, 37, 1)

    def test_query_count_is_pinned(self, national_officer_client, django_assert_num_queries):
        # 84 known plans, 50 a page: the count must not depend on either.
        with django_assert_num_queries(6):
            response = national_officer_client.get(self.url)
        assert len(response.context["page"].object_list) == 50


class TestPlanPage:
    def test_shows_facts_money_targets_checklist(self, camden_lns_client, camden_plan):
        FundingInstalment.objects.create(
            plan=camden_plan,
            financial_year=2023,
            amount=5_000_000,
            status="paid",
            amount_paid=5_000_000,
        )
        FundingInstalment.objects.create(
            plan=camden_plan, financial_year=2024, amount=4_000_000, status="withheld"
        )
        target = Target.objects.create(
            plan=camden_plan, description="Reduce new EHCPs by 10%", goal="ehcp_demand"
        )
        TargetUpdate.objects.create(target=target, status="off_track", reason="Demand rose.")
        answer(camden_plan, "cuts-not-efficiency", concern=Answer.Concern.SERIOUS)
        response = camden_lns_client.get(camden_plan.get_absolute_url())
        content = response.content.decode()
        assert response.context["money"] == {
            "promised": Decimal("9000000.00"),
            "paid": Decimal("5000000.00"),
            "withheld": Decimal("4000000.00"),
        }
        assert "£12,000,000" in content
        assert "Reduce new EHCPs by 10%" in content
        assert "Off track" in content
        assert "Demand rose." in content
        assert "Serious concerns" in content
        assert "1 of 37" in content
        assert "Unverified" in content

    def test_readers_see_no_edit_links(self, client_for, camden_senco_lead, camden_plan):
        content = client_for(camden_senco_lead).get(camden_plan.get_absolute_url()).content
        assert reverse("plans:edit", args=[camden_plan.pk]).encode() not in content
        assert reverse("plans:instalment_add", args=[camden_plan.pk]).encode() not in content

    def test_query_count_is_pinned_with_many_rows(
        self, client_for, camden_lns, camden_plan, django_assert_num_queries
    ):
        assessment = assessment_for(camden_plan)
        for question in assessment.question_set.questions.all():
            Answer.objects.create(
                assessment=assessment, question=question, response="no", concern="serious"
            )
        for year in range(2020, 2030):
            FundingInstalment.objects.create(plan=camden_plan, financial_year=year, amount=1)
        for n in range(8):
            target = Target.objects.create(plan=camden_plan, description=f"T{n}", goal="provision")
            target.recommendations.set(Recommendation.objects.all()[:3])
            TargetUpdate.objects.create(target=target, status="on_track")
        client = client_for(camden_lns)
        # 15 (the plan with its checklist and question bank and the
        # revision that replaced it, if any; its instalments, their totals
        # added up from them; its targets with their latest progress, and
        # their recommendations; the national timeline's next dates among
        # them; the person's roles come with them, User.held), plus the
        # plan's meetings
        # (tests/test_consultations.py) and the feedback linked to its
        # checklist (tests/test_feedback.py). The history names the
        # questions from the checklist's (here some answers are to
        # questions not asked of the plan's programme: their texts are read).
        with django_assert_num_queries(16):
            client.get(camden_plan.get_absolute_url())


class TestRecordingAPlan:
    def test_lns_records_a_plan(self, camden_lns_client, camden):
        response = camden_lns_client.post(reverse("plans:add", args=["camden"]), plan_data())
        plan = Plan.objects.get(authority=camden)
        assert response["Location"] == plan.get_absolute_url()
        assert (plan.first_year, plan.last_year, plan.total_funding) == (2024, 2025, 1_000_000)
        assert plan.history.get().history_user.email == "camden.lns@example.org"

    @pytest.mark.parametrize("persona", ["camden_senco_lead", "london_organiser"])
    def test_readers_and_organisers_may_not(self, request, client_for, persona, camden):
        client = client_for(request.getfixturevalue(persona))
        assert client.post(reverse("plans:add", args=["camden"]), plan_data()).status_code == 403
        assert not Plan.objects.filter(authority=camden).exists()

    def test_out_of_scope_is_not_found(self, client_for, kent_lns, camden):
        response = client_for(kent_lns).post(reverse("plans:add", args=["camden"]), plan_data())
        assert response.status_code == 404

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"total_funding": "-5"}, "total_funding", "greater than or equal to 0"),
            ({"total_funding": "lots"}, "total_funding", "Enter a number"),
            (
                {"first_year": "2025", "last_year": "2024"},
                "last_year",
                "cannot be before the first",
            ),
            ({"summary": "x" * 20_001}, "summary", "at most 20000 characters"),
            ({"document_url": "not a link"}, "document_url", "Enter a valid URL"),
            ({"first_year": "1999"}, "first_year", "Select a valid choice"),
        ],
    )
    def test_bad_input_is_an_error_on_the_form_with_the_rest_kept(
        self, camden_lns_client, camden, overrides, field, message
    ):
        response = camden_lns_client.post(
            reverse("plans:add", args=["camden"]), plan_data(**overrides)
        )
        content = response.content.decode()
        assert response.status_code == 200
        assert f'href="#id_{field}"' in content
        assert message in content
        assert 'value="Tranche 3"' in content
        assert not Plan.objects.filter(authority=camden).exists()

    def test_html_is_shown_as_text(self, camden_lns_client, camden):
        camden_lns_client.post(
            reverse("plans:add", args=["camden"]),
            plan_data(summary="<script>alert(1)</script>"),
        )
        plan = Plan.objects.get(authority=camden)
        content = camden_lns_client.get(plan.get_absolute_url()).content.decode()
        assert "<script>alert(1)</script>" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content

    def test_same_programme_and_round_twice_is_refused(self, camden_lns_client, camden_plan):
        response = camden_lns_client.post(
            reverse("plans:add", args=["camden"]),
            plan_data(programme=camden_plan.programme.pk, round_or_tranche="2023-24"),
        )
        assert "already has a plan for this programme and round" in response.content.decode()


class TestStatusLifecycle:
    """A change of status keeps to the plan's lifecycle (Plan.NEXT_STATUSES),
    unless a national officer records it saying why."""

    @pytest.fixture
    def rumoured(self, reference_data):
        return make_plan(CAMDEN, round_or_tranche="2023-24", status=Plan.Status.RUMOURED)

    def edit(self, client, plan, **changes):
        return resubmit(client, reverse("plans:edit", args=[plan.pk]), **changes)

    def test_every_status_has_its_next_statuses(self):
        assert set(Plan.NEXT_STATUSES) == set(Plan.Status)
        for following in Plan.NEXT_STATUSES.values():
            assert set(following) <= set(Plan.Status)
        assert Plan.follows_lifecycle("rumoured", "negotiating")
        assert not Plan.follows_lifecycle("rumoured", "completed")
        assert Plan.follows_lifecycle("completed", "completed")

    def test_the_next_step_is_saved(self, camden_lns_client, rumoured):
        response = self.edit(camden_lns_client, rumoured, status="negotiating")
        assert response.status_code == 302
        rumoured.refresh_from_db()
        assert rumoured.status == Plan.Status.NEGOTIATING

    def test_the_edit_page_says_where_the_plan_goes_next(self, camden_lns_client, rumoured):
        content = camden_lns_client.get(reverse("plans:edit", args=[rumoured.pk])).content
        assert (
            "From “Rumoured” a plan moves on to “Negotiating”, “Diagnostic”, “Agreed” or “Ended”."
            in content.decode()
        )

    def test_skipping_is_refused_naming_the_next_statuses_with_the_input_kept(
        self, camden_lns_client, rumoured
    ):
        response = self.edit(
            camden_lns_client, rumoured, status="completed", summary="Wound up early."
        )
        content = response.content.decode()
        assert response.status_code == 200
        assert (
            "“Completed” does not follow “Rumoured” in the lifecycle of a plan: from "
            "“Rumoured” it moves on to “Negotiating”, “Diagnostic”, “Agreed” or “Ended”. "
            "Choose one of those, or ask a national officer to record this change."
        ) in content
        assert 'href="#id_status"' in content
        assert "Wound up early." in content
        assert '<option value="completed" selected>' in content
        assert 'name="skip_reason"' not in content  # theirs is not to skip
        assert "As a national officer" not in content
        rumoured.refresh_from_db()
        assert (rumoured.status, rumoured.version) == (Plan.Status.RUMOURED, 1)

    def test_a_finished_plan_stays_finished(self, camden_lns_client, camden_plan):
        camden_plan.status = Plan.Status.ENDED
        camden_plan.save()
        response = self.edit(camden_lns_client, camden_plan, status="implementation")
        assert (
            "A plan at “Ended” has reached the end of its lifecycle: its status does not "
            "change. Ask a national officer to record this change."
        ) in response.content.decode()
        # Saved unchanged, it still saves (and writes nothing).
        response = self.edit(camden_lns_client, camden_plan)
        assert response.status_code == 302
        assert camden_plan.history.count() == 2

    def test_a_national_officer_skips_saying_why(
        self, national_officer_client, rumoured, camden_lns_client
    ):
        url = reverse("plans:edit", args=[rumoured.pk])
        shown = national_officer_client.get(url).content.decode()
        assert "As a national officer you may record another change, saying why." in shown
        # Hidden until a change needs it.
        assert '<input type="hidden" name="skip_reason"' in shown
        response = self.edit(national_officer_client, rumoured, status="completed")
        content = response.content.decode()
        assert response.status_code == 200
        assert 'href="#id_skip_reason"' in content
        assert "from “Rumoured” it moves on to" in content
        assert "To record it all the same, say why." in content
        assert '<textarea name="skip_reason"' in content
        assert "Reason for skipping the usual order" in content
        rumoured.refresh_from_db()
        assert rumoured.status == Plan.Status.RUMOURED

        data = form_fields(content) | {"skip_reason": "x" * 101}
        content = national_officer_client.post(url, data).content.decode()
        assert "Say why in 100 characters or fewer" in content

        reason = "The DfE confirmed it ended early: letter of 3 March."
        response = national_officer_client.post(url, data | {"skip_reason": reason})
        assert response.status_code == 302
        rumoured.refresh_from_db()
        assert rumoured.status == Plan.Status.COMPLETED
        assert rumoured.history.latest().history_change_reason == reason
        history = camden_lns_client.get(reverse("plans:history", args=[rumoured.pk]))
        assert reason in history.content.decode()

    def test_a_reason_is_kept_only_for_a_skip(self, national_officer_client, rumoured):
        response = self.edit(
            national_officer_client, rumoured, status="negotiating", skip_reason="y" * 200
        )
        assert response.status_code == 302
        assert rumoured.history.latest().history_change_reason is None

    def test_a_stale_form_is_refused_as_stale_not_as_out_of_order(
        self, camden_lns_client, client_for, national_officer, rumoured
    ):
        url = reverse("plans:edit", args=[rumoured.pk])
        opened = form_fields(camden_lns_client.get(url).content)
        resubmit(client_for(national_officer), url, status="negotiating")
        # Opened at "rumoured", posted after it became "negotiating".
        response = camden_lns_client.post(url, opened | {"status": "diagnostic"})
        content = response.content.decode()
        assert response.status_code == 409
        assert "Status is now “Negotiating” (it was “Rumoured”)" in content
        assert "does not follow" not in content
        # Saved again knowingly, the move is checked from where it is now.
        again = camden_lns_client.post(url, form_fields(content))
        assert again.status_code == 302
        rumoured.refresh_from_db()
        assert rumoured.status == Plan.Status.DIAGNOSTIC

    def test_a_new_plan_starts_at_any_status(self, camden_lns_client, camden):
        response = camden_lns_client.post(
            reverse("plans:add", args=["camden"]), plan_data(status="completed")
        )
        assert response.status_code == 302
        assert Plan.objects.get(authority=camden).status == Plan.Status.COMPLETED


class TestNegotiatingTellsTheNationalOffice:
    def test_once_after_the_save_commits(
        self, camden_lns_client, camden, settings, django_capture_on_commit_callbacks
    ):
        settings.NATIONAL_OFFICE_EMAIL = "sv@union.example"
        with django_capture_on_commit_callbacks(execute=True):
            camden_lns_client.post(
                reverse("plans:add", args=["camden"]),
                plan_data(status="negotiating", programme=Programme.objects.get(code="sv").pk),
            )
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["sv@union.example"]
        assert "Camden is negotiating Safety Valve" in mail.outbox[0].subject
        plan = Plan.objects.get(authority=camden)
        with django_capture_on_commit_callbacks(execute=True):
            camden_lns_client.post(
                reverse("plans:edit", args=[plan.pk]),
                plan_data(status="negotiating", summary="Talks continue."),
            )
        assert len(mail.outbox) == 1

    def test_not_before_commit_and_not_for_a_failed_save(
        self, camden_lns_client, camden, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            camden_lns_client.post(
                reverse("plans:add", args=["camden"]),
                plan_data(status="negotiating", total_funding="-1"),
            )
        assert callbacks == []
        with django_capture_on_commit_callbacks() as callbacks:
            camden_lns_client.post(
                reverse("plans:add", args=["camden"]), plan_data(status="negotiating")
            )
        # The e-mail, beside the dashboards' cache's own (authorities/caching.py).
        mine = [c for c in callbacks if c.__module__ != caching.__name__]
        assert len(mine) == 1
        assert mail.outbox == []  # queued for the commit, not sent inside the transaction


class TestInstalments:
    def url(self, plan):
        return reverse("plans:instalment_add", args=[plan.pk])

    @pytest.mark.parametrize("seed", range(5))
    def test_totals_added_up_from_the_list_are_the_sql_s(self, camden_plan, seed):
        """The plan page and the briefing pack add up the instalments they
        list (plans.models.instalment_totals); lists elsewhere sum them in
        SQL (InstalmentQuerySet.totals). The two agree."""
        rng = random.Random(seed)
        other = make_plan(CAMDEN, round_or_tranche="2025-26")
        statuses = FundingInstalment.Status.values
        for n in range(rng.randrange(len(statuses), 16)):
            amount = Decimal(rng.randrange(0, 10**9)) / 100
            # Every status at least once, then any.
            status = statuses[n] if n < len(statuses) else rng.choice(statuses)
            paid = rng.choice([None, Decimal(rng.randrange(0, 10**9)) / 100])
            if status == FundingInstalment.Status.REDUCED or paid is not None:
                paid = min(paid or (amount / 2).quantize(Decimal("0.01")), amount)
            plan = rng.choice([camden_plan, other])
            FundingInstalment.objects.create(
                plan=plan, financial_year=2024, amount=amount, status=status, amount_paid=paid
            )
        for plan in (camden_plan, other):
            listed = list(plan.instalments.all())
            assert plan.money(listed) == plan.money() == plan.instalments.totals()
        by_plan = FundingInstalment.objects.filter(plan__in=[camden_plan, other]).totals_by_plan()
        for pk, totals in by_plan.items():
            assert instalment_totals(FundingInstalment.objects.filter(plan=pk)) == totals

    def test_lns_adds_a_reduced_payment(self, camden_lns_client, camden_plan):
        data = {"financial_year": "2024", "amount": "3000000", "status": "reduced"}
        response = camden_lns_client.post(self.url(camden_plan), data | {"amount_paid": "2000000"})
        assert response.status_code == 302
        assert camden_plan.money()["withheld"] == Decimal("1000000.00")

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"status": "reduced"}, "Enter how much was paid."),
            ({"status": "reduced", "amount_paid": "3000000"}, "must be less than the amount"),
            ({"status": "withheld", "amount_paid": "5"}, "Leave the amount paid empty"),
            ({"status": "paid", "amount": "-1"}, "greater than or equal to 0"),
            ({"status": "paid", "financial_year": ""}, "This field is required"),
        ],
    )
    def test_bad_input(self, camden_lns_client, camden_plan, data, message):
        base = {"financial_year": "2024", "amount": "3000000", "condition": "Keep to plan"}
        response = camden_lns_client.post(self.url(camden_plan), base | data)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert "Keep to plan" in response.content.decode()
        assert not camden_plan.instalments.exists()

    def test_amounts_as_people_write_them(self, camden_lns_client, camden_plan):
        data = {"financial_year": "2024", "amount": "£3,000,000", "status": "reduced"}
        response = camden_lns_client.post(
            self.url(camden_plan), data | {"amount_paid": "2,000,000"}
        )
        assert response.status_code == 302
        instalment = camden_plan.instalments.get()
        assert (instalment.amount, instalment.amount_paid) == (
            Decimal("3000000"),
            Decimal("2000000"),
        )
        edit = reverse("plans:instalment_edit", args=[camden_plan.pk, instalment.pk])
        assert 'value="3,000,000"' in camden_lns_client.get(edit).content.decode()

    def test_paid_in_full_records_the_amount_paid(self, camden_lns_client, camden_plan):
        data = {"financial_year": "2024", "amount": "3000000", "status": "paid"}
        camden_lns_client.post(self.url(camden_plan), data)
        assert camden_plan.instalments.get().amount_paid == Decimal("3000000")

    def test_remove_asks_first(self, camden_lns_client, camden_plan):
        instalment = FundingInstalment.objects.create(
            plan=camden_plan, financial_year=2024, amount=10
        )
        url = reverse("plans:instalment_delete", args=[camden_plan.pk, instalment.pk])
        assert "Yes, remove it" in camden_lns_client.get(url).content.decode()
        assert camden_plan.instalments.exists()
        camden_lns_client.post(url, {"base_version": 1})
        assert camden_plan.instalments.exists()  # not without saying why
        camden_lns_client.post(url, {"base_version": 1, "reason": "Entered twice."})
        assert not camden_plan.instalments.exists()
        history = camden_lns_client.get(reverse("plans:history", args=[camden_plan.pk]))
        assert "Instalment 2024-25</strong> removed by Carys Evans" in history.content.decode()
        assert "Entered twice." in history.content.decode()

    def test_an_instalment_of_another_plan_is_not_found(self, camden_lns_client, camden_plan):
        other = make_plan("886")
        instalment = FundingInstalment.objects.create(plan=other, financial_year=2024, amount=1)
        url = reverse("plans:instalment_edit", args=[camden_plan.pk, instalment.pk])
        assert camden_lns_client.get(url).status_code == 404


class TestTargets:
    def test_lns_adds_a_target_tied_to_recommendations(self, camden_lns_client, camden_plan):
        response = camden_lns_client.post(
            reverse("plans:target_add", args=[camden_plan.pk]),
            {
                "description": "Move 40 placements to maintained special schools",
                "goal": "provision",
                "recommendations": [Recommendation.objects.get(number=7).pk],
                "baseline": "0",
                "target_value": "40",
                "unit": "placements",
                "due_year": "2026",
            },
        )
        assert response.status_code == 302
        target = camden_plan.targets.get()
        assert [r.number for r in target.recommendations.all()] == [7]

    def test_a_slipping_target_needs_a_reason(self, camden_lns_client, camden_plan):
        target = Target.objects.create(plan=camden_plan, description="T", goal="provision")
        url = reverse("plans:target_update_add", args=[camden_plan.pk, target.pk])
        data = {"recorded_on": "2026-11-01", "status": "at_risk", "value": "12"}
        response = camden_lns_client.post(url, data)
        assert "Say why the target is slipping." in response.content.decode()
        assert not target.updates.exists()
        response = camden_lns_client.post(url, data | {"reason": "Fewer places opened."})
        assert response.status_code == 302
        assert target.updates.get().recorded_by.email == "camden.lns@example.org"

    def test_the_latest_progress_is_the_newest_recorded_day_then_the_last_entered(
        self, camden_lns_client, camden_plan
    ):
        """Pages read each target's latest progress with the target
        (TargetQuerySet.with_latest_update): the newest day it was recorded
        for, and of two on one day the one entered last, as
        `target.updates.first()` orders them."""
        quiet = Target.objects.create(plan=camden_plan, description="Quiet", goal="provision")
        target = Target.objects.create(plan=camden_plan, description="T", goal="provision")
        for day, status, reason in [
            ("2026-10-01", "off_track", "Old news."),
            ("2026-11-01", "at_risk", "First that day."),
            ("2026-11-01", "off_track", "Second that day."),
            ("2026-09-01", "on_track", ""),  # entered last, about an earlier day
        ]:
            TargetUpdate.objects.create(
                target=target, recorded_on=day, status=status, reason=reason, value=7
            )
        read = {t.pk: t for t in Target.objects.with_latest_update()}
        assert read[quiet.pk].latest_update is None
        latest = read[target.pk].latest_update
        expected = target.updates.first()
        assert (latest.pk, latest.recorded_on, latest.status, latest.reason, latest.value) == (
            expected.pk,
            expected.recorded_on,
            "off_track",
            "Second that day.",
            Decimal("7.00"),
        )
        # A target read without them reads its latest progress when asked.
        assert Target.objects.get(pk=target.pk).latest_update == expected
        content = camden_lns_client.get(camden_plan.get_absolute_url()).content.decode()
        assert "Second that day." in content
        assert "First that day." not in content
        assert "No progress recorded" in content  # the quiet one

    def test_organiser_may_not_record_progress(self, london_organiser_client, camden_plan):
        target = Target.objects.create(plan=camden_plan, description="T", goal="provision")
        url = reverse("plans:target_update_add", args=[camden_plan.pk, target.pk])
        assert london_organiser_client.post(url, {"status": "on_track"}).status_code == 403


class TestRevisions:
    def test_revising_carries_answers_forward(self, camden_lns_client, camden_plan, camden_lns):
        answer(camden_plan, "cuts-not-efficiency", evidence="Minutes, 3 May")
        response = camden_lns_client.post(reverse("plans:revise", args=[camden_plan.pk]))
        revision = Plan.objects.get(revision_of=camden_plan)
        assert response["Location"] == revision.get_absolute_url()
        assert revision.revision == 2
        carried = revision.assessment.answers.get()
        assert carried.carried_forward
        assert carried.evidence == "Minutes, 3 May"
        content = camden_lns_client.get(revision.get_absolute_url()).content.decode()
        assert "Carried forward: confirm" in content
        assert "0 of 37" in content
        old = camden_lns_client.get(camden_plan.get_absolute_url()).content.decode()
        assert "This plan has been revised" in old
        # The link to the revision, read with the plan (with_later_revision).
        link = f'<a class="govuk-link" href="{revision.get_absolute_url()}">revision 2</a>'
        assert link in old
        assert reverse("plans:revise", args=[camden_plan.pk]) not in old
        assert link not in content
        assert reverse("plans:revise", args=[revision.pk]) in content
        read = Plan.objects.with_later_revision().get(pk=camden_plan.pk).later_revisions()
        assert [(r.pk, r.revision) for r in read] == [(revision.pk, 2)]
        assert Plan.objects.get(pk=camden_plan.pk).later_revisions() == [revision]
        assert Plan.objects.with_later_revision().get(pk=revision.pk).later_revisions() == []

    def test_an_old_revision_cannot_be_revised_again(
        self, camden_lns_client, camden_plan, camden_lns
    ):
        revision = revise_plan(plan=camden_plan, user=camden_lns)
        response = camden_lns_client.post(reverse("plans:revise", args=[camden_plan.pk]))
        assert response["Location"] == revision.get_absolute_url()
        assert Plan.objects.filter(revision_of=camden_plan).count() == 1

    def test_revising_asks_first(self, camden_lns_client, camden_plan):
        response = camden_lns_client.get(reverse("plans:revise", args=[camden_plan.pk]))
        assert "Create the revision" in response.content.decode()
        assert not Plan.objects.filter(revision_of=camden_plan).exists()


class TestHistory:
    def test_shows_who_changed_what_from_and_to(self, camden_lns_client, camden_plan):
        camden_lns_client.post(
            reverse("plans:edit", args=[camden_plan.pk]),
            plan_data(programme=camden_plan.programme.pk, status="under_review"),
        )
        content = camden_lns_client.get(reverse("plans:history", args=[camden_plan.pk])).content
        content = content.decode()
        assert "Plan</strong> changed by Carys Evans" in content
        assert "Under review, payments withheld" in content
        assert "Agreed" in content

    def test_names_the_programmes_and_the_question_answered(self, camden_lns_client, camden_plan):
        """Programmes and question texts are read only when an entry names
        them (plans/history.py ReadWhenAsked); the plan page names the
        questions from its checklist, the history page reads them."""
        camden_plan.programme = Programme.objects.get(code="dbv")
        camden_plan.save()
        note = answer(camden_plan, "cuts-not-efficiency")
        note.evidence = "The cuts are in the budget paper."
        note.save()
        named = f"Answer: {escape(note.question.text)}</strong> changed"
        history = camden_lns_client.get(reverse("plans:history", args=[camden_plan.pk]))
        content = history.content.decode()
        changed = re.search(r"Programme</th><td[^>]*>(\w+)</td><td[^>]*>(\w+)<", content)
        assert changed.groups() == ("SV", "DBV")
        assert named in content
        assert named in camden_lns_client.get(camden_plan.get_absolute_url()).content.decode()

    def test_private_notes_are_hidden_from_organisers(
        self, client_for, camden_plan, london_organiser, camden_lns
    ):
        note = answer(camden_plan, "cuts-not-efficiency", private_notes="Head teacher X told me")
        note.private_notes = "Head teacher Y told me"
        note.save()
        url = reverse("plans:history", args=[camden_plan.pk])
        assert "Head teacher Y" in client_for(camden_lns).get(url).content.decode()
        assert "Head teacher" not in client_for(london_organiser).get(url).content.decode()

    def test_query_count_does_not_grow_with_history(
        self, client_for, camden_lns, camden_plan, django_assert_num_queries
    ):
        for n in range(20):
            camden_plan.summary = f"Version {n}"
            camden_plan.save()
            FundingInstalment.objects.create(plan=camden_plan, financial_year=2020, amount=n)
        a = answer(camden_plan, "cuts-not-efficiency")
        for n in range(10):
            a.evidence = f"E{n}"
            a.save()
        client = client_for(camden_lns)
        # the history's own reads (plans/history.py: no programme changed)
        with django_assert_num_queries(9):
            client.get(reverse("plans:history", args=[camden_plan.pk]))


def test_private_notes_rule(reference_data, camden_plan, camden_lns, london_organiser):
    senco = make_user(roles=[(Role.SENCO_LEAD, camden_plan.authority)])
    assert AuthorityAccess.of(camden_lns, camden_plan.authority).can_see_private_notes
    assert AuthorityAccess.of(senco, camden_plan.authority).can_see_private_notes
    assert not AuthorityAccess.of(london_organiser, camden_plan.authority).can_see_private_notes
    assert AuthorityAccess.of(london_organiser, camden_plan.authority).can_contribute
    assert not AuthorityAccess.of(london_organiser, camden_plan.authority).can_edit
