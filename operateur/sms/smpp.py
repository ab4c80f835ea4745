"""SMPP 3.4 transceiver to the operator's SMSC, one connector per route (built on ``smpplib``).

A connector binds as a transceiver and keeps a **window** of ``submit_sm`` on the wire without
waiting for each response (the PDUs written together go in one write to the socket), paces them
at the route's **throughput** (PDUs per second),
sends ``enquire_link`` when the line is quiet, answers the SMSC's own ``enquire_link`` and
``unbind``, and **reconnects with exponential backoff** when the connection fails. Messages come
from a ``MessageSource`` (the database outbox in ``operateur.sms.dispatcher``) already split into
parts by ``operateur.sms.encoding.split`` — never by smpplib's splitter, which can cut a GSM
escape pair — and encoded; a message of several parts goes as several ``submit_sm`` with an 8-bit
concatenation UDH (``esm_class`` 0x40). ``data_coding`` is 0 (SMSC default alphabet, GSM 03.38)
or 8 (UCS-2); ``registered_delivery`` asks for a receipt.

Inbound ``deliver_sm`` are either **delivery receipts** (``esm_class`` message type bits set:
the ``id:… stat:… done date:… err:…`` text and/or the ``receipted_message_id`` and
``message_state`` TLVs) or **mobile-originated messages** (e.g. "STOP"). Both are handed to the
source in the same batch as the responses; each ``deliver_sm`` is answered with
``deliver_sm_resp`` only after that batch is committed (``ESME_RX_T_APPN``, "try again later",
when the commit failed), so the SMSC keeps a receipt until operateur has stored it. What was
learnt is committed in one transaction per batch (the outbox's batch forms: one statement per
table, not per message), once the batch holds half a window of parts, or nothing more is on
the wire, or ``deliver_sm`` wait for their answer.

The database work runs in the connector's two database threads (``_Database``): one commits
the batches one after the other, the other claims and prepares the next messages, while the
connector's own thread keeps writing and reading the wire; a finished job wakes its ``select``.
The socket has ``TCP_NODELAY`` (the connector gathers its PDUs into one write itself) and
acknowledges what it read at once (``TCP_QUICKACK`` on Linux), so that neither side's small
writes wait for a delayed ACK while the window waits for a commit.

Exactly once across disconnects and restarts
--------------------------------------------
Each message has one state machine in the database (``operateur.sms.outbox``):

1. ``claim`` turns QUEUED messages into SUBMITTING and **commits before any byte is written**.
2. The ``submit_sm_resp`` of every part settles the message: SUBMITTED with the SMSC's message ids
   (one per part), or a failure. The window counts a part from its write until the outcome of
   its message is committed, not only until its response, so that at most a window of parts is
   written and not yet recorded (plus the parts already answered of a long message waiting for
   its last ones, which cannot count or that message would never finish in a small window).
   Throttling answers (``ESME_RTHROTTLED``, ``ESME_RMSGQFUL``) and ``ESME_RSYSERR`` mean the
   SMSC did not take the part: it is written again after a pause.
3. On a **graceful stop** (a restart of operateur) the connector stops claiming, writes the
   remaining parts of the long messages it had started, waits for the response of everything on
   the wire, unbinds, and gives the messages it had claimed but not started back to the outbox
   (``mark_failed_many``, retry): nothing is left in doubt (unless the connection was already
   down with parts in doubt, see 4 and 5).
4. When the **connection dies** (TCP reset, missing responses, SMSC unbind), claimed messages not
   yet written simply wait in memory for the next bind. A part that was written but whose
   response never came is **in doubt**: the SMSC may or may not have taken it. It is *not*
   resent at once. Real SMSCs keep the receipts of what they accepted and send them after the
   next bind; a receipt whose message id the outbox does not know is matched to an in-doubt
   part by its addresses (recipient -> sender) and, when the receipt carries it, the start of the
   text; a match settles the part with that id (no resend). Only a part still unmatched after
   the route's ``in_doubt_seconds`` is written again: for that part alone delivery is
   at-least-once, which is the only honest guarantee SMPP 3.4 allows (it has no idempotency key
   and ``query_sm`` needs the id that was lost). The log names every such resend.
5. After a **crash** (no graceful stop), the messages left SUBMITTING are returned to QUEUED by
   the dispatcher at start-up with ``outbox.requeue_stale`` once they are older than
   ``in_doubt_seconds`` plus the response timeout, with the same at-least-once caveat for what
   was on the wire at the time of the crash (at most the window).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
import select
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import phonenumbers
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp
from pydantic import BaseModel, ConfigDict, Field

from operateur.sms.encoding import ESCAPE, GSM_DEFAULT_ALPHABET, GSM_EXTENSION_TABLE

log = logging.getLogger(__name__)

T = TypeVar("T")

# SMPP 3.4 §5.2.19 data_coding
DATA_CODING_DEFAULT = 0x00  # SMSC default alphabet: GSM 03.38 7-bit, one septet per octet
DATA_CODING_ASCII = 0x01
DATA_CODING_LATIN1 = 0x03
DATA_CODING_UCS2 = 0x08
# SMPP 3.4 §5.2.12 esm_class
ESM_CLASS_UDHI = 0x40
ESM_CLASS_RECEIPT = 0x04  # SMSC delivery receipt
ESM_CLASS_TYPE_MASK = 0x3C  # message type bits: receipt, SME ack, user ack, intermediate
# SMPP 3.4 §5.2.17 registered_delivery: SMSC receipt on final outcome (success or failure)
REGISTERED_DELIVERY_FINAL = 0x01

ESME_ROK = smpplib.consts.SMPP_ESME_ROK
#: Answers meaning the SMSC did not take the part now: written again after a pause.
TRANSIENT_STATUSES = frozenset(
    {
        smpplib.consts.SMPP_ESME_RTHROTTLED,
        smpplib.consts.SMPP_ESME_RMSGQFUL,
        smpplib.consts.SMPP_ESME_RSYSERR,
    }
)
ESME_RX_T_APPN = smpplib.consts.SMPP_ESME_RX_T_APPN  # ESME temporary error: send again later

#: How often receipts of unknown message ids are tried again.
ORPHAN_RETRY_SECONDS = 0.2

_GSM_DECODE = {code: char for char, code in GSM_DEFAULT_ALPHABET.items()}
_GSM_DECODE[0x09] = "Ç"  # the standard's glyph (GSM_DEFAULT_ALPHABET also maps "ç" to 0x09)
_GSM_EXT_DECODE = {code: char for char, code in GSM_EXTENSION_TABLE.items()}


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


class SmppRoute(BaseModel):
    """One SMSC account: where to bind and how hard to push.

    Routes come from the ``OPERATEUR_SMS_ROUTES`` setting (``Settings.sms_routes``): a JSON
    object ``{"default": {"host": …, "port": …, "system_id": …, "password": …}, …}`` or
    ``@/path/to/routes.json``. A message goes out on the route named in its ``route`` column.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    host: str
    port: int = Field(default=2775, ge=1, le=65535)
    system_id: str
    password: str = ""
    system_type: str = ""
    service_type: str = ""
    window: int = Field(
        default=50,
        ge=1,
        description="submit_sm written and not yet recorded (on the wire, or answered and not "
        "committed yet)",
    )
    throughput: float = Field(default=0, ge=0, description="submit_sm per second; 0 = no limit")
    enquire_link_seconds: float = Field(default=30, gt=0)
    response_timeout_seconds: float = Field(default=30, gt=0)
    reconnect_min_seconds: float = Field(default=1, gt=0)
    reconnect_max_seconds: float = Field(default=60, gt=0)
    throttle_pause_seconds: float = Field(default=1, gt=0, description="after ESME_RTHROTTLED")
    in_doubt_seconds: float = Field(
        default=600, gt=0, description="wait for a receipt before resending an unanswered part"
    )
    poll_seconds: float = Field(default=0.5, gt=0, description="outbox poll when it was empty")
    claim_batch: int = Field(default=500, ge=1)
    registered_delivery: bool = True
    max_part_retries: int = Field(default=5, ge=0, description="transient refusals of one part")


