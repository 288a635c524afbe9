"""The authority pages: home, list, detail and region, as each persona sees them."""

import pytest
from django.urls import reverse

from authorities.access import Role
from authorities.models import LocalAuthority

from .factories import authority, make_user, region

pytestmark = pytest.mark.django_db


def names_listed(response):
    return [a.name for a in response.context["page"]]


class TestHome:
    def test_camden_lns_sees_camden_and_who_covers_it(self, camden_lns_client, camden_senco_lead):
        response = camden_lns_client.get(reverse("home"))
        assert [a.name for a in response.context["authorities"]] == ["Camden"]
        content = response.content.decode()
        assert "Local negotiating secretary" in content
        assert camden_senco_lead.email in content or "SENCO network lead" in content
        assert "Kent" not in content

    def test_organiser_sees_their_region(self, london_organiser_client):
        response = london_organiser_client.get(reverse("home"))
        assert [r.name for r in response.context["regions"]] == ["London"]
        assert len(response.context["authorities"]) == 33

    def test_national_officer_is_shown_regions_not_153_rows(self, national_officer_client):
        response = national_officer_client.get(reverse("home"))
        assert response.context["authorities"] is None
        assert len(response.context["regions"]) == 9
        assert "all 153 authorities" in response.content.decode()

    def test_person_without_a_role_is_told_what_to_do(self, client_for, no_role_user):
        response = client_for(no_role_user).get(reverse("home"))
        assert "You do not cover any authority or region yet" in response.content.decode()
        assert not response.context["authorities"]

    def test_query_count_does_not_grow_with_authorities(
        self, client_for, django_assert_num_queries
    ):
        organiser = make_user(roles=[(Role.REGIONAL_ORGANISER, region("London"))])
        for la in LocalAuthority.objects.filter(region__name="London")[:20]:
            make_user(roles=[(Role.LNS, la)])
            make_user(roles=[(Role.SENCO_LEAD, la)])
        client = client_for(organiser)
        # Session, user, regions, memberships, their open actions, their
        # authorities with who covers them (3; counted as listed): 8; the early
        # warnings under "What needs you" and "See all N" (counted in one
        # query, and rising waits: 2; no kind to read, as there are none;
        # tests/test_home.py; an organiser is not asked about checklists or
        # meetings); the national timeline's next dates.
        with django_assert_num_queries(8 + 2 + 1):
            response = client.get(reverse("home"))
        assert len(response.context["authorities"]) == 33
        assert response.context["authority_count"] == 33


