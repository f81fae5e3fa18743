"""The API of record timelines."""

from ninja import Router

router = Router(tags=["Timeline"])
