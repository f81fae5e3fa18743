"""The notification pages: the bell and its dropdown, the list, opening and marking read;
the account page's channels, units' group robots, test messages and the delivery log."""

import pytest
from django.urls import reverse

from tuoke.core.models import AuditEntry, Notification
from tuoke.core.notifications import notify
from tuoke.integrations.models import Delivery, DeliveryChannel
from tuoke.integrations.services import create_channel, update_channel

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=77aa-page-secret-1c3d"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Bell and list ----------------------------------------------------------------------------


def test_the_bell_shows_the_unread_count(login, rep_east, manager_east):
    client = login(rep_east)
    assert "bell-badge" not in client.get(reverse("notifications:bell")).content.decode()
    for i in range(3):
        notify([rep_east], kind="mention", title=f"提到你 {i}", actor=manager_east)
    html = client.get(reverse("notifications:bell")).content.decode()
    assert 'data-count="3"' in html
    # One answer fills both bells' counts (the top bar's and the phone's).
    assert '"innerHTML:#bell-count"' in html and '"innerHTML:#bell-mobile-count"' in html
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="bell"' in page and 'data-testid="bell-mobile"' in page
    assert page.count(f'hx-get="{reverse("notifications:bell")}"') == 1


def test_the_bell_menu_lists_the_latest_and_marks_all_read(login, rep_east, manager_east):
    for i in range(10):
        notify([rep_east], kind="mention", title=f"提到你 {i}", actor=manager_east)
    client = login(rep_east)
    menu = client.get(reverse("notifications:bell_menu"))
    assert menu.content.decode().count('data-testid="bell-item"') == 8
    assert "提到你 9" in menu.content.decode()

    marked = client.post(reverse("notifications:read_all"), headers={"HX-Request": "true"})
    assert marked["HX-Trigger"] == "tuoke:notifications-changed"
    assert 'data-unread="true"' not in marked.content.decode()
    assert not Notification.objects.filter(recipient=rep_east, read_at__isnull=True).exists()


