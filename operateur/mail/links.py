"""Signed one-click links (MAIL-03): release links of the recipient digest and the sender's
challenge link. A token is ``<payload>.<signature>``: the payload is URL-safe base64 JSON with
the purpose and an expiry, the signature HMAC-SHA256 under the operator's link secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from operateur.config import Settings
from operateur.errors import InvalidInput
from operateur.i18n import Text


def link_secret(settings: Settings) -> bytes:
    """The key signing links: ``OPERATEUR_MAIL_LINK_SECRET``, or one generated once under the
    data directory (readable by its owner only) so the web server and gateways share it."""
    if settings.mail_link_secret:
        return settings.mail_link_secret.encode()
    path = Path(settings.data_dir) / "mail" / "link.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # written whole under a private name, then published with link(): another process
        # never reads a half-written (empty) key
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".link.secret.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(draft, path)
        except FileExistsError:
            pass  # another process published its key first: that one is used
        finally:
            os.unlink(draft)
    secret = path.read_bytes().strip()
    if not secret:
        raise RuntimeError(f"empty mail link secret in {path}: delete it or set one")
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def sign(secret: bytes, purpose: str, data: dict[str, Any], expires: datetime) -> str:
    body = {"p": purpose, "x": int(expires.timestamp()), **data}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_signature(secret, payload)}"


def _refused() -> InvalidInput:
    return InvalidInput(
        Text(
            fr="Lien invalide ou expiré.",
            en="Invalid or expired link.",
        ),
        code="invalid_link",
        field="token",
    )


def verify(secret: bytes, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    """The data of a token signed for ``purpose`` and not expired; otherwise ``InvalidInput``."""
    if not token.isascii():  # a URL path may carry anything: refused, not a server error
        raise _refused()
    payload, _, signature = token.partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(secret, payload)):
        raise _refused()
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        raise _refused() from None
    if not isinstance(body, dict) or body.get("p") != purpose:
        raise _refused()
    if int(body.get("x", 0)) < int(now.timestamp()):
        raise _refused()
    return body
