"""Meetings, Schools Forum outcomes and actions.

Every meeting comes through `Meeting.objects.for_user` (out of scope or
confidential to others: 404), every action through `Action.objects.for_user`;
what a person may change comes from `AuthorityAccess` (not allowed: 403).
"""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from authorities.access import AuthorityAccess
from authorities.caching import ENGLAND, authority_scope, cached_page, render_body
from authorities.edits import DeleteForm, status_of, try_save
from authorities.models import LocalAuthority
from plans.history import entries
from plans.models import Answer, Plan, Question

from . import services
from .forms import (
    ActionFilterForm,
    ActionForm,
    AnswersForms,
    MeetingFilterForm,
    MeetingForms,
    OwnQuestionForm,
    PickQuestionsForm,
    StarterActionForm,
)
from .models import (
    Action,
    BlockTransfer,
    Meeting,
    MeetingQuestion,
    SchoolsForumOutcome,
)
from .presenters import checklist_choices, evidence_meetings, meeting_questions

PER_PAGE = 50
# A record's id in an address: ASCII digits ("²".isdigit() is true), and few
# enough for any database's integer.
ID = re.compile(r"[0-9]{1,9}")


def is_id(value):
    return bool(value and ID.fullmatch(value))


def _authority(request, slug, *, allowed=None):
    """The authority if in scope (else 404) and what this person may do;
    403 when `allowed(access)` says they may not."""
    authority = get_object_or_404(
        LocalAuthority.objects.for_user(request.user).select_related("region"), slug=slug
    )
    access = AuthorityAccess.of(request.user, authority)
    if allowed and not allowed(access):
        raise PermissionDenied
    return authority, access


def _can_edit(access):
    return access.can_edit


def _can_contribute(access):
    return access.can_contribute


def _can_plan(access):
    return access.can_plan_meetings


def _may_change_meeting(access, meeting):
    """Editors change any meeting; those who plan meetings change one while
    it is planned (saying it took place included)."""
    return access.can_edit or (meeting.is_planned and access.can_plan_meetings)


def _page(request, queryset):
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


# Meetings --------------------------------------------------------------------


@require_GET
def meeting_list(request, slug=None):
    """Meetings across everything in scope, or for one authority."""
    authority = access = None
    if slug:
        authority, access = _authority(request, slug)
    # Rendered once per person and address until the data next changes
    # (authorities/caching.py).
    page = cached_page(
        request,
        "meeting-list-page",
        (authority and authority.pk, request.GET.urlencode()),
        lambda: _meeting_list(request, authority, access),
        scope=authority_scope(authority) if authority else ENGLAND,
    )
    return render(request, "consultations/meeting_list.html", {"authority": authority, **page})


def _meeting_list(request, authority, access):
    meetings = Meeting.objects.for_user(request.user)
    if authority is not None:
        meetings = meetings.filter(authority=authority)
    form = MeetingFilterForm(request.GET)
    form.is_valid()
    page, page_query = _page(request, form.filter(meetings).listed())
    context = {
        "form": form,
        "page": page,
        "page_query": page_query,
        "authority": authority,
        "access": access,
    }
    return {
        "has_errors": bool(form.errors),
        "body": render_body(request, "consultations/meeting_list.html", context),
    }


@require_http_methods(["GET", "POST"])
def meeting_add(request, slug):
    authority, _ = _authority(request, slug, allowed=_can_edit)
    # "Log a meeting about this plan" on a plan's page picks the plan.
    plan = request.GET.get("plan", "")
    return _meeting_form(request, authority, None, {"plan": plan} if is_id(plan) else None)


@require_http_methods(["GET", "POST"])
def meeting_plan(request, slug):
    """A meeting to come: organisers and NEMs may plan one too."""
    authority, access = _authority(request, slug, allowed=_can_plan)
    plan = request.GET.get("plan", "")
    return _meeting_form(
        request,
        authority,
        None,
        {"plan": plan} if is_id(plan) else None,
        access=access,
        planning=True,
    )


@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    meeting = _meeting(request, pk)
    access = AuthorityAccess.of(request.user, meeting.authority)
    if not _may_change_meeting(access, meeting):
        raise PermissionDenied
    return _meeting_form(request, meeting.authority, meeting, access=access)


def _meeting(request, pk):
    return get_object_or_404(
        Meeting.objects.for_user(request.user).select_related(
            "authority__region",
            "plan__programme",
            # The plan's question bank, for the questions to pick from.
            "plan__assessment__question_set",
            "forum_outcome",
            "block_transfer",
            "trust",
            "branch",
        ),
        pk=pk,
    )


