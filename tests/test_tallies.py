"""Feedback's tallies (feedback/tallies.py): kept in step with the
submissions by every kind of write, so that what the pages add up is what
counting the submissions themselves would give."""

import importlib
import statistics
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, connections, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.models import FeedbackSubmission, FeedbackTally, FeedbackTotal, counting_later
from feedback.services import save_submission
from feedback.tallies import (
    COUNTED_FIELDS,
    STORED_FIELDS,
    Counts,
    count_by_term,
    median,
    term_dates,
)

from .factories import CAMDEN, KENT, authority


def counted_afresh():
    """{(authority id, (year, term)): Counts} from every active submission."""
    rows = FeedbackSubmission.objects.active().values_list("authority_id", *COUNTED_FIELDS)
    return count_by_term(rows)


def tallies():
    """{(authority id, (year, term)): Counts} as stored."""
    rows = FeedbackTally.objects.values_list("authority_id", "year", "term", *STORED_FIELDS)
    return {
        (authority_id, (year, term)): Counts.from_fields(*stored)
        for authority_id, year, term, *stored in rows
    }


def totals():
    """{authority id: Counts} as stored (FeedbackTotal)."""
    rows = FeedbackTotal.objects.values_list("authority_id", *STORED_FIELDS)
    return {authority_id: Counts.from_fields(*stored) for authority_id, *stored in rows}


def added_up(by_term):
    """{authority id: Counts} from {(authority id, term): Counts}."""
    found = {}
    for (authority_id, _), counts in by_term.items():
        found.setdefault(authority_id, Counts())
        found[authority_id] += counts
    return found


def assert_in_step():
    afresh = counted_afresh()
    assert tallies() == afresh
    # Each authority's total is its terms added up; none for one with none.
    assert totals() == added_up(afresh)


def values(**changes):
    found = {
        "source": "senco_network",
        "phases": ["primary"],
        "people_count": 7,
        "meeting_date": date(2026, 10, 1),
        "health_care_costs": "partly",
        "assessment_wait_weeks": 21,
        "support_wait_weeks": None,
        "pressures": ["rising_need", "waiting"],
        "barriers": ["staffing"],
        "practices": [],
    }
    return found | changes


def new(la_code=CAMDEN, **changes):
    return FeedbackSubmission.objects.create(authority=authority(la_code), **values(**changes))


