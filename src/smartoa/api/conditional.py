"""Conditional GET of ``GET /api/v1/effacement`` (RFC 9110 §8.8, §13): the validators of the version served and
whether a client's copy is still the current one.

- ``ETag: "<version id>"``: strong; a version's document never changes (``ConsigneVersion`` is append-only), and a
  new version or a new day is a new row, hence a new tag.
- ``Last-Modified``: the HTTP date (to the second) the version was published.

``If-None-Match`` (a list of tags, or ``*``) is compared weakly, as RFC 9110 §13.1.2 says; when absent,
``If-Modified-Since`` is honoured (§13.1.3). Both are evaluated only for a caller that passed every check and
has a document: a refused call is answered its refusal, never 304.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from django.utils.http import http_date, parse_http_date_safe

_TAG = re.compile(r'\s*(?:W/)?("[^"]*")\s*(?:,|$)')


@lru_cache(maxsize=65_536)
def validators(version_pk: int, published_at: datetime | str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The ``ETag`` and ``Last-Modified`` headers of a version (remembered: polled versions repeat)."""
    return ("ETag", f'"{version_pk}"'), ("Last-Modified", http_date(_epoch(published_at)))


def _epoch(moment: datetime | str) -> int:
    """Whole seconds since the epoch of a stored time: aware (PostgreSQL), naive UTC or text (SQLite)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def none_match(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value matches ``etag`` (weak comparison: ``W/"7"`` matches ``"7"``;
    ``*`` matches any current document). A malformed member matches nothing."""
    if header.strip() == "*":
        return True
    position, length = 0, len(header)
    while position < length:
        found = _TAG.match(header, position)
        if found is None:
            return False
        if found[1] == etag:
            return True
        position = found.end()
    return False


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, version_pk: int, published_at: datetime | str, now
) -> bool:
    """Whether the client's copy (its conditional headers) is the version served: answer 304. ``now`` (the
    current time) makes a date in the future invalid, so ignored (RFC 9110 §13.1.3 makes it the recipient's call;
    a client clock ahead must not freeze its copy)."""
    if if_none_match is not None:  # If-Modified-Since is then ignored (§13.2.2)
        return none_match(if_none_match, f'"{version_pk}"')
    if if_modified_since:
        since = parse_http_date_safe(if_modified_since)
        if since is None or since > int(now.timestamp()):
            return False
        return _epoch(published_at) <= since
    return False
