"""What every API router shares: authentication (session or bearer token), throttling, the one
error format for every 4xx, page-number pagination, and fetch-and-authorise helpers."""

from __future__ import annotations

import threading
from functools import wraps
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import SimpleRateThrottle
from ninja.utils import check_csrf
from pydantic import AfterValidator

from .errors import Conflict, ErrorCode, error_list, field_error
from .lists import capped_count
from .models import Scope
from .scope import scope_queryset

if TYPE_CHECKING:
    from tuoke.org.models import User

M = TypeVar("M", bound=models.Model)

# --- Common schemas ---------------------------------------------------------------------------


class ErrorItem(Schema):
    field: str = Field(description="Path of the offending field, e.g. `email` or `grants.0.scope`")
    message: str = Field(description="What is wrong, in the user's language")
    code: str = Field(description="Stable machine-readable code, e.g. `required`, `duplicate`")


class ErrorOut(Schema):
    """The body of every 4xx answer."""

    detail: str
    code: str
    errors: list[ErrorItem]

    model_config = {
        "json_schema_extra": {
            "example": {
                "detail": "The request is not valid; see the errors of each field.",
                "code": "invalid",
                "errors": [
                    {"field": "username", "message": "This field is required.", "code": "required"}
                ],
            }
        }
    }


# Documented on every operation so generated clients know the error body.
ERRORS: dict[int, type[Schema]] = dict.fromkeys((400, 401, 403, 404, 429), ErrorOut)
WRITE_ERRORS: dict[int, type[Schema]] = {**ERRORS, 409: ErrorOut}


def _no_null_characters(value: str) -> str:
    # PostgreSQL refuses NUL in text; refusing it here keeps that a 400 instead of a 500.
    if "\x00" in value:
        raise ValueError(_("Null characters are not allowed."))
    return value


Text = Annotated[str, AfterValidator(_no_null_characters)]
# Ids beyond a 64-bit integer would overflow the database driver.
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]

ScopeName = Literal["none", "own", "unit", "subtree", "all"]


def scope_name(scope: int) -> str:
    return Scope(scope).name.lower()


def scope_value(name: str) -> int:
    return int(Scope[name.upper()])


class Ref(Schema):
    """A related record by id and name."""

    id: int
    name: str


class PersonRef(Schema):
    """A colleague by id, username and display name (one schema for every API: two of the
    same name would leave one in the OpenAPI document)."""

    id: int
    username: str
    display_name: str


# --- Authentication ---------------------------------------------------------------------------


def _use_language_of(request: HttpRequest, user: User) -> None:
    # Token requests skip the session, so the user's language is applied here, as
    # UserLanguageMiddleware does for the pages: an explicit language cookie still wins.
    if user.language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(user.language)
        request.LANGUAGE_CODE = translation.get_language()


class TokenAuth(HttpBearer):
    """`Authorization: Bearer tk_…` with a personal access token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        from tuoke.org.services import user_for_token

        user = user_for_token(token)
        if user is None:
            # A token that was sent but is revoked, unknown or belongs to a deactivated user
            # is refused outright rather than falling back to a session.
            raise AuthenticationError()
        request.user = user
        _use_language_of(request, user)
        return user


class SessionAuth(APIKeyCookie):
    """The browser's Django session; unsafe methods need the CSRF token as the pages do."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # The CSRF check moves into authenticate: an anonymous request must get 401, not 403.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(_("CSRF verification failed. Request aborted."))
        return user  # type: ignore[return-value]


token_auth = TokenAuth()
session_auth = SessionAuth()

# --- Throttling -------------------------------------------------------------------------------