def test_opening_a_notification_marks_it_read_and_follows_its_link(login, rep_east):
    (inside,) = notify([rep_east], kind="mention", title="内部", url="/customers/7/")
    (outside,) = notify([rep_east], kind="mention", title="外部", url="https://evil.example/")
    client = login(rep_east)

    response = client.get(reverse("notifications:open", args=[inside.pk]))
    assert response.status_code == 302 and response["Location"] == "/customers/7/"
    inside.refresh_from_db()
    assert inside.read_at is not None
    # A link leaving Tuoke is not followed.
    response = client.get(reverse("notifications:open", args=[outside.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_the_list_filters_unread_and_marks_one_read(login, rep_east, rep_east2, settings):
    settings.LIST_PAGE_SIZE = 5
    made = [notify([rep_east], kind="task", title=f"任务{i}")[0] for i in range(7)]
    (theirs,) = notify([rep_east2], kind="task", title="别人的")
    client = login(rep_east)

    page = client.get(reverse("notifications:list"))
    html = page.content.decode()
    assert html.count('data-testid="notification"') == 5
    assert 'data-testid="pagination"' in html and "别人的" not in html

    back = reverse("notifications:list") + "?page=2"
    one = client.post(reverse("notifications:read", args=[made[6].pk]), {"next": back})
    assert one["Location"] == back
    unread = client.get(reverse("notifications:list") + "?unread=1").content.decode()
    assert "任务6" not in unread and "任务5" in unread

    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404


def test_the_list_has_an_empty_state(login, rep_east):
    html = login(rep_east).get(reverse("notifications:list")).content.decode()
    assert 'data-testid="notifications-empty"' in html


# --- Channels ---------------------------------------------------------------------------------


def test_the_account_page_shows_his_channels_masked(login, rep_east):
    create_channel(by=rep_east, kind="wecom", user=rep_east, name="我的群", webhook_url=WECOM)
    html = login(rep_east).get(reverse("account")).content.decode()
    assert 'data-testid="notification-channels"' in html
    assert "我的群" in html and "…1c3d" in html
    assert "77aa-page-secret" not in html


def test_email_copies_need_an_address(login, rep_east):
    client = login(rep_east)
    rep_east.email = ""
    rep_east.save(update_fields=["email"])
    response = client.post(reverse("notifications:email_toggle"), {"enabled": "1"}, follow=True)
    assert any("e-mail address" in m for m in _messages(response))
    assert not DeliveryChannel.objects.filter(user=rep_east).exists()

    rep_east.email = "zw@demo.tuoke.local"
    rep_east.save(update_fields=["email"])
    client.post(reverse("notifications:email_toggle"), {"enabled": "1"})
    assert DeliveryChannel.objects.get(user=rep_east, kind="email").active
    client.post(reverse("notifications:email_toggle"), {"enabled": "0"})
    assert not DeliveryChannel.objects.get(user=rep_east, kind="email").active


def test_a_rep_adds_edits_and_deletes_his_dingtalk_robot(login, rep_east):
    client = login(rep_east)
    form = client.get(reverse("notifications:channel_create") + "?kind=dingtalk")
    assert form.status_code == 200
    response = client.post(
        reverse("notifications:channel_create"),
        {
            "kind": "dingtalk",
            "name": "钉钉提醒",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=abc123456789",
            "secret": "SECpage",
            "active": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("account")
    channel = DeliveryChannel.objects.get(user=rep_east)
    assert channel.secret_encrypted and "SECpage" not in channel.secret_encrypted

    edit_url = reverse("notifications:channel_edit", args=[channel.pk])
    html = client.get(edit_url).content.decode()
    assert "abc123456789" not in html and "SECpage" not in html
    # Empty address and secret keep the stored ones.
    client.post(
        edit_url,
        {
            "name": "新名字",
            "webhook_url": "",
            "secret": "",
            "active": "on",
            "version": channel.version,
        },
    )
    channel.refresh_from_db()
    assert channel.name == "新名字"
    assert channel.webhook_url.endswith("abc123456789") and channel.secret_encrypted
    client.post(
        edit_url,
        {"name": "新名字", "clear_secret": "on", "active": "on", "version": channel.version},
    )
    channel.refresh_from_db()
    assert channel.secret_encrypted == ""

    delete_url = reverse("notifications:channel_delete", args=[channel.pk])
    assert 'data-testid="confirm"' in client.get(delete_url).content.decode()
    client.post(delete_url)
    assert not DeliveryChannel.objects.filter(pk=channel.pk).exists()


def test_the_trail_keeps_webhook_addresses_masked(rep_east):
    channel = create_channel(
        by=rep_east, kind="dingtalk", user=rep_east, webhook_url=WECOM, secret="SECtrail"
    )
    # Another key ending alike: saved and audited, and masked there too.
    other = WECOM.replace("77aa", "88bb")
    update_channel(channel, by=rep_east, webhook_url=other)
    channel.refresh_from_db()
    assert channel.webhook_url == other
    entries = AuditEntry.objects.filter(object_id=channel.pk, content_type__model="deliverychannel")
    text = str([e.changes for e in entries])
    assert "77aa-page-secret" not in text and "88bb-page-secret" not in text
    assert "SECtrail" not in text
    assert "…1c3d" in text
    assert [c["field"] for c in entries.order_by("-pk")[0].changes] == ["webhook_url"]


def test_a_stale_edit_is_refused(login, rep_east):
    channel = create_channel(by=rep_east, kind="wecom", user=rep_east, webhook_url=WECOM)
    response = login(rep_east).post(
        reverse("notifications:channel_edit", args=[channel.pk]),
        {"name": "x", "active": "on", "version": channel.version + 1},
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()


def test_unit_robots_are_managed_by_the_units_manager(login, people, rep_east, manager_east):
    east = manager_east.unit
    south = people["rep_south1"].unit
    manager = login(manager_east)
    unit_page = manager.get(reverse("org:unit_detail", args=[east.pk])).content.decode()
    assert 'data-testid="unit-robots"' in unit_page
    rep_page = login(rep_east).get(reverse("org:unit_detail", args=[east.pk])).content.decode()
    assert 'data-testid="unit-robots"' not in rep_page

    listing = reverse("notifications:channels")
    assert manager.get(f"{listing}?unit={east.pk}").status_code == 200
    assert manager.get(f"{listing}?unit={south.pk}").status_code == 404
    assert login(rep_east).get(f"{listing}?unit={east.pk}").status_code == 404
    assert 'data-testid="no-units"' in login(rep_east).get(listing).content.decode()

    create = reverse("notifications:channel_create")
    response = manager.post(
        create,
        {"unit": east.pk, "kind": "wecom", "name": "华东群", "webhook_url": WECOM, "active": "on"},
    )
    assert response.status_code == 302
    assert DeliveryChannel.objects.get(unit=east).name == "华东群"
    assert (
        manager.post(
            create, {"unit": south.pk, "kind": "wecom", "webhook_url": WECOM, "active": "on"}
        ).status_code
        == 404
    )
    html = manager.get(f"{listing}?unit={east.pk}").content.decode()
    assert "华东群" in html and "77aa-page-secret" not in html

    # The rep sees that his unit's robot mentions him, nothing to change.
    account = login(rep_east).get(reverse("account")).content.decode()
    assert 'data-testid="unit-robots-reaching"' in account and "华东群" in account


def test_the_test_button_reports_how_it_went(login, rep_east, robot):
    wecom = robot("wecom")
    channel = create_channel(by=rep_east, kind="wecom", user=rep_east, webhook_url=wecom.url)
    client = login(rep_east)
    response = client.post(reverse("notifications:channel_test", args=[channel.pk]), follow=True)
    assert any("was sent" in m for m in _messages(response))
    assert len(wecom.received) == 1

    wecom.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    response = client.post(reverse("notifications:channel_test", args=[channel.pk]), follow=True)
    assert any("93000" in m for m in _messages(response))


# --- Delivery log -----------------------------------------------------------------------------


@pytest.fixture
def log(rep_east, rep_east2, manager_east):
    mine = create_channel(
        by=rep_east, kind="wecom", user=rep_east, name="张伟的群", webhook_url=WECOM
    )
    create_channel(
        by=rep_east2, kind="wecom", user=rep_east2, name="刘洋的群", webhook_url=WECOM + "2"
    )
    notify([rep_east, rep_east2], kind="task", title="新任务", actor=manager_east)
    Delivery.objects.filter(channel=mine).update(status="failed", last_error="HTTP 502")


def test_the_delivery_log_shows_ones_own_and_everything_to_administrators(
    login, log, rep_east, admin_user
):
    own = login(rep_east).get(reverse("notifications:deliveries")).content.decode()
    assert "张伟的群" in own and "刘洋的群" not in own and "HTTP 502" in own
    everything = login(admin_user).get(reverse("notifications:deliveries")).content.decode()
    assert "张伟的群" in everything and "刘洋的群" in everything
    failed = login(admin_user).get(reverse("notifications:deliveries") + "?status=failed")
    assert failed.content.decode().count('data-testid="delivery"') == 1
