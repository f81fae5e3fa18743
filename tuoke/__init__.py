"""Tuoke (拓客): a sales CRM for B2B companies."""

from .celery import app as celery_app

__all__ = ["celery_app"]
