"""The briefing's section 7: multi-academy trusts and local branches, who
records them, their pages, the meetings and feedback linked to them, and
the search box finding a trust. Who reaches which URL is tests/test_access.py."""

import datetime
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from authorities.models import Branch, LocalAuthority, MultiAcademyTrust
from consultations.models import Forum, Meeting
from feedback.aggregates import FEWER
from feedback.models import FeedbackSubmission

from .factories import CAMDEN, KENT, authority
from .test_consultations import ADD as MEETING_ADD
from .test_consultations import BLANK_FORUM_PARTS, meeting_data
from .test_feedback import ADD as FEEDBACK_ADD
from .test_feedback import form_data as feedback_data

pytestmark = pytest.mark.django_db

TRUST_ADD = reverse("authorities:trust_add")
BRANCH_ADD = reverse("authorities:branch_add")
TODAY = timezone.localdate()


def text(response):
    return " ".join(response.content.decode().split())


def make_trust(*la_codes, name="Camden Learning Trust", **fields):
    trust = MultiAcademyTrust.objects.create(name=name, **fields)
    trust.authorities.set([authority(code) for code in la_codes or (CAMDEN,)])
    return trust


def make_branch(*la_codes, name="Camden branch"):
    branch = Branch.objects.create(name=name)
    branch.authorities.set([authority(code) for code in la_codes or (CAMDEN,)])
    return branch


def trust_data(**changes):
    data = {
        "name": "North London Schools Trust",
        "authorities": [str(authority(CAMDEN).pk)],
        "mainstream_schools": "12",
        "special_schools": "2",
        "notes": "Runs the two special schools that take most of Camden's EHCP placements.",
    }
    data.update(changes)
    return data


def edit_url(record):
    kind = "trust" if isinstance(record, MultiAcademyTrust) else "branch"
    return reverse(f"authorities:{kind}_edit", args=[record.pk])


class TestRecordingATrust:
    def test_an_organiser_adds_a_trust_and_sees_its_page(self, client_for, london_organiser):
        client = client_for(london_organiser)
        response = client.post(TRUST_ADD, trust_data(), follow=True)
        trust = MultiAcademyTrust.objects.get()
        assert response.redirect_chain[-1][0] == trust.get_absolute_url()
        assert "North London Schools Trust is saved" in text(response)
        assert (trust.mainstream_schools, trust.special_schools) == (12, 2)
        assert list(trust.authorities.values_list("name", flat=True)) == ["Camden"]
        assert trust.updated_by == london_organiser
        # Kept with who made it, as every record people edit.
        assert {h.history_user for h in trust.history.all()} == {london_organiser}

    def test_a_mistake_keeps_everything_else_typed(self, client_for, london_organiser):
        client = client_for(london_organiser)
        response = client.post(
            TRUST_ADD, trust_data(name="", special_schools="two", notes="Keep this note")
        )
        assert response.status_code == 200
        page = text(response)
        assert "There is a problem" in page
        assert "Enter the name of the trust" in page
        assert "Enter the number of special schools as a whole number" in page
        assert "Keep this note" in page
        assert 'value="12"' in page
        assert f'value="{authority(CAMDEN).pk}" checked' in response.content.decode() or (
            "checked" in response.content.decode()
        )
        assert not MultiAcademyTrust.objects.exists()

    def test_no_authority_is_refused(self, client_for, london_organiser):
        response = client_for(london_organiser).post(TRUST_ADD, trust_data(authorities=[]))
        assert "Choose at least one authority the trust covers" in text(response)

    def test_a_name_already_recorded_is_refused_whatever_its_case(
        self, client_for, london_organiser
    ):
        make_trust(name="North London Schools Trust")
        response = client_for(london_organiser).post(
            TRUST_ADD, trust_data(name="north london schools trust")
        )
        assert "A trust with this name is already recorded" in text(response)
        assert MultiAcademyTrust.objects.count() == 1

    def test_an_organiser_is_offered_only_their_region(self, client_for, london_organiser):
        client = client_for(london_organiser)
        offered = client.get(TRUST_ADD).context["form"].fields["authorities"].queryset
        assert authority(CAMDEN) in offered
        assert authority(KENT) not in offered
        response = client.post(TRUST_ADD, trust_data(authorities=[str(authority(KENT).pk)]))
        assert "Select a valid choice" in text(response)

    def test_a_save_keeps_the_authorities_not_offered(self, client_for, london_organiser, kent):
        trust = make_trust(CAMDEN, KENT)
        client = client_for(london_organiser)
        response = client.get(edit_url(trust))
        assert "also covers 1 authorities outside your area" in text(response)
        client.post(
            edit_url(trust),
            trust_data(name=trust.name, base_version=str(trust.version)),
        )
        trust.refresh_from_db()
        assert set(trust.authorities.values_list("la_code", flat=True)) == {CAMDEN, KENT}
        assert trust.version == 2

    def test_a_stale_save_is_refused_and_says_what_changed(self, client_for, london_organiser):
        trust = make_trust(mainstream_schools=10)
        opened = trust.version
        other = MultiAcademyTrust.objects.get(pk=trust.pk)
        other.mainstream_schools = 11
        other.version += 1
        other.save()
        response = client_for(london_organiser).post(
            edit_url(trust),
            trust_data(name=trust.name, mainstream_schools="14", base_version=str(opened)),
        )
        assert response.status_code == 409
        assert "Someone else changed this trust while you were editing it" in text(response)
        trust.refresh_from_db()
        assert trust.mainstream_schools == 11

    def test_saved_unchanged_writes_nothing(self, client_for, london_organiser):
        trust = make_trust(**{"mainstream_schools": 12, "special_schools": 2})
        kept = trust.history.count()
        client_for(london_organiser).post(
            edit_url(trust),
            trust_data(name=trust.name, notes="", base_version=str(trust.version)),
        )
        trust.refresh_from_db()
        assert trust.version == 1
        assert trust.history.count() == kept

    def test_readers_in_scope_may_not_change_it(self, client_for, camden_lns):
        trust = make_trust()
        assert client_for(camden_lns).post(edit_url(trust), trust_data()).status_code == 403
        assert not trust.can_edit(camden_lns)


