"""Stable error codes that services raise and the API and pages turn into messages."""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    REQUIRED = "required"
    INVALID = "invalid"
    STALE_VERSION = "stale_version"
    NOT_DELETED = "not_deleted"
    RETENTION_NOT_REACHED = "retention_not_reached"
    CYCLE = "cycle"
    IN_USE = "in_use"
    DUPLICATE = "duplicate"
    SIMILAR = "similar"
    SELF_ACTION = "self_action"
    FORBIDDEN = "forbidden"


class Conflict(Exception):
    """A write based on a stale version of a record (HTTP 409)."""

    code = ErrorCode.STALE_VERSION

    def __init__(self, message=None):
        self.message = message or _(
            "This record was changed by someone else in the meantime. "
            "Reload it to see the latest version, then apply your change again."
        )
        super().__init__(str(self.message))


def field_error(field: str, message, code: ErrorCode) -> ValidationError:
    """A ValidationError naming the field, with a stable code."""
    return ValidationError({field: [ValidationError(message, code=str(code))]})


@contextmanager
def fields_renamed(names: dict[str, str]) -> Iterator[None]:
    """Within this block, a ValidationError naming a service's argument (``to``) names the
    input it came from instead (``to_user_id``), as the API's errors must."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): errors for field, errors in exc.error_dict.items()}
        ) from exc


def error_list(exc: ValidationError) -> list[dict[str, str]]:
    """Flatten a ValidationError into the API's ``errors`` list of {field, message, code}."""
    errors: list[dict[str, str]] = []
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.error_dict.items():
            for error in field_errors:
                errors.append(
                    {
                        "field": "" if field == "__all__" else field,
                        "message": " ".join(str(m) for m in error.messages),
                        "code": error.code or ErrorCode.INVALID,
                    }
                )
    else:
        for error in exc.error_list:
            errors.append(
                {
                    "field": "",
                    "message": " ".join(str(m) for m in error.messages),
                    "code": error.code or ErrorCode.INVALID,
                }
            )
    return errors
