"""The Django admin: national officers only, and people with their memberships."""

import pytest
from django.urls import reverse

from authorities.models import Membership, Role, User

from .factories import make_user

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
