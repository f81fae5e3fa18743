"""Comments on customers and leads, and the colleagues they @mention."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.integrations import conftest as integrations
from tuoke.activities import services
from tuoke.activities.models import Comment

from . import records

# The fake WeCom robots and jobs run in this process, as in tests/integrations.
robot = integrations.robot
tasks_eager = integrations.tasks_eager


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep)


def test_it_finds_mentions_by_display_name_or_username(people):
    zhang, liu, wang = people["rep_east1"], people["rep_east2"], people["manager_east"]
    body = "@王经理 请看一下，@rep_east2，还有@张伟你也看看；邮件 a@b.com 不算"
    spans = services.mention_spans(body, [zhang, liu, wang])
    assert [person for _s, _e, person in spans] == [wang, liu, zhang]
    assert [body[s:e] for s, e, _p in spans] == ["@王经理", "@rep_east2", "@张伟"]


def test_a_latin_name_must_end_where_it_ends(people):
    liu = people["rep_east2"]
    assert services.mention_spans("@rep_east2x 你好", [liu]) == []
    assert services.mention_spans("@REP_EAST2 你好", [liu])[0][2] == liu


def test_it_keeps_a_comment_without_mentions(rep, customer):
    comment = services.add_comment(by=rep, customer=customer, body="  客户下周三有空  ")
    assert comment.body == "客户下周三有空" and comment.author == rep
    assert comment.mentions.count() == 0


def test_it_refuses_an_empty_comment_or_one_about_nothing(rep, customer):
    with pytest.raises(ValidationError):
        services.add_comment(by=rep, customer=customer, body=" ")
    with pytest.raises(ValidationError):
        services.add_comment(by=rep, body="说点什么")
    assert not Comment.all_objects.exists()


def test_mentions_reach_only_colleagues_in_the_authors_sight_and_are_notified(people, customer):
    pytest.importorskip("tuoke.core.notifications")
    from tuoke.core.models import Notification

    rep = people["rep_east1"]
    body = "@王经理 @刘洋 请支持报价；@黄敏 也看看；@张伟 提醒自己"
    comment = services.add_comment(by=rep, customer=customer, body=body)

    # 黄敏 is in 华南销售组, out of a rep of 华东's sight; nobody notifies himself.
    assert set(comment.mentions.all()) == {people["manager_east"], people["rep_east2"]}
    notes = Notification.objects.filter(kind="mention")
    assert {n.recipient for n in notes} == {people["manager_east"], people["rep_east2"]}
    # 王经理 may open the customer: he reads the comment (刘洋 may not: see below).
    note = notes.get(recipient=people["manager_east"])
    assert note.actor == rep and "腾达精密" in note.title
    assert note.url == f"/customers/{customer.pk}/#comments"
    assert "请支持报价" in note.body


def test_a_manager_mentions_people_across_his_units(people, customer):
    pytest.importorskip("tuoke.core.notifications")
    comment = services.add_comment(
        by=people["director"], customer=customer, body="@黄敏 和 @张伟 一起跟进"
    )
    assert set(comment.mentions.all()) == {people["rep_south1"], people["rep_east1"]}


def test_only_the_author_deletes_a_comment(people, rep, customer):
    comment = services.add_comment(by=rep, customer=customer, body="记一笔")
    with pytest.raises(PermissionDenied):
        services.delete_comment(comment, by=people["manager_east"])
    services.delete_comment(comment, by=rep)
    assert not Comment.objects.exists()


# --- A mention of a colleague who cannot open the record ----------------------------------------


def test_a_colleague_who_cannot_open_the_customer_gets_no_comment_only_a_way_to_ask(
    people, rep, customer, login
):
    from tuoke.core.models import Notification
    from tuoke.customers.models import AccessRequest, Customer

    liu = people["rep_east2"]
    assert not Customer.objects.visible_to(liu).filter(pk=customer.pk).exists()
    services.add_comment(by=rep, customer=customer, body="@刘洋 @王经理 报价单价是 38 万，保密")

    blind = Notification.objects.get(recipient=liu, kind="mention")
    assert blind.actor == rep and blind.body == ""
    assert str(rep) in blind.title and str(customer.owner) in blind.title
    assert "cannot open" in blind.title
    for text in (blind.title, blind.body, blind.url):
        assert "38 万" not in text and "腾达精密" not in text
    assert f"/customers/{customer.pk}/" not in blind.url
    assert blind.url.startswith("/customers/access-requests/new/?token=")
    # Who may open it reads the comment as before.
    seen = Notification.objects.get(recipient=people["manager_east"], kind="mention")
    assert "38 万" in seen.body and seen.url == f"/customers/{customer.pk}/#comments"

    # The link is the access-request flow: he asks the owner, and only his own link works.
    client = login(liu)
    page = client.get(blind.url)
    assert page.status_code == 200 and str(customer.owner) in page.content.decode()
    assert login(people["rep_south1"]).get(blind.url).status_code == 404
    token = blind.url.split("token=", 1)[1]
    client.post(blind.url, {"token": token, "access": "read", "message": "请共享给我"})
    request = AccessRequest.objects.get(customer=customer, requester=liu)
    assert request.status == AccessRequest.Status.PENDING


def test_a_colleague_who_cannot_open_the_lead_gets_neither_comment_nor_link(people, rep):
    from tuoke.core.models import Notification
    from tuoke.leads.models import Lead
    from tuoke.leads.services import create_lead

    lead = create_lead(by=rep, owner=rep, company_name="宏远物流", contact_name="赵先生")
    liu = people["rep_east2"]
    assert not Lead.objects.visible_to(liu).filter(pk=lead.pk).exists()
    services.add_comment(by=rep, lead=lead, body="@刘洋 这家预算很紧")

    note = Notification.objects.get(recipient=liu, kind="mention")
    assert note.body == "" and note.url == ""
    assert str(rep) in note.title and "cannot open" in note.title
    assert "宏远物流" not in note.title and "预算" not in note.title


def test_a_collaborator_who_may_open_the_customer_reads_the_comment(people, rep, customer):
    from tuoke.core.models import Notification
    from tuoke.customers.services import set_collaborator

    liu = people["rep_east2"]
    set_collaborator(customer, by=rep, user=liu, access="read")
    services.add_comment(by=rep, customer=customer, body="@刘洋 明天一起去")

    note = Notification.objects.get(recipient=liu, kind="mention")
    assert "明天一起去" in note.body and note.url == f"/customers/{customer.pk}/#comments"


def test_the_robot_sends_no_comment_to_a_colleague_who_cannot_open_the_customer(
    people, rep, customer, robot, tasks_eager, django_capture_on_commit_callbacks, settings
):
    from tuoke.integrations.services import create_channel

    settings.SITE_URL = "https://crm.example.cn"
    liu = people["rep_east2"]
    liu.mobile = "+8613900139000"
    liu.save(update_fields=["mobile"])
    wecom = robot("wecom")
    create_channel(by=liu, kind="wecom", user=liu, webhook_url=wecom.url)

    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(by=rep, customer=customer, body="@刘洋 报价 38 万，别外传")

    assert wecom.problems == [] and wecom.mentioned() == ["+8613900139000"]
    sent = wecom.content()
    assert str(rep) in sent
    assert "https://crm.example.cn/customers/access-requests/new/?token=" in sent
    assert "38 万" not in sent and "腾达精密" not in sent
