"""Contracts, approvals, payments and invoices on the customer's timeline (to be written)."""


def register_sources() -> None:
    pass