def parse_routes(raw: str) -> dict[str, SmppRoute]:
    """Routes from the setting's text (JSON, or ``@path`` to a JSON or YAML file)."""
    import json
    from pathlib import Path

    import yaml

    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("@"):
        path = Path(raw[1:])
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    else:
        data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("OPERATEUR_SMS_ROUTES must be an object {route name: settings}")
    return {name: SmppRoute(name=name, **values) for name, values in data.items()}


# --------------------------------------------------------------------------------------------
# What goes in and out of a connector
# --------------------------------------------------------------------------------------------


class Submission(NamedTuple):  # a named tuple: one per message on the hot path
    """A claimed message ready for the wire: its parts already split and encoded."""

    message_id: int
    sender: str
    recipient: str  # E.164 "+33612345678"
    parts: tuple[bytes, ...]
    data_coding: int
    texts: tuple[str, ...] = ()  # the parts' text, to recognise a receipt of an in-doubt part


class Submitted(NamedTuple):  # a named tuple: one per message on the hot path
    message_id: int
    smsc_ids: tuple[str, ...]


class Failed(NamedTuple):  # a named tuple: one per message on the hot path
    message_id: int
    error: str
    retry: bool


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: the SMSC's message id, its final ``stat`` and when it was done."""

    smsc_id: str
    stat: str
    done_at: datetime | None
    error: str | None
    source: str  # the recipient of the message
    destination: str  # its sender
    text: str | None


@dataclass(frozen=True)
class Inbound:
    """A mobile-originated message (e.g. STOP): ``source`` in E.164 when it is a number."""

    source: str
    destination: str
    text: str


@dataclass
class Settlement:
    """What a connector learnt since the last commit, applied by the source in one transaction
    in this order: submitted, failed, receipts, inbound."""

    submitted: list[Submitted] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    inbound: list[Inbound] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.submitted or self.failed or self.receipts or self.inbound)


class MessageSource(Protocol):
    """Where a connector takes its messages and reports what became of them."""

    def claim(self, limit: int) -> list[Submission]:
        """Up to ``limit`` messages, already SUBMITTING and committed."""
        ...

    def settle(self, settlement: Settlement) -> list[Receipt]:
        """Apply ``settlement`` in one transaction; return the receipts whose SMSC message id
        no message has (yet). Raises when the transaction failed."""
        ...


