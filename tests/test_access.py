"""Who may open which URL: the access matrix.

Every named URL outside the Django admin must have an entry in MATRIX, or
`test_every_url_is_in_the_matrix` fails, so a new page cannot ship without
saying who may see it. Each entry is then checked for anonymous people, for
people in scope (200), people in scope whose role does not allow it (403) and
people out of scope (404, never a leak).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver, reverse

from authorities.access import Role
from authorities.models import AuthorityFinance, Branch, LocalAuthority, MultiAcademyTrust, User
from consultations.models import Action, Meeting, MeetingQuestion
from dashboards.models import WarningDealtWith
from feedback.models import FeedbackSubmission
from plans.models import FundingInstalment, Target

from .conftest import PERSONAS
from .factories import CAMDEN, give_security_key, make_plan, make_user

LOGIN = "login"  # anonymous people are sent to the login page
EVERYONE = tuple(PERSONAS)


@dataclass(frozen=True)
class Access:
    anonymous: int | str  # a status code, or LOGIN
    allowed: tuple = EVERYONE  # personas who get `signed_in`
    signed_in: int = 200
    not_found: tuple = ()  # personas for whom the object is out of scope
    forbidden: tuple = ()  # personas in scope whose role does not allow it: 403
    kwargs: dict = field(default_factory=dict)
    # Creates the object the URL names, before each request (so a 404 means
    # out of scope, not missing).
    setup: Callable[[], object] | None = None


PUBLIC = Access(anonymous=200)
SIGNED_IN = Access(anonymous=LOGIN)
CAMDEN_SCOPE = ("national_officer", "london_organiser", "camden_lns")
CAMDEN_SCOPE += ("camden_forum_rep", "camden_senco_lead")
CAMDEN_EDITORS = ("national_officer", "camden_lns", "camden_forum_rep")
CAMDEN_READ_ONLY = ("london_organiser", "camden_senco_lead")
OUTSIDE_CAMDEN = ("northwest_nem", "kent_lns", "manchester_head_rep", "no_role_user")


# The personas who have an authenticator app (tests/factories.py: everyone
# who must sign in in two steps).
WITH_TOTP = ("national_officer", "london_organiser", "northwest_nem")


def camden_security_key():
    """A security key of Camden's LNS; whose it is matters only once the
    person has confirmed it is them (tests/test_mfa.py)."""
    lns = User.objects.filter(email="camden.lns@example.org").first() or make_user(
        "camden.lns@example.org"
    )
    return {"pk": give_security_key(lns).pk}


OVERVIEW = Access(
    anonymous=LOGIN,
    allowed=("national_officer", "london_organiser", "northwest_nem"),
    forbidden=tuple(
        p for p in PERSONAS if p not in ("national_officer", "london_organiser", "northwest_nem")
    ),
)


def camden_2024_figures():
    AuthorityFinance.objects.create(
        authority=LocalAuthority.objects.get(slug="camden"), financial_year=2024
    )


# Multi-academy trusts and local branches (tests/test_trusts_and_branches.py):
# everyone covering an authority they cover reads them; national officers,
# regional organisers and NEMs record and change them.
def camden_trust():
    trust = MultiAcademyTrust.objects.create(name="Camden Learning Trust")
    trust.authorities.add(LocalAuthority.objects.get(slug="camden"))
    return {"pk": trust.pk}


def camden_branch():
    branch = Branch.objects.create(name="Camden branch")
    branch.authorities.add(LocalAuthority.objects.get(slug="camden"))
    return {"pk": branch.pk}


RECORDERS = ("national_officer", "london_organiser", "northwest_nem")
COVERING_ADD = Access(
    anonymous=LOGIN,
    allowed=RECORDERS,
    forbidden=tuple(p for p in PERSONAS if p not in RECORDERS),
)


def covering_page(setup):
    return Access(anonymous=LOGIN, setup=setup, allowed=CAMDEN_SCOPE, not_found=OUTSIDE_CAMDEN)


def covering_change(setup):
    return Access(
        anonymous=LOGIN,
        setup=setup,
        allowed=("national_officer", "london_organiser"),
        forbidden=("camden_lns", "camden_forum_rep", "camden_senco_lead"),
        not_found=OUTSIDE_CAMDEN,
    )


# Plans and the checklist: each setup makes a Camden plan (and what hangs off
# it) and returns the URL's kwargs.
def camden_plan():
    return {"pk": make_plan(CAMDEN).pk}


def camden_instalment():
    plan = make_plan(CAMDEN)
    instalment = FundingInstalment.objects.create(plan=plan, financial_year=2024, amount=1)
    return {"pk": plan.pk, "instalment_pk": instalment.pk}


def camden_target():
    plan = make_plan(CAMDEN)
    target = Target.objects.create(plan=plan, description="Fewer EHCPs", goal="ehcp_demand")
    return {"pk": plan.pk, "target_pk": target.pk}


def camden_reform_plan():
    """A Camden local SEND reform plan: only these have reform details and a
    grant (another plan's pages are 404: test_reform_plans.py)."""
    return {"pk": make_plan(CAMDEN, "send-reform").pk}


def camden_plan_question():
    return {**camden_plan(), "key": "cuts-not-efficiency"}


CHECKLIST_POST_ONLY = Access(anonymous=LOGIN, signed_in=405, setup=camden_plan_question)


def camden_plan_page(setup=camden_plan):
    """A plan page everyone covering Camden may read."""
    return Access(anonymous=LOGIN, setup=setup, allowed=CAMDEN_SCOPE, not_found=OUTSIDE_CAMDEN)


def camden_plan_change(setup=camden_plan):
    """A change to a Camden plan: its editors may, its readers get 403."""
    return Access(
        anonymous=LOGIN,
        setup=setup,
        allowed=CAMDEN_EDITORS,
        forbidden=CAMDEN_READ_ONLY,
        not_found=OUTSIDE_CAMDEN,
    )


# Consultations: a Camden meeting (not confidential: who sees a confidential
# one is tested in test_consultations.py) or action, returning URL kwargs.
def camden_meeting():
    meeting = Meeting.objects.create(
        authority=LocalAuthority.objects.get(slug="camden"),
        forum="schools_forum",
        held_on="2026-01-15",
    )
    return {"pk": meeting.pk}


def camden_action():
    action = Action.objects.create(
        authority=LocalAuthority.objects.get(slug="camden"), title="Arrange a SENCO meeting"
    )
    return {"pk": action.pk}


def camden_meeting_evidence():
    return {
        **camden_plan(),
        "key": "schools-forum-consulted",
        "meeting_pk": camden_meeting()["pk"],
    }


def camden_planned_meeting():
    """A Camden meeting to come, with one question to ask at it."""
    meeting = Meeting.objects.create(
        authority=LocalAuthority.objects.get(slug="camden"),
        forum="schools_forum",
        status=Meeting.Status.PLANNED,
        held_on="2099-01-15",
    )
    MeetingQuestion.objects.create(meeting=meeting, text="Who pays for outreach?", position=1)
    return {"pk": meeting.pk}


def camden_meeting_question():
    meeting = Meeting.objects.get(pk=camden_planned_meeting()["pk"])
    return {"pk": meeting.questions.get().pk}


def camden_planning(setup):
    """Planned meetings and their questions: editors and the region's
    organisers and NEMs plan them; network leads read them."""
    return Access(
        anonymous=LOGIN,
        setup=setup,
        allowed=(*CAMDEN_EDITORS, "london_organiser"),
        forbidden=("camden_senco_lead",),
        not_found=OUTSIDE_CAMDEN,
    )


# Questions are moved, added and linked as evidence by POST only (their
# roles are tested in test_meeting_plans.py).
def camden_question_post_only(setup):
    return Access(anonymous=LOGIN, signed_in=405, setup=setup)


def camden_contribution(setup):
    """Actions: editors and the region's organisers and NEMs may add and
    change them; network leads read them."""
    return Access(
        anonymous=LOGIN,
        setup=setup,
        allowed=(*CAMDEN_EDITORS, "london_organiser"),
        forbidden=("camden_senco_lead",),
        not_found=OUTSIDE_CAMDEN,
    )


# Early warnings: an overdue Camden action is one (dashboards/warnings.py);
# marking it dealt with and reopening it are for those who act in Camden.
def camden_overdue_action():
    action = Action.objects.create(
        authority=LocalAuthority.objects.get(slug="camden"),
        title="Chase the minutes",
        due_on=datetime.date.today() - datetime.timedelta(days=3),
    )
    return {"kind": "action_overdue", "pk": action.pk}


def camden_warning_dealt_with():
    action = Action.objects.get(pk=camden_overdue_action()["pk"])
    record = WarningDealtWith.objects.create(
        authority=action.authority,
        kind="action_overdue",
        subject_id=action.pk,
        cause=action.due_on.isoformat(),
        cause_on=action.due_on,
        note="Chased",
    )
    return {"pk": record.pk}


def camden_warning_change(setup):
    """Marking a Camden warning dealt with, or reopening it: those who act
    there (Can.DEAL_WITH_WARNINGS); its readers get 403."""
    return Access(
        anonymous=LOGIN,
        setup=setup,
        allowed=(*CAMDEN_EDITORS, "london_organiser"),
        forbidden=("camden_senco_lead",),
        not_found=OUTSIDE_CAMDEN,
    )


# Feedback: a Camden submission by Camden's SENCO network lead (the persona's
# account when the test has one), returning URL kwargs.
def camden_feedback():
    camden = LocalAuthority.objects.get(slug="camden")
    senco = User.objects.filter(email="camden.senco@example.org").first() or make_user(
        "camden.senco@example.org", roles=[(Role.SENCO_LEAD, camden)]
    )
    submission = FeedbackSubmission.objects.create(
        authority=camden,
        submitted_by=senco,
        source="senco_network",
        phases=["primary"],
        people_count=12,
        meeting_date="2026-10-01",
        health_care_costs="no",
    )
    return {"pk": submission.pk}


def camden_feedback_change():
    """Only the submitter changes or withdraws feedback; its readers get 403."""
    return Access(
        anonymous=LOGIN,
        setup=camden_feedback,
        allowed=("camden_senco_lead",),
        forbidden=("national_officer", "london_organiser", "camden_lns", "camden_forum_rep"),
        not_found=OUTSIDE_CAMDEN,
    )


MATRIX = {
    "home": SIGNED_IN,
    "dashboards:authority_list": SIGNED_IN,
    # The map: everyone signed in; their scope decides which squares are filled
    # (test_map.py).
    "dashboards:map": SIGNED_IN,
    # Every warning in the person's scope (test_warning_page.py).
    "dashboards:warnings": SIGNED_IN,
    "dashboards:warning_deal": camden_warning_change(camden_overdue_action),
    "dashboards:warning_reopen": camden_warning_change(camden_warning_dealt_with),
    # Search: everyone signed in, finding only what they may read (test_search.py).
    "dashboards:search": SIGNED_IN,
    # The audit trail: national officers only (test_audit.py).
    "authorities:audit": Access(
        anonymous=LOGIN,
        allowed=("national_officer",),
        forbidden=tuple(p for p in PERSONAS if p != "national_officer"),
    ),
    "dashboards:authority": Access(
        anonymous=LOGIN,
        kwargs={"slug": "camden"},
        allowed=CAMDEN_SCOPE,
        not_found=("northwest_nem", "kent_lns", "manchester_head_rep", "no_role_user"),
    ),
    # Telling the national office: those who contribute to the authority's
    # records; network leads read them only (tests/test_national_office.py).
    "dashboards:tell_national_office": Access(
        anonymous=LOGIN,
        kwargs={"slug": "camden"},
        allowed=("national_officer", "london_organiser", "camden_lns", "camden_forum_rep"),
        forbidden=("camden_senco_lead",),
        not_found=OUTSIDE_CAMDEN,
    ),
    # The briefing pack: everyone who reads the authority's page may print it.
    "dashboards:briefing": Access(
        anonymous=LOGIN, kwargs={"slug": "camden"}, allowed=CAMDEN_SCOPE, not_found=OUTSIDE_CAMDEN
    ),
    "dashboards:region": Access(
        anonymous=LOGIN,
        kwargs={"slug": "london"},
        allowed=("national_officer", "london_organiser"),
        not_found=(
            "northwest_nem",
            "camden_lns",
            "camden_forum_rep",
            "camden_senco_lead",
            "kent_lns",
            "manchester_head_rep",
            "no_role_user",
        ),
    ),
    # The overview table and its downloads: national officers (all of
    # England), regional organisers and NEMs (their region); the people who
    # cover single authorities, network leads among them, get 403.
    "dashboards:overview": OVERVIEW,
    "dashboards:overview_csv": OVERVIEW,
    "dashboards:overview_xlsx": OVERVIEW,
    # Finance facts: everyone in scope reads them on the authority page; only
    # national officers and the authority's LNS, Schools Forum and JCNC/JCC
    # representatives change them.
    "authorities:finance_add": Access(
        anonymous=LOGIN,
        kwargs={"slug": "camden"},
        allowed=CAMDEN_EDITORS,
        forbidden=CAMDEN_READ_ONLY,
        not_found=OUTSIDE_CAMDEN,
    ),
    "authorities:finance_edit": Access(
        anonymous=LOGIN,
        kwargs={"slug": "camden", "year": 2024},
        setup=camden_2024_figures,
        allowed=CAMDEN_EDITORS,
        forbidden=CAMDEN_READ_ONLY,
        not_found=OUTSIDE_CAMDEN,
    ),
    "authorities:finance_delete": Access(
        anonymous=LOGIN,
        kwargs={"slug": "camden", "year": 2024},
        setup=camden_2024_figures,
        allowed=CAMDEN_EDITORS,
        forbidden=CAMDEN_READ_ONLY,
        not_found=OUTSIDE_CAMDEN,
    ),
    "accessibility": PUBLIC,
    "health": PUBLIC,
    "ready": PUBLIC,
    # Plans: everyone in scope reads them; national officers and the
    # authority's LNS, Schools Forum and JCNC/JCC representatives change them.
    "plans:list": SIGNED_IN,
    "plans:add": camden_plan_change(setup=lambda: {"slug": "camden"}),
    "plans:detail": camden_plan_page(),
    "plans:history": camden_plan_page(),
    "plans:edit": camden_plan_change(),
    "plans:revise": camden_plan_change(),
    "plans:instalment_add": camden_plan_change(),
    "plans:instalment_edit": camden_plan_change(setup=camden_instalment),
    "plans:instalment_delete": camden_plan_change(setup=camden_instalment),
    "plans:target_add": camden_plan_change(),
    "plans:target_edit": camden_plan_change(setup=camden_target),
    "plans:target_update_add": camden_plan_change(setup=camden_target),
    "plans:reform_edit": camden_plan_change(setup=camden_reform_plan),
    "plans:grant_edit": camden_plan_change(setup=camden_reform_plan),
    # The checklist: everyone in scope reads a question's page and the
    # questions still to ask. The other URLs take only POST, so GET answers
    # 405 whoever asks; what a POST gets, role by role, is in test_checklist.py.
    "plans:answer": Access(
        anonymous=LOGIN,
        setup=camden_plan_question,
        allowed=CAMDEN_SCOPE,
        not_found=OUTSIDE_CAMDEN,
    ),
    "plans:evidence_add": CHECKLIST_POST_ONLY,
    "plans:comment_add": CHECKLIST_POST_ONLY,
    "plans:answer_confirm": CHECKLIST_POST_ONLY,
    "plans:questions_to_ask": Access(
        anonymous=LOGIN, setup=camden_plan, allowed=CAMDEN_SCOPE, not_found=OUTSIDE_CAMDEN
    ),
    # Consultations: everyone in scope reads meetings; editors log and change
    # them; contributors add and change actions. Linking a meeting as
    # evidence takes only POST (its roles are tested in test_consultations.py).
    "consultations:list": SIGNED_IN,
    "consultations:authority_list": camden_plan_page(setup=lambda: {"slug": "camden"}),
    "consultations:add": camden_plan_change(setup=lambda: {"slug": "camden"}),
    "consultations:detail": camden_plan_page(setup=camden_meeting),
    "consultations:edit": camden_plan_change(setup=camden_meeting),
    # A planned meeting: organisers and NEMs plan meetings and their
    # questions, and record the answers (a held one is editors' alone).
    "consultations:plan": camden_planning(setup=lambda: {"slug": "camden"}),
    "consultations:questions": camden_plan_page(setup=camden_planned_meeting),
    "consultations:questions_print": camden_plan_page(setup=camden_planned_meeting),
    "consultations:answers": camden_planning(setup=camden_planned_meeting),
    "consultations:question_remove": camden_planning(setup=camden_meeting_question),
    "consultations:question_add": camden_question_post_only(camden_planned_meeting),
    "consultations:question_move": camden_question_post_only(camden_meeting_question),
    "consultations:question_evidence": camden_question_post_only(camden_meeting_question),
    "dashboards:short_pack": camden_plan_page(setup=camden_planned_meeting),
    "consultations:link_evidence": Access(
        anonymous=LOGIN, signed_in=405, setup=camden_meeting_evidence
    ),
    # Linking an official figure as evidence takes only POST (its roles are
    # tested in test_official_evidence.py).
    "official:link_evidence": Access(
        anonymous=LOGIN,
        signed_in=405,
        setup=lambda: {
            **camden_plan(),
            "key": "refusing-initial-applications",
            "trend": "official-refusals",
            "period": "2024",
        },
    ),
    "consultations:actions": SIGNED_IN,
    "consultations:authority_actions": camden_plan_page(setup=lambda: {"slug": "camden"}),
    "consultations:action_add": camden_contribution(setup=lambda: {"slug": "camden"}),
    "consultations:action_starter": camden_contribution(setup=lambda: {"slug": "camden"}),
    "consultations:action_edit": camden_contribution(setup=camden_action),
    # Feedback: everyone covering Camden but regional roles may give it; a
    # submission is read by national officers, the region's organisers and
    # NEMs, Camden's LNS, Schools Forum and JCNC/JCC reps, and its submitter
    # (another network lead gets 404: test_feedback.py). Contributors link it
    # to a checklist; national officers and organisers export.
    "feedback:list": SIGNED_IN,
    "feedback:add": Access(
        anonymous=LOGIN,
        kwargs={"slug": "camden"},
        allowed=("national_officer", "camden_lns", "camden_forum_rep", "camden_senco_lead"),
        forbidden=("london_organiser",),
        not_found=OUTSIDE_CAMDEN,
    ),
    "feedback:detail": camden_plan_page(setup=camden_feedback),
    "feedback:edit": camden_feedback_change(),
    "feedback:withdraw": camden_feedback_change(),
    "feedback:link": Access(
        anonymous=LOGIN,
        setup=camden_plan_question,
        allowed=(*CAMDEN_EDITORS, "london_organiser"),
        forbidden=("camden_senco_lead",),
        not_found=OUTSIDE_CAMDEN,
    ),
    "feedback:export": Access(
        anonymous=LOGIN,
        allowed=("national_officer", "london_organiser"),
        forbidden=tuple(p for p in PERSONAS if p not in ("national_officer", "london_organiser")),
    ),
    # django-allauth's pages. Sign-in and password reset are public; the rest
    # need a signed-in person and concern only that person's own account.
    "account_login": Access(anonymous=200, signed_in=302),  # on to the home page
    "account_logout": Access(anonymous=302),
    "account_inactive": PUBLIC,
    "account_signup": Access(anonymous=200, signed_in=302),
    "account_reauthenticate": SIGNED_IN,
    "account_request_reauthentication_code": Access(anonymous=LOGIN, allowed=()),
    "account_confirm_reauthentication_code": Access(anonymous=LOGIN, allowed=()),
    "account_email": SIGNED_IN,
    "account_email_verification_sent": PUBLIC,
    "account_change_password": SIGNED_IN,
    "account_set_password": Access(anonymous=LOGIN, allowed=()),
    "account_reset_password": PUBLIC,
    "account_reset_password_done": PUBLIC,
    "account_reset_password_from_key": Access(
        anonymous=200, kwargs={"uidb36": "1", "key": "not-a-real-key"}
    ),
    "account_reset_password_from_key_done": PUBLIC,
    "account_confirm_login_code": Access(anonymous=302, allowed=()),
    "account_confirm_email": Access(anonymous=200, kwargs={"key": "not-a-real-key"}),
    # allauth.mfa's pages (two-step sign-in), each about the person's own
    # second steps. Adding or removing one first asks them to confirm it is
    # them (302) unless they signed in minutes ago, which these clients did
    # not; tests/test_mfa.py goes on from there.
    "mfa_index": SIGNED_IN,
    "mfa_authenticate": Access(anonymous=LOGIN, signed_in=302),  # only mid sign-in
    "mfa_reauthenticate": Access(anonymous=LOGIN, allowed=WITH_TOTP),
    "mfa_activate_totp": Access(anonymous=LOGIN, signed_in=302),
    "mfa_deactivate_totp": Access(anonymous=LOGIN, allowed=WITH_TOTP, signed_in=302),
    # Not found until the person has recovery codes (made with a first app).
    "mfa_view_recovery_codes": Access(anonymous=LOGIN, signed_in=404),
    "mfa_download_recovery_codes": Access(anonymous=LOGIN, signed_in=404),
    "mfa_generate_recovery_codes": Access(anonymous=LOGIN, signed_in=302),
    "mfa_list_webauthn": SIGNED_IN,
    "mfa_add_webauthn": Access(anonymous=LOGIN, signed_in=302),
    "mfa_reauthenticate_webauthn": Access(anonymous=LOGIN, signed_in=302),
    "mfa_remove_webauthn": Access(anonymous=LOGIN, signed_in=302, setup=camden_security_key),
    "mfa_edit_webauthn": Access(anonymous=LOGIN, signed_in=302, setup=camden_security_key),
    # A person's own signed-in sessions (test_sessions.py).
    "usersessions_list": SIGNED_IN,
    # Each person's own digest setting (tests/test_digest.py).
    "authorities:digest": SIGNED_IN,
    # Watching an authority: anyone who sees it (tests/test_digest.py).
    "authorities:watch": Access(
        anonymous=LOGIN, kwargs={"slug": "camden"}, allowed=CAMDEN_SCOPE, not_found=OUTSIDE_CAMDEN
    ),
    # Multi-academy trusts and local branches: lists of what is in scope for
    # everyone signed in; pages for those covering an authority they cover.
    "authorities:trusts": SIGNED_IN,
    "authorities:trust_add": COVERING_ADD,
    "authorities:trust_edit": covering_change(camden_trust),
    "dashboards:trust": covering_page(camden_trust),
    "authorities:branches": SIGNED_IN,
    "authorities:branch_add": COVERING_ADD,
    "authorities:branch_edit": covering_change(camden_branch),
    "dashboards:branch": covering_page(camden_branch),
    # An invitation's link is public (the link is the credential); one that
    # is not valid is refused on a page saying whom to ask (test_invitations.py).
    "accept_invitation": Access(anonymous=200, kwargs={"who": "not-signed", "token": "1-2"}),
}
# The Django admin's URLs all sit behind UnionAdminSite.has_permission, which
# test_admin.py checks for each kind of person.
EXCLUDED_NAMESPACES = {"admin"}


def named_urls(patterns=None, namespace=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from named_urls(pattern.url_patterns, pattern.namespace or namespace)
        elif pattern.name and namespace not in EXCLUDED_NAMESPACES:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_is_in_the_matrix():
    missing = sorted(set(named_urls()) - set(MATRIX))
    assert not missing, f"Add these URLs to the access matrix in {__file__}: {missing}"
    stale = sorted(set(MATRIX) - set(named_urls()))
    assert not stale, f"These matrix entries name no URL: {stale}"


def test_every_scoped_entry_says_what_each_persona_gets():
    for name, access in MATRIX.items():
        if access.not_found or access.forbidden:
            answers = (access.allowed, access.not_found, access.forbidden)
            covered = set().union(*answers)
            assert covered == set(PERSONAS), f"{name}: say what {set(PERSONAS) - covered} get"
            assert sum(map(len, answers)) == len(covered), f"{name}: a persona is listed twice"


def get(client, name):
    access = MATRIX[name]
    made = access.setup() if access.setup else None
    # A setup may return the URL's kwargs (the primary key of what it made).
    kwargs = made if isinstance(made, dict) else access.kwargs
    return client.get(reverse(name, kwargs=kwargs))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous(client, name):
    access = MATRIX[name]
    response = get(client, name)
    if access.anonymous == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == access.anonymous


ALLOWED = [(name, who) for name, access in MATRIX.items() for who in access.allowed]
NOT_FOUND = [(name, who) for name, access in MATRIX.items() for who in access.not_found]
FORBIDDEN = [(name, who) for name, access in MATRIX.items() for who in access.forbidden]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), ALLOWED)
def test_allowed(request, client_for, name, persona):
    client = client_for(request.getfixturevalue(persona))
    assert get(client, name).status_code == MATRIX[name].signed_in


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), NOT_FOUND)
def test_out_of_scope_is_not_found(request, client_for, name, persona):
    client = client_for(request.getfixturevalue(persona))
    assert get(client, name).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), FORBIDDEN)
def test_in_scope_without_the_role_is_forbidden(request, client_for, name, persona):
    client = client_for(request.getfixturevalue(persona))
    assert get(client, name).status_code == 403