class UserRateThrottle(SimpleRateThrottle):
    """Requests per user (all his tokens and his session share one budget).

    The rate is read from ``settings.API_THROTTLE_RATE`` on each request unless given here.
    Ninja's throttles keep the request's history on the instance, which threads share; this
    one keeps it per thread so one user's history is never written under another's key.
    """

    scope = "user"

    def __init__(self, rate: str | None = None) -> None:
        # Not calling super().__init__: it would look the rate up in ninja's own settings.
        self._fixed_rate = rate
        self._local = threading.local()
        self.rate = rate

    def _current_rate(self) -> tuple[int | None, int | None]:
        # An empty API_THROTTLE_RATE switches throttling off.
        return self.parse_rate(self._fixed_rate or settings.API_THROTTLE_RATE or None)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "auth", None)
        if user is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}

    def allow_request(self, request: HttpRequest) -> bool:
        num_requests, duration = self._current_rate()
        key = self.get_cache_key(request)
        if key is None or num_requests is None or duration is None:
            return True
        now = self.timer()
        history = [t for t in self.cache.get(key, []) if t > now - duration]
        if len(history) >= num_requests:
            self._local.wait = duration - (now - history[-1])
            return False
        history.insert(0, now)
        self.cache.set(key, history, duration)
        return True

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


# --- Errors -----------------------------------------------------------------------------------


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    detail: str,
    code: str,
    errors: list[dict[str, str]] | None = None,
) -> HttpResponse:
    body = {"detail": str(detail), "code": str(code), "errors": errors or []}
    return api.create_response(request, body, status=status)