class TestScope:
    def test_a_trust_is_seen_where_it_runs_schools(
        self, client_for, london_organiser, kent_lns, national_officer
    ):
        camden_trust = make_trust(name="Camden Learning Trust")
        kent_trust = make_trust(KENT, name="Weald Academies")
        shared = make_trust(CAMDEN, KENT, name="Two Counties Trust")
        assert set(MultiAcademyTrust.objects.for_user(london_organiser)) == {camden_trust, shared}
        assert set(MultiAcademyTrust.objects.for_user(kent_lns)) == {kent_trust, shared}
        assert MultiAcademyTrust.objects.for_user(national_officer).count() == 3
        assert client_for(kent_lns).get(camden_trust.get_absolute_url()).status_code == 404
        listed = client_for(kent_lns).get(reverse("authorities:trusts"))
        assert [t.name for t in listed.context["page"]] == [
            "Two Counties Trust",
            "Weald Academies",
        ]

    def test_the_list_is_pinned(self, client_for, london_organiser, django_assert_num_queries):
        for n in range(6):
            make_trust(name=f"Trust {n}")
        client = client_for(london_organiser)
        client.get(reverse("authorities:trusts"))
        # Session and person, the count, the page, the trusts' authorities,
        # and whether the person may add one.
        with django_assert_num_queries(6):
            response = client.get(reverse("authorities:trusts"))
        assert response.context["page"].paginator.count == 6


class TestOnTheAuthorityPage:
    def test_its_trusts_then_its_branches_by_name(self, client_for, camden_lns):
        make_trust(name="Zeta Trust")
        make_trust(name="Alpha Trust")
        make_branch()
        make_trust(KENT, name="Weald Academies")
        page = text(client_for(camden_lns).get(authority(CAMDEN).get_absolute_url()))
        listed = re.sub(
            r"<[^>]+>", "", page[page.index("Multi-academy trusts and local branches") :]
        )
        assert listed.index("Alpha Trust (runs schools here)") < listed.index(
            "Zeta Trust (runs schools here)"
        )
        assert listed.index("Zeta Trust") < listed.index("Camden branch (local branch)")
        assert "Weald Academies" not in page

    def test_none_recorded_says_so(self, client_for, camden_lns):
        page = text(client_for(camden_lns).get(authority(CAMDEN).get_absolute_url()))
        assert "No multi-academy trust or local branch is recorded for Camden yet." in page


class TestTheTrustPage:
    def test_it_lists_its_meetings_and_suppresses_small_feedback(
        self, client_for, london_organiser, national_officer
    ):
        trust = make_trust(special_schools=3, notes="Three special schools")
        Meeting.objects.create(
            authority=authority(CAMDEN),
            forum=Forum.OTHER,
            title="Meeting with the chief executive",
            held_on=TODAY - datetime.timedelta(days=2),
            trust=trust,
        )
        for _ in range(3):
            FeedbackSubmission.objects.create(
                authority=authority(CAMDEN),
                source="senco_network",
                phases=["special"],
                people_count=4,
                meeting_date=TODAY - datetime.timedelta(days=5),
                health_care_costs="no",
                trust=trust,
            )
        response = client_for(london_organiser).get(trust.get_absolute_url())
        page = text(response)
        assert "Meeting with the chief executive" in page
        assert response.context["feedback"].submissions == FEWER
        assert "Three special schools" in page
        response = client_for(national_officer).get(trust.get_absolute_url())
        assert response.context["feedback"].submissions == "3"

    def test_five_submissions_are_shown(self, client_for, london_organiser):
        trust = make_trust()
        for _ in range(5):
            FeedbackSubmission.objects.create(
                authority=authority(CAMDEN),
                source="member",
                phases=["primary"],
                people_count=1,
                meeting_date=TODAY,
                health_care_costs="yes",
                trust=trust,
            )
        response = client_for(london_organiser).get(trust.get_absolute_url())
        assert response.context["feedback"].submissions == "5"