class TestKeptInStep:
    def test_a_save_through_the_service(self, reference_data, camden_senco_lead):
        saved = save_submission(
            submission=FeedbackSubmission(authority=authority(CAMDEN)),
            data=values(),
            user=camden_senco_lead,
        )
        [tally] = FeedbackTally.objects.all()
        assert (tally.authority_id, tally.year, tally.term) == (saved.obj.authority_id, 2026, 3)
        assert (tally.submissions, tally.people) == (1, 7)
        assert tally.assessment_waits == {"21": 1}
        assert tally.pressures == {"rising_need": 1, "waiting": 1}
        assert tally.latest_wait_on == date(2026, 10, 1)
        assert_in_step()

    def test_an_edit_that_moves_a_submission_to_another_term_and_authority(self, reference_data):
        new()
        second = FeedbackSubmission.objects.get(pk=new(assessment_wait_weeks=30).pk)
        second.meeting_date = date(2026, 3, 4)
        second.authority = authority(KENT)
        second.save()
        assert_in_step()
        assert FeedbackTally.objects.get(authority=authority(CAMDEN)).submissions == 1
        assert FeedbackTally.objects.get(authority=authority(KENT)).term == 1

    def test_withdrawing_and_deleting(self, reference_data):
        first, second, third = new(), new(), new(meeting_date=date(2026, 1, 5))
        first.withdraw()
        assert_in_step()
        third.delete()
        assert_in_step()
        second.withdraw()
        assert FeedbackTally.objects.count() == 0  # a term with none left has no row

    def test_bulk_writes(self, reference_data):
        FeedbackSubmission.objects.bulk_create(
            FeedbackSubmission(authority=authority(code), **values(people_count=n % 9 + 1))
            for n, code in enumerate([CAMDEN, KENT] * 20)
        )
        assert_in_step()
        FeedbackSubmission.objects.filter(authority=authority(KENT)).update(
            meeting_date=date(2025, 6, 30)
        )
        assert_in_step()
        FeedbackSubmission.objects.filter(people_count__lt=4).update(assessment_wait_weeks=3)
        assert_in_step()
        FeedbackSubmission.objects.filter(people_count=5).delete()
        assert_in_step()
        # Free text counts in no figure: no count again.
        FeedbackSubmission.objects.update(working_well="Outreach.")
        assert_in_step()

    def test_many_terms_at_once_count_whole_authorities(self, reference_data):
        with counting_later():
            for month in range(1, 13):
                for year in (2024, 2025):
                    new(meeting_date=date(year, month, 2))
                    new(KENT, meeting_date=date(year, month, 3))
            assert FeedbackTally.objects.count() == 0  # not yet
        assert FeedbackTally.objects.count() == 12
        assert_in_step()

    def test_nothing_is_counted_when_the_write_fails(self, reference_data):
        def fail():
            with transaction.atomic(), counting_later():
                new()
                raise RuntimeError

        with pytest.raises(RuntimeError):
            fail()
        assert FeedbackTally.objects.count() == 0
        assert_in_step()

    def test_rebuild_gives_the_same(self, reference_data):
        for n in range(12):
            new(
                CAMDEN if n % 3 else KENT, assessment_wait_weeks=n, practices=["refusing"][: n % 2]
            )
        before, totals_before = tallies(), totals()
        FeedbackTotal.objects.all().delete()  # mended too
        FeedbackTally.objects.rebuild()
        assert tallies() == before == counted_afresh()
        assert totals() == totals_before
        assert_in_step()


def test_the_migration_adds_up_the_tallies_already_stored(reference_data):
    """feedback 0012 gave every authority its total from its tallies."""
    migration = importlib.import_module("feedback.migrations.0012_feedback_totals")
    for n in range(8):
        new(
            CAMDEN if n % 2 else KENT,
            assessment_wait_weeks=n,
            meeting_date=date(2025 + n % 2, 3, 1),
        )
    FeedbackTotal.objects.all().delete()
    migration.add_up_every_tally(apps, SimpleNamespace(connection=connection))
    assert_in_step()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(0, 156), st.integers(1, 9), max_size=12))
def test_a_histograms_median_is_statistics_median(histogram):
    expected = list(Counter(histogram).elements())
    assert median(histogram) == (statistics.median(expected) if expected else None)
    if expected:
        assert type(median(histogram)) is type(statistics.median(expected))


def test_terms_run_from_their_first_day_to_their_last():
    assert term_dates((2026, 1)) == (date(2026, 1, 1), date(2026, 4, 30))
    assert term_dates((2026, 2)) == (date(2026, 5, 1), date(2026, 8, 31))
    assert term_dates((2026, 3)) == (date(2026, 9, 1), date(2026, 12, 31))


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="racing writers need PostgreSQL's row locks"
)
def test_saves_side_by_side_lose_no_count(transactional_db, reference_data, camden_senco_lead):
    """Four people saving feedback for one authority and term at once: each
    recount waits for the one before, and sees its submission."""
    racers, each = 4, 10
    start = threading.Barrier(racers)

    def racer(n):
        try:
            start.wait(timeout=60)
            for i in range(each):
                save_submission(
                    submission=FeedbackSubmission(authority=authority(CAMDEN)),
                    data=values(people_count=n * each + i + 1),
                    user=camden_senco_lead,
                )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(racers) as pool:
        list(pool.map(racer, range(racers)))
    [tally] = FeedbackTally.objects.all()
    assert tally.submissions == racers * each
    assert tally.people == sum(range(1, racers * each + 1))
    assert_in_step()