# --------------------------------------------------------------------------------------------
# Wire helpers
# --------------------------------------------------------------------------------------------


def concatenation_udh(reference: int, total: int, sequence: int) -> bytes:
    """3GPP TS 23.040 §9.2.3.24.1 concatenated short message, 8-bit reference."""
    return bytes((0x05, 0x00, 0x03, reference & 0xFF, total, sequence))


def split_udh(short_message: bytes, esm_class: int) -> tuple[bytes, bytes]:
    """(UDH including its length octet, user data) when ``esm_class`` has UDHI, else (b"", …)."""
    if esm_class & ESM_CLASS_UDHI and short_message:
        end = 1 + short_message[0]
        return short_message[:end], short_message[end:]
    return b"", short_message


def decode_gsm7(data: bytes) -> str:
    """GSM 03.38 unpacked (one septet per octet), escape sequences to the extension table."""
    out: list[str] = []
    escaped = False
    for byte in data:
        if escaped:
            out.append(_GSM_EXT_DECODE.get(byte, _GSM_DECODE.get(byte, "?")))
            escaped = False
        elif byte == ESCAPE:
            escaped = True
        else:
            out.append(_GSM_DECODE.get(byte & 0x7F, "?"))
    return "".join(out)


def decode_short_message(data: bytes, data_coding: int) -> str:
    """The text of a short message (without UDH) in the given data_coding."""
    if data_coding == DATA_CODING_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == DATA_CODING_LATIN1:
        return data.decode("latin-1")
    if data_coding == DATA_CODING_ASCII:
        return data.decode("ascii", errors="replace")
    return decode_gsm7(data)


def address(value: str) -> tuple[str, int, int]:
    """(address, TON, NPI) for SMPP: E.164 numbers international/ISDN without "+", short codes
    and other digit strings unknown/ISDN, alphanumeric senders alphanumeric/unknown."""
    if value.startswith("+"):
        return value[1:], 1, 1
    if value.isdigit():
        return value, 0, 1
    return value, 5, 0


def to_e164(number: str, ton: int) -> str:
    """An address from the SMSC as E.164 when it is a phone number (French numbering for
    national forms), unchanged otherwise (short codes, alphanumeric)."""
    digits = number.lstrip("+")
    if not digits.isdigit():
        return number
    candidate = "+" + digits if ton == 1 or number.startswith("+") else digits
    try:
        parsed = phonenumbers.parse(candidate, "FR")
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_RECEIPT_FIELD = re.compile(
    r"(?P<key>id|sub|dlvrd|submit date|done date|stat|err|text):(?P<value>.*?)"
    r"(?=\s+(?:id|sub|dlvrd|submit date|done date|stat|err|text):|$)",
    re.IGNORECASE | re.DOTALL,
)
# SMPP 3.4 §5.2.28 message_state -> the receipt's stat word
_MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}


def _receipt_date(value: str) -> datetime | None:
    """YYMMDDhhmm[ss], as SMSCs write them (taken as UTC)."""
    value = value.strip()
    formats = {10: "%y%m%d%H%M", 12: "%y%m%d%H%M%S"}  # by length: strptime takes "02" as "0"
    if not value.isdigit() or len(value) not in formats:
        return None
    try:
        return datetime.strptime(value, formats[len(value)]).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_receipt(
    text: str,
    *,
    receipted_message_id: str | None = None,
    message_state: int | None = None,
    source: str = "",
    destination: str = "",
) -> Receipt | None:
    """A receipt from the SMPP 3.4 appendix B text and the TLVs (which win when present);
    None when it names no message."""
    fields = {m["key"].lower(): m["value"].strip() for m in _RECEIPT_FIELD.finditer(text)}
    smsc_id = (receipted_message_id or fields.get("id") or "").strip()
    if not smsc_id:
        return None
    stat = _MESSAGE_STATES.get(message_state or 0) or fields.get("stat", "UNKNOWN").upper()
    err = fields.get("err")
    error = None if err is None or not err.strip("0") else f"err:{err}"
    done = fields.get("done date")
    return Receipt(
        smsc_id=smsc_id,
        stat=stat,
        done_at=_receipt_date(done) if done else None,
        error=error,
        source=source,
        destination=destination,
        text=fields.get("text"),
    )


# --------------------------------------------------------------------------------------------
# The connector
# --------------------------------------------------------------------------------------------


class ConnectionLost(Exception):
    """The SMPP session is over; the connector reconnects."""


@dataclass(eq=False)
class _Message:
    submission: Submission
    reference: int
    smsc_ids: list[str | None]
    statuses: list[int | None]  # SMPP command_status of a refused part
    retries: list[int]
    unanswered: set[int]
    started: bool = False  # a part was written: the message is finished even when stopping

    @property
    def done(self) -> bool:
        return not self.unanswered


@dataclass(eq=False)
class _Part:
    message: _Message
    index: int


@dataclass
class _InDoubt:
    part: _Part
    deadline: float


