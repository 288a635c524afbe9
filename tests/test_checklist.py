"""Answering the checklist: one page per question about one plan.

Camden's people answer, organisers add evidence and comments, SENCO leads
read; two people saving the same answer never silently overwrite each other.
"""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from plans import services
from plans.models import (
    Answer,
    Comment,
    EvidenceLink,
    Plan,
    Question,
    QuestionSet,
    still_to_ask,
)

from .browsing import form_fields, resubmit
from .factories import CAMDEN, KENT, checklist_questions, make_plan

KEY = "cuts-not-efficiency"
QUESTION = "Does the plan seek genuine efficiency"
CONFLICT = "Someone else changed this answer while you were editing it"


@pytest.fixture
def plan(camden):
    return make_plan(CAMDEN)


def url(name, plan, key=KEY):
    return reverse(name, kwargs={"pk": plan.pk, "key": key})


def answer_data(base_version=0, **fields):
    return {
        "response": "no",
        "concern": "serious",
        "evidence": "Cabinet paper, 12 March: the plan closes two resource bases.",
        "private_notes": "",
        "base_version": base_version,
        **fields,
    }


def stored(plan, key=KEY):
    return Answer.objects.filter(assessment__plan=plan, question__key=key).first()


def answer_directly(plan, user, key=KEY, **fields):
    """An answer saved by `user` through the page, without looking at it
    first: returns what was stored."""
    client = Client()
    client.force_login(user)
    response = client.post(url("plans:answer", plan, key), answer_data(**fields))
    assert response.status_code == 302, response.content.decode()
    return stored(plan, key)


def text(response):
    """The page's text without tags, so assertions read like what people see."""
    return words(response.content.decode())


def words(markup):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


# Answering -------------------------------------------------------------------


def test_camden_lns_answers_a_question(camden_lns_client, camden_lns, plan):
    page = camden_lns_client.get(url("plans:answer", plan))
    assert page.status_code == 200
    assert QUESTION in text(page)
    assert "Not answered yet" in text(page)
    assert "What the union's briefing says" in text(page)  # the guidance

    response = camden_lns_client.post(url("plans:answer", plan), answer_data())

    assert response.status_code == 302
    assert response["Location"] == url("plans:answer", plan)
    answer = stored(plan)
    assert (answer.response, answer.concern, answer.version) == ("no", "serious", 1)
    assert answer.answered_by == camden_lns
    assert answer.history.count() == 1
    assert answer.history.get().history_user == camden_lns

    page = text(camden_lns_client.get(response["Location"]))
    assert "Your answer has been saved" in page
    assert "two resource bases" in page
    assert "Serious concern" in page
    assert "Answer added by Carys Evans" in page  # the history


def test_answer_form_shows_govuk_radios(camden_lns_client, plan):
    html = camden_lns_client.get(url("plans:answer", plan)).content.decode()
    assert '<div id="id_response" class="govuk-radios" data-module="govuk-radios">' in html
    assert re.search(
        r'<input type="radio" name="response" value="no" class="govuk-radios__input"[^>]*'
        r'id="id_response_2"',
        html,
    )
    assert '<label class="govuk-label govuk-radios__label" for="id_response_2">No</label>' in html
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Answer</legend>' in (
        html
    )


def test_a_stale_save_is_refused_and_keeps_what_was_typed(
    client_for, camden_lns, camden_forum_rep, plan
):
    answer_directly(plan, camden_lns, evidence="Carys's evidence: the Cabinet paper.")
    forum_rep = client_for(camden_forum_rep)

    # The forum rep opened the page before Carys saved: base_version 0.
    response = forum_rep.post(
        url("plans:answer", plan),
        answer_data(response="partly", concern="some", evidence="The forum rep's own notes."),
    )

    assert response.status_code == 409
    page = text(response)
    assert CONFLICT in page
    assert "Carys Evans saved it on" in page
    assert "Carys's evidence: the Cabinet paper." in page  # what they saved
    html = response.content.decode()
    assert "The forum rep&#x27;s own notes.</textarea>" in html  # what this person typed
    assert re.search(r'value="partly"[^>]*checked', html)
    assert re.search(r'name="base_version" value="1"', html)  # now based on theirs
    answer = stored(plan)
    assert (answer.version, answer.response, answer.answered_by) == (1, "no", camden_lns)


