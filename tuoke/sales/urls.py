"""The sales pages: opportunities (urls_records), the board (urls_board), the funnel and
"close soon" (urls_analytics), and the settings of pipelines, lost reasons and products
(urls_settings)."""

from .urls_analytics import urlpatterns as analytics_patterns
from .urls_board import urlpatterns as board_patterns
from .urls_records import urlpatterns as record_patterns
from .urls_settings import urlpatterns as settings_patterns

app_name = "sales"
urlpatterns = [*record_patterns, *board_patterns, *analytics_patterns, *settings_patterns]
