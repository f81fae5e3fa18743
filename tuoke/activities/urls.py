"""The activities pages: follow-ups, visits and comments (urls_records), tasks, the daily
plan and the Today page (urls_plan)."""

from .urls_plan import urlpatterns as plan_patterns
from .urls_records import urlpatterns as record_patterns

app_name = "activities"
urlpatterns = [*record_patterns, *plan_patterns]
