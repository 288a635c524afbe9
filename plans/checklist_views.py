"""The union's checklist, answered per plan: one page per question.

Every page starts from `Plan.objects.for_user` (out of scope: 404) and asks
`AuthorityAccess` what the person may do (a write without the right: 403).
Everyone in scope reads; editors change answers; contributors (editors,
regional organisers and NEMs) add evidence links and comments.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from authorities.access import AuthorityAccess

from . import services
from .checklist_forms import AnswerForm, CommentForm, ConfirmForm, EvidenceLinkForm
from .history import entries
from .models import Answer, Comment, EvidenceLink, Plan, Question, still_to_ask
from .presenters import ANSWER_PAGE, Place

TEMPLATE = "plans/checklist/answer.html"


# Looking things up -----------------------------------------------------------


def _plan(request, pk):
    return get_object_or_404(
        Plan.objects.for_user(request.user).select_related(
            "authority__region", "programme", "assessment__question_set"
        ),
        pk=pk,
    )


def _question_set(plan):
    """The plan's question bank; 404 if no checklist has been loaded."""
    question_set = plan.checklist_question_set()
    if question_set is None:
        raise Http404("No checklist has been loaded.")
    return question_set


def _plan_and_question(request, pk, key):
    plan = _plan(request, pk)
    # A question not asked of the plan's programme is not on its checklist.
    question = get_object_or_404(
        Question.objects.select_related("section").for_programme(plan.programme_id),
        question_set=_question_set(plan),
        key=key,
    )
    return plan, question, AuthorityAccess.of(request.user, plan.authority)


def _answer(plan, question):
    """The answer with its links and comments, in a fixed number of queries
    however many it has."""
    assessment = getattr(plan, "assessment", None)
    if assessment is None:
        return None
    return (
        Answer.objects.filter(assessment=assessment, question=question)
        .select_related("answered_by")
        .prefetch_related(
            Prefetch("links", queryset=EvidenceLink.objects.select_related("added_by")),
            Prefetch("comments", queryset=Comment.objects.select_related("author")),
        )
        .first()
    )


def _answer_url(plan, question):
    return reverse("plans:answer", kwargs={"pk": plan.pk, "key": question.key})


# Pages -----------------------------------------------------------------------


def _render_answer_page(request, plan, question, access, *, status=200, conflict=False, **forms):
    existing = _answer(plan, question)
    answer_form = forms.get("answer_form")
    if answer_form is None and access.can_edit:
        answer_form = forms["answer_form"] = AnswerForm(
            initial=AnswerForm.initial_for(existing),
            private_notes=access.can_see_private_notes,
            link=access.can_contribute,
        )
        if "link_form" in forms and answer_form.link_form:
            # A link evidence_add refused: shown where this person types
            # links, in the answer form.
            answer_form.link_form = forms["link_form"]
    # An editor's link fields are the answer form's; someone who may add
    # links but not answer has a form for them alone.
    links_with_answer = bool(answer_form and answer_form.link_form)
    if links_with_answer:
        forms["link_form"] = answer_form.link_form
    if access.can_contribute:
        forms.setdefault("link_form", EvidenceLinkForm(prefix="link"))
        forms.setdefault("comment_form", CommentForm(prefix="comment"))
    place = Place.of(question, plan.programme_id)
    context = {
        "plan": plan,
        "question": question,
        "access": access,
        "answer": existing,
        # The same history as the plan's page, for this answer alone.
        "history": entries(
            Answer.history.filter(id=existing.pk),
            describe=lambda record: "Answer",
            hidden={"assessment", "question"}
            | (set() if access.can_see_private_notes else {"private_notes"}),
        )
        if existing
        else [],
        "conflict": conflict,
        "confirm_form": ConfirmForm(initial={"base_version": existing.version})
        if existing and existing.carried_forward and access.can_edit
        else None,
        "place": place,
        "links_with_answer": links_with_answer,
        # The meetings and feedback to link as evidence (consultations' and
        # feedback's panels).
        **ANSWER_PAGE.context(plan=plan, question=question, user=request.user, access=access),
        **forms,
    }
    return render(request, TEMPLATE, context, status=status)


def _conflict_message(current, doing):
    if current is None:
        return f"Someone else removed this answer while you were {doing} it."
    who = current.answered_by.display_name if current.answered_by else "Someone"
    when = date_format(timezone.localtime(current.answered_at), "j F Y \\a\\t H:i")
    return f"Someone else changed this answer while you were {doing} it: {who} saved it on {when}."


