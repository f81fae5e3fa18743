"""Leads in the global search and the lead list's search: by name start, any part of the name
from three characters on, pinyin, phone as typed, e-mail and credit code, within the data
scope, each condition answered from an index."""

import pytest
from django.db import connection

from tests.customers.test_services import CODE
from tuoke.core import search as core_search
from tuoke.leads import queries, search_index, services
from tuoke.leads.models import Lead

from .conftest import make_lead


@pytest.fixture
def leads(people, marketing):
    return {
        "mine": make_lead(
            marketing,
            owner=people["rep_east1"],
            short_name="腾达精密",
            credit_code=CODE,
            contact_name="王强",
            mobile="13800138000",
            email="wangqiang@tengda.cn",
        ),
        "south": make_lead(
            marketing, owner=people["rep_south1"], company_name="广州白云机电有限公司"
        ),
    }


def _titles(user, q):
    groups = core_search.search(user, q, only="leads")
    return [hit.title for group in groups for hit in group.hits]


@pytest.mark.parametrize(
    "q",
    ["腾达", "深圳腾达精密", "tdjm", "tengda", "王强", "138 0013", CODE, "wangqiang@", "精密科技"],
)
def test_it_finds_a_lead_by_what_people_type(people, leads, q):
    assert _titles(people["rep_east1"], q) == ["腾达精密"]


def test_it_keeps_to_the_scope(people, leads, marketing):
    assert _titles(people["rep_east1"], "白云") == []
    assert _titles(marketing, "白云") == ["广州白云机电有限公司"]
    assert _titles(people["finance1"], "腾达") == []


# --- The lead list's search (queries.search): the same indexed conditions ----------------------


def _found(user, q) -> list[str]:
    return [lead.display_name for lead in queries.search(Lead.objects.visible_to(user), q)]


@pytest.mark.parametrize(
    "q",
    ["腾达", "深圳腾达精密", "tdjm", "tengda", "王强", "138 0013", "wangqiang@", CODE, "精密科技"],
)
def test_the_list_search_finds_what_the_global_search_finds(people, leads, q):
    assert _found(people["rep_east1"], q) == ["腾达精密"]


def test_a_part_in_the_middle_of_a_name_needs_three_characters(people, leads, marketing):
    assert _found(marketing, "白云机") == ["广州白云机电有限公司"]
    assert _found(marketing, "云机电") == ["广州白云机电有限公司"]
    assert _found(marketing, "云机") == []  # two characters: only the start of a name
    assert _titles(marketing, "云机电") == ["广州白云机电有限公司"]  # the global search too


def test_the_list_search_keeps_to_the_scope(people, leads, marketing):
    assert _found(people["rep_east1"], "白云机电") == []
    assert _found(people["rep_east1"], "云机电") == []
    assert _found(people["manager_east"], "云机电") == []
    assert _found(people["manager_south"], "云机电") == ["广州白云机电有限公司"]
    assert _found(people["rep_east1"], "  ") == ["腾达精密"]  # no search: the whole scope


def test_the_list_search_is_made_of_indexed_conditions_only(people, leads):
    found = queries.search(Lead.objects.all(), "精密科技")
    sql = str(found.query).upper().replace('"', "")
    assert "UPPER(" not in sql  # no case-folding scan (icontains)
    if connection.vendor == "sqlite":
        # prefixes as ranges of the indexes, "contains" from the trigram table
        assert " LIKE " not in sql and search_index.TABLE.upper() in sql


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 trigram table")
def test_the_trigram_table_follows_inserts_renames_and_purges(people, marketing):
    lead = make_lead(marketing, company_name="杭州恒远包装制品有限公司")
    assert _found(marketing, "包装制品") == ["杭州恒远包装制品有限公司"]
    services.update_lead(lead, by=marketing, company_name="杭州恒远印刷有限公司")
    assert _found(marketing, "包装制品") == []
    assert _found(marketing, "远印刷") == ["杭州恒远印刷有限公司"]
    Lead.all_objects.filter(pk=lead.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {search_index.TABLE} WHERE {search_index.TABLE} MATCH '远印刷'"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 trigram table")
def test_lost_triggers_come_back_after_migrate_with_the_rows_written_meanwhile(people, marketing):
    # A migration that copies the leads table drops its triggers.
    with connection.cursor() as cursor:
        for kind in ("insert", "update", "delete"):
            cursor.execute(f"DROP TRIGGER {search_index.TABLE}_{kind}")
    make_lead(marketing, company_name="苏州博创自动化设备有限公司")
    assert _found(marketing, "自动化设备") == []
    search_index.on_post_migrate(using="default")
    assert _found(marketing, "自动化设备") == ["苏州博创自动化设备有限公司"]
    assert not search_index.ensure_sqlite_index(connection)  # nothing left to do
