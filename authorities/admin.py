# Imported for what it does: it registers allauth's addresses, taken off below.
import allauth.account.admin  # noqa: F401
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group

from .edits import EditAdmin, EditInline
from .models import (
    AuthorityAlias,
    AuthorityFinance,
    DashboardExport,
    LocalAuthority,
    Membership,
    Region,
    User,
)

# Off the admin's index, as nobody uses them: what people may do comes from
# their memberships, not groups; and a login address is changed on the
# person's own page (UserAdmin.save_model clears allauth's old addresses).
admin.site.unregister(Group)
admin.site.unregister(EmailAddress)


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


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(EditAdmin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    inlines = [MembershipInline]
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
                    "usable_password",
                    "password1",
                    "password2",
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


@admin.register(DashboardExport)
class DashboardExportAdmin(ReadOnlyAdmin):
    """The record of overview downloads: read only, so it can be trusted."""

    list_display = ["exported_by_email", "exported_at", "format", "description", "row_count"]
    list_filter = ["format", "small_numbers_withheld"]
    search_fields = ["exported_by_email", "description"]
