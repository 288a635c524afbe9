# Imported for what it does: it registers allauth's addresses, taken off below.
import allauth.account.admin  # noqa: F401
from allauth.account.models import EmailAddress
from allauth.mfa import admin as mfa_admin  # noqa: F401  (registers Authenticator: replaced below)
from allauth.mfa.models import Authenticator
from allauth.usersessions import admin as usersessions_admin  # noqa: F401  (taken off below)
from allauth.usersessions.models import UserSession
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django_tasks_db.models import DBTaskResult

from . import audit
from .edits import EditAdmin, EditInline
from .invitations import send_invitation
from .mfa import remove_authenticators
from .models import (
    AuditEvent,
    AuthorityAlias,
    AuthorityFinance,
    Branch,
    LocalAuthority,
    Membership,
    MultiAcademyTrust,
    Region,
    User,
)

# Off the admin's index, as nobody uses them: what people may do comes from
# their memberships, not groups; and a login address is changed on the
# person's own page (UserAdmin.save_model clears allauth's old addresses).
admin.site.unregister(Group)
admin.site.unregister(EmailAddress)
# allauth's page for second steps shows and edits their secrets.
admin.site.unregister(Authenticator)
# Deleting allauth's record of a session there would not end the session.
# People end their own on their sessions page; making a person inactive
# ends all of theirs at their next request.
admin.site.unregister(UserSession)
# The task queue's rows hold each e-mail as queued: its address, its body and,
# for an invitation, a link that sets the person's password. Nobody reads
# them in the admin; the worker's log says what was sent and what failed.
admin.site.unregister(DBTaskResult)


