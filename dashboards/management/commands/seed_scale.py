"""A large, deterministic data set for benchmarks (`make bench`, bench/README.md).

On top of the real 153 authorities and the programmes and checklist: about 400
plans with instalments, targets and a fully answered checklist (with history),
20,000 meetings, 5,000 actions, 100,000 feedback submissions and 3,000 people
with memberships, all at `--scale 1`. `--scale 0.1` makes a tenth (the
benchmark compares query counts at both). The same seed gives the same rows.

Refuses to run with DEBUG off, so it cannot fill a production database. Run it
on an empty app (after `load_reference_data` and `load_programmes`); `--replace`
first removes what an earlier run made (everything made by its people, who
all have addresses at SEED_DOMAIN, and its plans).
"""

import datetime
import random
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from authorities.access import AUTHORITY_ROLES, Role
from authorities.caching import data_changed
from authorities.models import AuthorityFinance, LocalAuthority, Membership, Region, User
from consultations.models import Action, BlockTransfer, Forum, Meeting, SchoolsForumOutcome
from feedback.models import (
    Barrier,
    FeedbackSubmission,
    HealthCosts,
    Phase,
    Practice,
    Pressure,
    counting_later,
)
from feedback.models import Source as FeedbackSource
from plans.models import (
    Answer,
    Assessment,
    FundingInstalment,
    Goal,
    Plan,
    Programme,
    QuestionSet,
    Target,
    TargetUpdate,
)

SEED = 2026
SEED_DOMAIN = "scale.example.org"
SEED_SOURCE = "seed_scale"  # marks the plans this command made (Plan.sources)
BATCH = 2000

SIZES = {
    "people": 3000,
    "plans": 400,
    "meetings": 20_000,
    "actions": 5000,
    "feedback": 100_000,
}


class Command(BaseCommand):
    help = "Fill the database with a large deterministic data set (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Multiply every size (default 1)."
        )
        parser.add_argument(
            "--replace", action="store_true", help="Remove an earlier run's rows first."
        )

    def handle(self, *args, scale=1.0, replace=False, **options):
        if not settings.DEBUG:
            raise CommandError("seed_scale is for benchmarks only: DEBUG is off, so nothing made.")
        if not 0 < scale <= 10:
            raise CommandError("--scale must be above 0 and at most 10.")
        if LocalAuthority.objects.count() != 153 or not QuestionSet.objects.exists():
            raise CommandError(
                "Load the reference data first: load_reference_data, then load_programmes."
            )
        seeded = User.objects.filter(email__endswith=f"@{SEED_DOMAIN}")
        if seeded.exists() and not replace:
            raise CommandError("This database is already seeded; add --replace to seed it again.")
        started = time.monotonic()
        sizes = {name: max(1, round(size * scale)) for name, size in SIZES.items()}
        # Feedback's tallies are counted once, at the end, not for each batch.
        with transaction.atomic(), counting_later():
            if replace:
                self.remove_earlier_run(seeded)
            self.seed = Seeder(random.Random(SEED))
            counts = self.seed.everything(sizes)
            data_changed()  # bulk inserts send no signal (authorities/caching.py)
        # Fresh planner statistics: straight after a bulk load PostgreSQL
        # still thinks the tables are nearly empty and picks plans (nested
        # loops over "a few" rows) that take seconds on 100,000.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        took = time.monotonic() - started
        made = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        self.stdout.write(f"Seeded {made} in {took:.1f} s.")

    @staticmethod
    def remove_earlier_run(seeded):
        plan_ids = list(Plan.objects.filter(sources=SEED_SOURCE).values_list("pk", flat=True))
        assessment_ids = list(
            Assessment.objects.filter(plan__in=plan_ids).values_list("pk", flat=True)
        )
        # Deleting would otherwise write a "deleted" history row for each of
        # tens of thousands of rows, only for us to remove them again.
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            FeedbackSubmission.objects.filter(submitted_by__in=seeded).delete()
            Action.objects.filter(created_by__in=seeded).delete()
            Meeting.objects.filter(created_by__in=seeded).delete()
            AuthorityFinance.objects.filter(updated_by__in=seeded).delete()
            Plan.objects.filter(pk__in=plan_ids).delete()
            seeded.delete()
        Plan.history.filter(id__in=plan_ids).delete()
        Answer.history.filter(assessment_id__in=assessment_ids).delete()
        FundingInstalment.history.filter(plan_id__in=plan_ids).delete()
        Target.history.filter(plan_id__in=plan_ids).delete()