def _field_path(loc: tuple[Any, ...]) -> str:
    """("body", "payload", "grants", 0, "scope") → "grants.0.scope"; ("query", "page") → "page"."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:]  # the source and the name of the handler's body argument
    elif parts and parts[0] in ("query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def _pydantic_message(error: dict[str, Any]) -> tuple[str, str]:
    """A translated message and a stable code for one pydantic error."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required."), ErrorCode.REQUIRED
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number."), ErrorCode.INVALID
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return _("Enter a number."), ErrorCode.INVALID
    if kind in ("bool_parsing", "bool_type"):
        return _("Enter true or false."), ErrorCode.INVALID
    if kind in ("string_type",):
        return _("Enter a text."), ErrorCode.INVALID
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("Enter a list."), ErrorCode.INVALID
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _("Send a JSON object."), ErrorCode.INVALID
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": limit
        }, ErrorCode.INVALID
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": limit
        }, ErrorCode.INVALID
    if kind == "string_too_long":
        return _("Ensure this value has at most %(max)s characters.") % {
            "max": ctx.get("max_length")
        }, ErrorCode.INVALID
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This field is required."), ErrorCode.REQUIRED
        return _("Ensure this value has at least %(min)s characters.") % {
            "min": ctx.get("min_length")
        }, ErrorCode.INVALID
    if kind in ("literal_error", "enum"):
        return _(
            "Select a valid choice. That choice is not one of the available choices."
        ), ErrorCode.INVALID
    if kind == "extra_forbidden":
        return _("This field is not known."), ErrorCode.INVALID
    if kind == "value_error" and ctx.get("error"):
        # Our own validators raise ValueError with an already translated message.
        return str(ctx["error"]), ErrorCode.INVALID
    return _("Enter a valid value."), ErrorCode.INVALID


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every 4xx answer ``{"detail", "code", "errors": [{"field", "message", "code"}]}``."""

    def on_request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = []
        for error in exc.errors:
            message, code = _pydantic_message(error)
            errors.append(
                {
                    "field": _field_path(tuple(error.get("loc", ()))),
                    "message": message,
                    "code": code,
                }
            )
        detail = _("The request is not valid; see the errors of each field.")
        return error_response(api, request, 400, detail, ErrorCode.INVALID, errors)

    def on_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = error_list(exc)
        detail = (
            errors[0]["message"]
            if len(errors) == 1
            else _("The request is not valid; see the errors of each field.")
        )
        return error_response(api, request, 400, detail, ErrorCode.INVALID, errors)

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, 404, _("Not found."), "not_found")

    def on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        message = str(exc.message)
        errors = [{"field": "version", "message": message, "code": exc.code}]
        return error_response(api, request, 409, message, exc.code, errors)

    def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        detail = str(exc) or _("You do not have permission to do this.")
        return error_response(api, request, 403, detail, "permission_denied")

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, AuthenticationError):
            detail = _(
                "Authentication required: log in, or send a valid API token "
                "as “Authorization: Bearer tk_…”."
            )
            return error_response(api, request, 401, detail, "not_authenticated")
        if isinstance(exc, Throttled):
            detail = _("Too many requests. Try again in a moment.")
            return error_response(api, request, 429, detail, "throttled")
        if exc.status_code == 400:
            # Ninja's only 400 is a body it cannot parse as JSON.
            detail = _("The request body is not valid JSON.")
            return error_response(api, request, 400, detail, "parse_error")
        if exc.status_code == 403:
            detail = _("You do not have permission to do this.")
            return error_response(api, request, 403, detail, "permission_denied")
        return error_response(api, request, exc.status_code, str(exc.message), "error")

    api.add_exception_handler(NinjaValidationError, on_request_invalid)
    api.add_exception_handler(DjangoValidationError, on_invalid)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(Conflict, on_conflict)
    api.add_exception_handler(PermissionDenied, on_denied)
    api.add_exception_handler(HttpError, on_http_error)


# Marks the ``custom`` object of a schema; the OpenAPI document replaces it with the custom
# fields an administrator defined for that record type (see ``custom_object``).
CUSTOM_FIELDS_MARK = "x-tuoke-custom-fields"


def custom_object(target: str, *, enforce_required: bool = False) -> dict[str, Any]:
    """``json_schema_extra`` for a ``custom`` field: in the OpenAPI document it lists the
    record type's custom fields (keys, types, choices); ``enforce_required`` for bodies that
    create a record, where required custom fields must be given."""
    return {CUSTOM_FIELDS_MARK: {"target": target, "required": enforce_required}}


def _fill_custom_objects(node: Any, definitions: dict[str, list] | None = None) -> None:
    """Describe every marked ``custom`` object below ``node``; each record type's definitions
    are read once per document (``definitions`` caches them)."""
    from . import custom_fields

    definitions = {} if definitions is None else definitions
    if isinstance(node, dict):
        mark = node.pop(CUSTOM_FIELDS_MARK, None)
        if mark is not None:
            target = mark["target"]
            if target not in definitions:
                definitions[target] = custom_fields.fields_for(target)
            described = custom_fields.api_schema(target, fields=definitions[target])
            if not mark["required"]:
                # Answers may still carry values of fields removed since (kept, not shown).
                described.pop("required")
                described.pop("additionalProperties")
            # An optional ``custom`` is nullable in ninja's schema (anyOf object/null).
            node.pop("additionalProperties", None)
            if "anyOf" in node:
                node["anyOf"] = [described, {"type": "null"}]
            else:
                node.update(described)
        for value in node.values():
            _fill_custom_objects(value, definitions)
    elif isinstance(node, list):
        for value in node:
            _fill_custom_objects(value, definitions)


class TuokeNinjaAPI(NinjaAPI):
    """NinjaAPI whose answers for unknown paths and wrong methods use the common error body
    too (ninja answers those with HTML or plain text, outside its exception handlers), and
    whose OpenAPI document describes the custom fields defined at the time it is asked for."""

    def get_openapi_schema(self, *args: Any, custom_fields: bool = True, **kwargs: Any) -> Any:
        """``custom_fields=False`` leaves the custom objects undescribed, for callers that
        want only the routes and may not touch the database (test collection)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        if custom_fields:
            _fill_custom_objects(schema)
        return schema

    @property
    def urls(self) -> tuple[list[URLPattern | URLResolver], str, str]:
        patterns, app_name, namespace = super().urls
        wrapped: list[URLPattern | URLResolver] = [
            URLPattern(p.pattern, self._json_not_allowed(p.callback), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in patterns
        ]
        wrapped.append(re_path(r"^.*$", self._not_found, name="api-not-found"))
        return wrapped, app_name, namespace

    def _json_not_allowed(self, view: Any) -> Any:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseNotAllowed):
                detail = _("This method is not allowed here.")
                answer = error_response(self, request, 405, detail, "method_not_allowed")
                answer["Allow"] = response["Allow"]
                return answer
            return response

        return checked

    @csrf_exempt
    def _not_found(self, request: HttpRequest) -> HttpResponse:
        return error_response(self, request, 404, _("Not found."), "not_found")