def test_resubmitting_after_the_conflict_replaces_the_answer(
    client_for, camden_lns, camden_forum_rep, plan
):
    answer_directly(plan, camden_lns)
    forum_rep = client_for(camden_forum_rep)
    forum_rep.post(url("plans:answer", plan), answer_data(response="partly"))

    response = forum_rep.post(url("plans:answer", plan), answer_data(1, response="partly"))

    assert response.status_code == 302
    answer = stored(plan)
    assert (answer.version, answer.response, answer.answered_by) == (2, "partly", camden_forum_rep)


def test_the_first_answer_saved_twice_from_a_blank_page_conflicts(camden_lns_client, plan):
    assert camden_lns_client.post(url("plans:answer", plan), answer_data()).status_code == 302
    response = camden_lns_client.post(url("plans:answer", plan), answer_data(response="yes"))
    assert response.status_code == 409
    assert stored(plan).response == "no"


# Who may do what -------------------------------------------------------------


def test_organiser_cannot_change_an_answer_but_adds_evidence_and_comments(
    london_organiser_client, london_organiser, camden_lns, plan
):
    answer_directly(plan, camden_lns)
    page = london_organiser_client.get(url("plans:answer", plan))
    assert "Save answer" not in text(page)
    assert "Add evidence link" in text(page)

    refused = london_organiser_client.post(url("plans:answer", plan), answer_data(1))
    assert refused.status_code == 403
    assert stored(plan).version == 1

    link = london_organiser_client.post(
        url("plans:evidence_add", plan),
        {
            "link-url": "https://www.camden.gov.uk/send-plan.pdf",
            "link-title": "Camden SEND plan",
            "link-location": "page 12",
        },
    )
    assert link.status_code == 302
    assert link["Location"] == url("plans:answer", plan) + "#links"
    added = EvidenceLink.objects.get()
    assert (added.answer, added.added_by) == (stored(plan), london_organiser)
    assert (added.title, added.location) == ("Camden SEND plan", "page 12")

    comment = london_organiser_client.post(
        url("plans:comment_add", plan), {"comment-text": "Raise this at JCNC."}
    )
    assert comment.status_code == 302
    assert Comment.objects.get().author == london_organiser

    page = text(london_organiser_client.get(url("plans:answer", plan)))
    assert "Camden SEND plan , page 12" in page
    assert "Raise this at JCNC." in page
    assert "Liam Hughes" in page


def test_senco_lead_reads_but_cannot_add(client_for, camden_senco_lead, camden_lns, plan):
    answer = answer_directly(plan, camden_lns)
    senco = client_for(camden_senco_lead)

    page = senco.get(url("plans:answer", plan))
    assert page.status_code == 200
    assert "Cabinet paper, 12 March" in text(page)
    for button in ("Save answer", "Add evidence link", "Add comment", "Confirm"):
        assert button not in text(page)

    link = {"link-url": "https://example.org/", "link-location": "page 1"}
    assert senco.post(url("plans:answer", plan), answer_data(1)).status_code == 403
    assert senco.post(url("plans:evidence_add", plan), link).status_code == 403
    assert senco.post(url("plans:comment_add", plan), {"comment-text": "Hi"}).status_code == 403
    confirm = {"base_version": answer.version}
    assert senco.post(url("plans:answer_confirm", plan), confirm).status_code == 403
    assert not EvidenceLink.objects.exists()
    assert not Comment.objects.exists()


