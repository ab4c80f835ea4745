"""One log line per event, with ids: ``2026-11-23T10:00:00Z INFO contract.signed contract=12``."""

from __future__ import annotations

import logging
import sys
from typing import Any

SECRET_KEYS = frozenset({"password", "token", "key", "secret", "iban", "body"})


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    root = logging.getLogger("operateur")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def event(logger: logging.Logger, name: str, **fields: Any) -> None:
    """Log ``name`` followed by ``key=value`` pairs; secrets and message bodies are masked."""
    parts = [name]
    for key, value in fields.items():
        shown = "***" if key in SECRET_KEYS and value is not None else value
        parts.append(f"{key}={shown}")
    logger.info(" ".join(parts))
