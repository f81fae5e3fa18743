"""Pieces built from people, units, roles and tags are cached until one of them changes,
however it is written (tuoke.core.directory), and counts may be written through the owners' ids
(tuoke.core.models.owners_as_ids) without changing what they count."""

import pytest
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse

from tuoke.core import directory
from tuoke.core.models import owners_as_ids
from tuoke.core.services import create_record, update_record
from tuoke.core.views import paginate
from tuoke.customers.models import Customer, Tag
from tuoke.customers.services import create_customer
from tuoke.org.models import OrgUnit, User

pytestmark = pytest.mark.django_db


def test_a_piece_is_built_once_until_the_directory_changes(people):
    boss = people["boss"]
    built = []

    def build():
        built.append(1)
        return len(built)

    assert directory.cached_for(boss, "piece", build) == 1
    assert directory.cached_for(boss, "piece", build) == 1
    assert directory.cached_for(people["director"], "piece", build) == 2  # per user

    unit = OrgUnit.objects.first()
    update_record(unit, by=people["admin"], name=unit.name + "（新）")  # an UPDATE, no signal
    assert directory.cached_for(boss, "piece", build) == 3
    User.objects.filter(username="rep_east1").update(version=F("version") + 1)
    assert directory.cached_for(boss, "piece", build) == 4


def test_roles_and_tags_move_the_version_too(people):
    before = directory.version()
    people["rep_east1"].roles.clear()
    assert directory.version() != before
    before = directory.version()
    create_record(Tag, by=people["boss"], name="重点")
    assert directory.version() != before


def test_a_new_colleague_is_offered_in_the_owner_filter_at_once(people, login):
    client = login(people["manager_east"])
    url = reverse("customers:customer_list") + "?view=all"
    assert "新同事" not in client.get(url).content.decode()
    User.objects.create_user(
        username="newcomer", display_name="新同事", unit=people["rep_east1"].unit
    )
    page = client.get(url).content.decode()
    assert "新同事" in page


@pytest.mark.parametrize("username", ["rep_east1", "manager_east", "director", "boss"])
def test_a_count_through_the_owners_ids_counts_the_same_rows(people, username, settings):
    settings.LIST_COUNT_CAP = 3
    for index, owner in enumerate(
        ["rep_east1", "rep_east1", "rep_east2", "rep_south1", "manager_east", "rep_east1"]
    ):
        create_customer(by=people[owner], short_name=f"客户{index}")
    gone = create_customer(by=people["rep_east1"], short_name="已删除")
    Customer.objects.filter(pk=gone.pk).update(deleted_at="2026-01-01T00:00:00Z")
    user = people[username]
    expected = Customer.objects.visible_to(user).count()
    with owners_as_ids():
        counted = Customer.objects.visible_to(user)
    request = RequestFactory().get("/")
    page = paginate(request, Customer.objects.visible_to(user), counted=counted, count_cap=None)
    assert page.paginator.count == expected
    capped = paginate(request, Customer.objects.visible_to(user), counted=counted)
    assert capped.paginator.count == min(expected, 4)
    assert capped.paginator.capped == (expected > 3)


def test_the_fingerprint_reads_the_same_through_a_new_connection(people):
    """On PostgreSQL it is a statement prepared once per connection; a new connection
    prepares it again."""
    from django.db import connection

    first = directory.version()
    assert directory.version() == first
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'tuoke_%'")
            assert cursor.fetchone()[0] == 1
            cursor.execute("DEALLOCATE ALL")  # as a new connection would have none
        directory._prepared.clear()
    assert directory.version() == first
    Tag.objects.create(name="新标签")
    assert directory.version() != first