EDITORS = ("national_officer", "camden_lns", "camden_forum_rep")
CONTRIBUTORS = (*EDITORS, "london_organiser")
OUT_OF_SCOPE = ("northwest_nem", "kent_lns", "manchester_head_rep", "no_role_user")
WRITES = {
    "plans:answer": (EDITORS, answer_data(1)),
    "plans:evidence_add": (
        CONTRIBUTORS,
        {"link-url": "https://example.org/plan.pdf", "link-location": "page 3"},
    ),
    "plans:comment_add": (CONTRIBUTORS, {"comment-text": "Noted."}),
    "plans:answer_confirm": (EDITORS, {"base_version": 1}),
}
POSTS = [
    (name, persona, 302 if persona in allowed else 404 if persona in OUT_OF_SCOPE else 403)
    for name, (allowed, _) in WRITES.items()
    for persona in (*CONTRIBUTORS, "camden_senco_lead", *OUT_OF_SCOPE)
]


@pytest.mark.parametrize(("name", "persona", "expected"), POSTS)
def test_who_may_write(request, client_for, camden_lns, plan, name, persona, expected):
    """The access matrix only GETs (405 for these); this is what a POST gets."""
    answer_directly(plan, camden_lns)
    client = client_for(request.getfixturevalue(persona))
    assert client.post(url(name, plan), WRITES[name][1]).status_code == expected


def test_writes_to_an_answer_need_an_answer(london_organiser_client, camden_lns_client, plan):
    link = {"link-url": "https://example.org/plan.pdf", "link-title": "The plan"}
    link["link-location"] = "page 3"
    response = london_organiser_client.post(url("plans:evidence_add", plan), link)
    assert response.status_code == 200
    assert "This question has not been answered yet" in text(response)
    assert 'value="The plan"' in response.content.decode()  # input kept

    response = london_organiser_client.post(url("plans:comment_add", plan), {"comment-text": "Hm"})
    assert "This question has not been answered yet" in text(response)

    response = camden_lns_client.post(url("plans:answer_confirm", plan), {"base_version": 0})
    assert response.status_code == 302
    assert "no answer to confirm" in text(camden_lns_client.get(response["Location"]))
    assert not EvidenceLink.objects.exists()
    assert not Comment.objects.exists()


def test_unknown_question_and_out_of_scope_plan_are_not_found(camden_lns_client, kent):
    kent_plan = make_plan(KENT)
    unknown = url("plans:answer", make_plan(CAMDEN), "no-such-key")
    assert camden_lns_client.get(unknown).status_code == 404
    assert camden_lns_client.get(url("plans:answer", kent_plan)).status_code == 404
    assert camden_lns_client.post(url("plans:answer", kent_plan), answer_data()).status_code == 404


# Private notes ---------------------------------------------------------------


def test_private_notes_are_for_the_authoritys_people_and_national_officers(
    client_for, camden_lns, london_organiser, national_officer, plan
):
    answer = answer_directly(plan, camden_lns, private_notes="Head of SEND said off the record")
    # A change to the notes alone: its history entry must not reach the organiser.
    answer_directly(
        plan,
        camden_lns,
        private_notes="Head of SEND has since denied it",
        base_version=answer.version,
    )

    organiser = text(client_for(london_organiser).get(url("plans:answer", plan)))
    assert "Cabinet paper, 12 March" in organiser
    assert "off the record" not in organiser
    assert "since denied" not in organiser
    assert "Private notes" not in organiser
    assert "Answer added by Carys Evans" in organiser
    assert "Answer changed by" not in organiser  # only the notes changed

    for person in (camden_lns, national_officer):
        page = text(client_for(person).get(url("plans:answer", plan)))
        assert "Head of SEND has since denied it" in page
        assert "off the record" in page  # in the history
        assert "Answer changed by Carys Evans" in page


def test_saving_without_the_notes_field_keeps_the_notes(camden_lns, plan):
    answer_directly(plan, camden_lns, private_notes="Keep me")
    question = Question.objects.get(question_set=QuestionSet.objects.latest_version(), key=KEY)
    data = {"response": "yes", "concern": "none", "evidence": ""}
    services.save_answer(plan=plan, question=question, data=data, base_version=1, user=camden_lns)
    assert stored(plan).private_notes == "Keep me"


