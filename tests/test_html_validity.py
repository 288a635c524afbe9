"""Pages reached only by POST, checked with the Nu HTML Checker: every form
sent back with its fields blank (the page with errors), every edit sent from
a page opened before someone else's save (the conflict), and the questions a
form asks before it saves (a name in feedback, a vote that contradicts its
outcome). The browser crawl (tests/browser/test_crawl.py) checks every page
a link leads to; these are the rest. All in one run of the checker.

Then the pieces that keep pages valid, each on its own: `<time datetime>`
values, a date sent back to a date input, and links only to forms the
reader may open (a link to a 403 is a dead end).
"""

import datetime

from django.db import transaction
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from authorities.access import Role
from authorities.forms import DateInput
from consultations.models import Action, Meeting, MeetingQuestion
from dashboards.models import WarningDealtWith
from feedback.models import FeedbackSubmission
from plans.models import FundingInstalment, Target
from tests.browsing import _FormReader, form_fields, resubmit
from tests.factories import CAMDEN, PASSWORD, authority, make_plan, make_user
from tests.test_checklist import answer_data
from tests.test_consultations import meeting_data
from tests.test_edits import KINDS, changed_value
from tests.test_feedback import form_data
from tests.vnu import html_errors, require_vnu


def blank_form(html):
    """The page's main form (the one that posts with the most fields, not
    the header's sign-out button) with every field left blank but the
    version it was opened at."""
    reader = _FormReader()
    reader.feed(html.decode())
    names, fields = max(reader.forms, key=lambda form: len(form[0]))
    kept = dict(fields)
    return {name: kept.get(name, "") if name == "base_version" else "" for name in names}


