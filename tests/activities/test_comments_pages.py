"""The comments card of customers and leads: newest first, posted by htmx, mentions
highlighted, the author's own deleted."""

import pytest

from tuoke.activities import services
from tuoke.activities.models import Comment

from . import records


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep)


HTMX = {"HX-Request": "true"}


def test_the_card_lists_comments_newest_first_with_mentions_marked(login, people, rep, customer):
    services.add_comment(by=rep, customer=customer, body="第一条")
    services.add_comment(by=rep, customer=customer, body="@王经理 请看 <b>报价</b>")
    html = login(rep).get(f"/activities/comments/?customer={customer.pk}").content.decode()
    assert html.index("请看") < html.index("第一条")
    assert 'data-testid="mention"' in html and ">@王经理</span>" in html
    assert "&lt;b&gt;报价&lt;/b&gt;" in html  # the text is escaped
    # The picker offers the colleagues he may mention.
    assert "刘洋" in html and "rep_east2" in html and "黄敏" not in html


def test_a_comment_posted_by_htmx_comes_back_in_the_card(login, rep, customer):
    client = login(rep)
    response = client.post(
        "/activities/comments/new/", {"customer": customer.pk, "body": "下周再联系"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "下周再联系" in response.content.decode()
    assert Comment.objects.get().author == rep


def test_an_empty_comment_shows_its_error_in_the_card(login, rep, customer):
    response = login(rep).post(
        "/activities/comments/new/", {"customer": customer.pk, "body": " "}, headers=HTMX
    )
    assert 'data-field-error="body"' in response.content.decode()
    assert not Comment.objects.exists()


def test_without_htmx_it_goes_back_to_the_page(login, rep):
    from tuoke.leads.services import create_lead

    lead = create_lead(by=rep, company_name="杭州云栖科技有限公司", owner=rep)
    response = login(rep).post("/activities/comments/new/", {"lead": lead.pk, "body": "线索备注"})
    assert response["Location"] == f"/leads/{lead.pk}/#comments"
    assert Comment.objects.get().lead == lead


def test_comments_of_a_customer_out_of_scope_are_not_found(login, people, rep):
    south = records.south_customer(people)
    client = login(rep)
    assert client.get(f"/activities/comments/?customer={south.pk}").status_code == 404
    response = client.post("/activities/comments/new/", {"customer": south.pk, "body": "x"})
    assert response.status_code == 404 and not Comment.objects.exists()
    assert client.get("/activities/comments/").status_code == 404


def test_the_author_deletes_his_comment_and_nobody_else_does(login, people, rep, customer):
    comment = services.add_comment(by=rep, customer=customer, body="删掉我")
    manager = login(people["manager_east"])
    assert (
        'data-testid="comment-delete"'
        not in manager.get(f"/activities/comments/?customer={customer.pk}").content.decode()
    )
    assert manager.post(f"/activities/comments/{comment.pk}/delete/").status_code == 404
    response = login(rep).post(f"/activities/comments/{comment.pk}/delete/", headers=HTMX)
    assert (
        response.status_code == 200 and 'data-testid="comments-empty"' in response.content.decode()
    )
    assert not Comment.objects.exists()