class TestAuthorityList:
    url = reverse("dashboards:authority_list")

    def test_shows_only_authorities_in_scope(self, camden_lns_client, kent_lns):
        response = camden_lns_client.get(self.url)
        assert names_listed(response) == ["Camden"]

    def test_organiser_sees_their_region(self, london_organiser_client):
        response = london_organiser_client.get(self.url)
        assert response.context["page"].paginator.count == 33
        assert {a.region.name for a in response.context["page"]} == {"London"}

    def test_national_officer_sees_all_153_in_pages_of_50(self, national_officer_client):
        response = national_officer_client.get(self.url)
        page = response.context["page"]
        assert page.paginator.count == 153
        assert len(page.object_list) == 50
        assert 'aria-label="Page 4"' in response.content.decode()
        last = national_officer_client.get(self.url, {"page": 4})
        assert len(last.context["page"].object_list) == 3

    def test_a_page_past_the_end_shows_the_last_page(self, national_officer_client):
        response = national_officer_client.get(self.url, {"page": 99})
        assert response.context["page"].number == 4

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("Kingston upon Hull", "Kingston upon Hull, City of"),
            ("hull", "Kingston upon Hull, City of"),
            ("bristol", "Bristol, City of"),
            ("886", "Kent"),
            ("E09000007", "Camden"),
            ("e09000007", "Camden"),
            ("St Helens", "St. Helens"),
        ],
    )
    def test_search_by_name_alias_or_code(self, national_officer_client, query, expected):
        response = national_officer_client.get(self.url, {"q": query})
        assert expected in names_listed(response)

    def test_search_matches_parts_of_names(self, national_officer_client):
        response = national_officer_client.get(self.url, {"q": "Hull"})
        assert names_listed(response) == ["Kingston upon Hull, City of", "Solihull"]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            # An alias, then a part of a word.
            ("Hull", ["Kingston upon Hull, City of", "Solihull"]),
            # The whole name before parts of words, whatever the alphabet says.
            ("york", ["York", "East Riding of Yorkshire", "North Yorkshire"]),
            ("somerset", ["Somerset", "Bath and North East Somerset", "North Somerset"]),
            # Whole words before parts of words.
            ("sea", ["Southend-on-Sea", "Kensington and Chelsea"]),
            # Punctuation does not stop a whole-word match.
            ("Stockton on Tees", ["Stockton-on-Tees"]),
            ("st helens", ["St. Helens"]),
        ],
    )
    def test_search_lists_the_best_matches_first(self, national_officer_client, query, expected):
        response = national_officer_client.get(self.url, {"q": query})
        assert names_listed(response)[: len(expected)] == expected
        content = response.content.decode()
        assert "best matches first" in content
        assert "aria-sort" not in content  # no column claims the order

    def test_a_chosen_sort_overrides_the_best_matches(self, national_officer_client):
        response = national_officer_client.get(self.url, {"q": "york", "sort": "name"})
        assert names_listed(response) == ["East Riding of Yorkshire", "North Yorkshire", "York"]
        assert "best matches first" not in response.content.decode()

    def test_search_never_reaches_outside_scope(self, camden_lns_client):
        response = camden_lns_client.get(self.url, {"q": "Kent"})
        assert names_listed(response) == []
        assert "No authorities match" in response.content.decode()

    def test_filter_by_region(self, national_officer_client):
        response = national_officer_client.get(self.url, {"region": "north-east"})
        assert response.context["page"].paginator.count == 12
        assert {a.region.name for a in response.context["page"]} == {"North East"}

    def test_region_choices_are_only_those_in_scope(self, london_organiser_client):
        response = london_organiser_client.get(self.url)
        assert [r.slug for r in response.context["form"].fields["region"].queryset] == ["london"]

    def test_unknown_region_is_an_error_and_the_search_is_kept(self, london_organiser_client):
        response = london_organiser_client.get(self.url, {"q": "Camden", "region": "north-east"})
        content = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in content
        assert 'href="#id_region">Choose a region from the list' in content
        assert 'value="Camden"' in content
        assert names_listed(response) == ["Camden"]

    @pytest.mark.parametrize(
        ("sort", "first"),
        [
            ("name", "Barking and Dagenham"),
            ("-name", "Westminster"),
            ("code", "City of London"),
            ("-code", "Waltham Forest"),
        ],
    )
    def test_sort(self, london_organiser_client, sort, first):
        response = london_organiser_client.get(self.url, {"sort": sort})
        assert names_listed(response)[0] == first

    def test_unknown_sort_is_reported_and_the_list_sorted_by_name(self, london_organiser_client):
        response = london_organiser_client.get(self.url, {"sort": "size"})
        assert "Sort by name, code or region" in response.content.decode()
        assert names_listed(response)[0] == "Barking and Dagenham"

    def test_sort_by_region_then_name(self, national_officer_client):
        response = national_officer_client.get(self.url, {"sort": "region"})
        assert names_listed(response)[:2] == ["Derby", "Derbyshire"]

    def test_sort_link_keeps_the_search_and_marks_the_column(self, national_officer_client):
        response = national_officer_client.get(self.url, {"q": "upon", "sort": "name"})
        content = response.content.decode()
        assert 'aria-sort="ascending"' in content
        assert "?q=upon&amp;sort=-name" in content

    def test_page_links_keep_filter_and_sort(self, national_officer_client):
        response = national_officer_client.get(self.url, {"sort": "-code"})
        assert "?sort=-code&amp;page=2" in response.content.decode()

    @pytest.mark.usefixtures("page_cache")
    def test_query_count_is_pinned(self, national_officer_client, django_assert_num_queries):
        # 153 authorities, 50 on the page: the count must not depend on either.
        # Session, user, the count, the regions, the page.
        with django_assert_num_queries(5):
            national_officer_client.get(self.url, {"sort": "region"})
        # Asked again, from the page cache: session and user.
        with django_assert_num_queries(2):
            national_officer_client.get(self.url, {"sort": "region"})