# Carried forward -------------------------------------------------------------


@pytest.fixture
def revision(plan, camden_lns):
    answer = answer_directly(plan, camden_lns)
    EvidenceLink.objects.create(
        answer=answer, url="https://example.org/plan.pdf", location="page 4", added_by=camden_lns
    )
    return services.revise_plan(plan=plan, user=camden_lns)


def test_a_carried_forward_answer_is_confirmed(camden_lns_client, camden_lns, revision):
    page = text(camden_lns_client.get(url("plans:answer", revision)))
    assert "carried forward from the previous revision" in page
    assert "Confirm this answer still holds" in page
    assert "page 4" in page  # its links came too

    carried = stored(revision)
    response = camden_lns_client.post(
        url("plans:answer_confirm", revision), {"base_version": carried.version}
    )

    assert response.status_code == 302
    confirmed = stored(revision)
    assert not confirmed.carried_forward
    assert confirmed.version == carried.version + 1
    assert confirmed.answered_by == camden_lns
    page = text(camden_lns_client.get(response["Location"]))
    assert "You have confirmed that this answer still holds" in page
    assert "carried forward from the previous revision" not in page


def test_changing_a_carried_forward_answer_clears_the_notice(camden_lns_client, revision):
    carried = stored(revision)
    response = camden_lns_client.post(
        url("plans:answer", revision), answer_data(carried.version, response="partly")
    )
    assert response.status_code == 302
    assert not stored(revision).carried_forward


def test_confirming_an_answer_someone_has_changed_conflicts(
    camden_lns_client, camden_forum_rep, revision
):
    carried = stored(revision)
    answer_directly(revision, camden_forum_rep, response="yes", base_version=carried.version)

    response = camden_lns_client.post(
        url("plans:answer_confirm", revision), {"base_version": carried.version}
    )

    assert response.status_code == 302
    page = text(camden_lns_client.get(response["Location"]))
    assert "Someone else changed this answer while you were confirming it" in page
    assert "camden.forum@example.org saved it on" in page
    assert stored(revision).answered_by == camden_forum_rep


def test_organiser_cannot_confirm(london_organiser_client, revision):
    response = london_organiser_client.post(
        url("plans:answer_confirm", revision), {"base_version": stored(revision).version}
    )
    assert response.status_code == 403
    assert stored(revision).carried_forward


# Bad input -------------------------------------------------------------------


def test_an_answer_needs_a_response_and_a_concern(camden_lns_client, plan):
    response = camden_lns_client.post(
        url("plans:answer", plan), answer_data(response="", concern="")
    )
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Select an answer" in page
    assert "Select the level of concern" in page
    html = response.content.decode()
    assert '<a href="#id_response_0">Select an answer</a>' in html  # the first radio
    assert "the plan closes two resource bases.</textarea>" in html
    assert stored(plan) is None


def test_evidence_has_a_length_limit(camden_lns_client, plan):
    response = camden_lns_client.post(
        url("plans:answer", plan), answer_data(evidence="x" * 30_000, private_notes="Kept")
    )
    assert response.status_code == 200
    assert "Evidence must be 20,000 characters or fewer (it has 30000)" in text(response)
    html = response.content.decode()
    assert re.search(r'value="no"[^>]*checked', html)
    assert "Kept</textarea>" in html
    assert stored(plan) is None


def test_a_huge_paste_is_refused_not_a_server_error(camden_lns_client, plan):
    """Past Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) the request itself
    is refused, before any form sees it."""
    response = camden_lns_client.post(
        url("plans:answer", plan), answer_data(evidence="x" * 3_000_000)
    )
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert stored(plan) is None


