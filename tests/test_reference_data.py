"""load_reference_data: idempotent, counted, and all-or-nothing."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from authorities.models import AuthorityAlias, LocalAuthority, Region
from plans.models import Plan

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[1] / "authorities" / "data"


def load(**paths):
    out = StringIO()
    call_command("load_reference_data", stdout=out, **paths)
    return out.getvalue()


@pytest.fixture
def empty_db(reference_data):
    Plan.objects.all().delete()
    AuthorityAlias.objects.all().delete()
    LocalAuthority.objects.all().delete()
    Region.objects.all().delete()


@pytest.fixture
def csv_copy(tmp_path):
    """A copy of the real authorities file to spoil."""
    path = tmp_path / "local_authorities.csv"
    shutil.copy(DATA / "local_authorities.csv", path)
    return path


def test_first_load_creates_everything(empty_db):
    output = load()
    assert "Regions: 9 created, 0 updated, 0 unchanged." in output
    assert "Local authorities: 153 created, 0 updated, 0 unchanged." in output
    assert LocalAuthority.objects.count() == 153
    assert LocalAuthority.objects.filter(region__name="London").count() == 33
    assert LocalAuthority.objects.get(la_code="943").name == "Westmorland and Furness"


def test_second_load_changes_nothing(reference_data):
    output = load()
    assert "Local authorities: 0 created, 0 updated, 153 unchanged." in output
    assert "Regions: 0 created, 0 updated, 9 unchanged." in output
    assert "Aliases: 0 created, 0 updated, " in output


def test_a_changed_row_is_updated(reference_data, csv_copy):
    text = csv_copy.read_text().replace("202,E09000007,Camden,", "202,E09000007,Camden Town,")
    csv_copy.write_text(text)
    output = load(authorities=csv_copy)
    assert "Local authorities: 0 created, 1 updated, 152 unchanged." in output
    camden = LocalAuthority.objects.get(la_code="202")
    assert (camden.name, camden.slug) == ("Camden Town", "camden-town")


def test_the_shared_data_and_the_project_copy_agree():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "local_authorities.csv"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    assert shared.read_text() == (DATA / "local_authorities.csv").read_text()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "886,E10000016,Kent,",
            "88,E10000016,Kent,",
            "line 127: LA code '88' is not three digits",
        ),
        ("886,E10000016,Kent,", "886,X10000016,Kent,", "ONS/GSS code 'X10000016'"),
        (
            "886,E10000016,Kent,South East",
            "886,E10000016,Kent,Kentish Weald",
            "region 'Kentish Weald'",
        ),
        ("886,E10000016,Kent,", "202,E10000016,Kent,", "la_code '202' already appears on line 3"),
        ("886,E10000016,Kent,South East", "886,E10000016,Kent", "expected 4 columns, found 3"),
        ("la_code,gss_code,name,region", "code,gss,name,region", "line 1: the header must be"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line_and_nothing_changes(
    reference_data, csv_copy, old, new, message
):
    # Make a valid change near the top too: it must not be saved either.
    text = csv_copy.read_text().replace("Camden,", "Camden Borough,").replace(old, new)
    csv_copy.write_text(text)
    with pytest.raises(CommandError, match=message):
        load(authorities=csv_copy)
    assert LocalAuthority.objects.get(la_code="202").name == "Camden"
    assert LocalAuthority.objects.get(la_code="886").name == "Kent"


def test_a_load_that_fails_part_way_is_rolled_back(reference_data, csv_copy):
    # Swapping two codes passes the file checks but collides with the stored
    # rows half-way through: the earlier rows' updates must be undone.
    text = csv_copy.read_text()
    text = text.replace("202,E09000007,Camden,", "202,E10000016,Camden Borough,")
    text = text.replace("886,E10000016,Kent,", "886,E09000007,Kent,")
    csv_copy.write_text(text)
    with pytest.raises(CommandError, match="conflicts with what is stored"):
        load(authorities=csv_copy)
    assert LocalAuthority.objects.get(la_code="202").name == "Camden"


def test_a_bad_alias_file_is_refused_before_anything_is_written(empty_db, tmp_path):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("la_code,alias\n810,Hull\n999,Nowhere\n")
    with pytest.raises(CommandError, match="line 3: no authority has LA code '999'"):
        load(aliases=aliases)
    assert not LocalAuthority.objects.exists()


def test_a_missing_file_is_a_clear_error(reference_data, tmp_path):
    with pytest.raises(CommandError, match="cannot read the file"):
        load(authorities=tmp_path / "nope.csv")
