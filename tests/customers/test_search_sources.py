"""Customers and contacts in the global search: what they are found by, within the scope, and
the SQLite trigram table that keeps "name contains" fast."""

import pytest
from django.db import connection

from tuoke.core.search import search, sources_for
from tuoke.customers import search_index, services
from tuoke.customers.models import Collaborator, Customer
from tuoke.org.defaults import ensure_default_roles


def _check(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(code, weights, strict=True))
    return code + alphabet[(31 - total % 31) % 31]


CODE = _check("91440300MA5DC1234")


@pytest.fixture
def world(people):
    ensure_default_roles()
    rep_east, rep_south = people["rep_east1"], people["rep_south1"]
    tengda = services.create_customer(
        by=rep_east,
        legal_name="深圳市腾达精密科技有限公司",
        short_name="腾达精密",
        credit_code=CODE,
        contacts=[
            {
                "name": "王强",
                "mobile": "138 0013 8000",
                "phone": "0755-86001234",
                "email": "wangqiang@tengda.cn",
                "title": "采购经理",
            }
        ],
    )
    huaxin = services.create_customer(
        by=rep_south,
        legal_name="广州华信电子材料有限公司",
        short_name="华信电子",
        contacts=[{"name": "黄丽", "mobile": "139 2000 1234", "email": "huangli@huaxin.com"}],
    )
    return {**people, "tengda": tengda, "huaxin": huaxin}


def _titles(user, q, kind):
    groups = {g.source.key: g for g in search(user, q, 10)}
    return [h.title for h in groups[kind].hits] if kind in groups else []


@pytest.mark.parametrize(
    "q",
    [
        "腾达",  # start of the trade name
        "深圳腾达",  # with the region, as people say it
        "深圳市腾达精密科技有限公司",  # the whole legal name
        "腾达精密",  # the short name
        "精密科技",  # a part in the middle (three characters or more)
        "tdjm",  # pinyin initials
        "TDJM",
        "tengda",  # full pinyin
        CODE,
        CODE.lower(),
    ],
)
def test_it_finds_a_customer_by_what_reps_type(world, q):
    assert _titles(world["boss"], q, "customers") == ["腾达精密"]


def test_it_does_not_find_by_unrelated_or_too_short_middle_parts(world):
    assert _titles(world["boss"], "密科", "customers") == []  # two characters: starts only
    assert _titles(world["boss"], "有限公司", "customers") == []  # only the legal form
    assert _titles(world["boss"], "腾讯", "customers") == []
    # Contacts: a surname alone, four digits of a phone, three letters of an address.
    assert _titles(world["boss"], "王", "contacts") == []
    assert _titles(world["boss"], "1380", "contacts") == []
    assert _titles(world["boss"], "wan", "contacts") == []


@pytest.mark.parametrize(
    "q",
    ["王强", "13800138000", "138 0013 8000", "+86 138 0013", "1380013", "0755-8600", "wangqiang"],
)
def test_it_finds_a_contact_by_name_phone_or_email(world, q):
    assert _titles(world["boss"], q, "contacts") == ["王强"]


def test_a_contact_hit_names_its_customer_and_opens_the_customer_page(world):
    group = next(g for g in search(world["boss"], "王强") if g.source.key == "contacts")
    hit = group.hits[0]
    assert "腾达精密" in hit.detail and "采购经理" in hit.detail
    assert (
        hit.url == f"/customers/{world['tengda'].pk}/#contact-{world['tengda'].contacts.get().pk}"
    )


def test_a_customer_hit_shows_its_owner_and_opens_its_page(world):
    group = next(g for g in search(world["boss"], "腾达") if g.source.key == "customers")
    assert "张伟" in group.hits[0].detail
    assert group.hits[0].url == f"/customers/{world['tengda'].pk}/"


def test_a_rep_finds_only_what_his_scope_reaches(world):
    rep_east = world["rep_east1"]
    assert _titles(rep_east, "腾达", "customers") == ["腾达精密"]
    assert _titles(rep_east, "华信", "customers") == []
    assert _titles(rep_east, "黄丽", "contacts") == []
    assert _titles(rep_east, "13920001234", "contacts") == []
    # The same search by the owner of 华信, and by the boss, finds it.
    assert _titles(world["rep_south1"], "华信", "customers") == ["华信电子"]
    assert _titles(world["boss"], "黄丽", "contacts") == ["黄丽"]


def test_a_collaborator_finds_the_customer_shared_with_him(world):
    services.set_collaborator(
        world["huaxin"], user=world["rep_east1"], access=Collaborator.Access.READ, by=None
    )
    assert _titles(world["rep_east1"], "华信", "customers") == ["华信电子"]
    assert _titles(world["rep_east1"], "黄丽", "contacts") == ["黄丽"]


def test_deleted_customers_are_not_found(world):
    services.delete_customer(world["tengda"], by=world["rep_east1"])
    assert _titles(world["boss"], "腾达", "customers") == []
    assert _titles(world["boss"], "精密科技", "customers") == []


def test_the_best_match_comes_first_and_the_rest_is_counted_as_more(world):
    rep = world["rep_east1"]
    for name in ("腾达物流", "腾达精密机械", "腾达电子"):
        services.create_customer(by=rep, short_name=name, allow_similar=True)
    groups = {g.source.key: g for g in search(world["boss"], "腾达精密", 1)}
    assert groups["customers"].hits[0].title == "腾达精密"
    assert groups["customers"].more
    titles = _titles(world["boss"], "腾达", "customers")
    assert len(titles) == 4


def test_one_query_per_source_whatever_the_hits(world, django_assert_max_num_queries):
    rep = world["rep_east1"]
    for n in range(12):
        services.create_customer(
            by=rep,
            short_name=f"腾达{n}号",
            contacts=[{"name": f"腾达联系人{n}"}],
            allow_similar=True,
        )
    boss = world["boss"]
    search(boss, "腾达", 10)  # grants cached on the user
    # One query per source (customers, contacts, and those of other apps): the candidates
    # are picked in a subquery.
    with django_assert_max_num_queries(len(sources_for(boss))):
        groups = search(boss, "腾达", 10)
    assert [len(g.hits) for g in groups if g.source.key == "customers"] == [10]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 trigram table")
def test_the_trigram_table_follows_inserts_renames_and_purges(world):
    boss = world["boss"]
    customer = services.create_customer(
        by=world["rep_east1"], legal_name="杭州恒远包装制品有限公司"
    )
    assert _titles(boss, "包装制品", "customers") == ["杭州恒远包装制品有限公司"]
    services.update_customer(customer, by=boss, legal_name="杭州恒远印刷有限公司")
    assert _titles(boss, "包装制品", "customers") == []
    assert _titles(boss, "远印刷", "customers") == ["杭州恒远印刷有限公司"]
    Customer.all_objects.filter(pk=customer.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {search_index.TABLE} WHERE {search_index.TABLE} MATCH '远印刷'"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 trigram table")
def test_lost_triggers_come_back_after_migrate_with_the_rows_written_meanwhile(world):
    # A migration that copies the customers table drops its triggers.
    with connection.cursor() as cursor:
        for kind in ("insert", "update", "delete"):
            cursor.execute(f"DROP TRIGGER {search_index.TABLE}_{kind}")
    services.create_customer(by=world["rep_east1"], legal_name="苏州博创自动化设备有限公司")
    assert _titles(world["boss"], "自动化设备", "customers") == []
    search_index.on_post_migrate(using="default")
    assert _titles(world["boss"], "自动化设备", "customers") == ["苏州博创自动化设备有限公司"]
    assert not search_index.ensure_sqlite_index(connection)  # nothing left to do
