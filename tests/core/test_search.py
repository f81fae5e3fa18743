"""The global search registry and its pages: sources only reach within the user's data scope,
limits and "more", the results page and the top bar's quick results."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from tuoke.core import search as registry
from tuoke.core.search import Hit, Source, clean_query, prefix_q, search, sources_for
from tuoke.org.defaults import ensure_default_roles
from tuoke.org.models import OrgUnit, User


@pytest.fixture
def org(people):
    ensure_default_roles()
    return people


@pytest.fixture
def everything_source():
    """A careless source whose match returns every row: the registry must still scope it."""
    source = Source(
        key="test_units",
        label="Units (test)",
        model=OrgUnit,
        match=lambda queryset, q: queryset.order_by("path"),
        hit=lambda unit: Hit(title=unit.name),
        order=1,
    )
    registry.register(source)
    yield source
    registry._sources.pop(source.key)


def test_it_cleans_the_query():
    assert clean_query("  腾达   精密 ") == "腾达 精密"
    assert clean_query(None) == ""
    assert len(clean_query("x" * 500)) == registry.MAX_QUERY_LENGTH


def test_an_empty_query_finds_nothing_without_asking_the_database(org, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert search(org["boss"], "   ") == []


def test_a_source_reaches_only_within_the_scope_whatever_it_matches(org, everything_source):
    rep = org["rep_east1"]
    groups = search(rep, "x", 50, only="test_units")
    assert [h.title for h in groups[0].hits] == [rep.unit.name]
    boss_groups = search(org["boss"], "x", 50, only="test_units")
    assert len(boss_groups[0].hits) == OrgUnit.objects.count()


def test_sources_show_only_to_users_whose_roles_may_read_them(org):
    keys = {s.key for s in sources_for(org["rep_east1"])}
    assert {"customers", "contacts", "users", "units"} <= keys
    assert sources_for(AnonymousUser()) == []
    # A user without any role reads nothing.
    lonely = User.objects.create(username="lonely", unit=org["rep_east1"].unit)
    assert sources_for(lonely) == []
    assert search(lonely, "张") == []


def test_it_gives_at_most_the_limit_and_says_there_is_more(org, everything_source):
    groups = search(org["boss"], "x", 2, only="test_units")
    assert len(groups[0].hits) == 2
    assert groups[0].more
    groups = search(org["boss"], "x", 100, only="test_units")
    assert not groups[0].more


def test_prefix_conditions_match_starts_only(org):
    users = User.objects.filter(prefix_q("username", "rep_"))
    assert set(users.values_list("username", flat=True)) == {
        "rep_east1",
        "rep_east2",
        "rep_south1",
        "rep_south2",
    }
    assert not User.objects.filter(prefix_q("username", "ep_")).exists()
    units = OrgUnit.objects.filter(prefix_q("name", "华"))
    assert set(units.values_list("name", flat=True)) == {"华东销售组", "华南销售组"}
    assert OrgUnit.objects.filter(Q(prefix_q("name", "华东")) | Q(name="财务部")).count() == 2


# --- Pages --------------------------------------------------------------------------------------


def test_the_results_page_groups_hits_by_kind(login, org):
    from tuoke.customers.services import create_customer

    create_customer(by=org["rep_east1"], short_name="腾达精密", contacts=[{"name": "腾达飞"}])
    page = login(org["rep_east1"]).get("/search/", {"q": "腾达"}).content.decode()
    assert 'data-source="customers"' in page and "腾达精密" in page
    assert 'data-source="contacts"' in page and "腾达飞" in page


def test_the_results_page_shows_more_of_one_kind(login, org):
    boss = login(org["boss"])
    page = boss.get("/search/", {"q": "rep"}).content.decode()
    assert 'data-source="users"' in page
    one_kind = boss.get("/search/", {"q": "rep", "source": "users"}).content.decode()
    assert 'data-source="users"' in one_kind and 'data-source="units"' not in one_kind
    # An unknown kind is ignored: all kinds are searched.
    assert (
        'data-source="users"' in boss.get("/search/", {"q": "rep", "source": "x"}).content.decode()
    )


def test_the_results_page_says_when_nothing_is_found_and_escapes_the_query(login, org):
    page = login(org["rep_east1"]).get("/search/", {"q": "<b>nothing</b>"}).content.decode()
    assert "&lt;b&gt;nothing&lt;/b&gt;" in page
    assert "<b>nothing</b>" not in page
    assert "Try the start of the name" in page


def test_the_quick_results_are_a_fragment_with_a_link_to_all_results(login, org):
    response = login(org["boss"]).get("/search/quick/", {"q": "华南"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'data-testid="search-hit"' in body and "华南销售组" in body
    assert "/search/?q=%E5%8D%8E%E5%8D%97" in body
    assert login(org["boss"]).get("/search/quick/", {"q": ""}).content.decode().strip() == ""


def test_search_pages_need_a_login(client):
    for url in ("/search/?q=x", "/search/quick/?q=x"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_quick_results_cost_one_query_per_source(login, org, django_assert_max_num_queries):
    client = login(org["boss"])
    client.get("/search/quick/", {"q": "华"})
    # session + user + grants + one per source
    with django_assert_max_num_queries(3 + len(sources_for(org["boss"]))):
        client.get("/search/quick/", {"q": "华"})
