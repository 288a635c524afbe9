"""The dashboards' cache: a save is visible on the very next request."""

import datetime
import re
from io import StringIO

import pytest
from django.core.cache import caches
from django.core.management import call_command, get_commands
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from authorities import caching
from authorities.models import LocalAuthority
from config import release
from consultations.models import Action, Meeting
from dashboards import views as dashboards_views
from feedback.models import FeedbackSubmission
from official.management.commands.load_official_statistics import DATA_DIR as OFFICIAL_DATA
from plans.models import FundingInstalment, Plan, Programme, Target

from .factories import CAMDEN, authority, make_plan, make_user

OVERVIEW = reverse("dashboards:overview")

# Every test here is about the page cache: on (the rest of the suite runs
# without it).
pytestmark = pytest.mark.usefixtures("page_cache")


def text(response):
    """The page's words, tags stripped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def camden_row(response):
    return next(r for r in response.context["overview"].rows if r.authority.la_code == CAMDEN)


def test_a_save_is_seen_on_the_next_request(national_officer_client):
    plan = make_plan(CAMDEN)
    assert camden_row(national_officer_client.get(OVERVIEW)).withheld == 0
    FundingInstalment.objects.create(plan=plan, financial_year=2024, amount=5, status="withheld")
    assert camden_row(national_officer_client.get(OVERVIEW)).withheld == 5


def test_a_delete_is_seen_on_the_next_request(national_officer_client):
    action = Action.objects.create(authority=authority(CAMDEN), title="Ask the Forum")
    assert camden_row(national_officer_client.get(OVERVIEW)).open_actions == 1
    action.delete()
    assert camden_row(national_officer_client.get(OVERVIEW)).open_actions == 0


def test_an_unchanged_page_comes_from_the_cache(national_officer_client, monkeypatch):
    national_officer_client.get(OVERVIEW)
    computed = []
    monkeypatch.setattr("dashboards.overview.build_rows", lambda *a, **k: computed.append(1) or [])
    national_officer_client.get(OVERVIEW)
    assert computed == []


def test_each_person_has_their_own(national_officer_client, london_organiser_client):
    national = national_officer_client.get(OVERVIEW).context["overview"].rows
    london = london_organiser_client.get(OVERVIEW).context["overview"].rows
    assert (len(national), len(london)) == (153, 33)


def test_the_version_changes_again_when_a_transaction_commits(
    db, django_capture_on_commit_callbacks
):
    before = caching.data_version()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        caching.data_changed()
        during = caching.data_version()
    assert before != during != caching.data_version()


def test_a_lost_version_never_comes_back(db):
    first = caching.data_version()
    caches[caching.CACHE_ALIAS].delete(caching.VERSION_KEY)
    assert caching.data_version() != first


def test_signing_in_does_not_make_the_data_new(db, national_officer):
    before = caching.data_version()
    national_officer.save(update_fields=["last_login"])
    assert caching.data_version() == before
    national_officer.save()
    assert caching.data_version() != before


# Every command that writes the app's data, with what it needs to have
# something to change: each makes cached pages old, bulk writes included
# (they send no signal, so the command says so itself).
def _renamed_programme():
    Programme.objects.filter(code="SV").update(name="Renamed by hand")


def _erasable_person():
    make_user("leaving.rep@example.org", roles=[])


def _renamed_authority():
    LocalAuthority.objects.filter(la_code=CAMDEN).update(name="Renamed by hand")


def _demo_plans():
    """What the demo's warnings dealt with are about (a page cache test
    needs only that one is made)."""
    call_command("create_demo_people", stdout=StringIO())
    call_command("create_demo_reform_plans", stdout=StringIO())


WRITERS = {
    "prune_feedback": ((), {}, lambda: None),
    "load_programmes": ((), {}, _renamed_programme),
    "load_reference_data": ((), {}, _renamed_authority),
    # One small file of the shipped copy (all of it takes seconds).
    "load_official_statistics": (
        (str(OFFICIAL_DATA / "send-tribunal-appeal-rate-2014-2024.csv"),),
        {},
        lambda: None,
    ),
    "create_demo_people": ((), {}, lambda: None),
    "load_timeline": ((), {}, lambda: None),
    "create_demo_reform_plans": ((), {}, lambda: None),
    "create_demo_trusts": ((), {}, lambda: None),
    "create_demo_meetings": ((), {}, lambda: None),
    "create_demo_warnings_dealt_with": ((), {}, _demo_plans),
    "seed_scale": ((), {"scale": 0.01}, lambda: None),
    "person_erase": (("leaving.rep@example.org",), {"yes": True}, _erasable_person),
}


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("command", WRITERS)
def test_every_command_that_writes_makes_the_data_new(settings, command):
    settings.DEBUG = True  # the demo and benchmark commands refuse otherwise
    args, options, prepare = WRITERS[command]
    prepare()
    before = caching.data_version()
    call_command(command, *args, stdout=StringIO(), **options)
    assert caching.data_version() != before


def test_every_writing_command_is_in_the_list():
    """A new command that writes must join WRITERS; these only read, or
    write nothing a page shows (an action's last reminder date)."""
    readers = {"person_export", "demo_code", "send_action_reminders"}
    # The task queue's own rows, and a database file: no page shows them.
    readers |= {"schedule_digests", "backup", "table_fingerprints"}
    # Restores into an empty database, then makes every page new
    # (tests/test_backups.py).
    readers |= {"restore"}
    commands = {
        name
        for name, app in get_commands().items()
        if app in {"authorities", "plans", "consultations", "feedback", "official", "dashboards"}
    }
    assert commands == set(WRITERS) | readers


def new_submission(by):
    return FeedbackSubmission.objects.create(
        authority=authority(CAMDEN),
        submitted_by=by,
        source="senco_network",
        people_count=3,
        meeting_date="2026-10-01",
        health_care_costs="no",
    )


def test_new_feedback_is_counted_on_the_next_request(london_organiser_client, camden_senco_lead):
    page = reverse("dashboards:region", args=["london"])

    def count():
        return london_organiser_client.get(page).context["feedback"].count

    before = count()
    new_submission(by=camden_senco_lead)
    assert count() == before + 1


def test_the_authority_page_shows_a_new_action_at_once(camden_lns_client):
    page = reverse("dashboards:authority", args=["camden"])
    assert camden_lns_client.get(page).context["open_actions"] == []
    Action.objects.create(authority=authority(CAMDEN), title="Arrange a SENCO meeting")
    titles = [a.title for a in camden_lns_client.get(page).context["open_actions"]]
    assert titles == ["Arrange a SENCO meeting"]


# A change makes old only what could show it ---------------------------------


def pages_worked_out(client, monkeypatch, *slugs):
    """The slugs of the authority pages among `slugs` that were worked out
    afresh (not read from the cache) when `client` asked for them."""
    real = dashboards_views._authority_page
    computed = []

    def spy(user, authority):
        computed.append(authority.slug)
        return real(user, authority)

    monkeypatch.setattr(dashboards_views, "_authority_page", spy)
    for slug in slugs:
        assert client.get(reverse("dashboards:authority", args=[slug])).status_code == 200
    monkeypatch.undo()
    return computed


def test_a_change_at_one_authority_leaves_the_others_pages_cached(
    national_officer_client, monkeypatch
):
    both = ("camden", "kent")
    assert pages_worked_out(national_officer_client, monkeypatch, *both) == list(both)
    assert pages_worked_out(national_officer_client, monkeypatch, *both) == []
    Action.objects.create(authority=authority(CAMDEN), title="Ask the Forum")
    assert pages_worked_out(national_officer_client, monkeypatch, *both) == ["camden"]
    # A plan, and its deletion with everything that hangs off it.
    plan = make_plan("886")
    assert pages_worked_out(national_officer_client, monkeypatch, *both) == ["kent"]
    plan.delete()
    assert pages_worked_out(national_officer_client, monkeypatch, *both) == ["kent"]


def test_a_change_makes_its_region_and_england_old_and_no_other_region(
    national_officer_client,
):
    london = reverse("dashboards:region", args=["london"])
    north_west = reverse("dashboards:region", args=["north-west"])
    for page in (london, north_west, OVERVIEW):
        national_officer_client.get(page)

    def versions():
        return {
            "london": caching._versions(caching.region_scope(authority(CAMDEN).region)),
            "north west": caching._versions(caching.region_scope(authority("352").region)),
            "england": caching.data_version(),
        }

    before = versions()
    Action.objects.create(authority=authority(CAMDEN), title="Ask the Forum")
    after = versions()
    assert after["london"] != before["london"]
    assert after["england"] != before["england"]
    assert after["north west"] == before["north west"]
    assert camden_row(national_officer_client.get(OVERVIEW)).open_actions == 1


def test_a_record_moved_to_another_authority_makes_both_old(national_officer_client, monkeypatch):
    meeting = Meeting.objects.create(
        authority=authority(CAMDEN), forum="schools_forum", held_on=datetime.date(2026, 10, 1)
    )
    both = ("camden", "kent")
    pages_worked_out(national_officer_client, monkeypatch, *both)
    meeting.authority = authority("886")
    meeting.save()
    assert pages_worked_out(national_officer_client, monkeypatch, *both) == list(both)


def test_a_change_that_belongs_to_no_authority_makes_everything_old(
    national_officer_client, monkeypatch
):
    pages_worked_out(national_officer_client, monkeypatch, "camden", "kent")
    Programme.objects.get(code="sv").save()  # the programmes every plan page names
    assert pages_worked_out(national_officer_client, monkeypatch, "camden", "kent") == [
        "camden",
        "kent",
    ]


# Pages kept as rendered HTML: each shows a change on the very next request.


def test_the_plan_page_shows_a_new_target_at_once(camden_lns_client):
    plan = make_plan(CAMDEN)
    assert "Cut the wait for assessments" not in text(
        camden_lns_client.get(plan.get_absolute_url())
    )
    Target.objects.create(plan=plan, description="Cut the wait for assessments", goal="provision")
    assert "Cut the wait for assessments" in text(camden_lns_client.get(plan.get_absolute_url()))


def test_the_briefing_pack_shows_a_new_action_and_says_when_it_was_printed(
    camden_lns_client, monkeypatch
):
    page = reverse("dashboards:briefing", args=["camden"])
    assert "Ask for the NHS figures" not in text(camden_lns_client.get(page))
    Action.objects.create(authority=authority(CAMDEN), title="Ask for the NHS figures")
    assert "Ask for the NHS figures" in text(camden_lns_client.get(page))
    # The pack is cached; its footer is not.
    printed = timezone.make_aware(datetime.datetime(2026, 12, 24, 9, 30))
    localtime = timezone.localtime
    monkeypatch.setattr(
        timezone,
        "localtime",
        lambda value=None, *a: printed if value is None else localtime(value, *a),
    )
    assert "Produced on 24 December 2026 at 09:30" in text(camden_lns_client.get(page))


def test_the_map_shows_a_new_plan_at_once(camden_lns_client):
    page = reverse("dashboards:map") + "?measure=status"
    # Camden's line in the table beside the map.
    assert "Camden London No plan" in text(camden_lns_client.get(page))
    make_plan(CAMDEN, status=Plan.Status.UNDER_REVIEW)
    assert "Camden London Under review, payments withheld" in text(camden_lns_client.get(page))


def test_the_region_page_shows_a_new_meeting_at_once(london_organiser_client):
    page = reverse("dashboards:region", args=["london"])
    assert "No meetings have been logged in London" in text(london_organiser_client.get(page))
    Meeting.objects.create(
        authority=authority(CAMDEN), forum="schools_forum", held_on=datetime.date(2026, 10, 1)
    )
    assert "No meetings have been logged in London" not in text(london_organiser_client.get(page))


def test_the_feedback_list_counts_a_new_submission_at_once(
    london_organiser_client, camden_senco_lead
):
    page = reverse("feedback:list")
    assert london_organiser_client.get(page).context["page"].paginator.count == 0
    new_submission(by=camden_senco_lead)
    assert london_organiser_client.get(page).context["page"].paginator.count == 1


def test_home_shows_a_newly_given_action_at_once(camden_lns_client, camden_lns):
    home = reverse("home")
    assert "Chase the Forum papers" not in text(camden_lns_client.get(home))
    Action.objects.create(
        authority=authority(CAMDEN),
        title="Chase the Forum papers",
        owner=camden_lns,
        due_on=datetime.date(2026, 1, 5),
    )
    assert "Chase the Forum papers" in text(camden_lns_client.get(home))


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("national_officer", "/"),
        ("national_officer", "/overview/"),
        ("national_officer", "/map/"),
        ("london_organiser", "/regions/london/"),
        ("london_organiser", "/feedback/"),
        ("london_organiser", "/authorities/"),
        ("national_officer", "/meetings/"),
        ("camden_lns", "/authorities/camden/meetings/"),
        ("national_officer", "/actions/"),
        ("national_officer", "/plans/"),
        ("camden_lns", "/authorities/camden/"),
        ("camden_lns", "/authorities/camden/briefing/"),
        ("camden_lns", "plan"),
    ],
)
def test_no_cached_page_holds_a_form_token(request, client_for, persona, url):
    """A CSRF token belongs to one browser: a page cached for a person, who
    may be signed in on two, must hold no form that posts. The one token on
    each page is the sign-out form's, outside what is cached."""
    client = client_for(request.getfixturevalue(persona))
    if url == "plan":
        url = make_plan(CAMDEN).get_absolute_url()
    for _ in range(2):  # rendered, then from the cache
        content = client.get(url).content.decode()
        assert content.count("csrfmiddlewaretoken") == 1


