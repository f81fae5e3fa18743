"""The sales routes of the access matrix (tests/web/test_access_matrix.py): URL name or API
path → kwarg → function(people) giving a record rep_east1 may not reach. Each part of the
sales app keeps its own table in an access_*.py beside this file."""

from .access_analytics import OUT_OF_SCOPE as analytics
from .access_api import OUT_OF_SCOPE as api
from .access_board import OUT_OF_SCOPE as board
from .access_pages import OUT_OF_SCOPE as pages
from .access_settings import OUT_OF_SCOPE as settings

OUT_OF_SCOPE = {**pages, **board, **analytics, **settings, **api}
