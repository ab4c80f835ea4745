"""An SMTP server on loopback that keeps what it receives: the peer of notification tests.

    with SmtpSink() as sink:
        os.environ["OPERATEUR_SMTP_URL"] = sink.url
        ...
        [message] = sink.messages          # email.message.EmailMessage
        sink.envelopes[0].rcpt_tos          # the RCPT TO addresses

It is a real aiosmtpd server in a thread; a message is in ``messages`` once the client got the
reply to its DATA command.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from operateur.testing.ports import free_port


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes


class _Collector:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.sink._received(Envelope(envelope.mail_from, tuple(envelope.rcpt_tos), raw))
        return "250 OK"


class SmtpSink:
    """A throwaway SMTP server on 127.0.0.1 collecting every message it accepts."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.envelopes: list[Envelope] = []
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(_Collector(self), hostname=host, port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def _received(self, envelope: Envelope) -> None:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(parsed)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope went to ``address``."""
        with self._lock:
            return [
                m
                for e, m in zip(self.envelopes, self.messages, strict=True)
                if address.lower() in (r.lower() for r in e.rcpt_tos)
            ]

    def clear(self) -> None:
        with self._lock:
            self.envelopes.clear()
            self.messages.clear()

    def start(self) -> SmtpSink:
        try:
            self._controller.start()
        except OSError:  # could not listen: aiosmtpd leaves its loop open, so that a later
            self._controller.loop.close()  # test would fail on the unclosed loop's warning
            raise
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
