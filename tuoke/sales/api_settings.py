"""The API of pipelines, stages, lost reasons and products."""

from ninja import Router

router = Router(tags=["Pipelines"])
