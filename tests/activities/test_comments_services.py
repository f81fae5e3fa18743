"""Comments on customers and leads, and the colleagues they @mention."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tuoke.activities import services
from tuoke.activities.models import Comment

from . import records


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
    note = notes.get(recipient=people["rep_east2"])
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