def test_html_in_evidence_is_shown_as_text(camden_lns_client, plan):
    evidence = '<script>alert("x")</script> <b>bold</b>'
    camden_lns_client.post(url("plans:answer", plan), answer_data(evidence=evidence))
    html = camden_lns_client.get(url("plans:answer", plan)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("link", "error"),
    [
        ({"link-url": "not a url", "link-location": "page 1"}, "Enter the link as a web address"),
        ({"link-url": "", "link-location": "page 1"}, "Enter the link"),
        (
            {"link-url": "https://example.org/plan.pdf", "link-location": "p" * 61},
            "The page or paragraph must be 60 characters or fewer",
        ),
        ({"link-url": "javascript:alert(1)", "link-location": "p1"}, "Enter the link as a web"),
    ],
)
def test_a_bad_evidence_link_is_refused_and_the_input_kept(
    camden_lns_client, camden_lns, plan, link, error
):
    answer_directly(plan, camden_lns)
    response = camden_lns_client.post(
        url("plans:evidence_add", plan), {**link, "link-title": "The plan"}
    )
    assert response.status_code == 200
    assert "There is a problem" in text(response)
    assert error in text(response)
    assert 'value="The plan"' in response.content.decode()
    assert not EvidenceLink.objects.exists()


def test_a_web_page_needs_no_page_or_paragraph(
    london_organiser_client, camden_lns_client, camden_lns, plan
):
    """Asked for where it helps (a document), never required: a link's
    address does not say whether it is a document."""
    answer_directly(plan, camden_lns)
    page = text(camden_lns_client.get(url("plans:answer", plan)))
    assert "Page or paragraph (optional)" in page
    assert "Leave it blank for a web page" in page

    response = london_organiser_client.post(
        url("plans:evidence_add", plan),
        {"link-url": "https://www.camden.gov.uk/send-consultation", "link-title": "Consultation"},
    )

    assert response.status_code == 302
    assert EvidenceLink.objects.get().location == ""
    page = text(london_organiser_client.get(url("plans:answer", plan)))
    assert "Consultation Added by Liam Hughes" in page  # no dangling ", "


def test_an_empty_comment_is_refused(camden_lns_client, camden_lns, plan):
    answer_directly(plan, camden_lns)
    response = camden_lns_client.post(url("plans:comment_add", plan), {"comment-text": "  "})
    assert response.status_code == 200
    assert "Enter your comment" in text(response)
    assert not Comment.objects.exists()


# One save keeps everything typed ---------------------------------------------
# The evidence link's fields are part of an editor's answer form: "Save answer"
# saves a link typed there too, so nothing typed on the page is lost.

LINK = {
    "link-url": "https://www.camden.gov.uk/send-plan.pdf",
    "link-title": "Camden SEND plan",
    "link-location": "page 12",
}


def test_an_editors_link_fields_are_in_the_answer_form(camden_lns_client, camden_lns, plan):
    for answered in (False, True):
        if answered:
            answer_directly(plan, camden_lns)
        fields = form_fields(
            camden_lns_client.get(url("plans:answer", plan)).content, having="response"
        )
        assert {"link-url", "link-title", "link-location", "base_version"} <= set(fields)


def test_save_answer_saves_the_first_answer_and_the_link_typed_with_it(
    camden_lns_client, camden_lns, plan
):
    response = camden_lns_client.post(url("plans:answer", plan), answer_data() | LINK)

    assert response.status_code == 302
    answer = stored(plan)
    assert (answer.response, answer.version) == ("no", 1)
    link = EvidenceLink.objects.get()
    assert (link.answer, link.added_by) == (answer, camden_lns)
    assert (link.url, link.title, link.location) == tuple(LINK.values())
    assert link.history.count() == 1
    page = text(camden_lns_client.get(response["Location"]))
    assert "Your answer and its evidence link have been saved." in page
    assert "Camden SEND plan , page 12" in page


