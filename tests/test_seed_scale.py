"""`manage.py seed_scale`: the benchmark's data set, at a hundredth of its size."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authorities.models import Membership, User
from consultations.models import Action, Meeting
from feedback.models import FeedbackSubmission
from plans.models import Answer, Plan, QuestionSet

from .factories import checklist_questions
from .test_checklist_counts import assert_in_step
from .test_tallies import assert_in_step as assert_tallies_in_step

SMALL = 0.01  # 30 people, 4 plans, 200 meetings, 50 actions, 1,000 submissions


def seed(**options):
    out = StringIO()
    call_command("seed_scale", scale=SMALL, stdout=out, **options)
    return out.getvalue()


def fingerprint():
    """What the data set holds, in a form two runs can be compared by."""
    return (
        list(
            Plan.objects.filter(sources="seed_scale")
            .order_by("pk")
            .values_list("authority_id", "status")
        ),
        list(Meeting.objects.order_by("pk").values_list("held_on", "union_consulted")),
        list(
            FeedbackSubmission.objects.order_by("pk").values_list(
                "assessment_wait_weeks", "health_care_costs"
            )
        ),
    )


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_refuses_when_debug_is_off(reference_data, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        seed()
    assert not FeedbackSubmission.objects.exists()


def test_refuses_without_the_checklist(db, debug):
    QuestionSet.objects.all().delete()
    with pytest.raises(CommandError, match="Load the reference data first"):
        seed()


def test_seeds_every_kind_of_row(reference_data, debug):
    output = seed()
    assert "30 people, 4 plans, 200 meetings, 50 actions, 1,000 feedback" in output
    assert User.objects.filter(email__endswith="@scale.example.org").count() == 30
    assert Membership.objects.filter(user__email__endswith="@scale.example.org").count() == 30
    assert Action.objects.count() == 50
    # Each plan answers the questions asked of its programme.
    plans = Plan.objects.filter(sources="seed_scale").select_related("programme")
    questions = sum(checklist_questions(plan.programme.code).count() for plan in plans)
    assert Answer.objects.filter(assessment__plan__sources="seed_scale").count() == questions
    # The checklist answers come with their history.
    assert Answer.history.count() == questions
    # And each checklist counts what it holds (bulk writes send no signal),
    # as feedback's tallies and totals do.
    assert_in_step()
    assert_tallies_in_step()


def test_refuses_to_seed_twice_and_replaces_when_asked(reference_data, debug):
    seed()
    first = fingerprint()
    with pytest.raises(CommandError, match="already seeded"):
        seed()
    seed(replace=True)
    # The same seed gives the same data, and nothing of the first run is left.
    assert fingerprint() == first
    assert Plan.objects.filter(sources="seed_scale").count() == 4
    assert FeedbackSubmission.objects.count() == 1000
    assert Answer.history.filter(history_type="-").count() == 0


@pytest.mark.parametrize("scale", [0, -1, 11])
def test_a_scale_out_of_range_is_refused(reference_data, debug, scale):
    with pytest.raises(CommandError, match="--scale"):
        call_command("seed_scale", scale=scale)
