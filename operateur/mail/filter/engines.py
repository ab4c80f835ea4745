"""Optional external engines as scanners: rspamd over its HTTP protocol (``/checkv2``) and
SpamAssassin's spamd protocol (``SYMBOLS SPAMC/1.5``).

Each adds one symbol carrying the engine's score (times ``weight``) and the rules that fired.
An engine that cannot be reached adds a zero-score ``*_UNAVAILABLE`` symbol: mail keeps
flowing on the filter's own scanners.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import httpx

from operateur.mail.filter.scanning import ScanContext
from operateur.mail.filter.types import Symbol

TIMEOUT_SECONDS = 30.0
MAX_RULES_SHOWN = 12


@dataclass(frozen=True)
class EngineReport:
    """What an engine said: its score, its own spam decision and action, and its rules."""

    score: float
    spam: bool
    rules: tuple[str, ...]
    action: str = ""  # rspamd's action ("no action", "add header", "reject"…)


@dataclass
class Rspamd:
    """rspamd's normal worker, e.g. ``Rspamd("http://127.0.0.1:11333")``."""

    url: str
    weight: float = 1.0
    password: str | None = None
    _client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(base_url=self.url.rstrip("/"), timeout=TIMEOUT_SECONDS)

    def check(
        self,
        raw: bytes,
        *,
        client_ip: str | None = None,
        helo: str | None = None,
        mail_from: str | None = None,
        rcpt_tos: tuple[str, ...] = (),
    ) -> EngineReport:
        headers: list[tuple[str, str]] = []
        if client_ip:
            headers.append(("IP", client_ip))
        if helo:
            headers.append(("Helo", helo))
        if mail_from:
            headers.append(("From", mail_from))
        headers.extend(("Rcpt", rcpt) for rcpt in rcpt_tos)
        if self.password:
            headers.append(("Password", self.password))
        response = self._client.post("/checkv2", content=raw, headers=headers)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        symbols: dict[str, dict[str, Any]] = body.get("symbols") or {}
        ranked = sorted(symbols.values(), key=lambda s: -abs(float(s.get("score", 0.0))))
        action = str(body.get("action", "no action"))
        return EngineReport(
            score=float(body.get("score", 0.0)),
            spam=action not in ("no action", "greylist"),
            rules=tuple(str(s["name"]) for s in ranked),
            action=action,
        )

    def __call__(self, ctx: ScanContext) -> list[Symbol]:
        try:
            report = self.check(
                ctx.message.raw,
                client_ip=ctx.envelope.client_ip,
                helo=ctx.envelope.helo,
                mail_from=ctx.envelope.mail_from,
                rcpt_tos=ctx.envelope.rcpt_tos,
            )
        except (httpx.HTTPError, ValueError) as exc:
            return [Symbol("RSPAMD_UNAVAILABLE", 0.0, str(exc))]
        detail = ", ".join(report.rules[:MAX_RULES_SHOWN])
        return [Symbol("RSPAMD", round(report.score * self.weight, 2), detail)]


class SpamdError(Exception):
    """spamd answered something else than a result."""


@dataclass
class Spamd:
    """SpamAssassin's spamd, e.g. ``Spamd("127.0.0.1", 783)``."""

    host: str
    port: int = 783
    weight: float = 1.0
    user: str | None = None

    def check(self, raw: bytes) -> EngineReport:
        request = [b"SYMBOLS SPAMC/1.5", b"Content-length: %d" % len(raw)]
        if self.user:
            request.append(b"User: " + self.user.encode())
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT_SECONDS) as conn:
            conn.sendall(b"\r\n".join(request) + b"\r\n\r\n" + raw)
            conn.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return parse_spamd_reply(b"".join(chunks))

    def __call__(self, ctx: ScanContext) -> list[Symbol]:
        try:
            report = self.check(ctx.message.raw)
        except (OSError, SpamdError) as exc:
            return [Symbol("SPAMD_UNAVAILABLE", 0.0, str(exc))]
        detail = ", ".join(report.rules[:MAX_RULES_SHOWN])
        return [Symbol("SPAMASSASSIN", round(report.score * self.weight, 2), detail)]


def parse_spamd_reply(reply: bytes) -> EngineReport:
    """Read ``SPAMD/1.1 0 EX_OK``, a ``Spam: True ; 7.1 / 5.0`` header and the rule list."""
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(None, 2)
    if len(status) < 2 or not status[0].startswith("SPAMD/") or status[1] != "0":
        raise SpamdError(f"spamd: {lines[0]!r}")
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "spam":
            verdict, _, scores = value.partition(";")
            score = float(scores.split("/")[0])
            rules = tuple(r.strip() for r in body.decode("latin-1").split(",") if r.strip())
            return EngineReport(score=score, spam=verdict.strip().lower() == "true", rules=rules)
    raise SpamdError("spamd: no Spam header in the reply")


def configured_engines(rspamd_url: str = "", spamd_address: str = "") -> list[Rspamd | Spamd]:
    """The external engines named by an rspamd URL and a spamd ``HOST:PORT`` (empty: none);
    a spamd address without a port uses spamd's 783."""
    engines: list[Rspamd | Spamd] = []
    if rspamd_url.strip():
        engines.append(Rspamd(rspamd_url.strip()))
    if spamd_address.strip():
        host, colon, port = spamd_address.strip().rpartition(":")
        if not colon:
            host, port = port, "783"
        engines.append(Spamd(host.strip("[]") or "127.0.0.1", int(port)))
    return engines
