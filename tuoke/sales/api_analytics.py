"""The funnel figures and "close soon" ranking."""

from ninja import Router

router = Router(tags=["Sales analytics"])
