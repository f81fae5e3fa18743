"""Error codes of the leads app, beside the common ones of ``tuoke.core.errors.ErrorCode``."""

from enum import StrEnum


class LeadError(StrEnum):
    ALREADY_CONVERTED = "already_converted"
    CLEANED = "cleaned"
    NOT_CLEANED = "not_cleaned"
    INACTIVE_CHANNEL = "inactive_channel"
    OVERLAP = "overlap"
    NO_OWNER = "no_owner"
