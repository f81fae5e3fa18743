"""The API of tasks and the daily plan."""

from ninja import Router

router = Router(tags=["Tasks and plan"])
