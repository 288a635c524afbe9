"""Every edit form has a round trip: the registry of
tests/browser/test_round_trip.py, checked without a browser.

Every named URL outside the admin is either an edit form with a round trip
(ROUND_TRIP) or says why it is not one (NOT_EDIT_FORMS); every ModelAdmin on
`admin.site` either has a round trip (ADMIN_ROUND_TRIP) or a reason not to
(ADMIN_EXEMPT). So a new edit form cannot ship without being opened and
saved unchanged in a real browser.
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from tests.browser.test_round_trip import (
    ADMIN_EXEMPT,
    ADMIN_ROUND_TRIP,
    ALL_ROUND_TRIPS,
    NOT_EDIT_FORMS,
    READ_ONLY_LOG,
    ROUND_TRIP,
    second_national_officer,  # noqa: F401 (a persona of the admin's round trips)
    stored_values,
    watched_rows,
)

from .test_access import named_urls


def test_every_edit_url_has_a_round_trip():
    urls = set(named_urls())
    missing = sorted(urls - ROUND_TRIP.keys() - NOT_EDIT_FORMS.keys())
    assert not missing, (
        "Give these URLs a round trip in ROUND_TRIP, or say in NOT_EDIT_FORMS why they "
        f"are not edit forms (tests/browser/test_round_trip.py): {missing}"
    )
    stale = sorted((ROUND_TRIP.keys() | NOT_EDIT_FORMS.keys()) - urls)
    assert not stale, f"These entries name no URL: {stale}"
    both = sorted(ROUND_TRIP.keys() & NOT_EDIT_FORMS.keys())
    assert not both, f"An edit form with a round trip is not also exempt: {both}"


def test_no_edit_url_is_exempt():
    """An exemption is not a way round the round trip: a URL named as an
    edit page has one."""
    exempt = sorted(name for name in NOT_EDIT_FORMS if "edit" in name.split(":")[-1])
    assert not exempt, f"These look like edit forms: give them round trips: {exempt}"


def registered_models():
    return {model._meta.label: model_admin for model, model_admin in admin.site._registry.items()}


def test_every_model_admin_has_a_round_trip():
    labels = set(registered_models())
    missing = sorted(labels - ADMIN_ROUND_TRIP.keys() - ADMIN_EXEMPT.keys())
    assert not missing, (
        "Give these ModelAdmins a round trip in ADMIN_ROUND_TRIP, or say in ADMIN_EXEMPT "
        f"why they have none (tests/browser/test_round_trip.py): {missing}"
    )
    stale = sorted((ADMIN_ROUND_TRIP.keys() | ADMIN_EXEMPT.keys()) - labels)
    assert not stale, f"These entries name no registered ModelAdmin: {stale}"
    both = sorted(ADMIN_ROUND_TRIP.keys() & ADMIN_EXEMPT.keys())
    assert not both, f"A ModelAdmin with a round trip is not also exempt: {both}"


@pytest.mark.django_db
def test_read_only_logs_are_read_only(national_officer):
    request = RequestFactory().get("/admin/")
    request.user = national_officer
    models = registered_models()
    for label, reason in ADMIN_EXEMPT.items():
        if reason == READ_ONLY_LOG:
            assert not models[label].has_change_permission(request), f"{label} can be changed"


def test_each_form_is_saved_by_two_people_at_least():
    for name, trip in ALL_ROUND_TRIPS.items():
        assert len(set(trip.personas)) >= 2, f"{name}: say who else may edit it"


# Fully filled: a field left blank or at its default could not show that a
# save loses or resets it. These are left so on purpose.
LEFT_AS_THEY_ARE = {
    # Bookkeeping: set by saves, not by people.
    "*.version",
    # A carried-forward answer is confirmed by saving it: a change by design.
    "plans.Answer.carried_forward",
    # Withdrawn or anonymised feedback can no longer be changed.
    "feedback.FeedbackSubmission.withdrawn_at",
    "feedback.FeedbackSubmission.anonymised_at",
    # The checklist as loaded: its title is the default, and some of its
    # questions have no guidance or come first in their section.
    "plans.QuestionSet.title",
    "plans.Question.guidance",
    "plans.Question.order",
    # A membership carries a region or an authority, never both.
    "authorities.Membership.region",
    "authorities.Membership.authority",
    # A withheld payment has no amount paid.
    "plans.FundingInstalment.amount_paid",
    # Kept by saves while a plan is negotiating, an instalment held back or
    # a concern serious (plans.models.keep_since): not on any form.
    "plans.Plan.negotiating_since",
    "plans.FundingInstalment.held_back_since",
    "plans.Answer.serious_since",
    # Kept the same way while a grant is held back or a reform plan
    # proposes fewer places with no inclusion money recorded.
    "plans.HighNeedsStabilityGrant.held_back_since",
    "plans.ReformPlanDetails.fewer_places_since",
    # Most questions are asked of every programme's plans: none named.
    "plans.Question.programmes",
    # The reform questions have no plain words: the briefing predates them
    # (tests/test_plans.py TestPlainWords).
    "plans.Question.plain_words",
    # A Schools Forum meeting is no branch meeting (Meeting.clean).
    "consultations.Meeting.branch",
    # A held meeting is not planned again: its form does not ask.
    "consultations.Meeting.status",
    # Not on the person's form: what people may do comes from memberships.
    "authorities.User.groups",
    "authorities.User.user_permissions",
}


def left_alone(obj, field):
    label = obj._meta.label
    return f"*.{field}" in LEFT_AS_THEY_ARE or f"{label}.{field}" in LEFT_AS_THEY_ARE


def unfilled(obj):
    """The fields of `obj` that are blank or at their default."""
    values = stored_values(obj)
    found = []
    for f in obj._meta.concrete_fields:
        if left_alone(obj, f.name) or getattr(f, "auto_now", False):
            continue
        value = values[f.attname]
        default = f.get_default() if f.has_default() else object()
        if value in (None, "", [], {}) or value == default:
            found.append(f.name)
    many = obj._meta.many_to_many
    return found + [f.name for f in many if not values[f.name] and not left_alone(obj, f.name)]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ALL_ROUND_TRIPS))
def test_each_record_is_fully_filled(request, name):
    trip = ALL_ROUND_TRIPS[name]
    built = trip.build(request.getfixturevalue(trip.personas[0]))
    rows = watched_rows(built.watched)
    assert rows, f"{name}: nothing is watched"
    gaps = {label: unfilled(obj) for label, obj in rows.items()}
    gaps = {label: fields for label, fields in gaps.items() if fields}
    assert not gaps, f"{name}: fill these with a realistic value, not the default: {gaps}"
