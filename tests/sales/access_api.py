"""Out-of-scope records for the access matrix (see access.py): the opportunities API's
routes with an id, each given rep_south1's opportunity, which rep_east1 may not see."""

from collections.abc import Callable

from . import records

_OPPORTUNITY_ROUTES = (
    "/api/v1/opportunities/{opportunity_id}",
    "/api/v1/opportunities/{opportunity_id}/move",
    "/api/v1/opportunities/{opportunity_id}/win",
    "/api/v1/opportunities/{opportunity_id}/lose",
    "/api/v1/opportunities/{opportunity_id}/reopen",
    "/api/v1/opportunities/{opportunity_id}/history",
)

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    path: {"opportunity_id": lambda p: records.south_opportunity(p).pk}
    for path in _OPPORTUNITY_ROUTES
}
