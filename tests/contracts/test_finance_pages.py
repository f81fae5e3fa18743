"""Finance's pages: the payments list (awaiting finance by default for finance, all for the
others; filters; the total of the filter; a constant number of queries), confirming with the
matching per instalment, rejecting with a reason, deleting; the invoices list with its
filters, issuing and voiding. Out of scope is 404, seen but not one's to act on 403."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tuoke.contracts.models import Contract, Invoice, Payment, SalesCredit

from . import records

PAYMENTS = reverse("contracts:payment_list")
INVOICES = reverse("contracts:invoice_list")


@pytest.fixture
def mine(people, customer):
    """rep_east1's effective contract of 300,000 with instalments of 100,000 (overdue) and
    200,000."""
    today = timezone.localdate()
    return records.contract(
        people["rep_east1"],
        customer,
        number="HT-EAST-001",
        title="五轴设备采购合同",
        amount="300000",
        instalments=[
            (today - timedelta(days=5), "100000"),
            (today + timedelta(days=30), "200000"),
        ],
    )


def _rows(response, testid: str) -> list[str]:
    html = response.content.decode()
    return [part.split('"', 1)[0] for part in html.split(f'data-testid="{testid}" data-')[1:]]


def _ids(response, kind: str) -> set[int]:
    html = response.content.decode()
    marker = f'data-testid="{kind}-row" data-{kind}="'
    return {int(part.split('"', 1)[0]) for part in html.split(marker)[1:]}


# --- Payments ---------------------------------------------------------------------------------


def test_finance_sees_what_awaits_confirmation_first(people, mine, login):
    waiting = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    confirmed = records.payment(mine, amount="100000", by=people["finance1"])
    south = records.south_payment(people)
    client = login(people["finance1"])
    response = client.get(PAYMENTS)
    assert response.status_code == 200
    assert _ids(response, "payment") == {waiting.pk}
    html = response.content.decode()
    assert 'data-testid="awaiting-count">1<' in html
    assert 'data-testid="payment-confirm"' in html and 'data-testid="payment-reject"' in html
    assert "¥5,000.00" in html
    everything = client.get(PAYMENTS, {"tab": "all"})
    assert _ids(everything, "payment") == {waiting.pk, confirmed.pk, south.pk}
    assert reverse("contracts:contract_detail", args=[mine.pk]) in everything.content.decode()


def test_a_rep_sees_his_own_payments_without_finances_buttons(people, mine, login):
    waiting = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    confirmed = records.payment(mine, amount="100000", by=people["finance1"])
    records.south_payment(people)
    response = login(people["rep_east1"]).get(PAYMENTS)
    assert response.status_code == 200
    assert _ids(response, "payment") == {waiting.pk, confirmed.pk}
    html = response.content.decode()
    assert 'data-testid="payment-confirm"' not in html
    assert 'data-testid="awaiting-count"' not in html
    # He may delete what he recorded while it waits, not what finance confirmed.
    assert html.count('data-testid="payment-delete"') == 1
    assert reverse("contracts:payment_delete", args=[waiting.pk]) in html
    assert login(people["rep_east2"]).get(PAYMENTS).content.decode().count("payment-row") == 0
    assert login(people["cs1"]).get(PAYMENTS).status_code in (200, 403)


def test_the_payments_list_filters_totals_and_pages_in_constant_queries(
    people, mine, login, settings, django_assert_max_num_queries
):
    today = timezone.localdate()
    for i in range(6):
        made = records.payment(mine, amount="1000", by=people["finance1"])
        Payment.objects.filter(pk=made.pk).update(
            received_on=today - timedelta(days=i), method="cheque" if i % 2 else "bank_transfer"
        )
    usd = records.contract(
        people["rep_east2"],
        records.customer(people["rep_east2"], "东方电气"),
        number="HT-USD-001",
        currency="USD",
        amount="50000",
    )
    records.payment(usd, amount="700", by=people["finance1"])
    client = login(people["finance1"])

    def shown(**params):
        response = client.get(PAYMENTS, {"tab": "all", **params})
        assert response.status_code == 200, response.content[:300]
        return response

    totals = shown().content.decode()
    assert "¥6,000.00" in totals and "US$700.00" in totals
    cheques = shown(method="cheque")
    assert len(_ids(cheques, "payment")) == 3 and "¥3,000.00" in cheques.content.decode()
    recent = shown(received_from=(today - timedelta(days=1)).isoformat())
    assert len(_ids(recent, "payment")) == 3
    old = shown(received_until=(today - timedelta(days=4)).isoformat())
    assert len(_ids(old, "payment")) == 2
    assert len(_ids(shown(owner=people["rep_east2"].pk), "payment")) == 1
    assert len(_ids(shown(customer=mine.customer_id), "payment")) == 6
    assert len(_ids(shown(q="HT-USD"), "payment")) == 1
    bad = client.get(PAYMENTS, {"tab": "all", "received_from": "yesterday"})
    assert bad.status_code == 400

    settings.LIST_PAGE_SIZE = 2
    client.get(PAYMENTS, {"tab": "all"})
    with django_assert_max_num_queries(12) as few:
        first = shown()
    settings.LIST_PAGE_SIZE = 50
    with django_assert_max_num_queries(len(few.captured_queries)):
        shown()
    assert 'data-testid="pagination"' in first.content.decode()


def test_finance_confirms_with_the_matching_of_his_choice(people, mine, login):
    payment = records.payment(mine, amount="150000", confirmed=False, by=people["rep_east1"])
    first, second = mine.instalments.order_by("due_on")
    url = reverse("contracts:payment_confirm", args=[payment.pk])
    client = login(people["finance1"])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # Proposed: the overdue instalment in full, the rest on the next.
    assert f'name="alloc_{first.pk}" value="100000.00"' in html
    assert f'name="alloc_{second.pk}" value="50000.00"' in html
    refused = client.post(url, {f"alloc_{first.pk}": "150000", "version": payment.version})
    assert refused.status_code == 400
    assert "confirm-error" in refused.content.decode()
    typo = client.post(url, {f"alloc_{first.pk}": "abc"})
    assert typo.status_code == 400 and f'data-field-error="alloc_{first.pk}"' in (
        typo.content.decode()
    )
    done = client.post(
        url,
        {f"alloc_{first.pk}": "50000", f"alloc_{second.pk}": "100000", "next": PAYMENTS},
    )
    assert done.status_code == 302 and done.url == PAYMENTS
    payment.refresh_from_db()
    assert payment.status == "confirmed"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.paid_amount, second.paid_amount) == (Decimal("50000"), Decimal("100000"))
    assert SalesCredit.objects.filter(contract=mine).count() == 1
    assert client.post(url).status_code == 400  # confirmed already


def test_the_lists_button_confirms_oldest_due_first(people, mine, login):
    payment = records.payment(mine, amount="120000", confirmed=False, by=people["rep_east1"])
    url = reverse("contracts:payment_confirm", args=[payment.pk])
    stale = login(people["finance1"]).post(url, {"version": payment.version + 3})
    assert stale.status_code == 400
    response = login(people["finance1"]).post(url, {"version": payment.version})
    assert response.status_code == 302
    assert Contract.objects.get(pk=mine.pk).received_amount == Decimal("120000")
    assert [i.paid_amount for i in mine.instalments.order_by("due_on")] == [
        Decimal("100000"),
        Decimal("20000"),
    ]


def test_only_finance_confirms_or_rejects(people, mine, login):
    payment = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    for name in ("payment_confirm", "payment_reject"):
        url = reverse(f"contracts:{name}", args=[payment.pk])
        assert login(people["rep_east1"]).get(url).status_code == 403
        assert login(people["manager_east"]).post(url, {"reason": "x"}).status_code == 403
        assert login(people["rep_east2"]).get(url).status_code == 404
    assert Payment.objects.get(pk=payment.pk).status == "unconfirmed"


def test_finance_rejects_with_a_reason(people, mine, login):
    payment = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    url = reverse("contracts:payment_reject", args=[payment.pk])
    client = login(people["finance1"])
    assert client.get(url).status_code == 200
    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 400 and 'data-field-error="reason"' in empty.content.decode()
    stale = client.post(url, {"reason": "x", "version": payment.version + 1})
    assert stale.status_code == 400
    done = client.post(url, {"reason": "银行流水中未找到", "version": payment.version})
    assert done.status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == "rejected"


def test_payments_are_deleted_after_a_confirmation(people, mine, login):
    waiting = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    confirmed = records.payment(mine, amount="100000", by=people["finance1"])
    rep = login(people["rep_east1"])
    url = reverse("contracts:payment_delete", args=[waiting.pk])
    assert rep.get(url).status_code == 200
    assert login(people["rep_east2"]).post(url).status_code == 404
    assert rep.post(url).status_code == 302
    assert not Payment.objects.filter(pk=waiting.pk).exists()
    theirs = reverse("contracts:payment_delete", args=[confirmed.pk])
    assert rep.get(theirs).status_code == 403
    finance = login(people["finance1"])
    assert "taken back" in finance.get(theirs).content.decode()
    assert finance.post(theirs).status_code == 302
    assert Contract.objects.get(pk=mine.pk).received_amount == 0


# --- Invoices ---------------------------------------------------------------------------------


def test_the_invoices_list_filters_and_pages_in_constant_queries(
    people, mine, login, settings, django_assert_max_num_queries
):
    for i in range(4):
        records.invoice(mine, amount="1000", number=f"INV{i:04d}")
    requested = records.invoice(mine, amount="500", status="requested")
    void = records.invoice(mine, amount="800", number="VOID0001", status="void")
    south = records.south_invoice(people)
    client = login(people["finance1"])

    def shown(**params):
        response = client.get(INVOICES, params)
        assert response.status_code == 200, response.content[:300]
        return response

    everything = shown()
    assert len(_ids(everything, "invoice")) == 7
    html = everything.content.decode()
    assert html.count('data-testid="invoice-issue"') == 1
    assert html.count('data-testid="invoice-void"') == 6  # not the void one
    assert _ids(shown(status="requested"), "invoice") == {requested.pk}
    assert _ids(shown(status="void"), "invoice") == {void.pk}
    assert len(_ids(shown(q="INV000"), "invoice")) == 4
    assert _ids(shown(owner=people["rep_south1"].pk), "invoice") == {south.pk}
    assert len(_ids(shown(kind="vat_special"), "invoice")) == 7
    assert _ids(shown(kind="vat_normal"), "invoice") == set()
    today = timezone.localdate()
    Invoice.objects.filter(number="INV0000").update(issued_on=today - timedelta(days=10))
    assert len(_ids(shown(issued_until=(today - timedelta(days=1)).isoformat()), "invoice")) == 1
    assert len(_ids(shown(issued_from=today.isoformat()), "invoice")) == 4  # 3 + 南方
    # The total leaves the void invoice out: 4 × 1,000 + 500 + 南方 50,000.
    assert "¥54,500.00" in html
    assert client.get(INVOICES, {"issued_from": "soon"}).status_code == 400

    rep = login(people["rep_east1"]).get(INVOICES)
    assert len(_ids(rep, "invoice")) == 6 and "invoice-issue" not in rep.content.decode()

    settings.LIST_PAGE_SIZE = 2
    client.get(INVOICES)
    with django_assert_max_num_queries(10) as few:
        shown()
    settings.LIST_PAGE_SIZE = 50
    with django_assert_max_num_queries(len(few.captured_queries)):
        shown()


def test_finance_issues_a_requested_invoice(people, mine, login):
    invoice = records.invoice(mine, amount="113000", status="requested")
    url = reverse("contracts:invoice_issue", args=[invoice.pk])
    assert login(people["rep_east1"]).get(url).status_code == 403
    assert login(people["rep_east2"]).get(url).status_code == 404
    client = login(people["finance1"])
    page = client.get(url)
    assert page.status_code == 200
    assert timezone.localdate().isoformat() in page.content.decode()
    empty = client.post(url, {"number": "", "issued_on": "2026-08-01"})
    assert empty.status_code == 400 and 'data-field-error="number"' in empty.content.decode()
    done = client.post(
        url, {"number": "04400261120012345678", "issued_on": "2026-08-01", "next": INVOICES}
    )
    assert done.status_code == 302 and done.url == INVOICES
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.issued_on.isoformat()) == (
        "issued",
        "04400261120012345678",
        "2026-08-01",
    )
    again = client.post(url, {"number": "1", "issued_on": "2026-08-01"})
    assert again.status_code == 400


def test_finance_voids_an_invoice_with_a_reason(people, mine, login):
    invoice = records.invoice(mine, amount="1000", number="INV0001")
    url = reverse("contracts:invoice_void", args=[invoice.pk])
    assert login(people["rep_east1"]).post(url, {"reason": "x"}).status_code == 403
    client = login(people["finance1"])
    assert "INV0001" in client.get(url).content.decode()
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "x", "version": invoice.version + 1}).status_code == 400
    assert client.post(url, {"reason": "抬头开错", "version": invoice.version}).status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).status == "void"


def test_anonymous_users_go_to_the_login_page(client, people, mine):
    payment = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    for url in (PAYMENTS, INVOICES, reverse("contracts:payment_confirm", args=[payment.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response.url