def test_save_answer_unchanged_adds_the_link_and_writes_nothing_else(
    camden_lns_client, camden_lns, camden_forum_rep, client_for, plan
):
    answered = answer_directly(plan, camden_lns)
    forum_rep = client_for(camden_forum_rep)

    response = resubmit(forum_rep, url("plans:answer", plan), having="response", **LINK)

    assert response.status_code == 302
    answer = stored(plan)
    assert (answer.version, answer.answered_by, answer.answered_at) == (
        1,
        camden_lns,
        answered.answered_at,
    )
    assert answer.history.count() == 1
    assert EvidenceLink.objects.get().added_by == camden_forum_rep
    page = text(forum_rep.get(response["Location"]))
    assert "The evidence link has been added. Your answer is as it was." in page


def test_save_answer_with_the_link_fields_left_blank_adds_no_link(
    camden_lns_client, camden_lns, plan
):
    answer_directly(plan, camden_lns)
    response = resubmit(camden_lns_client, url("plans:answer", plan), having="response")
    assert response.status_code == 302
    assert not EvidenceLink.objects.exists()
    assert "Nothing changed: the answer is as it was." in text(
        camden_lns_client.get(response["Location"])
    )


@pytest.mark.parametrize(
    ("link", "error"),
    [
        ({"link-title": "Camden SEND plan", "link-location": "page 12"}, "Enter the link"),
        ({"link-url": "camden send plan", "link-title": "x"}, "Enter the link as a web address"),
    ],
)
def test_a_half_typed_link_keeps_the_answer_typed_and_saves_neither(
    camden_lns_client, plan, link, error
):
    typed = answer_data(response="partly", evidence="Typed, not yet saved.")
    response = camden_lns_client.post(url("plans:answer", plan), typed | link)

    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert error in page
    html = response.content.decode()
    assert re.search(r"<title>\s*Error:", html)
    assert '<a href="#id_link-url">' in html  # the summary links to the field
    assert re.search(r'value="partly"[^>]*checked', html)  # the answer typed is kept
    assert "Typed, not yet saved.</textarea>" in html
    assert f'value="{link["link-title"]}"' in html  # and the link's
    assert stored(plan) is None
    assert not EvidenceLink.objects.exists()


def test_a_bad_answer_keeps_the_link_typed_and_saves_neither(camden_lns_client, plan):
    response = camden_lns_client.post(url("plans:answer", plan), answer_data(response="") | LINK)

    assert response.status_code == 200
    assert "Select an answer" in text(response)
    html = response.content.decode()
    for value in LINK.values():
        assert f'value="{value}"' in html
    assert stored(plan) is None
    assert not EvidenceLink.objects.exists()


def test_a_stale_answer_with_a_link_is_refused_whole_and_keeps_the_link(
    client_for, camden_lns, camden_forum_rep, plan
):
    answer_directly(plan, camden_lns, evidence="Carys's evidence: the Cabinet paper.")
    forum_rep = client_for(camden_forum_rep)

    # Opened before Carys saved (base_version 0): her answer is shown, nothing
    # of the forum rep's is saved, the link included, and nothing is lost.
    response = forum_rep.post(url("plans:answer", plan), answer_data(response="partly") | LINK)

    assert response.status_code == 409
    page = text(response)
    assert CONFLICT in page
    assert "Carys's evidence: the Cabinet paper." in page
    assert "and the evidence link you typed, are still in the form" in page
    html = response.content.decode()
    for value in LINK.values():
        assert f'value="{value}"' in html
    assert re.search(r'name="base_version" value="1"', html)
    assert not EvidenceLink.objects.exists()
    assert stored(plan).version == 1

    # Saving again, knowingly: both saved.
    again = forum_rep.post(url("plans:answer", plan), answer_data(1, response="partly") | LINK)
    assert again.status_code == 302
    assert (stored(plan).response, stored(plan).version) == ("partly", 2)
    assert EvidenceLink.objects.get().added_by == camden_forum_rep


def test_a_link_refused_by_evidence_add_is_shown_in_the_editors_answer_form(
    camden_lns_client, camden_lns, plan
):
    answer_directly(plan, camden_lns)
    response = camden_lns_client.post(
        url("plans:evidence_add", plan), {"link-url": "nonsense", "link-title": "Kept"}
    )
    assert response.status_code == 200
    fields = form_fields(response.content, having="response")
    assert (fields["link-url"], fields["link-title"]) == ("nonsense", "Kept")


