"""The shape of the scoped customer queries, which decides whether a database finds a page of a
million customers in milliseconds: no subquery the planner must guess at, ties broken in the
sort's direction, the search answered by indexed conditions."""

import pytest
from django.db import connection

from tuoke.customers import models as customer_models
from tuoke.customers import queries, services
from tuoke.customers.models import Collaborator, Customer
from tuoke.customers.search import customer_condition
from tuoke.org.defaults import ensure_default_roles

API = "/api/v1/customers"


@pytest.fixture
def world(people):
    ensure_default_roles()
    rep, south = people["rep_east1"], people["rep_south1"]
    mine = [services.create_customer(by=rep, short_name=n) for n in ("腾达精密", "华信电子")]
    theirs = services.create_customer(by=south, short_name="南方机电")
    return {**people, "mine": mine, "theirs": theirs}


def _sql(queryset) -> str:
    return str(queryset.query)


def test_a_rep_without_shared_customers_is_scoped_by_owner_alone(world):
    rep = world["rep_east1"]
    visible = Customer.objects.visible_to(rep)
    assert "customers_collaborator" not in _sql(visible)
    assert set(visible) == set(world["mine"])


def test_shared_customers_are_written_in_as_ids(world):
    rep, theirs = world["rep_east1"], world["theirs"]
    services.set_collaborator(theirs, user=rep, access=Collaborator.Access.READ, by=None)
    visible = Customer.objects.visible_to(rep)
    assert "customers_collaborator" not in _sql(visible)
    assert theirs in visible
    assert theirs not in Customer.objects.visible_to(rep, "edit")


def test_many_shared_customers_fall_back_to_a_subquery(world, monkeypatch):
    rep, theirs = world["rep_east1"], world["theirs"]
    monkeypatch.setattr(customer_models, "SHARED_IDS_LIMIT", 0)
    services.set_collaborator(theirs, user=rep, access=Collaborator.Access.EDIT, by=None)
    visible = Customer.objects.visible_to(rep)
    assert "customers_collaborator" in _sql(visible)
    assert theirs in visible and theirs in Customer.objects.visible_to(rep, "edit")


def test_a_manager_reaches_his_unit_in_the_form_the_database_plans_well(world):
    manager = world["manager_east"]
    visible = Customer.objects.visible_to(manager)
    sql = _sql(visible)
    if connection.vendor == "postgresql":
        assert "org_orgunit" not in sql and "owner_id" in sql  # the members' ids
    else:
        assert "org_orgunit" in sql  # SQLite plans the join to the units better
    assert set(visible) == set(world["mine"])
    assert set(Customer.objects.visible_to(world["director"])) == {*world["mine"], world["theirs"]}


def test_the_search_filter_is_made_of_indexed_conditions_only(world):
    sql = _sql(Customer.objects.filter(customer_condition("达精密"))).upper().replace('"', "")
    assert "UPPER(" not in sql and "SHORT_NAME LIKE %" not in sql
    found = queries.search(Customer.objects.all(), "达精密")
    assert list(found) == [world["mine"][0]]
    assert list(queries.search(Customer.objects.all(), "  ")) == list(Customer.objects.all())


def test_the_search_gives_its_matches_as_ids_unless_there_are_too_many(world, monkeypatch):
    visible = Customer.objects.visible_to(world["boss"])
    by_id = '"customers_customer"."id" IN ('
    found = queries.search(visible, "腾达")
    assert by_id in _sql(found)  # the ids, fetched first
    monkeypatch.setattr(queries, "MATCHES_AS_IDS", 0)
    vague = queries.search(visible, "腾达")
    assert by_id not in _sql(vague)
    assert list(found) == list(vague) == [world["mine"][0]]


def test_the_api_breaks_ties_in_the_direction_of_the_sort(world, login):
    rep = world["rep_east1"]
    same = [services.create_customer(by=rep, short_name="同名", allow_similar=True)]
    same.append(services.create_customer(by=rep, legal_name="同名贸易有限公司", allow_similar=True))
    Customer.objects.filter(pk=same[1].pk).update(short_name="同名")
    client = login(rep)
    up = [c["id"] for c in client.get(API, {"sort": "short_name"}).json()["items"]]
    down = [c["id"] for c in client.get(API, {"sort": "-short_name"}).json()["items"]]
    ties = [pk for pk in up if pk in {c.pk for c in same}]
    assert ties == sorted(ties)
    assert [pk for pk in down if pk in ties] == sorted(ties, reverse=True)
