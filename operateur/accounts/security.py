"""Secrets: password hashing (argon2) and random tokens stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_KEY_PREFIX = "opk"


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    """A hash no password matches, checked when the identifier is unknown or disabled."""
    return hash_password(secrets.token_urlsafe(32))


def spend_password_check(password: str) -> None:
    """The cost of a password check without a user: the refusal of an unknown identifier
    takes as long as a wrong password, so its time does not tell which accounts exist."""
    verify_password(_decoy_hash(), password)


def same_digest(stored: str, token: str) -> bool:
    """``token`` hashes to ``stored``, compared in constant time."""
    return hmac.compare_digest(stored, digest(token))


def new_token() -> str:
    """A login-session token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Tokens and API keys are high-entropy, so a plain SHA-256 is the right stored form."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """Return (public_id, full key shown once, digest of the key)."""
    public_id = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}_{public_id}_{secrets.token_urlsafe(32)}"
    return public_id, key, digest(key)


def split_api_key(key: str) -> str | None:
    """The public id of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1]:
        return None
    return parts[1]
