"""Asking the owner for access: rep_south1 finds rep_east1's customer in the duplicate check,
where he learns only its name and owner, asks for access; the owner (or his manager) grants
or declines it on the customer page, and the requester sees the answer."""

import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tuoke.core.audit import trail_of
from tuoke.customers import services
from tuoke.customers.models import AccessRequest, Collaborator

from .test_services import CODE


@pytest.fixture
def owner(people):
    return people["rep_east1"]


@pytest.fixture
def asker(people):
    return people["rep_south1"]


@pytest.fixture
def customer(owner):
    return services.create_customer(
        by=owner, legal_name="深圳市腾讯计算机系统有限公司", short_name="腾讯", credit_code=CODE
    )


def _url(name, *args):
    return reverse(f"customers:{name}", args=args)


def _ask_url(client, credit_code=CODE) -> str:
    body = client.post(_url("customer_duplicates"), {"credit_code": credit_code}).content.decode()
    found = re.search(r'href="([^"]+)" data-testid="ask-access"', body)
    assert found, "the duplicate check offers to ask the owner"
    return unescape(found.group(1))


def test_the_duplicate_check_leads_to_a_request_showing_only_name_and_owner(
    owner, asker, customer, login
):
    client = login(asker)
    form = client.get(_ask_url(client))
    body = form.content.decode()
    assert form.status_code == 200
    assert "腾讯" in body and str(owner) in body
    assert CODE not in body and "深圳市腾讯计算机系统有限公司" not in body
    token = form.context["token"]
    response = client.post(
        _url("access_request_create"), {"token": token, "access": "edit", "message": "客户来电"}
    )
    assert response.url == _url("access_request_list")
    request = AccessRequest.objects.get()
    assert (request.customer, request.requester, request.access, request.status) == (
        customer,
        asker,
        "edit",
        "pending",
    )
    assert "asked for access" in trail_of(customer).first().note
    again = client.post(_url("access_request_create"), {"token": token, "access": "edit"})
    assert again.status_code == 200
    assert AccessRequest.objects.count() == 1
    check = client.post(_url("customer_duplicates"), {"credit_code": CODE}).content.decode()
    assert 'data-testid="access-asked"' in check and 'data-testid="ask-access"' not in check


def test_a_token_works_only_for_the_user_it_was_made_for(people, asker, customer, login):
    url = _ask_url(login(asker))
    assert login(people["rep_south2"]).get(url).status_code == 404
    assert login(asker).get(url + "x").status_code == 404
    assert login(asker).get(_url("access_request_create")).status_code == 404


def test_the_owner_grants_the_request_on_the_customer_page(owner, asker, customer, login):
    request = services.request_access(customer, by=asker, access="read", message="老客户")
    client = login(owner)
    page = client.get(_url("customer_detail", customer.pk)).content.decode()
    assert 'data-testid="pending-requests"' in page and "老客户" in page
    response = client.post(
        _url("access_request_decide", request.pk),
        {"decision": "grant", "access": "edit", "note": "好的"},
    )
    assert response.url == _url("customer_detail", customer.pk)
    request.refresh_from_db()
    assert (request.status, request.access, request.decided_by) == ("granted", "edit", owner)
    assert Collaborator.objects.get(customer=customer, user=asker).access == "edit"
    asker_client = login(asker)
    assert asker_client.get(_url("customer_detail", customer.pk)).status_code == 200
    mine = asker_client.get(_url("access_request_list")).content.decode()
    assert 'data-status="granted"' in mine and "好的" in mine
    assert _url("customer_detail", customer.pk) in mine


def test_the_owner_declines_and_the_requester_sees_it(owner, asker, customer, login):
    request = services.request_access(customer, by=asker)
    login(owner).post(
        _url("access_request_decide", request.pk), {"decision": "decline", "note": "不方便"}
    )
    request.refresh_from_db()
    assert request.status == "declined"
    assert not Collaborator.objects.filter(customer=customer).exists()
    mine = login(asker).get(_url("access_request_list")).content.decode()
    assert 'data-status="declined"' in mine and "不方便" in mine
    assert _url("customer_detail", customer.pk) not in mine
    assert login(asker).get(_url("customer_detail", customer.pk)).status_code == 404


def test_the_owners_manager_may_answer_a_colleague_or_outsider_may_not(
    people, asker, customer, login
):
    request = services.request_access(customer, by=asker)
    url = _url("access_request_decide", request.pk)
    for outsider in ("rep_east2", "manager_south", "rep_south1"):
        assert login(people[outsider]).post(url, {"decision": "grant"}).status_code == 404
    assert AccessRequest.objects.get().status == "pending"
    manager = login(people["manager_east"])
    waiting = manager.get(_url("access_request_list")).content.decode()
    assert 'data-requester="rep_south1"' in waiting
    manager.post(url, {"decision": "grant", "next": _url("access_request_list")})
    assert AccessRequest.objects.get().status == "granted"
    assert Collaborator.objects.get(customer=customer, user=asker).access == "read"


def test_a_request_is_answered_only_once(owner, people, asker, customer, login):
    request = services.request_access(customer, by=asker)
    services.decline_access_request(request, by=owner)
    with pytest.raises(ValidationError) as caught:
        services.grant_access_request(request, by=people["manager_east"])
    assert "status" in caught.value.message_dict
    assert not Collaborator.objects.filter(customer=customer).exists()


def test_nobody_asks_for_what_he_has(owner, people, customer):
    with pytest.raises(ValidationError):
        services.request_access(customer, by=owner)
    with pytest.raises(ValidationError):
        services.request_access(customer, by=people["manager_east"], access="edit")
    services.set_collaborator(customer, user=people["rep_east2"], access="read", by=owner)
    with pytest.raises(ValidationError):
        services.request_access(customer, by=people["rep_east2"], access="read")
    assert services.request_access(customer, by=people["rep_east2"], access="edit").is_pending


def test_the_requester_cannot_answer_his_own_request(owner, people, customer):
    colleague = people["rep_east2"]
    services.set_collaborator(customer, user=colleague, access="edit", by=owner)
    services.set_collaborator(customer, user=colleague, access="read", by=owner)
    request = services.request_access(customer, by=colleague, access="edit")
    with pytest.raises(ValidationError):
        services.grant_access_request(request, by=colleague)


def test_the_request_list_costs_the_same_few_queries_for_many_requests(
    people, owner, login, django_assert_max_num_queries
):
    for i in range(12):
        customer = services.create_customer(by=owner, short_name=f"华东客户{i:02d}")
        services.request_access(customer, by=people["rep_south1"])
        services.request_access(customer, by=people["rep_south2"])
    asker, owner_client = login(people["rep_south1"]), login(owner)
    with django_assert_max_num_queries(12):
        mine = asker.get(_url("access_request_list"))
    assert len(mine.context["mine"].object_list) == 12
    with django_assert_max_num_queries(12):
        waiting = owner_client.get(_url("access_request_list"))
    assert waiting.context["waiting"].paginator.count == 24
