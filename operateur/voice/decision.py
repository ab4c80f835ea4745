"""What call control answers: an admission or a refusal naming its rule, with its SIP code.

SIP response codes (RFC 3261 §21) chosen for each kind of refusal — the proxy relays them:

- ``403 Forbidden``: the call is not allowed (service suspended, destination barred, caller ID
  refused, telemarketing rules, unknown line, no price for the destination, automatic dialling);
- ``404 Not Found``: the dialled number does not exist;
- ``402 Payment Required``: the prepaid balance cannot pay the first step (BIL-10);
- ``486 Busy Here``: a concurrent-call limit is reached, of the line (VOX-05) or of the
  platform account (VOX-07) — the caller may try again when a call ends;
- ``503 Service Unavailable``: the account's call attempts per second (CAPS, VOX-07) are
  exceeded — a transient overload the caller should retry a little later.
"""

from __future__ import annotations

from dataclasses import dataclass

from operateur.i18n import Text

ALLOW = 200
FORBIDDEN = 403
NOT_FOUND = 404
PAYMENT_REQUIRED = 402
BUSY_HERE = 486
SERVICE_UNAVAILABLE = 503


@dataclass(frozen=True)
class Refusal:
    """Why a call is refused: the SIP code, the SPEC rule, a stable cause and the words."""

    code: int
    rule: str  # "VOX-05", "BIL-10"… (or "LINE" for an unknown or closed line)
    cause: str  # stable machine code, e.g. "line_concurrency"
    text: Text

    def reason(self, lang: str) -> str:
        """``"VOX-05 …"``: the rule first, then the words, in ``lang``."""
        return f"{self.rule} {self.text.render(lang)}"


@dataclass(frozen=True)
class Decision:
    """The answer to ``authorize``: allowed with a maximum duration and route, or refused."""

    allow: bool
    code: int
    refusal: Refusal | None
    max_duration: int
    route: str
    emergency: bool

    def reason(self, lang: str) -> str:
        if self.refusal is not None:
            return self.refusal.reason(lang)
        return "OK"

    @classmethod
    def refused(cls, refusal: Refusal, route: str = "", emergency: bool = False) -> Decision:
        return cls(False, refusal.code, refusal, 0, route, emergency)
