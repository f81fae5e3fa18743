"""The opportunities API (CRUD, move, win, lose, reopen)."""

from ninja import Router

router = Router(tags=["Opportunities"])
