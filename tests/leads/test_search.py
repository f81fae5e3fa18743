"""Leads in the global search: by name start, pinyin, phone as typed, e-mail and credit code,
within the data scope."""

import pytest

from tests.customers.test_services import CODE
from tuoke.core import search as core_search

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
    ["腾达", "深圳腾达精密", "tdjm", "tengda", "王强", "138 0013", CODE, "wangqiang@"],
)
def test_it_finds_a_lead_by_what_people_type(people, leads, q):
    assert _titles(people["rep_east1"], q) == ["腾达精密"]


def test_it_keeps_to_the_scope(people, leads, marketing):
    assert _titles(people["rep_east1"], "白云") == []
    assert _titles(marketing, "白云") == ["广州白云机电有限公司"]
    assert _titles(people["finance1"], "腾达") == []
