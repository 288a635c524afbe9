"""The Django admin: national officers only, and people with their memberships."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from authorities.access import Role
from authorities.models import Membership, User
from consultations.models import Action, Meeting

from .factories import KENT, authority, make_user, region

pytestmark = pytest.mark.django_db
ADMIN = reverse("admin:index")


def test_anonymous_is_sent_to_the_app_login(client):
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert response.status_code == 200


def test_national_officer_can_use_it(national_officer_client):
    assert national_officer_client.get(ADMIN).status_code == 200
    assert (
        national_officer_client.get(reverse("admin:authorities_user_changelist")).status_code
        == 200
    )


@pytest.mark.parametrize("persona", ["london_organiser", "camden_lns", "kent_lns"])
def test_nobody_else_can(request, client_for, persona):
    response = client_for(request.getfixturevalue(persona)).get(ADMIN, follow=True)
    assert response.status_code == 403
    assert "You do not have access" in response.content.decode()


def test_staff_flag_alone_is_not_enough(client_for, camden):
    staff_lns = make_user(is_staff=True, roles=[(Role.LNS, camden)])
    assert client_for(staff_lns).get(ADMIN, follow=True).status_code == 403


def test_national_officer_without_staff_flag_cannot(client_for, reference_data):
    officer = make_user(roles=[(Role.NATIONAL_OFFICER, None)])
    assert client_for(officer).get(ADMIN, follow=True).status_code == 403


def test_national_officer_adds_a_person_with_a_role(national_officer_client, camden):
    response = national_officer_client.post(
        reverse("admin:authorities_user_add"),
        {
            "email": "new.rep@example.org",
            "first_name": "New",
            "last_name": "Rep",
            "usable_password": "false",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-role": Role.JCNC_REP,
            "memberships-0-authority": camden.pk,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = User.objects.get(email="new.rep@example.org")
    assert not person.has_usable_password()
    assert person.memberships.get().authority == camden


def test_a_role_with_the_wrong_scope_is_refused_with_a_message(national_officer_client, camden):
    response = national_officer_client.post(
        reverse("admin:authorities_user_add"),
        {
            "email": "wrong.scope@example.org",
            "usable_password": "false",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-role": Role.REGIONAL_ORGANISER,
            "memberships-0-authority": camden.pk,
        },
    )
    assert response.status_code == 200
    assert "a regional organiser or NEM covers a region" in response.content.decode()
    assert not User.objects.filter(email="wrong.scope@example.org").exists()
    assert not Membership.objects.filter(authority=camden).exists()


def test_authority_admin_searches_by_code_and_filters_by_region(national_officer_client):
    url = reverse("admin:authorities_localauthority_changelist")
    response = national_officer_client.get(url, {"q": "886"})
    assert [a.name for a in response.context["cl"].result_list] == ["Kent"]
    response = national_officer_client.get(url, {"region__id__exact": "1"})
    assert response.status_code == 200


def test_the_index_lists_neither_groups_nor_email_addresses(national_officer_client):
    """Nobody uses them: roles come from memberships, and a login address is
    changed on the person's own page (tests/test_accounts.py)."""
    response = national_officer_client.get(ADMIN)
    listed = {
        model["object_name"] for app in response.context["app_list"] for model in app["models"]
    }
    assert "User" in listed
    assert not listed & {"Group", "EmailAddress"}
    page = response.content.decode()
    assert "Groups" not in page
    assert "E-mail addresses" not in page
    assert "Email addresses" not in page
    for gone in ("/admin/auth/group/", "/admin/account/emailaddress/"):
        assert national_officer_client.get(gone).status_code == 404


def sam_patels(camden):
    """Two people of one name, in different roles and places."""
    return (
        make_user(
            "sam.patel@camden.example.org",
            first_name="Sam",
            last_name="Patel",
            roles=[(Role.LNS, camden)],
        ),
        make_user(
            "sam.patel@kent.example.org",
            first_name="Sam",
            last_name="Patel",
            roles=[(Role.NEM, region("South East")), (Role.JCNC_REP, authority(KENT))],
        ),
    )


def people_found(client, term, field="user", model="membership", app="authorities"):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app, "model_name": model, "field_name": field, "term": term},
    )
    assert response.status_code == 200
    return {int(result["id"]): result["text"] for result in response.json()["results"]}


def test_a_person_is_found_by_name_with_roles_and_places(national_officer_client, camden):
    camden_sam, kent_sam = sam_patels(camden)
    assert people_found(national_officer_client, "Sam") == {
        camden_sam.pk: "Sam Patel — Local negotiating secretary, Camden",
        kent_sam.pk: "Sam Patel — National executive member, South East; "
        "JCNC/JCC representative, Kent",
    }
    # An action's owner is searched the same way.
    assert people_found(national_officer_client, "Patel", "owner", "action", "consultations") == {
        camden_sam.pk: "Sam Patel — Local negotiating secretary, Camden",
        kent_sam.pk: "Sam Patel — National executive member, South East; "
        "JCNC/JCC representative, Kent",
    }


@pytest.mark.parametrize("people", [2, 15])
def test_the_search_for_a_person_costs_the_same_however_many_are_found(
    national_officer_client, camden, django_assert_num_queries, people
):
    for n in range(people):
        make_user(first_name="Sam", last_name=f"Patel {n}", roles=[(Role.LNS, camden)])
    # session, user; the people found, how many, and their roles.
    with django_assert_num_queries(5):
        found = people_found(national_officer_client, "Patel")
    assert len(found) == people


def options(page, name):
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group()
    return dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select))


@pytest.mark.parametrize("people", [2, 15])
def test_a_chosen_person_shows_role_and_place(
    national_officer_client, national_officer, camden, django_assert_num_queries, people
):
    camden_sam, kent_sam = sam_patels(camden)
    for n in range(people):
        make_user(first_name="Other", last_name=f"Person {n}", roles=[(Role.LNS, camden)])
    meeting = Meeting.objects.create(
        authority=camden, forum="jcnc", held_on="2026-01-15", created_by=kent_sam
    )
    action = Action.objects.create(
        authority=camden, title="Chase", owner=camden_sam, created_by=kent_sam
    )
    url = reverse("admin:consultations_action_change", args=[action.pk])
    # The content type is read once a process: counted here whichever test runs first.
    ContentType.objects.clear_cache()
    # session, user, the action, its content type, its authority chosen;
    # the owner chosen and their roles; everyone who may have logged it and
    # their roles: two queries however many people.
    with django_assert_num_queries(9):
        page = national_officer_client.get(url).content.decode()
    # The owner, chosen by searching (an autocomplete), shows as chosen so.
    assert options(page, "owner") == {
        str(camden_sam.pk): "Sam Patel — Local negotiating secretary, Camden"
    }
    created_by = options(page, "created_by")
    assert len(created_by) == people + 3
    assert created_by[str(kent_sam.pk)] == (
        "Sam Patel — National executive member, South East; JCNC/JCC representative, Kent"
    )
    assert created_by[str(national_officer.pk)] == "Nadia Okafor — National officer"

    url = reverse("admin:consultations_meeting_change", args=[meeting.pk])
    page = national_officer_client.get(url).content.decode()
    assert options(page, "created_by")[str(camden_sam.pk)] == (
        "Sam Patel — Local negotiating secretary, Camden"
    )

    membership = camden_sam.memberships.get()
    url = reverse("admin:authorities_membership_change", args=[membership.pk])
    page = national_officer_client.get(url).content.decode()
    assert options(page, "user") == {
        str(camden_sam.pk): "Sam Patel — Local negotiating secretary, Camden"
    }
