"""The API of notifications and delivery channels."""

from ninja import Router

router = Router(tags=["Notifications"])
