"""Sending notifications on: e-mail, and a mention reaching fake WeCom and DingTalk robots
that check the JSON (and DingTalk's signature) as the real ones do; retries with backoff;
failure after the last attempt, all in the delivery log."""

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from django.core import mail

from tuoke.core.notifications import notify
from tuoke.integrations import robots, secrets, services
from tuoke.integrations.models import Delivery, DeliveryChannel
from tuoke.integrations.services import create_channel, set_email_notifications

SECRET = "SEC5f1c9a0e7d3b2a4c6e8f0a1b3c5d7e9f"


@pytest.fixture
def zhang(rep_east):
    rep_east.mobile = "+8613800138000"
    rep_east.email = "zhangwei@demo.tuoke.local"
    rep_east.save(update_fields=["mobile", "email"])
    return rep_east


def _notify(django_capture_on_commit_callbacks, recipient, actor, **fields):
    fields = {"kind": "mention", "title": "王经理在腾讯提到了你", **fields}
    with django_capture_on_commit_callbacks(execute=True):
        return notify([recipient], actor=actor, url="/customers/7/", **fields)


def test_a_mention_reaches_the_wecom_group_robot_of_his_unit(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://crm.example.cn"
    wecom = robot("wecom")
    channel = create_channel(
        by=manager_east, kind="wecom", unit=zhang.unit, name="华东群", webhook_url=wecom.url
    )

    (note,) = _notify(
        django_capture_on_commit_callbacks, zhang, manager_east, body="@张伟 请今天回电"
    )

    assert wecom.problems == []
    assert len(wecom.received) == 1
    assert wecom.mentioned() == ["+8613800138000"]
    assert "王经理在腾讯提到了你" in wecom.content()
    assert "@张伟 请今天回电" in wecom.content()
    assert "https://crm.example.cn/customers/7/" in wecom.content()
    delivery = Delivery.objects.get(notification=note)
    assert (delivery.channel, delivery.kind, delivery.status, delivery.attempts) == (
        channel,
        "wecom",
        "sent",
        1,
    )
    assert delivery.sent_at is not None and delivery.last_error == ""


def test_a_mention_reaches_a_signed_dingtalk_robot(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks
):
    dingtalk = robot("dingtalk", secret=SECRET)
    create_channel(by=zhang, kind="dingtalk", user=zhang, webhook_url=dingtalk.url, secret=SECRET)

    (note,) = _notify(django_capture_on_commit_callbacks, zhang, manager_east)

    assert dingtalk.problems == []
    assert dingtalk.mentioned() == ["+8613800138000"]
    assert dingtalk.content().endswith("@+8613800138000")
    assert dingtalk.received[0]["query"]["access_token"] == ["dd0c4e5a9b8f7e6d5c4b3a29"]
    assert Delivery.objects.get(notification=note).status == "sent"


def test_a_wrong_dingtalk_secret_is_refused_and_logged(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks
):
    dingtalk = robot("dingtalk", secret=SECRET)
    create_channel(
        by=zhang, kind="dingtalk", user=zhang, webhook_url=dingtalk.url, secret="SECwrong"
    )

    (note,) = _notify(django_capture_on_commit_callbacks, zhang, manager_east)

    delivery = Delivery.objects.get(notification=note)
    assert delivery.status == "failed"
    assert delivery.attempts == services.MAX_ATTEMPTS
    assert "sign not match" in delivery.last_error
    assert len(dingtalk.received) == services.MAX_ATTEMPTS


def test_it_signs_as_dingtalk_documents():
    timestamp = 1700000000000
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    url = robots.signed_url(
        "https://oapi.dingtalk.com/robot/send?access_token=t", SECRET, timestamp
    )
    query = parse_qs(urlsplit(url).query)
    assert query["timestamp"] == [str(timestamp)]
    assert query["sign"] == [expected]
    assert url.split("sign=")[1] == robots.dingtalk_sign(SECRET, timestamp)
    assert unquote_plus(robots.dingtalk_sign(SECRET, timestamp)) == expected
    assert robots.signed_url("https://x/y", "", timestamp) == "https://x/y"


def test_it_retries_with_backoff_then_succeeds(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks, monkeypatch
):
    wecom = robot("wecom")
    wecom.answers = [(502, b"bad gateway"), (200, {"errcode": 45009, "errmsg": "api freq out"})]
    create_channel(by=zhang, kind="wecom", user=zhang, webhook_url=wecom.url)
    delays = []
    real_delay = services.retry_delay
    monkeypatch.setattr(services, "retry_delay", lambda n: delays.append(real_delay(n)) or 0)

    (note,) = _notify(django_capture_on_commit_callbacks, zhang, manager_east)

    delivery = Delivery.objects.get(notification=note)
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert "45009" in delivery.last_error  # the last error stays readable in the log
    assert len(wecom.received) == 3
    assert delays == [60, 300]


def test_it_gives_up_after_the_last_attempt(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks
):
    wecom = robot("wecom")
    wecom.answers = [(500, {"errcode": -1, "errmsg": "system busy"})] * 10
    create_channel(by=zhang, kind="wecom", user=zhang, webhook_url=wecom.url)

    (note,) = _notify(django_capture_on_commit_callbacks, zhang, manager_east)

    delivery = Delivery.objects.get(notification=note)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 5, "HTTP 500")
    assert len(wecom.received) == 5
    # A failed delivery is never tried again by a late duplicate job.
    assert services.attempt_delivery(delivery.pk) is None


