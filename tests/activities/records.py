"""Records the follow-up, visit and comment tests start from, and those rep_east1 (华东销售组,
sales rep) may not see, for the access matrix (tests/web/test_access_matrix.py); each made
once per test."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def customer(by, name: str = "腾达精密", **facts):
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer

    existing = Customer.objects.filter(short_name=name).first()
    return existing or create_customer(by=by, short_name=name, **facts)


def south_customer(people):
    """A customer of rep_south1 (华南销售组) with one contact."""
    return customer(people["rep_south1"], "南方活动客户", contacts=[{"name": "陈先生"}])


def south_follow_up(people):
    from tuoke.activities.models import FollowUp
    from tuoke.activities.services import log_follow_up

    existing = FollowUp.objects.filter(content="南方跟进").first()
    return existing or log_follow_up(
        by=people["rep_south1"], customer=south_customer(people), kind="call", content="南方跟进"
    )


def south_visit(people):
    from tuoke.activities.models import Visit
    from tuoke.activities.services import plan_visit

    existing = Visit.objects.filter(purpose="南方拜访").first()
    return existing or plan_visit(
        by=people["rep_south1"],
        customer=south_customer(people),
        planned_at=timezone.now() + timedelta(days=1),
        purpose="南方拜访",
    )


def south_comment(people):
    from tuoke.activities.models import Comment
    from tuoke.activities.services import add_comment

    existing = Comment.objects.filter(body="南方评论").first()
    return existing or add_comment(
        by=people["rep_south1"], customer=south_customer(people), body="南方评论"
    )


def a_kind(people):
    """Kinds are read by everyone; their pages are for administrators, so a rep gets 404."""
    from tuoke.activities.models import FollowUpKind

    return FollowUpKind.objects.get(key="other")


def api(user):
    """The JSON client of the API tests, logged in as ``user``."""
    from django.test import Client

    from tests.api.conftest import ApiClient

    client = Client()
    client.force_login(user)
    return ApiClient(client)
