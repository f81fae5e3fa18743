"""Tags put on and taken off many customers at once (tuoke.customers.bulk)."""

import pytest
from django.core.exceptions import ValidationError

from tuoke.core.audit import trail_of
from tuoke.core.services import create_record, soft_delete
from tuoke.customers import bulk
from tuoke.customers.models import Customer, Tag
from tuoke.customers.services import create_customer


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def key_account(rep):
    return create_record(Tag, by=rep, name="重点客户")


@pytest.fixture
def fair(rep):
    return create_record(Tag, by=rep, name="展会")


def _customers(owner, *names):
    return [create_customer(by=owner, short_name=name) for name in names]


def test_it_tags_only_the_customers_that_lack_the_tag_and_audits_each(rep, key_account, fair):
    tengda, huaxin, jinlong = _customers(rep, "腾达精密", "华信电子", "金龙机械")
    tengda.tags.set([fair, key_account])
    huaxin.tags.set([fair])
    assert bulk.add_tag([tengda, huaxin, jinlong], tag=key_account, by=rep) == 2
    assert set(Customer.objects.filter(tags=key_account)) == {tengda, huaxin, jinlong}
    change = trail_of(huaxin).first().changes[0]
    assert (change["field"], change["old"], change["new"]) == ("tags", "展会", "展会, 重点客户")
    assert trail_of(tengda).count() == 1  # only its creation: it had the tag already
    huaxin.refresh_from_db()
    assert huaxin.version == 2 and huaxin.updated_by == rep


def test_it_takes_a_tag_off_the_customers_that_have_it(rep, key_account):
    tengda, huaxin = _customers(rep, "腾达精密", "华信电子")
    tengda.tags.set([key_account])
    assert bulk.remove_tag([tengda, huaxin], tag=key_account, by=rep) == 1
    assert not Customer.objects.filter(tags=key_account).exists()
    assert trail_of(tengda).first().changes[0]["new"] == ""
    assert bulk.remove_tag([tengda, huaxin], tag=key_account, by=rep) == 0


def test_it_refuses_customers_the_user_may_not_change(rep, people, key_account):
    mine = _customers(rep, "腾达精密")
    theirs = _customers(people["rep_south1"], "南方客户")
    with pytest.raises(ValidationError) as caught:
        bulk.add_tag(mine + theirs, tag=key_account, by=rep)
    assert caught.value.error_dict["ids"][0].code == "forbidden"
    assert not Customer.objects.filter(tags=key_account).exists()


def test_it_refuses_an_empty_selection_and_a_deleted_tag(rep, key_account):
    with pytest.raises(ValidationError) as caught:
        bulk.add_tag([], tag=key_account, by=rep)
    assert caught.value.error_dict["ids"][0].code == "required"
    soft_delete(key_account, by=rep)
    with pytest.raises(ValidationError) as caught:
        bulk.add_tag(_customers(rep, "腾达精密"), tag=key_account, by=rep)
    assert "tag" in caught.value.error_dict


def test_it_tags_a_page_of_customers_in_a_bounded_number_of_queries(
    rep, key_account, django_assert_max_num_queries
):
    customers = _customers(rep, *(f"客户{i:02d}" for i in range(25)))
    # Fixed queries (one reads the customers shared with the user, one the directory's
    # fingerprint under which his grants are cached) plus one audit entry per customer.
    with django_assert_max_num_queries(10 + len(customers)):
        assert bulk.add_tag(customers, tag=key_account, by=rep) == 25
