"""Fixtures of the contracts tests: a customer of rep_east1's and drafts through the services
(ORM-made records for every part of the app are in tests/contracts/records.py)."""

from decimal import Decimal

import pytest


@pytest.fixture
def customer(rep_east):
    from tuoke.customers.services import create_customer

    return create_customer(by=rep_east, short_name="腾达精密")


@pytest.fixture
def draft(rep_east, customer):
    """rep_east1's draft of 100,000 CNY (below every default flow's threshold)."""
    from tuoke.contracts.services import create_contract

    return create_contract(
        customer=customer, title="MES 一期实施合同", amount=Decimal("100000"), by=rep_east
    )


@pytest.fixture
def large_draft(rep_east, customer):
    """rep_east1's draft of 800,000 CNY: the default "大额合同审批" flow takes it."""
    from tuoke.contracts.services import create_contract

    return create_contract(
        customer=customer, title="MES 全厂推广合同", amount=Decimal("800000"), by=rep_east
    )
