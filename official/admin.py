"""Official statistics in the admin: the releases loaded, with an upload
that shows what a file would change before it changes anything, and the
figures and inspections, read only (they change only by loading a file)."""

import datetime
import re
import secrets
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from authorities.admin import ReadOnlyAdmin

from .importing import load
from .models import OGL, Figure, Inspection, PendingUpload, Release
from .readers import BadFile, read

# An uploaded file waits between its preview and its confirmation as a
# PendingUpload, named by a random token the confirmation posts back.
TOKEN = re.compile(r"[0-9a-f]{32}")
MAX_UPLOAD = 50 * 1024 * 1024  # the full SEN2 caseload file is 6 MB
KEPT_FOR = datetime.timedelta(days=1)  # a preview nobody confirmed is dropped after a day


class UploadForm(forms.Form):
    file = forms.FileField(
        required=False,
        help_text="As published: an Explore Education Statistics CSV, the SEND Tribunal "
        "appeal rate table, the DSG balance file or an area SEND inspections file.",
    )
    title = forms.CharField(
        label="Release",
        max_length=200,
        help_text="The publication and its edition: "
        "“Education, health and care plans, reporting year 2026”.",
    )
    publisher = forms.CharField(
        max_length=200, required=False, help_text="Leave blank for the usual publisher."
    )
    published = forms.DateField(required=False, help_text="YYYY-MM-DD, if known.")
    source_url = forms.URLField(label="Source address", max_length=500, assume_scheme="https")
    licence = forms.CharField(max_length=100, initial=OGL)
    # Set on the preview: the file waiting to be confirmed.
    token = forms.CharField(required=False, widget=forms.HiddenInput)
    file_name = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        upload, token = cleaned.get("file"), cleaned.get("token")
        waiting = (
            PendingUpload.objects.filter(token=token).first()
            if token and TOKEN.fullmatch(token)
            else None
        )
        if token and waiting is None:
            # A hidden field: the error is the form's, shown above it.
            self.add_error(None, "The file to load has gone: upload it again.")
            return cleaned
        if upload is None and not token:
            self.add_error("file", "Choose a file to load.")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                self.add_error("file", "The file is larger than 50 MB.")
                return cleaned
            try:
                cleaned["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "The file is not UTF-8 text (a CSV saved as UTF-8).")
                return cleaned
            cleaned["file_name"] = Path(upload.name).name
        elif waiting is not None:
            cleaned["text"] = waiting.text
            cleaned["file_name"] = waiting.file_name
        if "text" in cleaned:
            try:
                cleaned["parsed"] = read(cleaned["file_name"], cleaned["text"])
            except BadFile as error:
                self.add_error("file", str(error))
        return cleaned

    def details(self):
        return {
            name: self.cleaned_data[name]
            for name in ("title", "publisher", "published", "source_url", "licence")
        }


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """Releases are added and corrected by loading their files (the
    upload): listed and read here, and deleted with their figures."""

    list_display = ["title", "file_name", "publisher", "published", "figure_count", "loaded_at"]
    search_fields = ["title", "file_name", "publisher"]
    fields = [
        "title",
        "file_name",
        "publisher",
        "published",
        "published_precision",
        "source_url",
        "licence",
        "loaded_at",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                figure_count=Count("figures", distinct=True) + Count("inspections", distinct=True)
            )
        )

    @admin.display(description="Figures", ordering="figure_count")
    def figure_count(self, release):
        return release.figure_count

    def has_add_permission(self, request):
        return False  # a release is added by loading its file (the upload)

    def has_change_permission(self, request, obj=None):
        return False

    def may_load(self, request):
        return request.user.has_perm("official.add_figure")

    def get_urls(self):
        upload = self.admin_site.admin_view(self.upload_view)
        return [path("upload/", upload, name="official_release_upload"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "upload_url": reverse("admin:official_release_upload"),
        }
        return super().changelist_view(request, extra_context)

    def upload_view(self, request):
        """Upload a file, see what it would change, then load it: the
        preview writes nothing; the confirmation loads the same file."""
        if not self.may_load(request):
            raise PermissionDenied
        form, report = UploadForm(), None
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                if "confirm" in request.POST and form.cleaned_data["token"]:
                    return self._confirm(request, form)
                report = self._preview(form)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Load official statistics",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/official/release/upload.html", context)

    def _preview(self, form):
        report = load(form.cleaned_data["parsed"], write=False, **form.details())
        token = form.cleaned_data["token"]
        if not token:
            token = secrets.token_hex(16)
            PendingUpload.objects.filter(uploaded_at__lt=timezone.now() - KEPT_FOR).delete()
            PendingUpload.objects.create(
                token=token,
                file_name=form.cleaned_data["file_name"][:200],
                text=form.cleaned_data["text"],
            )
        # The confirmation posts the same details back, with the file's token.
        form.data = form.data.copy()
        form.data["token"] = token
        form.data["file_name"] = form.cleaned_data["file_name"]
        return report

    def _confirm(self, request, form):
        token = form.cleaned_data["token"]
        report = load(form.cleaned_data["parsed"], write=True, **form.details())
        PendingUpload.objects.filter(token=token).delete()
        self.message_user(request, f"Loaded {report}", messages.SUCCESS)
        return redirect("admin:official_release_changelist")


@admin.register(Figure)
class FigureAdmin(ReadOnlyAdmin):
    list_display = ["area_name", "measure", "period", "value", "status", "authority", "release"]
    list_filter = ["level", "status", ("authority", admin.EmptyFieldListFilter), "release"]
    search_fields = ["area_name", "area_code", "measure"]
    list_select_related = ["authority", "release"]
    show_full_result_count = False


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["area_name", "framework", "started", "outcome", "action_required", "authority"]
    list_filter = ["framework", "action_required", ("authority", admin.EmptyFieldListFilter)]
    search_fields = ["area_name", "area_code"]
    list_select_related = ["authority"]
