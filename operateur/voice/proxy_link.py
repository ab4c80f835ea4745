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
  "disposition", "sip_code", "at"}`` → ``{"acks": "5-9,11"}`` (the numbers taken, as ranges)
  once taken (or refused for good: a malformed report is acknowledged and logged, never
  retried forever).

What arrives together is handled together: the questions of one read are decided in one trip to
a pool of threads (the engine may read the database or Redis), the reports are taken in arrival
order by one thread, a batch at a time, its ends written in one transaction, then acknowledged
(an end never overtakes its answer).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

import orjson
from fastapi import FastAPI
from pydantic import ValidationError

from operateur.i18n import pick_lang
from operateur.voice.api import engine_of, moment_of
from operateur.voice.control import (
    CONTROL_UNAVAILABLE,
    AuthorizeRequest,
    CallEnd,
    VoiceControl,
)
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
    data = orjson.dumps(message)  # thousands a second: orjson, several times faster than json
    return b"%d:%s," % (len(data), data)


def acknowledge(seqs: Sequence[object]) -> bytes:
    """The message that acknowledges reports ``seqs``: ``{"acks": "5-9,11"}``, their numbers
    as ranges (the proxy reads one short string instead of a JSON array item by item)."""
    numbers = sorted({seq for seq in seqs if isinstance(seq, int) and seq > 0})
    ranges: list[str] = []
    start = 0
    for index, seq in enumerate(numbers):
        if index + 1 < len(numbers) and numbers[index + 1] == seq + 1:
            continue
        first = numbers[start]
        ranges.append(f"{first}-{seq}" if seq > first else str(seq))
        start = index + 1
    return encode({"acks": ",".join(ranges)})


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
        gather_seconds: float = 0.02,
        retry_seconds: Sequence[float] = (0.1, 0.5, 1.0, 2.0, 5.0),
    ) -> None:
        self.control = control
        self.host = host
        self.port = port
        # Questions may wait for the database (a prepaid reservation): several threads, so
        # that calls never queue behind reports. Reports are taken in order by one thread.
        self._questions = ThreadPoolExecutor(question_threads, "operateur-link-question")
        self._reports = ThreadPoolExecutor(1, "operateur-link-reports")
        self._retry = tuple(retry_seconds)
        self._inbox: list[Report] = []  # reports arrived, not yet taken
        # Each batch of reports costs a transaction and a few reads whatever its size: the
        # reports of the next ``gather_seconds`` are taken together (a call's slot is freed
        # that much later; its moments come from the proxy, so its billing is unchanged).
        self._gather = gather_seconds
        self._draining = False
        self._tasks: set[asyncio.Task[None]] = set()  # kept until done (the loop keeps weak ones)

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
                writer.close()
            await asyncio.sleep(self._retry[0])

    def close(self) -> None:
        self._questions.shutdown(wait=False, cancel_futures=True)
        self._reports.shutdown(wait=False, cancel_futures=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock: socket.socket | None = writer.get_extra_info("socket")
        frames = Frames()
        while True:
            data = await reader.read(65536)
            if not data:
                return
            if sock is not None and hasattr(socket, "TCP_QUICKACK"):
                # Kamailio writes each message on its own without TCP_NODELAY: acknowledge at
                # once, or Nagle holds the next message until our delayed ACK (40 ms)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            questions: list[Question] = []
            for frame in frames.feed(data):
                self._sort(frame, questions, writer)
            if questions:  # what arrived together is decided in one trip to a thread
                decided = asyncio.get_running_loop().run_in_executor(
                    self._questions, self._decide_all, questions
                )
                decided.add_done_callback(partial(_send_answers, writer))
            if self._inbox and not self._draining:
                self._draining = True
                self._start(self._drain(writer))

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _sort(self, frame: bytes, questions: list[Question], writer: asyncio.StreamWriter) -> None:
        """Validate a message: a question to decide, a report to take, or an error logged (and
        answered: a refusal for a question, an acknowledgement for a report never takeable)."""
        try:
            message = orjson.loads(frame)
            kind = message["type"] if isinstance(message, dict) else None
        except (orjson.JSONDecodeError, KeyError):
            log.error("unreadable message from the proxy: %r", frame[:200])
            return
        try:
            if kind == "authorize":
                body = AuthorizeIn.model_validate(message)
                questions.append(
                    Question(
                        message,
                        AuthorizeRequest(
                            call_id=body.call_id,
                            line=body.line,
                            caller=body.caller,
                            callee=body.callee,
                            source_ip=body.source_ip,
                            media=body.media,
                        ),
                    )
                )
            elif kind == "inbound":
                inbound = InboundIn.model_validate(message)
                questions.append(
                    Question(
                        message,
                        InboundRequest(
                            call_id=inbound.call_id,
                            caller=inbound.caller,
                            callee=inbound.callee,
                            from_abroad=inbound.from_abroad,
                            source_ip=inbound.source_ip,
                        ),
                    )
                )
            elif kind == "answer":
                call = CallIn.model_validate(message)
                self._inbox.append(
                    Report(message.get("seq"), call.call_id, None, moment_of(call.at))
                )
            elif kind == "end":
                ended = EndIn.model_validate(message)
                self._inbox.append(
                    Report(
                        message.get("seq"),
                        ended.call_id,
                        (ended.disposition, ended.sip_code),
                        moment_of(ended.at),
                    )
                )
            else:
                log.error("unknown message type from the proxy: %r", frame[:200])
        except ValidationError as error:
            log.error("invalid %s from the proxy: %s", kind, _first_error(error))
            if kind in ("authorize", "inbound"):
                writer.write(encode({**_ids(message), **_unavailable(message)}))
            elif "seq" in message:
                writer.write(acknowledge([message["seq"]]))  # never takeable: not sent again

    # -- questions: authorize, inbound --

    def _decide_all(self, questions: list[Question]) -> bytes:
        """The answers to ``questions``, ready to send (run by a question thread)."""
        return b"".join(encode(self._decide(question)) for question in questions)

    def _decide(self, question: Question) -> dict[str, Any]:
        message, request = question
        lang = pick_lang(message.get("lang"))
        try:
            if isinstance(request, AuthorizeRequest):
                decision = self.control.authorize(request)
                answer = _decision(decision, lang)
                answer["route"] = decision.route
                answer["emergency"] = decision.emergency
            else:
                decision, line = self.control.authorize_inbound(request)
                answer = _decision(decision, lang)
                answer["line"] = line
        except Exception:
            log.exception("%s failed for call %s", message["type"], request.call_id)
            answer = _unavailable(message)
            try:  # the engine may have admitted the call before failing: free its place
                self.control.end(request.call_id, "FAILED", 503)
            except Exception:
                log.exception("could not free call %s", request.call_id)
        return {**_ids(message), **answer}

    # -- reports: answer, end --

    async def _drain(self, writer: asyncio.StreamWriter) -> None:
        """Take the reports in arrival order, a batch at a time (one transaction each), and
        acknowledge each batch once taken."""
        loop = asyncio.get_running_loop()
        try:
            while self._inbox:
                await asyncio.sleep(self._gather)
                batch, self._inbox = self._inbox, []
                try:
                    await loop.run_in_executor(self._reports, self._take_all, batch)
                except Exception:
                    # not acknowledged: the proxy sends them again (taking a report twice
                    # changes nothing)
                    log.exception("%d report(s) from the proxy failed", len(batch))
                    continue
                if not writer.is_closing():
                    writer.write(acknowledge([report.seq for report in batch]))
        finally:
            self._draining = False

    def _take_all(self, batch: list[Report]) -> None:
        ends: list[CallEnd] = []
        for report in batch:
            if report.end is None:
                self.control.answer(report.call_id, report.at)
            else:
                ends.append((report.call_id, report.end[0], report.end[1], report.at))
        self.control.end_many(ends)


class Question(NamedTuple):
    message: dict[str, Any]
    request: AuthorizeRequest | InboundRequest


class Report(NamedTuple):
    seq: object
    call_id: str
    end: tuple[str, int] | None  # (disposition, SIP code) of an end; None for an answer
    at: datetime | None


def _send_answers(writer: asyncio.StreamWriter, decided: asyncio.Future[bytes]) -> None:
    """Send the answers of a trip to the question threads (a callback, not a task: thousands a
    second). A trip never fails (each question's failure is answered with a refusal)."""
    if not decided.cancelled() and not writer.is_closing():
        writer.write(decided.result())


def _ids(message: dict[str, Any]) -> dict[str, Any]:
    """The suspended transaction an answer resumes."""
    return {"tindex": message.get("tindex"), "tlabel": message.get("tlabel")}


def _decision(decision: Decision, lang: str) -> dict[str, Any]:
    return {
        "allow": decision.allow,
        "code": decision.code,
        "reason": decision.reason(lang),
        "max_duration": decision.max_duration,
    }


def _unavailable(message: dict[str, Any]) -> dict[str, Any]:
    """A refusal with 503 (the proxy's answer when operateur fails, as over HTTP)."""
    return _decision(Decision.refused(CONTROL_UNAVAILABLE), pick_lang(message.get("lang")))


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
