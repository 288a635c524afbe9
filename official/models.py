"""Official statistics as published: where each figure comes from (a
`Release`: one file of one publication) and the figures themselves, keyed by
place, measure and period, each with its value or the symbol printed instead.

A figure the publisher did not give (`x`, `z`, `c`, `..`, `~` …) is stored as
no value with its `status`, never as 0. Rows the app cannot place on one of
its authorities (a predecessor such as Cumbria) are kept, with no authority,
so that they are reported and nothing is dropped silently.
"""

from django.db import models
from django.db.models import F, OuterRef, Q, Subquery

from authorities.access import in_scope
from authorities.models import LocalAuthority, Region

OGL = "Open Government Licence v3.0"


class DatePrecision(models.TextChoices):
    """How exact a date is, as the national timeline says it: a release
    known only as "published June 2025" is stored as 1 June 2025, "month"."""

    DAY = "day", "Day"
    MONTH = "month", "Month"


class Release(models.Model):
    """One published file: who published it, in which release, and where."""

    file_name = models.CharField(max_length=200)
    title = models.CharField(
        "release", max_length=200, help_text="The publication and its edition, as published."
    )
    publisher = models.CharField(max_length=200)
    published = models.DateField(
        null=True, blank=True, help_text="Empty when the source does not say."
    )
    published_precision = models.CharField(
        "how exact the date is",
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    source_url = models.URLField("source address", max_length=500)
    licence = models.CharField(max_length=100, default=OGL)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "file_name"]
        constraints = [
            models.UniqueConstraint(fields=["title", "file_name"], name="release_unique_file"),
        ]

    def __str__(self):
        return f"{self.title}: {self.file_name}"

    @property
    def published_label(self):
        """ "26 June 2025", "June 2025" (known to the month), or "" (not known)."""
        if self.published is None:
            return ""
        if self.published_precision == DatePrecision.MONTH:
            return f"{self.published:%B %Y}"
        return f"{self.published:%-d %B %Y}"


class Level(models.TextChoices):
    NATIONAL = "national", "England"
    REGIONAL = "regional", "Region"
    LOCAL_AUTHORITY = "local_authority", "Local authority"


class Status(models.TextChoices):
    """What a cell held instead of a number. KNOWN: it held one."""

    KNOWN = "", "Known"
    NOT_AVAILABLE = "not_available", "not available"
    NOT_APPLICABLE = "not_applicable", "not applicable"
    SUPPRESSED = "suppressed", "suppressed"
    LOW = "low", "fewer than 0.5 (rounds to 0)"
    LOW_RELIABILITY = "low_reliability", "low reliability"


class Period(models.TextChoices):
    CALENDAR = "calendar", "Calendar year"
    ACADEMIC = "academic", "Academic year"
    FINANCIAL = "financial", "Financial year"


def period_label(period, kind):
    """ "2024" (calendar), "202425" → "2024/25" (academic), "2024-25" (financial)."""
    if len(period) == 6 and period.isdigit():
        joiner = "-" if kind == Period.FINANCIAL else "/"
        return f"{period[:4]}{joiner}{period[4:]}"
    return period


# The measures an early warning watches, and which way is worse: fewer EHC
# plans issued within the statutory 20 weeks, more requests for an
# assessment refused (dashboards/warnings.py).
WORSE_WHEN = {
    "pc_plans_issued_within_20_weeks": "lower",
    "request_not_assess_pc": "higher",
}


class FigureQuerySet(models.QuerySet):
    def beside(self, authority, measures):
        """`authority`'s figures for `measures` with its region's and
        England's, for every period, with their releases: one query."""
        return (
            self.filter(measure__in=measures)
            .filter(
                Q(authority=authority)
                | Q(level=Level.REGIONAL, region_id=authority.region_id)
                | Q(level=Level.NATIONAL)
            )
            .select_related("release")
            .order_by()  # the presenter arranges them
        )

    def for_user(self, user):
        """The figures of the authorities in `user`'s scope (a region's
        and England's are published for all, and read through beside())."""
        return self.filter(in_scope(user, "authority"), authority__isnull=False)

    def worse_than_england_and_last_year(self):
        """Authorities' figures, in the latest year England has one for, of
        the measures WORSE_WHEN names, that are worse than England's that
        year and worse than the authority's own in England's year before
        (the overview's "latest" and "rising": official/comparisons.py); annotated
        `england`, `previous` and `previous_period`. One query. A figure
        the release withholds (suppressed, not available) on either side
        compares with nothing, so it warns of nothing."""
        # England's years with a figure, newest first: the latest and the
        # one before, as the overview reads them (official/comparisons.py).
        national = Figure.objects.filter(
            level=Level.NATIONAL, measure=OuterRef("measure"), value__isnull=False
        )
        years = national.order_by("-period").values("period")
        before = Figure.objects.filter(
            authority=OuterRef("authority"),
            measure=OuterRef("measure"),
            period=OuterRef("previous_period"),
        )
        # Each measure's latest year found once (not for every figure, as a
        # subquery correlated with the figure's measure would be), so only
        # that year's figures are read: the warnings' count of them
        # nationally 8 → 5.6 ms.
        in_latest_year = Q(pk__in=[])
        for measure in WORSE_WHEN:
            latest = Figure.objects.filter(
                level=Level.NATIONAL, measure=measure, value__isnull=False
            ).order_by("-period")[:1]
            latest = latest.values("period")
            in_latest_year |= Q(measure=measure, period=Subquery(latest))
        lower = [measure for measure, worse in WORSE_WHEN.items() if worse == "lower"]
        higher = [measure for measure, worse in WORSE_WHEN.items() if worse == "higher"]
        return (
            self.filter(in_latest_year, authority__isnull=False, value__isnull=False)
            .annotate(
                england=Subquery(national.filter(period=OuterRef("period")).values("value")[:1]),
                previous_period=Subquery(years[1:2]),
                previous=Subquery(before.values("value")[:1]),
            )
            .filter(
                Q(measure__in=lower, value__lt=F("england")) & Q(value__lt=F("previous"))
                | Q(measure__in=higher, value__gt=F("england")) & Q(value__gt=F("previous"))
            )
        )

    def unplaced(self):
        """Authority rows matched to none of the app's authorities."""
        return self.filter(level=Level.LOCAL_AUTHORITY, authority__isnull=True)


