from django.contrib import admin, messages
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from authorities.edits import EditAdmin, EditInline

from .models import (
    Answer,
    FundingInstalment,
    HighNeedsStabilityGrant,
    Plan,
    Programme,
    Question,
    QuestionSet,
    Recommendation,
    ReformPlanDetails,
    Section,
    Target,
)


@admin.register(Programme)
class ProgrammeAdmin(EditAdmin):
    list_display = ["name", "short_name", "code", "order"]
    prepopulated_fields = {"code": ["short_name"]}


@admin.register(Recommendation)
class RecommendationAdmin(EditAdmin):
    list_display = ["number", "text"]


class InstalmentInline(EditInline, admin.TabularInline):
    model = FundingInstalment
    extra = 0


class TargetInline(EditInline, admin.StackedInline):
    model = Target
    extra = 0
    filter_horizontal = ["recommendations"]


class ReformPlanInline(EditInline, admin.StackedInline):
    """A local SEND reform plan's details (only reform plans have them)."""

    model = ReformPlanDetails
    extra = 0
    max_num = 1


class GrantInline(EditInline, admin.StackedInline):
    """A reform plan's High Needs Stability Grant; the 90% written off is
    worked out from the eligible deficit, never typed."""

    model = HighNeedsStabilityGrant
    extra = 0
    max_num = 1


@admin.register(Plan)
class PlanAdmin(EditAdmin, SimpleHistoryAdmin):
    list_display = ["authority", "programme", "round_or_tranche", "status", "verified", "revision"]
    list_filter = ["programme", "status", "verified", "authority__region"]
    search_fields = ["authority__name", "authority__la_code", "round_or_tranche"]
    list_select_related = ["authority", "programme"]
    autocomplete_fields = ["authority", "revision_of"]
    inlines = [InstalmentInline, TargetInline, ReformPlanInline, GrantInline]


class QuestionInline(EditInline, admin.StackedInline):
    model = Question
    extra = 0
    fields = ["section", "order", "key", "text", "plain_words", "guidance", "programmes"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Only this version's sections.
        formset.form.base_fields["section"].queryset = Section.objects.filter(question_set=obj)
        return formset


class SectionInline(EditInline, admin.TabularInline):
    model = Section
    extra = 0


@admin.register(QuestionSet)
class QuestionSetAdmin(EditAdmin):
    """The checklist's question bank. A version already used by assessments
    should not be reworded: copy it as a new version and edit that."""

    list_display = ["version", "title", "created_at"]
    inlines = [SectionInline, QuestionInline]
    actions = ["copy_as_new_version"]

    @admin.action(description="Copy as a new version (to edit without changing past answers)")
    def copy_as_new_version(self, request, queryset):
        with transaction.atomic():
            for source in queryset:
                latest = QuestionSet.objects.latest_version()
                copy = QuestionSet.objects.create(version=latest.version + 1, title=source.title)
                sections = {
                    s.pk: Section.objects.create(question_set=copy, number=s.number, title=s.title)
                    for s in source.sections.all()
                }
                originals = list(source.questions.prefetch_related("programmes"))
                copies = Question.objects.bulk_create(
                    Question(
                        question_set=copy,
                        section=sections[q.section_id],
                        key=q.key,
                        order=q.order,
                        text=q.text,
                        plain_words=q.plain_words,
                        guidance=q.guidance,
                    )
                    for q in originals
                )
                # Each copy is asked of the same programmes as its original.
                Question.programmes.through.objects.bulk_create(
                    Question.programmes.through(question=new, programme=programme)
                    for old, new in zip(originals, copies, strict=True)
                    for programme in old.programmes.all()
                )
                messages.success(request, f"Version {copy.version} created from {source}.")


@admin.register(Answer)
class AnswerAdmin(EditAdmin, SimpleHistoryAdmin):
    list_display = ["question", "assessment", "response", "concern", "answered_by", "answered_at"]
    list_filter = ["response", "concern", "carried_forward"]
    list_select_related = ["question", "assessment__plan__authority", "answered_by"]
    search_fields = ["assessment__plan__authority__name", "question__text"]
    raw_id_fields = ["assessment", "question", "answered_by"]
