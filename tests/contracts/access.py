"""The routes of contracts, approvals and exchange rates in the access matrix
(tests/web/test_access_matrix.py): URL name or API path → kwarg → function(people) giving a
record rep_east1 may not reach. Each part keeps its own table in an access_*.py beside this."""

from .access_api import OUT_OF_SCOPE as api
from .access_approval_api import OUT_OF_SCOPE as approval_api
from .access_approval_pages import OUT_OF_SCOPE as approval_pages
from .access_finance import OUT_OF_SCOPE as finance
from .access_money import OUT_OF_SCOPE as money
from .access_pages import OUT_OF_SCOPE as pages

OUT_OF_SCOPE = {**pages, **finance, **approval_pages, **money, **api, **approval_api}
