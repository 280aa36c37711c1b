"""The django-ninja API object: authentication, error mapping (errors.py), routers, documentation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Swagger
from ninja.security import HttpBearer

from smartoa.api import acquiescement, effacement, errors, events, history, sandbox, token
from smartoa.api.auth import ApiCaller, authenticate, caller_ip
from smartoa.core import outage
from smartoa.core.clock import now

DESCRIPTION = """Consignes d'effacement and acquiescements of the calling contract.

Every call carries the contract's token (`Authorization: Bearer <token>`); in production it must come from an
address declared for the contract. Errors are `{"error": code, "message": text, "request_id": id}`: 401 token
missing, unknown, expired or revoked; 403 address not declared; 404 nothing published; 409 deadline passed or
stale version; 422 malformed input; 429 too many refused calls from the address (`Retry-After`); 503
temporarily unavailable (`Retry-After`). Every error's `request_id` is also the `X-Request-ID` header of its
answer (every answer has one): quote it when asking about a call.

In a consigne, `value` 1.0 means stop production (effacement) during the period, 0.0 no stop."""


class ContractToken(HttpBearer):
    """Bearer token + IP allow-list; sets ``request.auth`` to the ApiCaller."""

    openapi_description = "The contract's API token (generated in the portal), from a declared IP in production."

    def __call__(self, request: HttpRequest) -> ApiCaller:
        ip = caller_ip(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR"))
        caller = authenticate(request.META.get("HTTP_AUTHORIZATION"), ip, now())
        outage.database.succeeded()
        return caller

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        raise NotImplementedError


api = NinjaAPI(
    title="SMART OA API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api_v1",
    auth=ContractToken(),
    docs=Swagger(settings={"validatorUrl": None}),  # no call to an outside validator: nothing leaves the site
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

api.add_router("", effacement.router)
api.add_router("", history.router)
api.add_router("", acquiescement.router)
api.add_router("", token.router)
api.add_router("", events.router)
api.add_router("", sandbox.router)
