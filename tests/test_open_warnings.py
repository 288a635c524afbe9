"""The index of open warnings (dashboards.models.OpenWarning): kept in step
with the records the warnings are read from by every kind of write, so that
what the pages count from it is what reading every kind afresh gives, for
every kind of reader and on any day."""

import datetime
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from authorities.access import Role
from authorities.caching import data_changed
from authorities.models import LocalAuthority
from consultations.models import BlockTransfer
from dashboards.models import OpenWarning, WarningDealtWith
from dashboards.warnings import (
    KINDS,
    GravestFirst,
    Kind,
    _index_after_migrate,
    early_warnings,
    find_warning,
    index_warnings,
    indexing_later,
    warning_count,
    warning_list,
    warning_summary,
)
from plans.models import FundingInstalment, Plan, ReformPlanDetails
from plans.services import revise_plan

from .factories import CAMDEN, KENT, authority, make_plan, make_user
from .test_official_warnings import official_worse_at
from .test_warnings import (
    action,
    answer,
    every_kind_at,
    grant_deadline,
    instalment,
    meeting,
    reform_plan,
    set_since,
    submission,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def stored():
    return Counter(row.as_stored() for row in OpenWarning.objects.all())


def afresh():
    """What indexing every kind anew would store (nothing is stored)."""
    return Counter(row.as_stored() for reader in KINDS for row in reader.open_rows(None))


def assert_in_step():
    assert stored() == afresh()


def assert_counted_as_listed(user, **options):
    """The counts from the index are the whole list's, read afresh."""
    found = early_warnings(user, **options)
    summary = warning_summary(user, limit=len(found) + 1, **options)
    assert summary.count == len(found)
    assert summary.per_authority == Counter(w.authority.pk for w in found)
    assert summary.newest == found


class TestKeptInStep:
    def test_every_kind_of_write(self, national_officer, camden_lns):
        plan = make_plan(CAMDEN, agreement_date=TODAY - 20 * DAY)  # not consulted
        assert_in_step()
        held = instalment(plan)
        assert_in_step()
        held.status = FundingInstalment.Status.PAID
        held.amount_paid = held.amount
        held.save()
        assert_in_step()
        held.delete()
        assert_in_step()
        concern = answer(plan)
        assert_in_step()
        concern.concern = "some"
        concern.save()
        assert_in_step()
        forum = meeting(union_consulted="yes", plan=plan, held_on=TODAY - 30 * DAY)
        assert_in_step()  # consulted before it was agreed: no longer a warning
        forum.confidential = True
        forum.save()
        assert_in_step()
        report = submission(practices=["refusing"], by=camden_lns)
        assert_in_step()
        report.withdraw()
        assert_in_step()
        overdue = action(due_on=TODAY - 2 * DAY, owner=camden_lns, meeting=forum)
        assert_in_step()
        overdue.status = "done"
        overdue.save()
        assert_in_step()
        negotiating = make_plan(KENT, status="negotiating", round_or_tranche="2")
        assert_in_step()
        revise_plan(plan=negotiating, user=national_officer)
        assert_in_step()
        details = reform_plan(stage="feedback", rating="requirements_not_met")
        grant_deadline(TODAY + 100 * DAY)
        assert_in_step()
        details.rating = ReformPlanDetails.Rating.MET
        details.save()
        assert_in_step()
        details.plan.delete()
        assert_in_step()

    def test_a_record_moved_to_another_authority(self):
        plan = make_plan(CAMDEN, status="negotiating")
        instalment(plan)
        answer(plan)
        plan.authority = authority(KENT)
        plan.save()
        assert_in_step()
        assert set(OpenWarning.objects.values_list("authority__la_code", flat=True)) == {KENT}

    def test_marked_dealt_with_and_reopened(self, national_officer):
        plan = make_plan(CAMDEN, status="negotiating")
        warning = find_warning(national_officer, Kind.NEGOTIATING, plan.pk)
        record = WarningDealtWith.objects.mark(warning, user=national_officer, note="Raised it.")
        assert_in_step()
        assert warning_count(national_officer) == 0
        record.reopened_at = timezone.now()
        record.save()
        assert_in_step()
        assert warning_count(national_officer) == 1

    def test_a_bulk_write_that_says_so(self):
        plan = make_plan(CAMDEN, status="negotiating")
        Plan.objects.filter(pk=plan.pk).update(status="agreed")  # no signal
        data_changed()  # as the rule for bulk writes asks (authorities/caching.py)
        assert_in_step()
        assert not OpenWarning.objects.exists()

    def test_a_new_cause_found_by_a_bulk_write(self):
        concern = answer(make_plan(CAMDEN))
        set_since(concern, TODAY - 3 * DAY)  # an update, which says so
        assert_in_step()
        assert OpenWarning.objects.get().day == TODAY - 3 * DAY

    def test_official_figures_loaded(self, national_officer):
        official_worse_at([authority(CAMDEN), authority(KENT)])
        assert_in_step()
        assert OpenWarning.objects.filter(kind=Kind.OFFICIAL_WORSE).count() == 2

    def test_many_writes_indexed_once_at_the_end(self):
        with indexing_later() as touched:
            for n in range(5):
                make_plan(CAMDEN, status="negotiating", round_or_tranche=str(n))
            assert not OpenWarning.objects.exists()  # not yet
        assert touched
        assert OpenWarning.objects.count() == 5
        assert_in_step()

    def test_nothing_is_indexed_when_the_write_fails(self):
        def fail():
            with transaction.atomic():
                make_plan(CAMDEN, status="negotiating")
                raise RuntimeError

        with pytest.raises(RuntimeError):
            fail()
        assert not OpenWarning.objects.exists()
        assert_in_step()

    def test_migrate_indexes_everything_afresh(self):
        make_plan(CAMDEN, status="negotiating")
        OpenWarning.objects.all().delete()
        _index_after_migrate(sender=None, using="default")
        assert_in_step()
        assert OpenWarning.objects.count() == 1

    def test_a_warning_that_stands_keeps_its_row(self):
        plan = make_plan(CAMDEN, status="negotiating")
        before = OpenWarning.objects.get().pk
        plan.summary = "A note that changes no warning."
        plan.save()
        index_warnings()
        assert OpenWarning.objects.get().pk == before


class TestCountedForEachReader:
    """Every kind's visibility, from the index: a confidential meeting's
    transfer and the actions that follow it; reports in feedback, read by
    those who read submissions and their submitter."""

    @pytest.fixture
    def everything(self, camden_senco_lead, camden_lns):
        plan = make_plan(CAMDEN, agreement_date=TODAY - 20 * DAY)
        instalment(plan)
        answer(plan)
        secret = meeting(confidential=True, held_on=TODAY - 3 * DAY)
        open_forum = meeting(held_on=TODAY - 4 * DAY)
        BlockTransfer.objects.create(meeting=secret, financial_year=2026, percent=1)
        BlockTransfer.objects.create(meeting=open_forum, financial_year=2026, percent=2)
        action(due_on=TODAY - 2 * DAY, meeting=secret, title="After the secret one")
        action(due_on=TODAY - 2 * DAY, owner=camden_lns, title="The LNS's own")
        submission(practices=["refusing"], by=camden_senco_lead)
        submission(practices=["refusing"], source="member")
        submission(KENT, practices=["refusing"])
        official_worse_at([authority(CAMDEN)])
        reform_plan(KENT, stage="feedback", grant={"status": "withheld"})
        grant_deadline(TODAY + 30 * DAY)
        assert_in_step()

    @pytest.mark.parametrize(
        "persona",
        [
            "national_officer",
            "london_organiser",
            "northwest_nem",
            "camden_lns",
            "camden_forum_rep",
            "camden_senco_lead",
            "kent_lns",
            "manchester_head_rep",
            "no_role_user",
        ],
    )
    def test_as_the_whole_list_gives_it(self, request, everything, persona):
        user = request.getfixturevalue(persona)
        assert_counted_as_listed(user)
        assert_counted_as_listed(user, since=TODAY - 3 * DAY)
        assert_counted_as_listed(user, authorities=LocalAuthority.objects.filter(la_code=KENT))

    def test_someone_deactivated_sees_none(self, everything, camden_lns):
        camden_lns.is_active = False
        assert warning_summary(camden_lns, limit=10).count == 0

    def test_a_submitter_counts_their_own_report(self, everything, camden_senco_lead):
        mine = [w for w in early_warnings(camden_senco_lead) if w.kind == Kind.UNLAWFUL_PRACTICE]
        assert len(mine) == 1
        assert_counted_as_listed(camden_senco_lead)


class TestOnAnyDay:
    """A warning that arises on a day is indexed before it, and counted
    from that day: nothing to do as the days pass."""

    def test_an_action_overdue_from_the_day_after_it_was_due(self, camden_lns):
        action(due_on=TODAY + 2 * DAY)
        assert warning_count(camden_lns) == 0
        assert OpenWarning.objects.get().from_day == TODAY + 3 * DAY
        for days in (2, 3, 10):
            later = TODAY + days * DAY
            assert (
                warning_count(camden_lns, today=later)
                == len(early_warnings(camden_lns, today=later))
                == (days >= 3)
            )

    def test_a_reform_plan_from_eight_weeks_before_its_deadline(self, national_officer):
        reform_plan(stage="started")
        grant_deadline(TODAY + 70 * DAY)
        for days in (0, 13, 14, 30):
            later = TODAY + days * DAY
            assert_counted_as_listed(national_officer, today=later)
        assert warning_count(national_officer) == 0
        assert warning_count(national_officer, today=TODAY + 14 * DAY) == 1


def test_a_person_made_later_counts_what_their_roles_show(reference_data):
    """Who may see a row is decided when it is read: a role given after
    the warning arose shows it, with nothing indexed again."""
    make_plan(CAMDEN, status="negotiating")
    person = make_user(roles=[])
    assert warning_count(person) == 0
    person.memberships.create(role=Role.LNS, authority=authority(CAMDEN))
    person = type(person).objects.get(pk=person.pk)
    assert warning_count(person) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="racing writers need PostgreSQL's row locks"
)
def test_writes_side_by_side_lose_no_warning(transactional_db, reference_data):
    """Four people recording plans at one authority at once: each indexing
    waits for the one before, and sees its plan."""
    racers, each = 4, 5
    start = threading.Barrier(racers)

    def racer(n):
        try:
            start.wait(timeout=60)
            for i in range(each):
                make_plan(CAMDEN, status="negotiating", round_or_tranche=f"{n}.{i}")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(racers) as pool:
        list(pool.map(racer, range(racers)))
    assert OpenWarning.objects.filter(kind=Kind.NEGOTIATING).count() == racers * each
    assert_in_step()