def test_an_unreachable_robot_fails_within_the_timeout(
    zhang, manager_east, tasks_eager, django_capture_on_commit_callbacks
):
    create_channel(by=zhang, kind="wecom", user=zhang, webhook_url="http://127.0.0.1:9/x?key=1")
    (note,) = _notify(django_capture_on_commit_callbacks, zhang, manager_east)
    delivery = Delivery.objects.get(notification=note)
    assert delivery.status == "failed"
    assert "Cannot reach" in delivery.last_error


def test_it_sends_an_email_copy_when_switched_on(
    zhang, manager_east, tasks_eager, django_capture_on_commit_callbacks
):
    set_email_notifications(zhang, enabled=True, by=zhang)
    (note,) = _notify(django_capture_on_commit_callbacks, zhang, manager_east, body="请回电")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zhangwei@demo.tuoke.local"]
    assert mail.outbox[0].subject == "王经理在腾讯提到了你"
    assert "请回电" in mail.outbox[0].body
    assert Delivery.objects.get(notification=note).status == "sent"

    set_email_notifications(zhang, enabled=False, by=zhang)
    _notify(django_capture_on_commit_callbacks, zhang, manager_east)
    assert len(mail.outbox) == 1


def test_it_cuts_wecom_text_at_2048_bytes_on_a_character_boundary(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks
):
    wecom = robot("wecom")
    create_channel(by=zhang, kind="wecom", user=zhang, webhook_url=wecom.url)
    _notify(django_capture_on_commit_callbacks, zhang, manager_east, body="跟进" * 1000)
    assert wecom.problems == []
    content = wecom.content()
    assert len(content.encode()) <= 2048
    assert content.endswith("…")


def test_truncation_never_splits_a_character():
    for limit in range(12):
        cut = robots.truncate_utf8("拓客客户关系管理", limit)
        assert len(cut.encode()) <= limit
        assert "\ufffd" not in cut
    assert robots.truncate_utf8("abc", 3) == "abc"


def test_a_test_message_goes_out_at_once_and_is_logged(zhang, robot):
    wecom = robot("wecom")
    channel = create_channel(by=zhang, kind="wecom", user=zhang, webhook_url=wecom.url)
    delivery = services.send_test(channel, by=zhang)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert wecom.mentioned() == ["+8613800138000"]
    assert delivery.notification.read_at is not None

    wecom.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    failed = services.send_test(channel, by=zhang)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "93000" in failed.last_error


def test_secrets_are_stored_encrypted(zhang):
    channel = create_channel(
        by=zhang,
        kind="dingtalk",
        user=zhang,
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=abcdef123456",
        secret=SECRET,
    )
    stored = DeliveryChannel.objects.get(pk=channel.pk).secret_encrypted
    assert stored and SECRET not in stored
    assert secrets.decrypt(stored) == SECRET
    assert secrets.mask_url(channel.webhook_url) == (
        "https://oapi.dingtalk.com/robot/send?access_token=…3456"
    )


def test_a_comment_mention_reaches_wecom_and_dingtalk_robots(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks
):
    """The whole chain: a manager @mentions the rep in a comment on a customer; the rep's
    unit's WeCom robot and his own signed DingTalk robot both @mention him."""
    from tuoke.activities.services import add_comment
    from tuoke.customers.services import create_customer

    wecom = robot("wecom")
    dingtalk = robot("dingtalk", secret=SECRET)
    create_channel(by=manager_east, kind="wecom", unit=zhang.unit, webhook_url=wecom.url)
    create_channel(by=zhang, kind="dingtalk", user=zhang, webhook_url=dingtalk.url, secret=SECRET)
    customer = create_customer(by=zhang, short_name="腾达精密")

    with django_capture_on_commit_callbacks(execute=True):
        add_comment(by=manager_east, customer=customer, body="@张伟 请今天回电确认报价")

    assert wecom.problems == [] and dingtalk.problems == []
    assert wecom.mentioned() == ["+8613800138000"]
    assert dingtalk.mentioned() == ["+8613800138000"]
    assert "请今天回电确认报价" in wecom.content() and "腾达精密" in dingtalk.content()
    statuses = Delivery.objects.filter(notification__recipient=zhang).values_list(
        "status", flat=True
    )
    assert sorted(statuses) == ["sent", "sent"]


def test_a_broker_outage_loses_no_delivery(
    zhang, manager_east, robot, tasks_eager, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone
    from kombu.exceptions import OperationalError

    from tuoke.celery import app
    from tuoke.integrations import tasks

    wecom = robot("wecom")
    create_channel(by=zhang, kind="wecom", user=zhang, webhook_url=wecom.url)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.deliver, "delay", broker_down)
        # The comment, task … that notified is saved all the same.
        (note,) = _notify(django_capture_on_commit_callbacks, zhang, manager_east)
    delivery = Delivery.objects.get(notification=note)
    assert (delivery.status, delivery.attempts) == ("pending", 0)

    # Not yet lost: it may still be waiting in a busy queue.
    assert tasks.requeue_lost_deliveries_task.delay().get() == 0
    Delivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    assert tasks.requeue_lost_deliveries_task.delay().get() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(wecom.received) == 1
    assert tasks.requeue_lost_deliveries_task.delay().get() == 0

    jobs = [j for j in app.conf.beat_schedule.values() if "requeue_lost_deliveries" in j["task"]]
    assert len(jobs) == 1 and jobs[0]["task"] in app.tasks
