"""Per-year finance figures: who records them, what bad input gets, the trend."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from authorities.access import Role
from authorities.forms import AuthorityFinanceForm
from authorities.models import AuthorityFinance, format_change

from .factories import KENT, authority, make_user

pytestmark = pytest.mark.django_db

CAMDEN_PAGE = reverse("dashboards:authority", kwargs={"slug": "camden"})
ADD = reverse("authorities:finance_add", kwargs={"slug": "camden"})
FORUM_PAPER = "https://camden.example.gov.uk/schools-forum/2025-03-papers.pdf"
# A year's figures as a representative would type them.
GOOD = {
    "financial_year": "2024",
    "dsg_cumulative_deficit": "£42,100,000",
    "dsg_cumulative_deficit_source_url": FORUM_PAPER,
    "high_needs_block_allocation": "95000000",
    "high_needs_block_allocation_source_url": "https://www.gov.uk/dsg-allocations-2024",
    "schools_block_transfer": "1,500,000.50",
    "schools_block_transfer_source_url": FORUM_PAPER,
    "ehcp_count": "2,450",
    "ehcp_count_source_url": "https://explore-education-statistics.service.gov.uk/sen2",
    # The version the form was opened at (edits only: authorities/edits.py).
    "base_version": "1",
}


def edit_url(year, slug="camden"):
    return reverse("authorities:finance_edit", kwargs={"slug": slug, "year": year})


def delete_url(year, slug="camden"):
    return reverse("authorities:finance_delete", kwargs={"slug": slug, "year": year})


def record(la, year, deficit=None, **figures):
    """A saved year for `la`, each figure given a source."""
    if deficit is not None:
        figures["dsg_cumulative_deficit"] = Decimal(deficit)
    for figure, source in AuthorityFinance.FIGURES:
        if figure in figures:
            figures[source] = f"https://example.org/{la.slug}/{year}/{figure}"
    return AuthorityFinance.objects.create(authority=la, financial_year=year, **figures)


class TestAdd:
    def test_lns_adds_a_year_and_sees_it_on_the_authority_page(
        self, camden_lns_client, camden_lns, camden
    ):
        response = camden_lns_client.post(ADD, GOOD)
        assert response.status_code == 302
        assert response["Location"] == CAMDEN_PAGE
        saved = camden.finance_years.get()
        assert saved.financial_year == 2024
        assert saved.dsg_cumulative_deficit == Decimal("42100000")
        assert saved.schools_block_transfer == Decimal("1500000.50")
        assert saved.ehcp_count == 2450
        assert saved.updated_by == camden_lns

        page = camden_lns_client.get(CAMDEN_PAGE).content.decode()
        assert "Camden: the 2024-25 figures are saved" in page
        assert "2024-25" in page
        assert f'<a class="govuk-link" href="{FORUM_PAPER}" rel="noreferrer">£42,100,000' in page
        assert "£95,000,000" in page
        assert "£1,500,000.50" in page
        assert "2,450" in page
        assert 'href="https://www.gov.uk/dsg-allocations-2024"' in page
        assert "source of the DSG cumulative deficit, 2024-25" in page

    def test_the_form_uses_the_govuk_field_template(self, camden_lns_client):
        content = camden_lns_client.get(ADD).content.decode()
        assert '<label class="govuk-label" for="id_dsg_cumulative_deficit">' in content
        assert '<div class="govuk-input__prefix" aria-hidden="true">£</div>' in content
        assert 'inputmode="decimal"' in content
        assert 'id="id_financial_year_helptext"' in content

    @pytest.mark.parametrize("persona", ["national_officer", "camden_forum_rep"])
    def test_other_editors_can_add(self, request, client_for, camden, persona):
        client = client_for(request.getfixturevalue(persona))
        assert client.post(ADD, GOOD).status_code == 302
        assert camden.finance_years.count() == 1

    def test_figures_left_blank_are_not_known(self, camden_lns_client, camden):
        only_deficit = {key: GOOD[key] for key in list(GOOD)[:3]}
        assert camden_lns_client.post(ADD, only_deficit).status_code == 302
        page = camden_lns_client.get(CAMDEN_PAGE).content.decode()
        assert page.count(">Not known<") == 3
        assert camden.finance_years.get().ehcp_count is None

    def test_a_surplus_is_a_negative_deficit(self, camden_lns_client, camden):
        response = camden_lns_client.post(ADD, {**GOOD, "dsg_cumulative_deficit": "-250,000"})
        assert response.status_code == 302
        assert camden.finance_years.get().dsg_cumulative_deficit == Decimal("-250000")
        assert "£250,000 surplus" in camden_lns_client.get(CAMDEN_PAGE).content.decode()

    def test_the_same_year_twice_is_an_error_on_the_year(self, camden_lns_client, camden):
        record(camden, 2024, deficit="1000")
        response = camden_lns_client.post(ADD, GOOD)
        assert response.status_code == 200
        assert response.context["form"].errors == {
            "financial_year": [
                "Figures for 2024-25 are already recorded: change them from the authority page"
            ]
        }
        assert 'href="#id_financial_year"' in response.content.decode()
        assert camden.finance_years.get().dsg_cumulative_deficit == Decimal("1000")

    def test_another_authority_recording_the_year_is_no_obstacle(self, camden_lns_client, camden):
        record(authority(KENT), 2024, deficit="1000")
        assert camden_lns_client.post(ADD, GOOD).status_code == 302

    def test_a_year_recorded_at_the_same_moment_is_an_error_not_a_crash(
        self, camden_lns_client, camden, monkeypatch
    ):
        # The form's check passes, then the database refuses the second row.
        monkeypatch.setattr(
            AuthorityFinanceForm,
            "clean_financial_year",
            lambda form: form.cleaned_data["financial_year"],
        )
        record(camden, 2024, deficit="1000")
        response = camden_lns_client.post(ADD, GOOD)
        assert response.status_code == 200
        assert response.context["form"].errors["financial_year"] == [
            "Figures for this year are already recorded"
        ]
        assert camden.finance_years.count() == 1

    def test_a_year_with_no_figures_is_refused(self, camden_lns_client, camden):
        response = camden_lns_client.post(ADD, {"financial_year": "2024"})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            "Enter at least one figure for the year"
        ]
        assert not camden.finance_years.exists()


LONG_URL = "https://example.org/" + "a" * 3000


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("financial_year", "", "Enter the year the financial year starts, like 2024"),
        ("financial_year", "2024-25", "Enter the year as 4 digits, like 2024"),
        ("financial_year", "2009", "Enter a year from 2010 to 2040"),
        ("financial_year", "2041", "Enter a year from 2010 to 2040"),
        ("financial_year", "99999999", "Enter a year from 2010 to 2040"),
        (
            "dsg_cumulative_deficit",
            "about 40 million",
            "Enter the DSG cumulative deficit as an amount in pounds, like 12500000",
        ),
        (
            "dsg_cumulative_deficit",
            "1000000000000",
            "Enter the DSG cumulative deficit as an amount below £1 trillion",
        ),
        (
            "dsg_cumulative_deficit",
            "12.345",
            "Enter the DSG cumulative deficit in pounds and pence, like 1250.50",
        ),
        (
            "high_needs_block_allocation",
            "-95000000",
            "The High Needs Block allocation must be £0 or more",
        ),
        ("schools_block_transfer", "-1", "The block transfer must be £0 or more"),
        ("ehcp_count", "lots", "Enter the number of EHCPs as a whole number, like 2450"),
        ("ehcp_count", "-3", "The number of EHCPs must be 0 or more"),
        (
            "high_needs_block_allocation_source_url",
            "",
            "Enter the web address of the source of the High Needs Block allocation",
        ),
        (
            "ehcp_count_source_url",
            "",
            "Enter the web address of the source of the number of EHCPs",
        ),
        (
            "dsg_cumulative_deficit_source_url",
            "the Schools Forum papers",
            "Enter a web address, like https://www.example.gov.uk/schools-forum",
        ),
        (
            "dsg_cumulative_deficit_source_url",
            "javascript:alert(1)",
            "Enter a web address, like https://www.example.gov.uk/schools-forum",
        ),
        (
            "schools_block_transfer_source_url",
            LONG_URL,
            "Enter a web address of 500 characters or fewer",
        ),
    ],
)
def test_bad_input_is_named_on_its_field_and_the_rest_kept(
    camden_lns_client, camden, field, value, message
):
    response = camden_lns_client.post(ADD, {**GOOD, field: value})
    assert response.status_code == 200
    # One message, on the field, linked from the error summary.
    assert response.context["form"].errors == {field: [message]}
    content = response.content.decode()
    assert "There is a problem" in content
    assert f'<a href="#id_{field}">{message}</a>' in content
    assert "<title>Error: Add a year" in content
    for other, typed in GOOD.items():
        if other != field:
            assert f'value="{typed}"' in content
    assert not AuthorityFinance.objects.exists()


class TestEdit:
    def test_lns_changes_a_year(self, camden_lns_client, camden_lns, camden):
        record(camden, 2024, deficit="1000")
        form = camden_lns_client.get(edit_url(2024))
        assert 'value="1,000"' in form.content.decode()
        assert "Change the 2024-25 figures" in form.content.decode()
        response = camden_lns_client.post(edit_url(2024), GOOD)
        assert response.status_code == 302
        saved = camden.finance_years.get()
        assert saved.dsg_cumulative_deficit == Decimal("42100000")
        assert saved.updated_by == camden_lns

    def test_the_year_can_be_corrected_but_not_onto_another(self, camden_lns_client, camden):
        record(camden, 2023, deficit="1000")
        record(camden, 2024, deficit="2000")
        response = camden_lns_client.post(edit_url(2024), {**GOOD, "financial_year": "2023"})
        assert response.context["form"].errors["financial_year"] == [
            "Figures for 2023-24 are already recorded: change them from the authority page"
        ]
        # The page still names, and links to deleting, the year being changed.
        assert delete_url(2024) in response.content.decode()
        response = camden_lns_client.post(edit_url(2024), {**GOOD, "financial_year": "2025"})
        assert response.status_code == 302
        assert sorted(camden.finance_years.values_list("financial_year", flat=True)) == [
            2023,
            2025,
        ]

    def test_bad_input_changes_nothing(self, camden_lns_client, camden):
        record(camden, 2024, deficit="1000")
        response = camden_lns_client.post(
            edit_url(2024), {**GOOD, "high_needs_block_allocation": "-1"}
        )
        assert response.status_code == 200
        assert camden.finance_years.get().dsg_cumulative_deficit == Decimal("1000")

    def test_a_year_not_recorded_is_not_found(self, camden_lns_client, camden):
        assert camden_lns_client.get(edit_url(2024)).status_code == 404
        assert camden_lns_client.get(delete_url(2024)).status_code == 404


class TestDelete:
    def test_asks_first_then_deletes(self, camden_lns_client, camden):
        record(camden, 2024, deficit="42100000")
        page = camden_lns_client.get(delete_url(2024))
        content = page.content.decode()
        assert "Are you sure you want to delete the 2024-25 figures?" in content
        assert "£42,100,000" in content
        assert camden.finance_years.exists()

        # Without a reason nothing is deleted.
        response = camden_lns_client.post(delete_url(2024), {"base_version": 1})
        assert "Say why you are deleting it" in response.content.decode()
        assert camden.finance_years.exists()

        response = camden_lns_client.post(
            delete_url(2024), {"base_version": 1, "reason": "Entered against the wrong year."}
        )
        assert response.status_code == 302
        assert response["Location"] == CAMDEN_PAGE
        assert not camden.finance_years.exists()
        assert "Camden: the 2024-25 figures are deleted" in (
            camden_lns_client.get(CAMDEN_PAGE).content.decode()
        )

    def test_history_keeps_deleted_figures_with_who_and_why(
        self, camden_lns_client, camden_lns, camden, national_officer_client
    ):
        finance = record(camden, 2024, deficit="42100000")
        camden_lns_client.post(delete_url(2024), {"base_version": 1, "reason": "Entered twice."})
        deleted = AuthorityFinance.history.get(id=finance.pk, history_type="-")
        assert deleted.dsg_cumulative_deficit == Decimal("42100000")
        assert deleted.history_user == camden_lns
        assert deleted.history_change_reason == "Entered twice."
        # National officers read it in the admin, where nobody can change it.
        url = reverse("admin:authorities_historicalauthorityfinance_changelist")
        assert "Entered twice." in national_officer_client.get(url).content.decode()

    def test_a_reason_longer_than_history_keeps_is_refused(self, camden_lns_client, camden):
        record(camden, 2024, deficit="1000")
        response = camden_lns_client.post(
            delete_url(2024), {"base_version": 1, "reason": "x" * 101}
        )
        assert "Say why in 100 characters or fewer" in response.content.decode()
        assert camden.finance_years.exists()

    def test_a_version_no_database_holds_is_out_of_date_not_an_error(
        self, camden_lns_client, camden
    ):
        record(camden, 2024, deficit="1000")
        data = {"base_version": str(2**64), "reason": "Old."}
        response = camden_lns_client.post(delete_url(2024), data)
        assert response.status_code == 200
        assert "The page was out of date" in response.content.decode()
        assert camden.finance_years.exists()

    def test_figures_changed_since_the_page_opened_are_not_deleted(
        self, camden_lns_client, camden
    ):
        finance = record(camden, 2024, deficit="1000")
        finance.version += 1  # someone else saved meanwhile
        finance.save()
        response = camden_lns_client.post(delete_url(2024), {"base_version": 1, "reason": "Old."})
        assert "Someone else changed this since you opened the page" in response.content.decode()
        assert camden.finance_years.exists()

    def test_only_get_and_post(self, camden_lns_client, camden):
        record(camden, 2024, deficit="1")
        assert camden_lns_client.put(delete_url(2024)).status_code == 405
        assert camden.finance_years.exists()


class TestWhoMayChangeFigures:
    @pytest.mark.parametrize("persona", ["camden_senco_lead", "london_organiser"])
    def test_readers_in_scope_are_refused_every_write(self, request, client_for, camden, persona):
        record(camden, 2024, deficit="1000")
        client = client_for(request.getfixturevalue(persona))
        for url in (ADD, edit_url(2024), delete_url(2024)):
            assert client.get(url).status_code == 403
        assert client.post(ADD, {**GOOD, "financial_year": "2023"}).status_code == 403
        assert client.post(edit_url(2024), GOOD).status_code == 403
        assert client.post(delete_url(2024)).status_code == 403
        assert list(
            camden.finance_years.values_list("financial_year", "dsg_cumulative_deficit")
        ) == [(2024, Decimal("1000"))]

    @pytest.mark.parametrize("persona", ["camden_senco_lead", "london_organiser"])
    def test_readers_see_the_figures_without_change_links(
        self, request, client_for, camden, persona
    ):
        record(camden, 2024, deficit="42100000")
        content = client_for(request.getfixturevalue(persona)).get(CAMDEN_PAGE).content.decode()
        assert "£42,100,000" in content
        assert "Add a year" not in content
        assert edit_url(2024) not in content

    def test_editors_get_change_and_add_links(self, camden_lns_client, camden):
        record(camden, 2024, deficit="42100000")
        content = camden_lns_client.get(CAMDEN_PAGE).content.decode()
        assert f'href="{edit_url(2024)}"' in content
        assert f'href="{ADD}"' in content

    def test_another_authority_is_not_found(self, kent_lns, client_for, camden):
        record(camden, 2024, deficit="1000")
        client = client_for(kent_lns)
        for url in (ADD, edit_url(2024), delete_url(2024)):
            assert client.get(url).status_code == 404
            assert client.post(url, GOOD).status_code == 404
        assert camden.finance_years.get().dsg_cumulative_deficit == Decimal("1000")

    @pytest.mark.parametrize(
        ("role", "may_edit"),
        [
            (Role.LNS, True),
            (Role.SCHOOLS_FORUM_REP, True),
            (Role.JCNC_REP, True),
            (Role.SENCO_LEAD, False),
            (Role.HEADTEACHER_REP, False),
        ],
    )
    def test_authority_roles(self, camden, role, may_edit):
        person = make_user(roles=[(role, camden)])
        assert camden.can_edit_finance(person) is may_edit
        assert authority(KENT).can_edit_finance(person) is False

    def test_national_and_regional_roles(
        self, camden, national_officer, london_organiser, northwest_nem
    ):
        assert camden.can_edit_finance(national_officer)
        assert not camden.can_edit_finance(london_organiser)
        assert not camden.can_edit_finance(northwest_nem)
        superuser = make_user(is_superuser=True)
        assert camden.can_edit_finance(superuser)


def test_everyone_in_scope_reads_the_figures_of_their_authorities(
    camden, camden_lns, london_organiser, kent_lns, national_officer
):
    camden_2024 = record(camden, 2024, deficit="1")
    kent_2024 = record(authority(KENT), 2024, deficit="1")
    assert list(AuthorityFinance.objects.for_user(camden_lns)) == [camden_2024]
    assert list(AuthorityFinance.objects.for_user(london_organiser)) == [camden_2024]
    assert list(AuthorityFinance.objects.for_user(kent_lns)) == [kent_2024]
    assert set(AuthorityFinance.objects.for_user(national_officer)) == {camden_2024, kent_2024}


class TestTrend:
    @pytest.mark.parametrize(
        ("change", "words"),
        [
            ("3200000", "up £3.2m"),
            ("3250000", "up £3.3m"),
            ("-2200000", "down £2.2m"),
            ("1000000", "up £1m"),
            ("-12000000", "down £12m"),
            ("450000", "up £450,000"),
            ("-999.50", "down £1,000"),
            ("0", "no change"),
        ],
    )
    def test_a_change_in_words(self, change, words):
        assert format_change(Decimal(change)) == words

    def test_each_year_is_compared_with_the_year_before(self, camden):
        record(camden, 2024, deficit="31000000")
        record(camden, 2022, deficit="30000000")
        record(camden, 2023, deficit="33200000")
        years = camden.finance_years.trend()
        assert [y.financial_year for y in years] == [2022, 2023, 2024]
        assert [y.deficit_trend for y in years] == [
            "",
            "up £3.2m on 2022-23",
            "down £2.2m on 2023-24",
        ]

    def test_no_comparison_across_a_gap_or_an_unknown(self, camden):
        record(camden, 2020, deficit="1000000")
        record(camden, 2022, deficit="2000000")
        record(camden, 2023, high_needs_block_allocation=Decimal("5"))
        record(camden, 2024, deficit="3000000")
        assert [y.deficit_trend for y in camden.finance_years.trend()] == ["", "", "", ""]

    def test_the_trend_is_on_the_authority_page_oldest_first(self, camden_lns_client, camden):
        record(camden, 2023, deficit="33200000")
        record(camden, 2022, deficit="30000000")
        content = camden_lns_client.get(CAMDEN_PAGE).content.decode()
        assert content.index("2022-23</th>") < content.index("2023-24</th>")
        assert "Up £3.2m on 2022-23" in content

    def test_no_figures_yet_is_said_plainly(self, camden_lns_client):
        content = camden_lns_client.get(CAMDEN_PAGE).content.decode()
        assert "No finance figures are recorded for Camden yet." in content


class TestModel:
    def test_year_label(self):
        assert AuthorityFinance(financial_year=2024).financial_year_label == "2024-25"
        assert AuthorityFinance(financial_year=2099).financial_year_label == "2099-00"

    def test_clean_wants_a_source_for_each_figure(self, camden):
        finance = AuthorityFinance(
            authority=camden, financial_year=2024, ehcp_count=10, schools_block_transfer=0
        )
        with pytest.raises(ValidationError) as error:
            finance.full_clean()
        assert error.value.message_dict == {
            "ehcp_count_source_url": [
                "Enter the web address of the source of the number of EHCPs"
            ],
            "schools_block_transfer_source_url": [
                "Enter the web address of the source of the block transfer"
            ],
        }

    @pytest.mark.parametrize(
        "figures",
        [
            {"financial_year": 2009},
            {"financial_year": 2041},
            {"financial_year": 2024, "high_needs_block_allocation": Decimal("-1")},
            {"financial_year": 2024, "schools_block_transfer": Decimal("-1")},
        ],
    )
    def test_the_database_refuses_what_the_form_would(self, camden, figures):
        with pytest.raises(IntegrityError):
            AuthorityFinance.objects.create(authority=camden, **figures)

    def test_the_database_refuses_a_year_twice(self, camden):
        record(camden, 2024, deficit="1")
        with pytest.raises(IntegrityError):
            record(camden, 2024, deficit="2")


class TestAdmin:
    ADD = reverse("admin:authorities_authorityfinance_add")
    # The admin takes plain numbers.
    FIGURES = {
        **GOOD,
        "dsg_cumulative_deficit": "42100000",
        "schools_block_transfer": "1500000.50",
        "ehcp_count": "2450",
    }

    def test_national_officer_lists_and_searches(self, national_officer_client, camden):
        record(camden, 2024, deficit="1")
        record(authority(KENT), 2023, deficit="1")
        response = national_officer_client.get(
            reverse("admin:authorities_authorityfinance_changelist"),
            {"q": "camden", "financial_year": 2024},
        )
        assert response.status_code == 200
        assert [str(row) for row in response.context["cl"].result_list] == ["Camden, 2024-25"]

    def test_adding_records_who_did_it(self, national_officer_client, national_officer, camden):
        response = national_officer_client.post(self.ADD, {**self.FIGURES, "authority": camden.pk})
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert camden.finance_years.get().updated_by == national_officer

    def test_the_same_rules_hold(self, national_officer_client, camden):
        record(camden, 2024, deficit="1")
        response = national_officer_client.post(
            self.ADD, {**self.FIGURES, "authority": camden.pk, "ehcp_count_source_url": ""}
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["ehcp_count_source_url"] == [
            "Enter the web address of the source of the number of EHCPs"
        ]
        assert errors["__all__"] == ["Figures for this year are already recorded."]


class TestQueryCount:
    """The authority page costs the same with one year of figures as with ten."""

    @pytest.mark.parametrize("years", [1, 10])
    # Both include the page's meetings, block transfers and actions (3), its
    # feedback figures (1), the Schools Forum's answers (1) and the authority
    # (read once, in scope, and who covers it, directly or through its
    # region, in one more: read_coverage), and the official figures and
    # inspections (2), the reader's digest and whether they watch it (1), the
    # reports to the national office (1), its open warnings (every kind
    # counted in one query, and the feedback tallies for rising waits: 2 with
    # none to read) and the authorities most like it by the official figures
    # (1 with none loaded), and its trusts and branches (1). Whether its
    # region's page is open to the reader is a query for a national officer
    # and none for an LNS (who covers no region); what the reader may do
    # there, none (their roles come with them: User.held). With plans, the
    # dashboard reads more: see tests/test_authority_dashboard.py.
    @pytest.mark.parametrize(
        ("persona", "queries"), [("national_officer", 21), ("camden_lns", 20)]
    )
    def test_pinned(
        self, request, client_for, camden, django_assert_num_queries, years, persona, queries
    ):
        for year in range(2015, 2015 + years):
            record(
                camden,
                year,
                deficit=str(1_000_000 * year),
                high_needs_block_allocation=Decimal("90000000"),
                ehcp_count=2000,
            )
        client = client_for(request.getfixturevalue(persona))
        with django_assert_num_queries(queries):
            response = client.get(CAMDEN_PAGE)
        assert len(response.context["finance_years"]) == years


def test_a_mistyped_figure_is_not_taken_for_no_figure(camden_lns_client):
    response = camden_lns_client.post(
        ADD, {"financial_year": "2024", "ehcp_count": "2,45O", "ehcp_count_source_url": ""}
    )
    # Not "Enter at least one figure": one was typed, and it needs a source.
    assert response.context["form"].errors == {
        "ehcp_count": ["Enter the number of EHCPs as a whole number, like 2450"],
        "ehcp_count_source_url": ["Enter the web address of the source of the number of EHCPs"],
    }