# --- Pagination -------------------------------------------------------------------------------


class PagePagination(PaginationBase):
    """``?page=1&page_size=20``; the page size defaults to ``settings.API_PAGE_SIZE`` and is
    capped at ``settings.API_MAX_PAGE_SIZE`` (asking for more gives the maximum).

    The count stops at ``settings.LIST_COUNT_CAP`` (2,000, as on the list pages): counting a
    million customers exactly would cost more than the page itself. Beyond it, ``count`` is the
    cap and ``count_capped`` is true.
    """

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000, description="Page number, from 1")
        page_size: int | None = Field(
            None, ge=1, description="Items per page (default 20, at most API_MAX_PAGE_SIZE)"
        )

    class Output(Schema):
        items: list[Any]
        count: int = Field(
            description="Items on all pages together, counted up to 2,000 (LIST_COUNT_CAP)"
        )
        count_capped: bool = Field(
            False, description="True when there are more items than `count`: narrow the filters"
        )
        page: int
        page_size: int

    def paginate_queryset(
        self, queryset: models.QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        page_size = min(pagination.page_size or settings.API_PAGE_SIZE, settings.API_MAX_PAGE_SIZE)
        offset = (pagination.page - 1) * page_size
        cap = settings.LIST_COUNT_CAP
        if isinstance(queryset, models.QuerySet):
            count = capped_count(queryset, cap)
        else:
            count = len(queryset)
        return {
            "items": list(queryset[offset : offset + page_size]),
            "count": min(count, cap),
            "count_capped": count > cap,
            "page": pagination.page,
            "page_size": page_size,
        }


# --- Fetch and authorise ----------------------------------------------------------------------


def resolve(user: User, model: type[M], pk: int | None, field: str) -> M | None:
    """A record a payload points at, among those the user can see; unknown → 400 naming field."""
    if pk is None:
        return None
    found = scope_queryset(model._default_manager.all(), user).filter(pk=pk).first()
    if found is None:
        raise field_error(
            field,
            _("Select a valid choice. That choice is not one of the available choices."),
            ErrorCode.INVALID,
        )
    return found


def resolve_many(user: User, model: type[M], pks: list[int], field: str) -> list[M]:
    found = list(scope_queryset(model._default_manager.all(), user).filter(pk__in=set(pks)))
    if len(found) != len(set(pks)):
        raise field_error(
            field,
            _("Select a valid choice. That choice is not one of the available choices."),
            ErrorCode.INVALID,
        )
    return found


def required_after_fetch(*names: str):
    """Mark ``names`` required in the schema of a body whose check waits until the record in
    the path was fetched (see ``required``): a record out of the caller's scope is 404
    whatever he sent."""

    def extra(schema: dict[str, Any]) -> None:
        schema.setdefault("required", []).extend(names)

    return extra


def required(value: Any, name: str) -> Any:
    """The check ``required_after_fetch`` promises, made by the handler after the fetch."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise field_error(name, _("This field is required."), ErrorCode.REQUIRED)
    return value


_version_is_required = required_after_fetch("version")


class VersionedPatch(Schema):
    """The base of PATCH bodies. ``version`` is required, yet checked by ``sent`` only after the
    record was fetched, so that a record out of the caller's scope is 404 whatever he sent."""

    version: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="Required: the version you read; 409 if the record changed since",
        examples=[1],
    )

    model_config = {"json_schema_extra": _version_is_required}


def sent(
    payload: VersionedPatch, *, nullable: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The fields a PATCH sent, without ``version``; null only where the field may be empty."""
    if payload.version is None:
        raise field_error("version", _("This field is required."), ErrorCode.REQUIRED)
    changes = payload.model_dump(exclude_unset=True)
    changes.pop("version", None)
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise field_error(name, _("This field cannot be null."), ErrorCode.REQUIRED)
    return changes
