"""API lists count at most LIST_COUNT_CAP rows: no exact COUNT(*) over a million customers."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tuoke.core import directory


def test_it_counts_exactly_below_the_cap(api_as, people, settings):
    settings.LIST_COUNT_CAP = 100
    body = api_as(people["boss"]).get("/users").json()
    assert body["count"] == 12
    assert body["count_capped"] is False


def test_it_stops_counting_at_the_cap_and_says_so(api_as, people, settings):
    settings.LIST_COUNT_CAP = 5
    api = api_as(people["boss"])
    body = api.get("/users", {"page_size": 3}).json()
    assert (body["count"], body["count_capped"]) == (5, True)
    assert len(body["items"]) == 3
    # Pages go on past the cap for those who page through.
    last = api.get("/users", {"page_size": 3, "page": 4}).json()
    assert [u["username"] for u in last["items"]]
    assert last["count_capped"] is True


def test_the_count_is_a_limited_subquery(api_as, people, settings):
    settings.LIST_COUNT_CAP = 7
    api = api_as(people["boss"])
    with CaptureQueriesContext(connection) as queries:
        api.get("/users")
    # The directory's fingerprint counts small tables too; the list's count is the other one.
    counts = [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"].upper() and q["sql"] != directory._fingerprint_sql()
    ]
    assert len(counts) == 1
    assert "LIMIT 8" in counts[0]


def test_the_openapi_document_explains_the_cap(api_as, people):
    schema = api_as(people["boss"]).get("/openapi.json").json()
    assert "count_capped" in schema["info"]["description"]
    paged = schema["components"]["schemas"]["PagedUserOut"]["properties"]
    assert "count_capped" in paged and "2,000" in paged["count"]["description"]