class Figure(models.Model):
    """One published number (or the symbol in its place) for one place,
    measure and period."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="figures")
    level = models.CharField(max_length=16, choices=Level.choices)
    # The code the release gives the place (the DfE LA code for an
    # authority, the ONS code for a region or England), or its name where
    # the release gives no code: with measure and period, what a figure is.
    area_code = models.CharField(max_length=100)
    area_name = models.CharField(max_length=200, help_text="As the release names the place.")
    authority = models.ForeignKey(
        LocalAuthority,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="official_figures",
        help_text="Empty for a region, England, or an authority the app does not know.",
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="official_figures",
        help_text="For a region's own figures.",
    )
    measure = models.CharField(max_length=100, help_text="The release's column name.")
    period = models.CharField(max_length=16, help_text="As published: 2024, 202425 …")
    period_type = models.CharField(max_length=16, choices=Period.choices)
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, blank=True)

    objects = FigureQuerySet.as_manager()

    class Meta:
        ordering = ["measure", "period", "level", "area_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "period", "level", "area_code"], name="figure_unique_cell"
            ),
            # A number, or a symbol saying why there is none: never both, never neither.
            models.CheckConstraint(
                condition=Q(status="", value__isnull=False)
                | (~Q(status="") & Q(value__isnull=True)),
                name="figure_value_or_status",
            ),
            models.CheckConstraint(
                condition=Q(level=Level.LOCAL_AUTHORITY) | Q(authority__isnull=True),
                name="figure_authority_only_on_authority_rows",
            ),
        ]
        indexes = [
            # FigureQuerySet.beside: an authority's rows, and England's and
            # the regions' (few beside the authorities').
            models.Index(fields=["authority", "measure"], name="figure_authority_measure"),
            models.Index(fields=["level", "measure"], name="figure_level_measure"),
        ]

    def __str__(self):
        return f"{self.measure}, {self.area_name}, {self.period_label}"

    @property
    def period_label(self):
        return period_label(self.period, self.period_type)


class Inspection(models.Model):
    """One Ofsted/CQC inspection of a local area's SEND services."""

    class Framework(models.TextChoices):
        FRAMEWORK_2016 = "2016", "2016 framework (to August 2022)"
        FRAMEWORK_2023 = "2023", "2023 framework"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="inspections")
    framework = models.CharField(max_length=4, choices=Framework.choices)
    area_code = models.CharField(max_length=100, help_text="The release's code, or its name.")
    area_name = models.CharField(max_length=200)
    authority = models.ForeignKey(
        LocalAuthority,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspections",
    )
    started = models.DateField()
    published = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    # A written statement of action (2016 framework) or a priority action
    # plan (2023): None when the release does not say.
    action_required = models.BooleanField(null=True)
    # Significant weaknesses (2016) or areas for priority action (2023);
    # None with no statement or plan, or when not published.
    action_areas = models.PositiveSmallIntegerField(null=True, blank=True)
    revisit_outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["area_name", "started"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "area_code", "started"], name="inspection_unique"
            ),
        ]

    def __str__(self):
        return f"{self.area_name}, {self.started:%B %Y}"

    @property
    def action_name(self):
        if self.framework == self.Framework.FRAMEWORK_2016:
            return "written statement of action"
        return "priority action plan"


class PendingUpload(models.Model):
    """A file uploaded in the admin, waiting between its preview and its
    confirmation (official/admin.py). Kept in the database, not on one
    server's disk, so that whichever server answers the confirmation finds
    it; dropped once loaded, or after a day."""

    token = models.CharField(max_length=32, unique=True)
    file_name = models.CharField(max_length=200)
    text = models.TextField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.file_name