def _meeting_form(request, authority, meeting, initial=None, *, access=None, planning=False):
    forms = MeetingForms(
        request.POST if request.method == "POST" else None,
        authority=authority,
        user=request.user,
        meeting=meeting,
        initial=initial,
        access=access or AuthorityAccess.of(request.user, authority),
        planning=planning,
    )
    if forms.is_valid() and (
        saved := try_save(
            forms.meeting,
            lambda: services.save_meeting(meeting=forms.meeting.instance, **forms.values()),
        )
    ):
        messages.success(request, saved.message(f"Meeting saved: {saved.obj}.", "meeting"))
        if planning:
            # What comes next for a planned meeting: the questions to put.
            return redirect("consultations:questions", pk=saved.obj.pk)
        return redirect(saved.obj)
    return render(
        request,
        "consultations/meeting_form.html",
        {"authority": authority, "meeting": meeting, "forms": forms, "planning": planning},
        status=status_of(forms.meeting),
    )


@require_GET
def meeting_detail(request, pk):
    meeting = _meeting(request, pk)
    access = AuthorityAccess.of(request.user, meeting.authority)
    outcome = getattr(meeting, "forum_outcome", None)
    transfer = getattr(meeting, "block_transfer", None)
    history = entries(Meeting.history.filter(id=meeting.pk), describe=lambda r: "Meeting")
    questions = meeting_questions(meeting)
    attending = list(meeting.attending.all())
    if outcome:
        history += entries(
            SchoolsForumOutcome.history.filter(id=outcome.pk),
            describe=lambda r: "Schools Forum answers",
            hidden={"meeting"},
        )
    if transfer:
        history += entries(
            BlockTransfer.history.filter(id=transfer.pk),
            describe=lambda r: "Block transfer",
            hidden={"meeting"},
        )
    history += entries(
        MeetingQuestion.history.filter(meeting_id=meeting.pk),
        describe=lambda r: "Question to ask",
        hidden={"meeting", "question", "evidence", "added_by", "position"},
    )
    history.sort(key=lambda e: e.when, reverse=True)
    return render(
        request,
        "consultations/meeting_detail.html",
        {
            "meeting": meeting,
            "access": access,
            "outcome": outcome,
            "transfer": transfer,
            "questions": questions,
            "attending": attending,
            "may_change": _may_change_meeting(access, meeting),
            "actions": Action.objects.listed_for(request.user).filter(meeting=meeting),
            "history": history,
        },
    )


# Schools Forum answers as checklist evidence ---------------------------------


@require_POST
def link_evidence(request, pk, key, meeting_pk):
    """One click from a checklist question: link a meeting (its Schools
    Forum answer, or the meeting itself) as evidence on the plan's answer."""
    plan = get_object_or_404(
        Plan.objects.for_user(request.user).select_related("authority"), pk=pk
    )
    # Only a question on the plan's checklist (asked of its programme).
    question = get_object_or_404(Question.objects.for_plan(plan), key=key)
    access = AuthorityAccess.of(request.user, plan.authority)
    if not access.can_contribute:
        raise PermissionDenied
    offered = evidence_meetings(request.user, plan, key)
    meeting = next((m for m, _ in offered.items if m.pk == meeting_pk), None) if offered else None
    if meeting is None:
        raise Http404("That meeting is not offered as evidence here.")
    url = reverse("plans:answer", kwargs={"pk": plan.pk, "key": key})
    answer = Answer.objects.filter(assessment__plan=plan, question=question).first()
    if answer is None:
        messages.error(request, "Answer the question first: evidence is linked to an answer.")
        return redirect(url + "#meeting-evidence")
    added = services.link_meeting_as_evidence(
        answer=answer,
        meeting=meeting,
        url=request.build_absolute_uri(meeting.get_absolute_url()),
        location=offered.location,
        user=request.user,
    )
    if added:
        messages.success(request, f"Linked as evidence: {meeting}.")
    else:
        messages.success(request, f"{meeting} was already linked as evidence.")
    return redirect(url + "#links")


# Questions to ask at a meeting -------------------------------------------------


@require_http_methods(["GET", "POST"])
def meeting_questions_page(request, pk, own_form=None):
    """The questions to put at a meeting, in order: moved up and down,
    removed, printed; checklist questions picked (suggested first) and
    one's own added by those who plan meetings."""
    meeting = _meeting(request, pk)
    access = AuthorityAccess.of(request.user, meeting.authority)
    may_plan = access.can_plan_meetings
    if request.method == "POST" and not may_plan:
        raise PermissionDenied
    pick = PickQuestionsForm(
        request.POST if request.method == "POST" else None, choices=checklist_choices(meeting)
    )
    if pick.is_bound and pick.is_valid():
        chosen = Question.objects.filter(pk__in=pick.cleaned_data["questions"]).order_by(
            "section__number", "order", "pk"
        )
        added = services.add_checklist_questions(
            meeting=meeting, questions=chosen, user=request.user
        )
        messages.success(
            request, f"{added} question{'s' if added != 1 else ''} added from the checklist."
        )
        return redirect("consultations:questions", pk=meeting.pk)
    has_errors = bool(pick.is_bound and pick.errors) or bool(own_form and own_form.errors)
    return render(
        request,
        "consultations/meeting_questions.html",
        {
            "meeting": meeting,
            "access": access,
            "may_plan": may_plan,
            "may_change": _may_change_meeting(access, meeting),
            "questions": meeting_questions(meeting),
            "pick": pick,
            "own": own_form or OwnQuestionForm(),
            "has_errors": has_errors,
        },
    )


