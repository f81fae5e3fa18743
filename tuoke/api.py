"""The REST API at /api/v1/: OpenAPI at /api/v1/openapi.json, interactive docs at /api/v1/docs.

Each app adds its router here; the shared rules (auth, errors, pages, throttling) live in
``tuoke.core.api``.
"""

from tuoke.activities.api import router as activities_router
from tuoke.activities.api_plan import router as plan_router
from tuoke.contracts.api import router as contracts_router
from tuoke.contracts.api_reports import router as contract_reports_router
from tuoke.core.api import (
    TuokeNinjaAPI,
    UserRateThrottle,
    install_error_handlers,
    session_auth,
    token_auth,
)
from tuoke.core.api_money import router as exchange_rates_router
from tuoke.core.api_timeline import router as timeline_router
from tuoke.customers.api import router as customers_router
from tuoke.integrations.api import router as notifications_router
from tuoke.leads.api import router as leads_router
from tuoke.org.api import router as org_router
from tuoke.org.api_approvals import router as approvals_router
from tuoke.sales.api import router as opportunities_router
from tuoke.sales.api_analytics import router as sales_analytics_router
from tuoke.sales.api_settings import router as pipelines_router

DESCRIPTION = """
Tuoke CRM's REST API.

**Authentication.** Send a personal access token (create one under *Account → API tokens*) as
`Authorization: Bearer tk_…`, or use the browser session; with the session, unsafe methods
(POST, PATCH, DELETE) need the CSRF token in the `X-CSRFToken` header. Without either the
answer is 401.

**Data scope.** Every list and record is limited to what the caller's roles let him see.
A record outside his scope answers 404; a record he may see but not change answers 403.

**Errors.** Every 4xx answer has the same body:
`{"detail": "…", "code": "…", "errors": [{"field": "email", "message": "…", "code": "…"}]}`.
`field` is the path of the offending input (`grants.0.scope`), empty when the error is about
the request as a whole. Messages follow the user's language (his setting, the language cookie
or `Accept-Language`). Bad input is 400, unknown or out-of-scope records 404, a stale
`version` 409, too many requests 429 (see `Retry-After`).

**Pagination.** Lists take `?page=1&page_size=20` (at most 100 by default) and answer
`{"items": […], "count": N, "count_capped": false, "page": P, "page_size": S}`. The count
stops at 2,000: with more items, `count` is 2,000 and `count_capped` is true (narrow the
filters, e.g. by owner or status, rather than paging through them).

**Concurrent edits.** PATCH requires the `version` you read; if someone changed the record
since, the answer is 409 and nothing is written.
"""

api = TuokeNinjaAPI(
    title="Tuoke CRM API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-1.0.0",
    auth=[token_auth, session_auth],
    throttle=[UserRateThrottle()],
)
install_error_handlers(api)
api.add_router("", org_router)
api.add_router("", customers_router)
api.add_router("", leads_router)
api.add_router("", timeline_router)
api.add_router("", activities_router)
api.add_router("", plan_router)
api.add_router("", notifications_router)
api.add_router("", pipelines_router)
api.add_router("", opportunities_router)
api.add_router("", sales_analytics_router)
api.add_router("", approvals_router)
api.add_router("", exchange_rates_router)
api.add_router("", contract_reports_router)
api.add_router("", contracts_router)
