"""Create a demo planned meeting for local use, so that `make run` shows a
meeting to come with its agenda, papers and questions to ask: Camden's next
Schools Forum, about Camden's current plan (the demo reform plan once
create_demo_reform_plans has run), with two of the checklist's suggested
questions and one of the representative's own.

DEBUG only (like the demo people and plans). Idempotent: once the demo
meeting is there (changed since or not), it is left as it is.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from authorities.caching import data_changed
from authorities.models import Branch, LocalAuthority, User
from plans.models import Answer, Plan, Question, needs_asking

from ...models import Forum, Meeting, MeetingQuestion

CAMDEN = "202"
BRANCH = "Camden branch (demo)"  # authorities' create_demo_trusts
TITLE = "Schools Forum: high needs budget (demo)"
OWN_QUESTION = (
    "Which schools lose outreach support next year, and what replaces it for the pupils "
    "who have it now?"
)


class Command(BaseCommand):
    help = "Create a demo planned meeting with questions (local only: refuses when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo meetings are for local use only: DEBUG is off, so none made.")
        camden = LocalAuthority.objects.filter(la_code=CAMDEN).first()
        if camden is None:
            raise CommandError("Load the authorities first: manage.py load_reference_data")
        self.branch_meeting(camden)
        if Meeting.objects.filter(authority=camden, title=TITLE).exists():
            self.stdout.write("Demo planned meeting: already there.")
            return
        plan = (
            Plan.objects.current()
            .filter(authority=camden)
            .select_related("assessment")
            .order_by("-pk")
            .first()
        )
        lns = User.objects.filter(email="camden.lns@example.org").first()
        with transaction.atomic():
            meeting = Meeting.objects.create(
                authority=camden,
                status=Meeting.Status.PLANNED,
                forum=Forum.SCHOOLS_FORUM,
                title=TITLE,
                held_on=timezone.localdate() + datetime.timedelta(days=21),
                plan=plan,
                agenda="Apologies and minutes\nHigh needs budget 2027-28\n"
                "Proposed transfer from the Schools Block",
                papers="High needs budget 2027-28 (demo) https://example.org/demo/high-needs.pdf",
                attendees="Branch secretary",
                created_by=lns,
            )
            if lns is not None:
                meeting.attending.set([lns])
            position = 0
            for question in self.suggested(plan)[:2]:
                position += 1
                MeetingQuestion.objects.create(
                    meeting=meeting,
                    question=question,
                    text=question.to_ask,
                    position=position,
                    added_by=lns,
                )
            MeetingQuestion.objects.create(
                meeting=meeting, text=OWN_QUESTION, position=position + 1, added_by=lns
            )
        # Saves send signals, but say so anyway: a page cached with the
        # demo's absence must not outlive it.
        data_changed()
        self.stdout.write(f"Demo planned meeting: {meeting}, with {position + 1} questions.")

    def branch_meeting(self, camden):
        """The briefing's section 7: school funding on the agenda of the
        local branch's meeting. Needs the demo branch (create_demo_trusts)."""
        branch = Branch.objects.filter(name=BRANCH).first()
        if branch is None or Meeting.objects.filter(branch=branch).exists():
            return
        Meeting.objects.create(
            authority=camden,
            forum=Forum.BRANCH,
            branch=branch,
            held_on=timezone.localdate() - datetime.timedelta(days=10),
            union_invited="yes",
            union_attended="yes",
            summary="School funding and the recovery plan were on the agenda; members were "
            "given the briefing and asked for their schools' SEND pressures.",
            created_by=User.objects.filter(email="camden.lns@example.org").first(),
        )
        self.stdout.write(f"Demo branch meeting: {branch}.")

    @staticmethod
    def suggested(plan):
        """The plan's checklist questions the union still needs to ask."""
        if plan is None:
            return []
        bank = plan.checklist_question_set()
        if bank is None:
            return []
        answers = {a.question_id: a for a in Answer.objects.filter(assessment__plan=plan)}
        return [
            question
            for question in Question.objects.filter(question_set=bank)
            .for_programme(plan.programme_id)
            .order_by("section__number", "order", "pk")
            if needs_asking(answers.get(question.pk))
        ]
