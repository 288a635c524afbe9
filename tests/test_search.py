"""The one search box (dashboards/search.py): it finds authorities, plans,
meetings, actions and feedback by their words, and only what the person may
read, on both databases (full-text on PostgreSQL, words on SQLite)."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from consultations.models import Action, Meeting
from feedback.models import FeedbackSubmission

from .factories import CAMDEN, KENT, authority, make_plan

pytestmark = pytest.mark.django_db

URL = reverse("dashboards:search")
TODAY = timezone.localdate()


def found(client, text):
    response = client.get(URL, {"q": text})
    assert response.status_code == 200
    return {kind.kind: [hit.title for hit in kind.hits] for kind in response.context["found"]}


@pytest.fixture
def records(camden, kent):
    make_plan(CAMDEN, summary="Reduce independent special school placements by a third")
    make_plan(KENT, summary="Reduce independent special school places")
    Meeting.objects.create(
        authority=authority(CAMDEN),
        forum="schools_forum",
        held_on=TODAY - datetime.timedelta(days=3),
        title="Budget setting",
        decisions="The forum refused the transfer to the high needs block.",
    )
    Meeting.objects.create(
        authority=authority(CAMDEN),
        forum="jcnc",
        held_on=TODAY - datetime.timedelta(days=4),
        title="Confidential restructure",
        decisions="The transfer was discussed in private.",
        confidential=True,
    )
    Action.objects.create(authority=authority(CAMDEN), title="Ask about the transfer papers")
    FeedbackSubmission.objects.create(
        authority=authority(CAMDEN),
        source="senco_network",
        people_count=8,
        meeting_date=TODAY - datetime.timedelta(days=9),
        health_care_costs="no",
        refusing_example="Parents were told the transfer of funds meant no assessments.",
    )


def test_finds_each_kind_in_scope(client_for, camden_lns, records):
    results = found(client_for(camden_lns), "transfer")
    # The newest first on SQLite; on PostgreSQL, as well as they match.
    assert sorted(results["Meetings"]) == [
        "Camden: Budget setting, " + _day(3),
        "Camden: Confidential restructure, " + _day(4),
    ]
    assert results["Actions"] == ["Camden: Ask about the transfer papers"]
    # An LNS reads their authority's feedback one by one (tests/test_access_policy.py).
    assert len(results["Feedback"]) == 1
    assert found(client_for(camden_lns), "Camden")["Authorities"] == ["Camden"]


def _day(days_ago):
    return f"{TODAY - datetime.timedelta(days=days_ago):%-d %B %Y}"


def test_never_beyond_scope(client_for, kent_lns, records):
    results = found(client_for(kent_lns), "independent special school")
    assert [title.split(":")[0] for title in results["Plans"]] == ["Kent"]
    assert found(client_for(kent_lns), "transfer")["Meetings"] == []


def test_confidential_meetings_only_for_those_who_may_read_them(
    client_for, camden_lns, camden_senco_lead, records
):
    assert any("Confidential" in t for t in found(client_for(camden_lns), "private")["Meetings"])
    assert found(client_for(camden_senco_lead), "private")["Meetings"] == []


def test_feedback_only_for_those_who_read_it_one_by_one(
    client_for, camden_senco_lead, london_organiser, records
):
    """A network lead reads the aggregates and their own submissions, not
    others': the search finds none of them. An organiser reads them all."""
    assert found(client_for(camden_senco_lead), "assessments")["Feedback"] == []
    assert len(found(client_for(london_organiser), "assessments")["Feedback"]) == 1


def test_every_word_counts(client_for, camden_lns, records):
    assert found(client_for(camden_lns), "transfer papers")["Actions"] == [
        "Camden: Ask about the transfer papers"
    ]
    assert found(client_for(camden_lns), "transfer zebra")["Actions"] == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")
def test_stemmed_and_ranked_on_postgresql(client_for, national_officer, records):
    # "placement" finds "placements"; the plan that says more of it first.
    plans = found(client_for(national_officer), "placement")["Plans"]
    assert [title.split(":")[0] for title in plans] == ["Camden"]


def test_no_words_asks_for_some(client_for, camden_lns):
    response = client_for(camden_lns).get(URL, {"q": "  ?! "})
    assert "Enter words to search for" in response.content.decode()
    assert response.context["found"] is None
    assert client_for(camden_lns).get(URL).context["found"] is None  # the empty box


def test_queries_do_not_grow_with_results(
    client_for, camden_lns, records, django_assert_max_num_queries
):
    client = client_for(camden_lns)
    # The person, authorities, then each kind's best and (only when there
    # may be more) its count.
    with django_assert_max_num_queries(12):
        client.get(URL, {"q": "transfer"})
