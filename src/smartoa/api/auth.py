"""API caller authentication: Bearer token + (in production) the contract's IP allow-list.

One SQL statement per call, no ORM objects and no cache, so a revoked token or a removed IP is refused on the
very next request by every worker. The same statement also returns the contract's latest consigne document and
its version's id (the ETag of a conditional GET), which is all the hot path ``GET /api/v1/effacement`` needs.
Refusals go through ``refusals.py`` (rate limit, audit and log in aggregate); a call that authenticates does
nothing more.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from smartoa.api.errors import ApiError
from smartoa.api.refusals import refused, tally
from smartoa.consignes.queries import LATEST_VERSION_SQL, split_latest
from smartoa.contracts.ips import client_ip
from smartoa.contracts.tokens import hash_token, looks_like_token

log = logging.getLogger("smartoa.security")

LAST_USE_GRANULARITY = timedelta(minutes=1)  # a token's use is written at most this often
LAST_USE_FLUSH_EVERY = timedelta(seconds=30)

_CALLER_SQL = """
SELECT t.id, t.contract_id, c.contract_id, t.prefix,
       CASE WHEN t.revoked_at IS NOT NULL OR NOT c.active THEN 1 ELSE 0 END,
       CASE WHEN t.expires_at <= %s THEN 1 ELSE 0 END,
       CASE WHEN EXISTS (SELECT 1 FROM contracts_allowedip a
                         WHERE a.contract_id = t.contract_id AND a.address = %s) THEN 1 ELSE 0 END,
       CASE WHEN t.last_used_at IS NULL OR t.last_used_at < %s THEN 1 ELSE 0 END,
       {latest_version}