class _Database:
    """The connector's database threads, while its own thread keeps the wire busy: one runs
    the source's settlements one after the other, in the order given, the other its claims (so
    that a settlement never waits behind the preparation of a claimed batch). Each finished job
    wakes the connector's ``select`` through a socket pair (``fileno``)."""

    def __init__(self, name: str) -> None:
        self._settles = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"smpp-settle-{name}")
        self._claims = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"smpp-claim-{name}")
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)

    def fileno(self) -> int:
        return self._wake_read.fileno()

    def settle(self, fn: Callable[[], T]) -> Future[T]:
        return self._submit(self._settles, fn)

    def claim(self, fn: Callable[[], T]) -> Future[T]:
        return self._submit(self._claims, fn)

    def _submit(self, executor: ThreadPoolExecutor, fn: Callable[[], T]) -> Future[T]:
        future = executor.submit(fn)
        future.add_done_callback(self._wake)
        return future

    def _wake(self, _future: Future[Any]) -> None:
        with contextlib.suppress(OSError):  # full: the connector is already woken
            self._wake_write.send(b"\0")

    def drain_wakes(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_read.recv(4096):
                pass

    def close(self) -> None:
        self._claims.shutdown(wait=True)
        self._settles.shutdown(wait=True)
        self._wake_read.close()
        self._wake_write.close()


@dataclass
class _Job(Generic[T]):
    """A job of the database thread and what the connector must remember of it."""

    future: Future[T]
    settlement: Settlement = field(default_factory=Settlement)
    parts: int = 0  # the window's parts it settles (still counted until it is committed)
    deliver_seqs: list[int] = field(default_factory=list)  # deliver_sm answered after it
    client: Any = None  # the session those deliver_sm came on


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


class SmppConnector:
    """Delivers a source's messages over one SMPP transceiver bind (see the module docstring).

    ``run(stop)`` loops until ``stop`` is set (then drains and unbinds) or, with
    ``until_idle=True``, until the source is empty and nothing is left on the wire or in doubt.
    """

    def __init__(self, route: SmppRoute, source: MessageSource) -> None:
        self.route = route
        self.source = source
        self._client: smpplib.client.Client | None = None
        self._submit_template: Any = None  # see _submit_pdu
        self._queue: deque[_Part] = deque()  # parts to write, in order
        self._held: dict[int, _Message] = {}  # message id -> message, claimed and not settled
        self._wire: OrderedDict[int, tuple[_Part, float]] = OrderedDict()  # seq -> part, sent
        self._in_doubt: list[_InDoubt] = []
        self._orphans: list[Receipt] = []  # receipts no message had at the last commit
        self._orphan_since: dict[str, float] = {}  # smsc id -> first seen
        self._orphans_due = 0.0
        self._pending = Settlement()
        self._pending_parts = 0  # parts of the messages settled in _pending (not committed)
        self._database: _Database | None = None  # the database thread, during run()
        self._settling: _Job[list[Receipt]] | None = None  # the settlement being committed
        self._claiming: _Job[list[Submission]] | None = None  # the claim under way
        self._deliver_seqs: list[int] = []  # deliver_sm to answer after the next commit
        self._references = 0
        self._tokens = 1.0
        self._token_time = time.monotonic()
        self._paused_until = 0.0
        self._next_claim = 0.0
        self._source_empty = False
        self._settle_failures = 0
        self.binds = 0  # successful binds, for the log and the tests
        self.resent_in_doubt = 0  # parts written again after in_doubt_seconds

    # ---------------------------------------------------------------- main loop

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> None:
        self._database = _Database(self.route.name)
        try:
            self._run(stop, until_idle=until_idle)
        finally:
            database, self._database = self._database, None
            database.close()

    def _run(self, stop: threading.Event, *, until_idle: bool) -> None:
        backoff = self.route.reconnect_min_seconds
        while not stop.is_set():
            if until_idle and self._idle():
                break
            try:
                self._connect()
                backoff = self.route.reconnect_min_seconds
                self._session(stop, until_idle=until_idle)
            except (ConnectionLost, OSError, smpplib.exceptions.ConnectionError) as exc:
                log.warning("SMPP route %s: connection lost (%s)", self.route.name, exc)
                self._lost()
                self._settle_now()
                if stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self.route.reconnect_max_seconds)
            except smpplib.exceptions.PDUError as exc:  # bind refused and the like
                log.error("SMPP route %s: %s", self.route.name, exc)
                self._lost()
                if stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self.route.reconnect_max_seconds)
        self._release()

    def _idle(self) -> bool:
        return (
            self._source_empty
            and not self._held
            and not self._pending
            and not self._orphans
            and self._settling is None
            and self._claiming is None
        )

    def _connect(self) -> None:
        client = smpplib.client.Client(
            self.route.host,
            self.route.port,
            timeout=self.route.response_timeout_seconds,
            allow_unknown_opt_params=True,
            logger_name=f"operateur.sms.smpp.{self.route.name}",
        )
        try:
            client.connect()
            # the connector gathers its PDUs into one write itself (``_send_pdus``): Nagle's
            # algorithm would only hold a write back until the previous one is acknowledged
            client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.bind_transceiver(
                system_id=self.route.system_id,
                password=self.route.password,
                system_type=self.route.system_type,
            )
        except BaseException:
            client.disconnect()
            raise
        self._client = client
        self._submit_template = smpplib.smpp.make_pdu(
            "submit_sm",
            client=client,
            service_type=self.route.service_type,
            registered_delivery=REGISTERED_DELIVERY_FINAL if self.route.registered_delivery else 0,
        )
        self.binds += 1
        log.info("SMPP route %s: bound as %s", self.route.name, self.route.system_id)

    def _session(self, stop: threading.Event, *, until_idle: bool) -> None:
        assert self._client is not None
        sock = self._client._socket
        now = time.monotonic()
        last_rx = now
        enquire_sent: float | None = None
        draining = False
        while True:
            now = time.monotonic()
            if stop.is_set() and not draining:
                draining = True
                self._collect_claim(wait=True)
                self._give_back_unsent()
            if draining and not self._wire and not self._queue:
                self._final_flush()
                self._unbind()
                return
            if until_idle and self._idle() and not self._wire and not self._queue:
                self._final_flush()
                self._unbind()
                return
            if not draining:
                self._resend_in_doubt(now)
            self._write(now)
            if not draining and self._top_up(now):
                self._write(now)  # claimed while the window was on the wire: fill it

            timeout = self._wait_time(now, last_rx)
            assert self._database is not None
            readable, _, _ = select.select([sock, self._database], [], [], timeout)
            now = time.monotonic()
            if self._database in readable:
                self._database.drain_wakes()
                if not draining and self._collect_claim():
                    self._write(now)
            if sock in readable:
                last_rx = now
                enquire_sent = None
                for _ in range(1000):
                    self._read()
                    readable, _, _ = select.select([sock], [], [], 0)
                    if not readable:
                        break
                _quick_ack(sock)
            self._flush()

            if self._wire:
                _, sent_at = next(iter(self._wire.values()))
                if now - sent_at > self.route.response_timeout_seconds:
                    raise ConnectionLost("no submit_sm_resp within the response timeout")
            if enquire_sent is not None:
                if now - enquire_sent > self.route.response_timeout_seconds:
                    raise ConnectionLost("no enquire_link_resp within the response timeout")
            elif now - last_rx >= self.route.enquire_link_seconds:
                self._send("enquire_link")
                enquire_sent = now

    def _wait_time(self, now: float, last_rx: float) -> float:
        waits = [self.route.enquire_link_seconds - (now - last_rx), self.route.poll_seconds]
        if self._queue and self._window_open():
            waits.append(max(self._paused_until - now, self._token_wait(now)))
        if self._in_doubt:
            waits.append(min(d.deadline for d in self._in_doubt) - now)
        if self._orphans or self._pending:
            waits.append(0.05)
        if not self._source_empty and not self._queue and self._claiming is None:
            waits.append(self._next_claim - now)  # (a claim under way wakes the select)
        return max(0.0, min(waits))

    # ---------------------------------------------------------------- writing

    def _claim_limit(self) -> int:
        limit = self.route.claim_batch
        if self.route.throughput:
            limit = min(limit, max(self.route.window, int(self.route.throughput)))
        return limit

    def _top_up(self, now: float) -> bool:
        """Take in the messages of a finished claim, and start the next claim in the database
        thread when fewer than a claim's worth of parts is waiting (so that the next batch is
        ready before the queue runs dry); True when messages were taken in."""
        taken = self._collect_claim()
        if self._claiming is not None or now < self._next_claim:
            return taken
        if self._settle_failures:
            return taken  # the database is failing: do not take more
        limit = self._claim_limit()
        if len(self._queue) >= max(self.route.window, limit // 2):
            return taken
        assert self._database is not None
        self._claiming = _Job(self._database.claim(lambda: self.source.claim(limit)))
        return taken

    def _collect_claim(self, *, wait: bool = False) -> bool:
        """The messages of the claim under way, once it is done (``wait``: waiting for it);
        True when some were taken in."""
        job = self._claiming
        if job is None or not (wait or job.future.done()):
            return False
        self._claiming = None
        claimed = job.future.result()  # a failing database ends run(), as a failing claim did
        if len(claimed) < self._claim_limit():
            self._next_claim = time.monotonic() + self.route.poll_seconds
        self._source_empty = not claimed
        for submission in claimed:
            if submission.message_id in self._held:
                continue  # requeued by a stale sweep while we held it: already queued here
            self._references = (self._references + 1) % 256
            total = len(submission.parts)
            message = _Message(
                submission=submission,
                reference=self._references,
                smsc_ids=[None] * total,
                statuses=[None] * total,
                retries=[0] * total,
                unanswered=set(range(total)),
            )
            self._held[submission.message_id] = message
            self._queue.extend(_Part(message, index) for index in range(total))
        return bool(claimed)

    def _token_wait(self, now: float) -> float:
        rate = self.route.throughput
        if not rate:
            return 0.0
        tokens = min(1.0, self._tokens + (now - self._token_time) * rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate

    def _take_token(self, now: float) -> bool:
        rate = self.route.throughput
        if not rate:
            return True
        self._tokens = min(1.0, self._tokens + (now - self._token_time) * rate)
        self._token_time = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _window_open(self) -> bool:
        """Room in the window: it counts the parts on the wire and those of the messages
        answered but not committed yet (pending, or being committed by the database thread), so
        that a crash leaves at most a window in doubt."""
        settling = self._settling.parts if self._settling is not None else 0
        return len(self._wire) + self._pending_parts + settling < self.route.window

    def _write(self, now: float) -> None:
        if now < self._paused_until:
            return
        pdus = []
        while self._queue and self._window_open() and self._take_token(now):
            part = self._queue.popleft()
            part.message.started = True
            pdu = self._submit_pdu(part)
            self._wire[pdu.sequence] = (part, now)
            pdus.append(pdu)
        if pdus:
            self._send_pdus(pdus)

    def _submit_pdu(self, part: _Part) -> Any:
        message = part.message
        submission = message.submission
        source, source_ton, source_npi = address(submission.sender)
        destination, dest_ton, dest_npi = address(submission.recipient)
        payload = submission.parts[part.index]
        esm_class = 0
        total = len(submission.parts)
        if total > 1:
            payload = concatenation_udh(message.reference, total, part.index + 1) + payload
            esm_class = ESM_CLASS_UDHI
        # A copy of the session's submit_sm with the route's fields, as smpplib's own
        # make_pdu costs more than encoding the PDU (it sets each of its ~45 fields in turn).
        pdu = copy.copy(self._submit_template)
        assert self._client is not None
        pdu.sequence = self._client.next_sequence()
        pdu.source_addr_ton = source_ton
        pdu.source_addr_npi = source_npi
        pdu.source_addr = source
        pdu.dest_addr_ton = dest_ton
        pdu.dest_addr_npi = dest_npi
        pdu.destination_addr = destination
        pdu.esm_class = esm_class
        pdu.data_coding = submission.data_coding
        pdu.short_message = payload
        return pdu

    def _send(self, command: str, *, sequence: int | None = None, **kwargs: Any) -> None:
        pdu = smpplib.smpp.make_pdu(command, client=self._client, **kwargs)
        if sequence is not None:  # a response: smpplib ignores sequence= in make_pdu
            pdu.sequence = sequence
        self._send_pdu(pdu)

    def _send_pdu(self, pdu: Any) -> None:
        assert self._client is not None
        self._client.send_pdu(pdu)

    def _send_pdus(self, pdus: Sequence[Any]) -> None:
        """Several PDUs in one write to the socket (one system call, fewer TCP segments)."""
        assert self._client is not None and self._client._socket is not None
        try:
            self._client._socket.sendall(b"".join(pdu.generate() for pdu in pdus))
        except OSError as exc:
            raise smpplib.exceptions.ConnectionError() from exc

    # ---------------------------------------------------------------- reading

    def _read(self) -> None:
        assert self._client is not None
        pdu = self._client.read_pdu()
        command = pdu.command
        if command == "submit_sm_resp":
            self._answered(pdu.sequence, pdu.status, _text(pdu.message_id))
        elif command == "deliver_sm":
            self._delivered(pdu)
        elif command == "enquire_link":
            self._send("enquire_link_resp", sequence=pdu.sequence)
        elif command == "generic_nack":
            self._answered(pdu.sequence, pdu.status or smpplib.consts.SMPP_ESME_RUNKNOWNERR, "")
        elif command == "unbind":
            self._send("unbind_resp", sequence=pdu.sequence)
            raise ConnectionLost("unbind from the SMSC")
        elif command not in ("enquire_link_resp", "unbind_resp"):
            log.warning("SMPP route %s: unexpected %s", self.route.name, command)

    def _answered(self, sequence: int, status: int, smsc_id: str) -> None:
        entry = self._wire.pop(sequence, None)
        if entry is None:
            log.warning("SMPP route %s: response to unknown sequence %s", self.route.name, sequence)
            return
        part = entry[0]
        message = part.message
        if status == ESME_ROK:
            message.smsc_ids[part.index] = smsc_id
            message.statuses[part.index] = None
            message.unanswered.discard(part.index)
        elif status in TRANSIENT_STATUSES and message.retries[part.index] < (
            self.route.max_part_retries
        ):
            message.retries[part.index] += 1
            self._queue.appendleft(part)
            self._paused_until = time.monotonic() + self.route.throttle_pause_seconds
            return
        else:
            message.statuses[part.index] = status
            message.unanswered.discard(part.index)
        if message.done:
            self._settle_message(message)

    def _settle_message(self, message: _Message) -> None:
        self._held.pop(message.submission.message_id, None)
        self._pending_parts += len(message.submission.parts)
        ids = [smsc_id for smsc_id in message.smsc_ids if smsc_id]
        statuses = [status for status in message.statuses if status is not None]
        message_id = message.submission.message_id
        if not statuses:
            self._pending.submitted.append(Submitted(message_id, tuple(ids)))
            return
        detail = "; ".join(f"submit_sm_resp 0x{status:08X}" for status in dict.fromkeys(statuses))
        if ids:
            detail += f" (parts accepted: {', '.join(ids)})"
        # Refused only for want of capacity and no part taken: back to the queue.
        retry = not ids and all(status in TRANSIENT_STATUSES for status in statuses)
        self._pending.failed.append(Failed(message_id, detail, retry=retry))

    def _delivered(self, pdu: Any) -> None:
        esm_class = pdu.esm_class or 0
        data_coding = pdu.data_coding or 0
        source = _text(pdu.source_addr)
        destination = _text(pdu.destination_addr)
        _, payload = split_udh(pdu.short_message or b"", esm_class)
        if esm_class & ESM_CLASS_TYPE_MASK:
            state = pdu.message_state
            receipt = parse_receipt(
                decode_short_message(payload, data_coding),
                receipted_message_id=_text(pdu.receipted_message_id).rstrip("\0") or None,
                message_state=int(state) if state else None,
                source=to_e164(source, pdu.source_addr_ton or 0),
                destination=destination,
            )
            if receipt is None:
                log.warning("SMPP route %s: receipt without a message id", self.route.name)
            else:
                self._pending.receipts.append(receipt)
        else:
            self._pending.inbound.append(
                Inbound(
                    source=to_e164(source, pdu.source_addr_ton or 0),
                    destination=destination,
                    text=decode_short_message(payload, data_coding),
                )
            )
        self._deliver_seqs.append(pdu.sequence)

    # ---------------------------------------------------------------- settling

    def _flush(self, *, now: bool = False) -> None:
        """Hand what was learnt to the database thread to commit, one settlement at a time
        (what is learnt meanwhile waits for the next) and when it is due (``_settle_due``);
        when one is committed, answer the deliver_sm it contained."""
        self._collect_settlement()
        self._retry_orphans(time.monotonic())
        if self._settling is not None or not self._settle_due(now=now):
            return
        settlement, self._pending = self._pending, Settlement()
        parts, self._pending_parts = self._pending_parts, 0
        seqs, self._deliver_seqs = self._deliver_seqs, []
        if not settlement:
            self._answer_deliveries(seqs, self._client, ESME_ROK)
            return
        assert self._database is not None
        self._settling = _Job(
            self._database.settle(lambda: self.source.settle(settlement)),
            settlement=settlement,
            parts=parts,
            deliver_seqs=seqs,
            client=self._client,
        )

    def _settle_due(self, *, now: bool = False) -> bool:
        """Whether to commit what is pending now (``now``: whenever anything is). A commit is
        what the database pays for, so the answers of a batch of submits wait for each other
        until they are half a window of parts, unless no more can come (no part on the wire),
        or deliver_sm wait for their answer."""
        if not self._pending and not self._deliver_seqs:
            return False
        return (
            now
            or self._pending_parts * 2 >= self.route.window
            or not self._wire
            or bool(self._deliver_seqs)
        )

    def _collect_settlement(self, *, wait: bool = False) -> None:
        """The outcome of the settlement being committed, once it is done (``wait``: waiting for
        it): on success its parts leave the window and its receipts of unknown ids are kept to
        be tried again; on failure it goes back in front of what is pending. Then the
        deliver_sm it contained are answered (``ESME_RX_T_APPN`` when it failed, so that the
        SMSC sends them again)."""
        job = self._settling
        if job is None or not (wait or job.future.done()):
            return
        self._settling = None
        now = time.monotonic()
        status = ESME_ROK
        try:
            unknown = job.future.result()
        except Exception:
            log.exception("SMPP route %s: could not record the outcomes", self.route.name)
            self._settle_failures += 1
            self._pending = _merge(job.settlement, self._pending)
            self._pending_parts += job.parts
            status = ESME_RX_T_APPN
        else:
            self._settle_failures = 0
            for receipt in job.settlement.receipts:
                if receipt not in unknown:
                    self._orphan_since.pop(receipt.smsc_id, None)
            for receipt in unknown:
                self._orphan_since.setdefault(receipt.smsc_id, now)
                self._orphans.append(receipt)
        self._answer_deliveries(job.deliver_seqs, job.client, status)

    def _answer_deliveries(self, seqs: list[int], client: Any, status: int) -> None:
        """deliver_sm_resp for these sequences, on the session they came from only (after a
        reconnect the SMSC sends them again)."""
        current = self._client
        if current is None or client is not current or current._socket is None:
            return
        for seq in seqs:
            with contextlib.suppress(smpplib.exceptions.ConnectionError, OSError):
                self._send("deliver_sm_resp", sequence=seq, status=status)

    def _settle_now(self) -> None:
        """Commit everything pending and wait for it (the settlement under way first)."""
        self._collect_settlement(wait=True)
        self._flush(now=True)
        self._collect_settlement(wait=True)

    def _retry_orphans(self, now: float) -> None:
        """Receipts whose message id no message had: it may have been settled since (a receipt
        can overtake its submit_sm_resp), or belong to an in-doubt part. Tried again every
        ``ORPHAN_RETRY_SECONDS`` until ``in_doubt_seconds`` have passed."""
        if not self._orphans or now < self._orphans_due:
            return
        self._orphans_due = now + ORPHAN_RETRY_SECONDS
        orphans, self._orphans = self._orphans, []
        held_ids = {i for message in self._held.values() for i in message.smsc_ids if i}
        for receipt in orphans:
            if receipt.smsc_id in held_ids:
                # its part was accepted, the message waits for another part: kept until it is
                # settled, and tried for in_doubt_seconds from then
                self._orphans.append(receipt)
                self._orphan_since[receipt.smsc_id] = now
                continue
            part = self._match_in_doubt(receipt)
            if part is not None:
                message = part.message
                message.smsc_ids[part.index] = receipt.smsc_id
                message.unanswered.discard(part.index)
                if message.done:
                    self._settle_message(message)
                self._pending.receipts.append(receipt)  # after the message's settlement
            elif now - self._orphan_since.get(receipt.smsc_id, now) < self.route.in_doubt_seconds:
                self._pending.receipts.append(receipt)
            else:
                self._orphan_since.pop(receipt.smsc_id, None)
                log.warning(
                    "SMPP route %s: receipt for unknown message id %s dropped",
                    self.route.name,
                    receipt.smsc_id,
                )

    def _match_in_doubt(self, receipt: Receipt) -> _Part | None:
        """The in-doubt part this receipt is for, when there is exactly one candidate: same
        recipient and sender, the same start of text when the receipt gives it. Parts of one
        message with the same text are interchangeable (the first is taken). A receipt of a part
        whose response did come (its message not settled yet) is never taken for another."""
        if not self._in_doubt:
            return None
        for message in self._held.values():
            if receipt.smsc_id in message.smsc_ids:
                return None
        candidates = [
            doubt
            for doubt in self._in_doubt
            if doubt.part.message.submission.recipient == receipt.source
            and address(doubt.part.message.submission.sender)[0] == receipt.destination
        ]
        if receipt.text and len(candidates) > 1:
            candidates = [d for d in candidates if _starts_like(d.part, receipt.text)]
        if not candidates:
            return None
        first = min(candidates, key=lambda doubt: doubt.part.index)
        texts = first.part.message.submission.texts
        if any(
            doubt.part.message is not first.part.message
            or (texts and texts[doubt.part.index] != texts[first.part.index])
            for doubt in candidates
        ):
            return None  # ambiguous: left to the in-doubt timeout
        self._in_doubt.remove(first)
        log.info(
            "SMPP route %s: in-doubt message %s part %s settled by its receipt %s",
            self.route.name,
            first.part.message.submission.message_id,
            first.part.index + 1,
            receipt.smsc_id,
        )
        return first.part

    # ---------------------------------------------------------------- failures

    def _lost(self) -> None:
        """The session is gone: what was on the wire without a response is in doubt."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.disconnect()
        self._client = None
        deadline = time.monotonic() + self.route.in_doubt_seconds
        for part, _ in self._wire.values():
            self._in_doubt.append(_InDoubt(part, deadline))
        if self._wire:
            log.warning(
                "SMPP route %s: %d part(s) in doubt (written, no response)",
                self.route.name,
                len(self._wire),
            )
        self._wire.clear()
        self._deliver_seqs.clear()  # unanswered: the SMSC sends them again

    def _resend_in_doubt(self, now: float) -> None:
        due = [doubt for doubt in self._in_doubt if doubt.deadline <= now]
        for doubt in due:
            self._in_doubt.remove(doubt)
            message = doubt.part.message
            log.warning(
                "SMPP route %s: no response nor receipt for message %s part %s: written again",
                self.route.name,
                message.submission.message_id,
                doubt.part.index + 1,
            )
            self.resent_in_doubt += 1
            self._queue.appendleft(doubt.part)

    def _give_back_unsent(self) -> None:
        """On stop: messages none of whose parts was written go back to the outbox; the parts
        left of a message already started are still written while the window drains."""
        kept: deque[_Part] = deque()
        for part in self._queue:
            message = part.message
            if message.started:
                kept.append(part)
            elif self._held.pop(message.submission.message_id, None) is not None:
                self._pending.failed.append(
                    Failed(message.submission.message_id, "not sent: dispatcher stopped", True)
                )
        self._queue = kept

    def _release(self) -> None:
        """Leaving run(): give back what was never written, commit what is pending."""
        with contextlib.suppress(Exception):
            self._collect_claim(wait=True)
        self._give_back_unsent()
        with contextlib.suppress(Exception):
            self._final_flush()
        for receipt in self._orphans:
            log.warning(
                "SMPP route %s: receipt %s of no known message left at stop",
                self.route.name,
                receipt.smsc_id,
            )

    def _final_flush(self) -> None:
        """Commit, then try the receipts that overtook their response once more at once."""
        self._settle_now()
        self._orphans_due = 0.0
        self._settle_now()

    def _unbind(self) -> None:
        client = self._client
        self._client = None
        if client is None:
            return
        with contextlib.suppress(Exception):
            client.unbind()
        with contextlib.suppress(Exception):
            client.disconnect()


def _quick_ack(sock: socket.socket) -> None:
    """Acknowledge what was read at once rather than with the next write or after the delayed
    ACK timer (Linux): an SMSC that writes its responses one by one under Nagle's algorithm
    holds the next until the last is acknowledged, and the connector may have nothing to write
    while the window waits for a commit."""
    if hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _starts_like(part: _Part, text: str) -> bool:
    """Whether a receipt's ``text`` (the part's first characters, stripped by the SMSC or by
    ``parse_receipt``) is the start of ``part``: compared without the spaces around them, so
    that a part that begins with a space is still recognised."""
    texts = part.message.submission.texts
    if part.index >= len(texts):
        return False
    return texts[part.index].lstrip().startswith(text.strip())


def _merge(first: Settlement, second: Settlement) -> Settlement:
    return Settlement(
        submitted=first.submitted + second.submitted,
        failed=first.failed + second.failed,
        receipts=first.receipts + second.receipts,
        inbound=first.inbound + second.inbound,
    )


def submissions_total(submissions: Sequence[Submission]) -> int:
    """Number of submit_sm the submissions make (one per part)."""
    return sum(len(submission.parts) for submission in submissions)
