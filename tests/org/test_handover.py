"""Handover: a leaver's customers (and whatever later apps register) go to a colleague in one
audited step, from the user page, the deactivation page and the API; deactivating with a
handover is one step too, all or nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tuoke.core.models import AuditEntry
from tuoke.customers.models import Customer
from tuoke.customers.services import create_customer
from tuoke.org import handover, services


@pytest.fixture
def book(people):
    """rep_east1 owns three customers, one of them shared with rep_east2 as collaborator."""
    rep = people["rep_east1"]
    return [
        create_customer(by=rep, short_name=name) for name in ("东方精密", "华星电子", "明辉物流")
    ]


def test_it_hands_every_customer_to_the_colleague_with_the_reason(people, book):
    moved = handover.hand_over(
        people["rep_east1"], to=people["rep_east2"], reason="离职交接", by=people["manager_east"]
    )
    assert moved == {"customers": 3}
    assert set(Customer.objects.filter(owner=people["rep_east2"])) == set(book)
    entry = AuditEntry.objects.filter(object_id=str(book[0].pk), note__contains="离职交接")
    assert entry.exists()
    person_entry = AuditEntry.objects.filter(
        object_id=str(people["rep_east1"].pk), note__contains="离职交接"
    ).get()
    assert person_entry.actor == people["manager_east"]


def test_it_counts_what_a_person_owns(people, book):
    [holding] = [
        h
        for h in handover.holdings(people["rep_east1"], by=people["manager_east"])
        if h.kind.key == "customers"
    ]
    assert (holding.count, holding.allowed) == (3, 3)


def test_a_rep_may_not_hand_over_a_colleagues_customers(people, book):
    with pytest.raises(PermissionDenied):
        handover.hand_over(
            people["rep_east1"], to=people["rep_east2"], reason="x", by=people["rep_east2"]
        )
    assert Customer.objects.filter(owner=people["rep_east1"]).count() == 3


@pytest.mark.parametrize(
    ("to", "reason", "field"),
    [(None, "离职", "to"), ("rep_east1", "离职", "to"), ("rep_east2", "  ", "reason")],
)
def test_it_refuses_a_handover_without_a_colleague_or_reason(people, book, to, reason, field):
    with pytest.raises(ValidationError) as caught:
        handover.hand_over(
            people["rep_east1"],
            to=people[to] if to else None,
            reason=reason,
            by=people["manager_east"],
        )
    assert field in caught.value.message_dict


def test_it_refuses_an_inactive_colleague(people, book):
    from tuoke.org.services import deactivate_user

    deactivate_user(people["rep_east2"], by=None)
    with pytest.raises(ValidationError):
        handover.hand_over(
            people["rep_east1"], to=people["rep_east2"], reason="离职", by=people["admin"]
        )


# --- Deactivation with a handover --------------------------------------------------------------


def _is_active(user) -> bool:
    user.refresh_from_db(fields=["is_active"])
    return user.is_active


def test_deactivating_with_a_handover_moves_his_records_in_the_same_step(people, book):
    rep = people["rep_east1"]
    moved = services.deactivate_user(
        rep, by=people["admin"], hand_over_to=people["rep_east2"], reason="离职交接"
    )
    assert moved == {"customers": 3}
    assert not _is_active(rep)
    assert Customer.objects.filter(owner=people["rep_east2"]).count() == 3
    notes = AuditEntry.objects.filter(object_id=str(rep.pk), actor=people["admin"])
    assert notes.filter(note__contains="离职交接").exists()
    assert any(change["field"] == "is_active" for entry in notes for change in entry.changes), (
        "the deactivation is audited too"
    )


def test_deactivating_without_a_handover_leaves_his_records_with_him(people, book):
    rep = people["rep_east1"]
    assert services.deactivate_user(rep, by=people["admin"], reason="无人接手") == {}
    assert not _is_active(rep)
    assert Customer.objects.filter(owner=rep).count() == 3


def test_a_refused_handover_leaves_him_active(people, book):
    rep = people["rep_east1"]
    with pytest.raises(PermissionDenied):
        services.deactivate_user(
            rep, by=people["rep_east2"], hand_over_to=people["rep_east2"], reason="抢客户"
        )
    with pytest.raises(ValidationError) as caught:
        services.deactivate_user(rep, by=people["admin"], hand_over_to=people["rep_east2"])
    assert "reason" in caught.value.message_dict
    assert _is_active(rep)
    assert Customer.objects.filter(owner=rep).count() == 3


def test_a_handover_failing_halfway_changes_nothing(people, book, monkeypatch):
    """Customers move first; a kind handed over after them fails: they come back, and he
    stays active."""

    def refuse(records, *, to, reason, by):
        assert Customer.objects.filter(owner=to).count() == 3  # the customers moved already
        raise ValidationError("这类记录无法交接")

    failing = handover.Kind(
        key="failing",
        label="failing",
        record_type="customer",
        owned_by=lambda person: Customer.objects.filter(owner=person),
        transfer=refuse,
        order=10_000,
    )
    monkeypatch.setitem(handover._kinds, failing.key, failing)
    rep = people["rep_east1"]
    with pytest.raises(ValidationError):
        services.deactivate_user(
            rep, by=people["admin"], hand_over_to=people["rep_east2"], reason="离职"
        )
    assert _is_active(rep)
    assert Customer.objects.filter(owner=rep).count() == 3
    assert not AuditEntry.objects.filter(note__contains="离职").exists()


def test_a_refused_deactivation_takes_the_handover_back(people):
    """Nobody deactivates himself: his records, handed over first, stay his."""
    admin = people["admin"]
    mine = create_customer(by=admin, short_name="东方精密")
    with pytest.raises(ValidationError) as caught:
        services.deactivate_user(
            admin, by=admin, hand_over_to=people["rep_east2"], reason="离职交接"
        )
    assert "is_active" in caught.value.message_dict
    assert _is_active(admin)
    assert Customer.objects.get(pk=mine.pk).owner == admin
    assert not AuditEntry.objects.filter(note__contains="离职交接").exists()


# --- Pages ------------------------------------------------------------------------------------


def test_the_deactivation_page_offers_the_handover(people, book, login):
    admin = login(people["admin"])
    url = f"/org/users/{people['rep_east1'].pk}/deactivate/"
    page = admin.get(url).content.decode()
    assert 'data-testid="holding-customers">3<' in page
    response = admin.post(url, {"to": people["rep_east2"].pk, "reason": "离职"})
    assert response.status_code == 302
    people["rep_east1"].refresh_from_db()
    assert not people["rep_east1"].is_active
    assert Customer.objects.filter(owner=people["rep_east2"]).count() == 3


def test_deactivation_without_a_colleague_keeps_the_records_with_him(people, book, login):
    url = f"/org/users/{people['rep_east1'].pk}/deactivate/"
    assert login(people["admin"]).post(url, {"to": "", "reason": ""}).status_code == 302
    assert Customer.objects.filter(owner=people["rep_east1"]).count() == 3


def test_deactivation_with_a_colleague_but_no_reason_changes_nothing(people, book, login):
    url = f"/org/users/{people['rep_east1'].pk}/deactivate/"
    response = login(people["admin"]).post(url, {"to": people["rep_east2"].pk, "reason": ""})
    assert response.status_code == 400
    assert 'data-field-error="reason"' in response.content.decode() or "reason" in str(
        response.context["form"].errors
    )
    people["rep_east1"].refresh_from_db()
    assert people["rep_east1"].is_active
    assert Customer.objects.filter(owner=people["rep_east1"]).count() == 3


def test_the_deactivation_page_reports_a_refusal_and_hands_nothing_over(people, login):
    admin = people["admin"]
    mine = create_customer(by=admin, short_name="东方精密")
    url = f"/org/users/{admin.pk}/deactivate/"
    response = login(admin).post(url, {"to": people["rep_east2"].pk, "reason": "离职"})
    assert response.status_code == 400
    assert "You cannot deactivate yourself." in response.content.decode()
    assert _is_active(admin)
    assert Customer.objects.get(pk=mine.pk).owner == admin


def test_the_deactivation_page_says_what_was_handed_over(people, book, login):
    url = f"/org/users/{people['rep_east1'].pk}/deactivate/"
    response = login(people["admin"]).post(
        url, {"to": people["rep_east2"].pk, "reason": "离职"}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any("can no longer log in" in m for m in shown), shown
    assert any(m.startswith("Handed over:") and "3" in m for m in shown), shown


def test_a_manager_hands_over_from_the_user_page(people, book, login):
    manager = login(people["manager_east"])
    detail = manager.get(f"/org/users/{people['rep_east1'].pk}/").content.decode()
    assert 'data-testid="user-handover"' in detail
    url = f"/org/users/{people['rep_east1'].pk}/handover/"
    assert manager.get(url).status_code == 200
    response = manager.post(url, {"to": people["rep_east2"].pk, "reason": "调岗"})
    assert response.status_code == 302
    assert Customer.objects.filter(owner=people["rep_east2"]).count() == 3


def test_a_rep_sees_no_handover_and_is_refused(people, book, login):
    rep = login(people["rep_east2"])
    detail = rep.get(f"/org/users/{people['rep_east1'].pk}/")
    assert 'data-testid="user-handover"' not in detail.content.decode()
    url = f"/org/users/{people['rep_east1'].pk}/handover/"
    response = rep.post(url, {"to": people["rep_east2"].pk, "reason": "抢客户"})
    assert response.status_code == 400
    assert Customer.objects.filter(owner=people["rep_east1"]).count() == 3


def test_the_handover_page_needs_a_colleague_and_a_reason(people, book, login):
    url = f"/org/users/{people['rep_east1'].pk}/handover/"
    response = login(people["manager_east"]).post(url, {"to": "", "reason": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"to", "reason"}


def test_open_leads_go_with_the_customers_and_closed_ones_stay(people, book):
    from tuoke.leads.models import Lead
    from tuoke.leads.services import clean_lead, create_lead

    rep = people["rep_east1"]
    open_lead = create_lead(by=rep, owner=rep, company_name="星河科技", contact_name="何先生")
    junk = create_lead(by=rep, owner=rep, company_name="测试公司", contact_name="测试")
    clean_lead(junk, kind="junk", reason="测试数据", by=rep)
    moved = handover.hand_over(
        rep, to=people["rep_east2"], reason="离职交接", by=people["manager_east"]
    )
    assert moved == {"customers": 3, "leads": 1}
    assert Lead.objects.get(pk=open_lead.pk).owner == people["rep_east2"]
    assert Lead.objects.get(pk=junk.pk).owner == rep