def test_the_meeting_list_shows_a_new_meeting_at_once(camden_lns_client):
    page = reverse("consultations:list")
    assert "No meetings" in text(camden_lns_client.get(page))
    Meeting.objects.create(
        authority=authority(CAMDEN), forum="jcnc", held_on=datetime.date(2026, 11, 2)
    )
    assert "2 Nov 2026" in text(camden_lns_client.get(page))


# A new release never reads the last one's values -------------------------------


def test_the_page_cache_keys_name_the_release():
    # As the settings module made them (the tests here swap the cache).
    from config import settings as project

    assert project.RELEASE
    assert project.CACHES["pages"]["KEY_PREFIX"] == f"pages-{project.RELEASE}"


def test_the_release_is_the_code_so_servers_agree_and_a_change_shows(tmp_path):
    for folder in release.SOURCES:
        (tmp_path / folder).mkdir()
    (tmp_path / "plans" / "models.py").write_text("class Plan: ...\n")
    (tmp_path / "templates" / "page.html").write_text("<p>{{ plan }}</p>\n")
    first = release.code_digest(tmp_path)
    assert release.code_digest(tmp_path) == first  # another server, the same files
    (tmp_path / "templates" / "page.html").write_text("<p>{{ plan.short_name }}</p>\n")
    assert release.code_digest(tmp_path) != first
