"""Notifications: one per distinct recipient, never to the actor, the bell's count in one
query, marking read only one's own."""

import pytest

from tuoke.core import notifications
from tuoke.core.models import Notification
from tuoke.integrations.models import Delivery, DeliveryChannel
from tuoke.integrations.services import create_channel, set_email_notifications


def test_it_notifies_each_recipient_once_and_never_the_actor(rep_east, rep_east2, manager_east):
    made = notifications.notify(
        [rep_east, rep_east2, rep_east, manager_east.pk],
        kind="mention",
        title="王经理 mentioned you",
        body="请跟进腾讯的报价",
        url="/customers/1/",
        actor=manager_east,
    )
    assert sorted(n.recipient_id for n in made) == sorted([rep_east.pk, rep_east2.pk])
    assert all(n.pk for n in made)
    stored = Notification.objects.get(recipient=rep_east)
    assert (stored.kind, stored.title, stored.body, stored.url, stored.actor) == (
        "mention",
        "王经理 mentioned you",
        "请跟进腾讯的报价",
        "/customers/1/",
        manager_east,
    )
    assert stored.read_at is None


def test_it_skips_deactivated_people_and_empty_lists(people, rep_east, manager_east):
    gone = people["rep_east2"]
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)
    made = notifications.notify([gone, rep_east], kind="task", title="x")
    assert [n.recipient for n in made] == [rep_east]
    assert notifications.notify([], kind="task", title="x") == []
    assert notifications.notify([rep_east], kind="task", title="x", actor=rep_east) == []


def test_it_clips_what_does_not_fit(rep_east):
    (made,) = notifications.notify([rep_east], kind="k" * 50, title="标" * 300, body="文" * 3000)
    made.refresh_from_db()
    assert len(made.title) == 200 and made.title.endswith("…")
    assert len(made.body) == 2000
    assert len(made.kind) == 30


def test_it_counts_the_unread_in_one_query(rep_east, rep_east2, django_assert_num_queries):
    notifications.notify([rep_east, rep_east2], kind="task", title="一")
    notifications.notify([rep_east], kind="task", title="二")
    with django_assert_num_queries(1):
        assert notifications.unread_count(rep_east) == 2
    assert notifications.unread_count(rep_east2) == 1


def test_it_marks_read_one_or_all_and_only_ones_own(rep_east, rep_east2):
    first, second = (
        notifications.notify([rep_east], kind="task", title=t)[0] for t in ("一", "二")
    )
    (theirs,) = notifications.notify([rep_east2], kind="task", title="三")

    assert notifications.mark_read(rep_east, [first.pk, theirs.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert notifications.unread_count(rep_east) == 1
    assert notifications.mark_read(rep_east) == 1
    assert notifications.unread_count(rep_east) == 0
    assert notifications.mark_read(rep_east) == 0
    assert [n.title for n in notifications.recent(rep_east)] == ["二", "一"]
    assert second.pk == notifications.recent(rep_east, 1)[0].pk


def test_it_hides_anothers_notification(rep_east, rep_east2):
    (theirs,) = notifications.notify([rep_east2], kind="task", title="三")
    with pytest.raises(notifications.Http404):
        notifications.get_for_user(rep_east, theirs.pk)
    assert notifications.get_for_user(rep_east2, theirs.pk) == theirs


def test_it_plans_a_delivery_per_active_channel_of_the_recipient_and_his_unit(
    people, rep_east, rep_east2, manager_east
):
    rep_east.email = "zhangwei@demo.tuoke.local"
    set_email_notifications(rep_east, enabled=True, by=rep_east)
    own = create_channel(
        by=rep_east, kind="wecom", user=rep_east, webhook_url="https://qyapi.weixin.qq.com/x?key=1"
    )
    unit_robot = create_channel(
        by=manager_east,
        kind="dingtalk",
        unit=manager_east.unit,
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=2",
    )
    # Same address as the unit's robot: sent once.
    create_channel(
        by=rep_east,
        kind="dingtalk",
        user=rep_east,
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=2",
    )
    off = create_channel(
        by=rep_east2,
        kind="wecom",
        user=rep_east2,
        webhook_url="https://qyapi.weixin.qq.com/x?key=3",
        active=False,
    )
    south = create_channel(
        by=people["admin"],
        kind="wecom",
        unit=people["rep_south1"].unit,
        webhook_url="https://qyapi.weixin.qq.com/x?key=4",
    )

    made = notifications.notify([rep_east, rep_east2], kind="task", title="新任务")

    by_recipient = {
        n.recipient_id: sorted(d.channel_id for d in Delivery.objects.filter(notification=n))
        for n in made
    }
    email = DeliveryChannel.objects.get(user=rep_east, kind="email")
    assert sorted(by_recipient[rep_east.pk]) == sorted([email.pk, own.pk, unit_robot.pk])
    assert by_recipient[rep_east2.pk] == [unit_robot.pk]
    assert not Delivery.objects.filter(channel__in=[off, south]).exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}
