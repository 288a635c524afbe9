"""Plans, their money and commitments, and their history.

Every plan comes through `Plan.objects.for_user` (out of scope is 404); what a
person may change comes from `AuthorityAccess` (not allowed is 403).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from authorities.access import AuthorityAccess
from authorities.caching import authority_scope, cached_page, render_body
from authorities.edits import DeleteForm, edited_values, status_of, try_save
from authorities.models import LocalAuthority, Region

from . import services
from .forms import (
    GrantForm,
    InstalmentForm,
    PlanFilterForm,
    PlanForm,
    ReformPlanForm,
    TargetForm,
    TargetUpdateForm,
)
from .history import plan_changes
from .models import (
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    ReformPlanDetails,
    Target,
    TimelineEntry,
)
from .presenters import PLAN_PAGE, RevisionChanges

PLANS_PER_PAGE = 50
RECENT_CHANGES = 8


def plan_for(request, pk, *, edit=False):
    """The plan if in scope (else 404), with what this person may do; 403
    if they are to change it and may not."""
    plan = get_object_or_404(
        Plan.objects.for_user(request.user).select_related("authority__region", "programme"),
        pk=pk,
    )
    access = AuthorityAccess.of(request.user, plan.authority)
    if edit and not access.can_edit:
        raise PermissionDenied
    return plan, access


@require_GET
def plan_list(request):
    # Rendered once per person and address until the data next changes
    # (authorities/caching.py).
    page = cached_page(
        request,
        "plan-list-page",
        request.GET.urlencode(),
        lambda: {"body": render_body(request, "plans/plan_list.html", _plan_list(request))},
    )
    return render(request, "plans/plan_list.html", page)


def _plan_list(request):
    plans = Plan.objects.for_user(request.user).current()
    regions = Region.objects.filter(authorities__plans__in=plans).distinct()
    form = PlanFilterForm(request.GET, regions=regions)
    form.is_valid()
    page = Paginator(
        form.filter(plans).summary().order_by("authority__name", "programme__order"),
        PLANS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"form": form, "page": page, "page_query": query.urlencode()}


@require_GET
def plan_detail(request, pk):
    plan = get_object_or_404(
        Plan.objects.for_user(request.user)
        # Its checklist and question bank too, or that there is none yet.
        .select_related("authority__region", "programme", "assessment__question_set")
        .with_reform()
        .with_later_revision(),
        pk=pk,
    )
    # Rendered once per person until the authority's data next changes
    # (authorities/caching.py): the checklist, targets, history and
    # timeline take longer to draw than to read. What the person may do
    # here is asked only then: the page is theirs alone.
    page = cached_page(
        request,
        "plan-page",
        plan.pk,
        lambda: {
            "body": render_body(
                request,
                "plans/plan_detail.html",
                _plan_page(request.user, plan, AuthorityAccess.of(request.user, plan.authority)),
            )
        },
        scope=authority_scope(plan.authority),
    )
    return render(request, "plans/plan_detail.html", {"plan": plan, **page})


def _plan_page(user, plan, access):
    assessment = getattr(plan, "assessment", None)
    question_set = plan.checklist_question_set()
    answers = {}
    if assessment:
        answers = {a.question_id: a for a in assessment.answers.select_related("answered_by")}
    questions = (
        list(question_set.questions.for_programme(plan.programme_id).select_related("section"))
        if question_set
        else []
    )
    for question in questions:
        question.answer = answers.get(question.id)
    targets = plan.targets.with_latest_update().prefetch_related("recommendations")
    instalments = list(plan.instalments.all())
    return {
        "plan": plan,
        "access": access,
        "money": plan.money(instalments),
        "instalments": instalments,
        "targets": targets,
        "questions": questions,
        "answered": sum(1 for q in questions if q.answer and not q.answer.carried_forward),
        "serious": [q for q in questions if q.answer and q.answer.concern == "serious"],
        "revisions": plan.later_revisions(),
        "revision_changes": RevisionChanges(plan),
        "recent_changes": plan_history_entries(
            plan, access, question_texts={question.pk: question.text for question in questions}
        )[:RECENT_CHANGES],
        # "What comes next" nationally.
        "coming_up": TimelineEntry.objects.coming_up(timezone.localdate()),
        # The meetings and feedback panels (consultations' and feedback's).
        **PLAN_PAGE.context(plan=plan, user=user, access=access),
    }


@require_http_methods(["GET", "POST"])
def plan_add(request, slug):
    authority = get_object_or_404(LocalAuthority.objects.for_user(request.user), slug=slug)
    if not AuthorityAccess.of(request.user, authority).can_edit:
        raise PermissionDenied
    form = PlanForm(request.POST or None, authority=authority)
    if form.is_valid():
        plan = _save_plan(request, form).obj
        messages.success(request, f"Plan recorded: {plan}.")
        return redirect(plan)
    return render(request, "plans/plan_form.html", {"form": form, "authority": authority})


@require_http_methods(["GET", "POST"])
def plan_edit(request, pk):
    plan, access = plan_for(request, pk, edit=True)
    form = PlanForm(
        request.POST or None,
        instance=plan,
        authority=plan.authority,
        may_skip_lifecycle=access.can_skip_lifecycle,
    )
    if form.is_valid() and (saved := try_save(form, lambda: _save_plan(request, form))):
        messages.success(request, saved.message("Plan saved.", "plan"))
        return redirect(plan)
    return render(
        request,
        "plans/plan_form.html",
        {"form": form, "authority": plan.authority, "plan": plan},
        status=status_of(form),
    )


def _save_plan(request, form):
    # A new plan's base_version is not read: there is nothing to be stale.
    return services.save_plan(
        plan=form.instance,
        data=edited_values(form),
        base_version=form.cleaned_data["base_version"],
        reason=form.change_reason(),
        user=request.user,
    )


@require_http_methods(["GET", "POST"])
def plan_revise(request, pk):
    plan, _ = plan_for(request, pk, edit=True)

    def already_revised():
        messages.error(request, "This plan has already been revised: revise the latest revision.")
        return redirect(plan.revisions.latest("revision"))

    if plan.revisions.exists():
        return already_revised()
    if request.method == "POST":
        try:
            revision = services.revise_plan(plan=plan, user=request.user)
        except (ValueError, IntegrityError):
            # Someone else revised it between this page and the save.
            return already_revised()
        messages.success(
            request,
            "Revision started. Its checklist answers are carried forward from the previous "
            "revision: confirm or change each one.",
        )
        return redirect(revision)
    return render(request, "plans/plan_revise.html", {"plan": plan})


@require_http_methods(["GET", "POST"])
def instalment_add(request, pk):
    plan, _ = plan_for(request, pk, edit=True)
    return instalment_form(request, plan, FundingInstalment(plan=plan))


@require_http_methods(["GET", "POST"])
def instalment_edit(request, pk, instalment_pk):
    plan, _ = plan_for(request, pk, edit=True)
    return instalment_form(request, plan, get_object_or_404(plan.instalments, pk=instalment_pk))


def instalment_form(request, plan, instalment):
    form = InstalmentForm(request.POST or None, instance=instalment, plan=plan)
    if form.is_valid() and (saved := try_save(form)):
        messages.success(request, saved.message(f"Instalment saved: {saved.obj}.", "instalment"))
        return redirect(plan.get_absolute_url() + "#money")
    return render(
        request,
        "plans/instalment_form.html",
        {"form": form, "plan": plan},
        status=status_of(form),
    )


@require_http_methods(["GET", "POST"])
def instalment_delete(request, pk, instalment_pk):
    plan, _ = plan_for(request, pk, edit=True)
    instalment = get_object_or_404(plan.instalments, pk=instalment_pk)
    form = DeleteForm(request.POST or None, record=instalment)
    if form.is_valid() and form.delete():
        messages.success(request, f"Instalment removed: {instalment}.")
        return redirect(plan.get_absolute_url() + "#money")
    return render(
        request,
        "plans/instalment_confirm_delete.html",
        {"plan": plan, "instalment": instalment, "form": form},
    )


@require_http_methods(["GET", "POST"])
def target_add(request, pk):
    plan, _ = plan_for(request, pk, edit=True)
    return target_form(request, plan, Target(plan=plan))


@require_http_methods(["GET", "POST"])
def target_edit(request, pk, target_pk):
    plan, _ = plan_for(request, pk, edit=True)
    return target_form(request, plan, get_object_or_404(plan.targets, pk=target_pk))


def target_form(request, plan, target):
    form = TargetForm(request.POST or None, instance=target, plan=plan)
    if form.is_valid() and (saved := try_save(form)):
        messages.success(request, saved.message(f"Target saved: {saved.obj}.", "target"))
        return redirect(plan.get_absolute_url() + "#targets")
    return render(
        request, "plans/target_form.html", {"form": form, "plan": plan}, status=status_of(form)
    )


@require_http_methods(["GET", "POST"])
def target_update_add(request, pk, target_pk):
    plan, _ = plan_for(request, pk, edit=True)
    target = get_object_or_404(plan.targets, pk=target_pk)
    form = TargetUpdateForm(request.POST or None, target=target, user=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, f"Progress recorded for: {target}.")
        return redirect(plan.get_absolute_url() + "#targets")
    return render(
        request, "plans/target_update_form.html", {"form": form, "plan": plan, "target": target}
    )


@require_http_methods(["GET", "POST"])
def reform_edit(request, pk):
    """Record or change a reform plan's stage with the DfE, rating, partners,
    aims and proposals."""
    return reform_part_form(
        request,
        pk,
        ReformPlanDetails,
        ReformPlanForm,
        services.save_reform_details,
        "plans/reform_form.html",
    )


@require_http_methods(["GET", "POST"])
def grant_edit(request, pk):
    """Record or change a reform plan's High Needs Stability Grant."""
    return reform_part_form(
        request,
        pk,
        HighNeedsStabilityGrant,
        GrantForm,
        services.save_grant,
        "plans/grant_form.html",
    )