@require_POST
def question_add(request, pk):
    meeting = _meeting(request, pk)
    if not AuthorityAccess.of(request.user, meeting.authority).can_plan_meetings:
        raise PermissionDenied
    form = OwnQuestionForm(request.POST)
    if not form.is_valid():
        # The page again, the question typed kept, the error at the top.
        request.method = "GET"
        return meeting_questions_page(request, pk, own_form=form)
    services.add_own_question(meeting=meeting, text=form.cleaned_data["text"], user=request.user)
    messages.success(request, "Your question was added.")
    return redirect(reverse("consultations:questions", kwargs={"pk": meeting.pk}) + "#questions")


def _question(request, pk):
    """A question put at a meeting this person may see, and may plan."""
    item = get_object_or_404(
        MeetingQuestion.objects.for_user(request.user).select_related(
            "meeting__authority__region", "meeting__plan__programme", "question"
        ),
        pk=pk,
    )
    access = AuthorityAccess.of(request.user, item.meeting.authority)
    return item, access


@require_POST
def question_move(request, pk):
    """Up or down one place: buttons, so it works without JavaScript."""
    item, access = _question(request, pk)
    if not access.can_plan_meetings:
        raise PermissionDenied
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        messages.error(request, "Choose whether to move the question up or down.")
    else:
        services.move_question(item=item, up=direction == "up")
    return redirect(
        reverse("consultations:questions", kwargs={"pk": item.meeting_id}) + f"#question-{item.pk}"
    )


@require_http_methods(["GET", "POST"])
def question_remove(request, pk):
    item, access = _question(request, pk)
    if not access.can_plan_meetings:
        raise PermissionDenied
    form = DeleteForm(request.POST if request.method == "POST" else None, record=item)
    if form.is_valid() and form.delete():
        messages.success(request, f"Question removed: {item}.")
        return redirect(
            reverse("consultations:questions", kwargs={"pk": item.meeting_id}) + "#questions"
        )
    return render(
        request,
        "consultations/question_remove.html",
        {"item": item, "meeting": item.meeting, "form": form},
        # Refused because someone changed or removed it meanwhile: 409.
        status=409 if form.is_bound and form.non_field_errors() else 200,
    )


@require_GET
def questions_print(request, pk):
    """The questions on one sheet, to take to the meeting."""
    meeting = _meeting(request, pk)
    return render(
        request,
        "consultations/questions_print.html",
        {"meeting": meeting, "questions": meeting_questions(meeting)},
    )


@require_http_methods(["GET", "POST"])
def meeting_answers(request, pk):
    """After the meeting, in one form: for each question, whether it was
    asked and the answer given."""
    meeting = _meeting(request, pk)
    access = AuthorityAccess.of(request.user, meeting.authority)
    if not access.can_plan_meetings:
        raise PermissionDenied
    items = [asked.item for asked in meeting_questions(meeting)]
    forms = AnswersForms(request.POST if request.method == "POST" else None, questions=items)
    status = 200
    if forms.is_valid():
        try:
            changed = services.record_answers(forms=forms)
        except services.StaleAnswer as stale:
            stale.form.refuse(stale)
            status = 409
        else:
            messages.success(
                request,
                "Answers saved." if changed else "Nothing changed: the answers are as they were.",
            )
            return redirect(meeting.get_absolute_url() + "#questions")
    return render(
        request,
        "consultations/meeting_answers.html",
        {"meeting": meeting, "forms": forms},
        status=status,
    )


@require_POST
def question_evidence(request, pk):
    """One step: the answer given at the meeting becomes evidence on the
    plan's answer to the same checklist question."""
    item, access = _question(request, pk)
    if not access.can_contribute:
        raise PermissionDenied
    meeting = item.meeting
    asked = next((a for a in meeting_questions(meeting) if a.item.pk == item.pk), None)
    if meeting.confidential:
        # An evidence link is read by everyone who reads the plan.
        raise Http404("A confidential meeting is never linked as evidence.")
    if asked is None or not asked.may_become_evidence:
        messages.error(
            request,
            "Only an answer given to a checklist question the plan has answered can be "
            "linked as evidence, once.",
        )
        return redirect(meeting.get_absolute_url() + "#questions")
    services.answer_as_evidence(
        item=item,
        answer=asked.checklist_answer,
        url=request.build_absolute_uri(meeting.get_absolute_url()) + f"#question-{item.pk}",
        user=request.user,
    )
    messages.success(request, "Linked as evidence on the checklist question.")
    return redirect(meeting.get_absolute_url() + f"#question-{item.pk}")


