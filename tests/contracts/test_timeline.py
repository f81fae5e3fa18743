"""Contracts on the customer's timeline: drafted, effective, ended; their approvals; payments
and invoices, each seen within the reader's scope of its record type."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts.models import Contract
from tuoke.core import timeline
from tuoke.org.models import ApprovalAction

CONTRACT_KINDS = [
    "contract",
    "contract_effective",
    "contract_closed",
    "approval",
    "payment",
    "invoice",
]


@pytest.fixture
def customer(rep_east):
    return records.customer(rep_east, "腾达精密")


def _at(model, pk, field, minutes_ago):
    model.all_objects.filter(pk=pk).update(
        **{field: timezone.now() - timedelta(minutes=minutes_ago)}
    )


@pytest.fixture
def story(people, rep_east, customer):
    """rep_east1's contract drafted, submitted, approved, paid twice (one awaiting finance),
    invoiced; an older contract terminated; in that order in time."""
    finance = people["finance1"]
    old = records.contract(
        rep_east, customer, number="HT-OLD-1", title="旧合同", amount="80000", status="terminated"
    )
    Contract.objects.filter(pk=old.pk).update(
        closed_at=timezone.now() - timedelta(minutes=500),
        termination_reason="客户业务调整",
        created_at=timezone.now() - timedelta(minutes=900),
        effective_at=timezone.now() - timedelta(minutes=800),
    )
    made = records.contract(
        rep_east,
        customer,
        number="HT-TL-1",
        title="MES 一期",
        amount="600000",
        status="effective",
        instalments=[(timezone.localdate(), "300000"), (timezone.localdate(), "300000")],
    )
    _at(Contract, made.pk, "created_at", 100)
    request = records.pending_request(
        rep_east, made, approvers_per_step=[[people["manager_east"]]], title="HT-TL-1 MES 一期"
    )
    ApprovalAction.objects.filter(request=request).update(at=timezone.now() - timedelta(minutes=90))
    step = request.steps.get()
    approve = ApprovalAction.objects.create(
        request=request, step=step, kind="approve", actor=people["manager_east"], comment="同意"
    )
    ApprovalAction.objects.filter(pk=approve.pk).update(at=timezone.now() - timedelta(minutes=80))
    request.status = "approved"
    request.save(update_fields=["status"])
    _at(Contract, made.pk, "effective_at", 79)
    paid = records.payment(made, amount="300000", by=finance)
    _at(type(paid), paid.pk, "created_at", 60)
    waiting = records.payment(made, amount="100000", confirmed=False, by=rep_east)
    _at(type(waiting), waiting.pk, "created_at", 50)
    bill = records.invoice(made, amount="300000", number="04400001")
    _at(type(bill), bill.pk, "created_at", 40)
    return {"contract": made, "old": old, "request": request}


def test_it_tells_a_contracts_story_newest_first(rep_east, customer, story):
    page = timeline.page(customer, rep_east, kinds=CONTRACT_KINDS)
    told = [(e.kind, e.title) for e in page.events]
    assert told == [
        ("invoice", "Invoice issued: ¥300,000.00 (HT-TL-1)"),
        ("payment", "Payment recorded, awaiting finance: ¥100,000.00 (HT-TL-1)"),
        ("payment", "Payment received: ¥300,000.00 (HT-TL-1)"),
        ("contract_effective", "Contract effective: HT-TL-1 MES 一期"),
        ("approval", "Approved: HT-TL-1 MES 一期"),
        ("approval", "Submitted for approval: HT-TL-1 MES 一期"),
        ("contract", "Contract drafted: HT-TL-1 MES 一期"),
        ("contract_closed", "Contract terminated: HT-OLD-1 旧合同"),
        ("contract_effective", "Contract effective: HT-OLD-1 旧合同"),
        ("contract", "Contract drafted: HT-OLD-1 旧合同"),
    ]
    invoice, waiting, paid = page.events[:3]
    assert "04400001" in invoice.body and "¥34,513.27" in invoice.body  # 13 % tax included
    assert "Awaiting finance" in waiting.body and waiting.color == "yellow"
    assert "Confirmed" in paid.body and paid.color == "green"
    approved = page.events[4]
    assert "同意" in approved.body and approved.actor.username == "manager_east"
    terminated = page.events[7]
    assert "客户业务调整" in terminated.body and terminated.color == "red"
    assert {"contract", "approval", "payment", "invoice"} <= {s.key for s in page.kinds}


def test_it_pages_the_contract_events_by_cursor(rep_east, customer, story):
    first = timeline.page(customer, rep_east, kinds=CONTRACT_KINDS, limit=4)
    assert first.has_more
    second = timeline.page(
        customer,
        rep_east,
        kinds=CONTRACT_KINDS,
        before=timeline.Cursor.decode(first.next_cursor),
        limit=20,
    )
    ids = [e.id for e in first.events + second.events]
    assert len(ids) == len(set(ids)) == 10


def test_it_shows_only_what_the_reader_may_see(
    people, rep_east, rep_south, customer, story, django_assert_max_num_queries
):
    """rep_south1's contract on the same customer (with its approval, payment and invoice)
    stays out of rep_east1's timeline; his manager sees his own team's."""
    theirs = records.contract(
        rep_south, customer, number="HT-SOUTH-TL", title="南方的合同", amount="700000"
    )
    request = records.pending_request(
        rep_south, theirs, approvers_per_step=[[people["manager_south"]]]
    )
    records.payment(theirs, amount="1000", by=people["finance1"])
    records.invoice(theirs, amount="1000", number="SOUTH-INV")
    with django_assert_max_num_queries(20):
        page = timeline.page(customer, rep_east, kinds=CONTRACT_KINDS)
    assert len(page.events) == 10
    assert not any("HT-SOUTH-TL" in e.title or "南方" in e.title for e in page.events)
    south = timeline.page(customer, people["manager_south"], kinds=CONTRACT_KINDS)
    assert {e.title for e in south.events} >= {
        "Contract drafted: HT-SOUTH-TL 南方的合同",
        f"Submitted for approval: {request.title}",
        "Payment received: ¥1,000.00 (HT-SOUTH-TL)",
        "Invoice issued: ¥1,000.00 (HT-SOUTH-TL)",
    }
    assert not any("HT-TL-1" in e.title for e in south.events)


def test_the_approver_sees_the_actions_of_requests_he_decides(people, customer, story):
    """Finance reads every contract but only the approval requests naming him."""
    finance = people["finance1"]
    page = timeline.page(customer, finance, kinds=["approval", "payment"])
    assert [e.kind for e in page.events] == ["payment", "payment"]
    manager = timeline.page(customer, people["manager_east"], kinds=["approval"])
    assert len(manager.events) == 2


def test_the_chips_are_left_out_for_people_who_see_none_of_it(people):
    keys = {s.key for s in timeline.sources("customer", people["marketing1"])}
    assert not keys & set(CONTRACT_KINDS)
    boss = {s.key for s in timeline.sources("customer", people["boss"])}
    assert set(CONTRACT_KINDS) <= boss
