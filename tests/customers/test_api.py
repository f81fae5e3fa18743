"""The customers API: scope, the duplicate check, version conflicts, merge and transfer."""

import pytest

from tuoke.customers import services
from tuoke.customers.models import Customer

from .test_services import CODE


@pytest.fixture
def customers(people):
    rep, south = people["rep_east1"], people["rep_south1"]
    return {
        "mine": services.create_customer(
            by=rep,
            legal_name="深圳市腾达精密科技有限公司",
            short_name="腾达精密",
            credit_code=CODE,
            contacts=[{"name": "王强", "mobile": "13800138000", "is_key_person": True}],
        ),
        "colleague": services.create_customer(by=people["rep_east2"], short_name="东方电气"),
        "south": services.create_customer(by=south, legal_name="广州市白云机电有限公司"),
    }


def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_it_lists_only_customers_in_scope_in_constant_queries(
    people, customers, login, django_assert_max_num_queries
):
    for i in range(30):
        services.create_customer(by=people["rep_east1"], short_name=f"客户{i:02d}")
    client = login(people["rep_east1"])
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/customers?page_size=50").json()
    assert body["count"] == 31
    names = {c["display_name"] for c in body["items"]}
    assert "腾达精密" in names and "东方电气" not in names
    manager = login(people["manager_east"]).get("/api/v1/customers?page_size=50").json()
    assert manager["count"] == 32


def test_it_finds_customers_by_pinyin_initials_and_variant_names(people, customers, login):
    client = login(people["rep_east1"])
    assert client.get("/api/v1/customers", {"q": "tdjm"}).json()["count"] == 1
    assert client.get("/api/v1/customers", {"q": "騰達精密科技"}).json()["count"] == 1
    assert client.get("/api/v1/customers", {"q": CODE}).json()["count"] == 1


def test_it_refuses_the_same_company_with_a_field_error(people, customers, login):
    client = login(people["rep_east1"])
    response = _post(client, "/api/v1/customers", {"legal_name": "腾达精密科技（深圳）有限公司"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "duplicate" and "腾达精密" in error["message"]


def test_it_refuses_a_wrong_credit_code_with_the_reason(people, login):
    client = login(people["rep_east1"])
    response = _post(client, "/api/v1/customers", {"short_name": "甲", "credit_code": "123"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "credit_code"
    assert "18" in response.json()["errors"][0]["message"]


def test_it_creates_a_customer_with_contacts(people, login):
    client = login(people["rep_east1"])
    response = _post(
        client,
        "/api/v1/customers",
        {
            "legal_name": "杭州西湖软件有限公司",
            "contacts": [{"name": "周婷", "mobile": "139 0571 0000", "email": "Zhou@XiHu.cn"}],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"]["username"] == "rep_east1"
    assert body["contacts"][0]["mobile"] == "+8613905710000"
    assert body["contacts"][0]["email"] == "zhou@xihu.cn"


def _decoded(token: str) -> str:
    import base64

    return base64.urlsafe_b64decode(token + "==").decode("latin-1")


def test_it_shows_out_of_scope_duplicates_only_by_name_and_owner(people, customers, login):
    client = login(people["rep_east1"])
    body = _post(client, "/api/v1/customers/duplicates", {"legal_name": "白云机电有限公司"}).json()
    assert body["blocking"] is True
    candidate = body["candidates"][0]
    token = candidate.pop("access_token")
    assert candidate == {
        "kind": "same",
        "score": 100.0,
        "reasons": ["same name"],
        "name": "广州市白云机电有限公司",
        "owner": "黄敏",
        "id": None,
    }
    # The token to ask for access is opaque: the customer's id cannot be read from it.
    assert token and f"[{customers['south'].pk}," not in _decoded(token)
    mine = _post(client, "/api/v1/customers/duplicates", {"phones": ["138-0013-8000"]}).json()
    assert mine["candidates"][0]["id"] == customers["mine"].pk


def test_it_detects_a_stale_version(people, customers, login):
    client = login(people["rep_east1"])
    mine = customers["mine"]
    url = f"/api/v1/customers/{mine.pk}"
    ok = client.patch(url, {"version": mine.version, "industry": "制造"}, "application/json")
    assert ok.status_code == 200 and ok.json()["industry"] == "制造"
    stale = client.patch(url, {"version": mine.version, "industry": "贸易"}, "application/json")
    assert stale.status_code == 409


def test_it_hides_and_protects_customers_out_of_scope(people, customers, login):
    client = login(people["rep_east1"])
    south = customers["south"]
    assert client.get(f"/api/v1/customers/{south.pk}").status_code == 404
    assert client.delete(f"/api/v1/customers/{south.pk}").status_code == 404
    assert Customer.objects.filter(pk=south.pk).exists()


def test_it_deletes_softly(people, customers, login):
    client = login(people["rep_east1"])
    mine = customers["mine"]
    assert client.delete(f"/api/v1/customers/{mine.pk}").status_code == 204
    assert Customer.all_objects.get(pk=mine.pk).is_deleted


def test_it_merges_two_customers(people, customers, login):
    manager = login(people["manager_east"])
    keep, other = customers["mine"], customers["colleague"]
    response = _post(manager, f"/api/v1/customers/{keep.pk}/merge", {"other_id": other.pk})
    assert response.status_code == 200
    assert Customer.all_objects.get(pk=other.pk).is_deleted


def test_it_lets_managers_transfer_customers_but_not_reps(people, customers, login):
    payload = {
        "customer_ids": [customers["mine"].pk],
        "to_user_id": people["rep_east2"].pk,
        "reason": "张伟休假",
    }
    assert (
        _post(login(people["rep_east1"]), "/api/v1/customers/transfer", payload).status_code == 403
    )
    response = _post(login(people["manager_east"]), "/api/v1/customers/transfer", payload)
    assert response.json() == {"transferred": 1}
    customers["mine"].refresh_from_db()
    assert customers["mine"].owner == people["rep_east2"]
    south = {**payload, "customer_ids": [customers["south"].pk]}
    assert (
        _post(login(people["manager_east"]), "/api/v1/customers/transfer", south).status_code == 404
    )


def test_it_adds_and_edits_contacts(people, customers, login):
    client = login(people["rep_east1"])
    mine = customers["mine"]
    created = _post(
        client, f"/api/v1/customers/{mine.pk}/contacts", {"name": "李娜", "email": "li@td.cn"}
    )
    assert created.status_code == 201
    contact = created.json()
    patched = client.patch(
        f"/api/v1/contacts/{contact['id']}",
        {"version": contact["version"], "title": "总经理"},
        "application/json",
    )
    assert patched.json()["title"] == "总经理"
    assert len(client.get(f"/api/v1/customers/{mine.pk}/contacts").json()) == 2