class TestThePageOfTheWarningsPage:
    """GravestFirst: any slice of the open warnings is the whole list's,
    built afresh, the rising waits in their kind's place."""

    @pytest.fixture
    def many(self):
        every_kind_at(list(LocalAuthority.objects.order_by("name")[:5]))
        # Of one kind, one authority and one day: listed by record.
        for _ in range(3):
            submission(practices=["refusing"])

    @pytest.mark.parametrize("size", [1, 7, 13, 50])
    def test_every_slice(self, many, national_officer, size):
        whole = warning_list(national_officer)
        paged = GravestFirst(national_officer)
        assert paged.count() == len(whole) == 68
        for start in range(0, len(whole) + size, size):
            assert paged[start : start + size] == whole[start : start + size]

    @pytest.mark.parametrize(
        "options",
        [
            {"kinds": [Kind.WAITS_RISING, Kind.UNLAWFUL_PRACTICE, Kind.ACTION_OVERDUE]},
            {"kinds": [Kind.WAITS_RISING]},
            {"since": TODAY - 2 * DAY},
            {"authorities": LocalAuthority.objects.order_by("name")[1:3]},
        ],
    )
    def test_narrowed(self, many, london_organiser, options):
        whole = warning_list(london_organiser, **options)
        paged = GravestFirst(london_organiser, **options)
        assert paged.count() == len(whole)
        assert paged[0 : len(whole) + 5] == whole
        assert paged[3:9] == whole[3:9]


def test_no_authorities_reads_no_rows(reference_data):
    """Asked for the warnings at no authority, a kind answers none (and
    sends no "IN ()", which is not SQL)."""
    make_plan(CAMDEN, status=Plan.Status.NEGOTIATING)
    assert all(reader.open_rows([]) == [] for reader in KINDS)
    assert any(reader.open_rows(None) for reader in KINDS)