class TestLinks:
    def test_a_meeting_names_a_trust_that_runs_schools_there(self, client_for, camden_lns, kent):
        trust = make_trust()
        elsewhere = make_trust(KENT, name="Weald Academies")
        client = client_for(camden_lns)
        response = client.post(MEETING_ADD, meeting_data(trust=str(elsewhere.pk)))
        assert response.status_code == 200
        assert "Select a valid choice" in text(response)
        client.post(MEETING_ADD, meeting_data(trust=str(trust.pk)))
        meeting = Meeting.objects.get()
        assert meeting.trust == trust
        assert trust.name in text(client.get(meeting.get_absolute_url()))

    def test_a_branch_meeting_names_its_branch(self, client_for, camden_lns):
        branch = make_branch()
        client = client_for(camden_lns)
        response = client.post(
            MEETING_ADD, meeting_data(forum="schools_forum", branch=str(branch.pk))
        )
        assert "Choose a branch only for a branch meeting" in text(response)
        response = client.post(
            MEETING_ADD,
            meeting_data(**BLANK_FORUM_PARTS, forum=Forum.BRANCH, branch=str(branch.pk)),
            follow=True,
        )
        meeting = Meeting.objects.get()
        assert (meeting.forum, meeting.branch) == (Forum.BRANCH, branch)
        assert meeting.name == "Branch meeting"
        branch_page = client.get(branch.get_absolute_url())
        assert branch_page.context["meetings"] == [meeting]

    def test_feedback_names_a_trust(self, client_for, camden_senco_lead):
        trust = make_trust()
        client = client_for(camden_senco_lead)
        client.post(FEEDBACK_ADD, feedback_data(trust=str(trust.pk)))
        assert FeedbackSubmission.objects.get().trust == trust

    def test_the_model_refuses_a_trust_elsewhere(self, kent):
        trust = make_trust(KENT, name="Weald Academies")
        meeting = Meeting(authority=authority(CAMDEN), forum="jcnc", held_on=TODAY, trust=trust)
        with pytest.raises(Exception, match="runs schools in this authority"):
            meeting.full_clean()


class TestBranches:
    def test_a_nem_adds_a_branch(self, client_for, northwest_nem):
        manchester = LocalAuthority.objects.get(slug="manchester")
        response = client_for(northwest_nem).post(
            BRANCH_ADD, {"name": "Manchester branch", "authorities": [str(manchester.pk)]}
        )
        branch = Branch.objects.get()
        assert response["Location"] == branch.get_absolute_url()
        assert list(branch.authorities.all()) == [manchester]

    def test_a_branch_error_keeps_the_name(self, client_for, northwest_nem):
        response = client_for(northwest_nem).post(
            BRANCH_ADD, {"name": "Manchester branch", "authorities": []}
        )
        assert "Choose at least one authority the branch covers" in text(response)
        assert 'value="Manchester branch"' in response.content.decode()

    def test_out_of_scope_is_not_found(self, client_for, northwest_nem):
        branch = make_branch()
        assert client_for(northwest_nem).get(branch.get_absolute_url()).status_code == 404
        assert client_for(northwest_nem).get(edit_url(branch)).status_code == 404


class TestSearch:
    def test_finds_a_trust_by_its_words_within_scope(self, client_for, camden_lns, kent):
        make_trust(notes="Converting its resource bases into special school places")
        make_trust(KENT, name="Weald Academies", notes="Resource bases closing")
        response = client_for(camden_lns).get(reverse("dashboards:search"), {"q": "resource"})
        found = {kind.kind: [hit.title for hit in kind.hits] for kind in response.context["found"]}
        assert found["Multi-academy trusts"] == ["Camden Learning Trust"]


class TestDemo:
    def test_demo_trusts_a_branch_and_its_meeting_are_made_once(self, settings, camden):
        settings.DEBUG = False
        with pytest.raises(CommandError):
            call_command("create_demo_trusts", stdout=StringIO())
        settings.DEBUG = True
        for _ in range(2):
            call_command("create_demo_trusts", stdout=StringIO())
            call_command("create_demo_meetings", stdout=StringIO())
        assert MultiAcademyTrust.objects.count() == 2
        branch = Branch.objects.get()
        meeting = Meeting.objects.get(branch=branch)
        assert meeting.forum == Forum.BRANCH
        # Valid as a meeting (its logger is a demo person, not made here).
        meeting.full_clean(exclude=["created_by"])
