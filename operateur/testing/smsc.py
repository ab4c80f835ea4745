"""An SMSC simulator on loopback for the SMPP tests and the SMS benchmark.

The SMPP side is the server of ``smpp34`` (a maintained SMPP 3.4 implementation from PyPI whose
framing, sessions, windowing and timers run in its Rust core): nothing here speaks the protocol by
hand. What this module adds is the behaviour of an operator's SMSC that the tests need:

- every ``submit_sm`` is recorded (``submits``) and acknowledged with a fresh message id;
- when the message asked for one (``registered_delivery``), a delivery receipt follows as a
  ``deliver_sm`` with ``esm_class`` 0x04, the usual ``id:… sub:… dlvrd:… submit date:… done
  date:… stat:… err:… text:…`` text and the ``receipted_message_id``/``message_state`` TLVs. The
  ``stat`` is ``receipt_stat`` or the one set for the recipient in ``receipt_stats``. A receipt
  the ESME did not acknowledge (connection lost) is kept and sent again at the next bind, as a
  real SMSC stores them;
- ``inject(source, destination, text)`` sends a mobile-originated message (e.g. "STOP");
- ``drop()`` cuts every connection at the TCP level, and ``drop_after(n)`` does so when the
  ``n+1``-th submit arrives from now, leaving that submit (and any behind it) unanswered and
  unrecorded: the SMSC did not take them. The cut is made by a small TCP relay in front of the
  server (the library's sessions can only be closed politely, with an ``unbind``), which is what
  clients connect to (``port``).

Use it as a context manager; it runs its own asyncio loop in a daemon thread, on a free loopback
port (the SMS benchmark runs one in a process of its own, so that it does not share the
interpreter with the client being measured).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import smpp34

from operateur.sms.smpp import (
    DATA_CODING_UCS2,
    ESM_CLASS_RECEIPT,
    ESM_CLASS_UDHI,
    decode_short_message,
    split_udh,
)
from operateur.testing.ports import free_port

T = TypeVar("T")

ESME_RTHROTTLED = 0x00000058  # SMPP 3.4 §5.1.3 throttling error

# SMPP 3.4 §5.3.2.12 and §5.3.2.35 optional parameter tags of a receipt
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427

# SMPP 3.4 §5.2.28 message_state values for the receipt TLV, by receipt "stat".
MESSAGE_STATES = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}


@dataclass(frozen=True)
class ReceivedSubmit:
    """One ``submit_sm`` the SMSC accepted, as it arrived, with the id it answered."""

    message_id: str
    system_id: str
    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes

    @property
    def udh(self) -> bytes:
        return split_udh(self.short_message, self.esm_class)[0]

    @property
    def payload(self) -> bytes:
        """The user data without the UDH."""
        return split_udh(self.short_message, self.esm_class)[1]

    @property
    def concatenation(self) -> tuple[int, int, int] | None:
        """(reference, total, sequence) from an 8-bit or 16-bit concatenation UDH, if any."""
        udh = self.udh
        pos = 1
        while pos + 1 < len(udh):
            iei, length = udh[pos], udh[pos + 1]
            data = udh[pos + 2 : pos + 2 + length]
            if iei == 0x00 and length == 3:
                return data[0], data[1], data[2]
            if iei == 0x08 and length == 4:
                return (data[0] << 8) | data[1], data[2], data[3]
            pos += 2 + length
        return None

    @property
    def text(self) -> str:
        return decode_short_message(self.payload, self.data_coding)


@dataclass(frozen=True)
class ReceivedMessage:
    """The parts of one message (one part, or the parts sharing a concatenation reference)."""

    parts: tuple[ReceivedSubmit, ...]

    @property
    def source_addr(self) -> str:
        return self.parts[0].source_addr

    @property
    def destination_addr(self) -> str:
        return self.parts[0].destination_addr

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)


@dataclass
class _Receipt:
    system_id: str
    message_id: str
    source_addr: str  # the recipient of the message
    destination_addr: str  # its sender
    stat: str
    submitted_at: datetime
    text: str
    attempts: int = 0


@dataclass(eq=False)
class _Relay:
    """One client connection relayed to the smpp34 server: both stream writers."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            writer.transport.abort()


