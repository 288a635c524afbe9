"""The warnings page, and warnings marked dealt with: listed gravest first
with filters; marking one takes it out of the open warnings for everyone in
scope (and off Home's, the overview's and the authority page's lists) until
its cause recurs or someone reopens it; who may do it; nothing lost when two
people or a change of cause meet."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone

from authorities.models import LocalAuthority, User
from dashboards.models import WarningDealtWith, cause_key
from dashboards.warnings import (
    KINDS,
    SEVERITY,
    Kind,
    Status,
    early_warnings,
    find_warning,
    gravest_warnings,
    warning_count,
    warning_list,
    warning_summary,
)
from plans.models import Answer, FundingInstalment

from .factories import CAMDEN, KENT, authority, make_plan
from .test_warnings import (
    DAY,
    TODAY,
    action,
    answer,
    every_kind_at,
    instalment,
    set_since,
    submission,
)

pytestmark = pytest.mark.django_db

PAGE = reverse("dashboards:warnings")


def deal_url(warning, **query):
    url = reverse(
        "dashboards:warning_deal", kwargs={"kind": warning.kind, "pk": warning.subject_pk}
    )
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def withheld(plan, year):
    return FundingInstalment.objects.create(
        plan=plan, financial_year=year, amount=Decimal(1_000_000), status="withheld"
    )


def overdue(la_code=CAMDEN, days=3, **fields):
    return action(la_code, due_on=TODAY - days * DAY, **fields)


def only(user, kind, **options):
    return [w for w in early_warnings(user, **options) if w.kind == kind]


def mark(client, warning, note="Raised at the Schools Forum", **fields):
    return client.post(
        deal_url(warning), {"note": note, "cause": cause_key(warning.cause), **fields}
    )


# The page --------------------------------------------------------------------


def test_the_gravest_come_first_then_the_newest(national_officer, client_for):
    plan = make_plan(CAMDEN)
    old_money = instalment(plan)
    set_since(old_money, TODAY - 40 * DAY)
    submission(practices=["refusing"])  # today: likely unlawful
    overdue(days=1)  # the newest of all, but the least grave
    new_money = withheld(plan, 2026)
    set_since(new_money, TODAY - 2 * DAY)
    found = warning_list(national_officer)
    assert [w.kind for w in found] == [
        Kind.UNLAWFUL_PRACTICE,
        Kind.MONEY_HELD_BACK,
        Kind.MONEY_HELD_BACK,
        Kind.ACTION_OVERDUE,
    ]
    assert [w.subject_pk for w in found[1:3]] == [new_money.pk, old_money.pk]
    page = client_for(national_officer).get(PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("Likely unlawful practice") < text.index("Instalment withheld")
    assert "4 open warnings" in text


def test_every_kind_has_a_severity_and_a_filter():
    """A kind left out of SEVERITY still sorts (after the named ones); the
    filter offers every kind there is."""
    from dashboards.forms import WarningFilterForm

    assert set(SEVERITY) <= set(Kind)
    form = WarningFilterForm(regions=[], authorities=[])
    assert {value for value, _ in form.fields["kind"].choices} == {"", *Kind.values}


def test_filters_by_kind_authority_region_and_date(national_officer, client_for):
    overdue(CAMDEN, days=3)
    overdue(KENT, days=40)
    answer(make_plan(KENT))
    client = client_for(national_officer)

    def listed(**query):
        page = client.get(PAGE, query)
        assert page.status_code == 200
        return [w.kind for w in page.context["page"].object_list], [
            w.authority.name for w in page.context["page"].object_list
        ]

    assert listed(kind="action_overdue")[0] == [Kind.ACTION_OVERDUE, Kind.ACTION_OVERDUE]
    assert set(listed(authority="kent")[1]) == {"Kent"}
    assert set(listed(region="london")[1]) == {"Camden"}
    assert listed(since=(TODAY - 10 * DAY).isoformat())[1] != []
    assert "Kent" not in listed(since=(TODAY - 10 * DAY).isoformat(), kind="action_overdue")[1]


def test_a_bad_filter_is_an_error_not_a_500(national_officer, client_for):
    overdue()
    page = client_for(national_officer).get(PAGE, {"kind": "nonsense", "since": "31 Feb"})
    assert page.status_code == 200
    assert "Choose a kind of warning from the list" in page.content.decode()
    # The rest still apply: every warning listed.
    assert page.context["page"].paginator.count == 1


def test_an_authority_out_of_scope_is_not_a_choice(camden_lns, client_for):
    overdue(KENT)
    page = client_for(camden_lns).get(PAGE, {"authority": "kent"})
    assert "Choose an authority from the list" in page.content.decode()
    assert page.context["page"].paginator.count == 0


def test_people_see_only_their_scope(camden_lns, kent_lns, client_for):
    overdue(CAMDEN)
    overdue(KENT)
    page = client_for(camden_lns).get(PAGE)
    assert {w.authority.name for w in page.context["page"]} == {"Camden"}
    # A SENCO lead is not told of a likely-unlawful practice (feedback's scope).
    submission(practices=["refusing"])
    assert {w.kind for w in warning_list(kent_lns)} == {Kind.ACTION_OVERDUE}


def test_pages_of_fifty(national_officer, client_for):
    every_kind_at(list(LocalAuthority.objects.order_by("name")[:8]))
    client = client_for(national_officer)
    # Every kind at each of 8 authorities: more than one page.
    total = len(early_warnings(national_officer))
    assert total > 50
    first = client.get(PAGE)
    assert first.context["page"].paginator.count == total
    assert len(first.context["page"]) == 50
    second = client.get(PAGE, {"page": 2})
    assert len(second.context["page"]) == min(50, total - 50)
    assert 'aria-label="Pages of warnings"' in first.content.decode()


# With two authorities the first page holds every kind; with twenty, the
# fifty gravest are of three kinds, all graver than rising waits.
@pytest.mark.parametrize(("count", "kinds_shown", "blocks"), [(2, len(KINDS), 2), (20, 3, 1)])
def test_the_page_makes_a_fixed_number_of_queries(
    national_officer, client_for, django_assert_num_queries, count, kinds_shown, blocks
):
    every_kind_at(list(LocalAuthority.objects.order_by("name")[:count]))
    client = client_for(national_officer)
    client.get(PAGE)  # the session's first read
    # The session and the person (2), the regions and the authorities for
    # the filters (2); from the index of open warnings, the count (1), then
    # the page's rows graver than rising waits and those less grave (one
    # query each of the two that the page reaches into), rising waits (the
    # tallies, 1), and the records of each kind on the page (one query a
    # kind, never more than there are kinds: GravestFirst); and which of
    # the authorities shown the person may act in (1).
    with django_assert_num_queries(2 + 2 + 1 + blocks + 1 + kinds_shown + 1):
        page = client.get(PAGE)
    assert page.context["page"].paginator.count == len(early_warnings(national_officer))
    assert page.context["page"].paginator.count >= 8 * count
    # The page as the whole list, built afresh, has it.
    assert page.context["page"].object_list == warning_list(national_officer)[:50]
    assert len({w.kind for w in page.context["page"].object_list}) == kinds_shown + (count == 2)
    # Those dealt with: one more, their records.
    for warning in warning_list(national_officer)[:3]:
        mark(client, warning)
    # Those dealt with are read afresh, every kind, and their records.
    with django_assert_num_queries(2 + 2 + len(KINDS) + 1 + 1 + 1):
        page = client.get(PAGE, {"status": "dealt_with"})
    assert page.context["page"].paginator.count == 3


# Marking one dealt with ------------------------------------------------------


def test_marking_one_takes_it_out_of_the_open_ones_for_everyone(
    camden_lns, london_organiser, national_officer, client_for
):
    late = overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    form = client_for(camden_lns).get(deal_url(warning))
    assert form.status_code == 200
    # The page says what is being marked.
    assert "Chase the Schools Forum minutes" in form.content.decode()
    response = mark(client_for(camden_lns), warning, note="Minutes chased by e-mail")
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?authority=camden"
    for person in (camden_lns, london_organiser, national_officer):
        assert only(person, Kind.ACTION_OVERDUE) == []
        assert warning_count(person) == 0
    [dealt] = warning_list(london_organiser, status=Status.DEALT_WITH)
    assert dealt.subject_pk == late.pk
    assert dealt.dealt_with.note == "Minutes chased by e-mail"
    assert dealt.dealt_with.dealt_with_by == camden_lns
    listed = client_for(london_organiser).get(PAGE, {"status": "dealt_with"}).content.decode()
    assert "Minutes chased by e-mail" in listed
    # Kept in its history, with who.
    record = WarningDealtWith.objects.get()
    assert record.history.get().history_user == camden_lns


def test_the_note_is_required_and_kept_when_wrong(camden_lns, client_for):
    overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    response = mark(client_for(camden_lns), warning, note="  ")
    assert response.status_code == 200
    assert "Say what was done about it" in response.content.decode()
    too_long = mark(client_for(camden_lns), warning, note="x" * 2001)
    assert "x" * 2001 in too_long.content.decode()
    assert not WarningDealtWith.objects.exists()


def test_a_warning_whose_cause_changed_since_the_page_is_not_marked(camden_lns, client_for):
    late = overdue(days=3)
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    shown = cause_key(warning.cause)
    late.due_on = TODAY - 2 * DAY
    late.save()
    response = client_for(camden_lns).post(deal_url(warning), {"note": "Chased", "cause": shown})
    assert response.status_code == 409
    text = response.content.decode()
    assert "This warning has changed since you opened the page" in text
    assert "Chased" in text
    assert not WarningDealtWith.objects.exists()
    # Saving again, having seen it, marks it.
    assert response.context["form"]["cause"].value() == (TODAY - 2 * DAY).isoformat()
    again = client_for(camden_lns).post(
        deal_url(warning), {"note": "Chased", "cause": (TODAY - 2 * DAY).isoformat()}
    )
    assert again.status_code == 302


def test_two_people_marking_one_warning(camden_lns, camden_forum_rep, client_for):
    overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    lns, rep = client_for(camden_lns), client_for(camden_forum_rep)
    assert mark(lns, warning, note="First").status_code == 302
    second = mark(rep, warning, note="Second")
    # Already dealt with: the page says by whom, nothing is overwritten, and
    # the second note is shown back, not lost.
    assert second.status_code == 409
    assert "First" in second.content.decode()
    assert "Second" in second.content.decode()
    assert WarningDealtWith.objects.get().note == "First"


def test_the_same_answer_made_serious_again_is_open_again(camden_lns, client_for):
    serious = answer(make_plan(CAMDEN))
    set_since(serious, TODAY - 5 * DAY)
    [warning] = only(camden_lns, Kind.SERIOUS_CONCERN)
    mark(client_for(camden_lns), warning)
    assert only(camden_lns, Kind.SERIOUS_CONCERN) == []
    # Cleared, then serious again: a new cause.
    Answer.objects.filter(pk=serious.pk).update(concern="some", serious_since=None)
    assert only(camden_lns, Kind.SERIOUS_CONCERN) == []
    set_since(Answer.objects.get(pk=serious.pk), TODAY)
    Answer.objects.filter(pk=serious.pk).update(concern="serious")
    [again] = only(camden_lns, Kind.SERIOUS_CONCERN)
    assert again.subject_pk == serious.pk


def test_a_new_withheld_instalment_is_a_new_warning(camden_lns, client_for):
    plan = make_plan(CAMDEN)
    instalment(plan)
    [warning] = only(camden_lns, Kind.MONEY_HELD_BACK)
    mark(client_for(camden_lns), warning)
    assert only(camden_lns, Kind.MONEY_HELD_BACK) == []
    newer = withheld(plan, 2026)
    assert [w.subject_pk for w in only(camden_lns, Kind.MONEY_HELD_BACK)] == [newer.pk]


def test_a_warning_with_no_known_date_can_be_dealt_with(national_officer, client_for):
    """Rows saved in bulk keep no date (bulk_create calls no save()): the
    cause is then "not known", and matched as such."""
    every_kind_at([authority(CAMDEN)])
    [warning] = only(national_officer, Kind.SERIOUS_CONCERN)
    assert warning.cause is None
    assert mark(client_for(national_officer), warning).status_code == 302
    assert only(national_officer, Kind.SERIOUS_CONCERN) == []


def test_rising_waits_dealt_with_this_term(national_officer, client_for):
    every_kind_at([authority(CAMDEN)])
    [warning] = only(national_officer, Kind.WAITS_RISING)
    assert warning.subject_pk == authority(CAMDEN).pk
    assert mark(client_for(national_officer), warning).status_code == 302
    assert only(national_officer, Kind.WAITS_RISING) == []
    [dealt] = warning_list(national_officer, status=Status.DEALT_WITH, kinds=[Kind.WAITS_RISING])
    assert dealt.dealt_with.kind == Kind.WAITS_RISING


def test_counts_and_lists_elsewhere_leave_out_those_dealt_with(national_officer, client_for):
    every_kind_at([authority(CAMDEN), authority(KENT)])
    client = client_for(national_officer)
    each = len(early_warnings(national_officer, LocalAuthority.objects.filter(la_code=KENT)))
    before = warning_summary(national_officer, limit=20)
    assert before.count == 2 * each
    for warning in warning_list(
        national_officer, authorities=LocalAuthority.objects.filter(la_code=CAMDEN)
    ):
        assert mark(client, warning).status_code == 302
    after = warning_summary(national_officer, limit=20)
    assert after.count == each
    assert after.per_authority == {authority(KENT).pk: each}
    assert {w.authority.name for w in after.newest} == {"Kent"}
    assert warning_count(national_officer) == each


def test_reopening_makes_it_open_again_and_keeps_the_record(
    camden_lns, london_organiser, client_for
):
    overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    mark(client_for(camden_lns), warning)
    record = WarningDealtWith.objects.get()
    url = reverse("dashboards:warning_reopen", kwargs={"pk": record.pk})
    client = client_for(london_organiser)
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "Not chased after all", "base_version": record.version})
    assert response.status_code == 302
    assert len(only(camden_lns, Kind.ACTION_OVERDUE)) == 1
    record.refresh_from_db()
    assert (record.reopened_by, record.reopen_note) == (london_organiser, "Not chased after all")
    assert record.history.count() == 2
    # Reopened: no longer a page to reopen it, and it can be marked again.
    assert client.get(url).status_code == 404
    assert mark(client_for(camden_lns), warning, note="Chased now").status_code == 302
    assert WarningDealtWith.objects.current().get().note == "Chased now"


def test_a_stale_reopen_is_refused(camden_lns, client_for):
    overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    mark(client_for(camden_lns), warning)
    record = WarningDealtWith.objects.get()
    url = reverse("dashboards:warning_reopen", kwargs={"pk": record.pk})
    response = client_for(camden_lns).post(url, {"base_version": record.version + 1})
    assert response.status_code == 409
    assert WarningDealtWith.objects.current().exists()


# Who may -----------------------------------------------------------------------


def test_readers_may_not_mark_or_reopen(camden_senco_lead, camden_lns, client_for):
    overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    senco = client_for(camden_senco_lead)
    assert mark(senco, warning).status_code == 403
    assert not WarningDealtWith.objects.exists()
    # They are not offered the link either.
    link = f'href="{deal_url(warning)}?next='
    assert link not in senco.get(PAGE).content.decode()
    assert link in client_for(camden_lns).get(PAGE).content.decode()
    mark(client_for(camden_lns), warning)
    record = WarningDealtWith.objects.get()
    url = reverse("dashboards:warning_reopen", kwargs={"pk": record.pk})
    assert senco.post(url, {"base_version": record.version}).status_code == 403
    assert WarningDealtWith.objects.current().exists()


def test_out_of_scope_is_not_found(kent_lns, camden_lns, client_for):
    overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    assert mark(client_for(kent_lns), warning).status_code == 404
    assert client_for(kent_lns).get(deal_url(warning)).status_code == 404
    missing = reverse("dashboards:warning_deal", kwargs={"kind": "nonsense", "pk": 1})
    assert client_for(camden_lns).get(missing).status_code == 404


def test_a_senco_lead_cannot_mark_a_practice_they_cannot_see(
    camden_senco_lead, camden_lns, client_for
):
    submission(practices=["refusing"])
    [warning] = only(camden_lns, Kind.UNLAWFUL_PRACTICE)
    assert find_warning(camden_senco_lead, Kind.UNLAWFUL_PRACTICE, warning.subject_pk) is None
    assert mark(client_for(camden_senco_lead), warning).status_code == 404


def test_going_back_stays_on_the_site(camden_lns, client_for):
    overdue()
    [warning] = only(camden_lns, Kind.ACTION_OVERDUE)
    client = client_for(camden_lns)
    response = client.post(
        deal_url(warning, next="https://evil.example.org/"),
        {"note": "Done", "cause": cause_key(warning.cause)},
    )
    assert response["Location"] == f"{PAGE}?authority=camden"
    WarningDealtWith.objects.all().delete()
    back = f"{PAGE}?kind=action_overdue"
    response = client.post(
        deal_url(warning, next="/warnings/%3Fkind%3Daction_overdue"),
        {"note": "Done", "cause": cause_key(warning.cause)},
    )
    assert response["Location"] == back


# Where the warnings are linked from ----------------------------------------------


def test_the_authority_page_lists_its_open_warnings(camden_lns, client_for):
    overdue()
    submission(practices=["refusing"])
    page = client_for(camden_lns).get(reverse("dashboards:authority", kwargs={"slug": "camden"}))
    text = page.content.decode()
    assert [w.kind for w in page.context["warnings"]] == [
        Kind.UNLAWFUL_PRACTICE,
        Kind.ACTION_OVERDUE,
    ]
    assert f"{PAGE}?authority=camden" in text


def test_the_authority_page_shows_a_few_and_counts_the_rest(national_officer, client_for):
    plan = make_plan(CAMDEN)
    for year in range(2020, 2027):
        withheld(plan, year)
    page = client_for(national_officer).get(
        reverse("dashboards:authority", kwargs={"slug": "camden"})
    )
    assert len(page.context["warnings"]) == 5
    assert "See all 7 open warnings" in page.content.decode()


def test_the_gravest_few_are_the_first_of_the_whole_list(
    national_officer, django_assert_num_queries
):
    """gravest_warnings() gives the first `limit` of warning_list() and its
    length, building only the warnings it gives: with every kind present,
    the gravest alone is read after the count."""
    camden = LocalAuthority.objects.filter(la_code=CAMDEN)
    every_kind_at(camden)
    plan = make_plan(CAMDEN, round_or_tranche="Round 2")
    for year in range(2020, 2024):
        money = withheld(plan, year)
        set_since(money, TODAY - (1 + year % 7) * DAY)  # each on a day of its own
    whole = warning_list(national_officer, camden)
    assert len({w.kind for w in whole}) >= 10
    for limit in (1, 2, 3, 5, 8, len(whole), len(whole) + 5):
        assert gravest_warnings(national_officer, camden, limit=limit) == (
            whole[:limit],
            len(whole),
        ), limit
    # From the index of open warnings the count and the first in order,
    # the tallies for rising waits, then the gravest kind's record.
    with django_assert_num_queries(4):
        gravest_warnings(national_officer, camden, limit=1)


def test_home_and_the_region_page_link_to_every_warning(
    london_organiser, national_officer, client_for
):
    every_kind_at([authority(CAMDEN), authority(KENT)])
    each = len(early_warnings(national_officer, LocalAuthority.objects.filter(la_code=KENT)))
    # The national officer's Home counts England's; the organiser's London's.
    home = client_for(national_officer).get(reverse("home")).content.decode()
    assert f"See all {2 * each} open warnings" in home
    home = client_for(london_organiser).get(reverse("home")).content.decode()
    assert f"See all {each} open warnings" in home
    region = client_for(national_officer).get(
        reverse("dashboards:region", kwargs={"slug": "london"})
    )
    text = region.content.decode()
    assert f"See all {each} open warnings in London" in text
    assert f"{PAGE}?region=london" in text


def test_the_cause_key_is_exact():
    moment = timezone.make_aware(datetime.datetime(2026, 3, 1, 9, 30, 0, 123456))
    assert cause_key(moment) == "2026-03-01T09:30:00.123456+00:00"
    assert cause_key(datetime.date(2026, 3, 1)) == "2026-03-01"
    assert cause_key(None) == ""
    assert cause_key("Spring 2026") == "Spring 2026"


def test_each_reader_says_whether_its_date_is_a_moment(national_officer):
    """A warning dealt with is matched on its cause in the reader's query,
    in the column of its type (KindReader.dealt_with): a reader whose `on`
    is a moment must say `moment=True`, and one whose `on` is a date must
    not, or what is marked would never leave the open warnings."""
    for reader in KINDS:
        rows = reader.scoped(national_officer, TODAY)
        field = rows.query.resolve_ref(reader.on).output_field
        assert isinstance(field, models.DateTimeField) == reader.moment, reader.kind
        assert isinstance(field, models.DateField), reader.kind


def test_every_kind_can_be_dealt_with(national_officer, client_for):
    """Each kind there is (every_kind_at makes one of each), marked dealt
    with through its page, leaves the open warnings and is listed among
    those dealt with: a new kind in KINDS needs no more code."""
    every_kind_at([authority(CAMDEN)])
    found = warning_list(national_officer)
    assert {w.kind for w in found} == set(Kind)
    client = client_for(national_officer)
    for warning in found:
        assert mark(client, warning).status_code == 302, warning.kind
    assert warning_list(national_officer) == []
    dealt = warning_list(national_officer, status=Status.DEALT_WITH)
    assert sorted(w.key for w in dealt) == sorted(w.key for w in found)


# Demo data ----------------------------------------------------------------------


def test_make_run_shows_warnings_dealt_with_beside_open_ones(settings, reference_data, client_for):
    settings.DEBUG = True
    for command in ("create_demo_people", "create_demo_reform_plans"):
        call_command(command, stdout=StringIO())
    out = StringIO()
    call_command("create_demo_warnings_dealt_with", stdout=out)
    # No official figures loaded here: that one is left out, and said so.
    assert "2 made, 0 already there" in out.getvalue()
    assert "No such open warning to deal with: Official figures worse" in out.getvalue()
    out = StringIO()
    call_command("create_demo_warnings_dealt_with", stdout=out)
    assert "0 made, 2 already there" in out.getvalue()
    assert WarningDealtWith.objects.count() == 2

    lns = User.objects.get(email="camden.lns@example.org")
    dealt = warning_list(lns, status=Status.DEALT_WITH)
    assert [(w.kind, w.authority.la_code) for w in dealt] == [(Kind.NEGOTIATING, CAMDEN)]
    assert dealt[0].dealt_with.dealt_with_by == lns
    assert Kind.NEGOTIATING not in {w.kind for w in warning_list(lns)}
    page = client_for(lns).get(PAGE, {"status": "dealt_with"}).content.decode()
    assert "Raised at the JCNC" in page
    assert "Carys Evans" in page


def test_demo_warnings_dealt_with_are_never_made_in_production(settings, reference_data):
    settings.DEBUG = True
    for command in ("create_demo_people", "create_demo_reform_plans"):
        call_command(command, stdout=StringIO())
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local use only"):
        call_command("create_demo_warnings_dealt_with", stdout=StringIO())
    assert not WarningDealtWith.objects.exists()