def test_pages_reached_only_by_post_are_valid_html(
    db, reference_data, client_for, national_officer, camden_lns, camden_senco_lead
):
    require_vnu()
    pages = {}
    lns, senco = client_for(camden_lns), client_for(camden_senco_lead)

    def keep(name, response, status=200):
        assert response.status_code == status, f"{name}: {response.status_code}"
        pages[name] = response.content

    # Every edit, with its fields blank, and sent after someone else's save.
    for name, kind in KINDS.items():
        # Each kind makes its own plan, the same one: undone before the next.
        with transaction.atomic():
            _, url = kind.make()
            opened = form_fields(lns.get(url).content)
            keep(f"{name}: blank", lns.post(url, blank_form(lns.get(url).content)))
            theirs = changed_value(kind, opened[kind.field], "their change")
            assert resubmit(lns, url, **{kind.field: theirs}).status_code == 302
            keep(f"{name}: conflict", lns.post(url, opened), status=409)
            transaction.set_rollback(True)

    # Every form that adds something, sent blank.
    plan = make_plan(CAMDEN)
    instalment = FundingInstalment.objects.create(plan=plan, financial_year=2024, amount=1)
    target = Target.objects.create(plan=plan, description="Fewer EHCPs", goal="ehcp_demand")
    adding = {
        "plans:add": ["camden"],
        "plans:instalment_add": [plan.pk],
        "plans:target_add": [plan.pk],
        "plans:target_update_add": [plan.pk, target.pk],
        "consultations:add": ["camden"],
        "consultations:plan": ["camden"],
        "consultations:action_add": ["camden"],
        "authorities:finance_add": ["camden"],
        "feedback:add": ["camden"],
        "feedback:link": [plan.pk, "cuts-not-efficiency"],
        "plans:answer": [plan.pk, "cuts-not-efficiency"],
    }
    for name, args in adding.items():
        url = reverse(name, args=args)
        keep(f"{name}: blank", lns.post(url, blank_form(lns.get(url).content)))
    keep(
        "plans:instalment_edit: a date typed 29/12/2026 and an error",
        lns.post(
            reverse("plans:instalment_edit", args=[plan.pk, instalment.pk]),
            {
                **form_fields(
                    lns.get(
                        reverse("plans:instalment_edit", args=[plan.pk, instalment.pk])
                    ).content
                ),
                "due_on": "29/12/2026",
                "amount": "lots",
            },
        ),
    )

    # The checklist: an answer saved from a page opened before another's.
    answer_url = reverse("plans:answer", args=[plan.pk, "cuts-not-efficiency"])
    assert lns.post(answer_url, answer_data()).status_code == 302
    keep("plans:answer: conflict", lns.post(answer_url, answer_data(response="yes")), 409)
    keep(
        "plans:evidence_add: not a link",
        lns.post(
            reverse("plans:evidence_add", args=[plan.pk, "cuts-not-efficiency"]),
            {"url": "not a link"},
        ),
    )

    # The questions asked before saving.
    keep(
        "consultations:add: a vote that contradicts its outcome",
        lns.post(
            reverse("consultations:add", args=["camden"]),
            meeting_data(
                **{
                    "transfer-votes_for": "19",
                    "transfer-votes_against": "12",
                    "transfer-outcome": "not_agreed",
                    "held_on": "29/12/2026",
                }
            ),
        ),
    )
    keep(
        "feedback:add: a child's name",
        senco.post(
            reverse("feedback:add", args=["camden"]),
            form_data(working_well="Oliver Smith in Year 3 waited a year"),
        ),
    )
    submission = FeedbackSubmission.objects.filter(submitted_by=camden_senco_lead).first()
    if submission is None:
        submission = FeedbackSubmission.objects.create(
            authority=authority(CAMDEN),
            submitted_by=camden_senco_lead,
            source="senco_network",
            phases=["primary"],
            people_count=12,
            meeting_date="2026-10-01",
            health_care_costs="no",
        )
    edit = reverse("feedback:edit", args=[submission.pk])
    keep("feedback:edit: blank", senco.post(edit, blank_form(senco.get(edit).content)))

    # A planned meeting's questions: none picked, one's own left blank, a
    # removal without a reason, and answers saved after someone else's.
    meeting = Meeting.objects.create(
        authority=authority(CAMDEN),
        forum="schools_forum",
        status="planned",
        held_on=datetime.date.today(),
        plan=plan,
    )
    asked = MeetingQuestion.objects.create(meeting=meeting, text="Who pays?", position=1)
    questions = reverse("consultations:questions", args=[meeting.pk])
    keep("consultations:questions: none picked", lns.post(questions, {}))
    keep(
        "consultations:question_add: blank",
        lns.post(reverse("consultations:question_add", args=[meeting.pk]), {"own-text": ""}),
    )
    remove = reverse("consultations:question_remove", args=[asked.pk])
    keep("consultations:question_remove: no reason", lns.post(remove, {"base_version": "1"}))
    answers = reverse("consultations:answers", args=[meeting.pk])
    MeetingQuestion.objects.filter(pk=asked.pk).update(answer="Theirs", asked="yes", version=2)
    mine = {f"q{asked.pk}-base_version": "1", f"q{asked.pk}-asked": "yes"}
    keep("consultations:answers: conflict", lns.post(answers, mine), 409)

    # A warning marked dealt with with no note, and after its cause changed
    # (409); a reopening sent from an old page (409); a bad warnings filter.
    chased = Action.objects.create(
        authority=authority(CAMDEN),
        title="Chase the minutes",
        due_on=datetime.date.today() - datetime.timedelta(days=3),
    )
    deal = reverse("dashboards:warning_deal", args=["action_overdue", chased.pk])
    keep(
        "dashboards:warning_deal: its cause changed",
        lns.post(deal, {"note": "Chased", "cause": "2000-01-01"}),
        409,
    )
    keep(
        "dashboards:warning_deal: no note",
        lns.post(deal, {"note": "", "cause": chased.due_on.isoformat()}),
    )
    assert (
        lns.post(deal, {"note": "Chased", "cause": chased.due_on.isoformat()}).status_code == 302
    )
    keep("dashboards:warning_deal: dealt with already", lns.get(deal))
    record = WarningDealtWith.objects.get(subject_id=chased.pk)
    reopen = reverse("dashboards:warning_reopen", args=[record.pk])
    keep("dashboards:warning_reopen: stale", lns.post(reopen, {"base_version": "0"}), 409)
    keep(
        "dashboards:warnings: a bad filter",
        lns.get("/warnings/?kind=nonsense&since=31/02/2026&authority=kent"),
    )

    # A filter given what is not a date, and the sign-in and password pages.
    keep("consultations:list: dates typed", lns.get("/meetings/?held_from=29/12/2026&held_to=x"))
    keep("consultations:actions: a bad filter", lns.get("/actions/?status=nonsense"))
    anonymous = Client()
    keep(
        "account_login: a wrong password",
        anonymous.post(
            reverse("account_login"), {"login": camden_lns.email, "password": "not-this-one"}
        ),
    )
    second_step = Client()
    signed = second_step.post(
        reverse("account_login"), {"login": national_officer.email, "password": PASSWORD}
    )
    assert signed["Location"] == reverse("mfa_authenticate")
    keep("mfa_authenticate: the second step", second_step.get(signed["Location"]))
    keep(
        "mfa_authenticate: a wrong code",
        second_step.post(reverse("mfa_authenticate"), {"code": "000000"}),
    )
    keep(
        "account_reset_password: not an address",
        anonymous.post(reverse("account_reset_password"), {"email": "not an address"}),
    )
    keep(
        "account_change_password: blank",
        client_for(make_user(roles=[(Role.LNS, authority(CAMDEN))])).post(
            reverse("account_change_password"), {}
        ),
    )

    errors = html_errors(pages)
    assert not errors, f"{len(pages)} pages checked:\n" + "\n".join(errors)


def test_time_values_are_to_the_second_in_local_time():
    moment = datetime.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    rendered = Template("{% load govuk %}{{ moment|iso_datetime }} {{ day|iso_datetime }}").render(
        Context({"moment": moment, "day": datetime.date(2026, 12, 29)})
    )
    assert rendered == "2026-07-01T10:30:15+01:00 2026-12-29"  # London's summer time


def test_a_date_sent_back_is_shown_as_the_date_input_takes_it():
    widget = DateInput()
    assert widget.format_value("29/12/2026") == "2026-12-29"
    assert widget.format_value("2026-12-29") == "2026-12-29"
    assert widget.format_value("31/02/2026") is None  # no such day: left blank
    assert widget.format_value("") is None


def test_actions_link_to_their_form_only_for_those_who_may_change_them(
    client_for, camden_lns, camden_senco_lead
):
    action = Action.objects.create(authority=authority(CAMDEN), title="Ask for the papers")
    form = f'href="{action.get_absolute_url()}"'
    for url in ("/actions/", "/authorities/camden/"):
        assert form in client_for(camden_lns).get(url).content.decode()
        page = client_for(camden_senco_lead).get(url).content.decode()
        assert "Ask for the papers" in page
        assert form not in page
