"""Call control over the SIP proxy's event socket (Kamailio's ``evapi`` module).

The HTTP routes (``operateur.voice.api``) cost the proxy one blocked SIP worker per request and
three requests per call. With the ``evapi`` transport of ``deploy/kamailio/kamailio.cfg``
(``OPERATEUR_SIP_EVAPI_LISTEN``), the proxy suspends the INVITE's transaction, sends the question
on one TCP connection and goes on with other calls; operateur answers on the same connection and
the proxy resumes the call. Reports (answer, end) are sent the same way, each with a sequence
number that operateur acknowledges once it has taken the report; the proxy keeps every report
until then and sends it again after a reconnection, so a restart of operateur bills no call
wrongly.

operateur is the client: :class:`ProxyLink` connects to each proxy of ``OPERATEUR_SIP_EVAPI``
(``host:port``, comma separated), reconnects with a backoff, and runs in the server's event loop
(``operateur serve``) with the same engine as the HTTP routes. The proxy accepts connections only
from its trusted networks; what arrives on the connection is trusted like a checked API key.

Messages are netstrings (``len:json,``) both ways:

- ``{"type": "authorize", "tindex", "tlabel", "call_id", "line", "caller", "callee",
  "source_ip", "media", "lang"}`` → ``{"tindex", "tlabel", "allow", "code", "reason",
  "max_duration", "route", "emergency"}`` (the HTTP route's answer, with the transaction ids);
- ``{"type": "inbound", "tindex", "tlabel", "call_id", "caller", "callee", "from_abroad",
  "source_ip", "lang"}`` → the same, with ``line``;
- ``{"type": "answer", "seq", "call_id", "at"}`` and ``{"type": "end", "seq", "call_id",
  "disposition", "sip_code", "at"}`` → ``{"ack": seq}`` once taken (or refused for good: a
  malformed report is acknowledged and logged, never retried forever).

Reports of one call are taken in the order they arrive (an end never overtakes its answer);
reports of different calls and all questions run concurrently on pools of threads (the engine
may read the database or Redis, and ends are written by group commit).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError

from operateur.i18n import pick_lang
from operateur.voice.api import engine_of
from operateur.voice.control import CONTROL_UNAVAILABLE, AuthorizeRequest, VoiceControl
from operateur.voice.decision import Decision
from operateur.voice.inbound import InboundRequest
from operateur.voice.schemas import AuthorizeIn, CallIn, EndIn, InboundIn

log = logging.getLogger("operateur.voice.link")

MAX_FRAME = 1_000_000  # bytes of one message; more is a broken peer


def parse_proxies(value: str) -> list[tuple[str, int]]:
    """``host:port[,host:port…]`` → [(host, port)]; a clear error names the bad entry."""
    proxies = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"OPERATEUR_SIP_EVAPI: {entry!r} is not host:port")
        proxies.append((host.strip("[]"), int(port)))
    return proxies


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%d:%s," % (len(data), data)


class Frames:
    """Netstrings out of a byte stream, as they arrive in pieces."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames: list[bytes] = []
        while True:
            colon = self._buffer.find(b":", 0, 12)
            if colon < 0:
                if len(self._buffer) >= 12:
                    raise ValueError("netstring length missing")
                return frames
            length = int(self._buffer[:colon])
            if length > MAX_FRAME:
                raise ValueError(f"netstring of {length} bytes")
            end = colon + 1 + length
            if len(self._buffer) <= end:
                return frames
            if self._buffer[end] != ord(","):
                raise ValueError("netstring not ended by a comma")
            frames.append(bytes(self._buffer[colon + 1 : end]))
            del self._buffer[: end + 1]


def _moment(unix_time: float | None) -> datetime | None:
    return datetime.fromtimestamp(unix_time, UTC) if unix_time is not None else None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "message"
    return f"{field}: {first['msg']}"


