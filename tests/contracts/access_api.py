"""Out-of-scope records for the access matrix (see access.py): the contracts API's routes
with an id (contracts, their plan, approvals and attachments; payments; invoices), each given
a record of rep_south1's contract, which rep_east1 may not see."""

from collections.abc import Callable

from . import records

_CONTRACT_ROUTES = (
    "/api/v1/contracts/{contract_id}",
    "/api/v1/contracts/{contract_id}/submit",
    "/api/v1/contracts/{contract_id}/withdraw",
    "/api/v1/contracts/{contract_id}/complete",
    "/api/v1/contracts/{contract_id}/terminate",
    "/api/v1/contracts/{contract_id}/renew",
    "/api/v1/contracts/{contract_id}/approvals",
    "/api/v1/contracts/{contract_id}/instalments",
    "/api/v1/contracts/{contract_id}/attachments",
)
_PAYMENT_ROUTES = (
    "/api/v1/payments/{payment_id}",
    "/api/v1/payments/{payment_id}/confirm",
    "/api/v1/payments/{payment_id}/reject",
)
_INVOICE_ROUTES = (
    "/api/v1/invoices/{invoice_id}",
    "/api/v1/invoices/{invoice_id}/issue",
    "/api/v1/invoices/{invoice_id}/void",
)

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **{path: {"contract_id": lambda p: records.south_contract(p).pk} for path in _CONTRACT_ROUTES},
    "/api/v1/contract-attachments/{attachment_id}": {
        "attachment_id": lambda p: records.south_attachment(p).pk
    },
    **{path: {"payment_id": lambda p: records.south_payment(p).pk} for path in _PAYMENT_ROUTES},
    **{path: {"invoice_id": lambda p: records.south_invoice(p).pk} for path in _INVOICE_ROUTES},
}
