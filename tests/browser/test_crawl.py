"""Every page of every kind, for every persona, checked in a real browser.

With demo-like data in the live server's database (the benchmark's seeder,
`seed_scale`, at a small size over Camden, Kent and Manchester, a plan of
every programme, and a few rows that only a persona's own work makes), each
persona, and someone not signed in, starts at Home (and at START_PAGES: the
pages no link leads to) and follows every same-origin link, breadth first.
One page is checked per URL pattern and persona (a second plan, a second
question or `?page=2` is the same template with other rows):

- axe-core, WCAG 2.2 A and AA: any violation fails. Its best practices run
  too and are reported as a warning, not failed. Colour contrast, the
  slowest rule by far (70-85% of axe's time on a page), is checked for every
  persona on SQLite (CI's first run) and for the first persona to reach
  each pattern on PostgreSQL: what a page looks like does not depend on the
  database, and the second run need not pay for it again.
- the Nu HTML Checker, run once over every page's HTML at the end (its JVM
  is slow to start): any error fails.
- reflow (WCAG 1.4.10), on the first persona to reach each pattern: 320
  CSS pixels wide, nothing may make the page scroll sideways, and whatever
  scrolls sideways inside the page (a wide table, a chart) must be a region
  with a name that a keyboard can reach (the table tag, templates/includes/).
  No text in a chart may touch another or be cut off (test_charts.py).
- a link that answers anything but 200, after redirects, fails.
- every URL in the access matrix (tests/test_access.py) must be reached by
  some persona, or be in NOT_FOLLOWED or NOT_LINKED with the reason.

Not followed, and why:
- sign out (it would end the crawl), and the CSV, XLSX and recovery-code
  downloads (files, not pages; their contents are tested elsewhere);
- the Django admin (/admin/): Django's own templates, not the app's GOV.UK
  ones, and dozens of heavy pages for one persona; tests/test_admin.py
  covers who may use it;
- pages reached only by POST (a form with errors, an edit refused as stale,
  a question asked before saving): tests/test_html_validity.py renders them
  with the test client and checks their HTML.
"""

import datetime
import functools
import json
import random
import time
import warnings
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from authorities.models import Branch, LocalAuthority, MultiAcademyTrust
from consultations.models import Action, Meeting, MeetingQuestion
from dashboards.management.commands.seed_scale import Seeder
from dashboards.models import WarningDealtWith
from feedback.models import FeedbackEvidence, FeedbackSubmission
from plans.models import Answer, Comment, EvidenceLink, Programme
from tests.conftest import PERSONAS
from tests.factories import CAMDEN, KENT, MANCHESTER, give_security_key, make_plan
from tests.test_access import MATRIX
from tests.vnu import html_errors, require_vnu

from .conftest import AXE_RUN, AXE_SCRIPT, NO_CONTRAST, WCAG_22_AA
from .test_charts import TEXT_BOXES

