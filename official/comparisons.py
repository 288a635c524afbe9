"""Each authority's latest official figure for a measure beside England's,
for the pages that list many authorities (the overview, its filters and
the map in dashboards).

"Latest" is the newest period England has a figure for in the release: the
year the latest release describes. An authority with no figure that year,
or the release's symbol instead of one ("suppressed", "not available"), is
not known: it is never compared as 0, and no filter or colour counts it as
better or worse than England. "Rising" compares the authority's figure with
its own the period before (the period before England's latest).

Read for every authority at once: `compare()` is one query, and the filter
expressions are subqueries of the authorities' own query.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Subquery

from .models import Figure, Level, Status, period_label
from .presenters import Cell

# The measures the overview and the map compare (SEN2 releases' column names).
WITHIN_20_WEEKS = "pc_plans_issued_within_20_weeks"
REFUSED = "request_not_assess_pc"

# How an authority's figure stands against England's.
BELOW, SAME, ABOVE = "below", "same", "above"


def _national_periods(measure):
    """The periods England has a figure for, newest first (a subquery)."""
    return (
        Figure.objects.filter(level=Level.NATIONAL, measure=measure, value__isnull=False)
        .order_by("-period")
        .values("period")
    )


@dataclass(frozen=True)
class Comparison:
    """One authority's latest figure for one measure, with England's and its
    own the period before. `period` is "" when the release gives England no
    figure at all (nothing loaded)."""

    period: str = ""
    period_type: str = ""
    value: Decimal | None = None
    status: str = Status.NOT_AVAILABLE  # why there is no value
    england: Decimal | None = None
    previous_period: str = ""
    previous: Decimal | None = None
    previous_status: str = Status.NOT_AVAILABLE

    @property
    def known(self):
        return self.value is not None

    @property
    def year(self):
        """The period as the release labels it ("2024")."""
        return period_label(self.period, self.period_type) if self.period else ""

    @property
    def previous_year(self):
        return period_label(self.previous_period, self.period_type) if self.previous_period else ""

    @property
    def text(self):
        """ "38.2%", or the release's word for why there is no figure."""
        return Cell(self.value, "" if self.known else self.status).text

    @property
    def england_text(self):
        return Cell(self.england).text if self.england is not None else ""

    @property
    def previous_text(self):
        return Cell(self.previous, "" if self.previous is not None else self.previous_status).text

    @property
    def against_england(self):
        """BELOW, SAME or ABOVE; None when either figure is not known."""
        if self.value is None or self.england is None:
            return None
        if self.value < self.england:
            return BELOW
        return ABOVE if self.value > self.england else SAME

    @property
    def rising(self):
        """Whether it is higher than the period before; None when either
        year's figure is not known."""
        if self.value is None or self.previous is None:
            return None
        return self.value > self.previous


NOTHING_LOADED = Comparison()


def compare(measures, authorities):
    """{measure: {authority id: Comparison}} for `authorities` (a list of
    ids, or a queryset of authorities, read as a subquery), reading each
    measure's latest and previous periods only: one query. Given ids, every
    one is in the result, one with no row that year "not available"; given a
    queryset, those with a row. A measure England has no figure for maps no
    authority (read a missing one as `NOTHING_LOADED`)."""
    periods = Q()
    for measure in measures:
        periods |= Q(measure=measure, period__in=Subquery(_national_periods(measure)[:2]))
    rows = (
        Figure.objects.filter(periods)
        .filter(Q(level=Level.NATIONAL) | Q(authority__in=authorities))
        .order_by()
        .values_list(
            "measure", "level", "authority_id", "period", "period_type", "value", "status"
        )
    )
    england = {}  # measure → [(period, period type, value)], newest first
    found = {}  # (measure, authority id) → {period: (value, status)}
    for measure, level, authority_id, period, kind, value, status in rows:
        if level == Level.NATIONAL:
            if value is not None:
                england.setdefault(measure, []).append((period, kind, value))
        else:
            found.setdefault((measure, authority_id), {})[period] = (value, status)
    result = {}
    for measure in measures:
        national = sorted(england.get(measure, []), reverse=True)
        by_authority = result[measure] = {}
        if not national:
            continue
        latest, kind, england_value = national[0]
        before = national[1][0] if len(national) > 1 else ""
        listed = isinstance(authorities, list | tuple | set)
        found_here = {place for (of, place) in found if of == measure}
        for authority_id in authorities if listed else found_here:
            years = found.get((measure, authority_id), {})
            value, status = years.get(latest, (None, Status.NOT_AVAILABLE))
            previous, previous_status = years.get(before, (None, Status.NOT_AVAILABLE))
            by_authority[authority_id] = Comparison(
                period=latest,
                period_type=kind,
                value=value,
                status=status or Status.NOT_AVAILABLE,
                england=england_value,
                previous_period=before,
                previous=previous,
                previous_status=previous_status or Status.NOT_AVAILABLE,
            )
    return result


# Filters: expressions on LocalAuthority querysets ----------------------------------


def _latest_of(measure, offset=0):
    return Subquery(_national_periods(measure)[offset : offset + 1])


def _england_latest(measure):
    return Subquery(
        Figure.objects.filter(level=Level.NATIONAL, measure=measure, period=_latest_of(measure))
        .order_by()
        .values("value")[:1]
    )


def below_england(measure):
    """An expression for `LocalAuthority.objects.filter()`: the authority's
    latest figure is known and below England's (`Comparison.against_england`
    is BELOW)."""
    return Exists(
        Figure.objects.filter(
            authority=OuterRef("pk"),
            measure=measure,
            period=_latest_of(measure),
            value__lt=_england_latest(measure),
        )
    )


def above_england_and_rising(measure):
    """An expression for `LocalAuthority.objects.filter()`: the authority's
    latest figure is known, above England's and above its own the period
    before (`against_england` is ABOVE and `rising`)."""
    previous = Figure.objects.filter(
        authority=OuterRef(OuterRef("pk")), measure=measure, period=_latest_of(measure, 1)
    )
    previous = previous.order_by().values("value")[:1]
    return Exists(
        Figure.objects.filter(
            authority=OuterRef("pk"),
            measure=measure,
            period=_latest_of(measure),
            value__gt=_england_latest(measure),
        ).filter(value__gt=Subquery(previous))
    )