class TestAuthorityDetail:
    def test_shows_codes_region_aliases_and_coverage(
        self, client_for, london_organiser, camden_lns, camden_senco_lead
    ):
        response = client_for(camden_lns).get(reverse("dashboards:authority", args=["camden"]))
        content = response.content.decode()
        assert "E09000007" in content
        assert "202" in content
        for person in (camden_lns, camden_senco_lead, london_organiser):
            assert person.email in content
        assert "Regional organiser, London" in content
        # An LNS has no region-wide scope, so the region is not a link for them.
        assert reverse("dashboards:region", args=["london"]) not in content

    def test_organiser_gets_a_link_to_the_region(self, london_organiser_client):
        response = london_organiser_client.get(reverse("dashboards:authority", args=["camden"]))
        assert reverse("dashboards:region", args=["london"]) in response.content.decode()

    def test_aliases_are_listed(self, national_officer_client):
        response = national_officer_client.get(
            reverse("dashboards:authority", args=[authority("810").slug])
        )
        assert "Also known as" in response.content.decode()
        assert "Hull" in response.content.decode()

    def test_nobody_covering_is_said_plainly(self, national_officer_client):
        response = national_officer_client.get(reverse("dashboards:authority", args=["rutland"]))
        assert "No one in the union is recorded as covering Rutland yet" in (
            response.content.decode()
        )

    def test_query_count_is_pinned(
        self, client_for, national_officer, django_assert_num_queries, camden
    ):
        for role in (Role.LNS, Role.SENCO_LEAD, Role.SCHOOLS_FORUM_REP, Role.JCNC_REP):
            make_user(roles=[(role, camden)])
            make_user(roles=[(role, camden)])
        client = client_for(national_officer)
        # 6 (who covers it, however many, one: read_coverage), plus the
        # finance years (tests/test_finance.py),
        # plus meetings, block transfers and open actions (tests/test_consultations.py),
        # plus the feedback figures (tests/test_feedback.py), plus the Schools
        # Forum's answers (tests/test_authority_dashboard.py, which pins the
        # page with plans), plus the official figures and inspections
        # (tests/test_official.py), plus the reader's digest and whether they
        # watch it, plus the reports to the national office, plus its open
        # warnings and similar authorities (tests/test_finance.py), plus its
        # trusts and branches (tests/test_trusts_and_branches.py).
        with django_assert_num_queries(21):
            client.get(reverse("dashboards:authority", args=["camden"]))


# The region page, cold: session, user, region, its people; the early
# warnings (counted from the index of open warnings in one query, and the
# feedback tallies for rising waits; then, where there are some, the twenty
# newest from the index and the records of each kind among them, never more
# than one query a kind, dashboards/warnings.warning_summary); the overview
# table's rows
# (programmes, authorities with their last meeting, who covers them (2), the
# checklist bank (2), plans, instalments, actions, feedback, official figures:
# tests/test_overview.py); plans agreed without consultation, the feedback
# figures (each authority's total, then the tallies' lines a term: at 10x
# adding up a total an authority takes a tenth of adding up every term's,
# feedback.aggregates.region_feedback), meetings and block transfers (the
# newest and their count).
REGION_PAGE_QUERIES = 21  # and, with warnings, the newest (1) and a query a kind among them


class TestRegion:
    def test_lists_the_region_authorities_and_its_people(
        self, london_organiser_client, london_organiser, camden_lns
    ):
        response = london_organiser_client.get(reverse("dashboards:region", args=["london"]))
        content = response.content.decode()
        # The overview table for the region (tests/test_overview.py) names who
        # covers each authority, as the plain list it replaced did.
        assert len(response.context["overview"].rows) == 33
        assert london_organiser.email in content
        assert "Carys Evans" in content

    def test_region_without_people_says_so(self, national_officer_client):
        response = national_officer_client.get(reverse("dashboards:region", args=["south-west"]))
        assert "No regional organiser or national executive member" in response.content.decode()

    def test_query_count_is_pinned(self, london_organiser_client, django_assert_num_queries):
        for la in LocalAuthority.objects.filter(region__name="London"):
            make_user(roles=[(Role.LNS, la)])
        with django_assert_num_queries(REGION_PAGE_QUERIES):
            london_organiser_client.get(reverse("dashboards:region", args=["london"]))
