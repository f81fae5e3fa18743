"""Out-of-scope records for the access matrix (see access.py): finance's payment and invoice
pages with an id, each given a record of rep_south1's contract, which rep_east1 may not see."""

from collections.abc import Callable

from . import records

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **{
        name: {"pk": lambda p: records.south_payment(p).pk}
        for name in (
            "contracts:payment_confirm",
            "contracts:payment_reject",
            "contracts:payment_delete",
        )
    },
    **{
        name: {"pk": lambda p: records.south_invoice(p).pk}
        for name in ("contracts:invoice_issue", "contracts:invoice_void")
    },
}