FROM contracts_apitoken t JOIN contracts_contract c ON c.id = t.contract_id
WHERE t.token_hash = %s
""".format(latest_version=LATEST_VERSION_SQL.format(contract="t.contract_id"))


def unauthorized(code: str, message: str, contract: tuple[int, str] | None = None) -> ApiError:
    return ApiError(
        401,
        code,
        message,
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{code}"'},
        contract,
    )


@dataclass(frozen=True, slots=True)
class ApiCaller:
    token_pk: int
    contract_pk: int
    contract_id: str
    token_prefix: str
    ip: str
    latest_document: str | None
    latest_version: int | None = None  # the document's version (its id): the ETag


class LastUseBuffer:
    """Per-process buffer of the tokens' last use (when, to the minute, and from which address), written in
    batches every 30 s at most.

    Keeps the hot path read-only: a write per request would serialise the workers on the database. A token is
    noted only when its stored use is a minute old or more (the authentication statement says so), so each token
    is written at most once a minute. At worst (a worker killed) the last use lags by the flush interval; it is
    informational (the back office's "last seen"), never used for access.

    ``columns``: the token's columns written (the API's last use; the event stream writes ``last_stream_at`` and
    ``last_stream_ip`` with the same buffer). ``keep_ip``: a use noted without an address leaves the stored one
    (the stream's open connections, noted once a minute, all in the same UPDATEs whatever their addresses).
    """

    def __init__(self, columns: tuple[str, str] = ("last_used_at", "last_used_ip"), *, keep_ip: bool = False):
        at, ip = columns
        address = f"COALESCE(%s, {ip})" if keep_ip else "%s"
        self.update_sql = (
            f"UPDATE contracts_apitoken SET {at} = %s, {ip} = {address}"
            f" WHERE id IN ({{ids}}) AND ({at} IS NULL OR {at} < %s)"
        )
        self.pending: dict[int, tuple[datetime, str | None]] = {}
        self.last_flush: datetime | None = None
        self.lock = threading.Lock()

    def note(self, token_pk: int, moment: datetime, ip: str) -> None:
        with self.lock:
            self.pending.setdefault(token_pk, (moment.replace(second=0, microsecond=0), ip or None))

    def flush_if_due(self, moment: datetime) -> None:
        if self.last_flush is None or moment < self.last_flush:  # first call, or the (test) clock went back
            self.last_flush = moment
        if self.pending and (moment - self.last_flush >= LAST_USE_FLUSH_EVERY or len(self.pending) >= 5000):
            try:
                self.flush(moment)
            except DatabaseError:  # informational only: never fail an API call for it
                log.warning("could not record the tokens' last use", exc_info=True)

    def flush(self, moment: datetime | None = None) -> int:
        """Write the pending uses in one transaction, in the order of the ids (so that concurrent workers lock rows
        in the same order), one UPDATE for each run of ids with the same minute and address (at most 500); a use
        older than the stored one (another worker wrote a later one) changes nothing; returns how many tokens."""
        with self.lock:
            pending, self.pending = self.pending, {}
            self.last_flush = moment
        if not pending:
            return 0
        runs: list[tuple[datetime, str | None, list[int]]] = []  # consecutive ids with the same use
        for pk, (at, ip) in sorted(pending.items()):
            if runs and runs[-1][:2] == (at, ip) and len(runs[-1][2]) < 500:
                runs[-1][2].append(pk)
            else:
                runs.append((at, ip, [pk]))
        adapt = connection.ops.adapt_datetimefield_value
        with transaction.atomic(), connection.cursor() as cursor:
            for at, ip, pks in runs:
                cursor.execute(
                    self.update_sql.format(ids=", ".join(["%s"] * len(pks))), [adapt(at), ip, *pks, adapt(at)]
                )
        return len(pending)


_last_use = LastUseBuffer()


def discard_last_use() -> None:
    """Forget the buffered last-use times without writing them (tests roll their data back)."""
    with _last_use.lock:
        _last_use.pending, _last_use.last_flush = {}, None


def flush_last_use() -> None:
    """Write the buffered last-use times now (tests, worker exit)."""
    _last_use.flush()


def caller_ip(remote_addr: str, forwarded_for: str | None) -> str:
    return client_ip(remote_addr, forwarded_for, settings.SMARTOA_TRUSTED_PROXIES)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header; ApiError 401 when missing or malformed."""
    if not authorization:
        raise unauthorized("missing_token", "Authorization: Bearer <token> is required")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("malformed_token", "the Authorization header must be 'Bearer <token>'")
    if not looks_like_token(token):
        raise unauthorized("unknown_token", "this token is not valid")
    return token


def authenticate(authorization: str | None, ip: str, now: datetime, *, note_use: bool = True) -> ApiCaller:
    """Identify the calling contract or raise ApiError (401 token problems, 403 IP not allowed, 429 after too
    many of those from the address: see refusals.py).

    Changes: the token's last use and its address, at most once a minute, written in batches (LastUseBuffer),
    unless ``note_use`` is False (the event stream records its connections apart: ``last_stream_at``).
    """
    try:
        caller = _identify(authorization, ip, now, note_use)
    except ApiError as error:
        raise refused(error, ip, now) from None
    _last_use.flush_if_due(now)
    if tally.since is not None:
        tally.flush_if_due(now)
    return caller


def _identify(authorization: str | None, ip: str, now: datetime, note_use: bool = True) -> ApiCaller:
    token = bearer_token(authorization)
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            _CALLER_SQL,
            [
                ops.adapt_datetimefield_value(now),
                ip,
                ops.adapt_datetimefield_value(now - LAST_USE_GRANULARITY),
                hash_token(token),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise unauthorized("unknown_token", "this token is not valid")
    token_pk, contract_pk, contract_id, prefix, revoked, expired, ip_allowed, stale, latest = row
    contract = (contract_pk, contract_id)
    if revoked:
        raise unauthorized("revoked_token", "this token has been revoked; use the contract's current token", contract)
    if expired:
        raise unauthorized("expired_token", "this token has expired; generate a new one in the portal", contract)
    if settings.PRODUCTION and not ip_allowed:
        raise ApiError(403, "ip_not_allowed", f"the address {ip} is not declared for this contract", {}, contract)
    if stale and note_use:
        _last_use.note(token_pk, now, ip)
    version, document = split_latest(latest)
    return ApiCaller(token_pk, contract_pk, contract_id, prefix, ip, document, version)
