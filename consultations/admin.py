from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from authorities.admin import PersonChoices
from authorities.edits import EditAdmin, EditInline

from .models import Action, BlockTransfer, Meeting, MeetingQuestion, SchoolsForumOutcome


class OutcomeInline(EditInline, admin.StackedInline):
    model = SchoolsForumOutcome
    extra = 0


class BlockTransferInline(EditInline, admin.StackedInline):
    model = BlockTransfer
    extra = 0


class MeetingQuestionInline(EditInline, admin.TabularInline):
    """The questions to ask, as put at the meeting; which checklist question
    each puts and its evidence link are made by the app's own pages."""

    model = MeetingQuestion
    extra = 0
    fields = ["position", "text", "asked", "answer", "question", "evidence"]
    readonly_fields = ["question", "evidence"]


@admin.register(Meeting)
class MeetingAdmin(PersonChoices, EditAdmin, SimpleHistoryAdmin):
    list_display = ["authority", "forum", "held_on", "status", "union_consulted", "confidential"]
    list_filter = ["status", "forum", "union_consulted", "confidential", "authority__region"]
    search_fields = ["authority__name", "title", "summary"]
    list_select_related = ["authority"]
    autocomplete_fields = ["authority", "plan", "attending"]
    date_hierarchy = "held_on"
    inlines = [OutcomeInline, BlockTransferInline, MeetingQuestionInline]


@admin.register(Action)
class ActionAdmin(PersonChoices, EditAdmin, SimpleHistoryAdmin):
    list_display = ["title", "authority", "owner", "due_on", "status"]
    list_filter = ["status", "authority__region"]
    search_fields = ["title", "authority__name", "owner__email"]
    list_select_related = ["authority", "owner"]
    autocomplete_fields = ["authority", "plan", "meeting", "owner"]
