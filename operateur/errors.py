"""Domain errors.

Every error carries a stable ``code``, a human message and optional ``field`` and ``details``.
Errors never carry transport status codes: the HTTP layer (``operateur/http/problems.py``), the CLI
and the protocol edges map the error *class* to their own wire status.
"""

from __future__ import annotations

from typing import Any

from operateur.i18n import DEFAULT_LANG, Text, as_text


class OperateurError(Exception):
    """Base class of every error the platform reports to a user."""

    default_code = "error"

    def __init__(
        self,
        message: Text | str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.text = as_text(message)
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.render("en"))
        self.code = code or self.default_code
        self.field = field

    @property
    def message(self) -> str:
        return self.render(DEFAULT_LANG)

    def render(self, lang: str = DEFAULT_LANG) -> str:
        """The message in ``lang``, its ``{placeholders}`` filled from ``details``."""
        try:
            return self.text.render(lang, **self.details)
        except (KeyError, IndexError):
            return self.text.en if lang == "en" else self.text.fr

    def as_dict(self, lang: str = DEFAULT_LANG) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.render(lang)}
        if self.field is not None:
            data["field"] = self.field
        if self.details:
            data["details"] = self.details
        return data


class InvalidInput(OperateurError):
    """The caller sent a value that is malformed or impossible; ``field`` names it."""

    default_code = "invalid_input"


class NotFound(OperateurError):
    """The object does not exist, or is not visible to the caller."""

    default_code = "not_found"


class Conflict(OperateurError):
    """Well formed, but contradicts the current state (duplicate, illegal transition)."""

    default_code = "conflict"


class Unauthenticated(OperateurError):
    """No valid credential was presented."""

    default_code = "unauthenticated"


class Forbidden(OperateurError):
    """The credential is valid but may not do this."""

    default_code = "forbidden"