# URL names (or namespaces) never followed, and why (the module docstring).
NOT_FOLLOWED = {
    "account_logout": "signs the person out",
    "dashboards:overview_csv": "a download",
    "dashboards:overview_xlsx": "a download",
    "feedback:export": "a download",
    "mfa_download_recovery_codes": "a download",
}
NOT_FOLLOWED_NAMESPACES = {"admin"}
ANONYMOUS = "anonymous"
# Where each persona starts (with the status expected there): Home, and
# pages no link leads to: those of signing in, and those shown only when
# something is wrong.
START_PAGES = {
    ANONYMOUS: [
        ("/accounts/login/", 200),
        ("/accounts/signup/", 200),  # says that people are invited
        ("/accounts/inactive/", 200),
        ("/accounts/confirm-email/", 200),
        ("/accounts/confirm-email/not-a-real-key/", 200),
        ("/accounts/password/reset/done/", 200),
        ("/accounts/password/reset/key/1-not-a-real-key/", 200),
        ("/accounts/password/reset/key/done/", 200),
        ("/accounts/invitation/not-signed/1-2/", 200),
    ],
    # The warnings dealt with: the crawl opens one page of a pattern, and
    # /warnings/ is reached from Home first, with the open ones.
    "camden_lns": [
        ("/", 200),
        ("/accounts/email/", 200),
        ("/accounts/2fa/webauthn/", 200),
        ("/warnings/?status=dealt_with", 200),
    ],
    "camden_senco_lead": [("/", 200), ("/overview/", 403)],
    "kent_lns": [("/", 200), ("/authorities/camden/", 404)],
}
# Named URLs the crawl does not reach, and why. Every other one in the
# access matrix (tests/test_access.py) must be reached by some persona.
NOT_LINKED = {
    "health": "the load balancer's check, not a page",
    "ready": "the load balancer's readiness check, not a page",
    "mfa_authenticate": "the second step of signing in (tests/test_html_validity.py)",
    "plans:evidence_add": "takes only POST (tests/test_html_validity.py)",
    "plans:comment_add": "takes only POST",
    "plans:answer_confirm": "takes only POST",
    "consultations:link_evidence": "takes only POST",
    "consultations:question_add": "takes only POST",
    "consultations:question_move": "takes only POST",
    "consultations:question_evidence": "takes only POST",
    "official:link_evidence": "takes only POST",
    "mfa_view_recovery_codes": "found only once someone has made recovery codes",
    # allauth's, not used here (no sign-in by code; everyone has a password):
    # nobody is ever shown them (tests/test_access.py).
    "account_set_password": "not used",
    "account_request_reauthentication_code": "not used",
    "account_confirm_reauthentication_code": "not used",
    "account_confirm_login_code": "not used",
}
# axe-core in every page the crawl opens (AXE_SCRIPT), its best practices too.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": [*WCAG_22_AA, "best-practice"]},
    "resultTypes": ["violations"],
}
# What breaks reflow at the width of the viewport: how wide the page is,
# the outermost elements past its right edge (or the innermost whose text
# spills out of it), and every box that scrolls
# sideways but is not a named region reachable by keyboard.
REFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const past = el => el.getBoundingClientRect().right > width + 1;
  const describe = el => el.outerHTML.slice(0, 120);
  const scrolls = el => ["auto", "scroll"].includes(getComputedStyle(el).overflowX)
    && el.scrollWidth > el.clientWidth + 1;
  const named = el => el.getAttribute("role") === "region" && el.tabIndex === 0
    && (el.getAttribute("aria-label")
        || (document.getElementById(el.getAttribute("aria-labelledby")) || {}).textContent);
  const all = [...document.querySelectorAll("body *")];
  const inScroller = el => {
    for (let box = el.parentElement; box; box = box.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(box).overflowX)) return true;
    }
    return false;
  };
  // Text wider than its box (a long word) spills out of it without the
  // box itself reaching past the edge: the innermost such box.
  const spills = el => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
    && getComputedStyle(el).overflowX === "visible";
  const found = {
    width: document.documentElement.scrollWidth,
    unnamed: all.filter(el => scrolls(el) && !named(el)).slice(0, 3).map(describe),
  };
  if (found.width > width) {
    found.past = all.filter(el => !inScroller(el) && (
      (past(el) && !past(el.parentElement))
      || (spills(el) && ![...el.children].some(spills))
    )).slice(0, 3).map(describe);
  }
  return found;
}"""
PHONE_WIDTH = 320
# Every link's address, an SVG link's (the map's squares) included.
LINKS = "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"


@pytest.fixture
def crawl_data(request, transactional_db, reference_data):
    """The personas ({name: user}), and demo-like rows in their authorities;
    with pages to start from that only the rows made here know of."""
    people = {name: request.getfixturevalue(name) for name in PERSONAS}
    places = list(LocalAuthority.objects.filter(la_code__in=[CAMDEN, KENT, MANCHESTER]))
    seeder = Seeder(random.Random(2026))
    seeder.authorities = places
    seeder.everything({"people": 12, "plans": 6, "meetings": 24, "actions": 12, "feedback": 24})
    camden = next(place for place in places if place.la_code == CAMDEN)
    # What only a persona's own work makes: feedback they may still edit,
    # an action of theirs, evidence and comments on an answer.
    senco = people["camden_senco_lead"]
    submission = FeedbackSubmission.objects.create(
        authority=camden,
        submitted_by=senco,
        source="senco_network",
        phases=["primary"],
        people_count=12,
        meeting_date=timezone.localdate(),
        assessment_wait_weeks=22,
        health_care_costs="no",
        working_well="The outreach team.",
    )
    answer = Answer.objects.filter(assessment__plan__authority=camden).first()
    EvidenceLink.objects.create(
        answer=answer,
        url="https://example.org/plan.pdf",
        title="The plan",
        location="page 12",
        added_by=people["camden_lns"],
    )
    Comment.objects.create(answer=answer, author=people["london_organiser"], text="Ask again.")
    FeedbackEvidence.objects.create(
        submission=submission,
        plan=answer.assessment.plan,
        question=answer.question,
        stance="contradicts",
        linked_by=people["camden_lns"],
    )
    Action.objects.create(
        authority=camden,
        plan=answer.assessment.plan,
        title="Ask for the plan's papers",
        owner=people["camden_lns"],
        due_on=timezone.localdate() - datetime.timedelta(days=3),
        created_by=people["camden_lns"],
    )
    # An overdue action marked dealt with: the warnings page's list of those
    # dealt with, and the page to reopen one.
    chased = Action.objects.create(
        authority=camden,
        title="Chase the forum's minutes",
        due_on=timezone.localdate() - datetime.timedelta(days=5),
        created_by=people["camden_lns"],
    )
    WarningDealtWith.objects.create(
        authority=camden,
        kind="action_overdue",
        subject_id=chased.pk,
        cause=chased.due_on.isoformat(),
        cause_on=chased.due_on,
        note="Chased by e-mail.",
        dealt_with_by=people["camden_lns"],
    )
    # A meeting to come with a question to ask, answered with a link to the
    # checklist: its questions, answers, print and pack pages.
    planned = Meeting.objects.create(
        authority=camden,
        forum="schools_forum",
        status=Meeting.Status.PLANNED,
        held_on=timezone.localdate() + datetime.timedelta(days=14),
        plan=answer.assessment.plan,
        agenda="High needs budget",
        papers="Budget paper https://example.org/budget.pdf",
    )
    MeetingQuestion.objects.create(
        meeting=planned, question=answer.question, text=answer.question.text, position=1
    )
    # The briefing's section 7: a trust with a meeting and feedback about
    # it, and a branch with its branch meeting.
    trust = MultiAcademyTrust.objects.create(
        name="North London Learning Partnership", mainstream_schools=9, special_schools=2
    )
    trust.authorities.set([camden])
    branch = Branch.objects.create(name="Camden branch")
    branch.authorities.set([camden])
    Meeting.objects.create(
        authority=camden,
        forum="other",
        title="Meeting with the trust's chief executive",
        held_on=timezone.localdate() - datetime.timedelta(days=6),
        trust=trust,
    )
    Meeting.objects.create(
        authority=camden,
        forum="branch",
        branch=branch,
        held_on=timezone.localdate() - datetime.timedelta(days=8),
        summary="School funding was on the agenda.",
    )
    submission.trust = trust
    submission.save()
    # A plan of every kind (a reform plan has pages of its own), and a
    # security key to list.
    plans = [
        make_plan(CAMDEN, programme.code, round_or_tranche="Crawl")
        for programme in Programme.objects.all()
    ]
    give_security_key(people["camden_lns"])
    # Each kind of plan's page is a start for those who may change it.
    starts = [(plan.get_absolute_url(), 200) for plan in plans]
    return people, {"national_officer": starts, "camden_lns": starts}


def signed_in_cookie(user, live_server):
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


@functools.lru_cache(maxsize=4096)
def route_of(path):
    """The URL pattern a path resolves to ("plans:detail"), or None for one
    not followed."""
    if path.startswith(settings.STATIC_URL):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return "(not found)"
    if set(match.namespaces) & NOT_FOLLOWED_NAMESPACES or match.view_name in NOT_FOLLOWED:
        return None
    return match.view_name


class Crawl:
    def __init__(self, live_server):
        self.origin = live_server.url
        self.html = {}  # "persona path": the HTML the server sent
        self.failures = []  # "persona path: what is wrong"
        self.best_practice = {}  # axe rule: {"persona path", ...}
        self.checked = {}  # persona: {URL name of each page checked}
        self.reached = set()  # URL names asked for, checked or redirected
        self.contrast_checked = set()  # URL names
        self.reflow_checked = set()  # URL names

    def persona(self, page, who, start, status=200):
        """Breadth first from `start`: each page checked, and the first link
        to each URL pattern not yet checked for `who` followed."""
        checked = self.checked.setdefault(who, set())
        queue = deque([(start, None)])
        queued = set()  # URL names
        while queue:
            path, linked_from = queue.popleft()
            self.reached.add(route_of(urlsplit(path).path))
            response = page.goto(self.origin + path)
            route = route_of(urlsplit(page.url).path)
            where = f"{who} {path}"
            expected = status if path == start else 200
            if response is None or response.status != expected:
                self.failures.append(
                    f"{where}: answered {response and response.status}"
                    + (f" (linked from {linked_from})" if linked_from else "")
                )
            # A start is checked even where its pattern was (a reform plan's
            # page is a plan's page with more on it); a link or redirect to
            # a pattern checked is not.
            if route is None or (route in checked and path != start):
                continue
            checked.add(route)
            self.html[where] = response.body()
            self.check_accessibility(page, where, route)
            if route not in self.reflow_checked:
                self.reflow_checked.add(route)
                self.check_reflow(page, where)
            for href in dict.fromkeys(page.eval_on_selector_all("a[href]", LINKS)):
                parts = urlsplit(urldefrag(href)[0])
                if f"{parts.scheme}://{parts.netloc}" != self.origin:
                    continue
                target = route_of(parts.path)
                if target is None or target in checked or target in queued:
                    continue
                queue.append((parts.path + (f"?{parts.query}" if parts.query else ""), path))
                queued.add(target)

    def check_accessibility(self, page, where, route):
        options = AXE_OPTIONS
        if route in self.contrast_checked and connection.vendor != "sqlite":
            options = {**AXE_OPTIONS, "rules": NO_CONTRAST}
        self.contrast_checked.add(route)
        for violation in page.evaluate(AXE_RUN, options):
            if set(violation["tags"]) & set(WCAG_22_AA):
                self.failures.append(
                    f"{where}: axe {violation['id']} ({violation['impact']}): "
                    f"{violation['help']} at {'; '.join(violation['nodes'])}"
                )
            else:
                self.best_practice.setdefault(violation["id"], set()).add(where)

    def check_reflow(self, page, where):
        """At 320 CSS pixels (1280 at 400% zoom), then back: one layout
        more, not another page load."""
        size = page.viewport_size
        page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
        try:
            found = page.evaluate(REFLOW)
            charts = page.evaluate(TEXT_BOXES)
        finally:
            page.set_viewport_size(size)
        if charts["overlaps"] or charts["outside"]:
            self.failures.append(
                f"{where}: chart text touching {charts['overlaps'][:3]}, "
                f"cut off {charts['outside'][:3]}"
            )
        if found["width"] > PHONE_WIDTH:
            self.failures.append(
                f"{where}: {found['width']} px wide at {PHONE_WIDTH} px: {found['past']}"
            )
        if found["unnamed"]:
            self.failures.append(
                f"{where}: scrolls sideways at {PHONE_WIDTH} px outside a named, focusable "
                f"region (the table tag): {found['unnamed']}"
            )


# The personas in two crawls of about 200 pages each, which pytest-xdist
# can run side by side: one crawl of all took up to ten minutes on a slow
# machine, and at the end of a run the other worker could only wait for it.
CRAWLS = (
    (ANONYMOUS, "national_officer", "camden_lns", "camden_senco_lead", "manchester_head_rep"),
    ("london_organiser", "camden_forum_rep", "kent_lns", "northwest_nem", "no_role_user"),
)
assert sorted(who for crawl in CRAWLS for who in crawl) == sorted([ANONYMOUS, *PERSONAS])


@pytest.fixture
def reached_by_every_crawl(tmp_path_factory, worker_id):
    """record(crawl, routes) stores what a crawl reached where every crawl
    of this run can read it (the run's temporary directory, which
    pytest-xdist's workers share), and returns every crawl's routes once
    all have stored theirs (None before: the last to finish checks them)."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    folder = shared / "crawled"
    folder.mkdir(exist_ok=True)

    def record(crawl, routes):
        written = folder / f"{crawl}.json.part"
        written.write_text(json.dumps(sorted(route for route in routes if route)))
        written.rename(folder / f"{crawl}.json")  # whole or not at all
        stored = [folder / f"{number}.json" for number in range(len(CRAWLS))]
        if not all(path.exists() for path in stored):
            return None
        return set().union(*(json.loads(path.read_text()) for path in stored))

    return record


@pytest.mark.parametrize("number", range(len(CRAWLS)))
def test_every_page_for_every_persona(
    browser, live_server, crawl_data, reached_by_every_crawl, number
):
    require_vnu()
    started = time.monotonic()
    crawl = Crawl(live_server)
    people, more_starts = crawl_data
    for who in CRAWLS[number]:
        context = browser.new_context()
        context.add_init_script(path=AXE_SCRIPT)
        if who != ANONYMOUS:
            context.add_cookies([signed_in_cookie(people[who], live_server)])
        page = context.new_page()
        try:
            for path, status in [*START_PAGES.get(who, [("/", 200)]), *more_starts.get(who, [])]:
                crawl.persona(page, who, path, status)
        finally:
            context.close()
    crawled = time.monotonic() - started
    errors = html_errors(crawl.html)
    pages = len(crawl.html)
    summary = (
        f"{pages} pages ({len({r for rs in crawl.checked.values() for r in rs})} URL patterns, "
        f"{len(crawl.checked)} personas) in {crawled:.0f} s, HTML checked in "
        f"{time.monotonic() - started - crawled:.0f} s"
    )
    if crawl.best_practice:
        warnings.warn(
            "axe best practices (reported, not failed): "
            + "; ".join(
                f"{rule} on {len(where)} pages, e.g. {min(where)}"
                for rule, where in sorted(crawl.best_practice.items())
            ),
            stacklevel=1,
        )
    print(summary)
    for who, routes in crawl.checked.items():
        print(f"{who}: {len(routes)} pages")
    problems = crawl.failures + errors
    # Every URL must be reached by some persona of some crawl: checked by
    # the last crawl of the run to finish.
    reached = reached_by_every_crawl(number, crawl.reached.union(*crawl.checked.values()))
    if reached is not None:
        missed = sorted(set(MATRIX) - reached - set(NOT_FOLLOWED) - set(NOT_LINKED))
        if missed:
            problems.append(f"No link led to {missed}: link them, start there, or say why not")
    assert not problems, f"{summary}\n" + "\n".join(problems)