# Actions ---------------------------------------------------------------------


@require_GET
def action_list(request, slug=None):
    """Actions across everything in scope, or at one authority (whose page
    lists only its first few open ones)."""
    authority = None
    if slug:
        authority, _ = _authority(request, slug)
    # Rendered once per person and address until the data next changes
    # (authorities/caching.py).
    page = cached_page(
        request,
        "action-list-page",
        (authority and authority.pk, request.GET.urlencode()),
        lambda: _action_list(request, authority),
        scope=authority_scope(authority) if authority else ENGLAND,
    )
    return render(request, "consultations/action_list.html", {"authority": authority, **page})


def _action_list(request, authority):
    form = ActionFilterForm(request.GET)
    form.is_valid()
    actions = Action.objects.listed_for(request.user)
    if authority is not None:
        actions = actions.filter(authority=authority)
    page, page_query = _page(request, form.filter(actions, request.user))
    context = {"form": form, "page": page, "page_query": page_query, "authority": authority}
    return {
        "has_errors": bool(form.errors),
        "body": render_body(request, "consultations/action_list.html", context),
    }


@require_http_methods(["GET", "POST"])
def action_add(request, slug):
    authority, _ = _authority(request, slug, allowed=_can_contribute)
    action = Action(authority=authority)
    meeting_pk = request.GET.get("meeting")
    if is_id(meeting_pk):
        action.meeting = (
            Meeting.objects.for_user(request.user)
            .filter(authority=authority, pk=meeting_pk)
            .first()
        )
    return _action_form(request, authority, action)


@require_http_methods(["GET", "POST"])
def action_edit(request, pk):
    action = get_object_or_404(
        Action.objects.for_user(request.user).select_related("authority__region"), pk=pk
    )
    if not AuthorityAccess.of(request.user, action.authority).can_contribute:
        raise PermissionDenied
    return _action_form(request, action.authority, action)


def _action_form(request, authority, action):
    meetings = (
        Meeting.objects.for_user(request.user)
        .filter(authority=authority)
        .order_by("-held_on", "-pk")
    )
    form = ActionForm(
        request.POST if request.method == "POST" else None,
        instance=action,
        authority=authority,
        user=request.user,
        meetings=meetings,
    )
    if form.is_valid() and (saved := try_save(form)):
        messages.success(request, saved.message(f"Action saved: {saved.obj}.", "action"))
        return redirect(authority.get_absolute_url() + "#actions")
    people = {
        person.pk: person.display_name
        for person in form.fields["owner"].queryset.prefetch_related(None)
    }
    history = (
        entries(
            Action.history.filter(id=action.pk),
            describe=lambda r: "Action",
            hidden={"authority", "plan", "meeting", "starter", "created_by"},
            labels={"owner": people},
        )
        if action.pk
        else []
    )
    return render(
        request,
        "consultations/action_form.html",
        {"authority": authority, "action": action, "form": form, "history": history},
        status=status_of(form),
    )


@require_http_methods(["GET", "POST"])
def action_starter(request, slug):
    """The briefing's suggested actions: pick which to add, each with who
    will do it and by when."""
    authority, _ = _authority(request, slug, allowed=_can_contribute)
    open_ = set(
        Action.objects.filter(authority=authority).open().values_list("starter", flat=True)
    )
    forms_ = StarterActionForm.for_authority(
        authority, request.user, open_, request.POST if request.method == "POST" else None
    )
    nothing_chosen = False
    if request.method == "POST" and all(form.is_valid() for form in forms_):
        chosen = [
            (form.key, form.cleaned_data["owner"], form.cleaned_data["due_on"])
            for form in forms_
            if form.cleaned_data["add"]
        ]
        if chosen:
            added = services.add_starter_actions(
                authority=authority, user=request.user, chosen=chosen
            )
            messages.success(
                request,
                f"{added} of the briefing's actions added for {authority.name}."
                if added
                else f"The briefing's actions you chose are already open for {authority.name}.",
            )
            return redirect(authority.get_absolute_url() + "#actions")
        nothing_chosen = True
    already = [title for key, title in Action.STARTERS.items() if key in open_]
    return render(
        request,
        "consultations/action_starter.html",
        {
            "authority": authority,
            "forms": forms_,
            "already": already,
            "nothing_chosen": nothing_chosen,
            "has_errors": any(form.errors for form in forms_),
        },
    )
