"""Feedback pages: the form, the submissions in scope, linking feedback to a
plan's checklist, and the CSV export.

Submissions come through `FeedbackSubmission.objects.for_user` (out of scope:
404); a change without the right (not the submitter, past the edit window,
no role to link or export) is 403.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from authorities import audit
from authorities.access import AuthorityAccess
from authorities.caching import cached_page, render_body
from authorities.edits import edited_values, status_of, try_save
from authorities.models import LocalAuthority
from plans.models import Plan, Question

from . import services
from .exports import csv_lines
from .forms import EvidenceForm, FilterForm, SubmissionForm
from .models import FeedbackExport, FeedbackSubmission

PER_PAGE = 50


@require_GET
def submission_list(request):
    # Rendered once per person and address (filters, page) until the data
    # next changes (authorities/caching.py): building the scoped queries and
    # the table cost more than reading the rows.
    page = cached_page(
        request,
        "feedback-list-page",
        request.GET.urlencode(),
        lambda: {
            "body": render_body(
                request, "feedback/submission_list.html", _submission_list(request)
            )
        },
    )
    return render(request, "feedback/submission_list.html", page)


def _submission_list(request):
    user = request.user
    form = FilterForm(request.GET, user=user)
    form.is_valid()
    submissions = form.filter(FeedbackSubmission.objects.for_user(user).active())
    page = Paginator(submissions.select_related("authority", "submitted_by"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": page,
        "page_query": query.urlencode(),
        "can_export": user.can_export_feedback,
        # Where this person can give feedback from (national officers
        # start from an authority's page: they cover all 153).
        "own_authorities": list(LocalAuthority.objects.filter(memberships__user=user).distinct()),
    }


@require_http_methods(["GET", "POST"])
def submission_add(request, slug):
    authority = get_object_or_404(
        LocalAuthority.objects.for_user(request.user).select_related("region"), slug=slug
    )
    if not AuthorityAccess.of(request.user, authority).can_submit_feedback:
        raise PermissionDenied
    form = SubmissionForm(request.POST or None, authority=authority)
    if form.is_valid():
        saved = _save_submission(request, form)
        messages.success(
            request,
            "Thank you: your feedback has been saved."
            + saved.told_sentence()
            + " You can change or withdraw it for 14 days.",
        )
        return redirect(saved.obj)
    return render(request, "feedback/submission_form.html", {"form": form, "authority": authority})


def _submission(request, pk, *, change=False):
    """The submission if this person may read it (else 404); 403 if they
    are to change it and may not."""
    submission = get_object_or_404(
        FeedbackSubmission.objects.for_user(request.user)
        .active()
        .select_related("authority__region", "submitted_by", "trust"),
        pk=pk,
    )
    if change and not submission.can_change(request.user):
        raise PermissionDenied
    return submission


@require_GET
def submission_detail(request, pk):
    submission = _submission(request, pk)
    access = AuthorityAccess.of(request.user, submission.authority)
    evidence = submission.evidence.select_related("plan__programme", "question")
    return render(
        request,
        "feedback/submission_detail.html",
        {
            "submission": submission,
            "show_submitter": submission.shows_submitter_to(request.user),
            "can_change": submission.can_change(request.user),
            "evidence": evidence,
            # Plans this feedback could be evidence on, for those who link it.
            "plans": Plan.objects.for_user(request.user)
            .filter(authority=submission.authority)
            .current()
            .select_related("programme")
            if access.can_contribute
            else [],
        },
    )


@require_http_methods(["GET", "POST"])
def submission_edit(request, pk):
    submission = _submission(request, pk, change=True)
    form = SubmissionForm(
        request.POST or None, instance=submission, authority=submission.authority
    )
    if form.is_valid() and (saved := try_save(form, lambda: _save_submission(request, form))):
        messages.success(
            request,
            saved.message("Your changes have been saved.", "feedback") + saved.told_sentence(),
        )
        return redirect(submission)
    return render(
        request,
        "feedback/submission_form.html",
        {"form": form, "authority": submission.authority, "submission": submission},
        status=status_of(form),
    )


def _save_submission(request, form):
    # A new submission's base_version is not read: there is nothing to be stale.
    return services.save_submission(
        submission=form.instance,
        data=edited_values(form),
        base_version=form.cleaned_data["base_version"],
        user=request.user,
    )


@require_http_methods(["GET", "POST"])
def submission_withdraw(request, pk):
    submission = _submission(request, pk, change=True)
    if request.method == "POST":
        submission.withdraw()
        audit.record(
            audit.Kind.WITHDRAWAL, request=request, detail=f"{submission} (#{submission.pk})"
        )
        messages.success(
            request, "Your feedback has been withdrawn. It no longer counts in any figures."
        )
        return redirect("feedback:list")
    return render(request, "feedback/submission_confirm_withdraw.html", {"submission": submission})


@require_http_methods(["GET", "POST"])
def evidence_link(request, pk, key):
    """Link one of the authority's submissions to a question of the plan's
    checklist, as evidence for or against what the plan says."""
    plan = get_object_or_404(
        Plan.objects.for_user(request.user).select_related(
            "authority__region", "programme", "assessment__question_set"
        ),
        pk=pk,
    )
    question_set = plan.checklist_question_set()
    if question_set is None:
        raise Http404("No checklist has been loaded.")
    # Only a question on the plan's checklist (asked of its programme).
    question = get_object_or_404(
        Question.objects.filter(question_set=question_set).for_programme(plan.programme_id),
        key=key,
    )
    access = AuthorityAccess.of(request.user, plan.authority)
    if not access.can_contribute:
        raise PermissionDenied
    submissions = (
        FeedbackSubmission.objects.for_user(request.user).active().filter(authority=plan.authority)
    )
    form = EvidenceForm(
        request.POST or None,
        submissions=submissions,
        initial={"submission": request.GET.get("submission")},
    )
    answer_url = reverse("plans:answer", kwargs={"pk": plan.pk, "key": question.key})
    if form.is_valid():
        services.link_evidence(
            plan=plan,
            question=question,
            user=request.user,
            **{name: form.cleaned_data[name] for name in ("submission", "stance", "point")},
        )
        messages.success(request, "The feedback is linked to this question.")
        return redirect(f"{answer_url}#feedback")
    return render(
        request,
        "feedback/evidence_form.html",
        {
            "form": form,
            "plan": plan,
            "question": question,
            "answer_url": answer_url,
            # With none to link, a way to give some, for those who may.
            "can_give_feedback": access.can_submit_feedback,
        },
    )


@require_GET
def export(request):
    """The submissions in the list's filter as CSV, streamed. Organisers get
    no submitter and only authorities with enough submissions to hide who
    said what (see FeedbackSubmissionQuerySet.with_enough_per_authority)."""
    user = request.user
    if not user.can_export_feedback:
        raise PermissionDenied
    form = FilterForm(request.GET, user=user)
    if not form.is_valid():
        messages.error(request, "Choose a region and authority from the lists, then export.")
        return redirect("feedback:list")
    national = user.can_see_small_numbers
    # The same rows as for_user(), in a query PostgreSQL can spread over cores.
    submissions = form.filter(FeedbackSubmission.objects.readable_by(user).active())
    if not national:
        submissions = submissions.with_enough_per_authority()
    FeedbackExport.objects.create(
        exported_by=user,
        exported_by_email=user.email,
        ip_address=audit.client_ip(request),
        filters=form.description(),
        with_submitters=national,
        small_numbers_withheld=not national,
    )
    response = StreamingHttpResponse(
        csv_lines(submissions, with_submitters=national), content_type="text/csv; charset=utf-8"
    )
    filename = f"feedback-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