@require_http_methods(["GET", "POST"])
def answer(request, pk, key):
    """One question about one plan: its answer, evidence, comments and
    history, and the forms the person may use."""
    plan, question, access = _plan_and_question(request, pk, key)
    if request.method == "GET":
        return _render_answer_page(request, plan, question, access)

    if not access.can_edit:
        raise PermissionDenied
    options = {"private_notes": access.can_see_private_notes, "link": access.can_contribute}
    form = AnswerForm(request.POST, **options)
    if not form.is_valid():
        return _render_answer_page(request, plan, question, access, answer_form=form)
    link = form.new_link()
    try:
        saved = services.save_answer(
            plan=plan,
            question=question,
            data=form.answer_data(),
            base_version=form.cleaned_data["base_version"],
            user=request.user,
            link=link,
        )
    except services.AnswerConflict as conflict:
        # Keep what they typed (the link too), but based on the version they
        # have now seen, so saving again deliberately replaces the other
        # person's answer.
        data = request.POST.copy()
        data["base_version"] = conflict.current.version if conflict.current else 0
        form = AnswerForm(data, **options)
        form.is_valid()
        form.add_error(None, _conflict_message(conflict.current, "editing"))
        return _render_answer_page(
            request, plan, question, access, answer_form=form, conflict=True, status=409
        )
    if "next" not in request.POST:
        messages.success(request, _saved_message(saved, link, "answer"))
        return redirect(_answer_url(plan, question))
    # "Save and go to the next question": the message is read on the next
    # page, so it says which question was saved.
    place = Place.of(question, plan.programme_id)
    messages.success(request, _saved_message(saved, link, f"answer to question {place.number}"))
    if place.next is None:
        return redirect(plan.get_absolute_url() + "#checklist")
    return redirect("plans:answer", pk=plan.pk, key=place.next.key)


def _saved_message(saved, link, what):
    """What saving the answer (`what`: "answer") and the link typed with it
    did."""
    if link is None:
        return saved.message(f"Your {what} has been saved.", what)
    if saved.changed:
        return f"Your {what} and its evidence link have been saved."
    return f"The evidence link has been added. Your {what} is as it was."


def _add_to_answer(request, pk, key, *, form_class, prefix, user_field, what, done):
    """Add an evidence link or a comment (`form_class`'s model) to the
    question's answer; either needs an answer to hang from."""
    plan, question, access = _plan_and_question(request, pk, key)
    if not access.can_contribute:
        raise PermissionDenied
    form = form_class(request.POST, prefix=prefix)
    assessment = getattr(plan, "assessment", None)
    existing = (
        Answer.objects.filter(assessment=assessment, question=question).first()
        if assessment
        else None
    )
    if existing is None:
        form.add_error(
            None,
            f"This question has not been answered yet: {what} can be added once it has an answer.",
        )
    if not form.is_valid():
        return _render_answer_page(request, plan, question, access, **{f"{prefix}_form": form})
    item = form.save(commit=False)
    item.answer = existing
    setattr(item, user_field, request.user)
    item.save()
    messages.success(request, done)
    return redirect(_answer_url(plan, question) + f"#{prefix}s")


@require_POST
def evidence_add(request, pk, key):
    return _add_to_answer(
        request,
        pk,
        key,
        form_class=EvidenceLinkForm,
        prefix="link",
        user_field="added_by",
        what="evidence links",
        done="The evidence link has been added.",
    )


@require_POST
def comment_add(request, pk, key):
    return _add_to_answer(
        request,
        pk,
        key,
        form_class=CommentForm,
        prefix="comment",
        user_field="author",
        what="comments",
        done="Your comment has been added.",
    )


@require_POST
def answer_confirm(request, pk, key):
    """Accept an answer carried forward from the previous revision as still
    true, unless someone changed it since the page was shown."""
    plan, question, access = _plan_and_question(request, pk, key)
    if not access.can_edit:
        raise PermissionDenied
    url = _answer_url(plan, question)
    existing = _answer(plan, question)
    form = ConfirmForm(request.POST)
    if existing is None or not form.is_valid():
        messages.error(request, "There was no answer to confirm: the page was out of date.")
        return redirect(url)
    try:
        services.confirm_answer(
            answer=existing, base_version=form.cleaned_data["base_version"], user=request.user
        )
    except services.AnswerConflict as conflict:
        messages.error(
            request,
            _conflict_message(conflict.current, "confirming")
            + " Check their answer below before confirming or changing it.",
        )
        return redirect(url)
    messages.success(request, "You have confirmed that this answer still holds.")
    return redirect(url)


@require_GET
def questions_to_ask(request, pk):
    """What the union still needs the authority to answer, by section, for
    the next Schools Forum or JCNC meeting: questions with no answer or
    answered "not known", and those of serious concern."""
    plan = _plan(request, pk)
    # The rule is shared with the briefing pack (plans.models.still_to_ask).
    sections = still_to_ask([plan]).get(plan.pk)
    if sections is None:
        raise Http404("No checklist has been loaded.")
    return render(
        request,
        "plans/checklist/questions_to_ask.html",
        {
            "plan": plan,
            "sections": sections,
            "today": timezone.localdate(),
            "question_count": sum(len(rows) for rows in sections.values()),
        },
    )
