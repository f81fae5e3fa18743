"""The comments API: list by customer or lead, add with mentions, delete one's own; scope."""

import pytest

from tests.api.conftest import assert_error
from tuoke.activities import services

from . import records


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep)


def test_a_comment_mentions_and_notifies_a_colleague(people, rep, customer):
    from tuoke.core.models import Notification

    response = records.api(rep).post(
        "/comments", {"customer_id": customer.pk, "body": "@刘洋 明天一起去拜访"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [m["username"] for m in body["mentions"]] == ["rep_east2"]
    assert body["author"]["username"] == "rep_east1" and body["customer"]["id"] == customer.pk
    notification = Notification.objects.get(recipient=people["rep_east2"])
    assert notification.kind == "mention" and notification.actor == rep


def test_it_lists_comments_newest_first_in_constant_queries(
    rep, customer, django_assert_max_num_queries
):
    for i in range(8):
        services.add_comment(by=rep, customer=customer, body=f"第{i}条 @王经理")
    api = records.api(rep)
    with django_assert_max_num_queries(10):
        body = api.get("/comments", {"customer": customer.pk}).json()
    assert body["count"] == 8 and body["items"][0]["body"].startswith("第7条")
    assert_error(api.get("/comments"), 400, "customer", "required")


def test_only_the_author_deletes(people, rep, customer):
    comment = services.add_comment(by=rep, customer=customer, body="记一笔")
    assert_error(records.api(people["manager_east"]).delete(f"/comments/{comment.pk}"), 403)
    assert records.api(rep).delete(f"/comments/{comment.pk}").status_code == 204


def test_an_outsider_gets_404(people, rep):
    comment = records.south_comment(people)
    api = records.api(rep)
    assert_error(api.delete(f"/comments/{comment.pk}"), 404)
    south = records.south_customer(people)
    assert_error(api.get("/comments", {"customer": south.pk}), 404)
    assert_error(api.post("/comments", {"customer_id": south.pk, "body": "x"}), 400, "customer_id")
