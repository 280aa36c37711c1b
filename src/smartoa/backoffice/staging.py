"""Uploaded files kept on the server between a preview and its confirmation.

A preview (prices → consignes, contracts file → dry run) stores the uploaded text in the shared cache under its
SHA-256 and the operator's account; the confirmation form carries only that digest and the fingerprint of the
plan it showed. The server reads the text back, builds the plan again and refuses if it differs from the preview:
nothing the browser sends can change what is written.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.utils.translation import gettext_noop

from smartoa.domain.errors import Conflict, NotFound

KEPT_SECONDS = 2 * 3600
MAX_CHARS = 20_000_000  # a file larger than this is not staged (the parsers refuse far smaller ones anyway)


def _key(kind: str, user_pk: int, digest: str) -> str:
    return f"backoffice:staged:{kind}:{user_pk}:{digest}"


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def stage(kind: str, user_pk: int, text: str) -> str:
    """Keep ``text`` for the operator (two hours); returns its digest, the only thing the form carries."""
    digest = digest_of(text)
    if len(text) <= MAX_CHARS:
        cache.set(_key(kind, user_pk, digest), text, KEPT_SECONDS)
    return digest


def staged(kind: str, user_pk: int, digest: str) -> str:
    """The text kept under ``digest``; NotFound when it expired (or never was)."""
    if not isinstance(digest, str) or len(digest) != 64:
        raise NotFound(gettext_noop("this preview has expired: upload the file again"))
    text = cache.get(_key(kind, user_pk, digest))
    if text is None or digest_of(text) != digest:
        raise NotFound(gettext_noop("this preview has expired: upload the file again"))
    return text


def discard(kind: str, user_pk: int, digest: str) -> None:
    cache.delete(_key(kind, user_pk, digest))


def check_unchanged(previewed: str, current: str) -> None:
    """Conflict when the plan built now is not the one the operator saw (the data changed meanwhile)."""
    if previewed != current:
        raise Conflict(gettext_noop("the data changed since the preview: check the new preview before confirming"))
