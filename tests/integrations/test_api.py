"""The notifications API: only one's own notifications (another's is 404), the unread count,
marking read; delivery channels with write-only secrets and masked addresses; the log."""

import json

import pytest

from tests.api.conftest import assert_error
from tuoke.core.models import Notification
from tuoke.core.notifications import notify
from tuoke.integrations.models import Delivery, DeliveryChannel
from tuoke.integrations.services import create_channel

SECRET = "SECapi0123456789abcdef"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=6a1f-secret-key-9d2c"


@pytest.fixture
def inbox(rep_east, rep_east2, manager_east):
    """Three notifications for rep_east (one read), one for rep_east2."""
    made = [
        notify([rep_east], kind="mention", title=f"提到你 {i}", actor=manager_east, url="/x/")[0]
        for i in range(3)
    ]
    Notification.objects.filter(pk=made[0].pk).update(read_at=made[0].created_at)
    theirs = notify([rep_east2], kind="task", title="刘洋的任务")[0]
    return made, theirs


def test_it_lists_only_ones_own_notifications(
    api_as, rep_east, inbox, django_assert_max_num_queries
):
    made, theirs = inbox
    api = api_as(rep_east)
    with django_assert_max_num_queries(8):
        body = api.get("/notifications").json()
    assert body["count"] == 3
    assert [n["id"] for n in body["items"]] == [n.pk for n in reversed(made)]
    first = body["items"][0]
    assert first["actor"]["display_name"] == "王经理"
    assert first["unread"] is True and first["read_at"] is None
    assert set(first) == {
        "id",
        "kind",
        "title",
        "body",
        "url",
        "actor",
        "created_at",
        "read_at",
        "unread",
    }

    unread = api.get("/notifications", {"unread": "true"}).json()
    assert [n["id"] for n in unread["items"]] == [made[2].pk, made[1].pk]
    read = api.get("/notifications", {"unread": "false"}).json()
    assert [n["id"] for n in read["items"]] == [made[0].pk]
    assert theirs.pk not in [n["id"] for n in body["items"]]


def test_another_persons_notification_is_404(api_as, rep_east, inbox):
    _made, theirs = inbox
    api = api_as(rep_east)
    assert_error(api.get(f"/notifications/{theirs.pk}"), 404)
    assert_error(api.post(f"/notifications/{theirs.pk}/read"), 404)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_it_counts_and_marks_read(api_as, rep_east, rep_east2, inbox):
    made, _theirs = inbox
    api = api_as(rep_east)
    assert api.get("/notifications/unread-count").json() == {"count": 2}

    answer = api.post(f"/notifications/{made[1].pk}/read")
    assert answer.status_code == 200
    assert answer.json()["unread"] is False and answer.json()["read_at"]
    assert api.get("/notifications/unread-count").json() == {"count": 1}
    # Again is fine.
    assert api.post(f"/notifications/{made[1].pk}/read").status_code == 200

    assert api.post("/notifications/read-all").json() == {"marked": 1}
    assert api.get("/notifications/unread-count").json() == {"count": 0}
    assert api_as(rep_east2).get("/notifications/unread-count").json() == {"count": 1}


def test_it_refuses_anonymous_callers(anonymous_api):
    assert_error(anonymous_api.get("/notifications/unread-count"), 401)


# --- Channels ---------------------------------------------------------------------------------