class SmscSimulator:
    """An SMSC on 127.0.0.1:``port`` (see the module docstring)."""

    def __init__(
        self,
        *,
        receipts: bool = True,
        receipt_stat: str = "DELIVRD",
        receipt_delay: float = 0.01,
        relay: bool = True,
        port: int | None = None,
        system_id: str = "SIMSMSC",
    ) -> None:
        self.receipts = receipts
        self.receipt_stat = receipt_stat
        self.receipt_stats: dict[str, str] = {}  # recipient (as submitted) -> stat
        self.receipt_delay = receipt_delay
        self.refuse: dict[str, int] = {}  # recipient (as submitted) -> command_status refusing it
        self._throttle = 0  # submits still to answer with ESME_RTHROTTLED
        self.system_id = system_id
        self._use_relay = relay
        self.port = port or free_port()
        self._inner_port = free_port() if relay else self.port
        self._lock = threading.Lock()
        self._submits: list[ReceivedSubmit] = []
        self._binds: list[str] = []
        self._acked_receipts: list[str] = []
        self._acked_inbound: list[tuple[str, str, str]] = []
        self._ids = itertools.count(1)
        self._drop_at: int | None = None
        self._drops = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        # loop-side state
        self._sessions: dict[str, smpp34.Esme] = {}
        self._dead_sessions: set[str] = set()
        self._held: list[smpp34.SubmitSmEvent] = []
        self._pending_receipts: deque[_Receipt] = deque()
        self._pending_inbound: deque[tuple[str, str, str]] = deque()
        self._relays: set[_Relay] = set()
        self._background: set[asyncio.Task[Any]] = set()

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> SmscSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="smsc-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._failure is not None:
            raise RuntimeError("the SMSC simulator did not start") from self._failure
        if not self._ready.is_set():
            raise RuntimeError("the SMSC simulator did not start in time")

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(30)
        self._thread = None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start() or kept for stop()
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = smpp34.Server("127.0.0.1", self._inner_port, system_id=self.system_id)
        await server.start()
        relay_server: asyncio.Server | None = None
        if self._use_relay:
            relay_server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        events = asyncio.create_task(self._events(server))
        self._ready.set()
        await self._stopping.wait()
        events.cancel()
        for relay in list(self._relays):
            relay.abort()
        if relay_server is not None:
            relay_server.close()
        for task in list(self._background):
            task.cancel()
        await server.stop()
        self._held.clear()

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the simulator's loop and return its result."""
        assert self._loop is not None
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(30)

    # ---------------------------------------------------------------- records (any thread)

    @property
    def submits(self) -> list[ReceivedSubmit]:
        with self._lock:
            return list(self._submits)

    @property
    def binds(self) -> list[str]:
        """The system_id of every bind, in order."""
        with self._lock:
            return list(self._binds)

    @property
    def acked_receipts(self) -> list[str]:
        """Message ids of the receipts the ESME acknowledged with deliver_sm_resp."""
        with self._lock:
            return list(self._acked_receipts)

    @property
    def acked_inbound(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._acked_inbound)

    @property
    def drops(self) -> int:
        """How many times the connections were cut."""
        with self._lock:
            return self._drops

    def messages(self) -> list[ReceivedMessage]:
        """Every accepted message, concatenated parts put back together in order."""
        singles: list[ReceivedMessage] = []
        groups: dict[tuple[str, str, int, int], list[ReceivedSubmit]] = {}
        for submit in self.submits:
            concat = submit.concatenation
            if concat is None:
                singles.append(ReceivedMessage((submit,)))
            else:
                key = (submit.source_addr, submit.destination_addr, concat[0], concat[1])
                groups.setdefault(key, []).append(submit)
        for parts in groups.values():
            ordered = sorted(parts, key=lambda part: (part.concatenation or (0, 0, 0))[2])
            singles.append(ReceivedMessage(tuple(ordered)))
        return singles

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        """Block until ``predicate()`` holds; TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the SMSC simulator did not reach the expected state")
            time.sleep(0.01)

    # ---------------------------------------------------------------- controls (any thread)

    def drop(self) -> None:
        """Cut every connection now (TCP abort on both sides of the relay)."""
        self._require_relay()
        self._call(self._cut)

    def drop_after(self, count: int) -> None:
        """Accept ``count`` more submits, then cut the connections when the next one arrives."""
        self._require_relay()
        with self._lock:
            self._drop_at = len(self._submits) + count

    def throttle(self, count: int) -> None:
        """Answer the next ``count`` submits with ESME_RTHROTTLED (not taken, not recorded)."""
        with self._lock:
            self._throttle = count

    def inject(self, source: str, destination: str, text: str) -> None:
        """Send a mobile-originated message from ``source`` to ``destination`` (GSM 7-bit
        ASCII subset or, if needed, UCS-2), now or at the next bind."""
        self._call(lambda: self._queue_inbound(source, destination, text))

    def _require_relay(self) -> None:
        if not self._use_relay:
            raise RuntimeError("connection drops need the relay (SmscSimulator(relay=True))")

    # ---------------------------------------------------------------- loop side

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._inner_port)
        except OSError:
            writer.transport.abort()
            return
        relay = _Relay(writer, up_writer)
        self._relays.add(relay)
        relay.tasks = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        try:
            await asyncio.gather(*relay.tasks)
        finally:
            relay.abort()
            self._relays.discard(relay)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    def _cut(self) -> None:
        with self._lock:
            self._drops += 1
        self._dead_sessions.update(self._sessions)
        self._sessions.clear()
        for relay in list(self._relays):
            relay.abort()

    async def _events(self, server: smpp34.Server) -> None:
        while True:
            event = await server.next()
            if isinstance(event, smpp34.Esme):
                self._sessions[event.session_id] = event
                with self._lock:
                    self._binds.append(event.system_id)
                self._flush_pending()
            elif isinstance(event, smpp34.SubmitSmEvent):
                self._submit(event)
            elif isinstance(event, smpp34.Unbound):
                self._sessions.pop(event.session_id, None)

    def _submit(self, event: smpp34.SubmitSmEvent) -> None:
        if event.session_id in self._dead_sessions:
            self._held.append(event)  # its connection is gone: never answered
            return
        esme = self._sessions.get(event.session_id)
        with self._lock:
            if self._drop_at is not None and len(self._submits) >= self._drop_at:
                self._drop_at = None
                cut = True
            else:
                cut = False
            throttled = self._throttle > 0
            if throttled:
                self._throttle -= 1
        if cut:
            self._held.append(event)
            self._cut()
            return
        if throttled:
            event.reject(ESME_RTHROTTLED)
            return
        refusal = self.refuse.get(event.destination_addr)
        if refusal is not None:
            event.reject(refusal)
            return
        message_id = f"{next(self._ids):08X}"
        submit = ReceivedSubmit(
            message_id=message_id,
            system_id=esme.system_id if esme is not None else "",
            source_addr=event.source_addr,
            source_addr_ton=event.source_addr_ton,
            source_addr_npi=event.source_addr_npi,
            destination_addr=event.destination_addr,
            dest_addr_ton=event.dest_addr_ton,
            dest_addr_npi=event.dest_addr_npi,
            esm_class=event.esm_class,
            data_coding=event.data_coding,
            registered_delivery=event.registered_delivery,
            short_message=bytes(event.short_message),
        )
        with self._lock:
            self._submits.append(submit)
        event.accept(message_id)
        if self.receipts and submit.registered_delivery & 0x03:
            self._pending_receipts.append(
                _Receipt(
                    system_id=submit.system_id,
                    message_id=message_id,
                    source_addr=submit.destination_addr,
                    destination_addr=submit.source_addr,
                    stat=self.receipt_stats.get(submit.destination_addr, self.receipt_stat),
                    submitted_at=datetime.now(UTC),
                    text=submit.text[:20],
                )
            )
            self._flush_pending()

    def _queue_inbound(self, source: str, destination: str, text: str) -> None:
        self._pending_inbound.append((source, destination, text))
        self._flush_pending()

    def _receiver(self, system_id: str | None = None) -> smpp34.Esme | None:
        for esme in self._sessions.values():
            if esme.can_receive and (system_id is None or esme.system_id == system_id):
                return esme
        return None

    def _flush_pending(self) -> None:
        """Send the stored receipts and inbound messages that have a bound receiver."""
        kept: deque[_Receipt] = deque()
        while self._pending_receipts:
            receipt = self._pending_receipts.popleft()
            esme = self._receiver(receipt.system_id)
            if esme is None:
                kept.append(receipt)
            else:
                self._spawn(self._send_receipt(esme, receipt))
        self._pending_receipts = kept
        esme = self._receiver()
        while esme is not None and self._pending_inbound:
            self._spawn(self._send_inbound(esme, self._pending_inbound.popleft()))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_receipt(self, esme: smpp34.Esme, receipt: _Receipt) -> None:
        if self.receipt_delay:
            await asyncio.sleep(self.receipt_delay)
        receipt.attempts += 1
        done = datetime.now(UTC)
        delivered = "001" if receipt.stat == "DELIVRD" else "000"
        error = "000" if receipt.stat in ("DELIVRD", "ACCEPTD", "ENROUTE") else "001"
        body = (
            f"id:{receipt.message_id} sub:001 dlvrd:{delivered} "
            f"submit date:{receipt.submitted_at:%y%m%d%H%M} done date:{done:%y%m%d%H%M} "
            f"stat:{receipt.stat} err:{error} text:{receipt.text}"
        )
        tlvs = [
            smpp34.Tlv(TLV_RECEIPTED_MESSAGE_ID, receipt.message_id.encode() + b"\0"),
            smpp34.Tlv(TLV_MESSAGE_STATE, bytes([MESSAGE_STATES.get(receipt.stat, 7)])),
        ]
        try:
            response = await esme.deliver_sm(
                receipt.destination_addr,
                body.encode("ascii", "replace"),
                source_addr=receipt.source_addr,
                source_addr_ton=1,
                source_addr_npi=1,
                dest_addr_ton=5 if not receipt.destination_addr.isdigit() else 1,
                dest_addr_npi=0 if not receipt.destination_addr.isdigit() else 1,
                esm_class=ESM_CLASS_RECEIPT,
                tlvs=tlvs,
            )
            ok = response.is_success
        except (smpp34.SmppError, RuntimeError):
            ok = False
        if ok:
            with self._lock:
                self._acked_receipts.append(receipt.message_id)
        else:
            self._pending_receipts.append(receipt)  # sent again to the next bound receiver
            self._retry_soon()

    async def _send_inbound(self, esme: smpp34.Esme, inbound: tuple[str, str, str]) -> None:
        source, destination, text = inbound
        try:
            payload = text.encode("ascii")
            coding = 0
        except UnicodeEncodeError:
            payload = text.encode("utf-16-be")
            coding = DATA_CODING_UCS2
        try:
            response = await esme.deliver_sm(
                destination,
                payload,
                source_addr=source,
                source_addr_ton=1,
                source_addr_npi=1,
                dest_addr_ton=0,
                dest_addr_npi=0,
                data_coding=coding,
            )
            ok = response.is_success
        except (smpp34.SmppError, RuntimeError):
            ok = False
        if ok:
            with self._lock:
                self._acked_inbound.append(inbound)
        else:
            self._pending_inbound.append(inbound)
            self._retry_soon()

    def _retry_soon(self) -> None:
        """Flush what is pending again shortly: a new session may be bound already."""
        assert self._loop is not None
        self._loop.call_later(0.1, self._flush_pending)


__all__ = ["ESM_CLASS_UDHI", "ReceivedMessage", "ReceivedSubmit", "SmscSimulator"]
