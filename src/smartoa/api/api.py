"""The django-ninja API object: authentication, JSON error format, routers."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from smartoa.api.auth import ApiCaller, ApiError, authenticate, caller_ip
from smartoa.core.clock import now


class ContractToken(HttpBearer):
    """Bearer token + IP allow-list; sets ``request.auth`` to the ApiCaller."""

    openapi_description = "The contract's API token (generated in the portal), from a declared IP in production."

    def __call__(self, request: HttpRequest) -> ApiCaller:
        ip = caller_ip(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR"))
        return authenticate(request.META.get("HTTP_AUTHORIZATION"), ip, now())

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        raise NotImplementedError


api = NinjaAPI(
    title="SMART OA API",
    version="1",
    description='Consignes d\'effacement, acquiescements. Errors are {"error": code, "message": text}.',
    urls_namespace="api_v1",
    auth=ContractToken(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def json_error(request, status: int, code: str, message: str, headers: dict[str, str] | None = None):
    response = api.create_response(request, {"error": code, "message": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return json_error(request, exc.status, exc.code, exc.message, exc.headers)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    details = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg', 'invalid')}" for e in exc.errors
    )
    return json_error(request, 422, "invalid_input", details or "invalid input")


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return json_error(
        request, 401, "missing_token", "Authorization: Bearer <token> is required", {"WWW-Authenticate": "Bearer"}
    )


HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:  # e.g. a body that is not JSON: malformed input, as every other one
        return json_error(request, 422, "invalid_input", str(exc))
    return json_error(request, exc.status_code, HTTP_ERROR_CODES.get(exc.status_code, "error"), str(exc))


from smartoa.api import acquiescement, effacement, history, token  # noqa: E402  (routers register on ``api``)

api.add_router("", effacement.router)
api.add_router("", history.router)
api.add_router("", acquiescement.router)
api.add_router("", token.router)
