"""The API of follow-ups, visits and comments."""

from ninja import Router

router = Router(tags=["Activities"])
