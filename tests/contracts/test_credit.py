"""Sales credit: given only when money arrives (the default rule) or when the contract becomes
effective (the approval rule), reversed when a confirmed payment is deleted, converted to the
reporting currency, and read through the one service (credits, credited_total, credit_by_…)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts import payments
from tuoke.contracts.models import ContractSettings, SalesCredit
from tuoke.core.models import ExchangeRate

TODAY = timezone.localdate()
YEAR = (date(TODAY.year - 1, 1, 1), date(TODAY.year + 1, 12, 31))


def _rule(rule: str) -> None:
    settings = ContractSettings.current()
    settings.credit_rule = rule
    settings.save()


def _rate(currency: str, valid_on: date, rate: str) -> ExchangeRate:
    return ExchangeRate.objects.create(currency=currency, valid_on=valid_on, rate=Decimal(rate))


@pytest.fixture
def contract(people):
    rep = people["rep_east1"]
    return records.contract(
        rep,
        records.customer(rep, "腾达精密"),
        number="HT-CR-001",
        amount="300000",
        instalments=[(TODAY - timedelta(days=10), "300000")],
    )


def _total(**kwargs) -> Decimal:
    return payments.credited_total(start=YEAR[0], end=YEAR[1], **kwargs)


def test_credit_appears_only_when_money_arrives(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    assert payments.credit_rule() == "payment"
    # Effective contract: no credit under the payment rule.
    assert payments.credit_contract_effective(contract, by=finance) is None
    day = TODAY - timedelta(days=3)
    payment = payments.record_payment(contract=contract, amount="80000", received_on=day, by=rep)
    assert _total(owner=rep) == 0
    assert not SalesCredit.objects.exists()
    payments.confirm_payment(payment, by=finance)
    credit = SalesCredit.objects.get()
    assert (credit.owner, credit.unit, credit.cause) == (rep, rep.unit, "payment")
    assert (credit.amount, credit.currency, credit.reporting_amount) == (
        Decimal("80000"),
        "CNY",
        Decimal("80000"),
    )
    assert credit.credited_on == day
    assert credit.payment == payment and credit.contract == contract
    assert _total(owner=rep) == Decimal("80000")
    assert _total(owner=people["rep_east2"]) == 0


def test_a_rejected_payment_earns_nothing(people, contract):
    payment = payments.record_payment(
        contract=contract, amount="80000", received_on=TODAY, by=people["rep_east1"]
    )
    payments.reject_payment(payment, by=people["finance1"], reason="未到账")
    assert _total() == 0


def test_credit_goes_to_the_owner_at_the_time(people, contract):
    finance = people["finance1"]
    payments.record_payment(contract=contract, amount="1000", received_on=TODAY, by=finance)
    contract.owner = people["rep_east2"]
    contract.save(update_fields=["owner"])
    payments.record_payment(contract=contract, amount="2000", received_on=TODAY, by=finance)
    assert payments.credit_by_owner(start=TODAY, end=TODAY) == {
        people["rep_east1"].pk: Decimal("1000"),
        people["rep_east2"].pk: Decimal("2000"),
    }


def test_the_approval_rule_credits_the_contract_when_effective_and_not_payments(people, contract):
    _rule("approval")
    rep, finance = people["rep_east1"], people["finance1"]
    credit = payments.credit_contract_effective(contract, by=people["manager_east"])
    assert credit is not None
    assert (credit.cause, credit.amount, credit.owner, credit.payment) == (
        "approval",
        Decimal("300000"),
        rep,
        None,
    )
    assert credit.credited_on == timezone.localdate(contract.effective_at)
    # Once only.
    assert payments.credit_contract_effective(contract, by=finance) is None
    payments.record_payment(contract=contract, amount="100000", received_on=TODAY, by=finance)
    payment = payments.record_payment(contract=contract, amount="5000", received_on=TODAY, by=rep)
    payments.confirm_payment(payment, by=finance)
    assert SalesCredit.objects.count() == 1
    assert _total(owner=rep) == Decimal("300000")
    # Deleting a payment under this rule reverses nothing.
    payments.delete_payment(payment, by=finance)
    assert _total(owner=rep) == Decimal("300000")


def test_deleting_a_confirmed_payment_reverses_its_credit(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    day = TODAY - timedelta(days=40)
    payment = payments.record_payment(
        contract=contract, amount="50000", received_on=day, by=finance
    )
    payments.record_payment(contract=contract, amount="10000", received_on=TODAY, by=finance)
    assert _total(owner=rep) == Decimal("60000")
    payments.delete_payment(payment, by=finance)
    reversal = SalesCredit.objects.get(cause="reversal")
    assert (reversal.amount, reversal.reporting_amount) == (Decimal("-50000"), Decimal("-50000"))
    assert reversal.credited_on == day  # that period comes out as if it never arrived
    assert reversal.payment_id == payment.pk
    assert _total(owner=rep) == Decimal("10000")
    assert payments.credited_total(start=day, end=day, owner=rep) == 0
    # Restored from the bin and confirmed again: credited again.
    from tuoke.core import services as core_services

    core_services.restore(payment, by=finance)
    payments.confirm_payment(payment, by=finance)
    assert _total(owner=rep) == Decimal("60000")


def test_credit_is_converted_at_the_rate_of_the_day_money_arrived(people):
    rep, finance = people["rep_east1"], people["finance1"]
    customer = records.customer(rep, "新加坡客户")
    usd = records.contract(rep, customer, number="HT-USD", amount="100000", currency="USD")
    _rate("USD", TODAY - timedelta(days=30), "7.1")
    _rate("USD", TODAY - timedelta(days=5), "7.2")
    cny = records.contract(rep, customer, number="HT-CNY", amount="100000")
    payments.record_payment(
        contract=usd, amount="1000", received_on=TODAY - timedelta(days=10), by=finance
    )
    payments.record_payment(contract=usd, amount="1000", received_on=TODAY, by=finance)
    payments.record_payment(contract=cny, amount="500", received_on=TODAY, by=finance)
    rows = {
        (c.currency, c.credited_on): (c.amount, c.reporting_amount)
        for c in SalesCredit.objects.all()
    }
    assert rows[("USD", TODAY - timedelta(days=10))] == (Decimal("1000"), Decimal("7100"))
    assert rows[("USD", TODAY)] == (Decimal("1000"), Decimal("7200"))
    assert _total(owner=rep) == Decimal("14800")
    assert payments.credit_by_owner(start=YEAR[0], end=YEAR[1]) == {rep.pk: Decimal("14800")}


def test_a_missing_rate_refuses_the_confirmation_unless_a_later_rate_exists(people):
    rep, finance = people["rep_east1"], people["finance1"]
    customer = records.customer(rep, "欧洲客户")
    eur = records.contract(rep, customer, number="HT-EUR", amount="100000", currency="EUR")
    payment = payments.record_payment(
        contract=eur, amount="1000", received_on=TODAY - timedelta(days=20), by=rep
    )
    with pytest.raises(ValidationError) as caught:
        payments.confirm_payment(payment, by=finance)
    assert caught.value.error_dict["currency"][0].code == "missing_rate"
    payment.refresh_from_db()
    eur.refresh_from_db()
    assert (payment.status, eur.received_amount) == ("unconfirmed", 0)
    assert not SalesCredit.objects.exists()
    # A rate entered later (valid from after the payment) is used.
    _rate("EUR", TODAY - timedelta(days=2), "7.8")
    payments.confirm_payment(payment, by=finance)
    assert SalesCredit.objects.get().reporting_amount == Decimal("7800")


def test_credit_by_unit_and_the_units_subtree(people):
    finance = people["finance1"]
    east, south = people["rep_east1"], people["rep_south1"]
    for number, rep, amount in [("HT-E", east, "1000"), ("HT-S", south, "3000")]:
        made = records.contract(
            rep, records.customer(rep, f"客户{number}"), number=number, amount="100000"
        )
        payments.record_payment(contract=made, amount=amount, received_on=TODAY, by=finance)
    by_unit = payments.credit_by_unit(start=TODAY, end=TODAY)
    assert by_unit == {east.unit_id: Decimal("1000"), south.unit_id: Decimal("3000")}
    sales = east.unit.parent
    assert _total(unit=sales) == Decimal("4000")
    assert _total(unit=east.unit) == Decimal("1000")
    assert _total(unit=people["finance1"].unit) == 0
    assert payments.credits(start=TODAY, end=TODAY, units=[south.unit]).get().owner == south
    assert payments.credits(start=TODAY, end=TODAY, owners=[east.pk]).get().owner == east
    # Outside the period: nothing.
    assert payments.credited_total(start=TODAY + timedelta(days=1), end=YEAR[1]) == 0


def test_credit_reads_cost_one_or_two_queries(people, django_assert_num_queries):
    rep = people["rep_east1"]
    with django_assert_num_queries(1):
        payments.credit_by_owner(start=TODAY, end=TODAY, owners=[rep])
    with django_assert_num_queries(1):
        payments.credited_total(start=TODAY, end=TODAY, owner=rep.pk)
    with django_assert_num_queries(2):
        payments.credited_total(start=TODAY, end=TODAY, unit=rep.unit)
    with django_assert_num_queries(2):
        payments.credit_by_unit(start=TODAY, end=TODAY, units=[rep.unit_id])


def test_the_story_a_large_contract_approved_then_paid_earns_credit_only_on_payment(
    people, large_draft
):
    """A rep's contract above the threshold goes to his manager, the director and finance;
    approved it is effective but earns nothing; finance records money: credit appears."""
    from tuoke.contracts import services
    from tuoke.org import approvals

    rep, finance = people["rep_east1"], people["finance1"]
    contract = services.submit_contract(large_draft, by=rep)
    assert contract.status == "pending"
    with pytest.raises(ValidationError) as caught:
        payments.set_payment_plan(
            contract, by=rep, instalments=[{"due_on": TODAY, "amount": "800000"}]
        )
    assert caught.value.error_dict["status"][0].code == "locked"
    request = approvals.pending_request(contract)
    for person in ("manager_east", "director", "finance1"):
        if request.status == "pending":
            request = approvals.approve(request, by=people[person])
    contract.refresh_from_db()
    assert contract.status == "effective"
    assert _total(owner=rep) == 0
    payments.set_payment_plan(
        contract,
        by=rep,
        instalments=[
            {"due_on": TODAY - timedelta(days=1), "amount": "400000"},
            {"due_on": TODAY + timedelta(days=90), "amount": "400000"},
        ],
    )
    payments.record_payment(contract=contract, amount="400000", received_on=TODAY, by=finance)
    assert _total(owner=rep) == Decimal("400000")
    assert _total(unit=rep.unit) == Decimal("400000")
    contract.refresh_from_db()
    assert contract.received_amount == Decimal("400000")
    assert [i.paid_amount for i in payments.payment_plan(contract)] == [Decimal("400000"), 0]
