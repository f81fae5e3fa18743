"""The follow-ups API: list with filters in constant queries, log, read, correct with a
version, delete; the kinds; scope."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.api.conftest import assert_error
from tuoke.activities import services
from tuoke.activities.models import FollowUp, Task

from . import records


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep, contacts=[{"name": "王强"}])


def test_it_logs_a_follow_up_with_its_consequences(rep, customer):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = records.api(rep).post(
        "/follow-ups",
        {
            "customer_id": customer.pk,
            "kind": "call",
            "content": "电话沟通报价",
            "result": "有意向",
            "next_step": "发送报价",
            "next_step_on": tomorrow.isoformat(),
            "contact_ids": [customer.contacts.get().pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "call" and body["customer"] == {"id": customer.pk, "name": "腾达精密"}
    assert body["owner"]["username"] == "rep_east1" and body["contacts"][0]["name"] == "王强"
    assert body["next_step_on"] == tomorrow.isoformat() and body["version"] == 1
    customer.refresh_from_db()
    assert customer.last_follow_up_at is not None
    assert Task.objects.get().title == "发送报价"


@pytest.mark.parametrize(
    "given,field,code",
    [
        ({"customer_id": None}, "customer_id", "required"),
        ({"kind": "telepathy"}, "kind", "invalid"),
        ({"content": ""}, "content", "required"),
        ({"happened_at": "2099-01-01T10:00:00+08:00"}, "happened_at", "in_future"),
    ],
)
def test_it_names_the_field_that_is_wrong(rep, customer, given, field, code):
    payload = {"customer_id": customer.pk, "kind": "call", "content": "电话", **given}
    assert_error(records.api(rep).post("/follow-ups", payload), 400, field, code)


def test_it_refuses_a_customer_or_contact_out_of_scope(people, rep, customer):
    south = records.south_customer(people)
    api = records.api(rep)
    payload = {"customer_id": south.pk, "kind": "call", "content": "x"}
    assert_error(api.post("/follow-ups", payload), 400, "customer_id")
    payload = {
        "customer_id": customer.pk,
        "kind": "call",
        "content": "x",
        "contact_ids": [south.contacts.get().pk],
    }
    assert_error(api.post("/follow-ups", payload), 400, "contact_ids")
    assert not FollowUp.objects.exists()


def test_it_lists_within_scope_with_filters_in_constant_queries(
    people, rep, customer, django_assert_max_num_queries
):
    for i in range(12):
        services.log_follow_up(
            by=rep,
            customer=customer,
            kind="call" if i % 2 else "wechat",
            content=f"跟进 {i}",
            happened_at=timezone.now() - timedelta(days=i),
            contacts=customer.contacts.all(),
        )
    records.south_follow_up(people)
    api = records.api(rep)
    with django_assert_max_num_queries(10):
        body = api.get("/follow-ups", {"page_size": 50}).json()
    assert body["count"] == 12 and body["items"][0]["content"] == "跟进 0"
    assert api.get("/follow-ups", {"kind": "wechat"}).json()["count"] == 6
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert api.get("/follow-ups", {"since": since}).json()["count"] == 3
    assert api.get("/follow-ups", {"customer": customer.pk}).json()["count"] == 12
    # The manager sees his rep's; the boss sees everyone's.
    assert records.api(people["manager_east"]).get("/follow-ups").json()["count"] == 12
    assert records.api(people["boss"]).get("/follow-ups").json()["count"] == 13


def test_since_and_until_are_days_in_the_company_time_zone(rep, customer):
    # 00:30 on 10 March in Shanghai is still 9 March in UTC.
    at = datetime(2026, 3, 10, 0, 30, tzinfo=timezone.get_default_timezone())
    with time_machine.travel(at + timedelta(hours=1), tick=False):
        services.log_follow_up(
            by=rep, customer=customer, kind="call", content="凌晨", happened_at=at
        )
    api = records.api(rep)

    def count(**days):
        return api.get("/follow-ups", days).json()["count"]

    assert count(since="2026-03-10") == 1 and count(until="2026-03-10") == 1
    assert count(since="2026-03-11") == 0 and count(until="2026-03-09") == 0
    # The first and last days there are leave that end open (no error).
    assert count(since="0001-01-01", until="9999-12-31") == 1


def test_it_corrects_a_follow_up_with_its_version(people, rep, customer):
    follow_up = services.log_follow_up(by=rep, customer=customer, kind="call", content="电话")
    api = records.api(rep)
    url = f"/follow-ups/{follow_up.pk}"
    assert_error(api.patch(url, {"content": "改"}), 400, "version", "required")
    response = api.patch(url, {"version": 1, "content": "改过", "kind": "wechat"})
    assert response.status_code == 200 and response.json()["kind"] == "wechat"
    assert_error(api.patch(url, {"version": 1, "content": "又改"}), 409, "version")
    # A colleague who sees it (a collaborator) may not change it.
    from tuoke.customers.services import set_collaborator

    set_collaborator(customer, user=people["rep_east2"], access="edit", by=rep)
    colleague = records.api(people["rep_east2"])
    assert colleague.get(url).status_code == 200
    assert_error(colleague.patch(url, {"version": 2, "content": "别人改"}), 403)


def test_it_deletes_a_follow_up(rep, customer):
    follow_up = services.log_follow_up(by=rep, customer=customer, kind="call", content="电话")
    api = records.api(rep)
    assert api.delete(f"/follow-ups/{follow_up.pk}").status_code == 204
    assert_error(api.get(f"/follow-ups/{follow_up.pk}"), 404)


def test_an_outsider_gets_404(people, rep):
    follow_up = records.south_follow_up(people)
    api = records.api(rep)
    assert_error(api.get(f"/follow-ups/{follow_up.pk}"), 404)
    assert_error(api.patch(f"/follow-ups/{follow_up.pk}", {"version": 1, "content": "x"}), 404)
    assert_error(api.delete(f"/follow-ups/{follow_up.pk}"), 404)
    assert api.get("/follow-ups").json()["count"] == 0


def test_it_lists_the_kinds_in_their_order(admin_user, rep):
    from tuoke.activities.models import FollowUpKind

    services.set_kind_active(FollowUpKind.objects.get(key="other"), by=admin_user, active=False)
    api = records.api(rep)
    keys = [k["key"] for k in api.get("/follow-up-kinds").json()]
    assert keys == ["call", "visit", "wechat", "email", "meeting"]
    everything = api.get("/follow-up-kinds", {"include_inactive": "true"}).json()
    assert [k["key"] for k in everything][-1] == "other" and not everything[-1]["active"]
