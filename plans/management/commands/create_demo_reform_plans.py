"""Create demo local SEND reform plans for local use, so that `make run`
shows reform plans at every stage with the DfE, with ratings, proposals and
High Needs Stability Grants due, paid and withheld.

Made-up figures for real authorities, so: DEBUG only (like the demo people),
marked unverified, and each plan's sources say it is demo data. Idempotent:
a demo plan already there (changed since or not) is left as it is.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authorities.caching import data_changed
from authorities.models import LocalAuthority
from plans.models import (
    REFORM_PROGRAMME,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    ReformPlanDetails,
)

ROUND = "2026"
DEMO_NOTE = "Demo data made by `manage.py create_demo_reform_plans`: not a real plan."
Stage, Rating = ReformPlanDetails.Stage, ReformPlanDetails.Rating
Capacity, Isp = ReformPlanDetails.Capacity, ReformPlanDetails.IspReadiness
Payment = HighNeedsStabilityGrant.Status


def day(month, date, year=2026):
    return datetime.date(year, month, date)


# (authority code, reform plan details, grant or None)
DEMO = [
    (
        "202",  # Camden: its people are the demo's main personas
        {
            "stage": Stage.FEEDBACK,
            "started_on": day(1, 12),
            "draft_shared_on": day(4, 30),
            "feedback_on": day(6, 19),
            "health_partner": "NHS North Central London ICB",
            "signed_by": "Director of Children's Services; ICB Director of Nursing (draft)",
            "aim_early": "Speech and language support in every early years setting by 2027.",
            "aim_local": "Twelve new resourced provisions in mainstream primary schools.",
            "aim_shared": "A partnership board with schools, health and the parent carer forum.",
            "special_school_capacity": Capacity.HOLD,
            "ap_capacity": Capacity.REDUCE,
            "ap_places_change": -30,
            "capacity_evidence": "Draft plan, section 4 (page 18).",
            "mainstream_investment": Decimal("2400000"),
            "mainstream_investment_evidence": "Inclusion fund for schools, draft plan page 21.",
            "isp_readiness": Isp.PLANNED,
            "isp_evidence": "SENCOs to write ISPs; no time or training set aside (page 23).",
        },
        {
            "eligible_deficit": Decimal("41250000"),
            "deficit_figure": HighNeedsStabilityGrant.Figure.S251,
            "remaining_plan": "From reserves over three years; no cut named yet.",
            "due_on": day(10, 30),
            "status": Payment.DUE,
            "conditions": "Paid only if the DfE approves the reform plan.",
        },
    ),
    (
        "886",  # Kent: in Safety Valve, so its page shows both ledgers
        {
            "stage": Stage.SUBMITTED,
            "started_on": day(1, 8),
            "draft_shared_on": day(3, 27),
            "feedback_on": day(5, 15),
            "submitted_on": day(7, 31),
            "health_partner": "NHS Kent and Medway ICB",
            "signed_by": "Leader of the council; ICB chief executive",
            "special_school_capacity": Capacity.HOLD,
            "special_school_places_change": 0,
            "ap_capacity": Capacity.HOLD,
            "mainstream_investment": Decimal("9000000"),
            "isp_readiness": Isp.PLANNED,
        },
        {
            "eligible_deficit": Decimal("118400000"),
            "deficit_figure": HighNeedsStabilityGrant.Figure.ACCOUNTS,
            "remaining_plan": "A 0.5% schools block transfer each year until 2028-29.",
            "due_on": day(10, 30),
            "status": Payment.DUE,
        },
    ),
    (
        "352",  # Manchester: approved and paid
        {
            "stage": Stage.APPROVED,
            "started_on": day(1, 5),
            "draft_shared_on": day(3, 2),
            "feedback_on": day(4, 17),
            "submitted_on": day(6, 12),
            "decided_on": day(9, 4),
            "rating": Rating.MET,
            "rated_on": day(9, 4),
            "health_partner": "NHS Greater Manchester ICB",
            "signed_by": "Chief executive; ICB place-based lead",
            "aim_early": "Family hubs with SEND outreach in every ward.",
            "aim_fair": "Banded funding for SEN support, published each year.",
            "special_school_capacity": Capacity.HOLD,
            "ap_capacity": Capacity.HOLD,
            "mainstream_investment": Decimal("5500000"),
            "isp_readiness": Isp.RESOURCED,
            "isp_evidence": "Two days' SENCO release a term for ISPs, funded centrally.",
        },
        {
            "eligible_deficit": Decimal("26800000"),
            "deficit_figure": HighNeedsStabilityGrant.Figure.S151,
            "remaining_plan": "Met from the council's general reserves.",
            "due_on": day(10, 30),
            "status": Payment.PAID,
            "amount_paid": Decimal("24120000"),
            "paid_on": day(11, 6),
        },
    ),
    (
        "351",  # Bury: rated "requirements not met", grant withheld
        {
            "stage": Stage.NOT_MET,
            "started_on": day(1, 20),
            "submitted_on": day(7, 10),
            "decided_on": day(9, 18),
            "rating": Rating.NOT_MET,
            "rated_on": day(9, 18),
            "health_partner": "NHS Greater Manchester ICB",
            "special_school_capacity": Capacity.REDUCE,
            "special_school_places_change": -60,
            "ap_capacity": Capacity.REDUCE,
            "ap_places_change": -20,
            "capacity_evidence": "Plan, page 9: places moved to mainstream over two years.",
            "isp_readiness": Isp.NOT_ADDRESSED,
        },
        {
            "eligible_deficit": Decimal("17900000"),
            "deficit_figure": HighNeedsStabilityGrant.Figure.S251,
            "due_on": day(10, 30),
            "status": Payment.WITHHELD,
            "conditions": "Withheld until a revised plan is approved.",
        },
    ),
    (
        "205",  # Hammersmith and Fulham: revised after "requirements not met"
        {
            "stage": Stage.REVISED,
            "started_on": day(1, 14),
            "submitted_on": day(6, 30),
            "decided_on": day(8, 28),
            "revised_on": day(11, 20),
            "rating": Rating.NOT_MET,
            "rated_on": day(8, 28),
            "health_partner": "NHS North West London ICB",
            "special_school_capacity": Capacity.EXPAND,
            "special_school_places_change": 40,
        },
        None,
    ),
    ("350", {"stage": Stage.STARTED, "started_on": day(2, 2)}, None),  # Bolton: just started
]


class Command(BaseCommand):
    help = "Create demo local SEND reform plans (local only: refuses when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo plans are for local use only: DEBUG is off, so none made.")
        programme = Programme.objects.filter(code=REFORM_PROGRAMME).first()
        if programme is None:
            raise CommandError("Load the programmes first: manage.py load_programmes")
        authorities = {la.la_code: la for la in LocalAuthority.objects.all()}
        created = 0
        with transaction.atomic():
            for code, details, grant in DEMO:
                plan, is_new = Plan.objects.get_or_create(
                    authority=authorities[code],
                    programme=programme,
                    round_or_tranche=ROUND,
                    revision=1,
                    defaults={
                        # Plan.status is the union's summary: an approved
                        # plan is agreed, any other is still being worked out
                        # with the DfE.
                        "status": (
                            Plan.Status.AGREED
                            if details["stage"] == Stage.APPROVED
                            else Plan.Status.NEGOTIATING
                        ),
                        "agreement_date": details.get("decided_on")
                        if details["stage"] == Stage.APPROVED
                        else None,
                        "first_year": 2026,
                        "sources": DEMO_NOTE,
                        "verified": False,
                    },
                )
                if not is_new:
                    continue
                created += 1
                ReformPlanDetails.objects.create(plan=plan, **details)
                if grant is not None:
                    HighNeedsStabilityGrant.objects.create(plan=plan, **grant)
            data_changed()
        self.stdout.write(
            f"Demo reform plans: {created} created, {len(DEMO) - created} already there."
        )