# Going through the questions ---------------------------------------------------


def questions():
    """The questions on an SV plan's checklist."""
    return list(checklist_questions())


def test_save_and_go_to_the_next_question(camden_lns_client, camden_lns, plan):
    first, second = questions()[:2]
    assert first.key == KEY

    response = camden_lns_client.post(url("plans:answer", plan), answer_data() | {"next": "1"})

    assert response.status_code == 302
    assert response["Location"] == url("plans:answer", plan, second.key)
    assert stored(plan).response == "no"
    page = text(camden_lns_client.get(response["Location"]))
    assert "Your answer to question 1 has been saved." in page
    assert second.text in page

    # Unchanged, with a link: the link is added, and on to the next question.
    response = resubmit(
        camden_lns_client, url("plans:answer", plan), having="response", next="1", **LINK
    )
    assert response["Location"] == url("plans:answer", plan, second.key)
    assert stored(plan).version == 1
    assert EvidenceLink.objects.count() == 1
    page = text(camden_lns_client.get(response["Location"]))
    assert "The evidence link has been added. Your answer to question 1 is as it was." in page


def test_save_and_go_on_from_the_last_question_returns_to_the_checklist(camden_lns_client, plan):
    last = questions()[-1]
    page = text(camden_lns_client.get(url("plans:answer", plan, last.key)))
    assert "Save and go back to the checklist" in page
    assert "Save and go to the next question" not in page

    response = camden_lns_client.post(
        url("plans:answer", plan, last.key), answer_data() | {"next": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url() + "#checklist"
    assert stored(plan, last.key).response == "no"


def test_save_and_go_on_stays_on_the_question_when_the_answer_is_refused(camden_lns_client, plan):
    response = camden_lns_client.post(
        url("plans:answer", plan), answer_data(concern="") | {"next": "1"}
    )
    assert response.status_code == 200
    assert "Select the level of concern" in text(response)
    assert QUESTION in text(response)
    assert stored(plan) is None


def test_previous_and_next_links_name_the_questions(camden_lns_client, plan):
    first, second, third = questions()[:3]
    response = camden_lns_client.get(url("plans:answer", plan, second.key))
    html = response.content.decode()
    nav = html[html.index('aria-label="Other questions"') :]
    nav = words(nav[: nav.index("</nav>")])
    assert f"Previous question : Question 1: {first.text}" in nav
    assert f"Next question : Question 3: {third.text}" in nav
    assert f'href="{url("plans:answer", plan, first.key)}" rel="prev"' in html
    assert f'href="{url("plans:answer", plan, third.key)}" rel="next"' in html

    html = camden_lns_client.get(url("plans:answer", plan, first.key)).content.decode()
    assert 'rel="prev"' not in html
    assert "Save and go to the next question" in words(html)


# Questions still to ask --------------------------------------------------------


def test_questions_to_ask_lists_unanswered_not_known_and_serious(
    camden_lns_client, camden_lns, plan
):
    answer_directly(plan, camden_lns, "cuts-not-efficiency", response="yes", concern="none")
    answer_directly(
        plan, camden_lns, "pressures-on-school-system", response="not_known", concern="some"
    )
    answer_directly(plan, camden_lns, "early-intervention-resourced", concern="serious")
    answer_directly(
        plan, camden_lns, "holistic-decision-making", response="partly", concern="some"
    )

    response = camden_lns_client.get(reverse("plans:questions_to_ask", kwargs={"pk": plan.pk}))

    assert response.status_code == 200
    page = text(response)
    assert "Questions still to ask" in page
    assert "Camden" in page
    assert "Safety Valve" in page
    total = checklist_questions().count()
    assert f"{total - 2} questions to ask" in page
    assert "Does the plan seek genuine efficiency" not in page  # yes, no concern
    assert "holistic view" not in page  # partly, some concern
    # In the briefing's own words, not the checklist's.
    assert "Will the proposals increase pressures" in page
    assert "Will the plan increase pressures" not in page
    assert "Answered “not known”" in page
    assert "accompanied by plans to adequately increase resources" in page
    assert "Serious concern (answered “no”)" in page
    assert "Did the authority consult the Schools Forum" in page  # not answered
    assert "Print" in page or "print" in page


def test_questions_to_ask_when_nothing_is_left(camden_lns_client, camden_lns, plan):
    for question in checklist_questions():
        answer_directly(plan, camden_lns, question.key, response="yes", concern="some")
    page = text(camden_lns_client.get(reverse("plans:questions_to_ask", kwargs={"pk": plan.pk})))
    assert "Nothing left to ask" in page
    assert "questions to ask" not in page


def test_questions_to_ask_of_plans_with_and_without_a_checklist(
    camden_lns, plan, django_assert_num_queries
):
    """The briefing pack asks for several plans at once, passing the answers
    it has read (plans.models.still_to_ask): a plan with no checklist yet
    is asked the latest bank's questions, found in the same query as the
    others'; the answers given are the ones it would read itself."""
    answer_directly(plan, camden_lns, "cuts-not-efficiency", response="yes", concern="none")
    fresh = make_plan(KENT)
    plans = list(Plan.objects.filter(pk__in=[plan.pk, fresh.pk]).select_related("assessment"))
    assert not Plan.objects.filter(pk=fresh.pk, assessment__isnull=False).exists()
    read = still_to_ask(plans)
    answers = list(Answer.objects.filter(assessment__plan=plan))
    with django_assert_num_queries(1):  # the questions
        given = still_to_ask(plans, answers=answers)
    assert given == read

    def count(sections):
        return sum(len(rows) for rows in sections.values())

    total = checklist_questions().count()
    assert (count(read[plan.pk]), count(read[fresh.pk])) == (total - 1, total)


# Query counts ------------------------------------------------------------------


def add_activity(plan, user, times):
    """`times` saves, links and comments on the answer."""
    answer = stored(plan) or answer_directly(plan, user)
    for n in range(times):
        answer = answer_directly(plan, user, evidence=f"Version {n}", base_version=answer.version)
        EvidenceLink.objects.create(
            answer=answer, url=f"https://example.org/{n}", location=f"page {n}", added_by=user
        )
        Comment.objects.create(answer=answer, author=user, text=f"Comment {n}")


@pytest.mark.parametrize("times", [1, 12])
def test_answer_page_queries_do_not_grow(
    django_assert_num_queries, camden_lns_client, camden_lns, plan, times
):
    add_activity(plan, camden_lns, times)
    # session, user, plan, question, answer, links, comments, history, the
    # question list (previous/next), the feedback linked to it (the person's
    # roles come with them: User.held)
    with django_assert_num_queries(10):
        response = camden_lns_client.get(url("plans:answer", plan))
    assert len(re.findall(r"Comment \d+", text(response))) == times


def test_answer_page_queries_before_the_first_answer(
    django_assert_num_queries, camden_lns_client, plan
):
    # session, user, plan, latest question set, question, question list, the
    # feedback linked to it
    with django_assert_num_queries(7):
        camden_lns_client.get(url("plans:answer", plan))


@pytest.mark.parametrize("answered", [1, 20])
def test_questions_to_ask_queries_do_not_grow(
    django_assert_num_queries, camden_lns_client, camden_lns, plan, answered
):
    questions = Question.objects.filter(question_set=QuestionSet.objects.latest_version())
    for question in questions[:answered]:
        answer_directly(plan, camden_lns, question.key, response="not_known", concern="some")
    # session, user, plan, questions, answers
    with django_assert_num_queries(5):
        response = camden_lns_client.get(reverse("plans:questions_to_ask", kwargs={"pk": plan.pk}))
    assert text(response).count("Answered “not known”") == answered
