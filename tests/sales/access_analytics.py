"""Out-of-scope records for the access matrix (see access.py). The funnel, its drill-down,
customers by stage and close soon take no record id in their paths (the filters are query
parameters, checked against the user's scope in tests/sales/test_views_analytics.py and
test_api_analytics.py), so nothing is listed here."""

from collections.abc import Callable

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {}
