"""The REST API at /api/v1/ (placeholder until the API module lands)."""

from ninja import NinjaAPI

api = NinjaAPI(title="Tuoke CRM API", version="1.0.0", urls_namespace="api-1.0.0")