class ProxyLink:
    """The connection to one proxy's event socket, kept open (reconnected with a backoff)."""

    def __init__(
        self,
        control: VoiceControl,
        host: str,
        port: int,
        *,
        question_threads: int = 8,
        report_threads: int = 64,
        retry_seconds: Sequence[float] = (0.1, 0.5, 1.0, 2.0, 5.0),
    ) -> None:
        self.control = control
        self.host = host
        self.port = port
        # Two pools: an end waits for its group commit in its thread, and calls waiting for
        # their authorization must never queue behind those; many report threads make the
        # group commits larger.
        self._questions = ThreadPoolExecutor(question_threads, "operateur-link-question")
        self._reports = ThreadPoolExecutor(report_threads, "operateur-link-report")
        self._retry = tuple(retry_seconds)
        self._tails: dict[str, asyncio.Future[None]] = {}  # last report of each call in work
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Connect, serve, reconnect after a failure; until cancelled."""
        failures = 0
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as error:
                delay = self._retry[min(failures, len(self._retry) - 1)]
                if failures == 0 or delay == self._retry[-1]:
                    log.warning("proxy %s:%s unreachable (%s)", self.host, self.port, error)
                failures += 1
                await asyncio.sleep(delay)
                continue
            failures = 0
            log.info("connected to the proxy %s:%s", self.host, self.port)
            try:
                await self._serve(reader, writer)
            except (OSError, ValueError) as error:
                log.warning("proxy %s:%s link broken (%s)", self.host, self.port, error)
            finally:
                self.connected.clear()
                writer.close()
            await asyncio.sleep(self._retry[0])

    def close(self) -> None:
        self._questions.shutdown(wait=False, cancel_futures=True)
        self._reports.shutdown(wait=False, cancel_futures=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock: socket.socket | None = writer.get_extra_info("socket")
        frames = Frames()
        self.connected.set()
        while True:
            data = await reader.read(65536)
            if not data:
                return
            if sock is not None and hasattr(socket, "TCP_QUICKACK"):
                # Kamailio writes each message on its own without TCP_NODELAY: acknowledge at
                # once, or Nagle holds the next message until our delayed ACK (40 ms)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            for frame in frames.feed(data):
                self._dispatch(frame, writer)

    def _dispatch(self, frame: bytes, writer: asyncio.StreamWriter) -> None:
        try:
            message = json.loads(frame)
            kind = message["type"] if isinstance(message, dict) else None
        except (ValueError, KeyError):
            log.error("unreadable message from the proxy: %r", frame[:200])
            return
        if kind in ("authorize", "inbound"):
            asyncio.ensure_future(self._question(kind, message, writer))
        elif kind in ("answer", "end"):
            self._report(kind, message, writer)
        else:
            log.error("unknown message type from the proxy: %r", frame[:200])

    # -- questions: authorize, inbound --

    async def _question(
        self, kind: str, message: dict[str, Any], writer: asyncio.StreamWriter
    ) -> None:
        ids = {"tindex": message.get("tindex"), "tlabel": message.get("tlabel")}
        lang = pick_lang(message.get("lang"))
        loop = asyncio.get_running_loop()
        try:
            if kind == "authorize":
                body = AuthorizeIn.model_validate(message)
                decision = await loop.run_in_executor(
                    self._questions,
                    self.control.authorize,
                    AuthorizeRequest(
                        call_id=body.call_id,
                        line=body.line,
                        caller=body.caller,
                        callee=body.callee,
                        source_ip=body.source_ip,
                        media=body.media,
                    ),
                )
                answer = _decision(decision, lang)
                answer["route"] = decision.route
                answer["emergency"] = decision.emergency
            else:
                inbound = InboundIn.model_validate(message)
                decision, line = await loop.run_in_executor(
                    self._questions,
                    self.control.authorize_inbound,
                    InboundRequest(
                        call_id=inbound.call_id,
                        caller=inbound.caller,
                        callee=inbound.callee,
                        from_abroad=inbound.from_abroad,
                        source_ip=inbound.source_ip,
                    ),
                )
                answer = _decision(decision, lang)
                answer["line"] = line
        except ValidationError as error:
            log.error("invalid %s from the proxy: %s", kind, _first_error(error))
            answer = _unavailable(lang)
        except Exception:
            log.exception("%s failed for call %s", kind, message.get("call_id"))
            answer = _unavailable(lang)
            # the engine may have admitted the call before failing: free its place
            await self._free(message.get("call_id"))
        writer.write(encode({**ids, **answer}))

    async def _free(self, call_id: object) -> None:
        if not isinstance(call_id, str) or not call_id:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._reports, self.control.end, call_id, "FAILED", 503, None
            )
        except Exception:
            log.exception("could not free call %s", call_id)

    # -- reports: answer, end --

    def _report(self, kind: str, message: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        """Take the report after the previous one of the same call, then acknowledge it."""
        seq = message.get("seq")
        try:
            if kind == "answer":
                call = CallIn.model_validate(message)
                call_id = call.call_id
                work: Callable[[], object] = partial(
                    self.control.answer, call.call_id, _moment(call.at)
                )
            else:
                ended = EndIn.model_validate(message)
                call_id = ended.call_id
                work = partial(
                    self.control.end,
                    ended.call_id,
                    ended.disposition,
                    ended.sip_code,
                    _moment(ended.at),
                )
        except ValidationError as error:
            log.error("invalid %s report %s rejected: %s", kind, seq, _first_error(error))
            writer.write(encode({"ack": seq}))  # never takeable: not sent again
            return
        loop = asyncio.get_running_loop()
        previous = self._tails.get(call_id)
        done: asyncio.Future[None] = loop.create_future()
        self._tails[call_id] = done
        asyncio.ensure_future(self._take(call_id, seq, work, previous, done, writer))

    async def _take(
        self,
        call_id: str,
        seq: object,
        work: Callable[[], object],
        previous: asyncio.Future[None] | None,
        done: asyncio.Future[None],
        writer: asyncio.StreamWriter,
    ) -> None:
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await asyncio.get_running_loop().run_in_executor(self._reports, work)
        except Exception:
            # not acknowledged: the proxy sends it again (operateur's ends are idempotent)
            log.exception("report %s of call %s failed", seq, call_id)
        else:
            if not writer.is_closing():
                writer.write(encode({"ack": seq}))
        finally:
            done.set_result(None)
            if self._tails.get(call_id) is done:
                del self._tails[call_id]


def _decision(decision: Decision, lang: str) -> dict[str, Any]:
    return {
        "allow": decision.allow,
        "code": decision.code,
        "reason": decision.reason(lang),
        "max_duration": decision.max_duration,
    }


def _unavailable(lang: str) -> dict[str, Any]:
    """A refusal with 503 (the proxy's answer when operateur fails, as over HTTP)."""
    return _decision(Decision.refused(CONTROL_UNAVAILABLE), lang)


async def run_links(control: VoiceControl, proxies: Sequence[tuple[str, int]]) -> None:
    """One :class:`ProxyLink` per proxy, until cancelled (the server's lifespan)."""
    links = [ProxyLink(control, host, port) for host, port in proxies]
    try:
        await asyncio.gather(*(link.run() for link in links))
    finally:
        for link in links:
            link.close()


def install(app: FastAPI) -> None:
    """Serve call control to the proxies of ``OPERATEUR_SIP_EVAPI`` while the app runs, with the
    engine of its HTTP routes (one set of counters per process)."""
    proxies = parse_proxies(app.state.settings.sip_evapi)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.ensure_future(run_links(engine_of(app), proxies))
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    app.router.lifespan_context = lifespan