def reform_part_form(request, pk, model, form_class, save, template):
    """The form of what a reform plan has one of (its details, its grant),
    for a plan this person may change (else 404 or 403, as plan_for); the
    first save creates it. Any other programme's plan has none: 404."""
    plan, _ = plan_for(request, pk, edit=True)
    if not plan.is_reform_plan:
        raise Http404("Only a local SEND reform plan has these.")
    record = model.objects.filter(plan=plan).first() or model(plan=plan)
    form = form_class(request.POST or None, instance=record, plan=plan)
    if form.is_valid() and (
        saved := try_save(
            form,
            lambda: save(
                record=form.instance,
                data=edited_values(form),
                base_version=form.cleaned_data["base_version"],
            ),
        )
    ):
        what = form.what
        messages.success(request, saved.message(f"{what.capitalize()} saved.", what))
        return redirect(saved.obj)
    return render(request, template, {"form": form, "plan": plan}, status=status_of(form))


@require_GET
def plan_history(request, pk):
    plan, access = plan_for(request, pk)
    page = Paginator(plan_history_entries(plan, access), 50).get_page(request.GET.get("page"))
    return render(request, "plans/plan_history.html", {"plan": plan, "page": page})


def plan_history_entries(plan, access, *, question_texts=None):
    """Every change to the plan, its instalments, targets and answers,
    newest first (`question_texts`: those known already, plan_changes)."""
    return plan_changes(
        [plan], show_private_notes=access.can_see_private_notes, question_texts=question_texts
    )
