"""Out-of-scope records for the access matrix (see access.py): access_money — the exchange
rate pages and API. Everyone may view rates, so the record nobody but finance may reach is
one in the recycle bin (and the edit and delete pages answer 404 to those without edit)."""

from collections.abc import Callable


def deleted_rate(people):
    """A rate of rep_east1's sight nowhere: deleted by finance (made once per test)."""
    from datetime import date

    from tuoke.core import money
    from tuoke.core.models import ExchangeRate

    existing = ExchangeRate.all_objects.filter(currency="GBP", valid_on=date(2026, 1, 5)).first()
    if existing is not None:
        return existing
    rate = money.create_rate(
        currency="GBP", valid_on=date(2026, 1, 5), rate="9.1", by=people["finance1"]
    )
    money.delete_rate(rate, by=people["finance1"])
    return rate


def usd_rate(people):
    """A living rate: rep_east1 reads it but its pages (edit and delete) are not for him."""
    from datetime import date

    from tuoke.core import money
    from tuoke.core.models import ExchangeRate

    existing = ExchangeRate.objects.filter(currency="USD", valid_on=date(2026, 1, 5)).first()
    return existing or money.create_rate(
        currency="USD", valid_on=date(2026, 1, 5), rate="7.1", by=people["finance1"]
    )


OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    "exchange_rates:edit": {"pk": lambda p: usd_rate(p).pk},
    "exchange_rates:delete": {"pk": lambda p: usd_rate(p).pk},
    "/api/v1/exchange-rates/{rate_id}": {"rate_id": lambda p: deleted_rate(p).pk},
}
