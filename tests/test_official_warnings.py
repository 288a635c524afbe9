"""The early warning from official figures: the latest release shows an
authority worse than England and worse than its own previous year (fewer
EHC plans issued within 20 weeks, more requests refused an assessment)."""

import datetime

import pytest
from django.utils import timezone

from authorities.models import LocalAuthority
from dashboards.warnings import KINDS, Kind, early_warnings, warning_summary
from official.models import Figure, Status

from .factories import CAMDEN, KENT, MANCHESTER, authority
from .test_official_evidence import REFUSALS, TWENTY_WEEKS, figures, release

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def official_worse_at(authorities, published=TODAY - 5 * DAY):
    """An official warning at each of `authorities` (LocalAuthority rows):
    its refusal rate above England's in 2024 and up from 2023."""
    source = release(published=published, title=f"Requests, published {published}")
    worse = {la.la_code: "40" for la in authorities}
    better = {la.la_code: "20" for la in authorities}
    figures(REFUSALS, "2024", england="25", values=worse, source=source)
    figures(REFUSALS, "2023", england="24", values=better, source=source)
    return source


def official(user, **options):
    return [w for w in early_warnings(user, **options) if w.kind == Kind.OFFICIAL_WORSE]


def test_worse_than_england_and_than_last_year_warns(national_officer, reference_data):
    source = release(published=TODAY - 3 * DAY)
    figures(
        TWENTY_WEEKS,
        "2024",
        england="46.4",
        values={CAMDEN: "30.1", KENT: "40", MANCHESTER: "60"},
        source=source,
    )
    figures(
        TWENTY_WEEKS,
        "2023",
        england="50.3",
        # Kent: below England, but better than last year. Manchester:
        # worse than last year, but above England.
        values={CAMDEN: "35.5", KENT: "30", MANCHESTER: "70"},
        source=source,
    )
    [warning] = official(national_officer)
    assert warning.authority.name == "Camden"
    assert warning.reason == (
        "EHC plans issued within 20 weeks: 30.1% in 2024, below England (46.4%) and down "
        "from 35.5% in 2023 (Department for Education, "
        "Education, health and care plans, reporting year 2025)"
    )
    assert warning.url == "/authorities/camden/#official-20-weeks"
    assert warning.on == TODAY - 3 * DAY
    assert warning.subject.authority_id == authority(CAMDEN).pk


def test_refusals_warn_when_higher(national_officer, reference_data):
    official_worse_at([authority(CAMDEN)])
    [warning] = official(national_officer)
    assert warning.reason.startswith(
        "Requests for an assessment refused: 40% in 2024, above England (25%) and up from "
        "20% in 2023"
    )
    assert warning.url == "/authorities/camden/#official-refusals"


def test_only_the_latest_year_counts(national_officer, reference_data):
    source = release(published=TODAY)
    # 2023 was worse than England and than 2022; 2024 is better again.
    figures(REFUSALS, "2024", england="25", values={CAMDEN: "10"}, source=source)
    figures(REFUSALS, "2023", england="24", values={CAMDEN: "30"}, source=source)
    figures(REFUSALS, "2022", england="24", values={CAMDEN: "20"}, source=source)
    assert official(national_officer) == []


@pytest.mark.parametrize(
    ("this_year", "last_year"), [(Status.SUPPRESSED, "20"), ("40", Status.NOT_AVAILABLE)]
)
def test_a_figure_withheld_warns_of_nothing(
    national_officer, reference_data, this_year, last_year
):
    source = release(published=TODAY)
    figures(REFUSALS, "2024", england="25", values={CAMDEN: this_year}, source=source)
    figures(REFUSALS, "2023", england="24", values={CAMDEN: last_year}, source=source)
    assert official(national_officer) == []


def test_only_authorities_in_scope(camden_lns, london_organiser, kent_lns, reference_data):
    official_worse_at([authority(CAMDEN), authority(KENT)])
    assert [w.authority.name for w in official(camden_lns)] == ["Camden"]
    assert [w.authority.name for w in official(london_organiser)] == ["Camden"]
    assert [w.authority.name for w in official(kent_lns)] == ["Kent"]


def test_since_is_the_day_the_release_was_published(national_officer, reference_data):
    official_worse_at([authority(CAMDEN)], published=TODAY - 40 * DAY)
    assert len(official(national_officer)) == 1
    assert official(national_officer, since=TODAY - 30 * DAY) == []
    # A release whose date is not known warns with no date, listed last.
    Figure.objects.update(release=release(title="Undated", published=None))
    [warning] = official(national_officer)
    assert warning.on is None
    assert official(national_officer, since=TODAY - 30 * DAY) == []


def test_counted_on_summaries(national_officer, reference_data):
    official_worse_at([authority(CAMDEN), authority(KENT)])
    summary = warning_summary(national_officer, limit=10)
    assert summary.count == 2
    assert summary.per_authority == {authority(CAMDEN).pk: 1, authority(KENT).pk: 1}


@pytest.mark.parametrize("count", [1, 150])
def test_one_query_however_many_authorities(
    national_officer, reference_data, django_assert_num_queries, count
):
    official_worse_at(list(LocalAuthority.objects.order_by("name")[:count]))
    national_officer.has_national_scope  # noqa: B018 (asked once per request, as on a page)
    reader = next(reader for reader in KINDS if reader.kind == Kind.OFFICIAL_WORSE)
    with django_assert_num_queries(1):
        found = reader.warnings(national_officer, None, None, TODAY)
    assert len(found) == count
