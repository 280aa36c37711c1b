"""API tokens: generation and hashing. Tokens carry 256 bits of randomness, so one SHA-256 is the right hash
(a slow password hash would add nothing against guessing and cost every API call)."""

import hashlib
import secrets

TOKEN_PREFIX = "soa_"  # noqa: S105 - the public prefix that marks a token, not a secret  # nosec B105


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and 20 <= len(token) <= 100 and token.isascii()
