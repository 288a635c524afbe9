"""Official figures linked as evidence on the checklist: the answer page
offers them (official/_checklist_evidence.html), this view links one."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from authorities.access import AuthorityAccess
from plans.models import Answer, Plan, Question

from . import services
from .presenters import figure_evidence


@require_POST
def link_evidence(request, pk, key, trend, period):
    """One click from a checklist question: link the authority's official
    figure for `period` of `trend` as evidence on the plan's answer."""
    plan = get_object_or_404(
        Plan.objects.for_user(request.user).select_related("authority__region"), pk=pk
    )
    question = get_object_or_404(Question, question_set=plan.checklist_question_set(), key=key)
    if not AuthorityAccess.of(request.user, plan.authority).can_contribute:
        raise PermissionDenied
    evidence = figure_evidence(plan.authority, key, trend, period)
    if evidence is None:
        raise Http404("That figure is not offered as evidence here.")
    url = reverse("plans:answer", kwargs={"pk": plan.pk, "key": key})
    answer = Answer.objects.filter(assessment__plan=plan, question=question).first()
    if answer is None:
        messages.error(request, "Answer the question first: evidence is linked to an answer.")
        return redirect(url + "#official-evidence")
    if services.link_figure_as_evidence(answer=answer, evidence=evidence, user=request.user):
        messages.success(request, f"Linked as evidence: {evidence.title}")
    else:
        messages.success(request, f"Already linked as evidence: {evidence.title}")
    return redirect(url + "#links")
