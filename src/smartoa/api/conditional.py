"""Conditional GET of ``GET /api/v1/effacement`` (RFC 9110 §8.8, §13): the validators of the version served and
whether a client's copy is still the current one.

- ``ETag: "<version id>"``: strong; a version's document never changes (``ConsigneVersion`` is append-only), and a
  new version or a new day is a new row, hence a new tag.
- ``Last-Modified``: the HTTP date (to the second) the version was published: its document's ``update_date``,
  the time the version was stamped with (``ConsigneVersion.created_at``).

``If-None-Match`` (a list of tags, or ``*``) is compared weakly, as RFC 9110 §13.1.2 says; when absent,
``If-Modified-Since`` is honoured (§13.1.3). Both are evaluated only for a caller that passed every check and
has a document: a refused call is answered its refusal, never 304.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from django.utils.http import http_date, parse_http_date_safe

_TAG = re.compile(r'\s*(?:W/)?("[^"]*")\s*(?:,|$)')
MAX_REMEMBERED = 65_536  # versions whose validators a process keeps (polled versions repeat)


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str
    published: int  # seconds since the epoch
    headers: tuple[tuple[str, str], tuple[str, str]]  # ETag, Last-Modified


_known: dict[tuple[int, int], Validators] = {}


def validators(version_pk: int, document: str) -> Validators:
    """The validators of a version, from its id and its stored document (parsed once per version and process;
    remembered by id and the document's hash, so that an id reused by a rolled-back test is not mistaken)."""
    key = (version_pk, hash(document))
    found = _known.get(key)
    if found is None:
        published = int(datetime.fromisoformat(json.loads(document)["update_date"]).timestamp())
        etag = f'"{version_pk}"'
        found = Validators(etag, published, (("ETag", etag), ("Last-Modified", http_date(published))))
        if len(_known) >= MAX_REMEMBERED:
            _known.clear()
        _known[key] = found
    return found


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


def not_modified(if_none_match: str | None, if_modified_since: str | None, version: Validators, now: datetime) -> bool:
    """Whether the client's copy (its conditional headers) is the version served: answer 304. ``now`` (the
    current time) makes an If-Modified-Since in the future invalid, so ignored (a client clock ahead must not
    freeze its copy)."""
    if if_none_match is not None:  # If-Modified-Since is then ignored (§13.2.2)
        return none_match(if_none_match, version.etag)
    if if_modified_since:
        since = parse_http_date_safe(if_modified_since)
        if since is None or since > int(now.timestamp()):
            return False
        return version.published <= since
    return False
