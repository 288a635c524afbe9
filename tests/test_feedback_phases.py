"""The briefing's section 7 breakdown of members' feedback by phase group
(special, mainstream, other) on the authority and region pages: counted in
the tallies, so no page reads more, and suppressed below 5 as every other
feedback figure is."""

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.aggregates import FEWER, summarise
from feedback.models import FeedbackSubmission, FeedbackTally, Phase, PhaseGroup
from feedback.tallies import PHASE_GROUPS, phase_groups

from .test_feedback import many, submission, text

CAMDEN_PAGE = reverse("dashboards:authority", args=["camden"])
LONDON_PAGE = reverse("dashboards:region", args=["london"])


def by_label(summary):
    return {line.label: line for line in summary.phase_groups}


def test_every_phase_is_in_one_group():
    assert set(PHASE_GROUPS) == set(Phase.values)
    assert set(PHASE_GROUPS.values()) == set(PhaseGroup.values)
    assert Phase.SPECIAL.group == PhaseGroup.SPECIAL
    assert Phase.SECONDARY.group == PhaseGroup.MAINSTREAM
    assert Phase.ALTERNATIVE_PROVISION.group == PhaseGroup.OTHER


def test_a_submission_counts_once_in_each_group_it_names():
    assert phase_groups(["primary", "secondary", "special"]) == {"mainstream", "special"}
    assert phase_groups([]) == set()


@pytest.mark.django_db
class TestTheBreakdown:
    def test_the_tallies_give_what_counting_the_submissions_gives(self, reference_data):
        for _ in range(5):
            submission(phases=["special"], assessment_wait_weeks=40, people_count=2)
        for _ in range(6):
            submission(phases=["primary", "secondary"], assessment_wait_weeks=10)
        submission(phases=["special", "primary"], assessment_wait_weeks=30)
        submission(phases=["post_16"])
        submission(phases=[])
        tally = FeedbackTally.objects.get()
        assert tally.phase_groups["special"]["submissions"] == 6
        assert tally.phase_groups["mainstream"]["submissions"] == 7
        assert tally.phase_groups["other"]["submissions"] == 1

        counted = summarise(FeedbackSubmission.objects.all(), reveal_small_numbers=False)
        lines = by_label(counted)
        special = lines[PhaseGroup.SPECIAL.label]
        assert (special.submissions, special.people) == ("6", "20")
        assert special.assessment_wait == "40 weeks"
        assert lines[PhaseGroup.MAINSTREAM.label].submissions == "7"
        assert lines[PhaseGroup.MAINSTREAM.label].assessment_wait == "10 weeks"
        # One submission: a figure nobody but a national officer sees.
        other = lines[PhaseGroup.OTHER.label]
        assert (other.submissions, other.people, other.health_care) == (FEWER, FEWER, FEWER)

    def test_the_authority_page_suppresses_a_group_below_5(
        self, client_for, london_organiser, national_officer
    ):
        for _ in range(5):
            submission(phases=["primary"])
        for _ in range(4):
            submission(phases=["special"], assessment_wait_weeks=44)
        response = client_for(london_organiser).get(CAMDEN_PAGE)
        lines = by_label(response.context["feedback"])
        assert lines[PhaseGroup.MAINSTREAM.label].submissions == "5"
        assert lines[PhaseGroup.SPECIAL.label].submissions == FEWER
        assert lines[PhaseGroup.SPECIAL.label].assessment_wait == FEWER
        assert lines[PhaseGroup.OTHER.label].submissions == "None"
        assert "By phase" in text(response)

        response = client_for(national_officer).get(CAMDEN_PAGE)
        lines = by_label(response.context["feedback"])
        assert lines[PhaseGroup.SPECIAL.label].submissions == "4"
        assert lines[PhaseGroup.SPECIAL.label].assessment_wait == "44 weeks"

    def test_the_region_page_adds_up_its_authorities(self, client_for, london_organiser):
        for _ in range(3):
            submission(phases=["special"])
            submission("206", phases=["special"])  # Islington, also in London
        response = client_for(london_organiser).get(LONDON_PAGE)
        lines = by_label(response.context["feedback"])
        assert lines[PhaseGroup.SPECIAL.label].submissions == "6"
        assert "By phase" in text(response)

    def test_a_withdrawn_or_moved_submission_leaves_its_group(self, reference_data):
        kept = submission(phases=["special"])
        gone = submission(phases=["special"])
        gone.withdrawn_at = timezone.now()
        gone.save()
        kept.phases = ["primary"]
        kept.save()
        tally = FeedbackTally.objects.get()
        assert set(tally.phase_groups) == {"mainstream"}

    def test_bulk_writes_keep_the_groups(self, reference_data):
        many("202", 30)
        tally_total = sum(
            t.phase_groups.get("mainstream", {}).get("submissions", 0)
            for t in FeedbackTally.objects.all()
        )
        assert tally_total == 30