class Seeder:
    """Makes the rows, in bulk, from one random generator (so one seed, one
    data set)."""

    def __init__(self, rng):
        self.rng = rng
        self.today = timezone.localdate()
        self.authorities = list(LocalAuthority.objects.order_by("la_code"))
        self.regions = list(Region.objects.order_by("name"))
        self.programmes = list(Programme.objects.order_by("order"))
        self.questions = list(
            QuestionSet.objects.latest_version()
            .questions.order_by("pk")
            .prefetch_related("programmes")
        )

    def everything(self, sizes):
        people = self.people(sizes["people"])
        plans = self.plans(sizes["plans"], people)
        meetings = self.meetings(sizes["meetings"], plans, people)
        actions = self.actions(sizes["actions"], plans, people)
        feedback = self.feedback(sizes["feedback"], people)
        finance = self.finance(people)
        return {
            "people": len(people),
            "plans": len(plans),
            "meetings": meetings,
            "actions": actions,
            "feedback submissions": feedback,
            "finance years": finance,
        }

    def days_ago(self, most):
        return self.today - datetime.timedelta(days=self.rng.randrange(most))

    def people(self, count):
        # One hash for all: hashing 3,000 passwords would take minutes.
        password = make_password("scale-seed-password")
        users = User.objects.bulk_create(
            User(
                email=f"person{n:05}@{SEED_DOMAIN}",
                first_name=f"Person {n}",
                last_name="Seeded",
                password=password,
            )
            for n in range(count)
        )
        roles = list(AUTHORITY_ROLES)
        memberships = []
        for n, user in enumerate(users):
            if n % 50 == 0:
                region = self.regions[n // 50 % len(self.regions)]
                role = Role.REGIONAL_ORGANISER if n % 100 == 0 else Role.NEM
                memberships.append(Membership(user=user, role=role, region=region))
            else:
                authority = self.authorities[n % len(self.authorities)]
                role = roles[n % len(roles)]
                memberships.append(Membership(user=user, role=role, authority=authority))
        Membership.objects.bulk_create(memberships, batch_size=BATCH)
        self.everyone = users
        # Each authority's people, so rows can name a plausible author or owner.
        self.people_of = {}
        for membership in memberships:
            if membership.authority_id:
                self.people_of.setdefault(membership.authority_id, []).append(membership.user)
        return users

    def author(self, authority):
        # At a small --scale some authorities have nobody: anyone will do.
        return self.rng.choice(self.people_of.get(authority.pk) or self.everyone)

    def plans(self, count, people):
        statuses = [choice for choice, _ in Plan.Status.choices]
        plans = []
        for n in range(count):
            authority = self.authorities[n % len(self.authorities)]
            first_year = self.rng.randrange(2018, 2026)
            status = self.rng.choice(statuses)
            plans.append(
                Plan(
                    authority=authority,
                    programme=self.programmes[n % len(self.programmes)],
                    # Unique per authority and programme: the plan's number.
                    round_or_tranche=f"Seed {n}",
                    status=status,
                    # Bulk inserts skip save(), which keeps the moment (keep_since).
                    negotiating_since=timezone.now()
                    if status == Plan.Status.NEGOTIATING
                    else None,
                    agreement_date=self.days_ago(2500) if n % 3 else None,
                    first_year=first_year,
                    last_year=first_year + self.rng.randrange(0, 6),
                    total_funding=Decimal(self.rng.randrange(1, 100) * 1_000_000),
                    summary="Reduce new EHCPs and move placements to maintained schools.",
                    sources=SEED_SOURCE,
                )
            )
        bulk_create_with_history(plans, Plan, batch_size=BATCH)
        plans = list(Plan.objects.filter(sources=SEED_SOURCE).order_by("pk"))
        self.instalments_and_targets(plans)
        self.checklists(plans)
        return plans

    def instalments_and_targets(self, plans):
        statuses = [choice for choice, _ in FundingInstalment.Status.choices]
        instalments, targets = [], []
        for plan in plans:
            for year in range(plan.first_year, plan.last_year + 1):
                amount = Decimal(self.rng.randrange(1, 20) * 500_000)
                status = self.rng.choice(statuses)
                instalments.append(
                    FundingInstalment(
                        plan=plan,
                        financial_year=year,
                        amount=amount,
                        status=status,
                        amount_paid=amount / 2 if status == "reduced" else None,
                        held_back_since=timezone.now()
                        if status in FundingInstalment.HELD_BACK
                        else None,
                    )
                )
            for n in range(3):
                targets.append(
                    Target(
                        plan=plan,
                        description=f"Target {n + 1}: reduce new EHCPs by {5 + n * 5}%",
                        goal=Goal.EHCP_DEMAND if n % 2 else Goal.PROVISION,
                        baseline=Decimal(1000),
                        target_value=Decimal(900 - n * 50),
                        unit="new EHCPs a year",
                        due_year=plan.last_year,
                    )
                )
        bulk_create_with_history(instalments, FundingInstalment, batch_size=BATCH)
        bulk_create_with_history(targets, Target, batch_size=BATCH)
        targets = Target.objects.filter(plan__in=plans).order_by("pk")
        updates = []
        for target in targets:
            status = self.rng.choice(["on_track", "at_risk", "off_track"])
            reason = "" if status == "on_track" else "Demand rose faster than planned."
            updates.append(
                TargetUpdate(
                    target=target,
                    recorded_on=self.days_ago(365),
                    value=Decimal(950),
                    status=status,
                    reason=reason,
                )
            )
        TargetUpdate.objects.bulk_create(updates, batch_size=BATCH)

    def checklists(self, plans):
        question_set = self.questions[0].question_set
        Assessment.objects.bulk_create(
            Assessment(plan=plan, question_set=question_set) for plan in plans
        )
        # In the plans' order: PostgreSQL reads rows in their order on disk,
        # which after --replace is not the order they were made, and the
        # generator must be asked in the same order for the same data.
        assessments = (
            Assessment.objects.filter(plan__in=plans)
            .select_related("plan__authority")
            .order_by("plan_id")
        )
        responses = [choice for choice, _ in Answer.Response.choices]
        concerns = [choice for choice, _ in Answer.Concern.choices]
        answers = []
        for assessment in assessments:
            for question in self.questions:
                # Each plan answers only the questions asked of its programme.
                if not question.is_asked_of(assessment.plan.programme_id):
                    continue
                answer = Answer(
                    assessment=assessment,
                    question=question,
                    response=self.rng.choice(responses),
                    concern=self.rng.choice(concerns),
                    evidence="The published plan, page 12.",
                    answered_by=self.author(assessment.plan.authority),
                    answered_at=timezone.now() - datetime.timedelta(days=self.rng.randrange(900)),
                )
                if answer.concern == Answer.Concern.SERIOUS:
                    answer.serious_since = answer.answered_at
                answers.append(answer)
        bulk_create_with_history(answers, Answer, batch_size=BATCH)

    def meetings(self, count, plans, people):
        forums = [choice for choice, _ in Forum.choices]
        yes_no = ["yes", "no", "not_known"]
        plans_of = {}
        for plan in plans:
            plans_of.setdefault(plan.authority_id, []).append(plan)
        meetings = []
        for n in range(count):
            authority = self.authorities[n % len(self.authorities)]
            own_plans = plans_of.get(authority.pk, [])
            meetings.append(
                Meeting(
                    authority=authority,
                    forum=forums[n % len(forums)],
                    held_on=self.days_ago(1500),
                    union_invited=self.rng.choice(yes_no),
                    union_attended=self.rng.choice(yes_no),
                    union_consulted=self.rng.choice(yes_no),
                    plan=self.rng.choice(own_plans) if own_plans and n % 2 else None,
                    title=f"Meeting {n}",
                    summary="Discussed the high needs budget and the recovery plan.",
                    decisions="Noted." if n % 4 else "",
                    confidential=n % 10 == 0,
                    created_by=self.author(authority),
                )
            )
        Meeting.objects.bulk_create(meetings, batch_size=BATCH)
        forum_meetings = [m for m in meetings if m.forum == Forum.SCHOOLS_FORUM]
        SchoolsForumOutcome.objects.bulk_create(
            (
                SchoolsForumOutcome(
                    meeting=meeting,
                    funding_on_agenda="yes",
                    proposals_discussed=self.rng.choice(yes_no),
                    extra_funding="£2.4m over five years",
                    extra_funding_amount=Decimal(2_400_000),
                )
                for meeting in forum_meetings
            ),
            batch_size=BATCH,
        )
        outcomes = [choice for choice, _ in BlockTransfer.Outcome.choices]
        BlockTransfer.objects.bulk_create(
            (
                BlockTransfer(
                    meeting=meeting,
                    financial_year=meeting.held_on.year,
                    amount=Decimal(self.rng.randrange(1, 40) * 100_000),
                    percent=Decimal("0.5"),
                    votes_for=self.rng.randrange(20),
                    votes_against=self.rng.randrange(20),
                    abstentions=self.rng.randrange(5),
                    outcome=self.rng.choice(outcomes),
                )
                for meeting in forum_meetings[::3]
            ),
            batch_size=BATCH,
        )
        return len(meetings)

    def actions(self, count, plans, people):
        statuses = [choice for choice, _ in Action.Status.choices]
        actions = []
        for n in range(count):
            authority = self.authorities[n % len(self.authorities)]
            status = self.rng.choice(statuses)
            owner = self.author(authority)
            actions.append(
                Action(
                    authority=authority,
                    title=f"Action {n}: arrange a SENCO meeting",
                    owner=owner,
                    due_on=self.today + datetime.timedelta(days=self.rng.randrange(-60, 90)),
                    status=status,
                    reason="No longer needed." if status == "dropped" else "",
                    created_by=owner,
                )
            )
        Action.objects.bulk_create(actions, batch_size=BATCH)
        return len(actions)

    def feedback(self, count, people):
        phases = [choice for choice, _ in Phase.choices]
        pressures = [choice for choice, _ in Pressure.choices]
        barriers = [choice for choice, _ in Barrier.choices]
        costs = [choice for choice, _ in HealthCosts.choices]
        sources = [choice for choice, _ in FeedbackSource.choices]
        practices = [choice for choice, _ in Practice.choices]
        rng = self.rng
        made = 0
        for start in range(0, count, BATCH):
            batch = []
            for n in range(start, min(start + BATCH, count)):
                authority = self.authorities[n % len(self.authorities)]
                meeting_date = self.days_ago(1100)
                batch.append(
                    FeedbackSubmission(
                        authority=authority,
                        source=sources[n % len(sources)],
                        phases=rng.sample(phases, 2),
                        people_count=rng.randrange(1, 30),
                        meeting_date=meeting_date,
                        pressures=rng.sample(pressures, 3),
                        working_well="The outreach team from the special school.",
                        barriers=rng.sample(barriers, 2),
                        assessment_wait_weeks=rng.randrange(6, 60),
                        support_wait_weeks=rng.randrange(2, 40),
                        health_care_costs=rng.choice(costs),
                        practices=[rng.choice(practices)] if n % 20 == 0 else [],
                        consent_to_share=bool(n % 2),
                        submitted_by=self.author(authority),
                        submitted_at=timezone.make_aware(
                            datetime.datetime.combine(meeting_date, datetime.time(18))
                        ),
                    )
                )
            FeedbackSubmission.objects.bulk_create(batch)
            made += len(batch)
        return made

    def finance(self, people):
        """Seven years of figures for each authority that has none yet."""
        has_figures = set(AuthorityFinance.objects.values_list("authority_id", flat=True))
        source = "https://www.gov.uk/government/statistics"
        rows = [
            AuthorityFinance(
                authority=authority,
                financial_year=year,
                dsg_cumulative_deficit=Decimal(self.rng.randrange(-5, 80) * 1_000_000),
                dsg_cumulative_deficit_source_url=source,
                high_needs_block_allocation=Decimal(self.rng.randrange(30, 300) * 1_000_000),
                high_needs_block_allocation_source_url=source,
                updated_by=self.author(authority),
            )
            for authority in self.authorities
            if authority.pk not in has_figures
            for year in range(2019, 2026)
        ]
        AuthorityFinance.objects.bulk_create(rows, batch_size=BATCH)
        return len(rows)
