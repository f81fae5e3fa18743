"""Error codes of the leads app, beside the common ones of ``tuoke.core.errors.ErrorCode``."""

from enum import StrEnum
from typing import cast

from django.core.exceptions import ValidationError

from tuoke.core.errors import ErrorCode, field_error


class LeadError(StrEnum):
    ALREADY_CONVERTED = "already_converted"
    CLEANED = "cleaned"
    NOT_CLEANED = "not_cleaned"
    INACTIVE_CHANNEL = "inactive_channel"
    OVERLAP = "overlap"
    NO_OWNER = "no_owner"


def lead_error(field: str, message, code: LeadError) -> ValidationError:
    """``field_error`` with one of the leads app's codes."""
    return field_error(field, message, cast(ErrorCode, code))