class PersonChoices:
    """For a ModelAdmin whose forms choose a person (a select, or the person
    an autocomplete shows as chosen): each offered by name with their roles
    and places (User.name_with_roles), read with the choices in one query
    more. The autocomplete's search results are labelled by UserAdmin."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is not User:
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs.setdefault("queryset", User.objects.with_memberships())
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        field.label_from_instance = lambda person: person.name_with_roles
        return field


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept as evidence (who downloaded what, who deleted what):
    listed and read, never added, changed or deleted in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(EditInline, admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["authority"]
    fields = ["role", "region", "authority"]


class UserCreationForm(forms.ModelForm):
    """A new person, with no password: they choose one through the link of
    their invitation (authorities/invitations.py), sent now or later."""

    send_invitation = forms.BooleanField(
        label="Send an invitation now",
        required=False,
        initial=True,
        help_text=(
            "E-mails them a link to choose their password, which works once, for "
            f"{settings.INVITATION_DAYS} days. They cannot sign in until they use it. "
            "Untick to invite them later: “Send an invitation” on the list of people."
        ),
    )

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]

    def clean_email(self):
        # One spelling per address (User.save), so that the unique check
        # finds "Sam@…" when "sam@…" exists.
        return self.cleaned_data["email"].lower()

    def save(self, commit=True):
        person = super().save(commit=False)
        person.set_unusable_password()
        if commit:
            person.save()
            self.save_m2m()
        return person


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(EditAdmin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    inlines = [MembershipInline]
    actions = ["send_invitations"]
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "memberships__role"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        (
            "Access",
            {
                "fields": ["is_active", "is_staff", "is_superuser"],
                "description": (
                    "Staff status lets a national officer use this admin; nobody "
                    "else can, whatever the box says. Untick Active to stop "
                    "someone signing in without losing their record."
                ),
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "send_invitation",
                ],
            },
        )
    ]

    # The autocomplete's search results (config/admin.py AutocompleteView),
    # labelled as the chosen person is (PersonChoices).
    def autocomplete_queryset(self, people):
        return people.with_memberships()

    def autocomplete_label(self, person):
        return person.name_with_roles

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            # allauth signs in and sends reset links to any address it holds
            # for a person: the old one must go with the change.
            EmailAddress.objects.filter(user=obj).exclude(email__iexact=obj.email).delete()
        if not change and form.cleaned_data.get("send_invitation"):
            self._invite(request, obj)

    @admin.action(description="Send an invitation", permissions=["change"])
    def send_invitations(self, request, queryset):
        """Invite the chosen people who have never signed in; a new
        invitation makes any earlier link stop working. Someone who has
        signed in has a password: they use "Forgotten your password?"."""
        for person in queryset.order_by("email"):
            if not person.is_active:
                self.message_user(
                    request,
                    f"{person.email} is not active: tick Active first to invite them.",
                    messages.WARNING,
                )
            elif person.last_login is not None:
                self.message_user(
                    request,
                    f"{person.email} has signed in before, so was not invited: they can "
                    "reset their password with “Forgotten your password?” on the sign-in page.",
                    messages.WARNING,
                )
            else:
                self._invite(request, person)

    def _invite(self, request, person):
        invitation = send_invitation(person=person, invited_by=request.user)
        audit.record(audit.Kind.INVITATION, request=request, subject=invitation.person)
        days = settings.INVITATION_DAYS
        self.message_user(
            request,
            f"Invitation to {invitation.person.email} queued: it is sent within a minute, "
            f"and its link works once, for {days} days.",
            messages.SUCCESS,
        )


class AuthorityAliasInline(EditInline, admin.TabularInline):
    model = AuthorityAlias
    extra = 1


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(EditAdmin):
    list_display = ["name", "la_code", "gss_code", "region"]
    list_filter = ["region"]
    search_fields = ["name", "la_code", "gss_code", "aliases__name"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["region"]
    inlines = [AuthorityAliasInline]


@admin.register(Region)
class RegionAdmin(EditAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(PersonChoices, EditAdmin):
    list_display = ["user", "role", "region", "authority"]
    list_filter = ["role", "region"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "authority__name"]
    list_select_related = ["user", "region", "authority"]
    autocomplete_fields = ["user", "authority"]


@admin.register(AuthorityFinance)
class AuthorityFinanceAdmin(EditAdmin):
    list_display = [
        "authority",
        "year",
        "dsg_cumulative_deficit",
        "high_needs_block_allocation",
        "schools_block_transfer",
        "ehcp_count",
        "updated_by",
        "updated_at",
    ]
    list_filter = ["financial_year"]
    search_fields = ["authority__name"]
    list_select_related = ["authority", "updated_by"]
    autocomplete_fields = ["authority"]
    readonly_fields = ["updated_by", "updated_at"]

    @admin.display(description="Financial year", ordering="financial_year")
    def year(self, finance):
        return finance.financial_year_label

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class CoveringAdmin(EditAdmin):
    """A MAT or a branch: corrected here by national officers; recorded
    and changed by organisers on its own pages."""

    list_display = ["name", "updated_by", "updated_at"]
    search_fields = ["name", "authorities__name"]
    list_select_related = ["updated_by"]
    autocomplete_fields = ["authorities"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(MultiAcademyTrust)
class MultiAcademyTrustAdmin(CoveringAdmin):
    list_display = ["name", "mainstream_schools", "special_schools", "updated_at"]


@admin.register(Branch)
class BranchAdmin(CoveringAdmin):
    pass


@admin.register(AuthorityFinance.history.model)
class AuthorityFinanceHistoryAdmin(ReadOnlyAdmin):
    """Every version of every year's figures, deleted years included, with
    who changed or deleted them and why: read only, so it can be trusted."""

    list_display = [
        "authority",
        "financial_year",
        "history_type",
        "history_user",
        "history_date",
        "history_change_reason",
    ]
    list_filter = ["history_type", "financial_year"]
    search_fields = ["authority__name", "history_change_reason"]
    list_select_related = ["authority", "history_user"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """What the audit trail records itself (sign-ins, password and two-factor
    changes, invitations, briefing packs opened, withdrawals, erasures): read
    only. The whole trail, exports and history included, is at /audit/."""

    list_display = ["at", "kind", "actor_email", "subject_email", "ip_address", "detail"]
    list_filter = ["kind"]
    search_fields = ["actor_email", "subject_email", "ip_address", "detail"]
    date_hierarchy = "at"


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    """Each person's second steps to sign in (authorities/mfa.py), for the
    day someone loses their phone and their recovery codes: a national
    officer removes the lost one, and the person sets up a new one at their
    next sign-in. Never added or changed here, and the secrets never shown."""

    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Removed as the person's own pages remove one (authorities/mfa.py), so
    # that the audit trail records it and the person's sessions end.
    def delete_model(self, request, obj):
        remove_authenticators([obj], request=request)

    def delete_queryset(self, request, queryset):
        remove_authenticators(queryset.select_related("user"), request=request)
