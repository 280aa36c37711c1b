"""Errors at the API's edge, mapped once: every refusal is ``{"error": code, "message": text, "request_id": id}``
with the status of its code (the request id is the response's ``X-Request-ID``), and every answer under
``/api/`` is JSON, whatever produced it.

- ``UserError`` (raised by services and domain parsers): the status of its ``code`` (``STATUS``).
- ``ApiError``: the API's own refusals (authentication 401/403, rate limit 429, outage 503) with their headers.
- A database that cannot be reached, or does not answer in time: 503 with ``Retry-After``, the outage logged
  once (``core/outage.py``), not per request.
- Anything else is a bug: Django logs it with its traceback (``django.request``) and ``JsonErrorsMiddleware`` turns
  its HTML 500 into JSON, as it does for Django's and django-ninja's other non-JSON
  answers under ``/api/`` (unknown path or trailing slash 404, wrong method 405, bad Host 400).

The hot path (``hotpath.py``) answers before Django with the same bodies (``error_body``).
"""

from __future__ import annotations

import json

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from smartoa.core import outage
from smartoa.core.logging import current_request_id
from smartoa.domain.errors import Conflict, NotFound, UserError

PREFIX = "/api/"
RETRY_AFTER_SECONDS = 5  # told to clients when the database is unavailable

# The status of each UserError code; a code not listed takes the status of its class (NotFound, Conflict) or 422.
STATUS = {
    "invalid_input": 422,
    "not_found": 404,
    "conflict": 409,
    "deadline_passed": 409,
    "stale_version": 409,
}

# The code of the answers that Django or django-ninja produce themselves, by status.
CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An API refusal, rendered as ``{"error": code, "message": text, "request_id": id}`` with ``status`` and
    ``headers``. ``contract`` (pk, contract id), when known, is for the refusal's audit only, never shown."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        contract: tuple[int, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}
        self.contract = contract


def status_of(error: UserError) -> int:
    if error.code in STATUS:
        return STATUS[error.code]
    return 404 if isinstance(error, NotFound) else 409 if isinstance(error, Conflict) else 422


def error_body(status: int, code: str, message: str, request_id: str | None = None) -> bytes:
    """The JSON body of an error: ``{"error", "message", "request_id"}``; the request id (the response's
    ``X-Request-ID``: ``request_id``, else the current request's) is there in every error, to quote when asking
    about it (left out only outside a request)."""
    payload = {"error": code, "message": message}
    if request_id := request_id or current_request_id():
        payload["request_id"] = request_id
    return json.dumps(payload, ensure_ascii=False).encode()


def json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(error_body(status, code, message), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unavailable() -> ApiError:
    return ApiError(
        503,
        "unavailable",
        "the service is temporarily unavailable, retry shortly",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def database_unavailable(exc: BaseException) -> ApiError:
    """The answer to a database that cannot be reached or did not answer in time; the outage is logged once."""
    outage.database.failed(exc)
    return unavailable()


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors:
        where = ".".join(str(p) for p in error.get("loc", [])[1:]) or "body"
        context = error.get("ctx") or {}
        # A UserError raised by a parser (e.g. parse_day) keeps its own message, without pydantic's prefix.
        text = str(context["error"]) if error.get("type") == "value_error" and "error" in context else None
        parts.append(f"{where}: {text or error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid input"


def install(api: NinjaAPI) -> None:
    """Register the API's exception handlers on ``api``."""

    def render(error: ApiError) -> HttpResponse:
        return json_error(error.status, error.code, error.message, error.headers)

    api.add_exception_handler(ApiError, lambda request, exc: render(exc))
    api.add_exception_handler(UserError, lambda request, exc: json_error(status_of(exc), exc.code, exc.message))
    api.add_exception_handler(
        ValidationError, lambda request, exc: json_error(422, "invalid_input", _validation_message(exc))
    )
    api.add_exception_handler(
        AuthenticationError,
        lambda request, exc: json_error(
            401, "missing_token", "Authorization: Bearer <token> is required", {"WWW-Authenticate": "Bearer"}
        ),
    )

    def http_error(request, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # e.g. a body that is not JSON: malformed input, as every other one
            return json_error(422, "invalid_input", str(exc))
        return json_error(exc.status_code, CODE_OF_STATUS.get(exc.status_code, "error"), str(exc))

    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, lambda request, exc: json_error(404, "not_found", "not found"))
    for database_error in (OperationalError, InterfaceError):
        api.add_exception_handler(database_error, lambda request, exc: render(database_unavailable(exc)))

    def bug(request, exc: Exception) -> HttpResponse:
        raise exc  # to Django, in debug mode too: logged with its traceback, then JsonErrorsMiddleware's 500

    api.add_exception_handler(Exception, bug)


def is_api_path(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


class JsonErrorsMiddleware:
    """Under ``/api/``, turn an error answer that is not JSON (Django's 404/400/500 pages, django-ninja's text 405)
    into ``{"error", "message"}`` with the same status and headers. Other paths keep Django's pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_path(request.path_info)
            and not response.get("Content-Type", "").startswith("application/json")
            and not response.streaming
        ):
            status = response.status_code
            response.content = error_body(status, CODE_OF_STATUS.get(status, "error"), _message(request, response))
            response["Content-Type"] = "application/json"
            response["Content-Length"] = str(len(response.content))
            response["Cache-Control"] = "no-store"
        return response


def _message(request, response) -> str:
    status = response.status_code
    if status == 404:
        hint = " (API paths have no trailing slash)" if request.path_info.endswith("/") else ""
        return f"no API resource at {request.path_info}{hint}"
    if status == 405:
        return f"{request.method} is not allowed here; allowed: {response.get('Allow', 'none')}"
    if status == 400:
        return "bad request (for instance a Host header this server does not serve)"
    if status >= 500:
        return "internal error; it has been logged (quote the request id to report it)"
    return response.reason_phrase