def test_a_rep_adds_his_own_robots_and_never_reads_their_secrets_back(api_as, rep_east):
    api = api_as(rep_east)
    answer = api.post(
        "/delivery-channels",
        {"kind": "dingtalk", "name": "我的钉钉", "webhook_url": WECOM, "secret": SECRET},
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["user_id"] == rep_east.pk and body["unit"] is None
    assert body["has_secret"] is True
    assert body["webhook_url_masked"].endswith("…9d2c")
    raw = answer.content.decode()
    assert SECRET not in raw and "6a1f-secret-key" not in raw
    assert "secret" not in body and "webhook_url" not in body

    listed = api.get("/delivery-channels").json()
    assert [c["id"] for c in listed["items"]] == [body["id"]]
    assert SECRET not in json.dumps(listed)


def test_unit_robots_are_for_the_units_manager_and_administrators(
    api_as, people, rep_east, manager_east, admin_user
):
    east = manager_east.unit_id
    south = people["rep_south1"].unit_id
    robot = {"kind": "wecom", "webhook_url": WECOM, "name": "华东群"}

    assert_error(
        api_as(rep_east).post("/delivery-channels", {**robot, "unit_id": east}), 400, "unit_id"
    )
    assert_error(
        api_as(manager_east).post("/delivery-channels", {**robot, "unit_id": south}),
        400,
        "unit_id",
    )
    made = api_as(manager_east).post("/delivery-channels", {**robot, "unit_id": east})
    assert made.status_code == 201
    assert made.json()["unit"]["id"] == east
    assert (
        api_as(admin_user).post("/delivery-channels", {**robot, "unit_id": south}).status_code
        == 201
    )

    # The rep does not manage his unit's robot: not listed, 404 by id.
    assert api_as(rep_east).get("/delivery-channels").json()["count"] == 0
    assert_error(api_as(rep_east).get(f"/delivery-channels/{made.json()['id']}"), 404)
    assert api_as(manager_east).get("/delivery-channels").json()["count"] == 1
    assert api_as(people["director"]).get("/delivery-channels").json()["count"] == 2


def test_it_names_the_field_that_is_wrong(api_as, manager_east):
    api = api_as(manager_east)
    assert_error(api.post("/delivery-channels", {"kind": "wecom"}), 400, "webhook_url")
    assert_error(
        api.post("/delivery-channels", {"kind": "wecom", "webhook_url": "file:///etc/passwd"}),
        400,
        "webhook_url",
    )
    assert_error(
        api.post("/delivery-channels", {"kind": "wecom", "webhook_url": WECOM, "secret": "x"}),
        400,
        "secret",
    )
    assert_error(
        api.post("/delivery-channels", {"kind": "email", "unit_id": manager_east.unit_id}),
        400,
        "kind",
    )
    assert_error(api.post("/delivery-channels", {"kind": "sms"}), 400, "kind")
    manager_east.email = ""
    manager_east.save(update_fields=["email"])
    assert api.post("/delivery-channels", {"kind": "email"}).status_code == 201
    assert_error(api.post("/delivery-channels", {"kind": "email"}), 400, "kind", "duplicate")


def test_it_changes_a_channel_with_its_version(api_as, rep_east):
    channel = create_channel(
        by=rep_east, kind="dingtalk", user=rep_east, webhook_url=WECOM, secret=SECRET
    )
    api = api_as(rep_east)
    path = f"/delivery-channels/{channel.pk}"
    assert_error(api.patch(path, {"name": "新名字"}), 400, "version")
    changed = api.patch(path, {"version": channel.version, "name": "新名字", "active": False})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["active"]) == ("新名字", False)
    assert_error(api.patch(path, {"version": channel.version, "name": "旧"}), 409)

    cleared = api.patch(path, {"version": changed.json()["version"], "secret": ""})
    assert cleared.json()["has_secret"] is False
    assert DeliveryChannel.objects.get(pk=channel.pk).secret_encrypted == ""

    assert api.delete(path).status_code == 204
    assert_error(api.get(path), 404)
    assert DeliveryChannel.all_objects.get(pk=channel.pk).deleted_at is not None


def test_the_test_button_answers_with_its_delivery(api_as, rep_east, robot):
    wecom = robot("wecom")
    channel = create_channel(by=rep_east, kind="wecom", user=rep_east, webhook_url=wecom.url)
    answer = api_as(rep_east).post(f"/delivery-channels/{channel.pk}/test")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["attempts"], body["channel"]["id"]) == ("sent", 1, channel.pk)
    assert wecom.problems == [] and len(wecom.received) == 1


# --- Delivery log -----------------------------------------------------------------------------


def test_the_delivery_log_is_ones_own_except_for_administrators(
    api_as, rep_east, rep_east2, admin_user, manager_east
):
    mine = create_channel(by=rep_east, kind="wecom", user=rep_east, webhook_url=WECOM)
    theirs = create_channel(by=rep_east2, kind="wecom", user=rep_east2, webhook_url=WECOM + "2")
    notify([rep_east, rep_east2], kind="task", title="新任务", actor=manager_east)
    Delivery.objects.filter(channel=theirs).update(status="failed", last_error="HTTP 500")

    own = api_as(rep_east).get("/deliveries").json()
    assert [d["channel"]["id"] for d in own["items"]] == [mine.pk]
    assert own["items"][0]["recipient"]["id"] == rep_east.pk
    assert own["items"][0]["status"] == "pending"

    everything = api_as(admin_user).get("/deliveries").json()
    assert everything["count"] == 2
    failed = api_as(admin_user).get("/deliveries", {"status": "failed"}).json()
    assert [(d["channel"]["id"], d["last_error"]) for d in failed["items"]] == [
        (theirs.pk, "HTTP 500")
    ]
