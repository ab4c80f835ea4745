"""The SMTP gateway (MAIL-01): aiosmtpd listeners in front of the filter, the queue and the relay.

Inbound (the customer's MX, ALTOSPAM): a recipient is accepted only in a protected domain of a
live contract (550 otherwise, 451 while the customer's mail service is suspended); one customer
per transaction (others get 452, RFC 5321 §4.5.3.1.10, and are sent again by the client). After
DATA the message is filtered with the customer's policy and, per the verdict, delivered, tagged
(``X-Operateur-Spam``), held in quarantine or refused with 550. Accepted mail is written to the
spool and the database before the 250 (``operateur.mail.queue``).

Outbound (MAILOUT): authenticated submission only (after STARTTLS), from an address of the
customer's domains, filtered; spam and viruses refused; more recipients than the terms allow
blocks the account (MAIL-08); relayed to the recipients' MX.

Both listeners offer STARTTLS, limit the size of a message (the listener's ceiling, then the
contract's) and the simultaneous connections of one IP address. Protocol parsing is aiosmtpd's
(``GatewaySMTP`` reads plain addresses and the message's data faster, with the same results);
the policy lives in the handlers, which run their database and filter work in threads. Accepted
messages are written by the group commit (``operateur.mail.commit``), several at a time.
"""

from __future__ import annotations

import asyncio
import email.header
import email.utils
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import date, datetime
from email.message import Message
from typing import Any, Protocol, TypeVar, cast, overload

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, syntax
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.accounts.security import verify_password
from operateur.catalog.terms import ReleaseChannel, Service
from operateur.config import Settings
from operateur.contracts import lifecycle
from operateur.contracts.models import Contract
from operateur.db import transaction, utcnow
from operateur.errors import InvalidInput
from operateur.logs import event
from operateur.mail import abuse, quarantine, queue
from operateur.mail import service as mail
from operateur.mail.commit import GroupCommit
from operateur.mail.filter import Action, Filter, Policy, Verdict
from operateur.mail.filter import Envelope as FilterEnvelope
from operateur.mail.filter.classifier import model_in_use
from operateur.mail.filter.engines import configured_engines
from operateur.mail.filter.message import ParsedMessage
from operateur.mail.kept import Kept
from operateur.mail.models import Direction, FilterLog, QuarantinedMessage
from operateur.mail.queue import Spool
from operateur.mail.relay import DeliveryWorker, MxResolver
from operateur.mail.rules import (
    declared_size,
    domain_of,
    is_forwarded,
    normalize_address,
)
from operateur.mail.tls import server_context

log = logging.getLogger("operateur.mail.gateway")

# The tables written for every message, as Core tables (multi-row statements, no ORM objects).
FILTER_LOGS = cast(Table, FilterLog.__table__)
QUARANTINE = cast(Table, QuarantinedMessage.__table__)
INSERT_LOGS = insert(FILTER_LOGS).returning(FILTER_LOGS.c.id, sort_by_parameter_order=True)

T = TypeVar("T")

# Threads for the blocking work of the SMTP sessions and the delivery worker. Each message
# being accepted holds one while it waits for its group commit: with asyncio's default (CPU
# count + 4) the RCPT and delivery calls of other sessions queued behind those waits, and
# sixteen concurrent senders were slower than four (bench/mail_throughput.py --connections 16).
WORKER_THREADS = 32

# The filter's symbols the SLA exclusions are read from (MAIL-04, MAIL-05): allow- or
# deny-listed sender, host or domain corrupted (listed on the terms' number of blocklists).
ALLOWLISTED = "ALLOWLISTED"
DENYLISTED = "DENYLISTED"
CORRUPTED_HOST = "CORRUPTED_HOST"
CORRUPTED_DOMAIN = "CORRUPTED_DOMAIN"


class Scanner(Protocol):
    """What the gateway needs of ``operateur.mail.filter.Filter``."""

    def scan_message(
        self, message: ParsedMessage, envelope: FilterEnvelope, policy: Policy
    ) -> Verdict: ...


@dataclass(frozen=True)
class Account:
    """Who authenticated on the submission listener: a mailbox or the customer's relay
    account (MAILOUT)."""

    customer_id: int
    name: str  # the mailbox address or the relay user name
    mailbox: bool


class GatewayEnvelope(Envelope):
    """aiosmtpd's envelope plus what the handlers learned during the transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.customer_id: int | None = None
        self.contract_id: int | None = None


def gateway_filter(settings: Settings) -> Filter:
    """The filter a gateway runs: the operator's retrained model when ``operateur mail
    train`` wrote one under the data directory, else the shipped model; plus rspamd and spamd
    when the settings name them (``mail_rspamd_url``, ``mail_spamd_address``)."""
    return Filter(
        model_in_use(settings.data_dir),
        engines=configured_engines(settings.mail_rspamd_url, settings.mail_spamd_address),
    )


# --- the SMTP engine with a per-IP connection limit -----------------------------------------


class ConnectionLimiter:
    """Simultaneous connections per client IP address, for one listener."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def acquire(self, ip: str) -> bool:
        if self.open[ip] >= self.limit:
            return False
        self.open[ip] += 1
        return True

    def release(self, ip: str) -> None:
        self.open[ip] -= 1
        if self.open[ip] <= 0:
            del self.open[ip]


# RFC 5321 §4.1.2 Path in its plainest form: "<" Dot-string "@" Domain ">" (atext, RFC 5322
# §3.2.3, dot-separated; the domain's labels of letters, digits and hyphens).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
PLAIN_ADDRESS = re.compile(rf"<({_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>")


class GatewaySMTP(SMTP):
    """aiosmtpd's protocol engine; a client over its IP's connection limit gets 421 and the
    connection closed (RFC 5321 §3.8)."""

    # RFC 5321 §4.5.3.1.6 sets 1000 octets per line, but legitimate mailers send longer lines
    # (unwrapped HTML); refusing them would block legitimate mail, so longer lines are taken.
    line_length_limit = 65536

    def __init__(self, handler: Any, *, limiter: ConnectionLimiter, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.limiter = limiter
        self._client_ip: str | None = None
        self._refused = False

    def _create_envelope(self) -> Envelope:
        return GatewayEnvelope()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """The address of ``MAIL FROM:``/``RCPT TO:`` and what follows it. aiosmtpd parses
        every address with the email package's RFC 5322 parser (and builds a class on each
        call), a good part of the gateway's time per message; the plain ``<local@domain>``
        nearly every client sends is read here with the same result, anything else (quoted
        local parts, comments, routes, address literals, 8-bit) still goes to aiosmtpd."""
        plain = PLAIN_ADDRESS.match(arg)
        if plain is not None:
            rest = arg[plain.end() :].lstrip(" \t")
            address = plain.group(1)
            local_part = address.rpartition("@")[0]
            if not rest.startswith("(") and (
                not self.local_part_limit or len(local_part) <= self.local_part_limit
            ):
                return address, rest
        found: tuple[str | None, str | None] = super()._getaddr(arg)
        return found

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's command method
        """aiosmtpd's DATA with the message read by blocks (``_read_data``) instead of line by
        line, each line a trip through the event loop; same replies, same content."""
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None and not self._decode_data
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        content, refusal = await self._read_data()
        if content is None:  # the connection is gone
            return
        if refusal is not None:
            await self.push(refusal)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> tuple[bytes | None, str | None]:
        """The message up to the line holding a lone dot, dot-unstuffed (RFC 5321 §4.5.2),
        read up to each ``.\r\n`` (a line ending with a dot, or the end); or the refusal of a
        line longer than the listener takes (500) or of a message over the size limit (552),
        the data still read to its end as aiosmtpd does (RFC 5321 §4.2.5)."""
        chunks: list[bytes] = []
        size = 0  # octets read, the final ".\r\n" included
        line = 0  # length of the line being read, so far
        tail = b"\r\n"  # what preceded the data read so far: the DATA command's CRLF
        refusal: str | None = None
        reader, limit = self._reader, self.data_size_limit
        while self.transport is not None:
            try:
                chunk = await reader.readuntil(b".\r\n")
            except asyncio.CancelledError:  # the connection was reset during DATA
                self._writer.close()
                raise
            except asyncio.LimitOverrunError as error:  # no ".\r\n" in the reader's limit
                chunk = await reader.read(error.consumed)
            size += len(chunk)
            last = (tail + chunk[-5:])[-5:]  # the chunk's end, after what came before
            ended = last.endswith(b".\r\n") and last[-5:-3] == b"\r\n"
            tail = last[-2:]
            if refusal is None:
                lines = chunk.split(b"\r\n")
                line += len(lines[0])
                longest = max([line, *map(len, lines[1:-1])]) if len(lines) > 1 else line
                if len(lines) > 1:
                    line = len(lines[-1])
                if longest + 2 > self.line_length_limit:
                    refusal = "500 Line too long (see RFC5321 4.5.3.1.6)"
                elif limit and size - (3 if ended else 0) > limit:
                    refusal = "552 Error: Too much mail data"
                if refusal is not None:
                    chunks.clear()  # not kept in memory
                else:
                    chunks.append(chunk)
            if ended:
                if refusal is not None:
                    return b"", refusal
                data = b"".join(chunks)[:-3]  # without the final ".\r\n"
                if data.startswith(b"."):
                    data = data[1:]
                return data.replace(b"\r\n.", b"\r\n"), None
        return None, None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None and not self._refused:  # not the STARTTLS re-entry
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if peer else "unknown"
            if not self.limiter.acquire(ip):
                self._refused = True
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(b"421 4.7.0 Too many connections from your address\r\n")
                transport.close()
                event(log, "mail.connection_refused", ip=ip, limit=self.limiter.limit)
                return
            self._client_ip = ip
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        try:
            super().connection_lost(error)
        finally:
            if self._client_ip is not None:
                self.limiter.release(self._client_ip)
                self._client_ip = None


# --- handlers --------------------------------------------------------------------------------


def _ip(session: SmtpSession) -> str | None:
    peer = session.peer
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return None


def _content(envelope: Envelope) -> bytes:
    content = envelope.original_content or envelope.content or b""
    return content if isinstance(content, bytes) else content.encode("utf-8")


class InboundHandler:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: GatewayEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.gateway.inbound_rcpt(envelope, address, cached_only=True)
        if reply is None:  # the domain or the customer must be read from the database
            reply = await self.gateway.sync(self.gateway.inbound_rcpt, envelope, address)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: SmtpSession, envelope: GatewayEnvelope
    ) -> str:
        request = Accepted(
            raw=_content(envelope),
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            customer_id=envelope.customer_id,
            contract_id=envelope.contract_id,
            client_ip=_ip(session),
            helo=session.host_name,
        )
        return await self.gateway.inbound_data_async(request)


class SubmissionHandler:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def handle_MAIL(  # noqa: N802
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: GatewayEnvelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        account = session.auth_data
        assert isinstance(account, Account)
        reply = await self.gateway.sync(self.gateway.outbound_mail, account, envelope, address)
        if reply.startswith("250"):
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
        return reply

    async def handle_RCPT(  # noqa: N802
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: GatewayEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        account = session.auth_data
        assert isinstance(account, Account)
        reply = await self.gateway.sync(self.gateway.outbound_rcpt, account, envelope, address)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: SmtpSession, envelope: GatewayEnvelope
    ) -> str:
        account = session.auth_data
        assert isinstance(account, Account)
        request = Accepted(
            raw=_content(envelope),
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            customer_id=envelope.customer_id,
            contract_id=envelope.contract_id,
            client_ip=_ip(session),
            helo=session.host_name,
            account=account,
        )
        return await self.gateway.sync(self.gateway.outbound_data, request)


@dataclass(frozen=True)
class Accepted:
    """A message whose DATA was received, with its envelope."""

    raw: bytes
    mail_from: str
    rcpt_tos: tuple[str, ...]
    customer_id: int | None
    contract_id: int | None
    client_ip: str | None
    helo: str | None
    account: Account | None = None


@dataclass(frozen=True)
class Admission:
    """A recipient domain as the inbound listener sees it: whose it is (None: not served
    here) and, when its mail is not taken now, the reply saying so."""

    customer_id: int | None
    refusal: str | None
    contract_id: int | None


@dataclass
class Group:
    """Recipients of one message handled alike (MAIL-04: filtering disabled for some)."""

    recipients: list[str]
    action: Action
    filtering_disabled: bool


@dataclass(frozen=True)
class InboundPlan:
    """An inbound message filtered and its spool file written: what its group commit writes
    (``Gateway._write_inbound``)."""

    request: Accepted
    view: mail.CustomerView
    verdict: Verdict
    groups: list[Group]
    facts: dict[str, bool]
    recipients: list[str]
    spool_name: str | None  # None: refused for every recipient, only logged
    message_id: str | None
    subject: str  # for the quarantine; empty when nothing is held
    now: datetime


def _message_id(headers: Message) -> str | None:
    return str(headers.get("message-id", "")).strip()[:300] or None


def _subject(headers: Message) -> str:
    value = headers.get("subject")
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))[:300]
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return str(value)[:300]


def _ascii(text: str | None) -> str:
    return (text or "unknown").encode("ascii", "replace").decode("ascii").replace("\r", "")[:200]


# --- the gateway -----------------------------------------------------------------------------


class Gateway:
    """One gateway instance: its listeners, its delivery worker and its housekeeping."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        scanner: Scanner,
        *,
        spool: Spool | None = None,
        resolver: MxResolver | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.scanner = scanner
        self.spool = spool or queue.open_spool(settings)
        self.clock = clock
        self.instance = settings.mail_instance
        self.committer = GroupCommit(factory, self.spool, f"mail-gateway:{self.instance}")
        self.worker = DeliveryWorker(
            factory, settings, self.spool, resolver=resolver, clock=clock, committer=self.committer
        )
        self.servers: list[asyncio.AbstractServer] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.stop_event = asyncio.Event()
        self.wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._views: Kept[tuple[int, int], mail.CustomerView] = Kept(settings.mail_cache_seconds)
        self._admissions: Kept[str, Admission] = Kept(settings.mail_cache_seconds)
        self.inbound_address: tuple[str, int] | None = None
        self.submission_address: tuple[str, int] | None = None

    # -- running ------------------------------------------------------------------------------

    async def sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (database, filter) in a thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    @staticmethod
    def _split(listen: str) -> tuple[str, int]:
        host, _, port = listen.rpartition(":")
        return host.strip("[]") or "0.0.0.0", int(port)

    async def start(self, *, deliver: bool = True, housekeeping_every: float = 60.0) -> None:
        """Open the listeners and start delivering. Port 0 picks a free port (tests)."""
        self._loop = asyncio.get_running_loop()
        self._loop.set_default_executor(
            ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="mail-gateway")
        )
        self.committer.start()
        tls = server_context(self.settings)
        common: dict[str, Any] = {
            "hostname": self.settings.mail_hostname,
            "tls_context": tls,
            "data_size_limit": self.settings.mail_max_message_bytes,
            "enable_SMTPUTF8": True,
            "decode_data": False,
        }
        limit = self.settings.mail_max_connections_per_ip
        inbound_limiter, submission_limiter = ConnectionLimiter(limit), ConnectionLimiter(limit)
        inbound = InboundHandler(self)
        host, port = self._split(self.settings.mail_inbound_listen)
        server = await self._loop.create_server(
            lambda: GatewaySMTP(
                inbound,
                limiter=inbound_limiter,
                auth_exclude_mechanism=["LOGIN", "PLAIN"],
                **common,
            ),
            host,
            port,
        )
        self.servers.append(server)
        self.inbound_address = server.sockets[0].getsockname()[:2]
        if self.settings.mail_submission_listen:
            submission = SubmissionHandler(self)
            host, port = self._split(self.settings.mail_submission_listen)
            server = await self._loop.create_server(
                lambda: GatewaySMTP(
                    submission,
                    limiter=submission_limiter,
                    require_starttls=True,
                    auth_required=True,
                    auth_require_tls=True,
                    authenticator=self.authenticate,
                    **common,
                ),
                host,
                port,
            )
            self.servers.append(server)
            self.submission_address = server.sockets[0].getsockname()[:2]
        if deliver:
            with self._transaction() as session:  # MAIL-09 a restart resumes the queue
                queue.resume(session, instance=self.instance, now=self.clock())
            self.tasks.append(asyncio.create_task(self.worker.run(self.stop_event, self.wake)))
            self.tasks.append(asyncio.create_task(self._housekeeping(housekeeping_every)))
        event(
            log,
            "mail.gateway.started",
            instance=self.instance,
            inbound=self.inbound_address,
            submission=self.submission_address,
        )

    async def stop(self) -> None:
        """Stop accepting, let the deliveries under way finish, stop the worker."""
        self.stop_event.set()
        self.wake.set()
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()
        done, pending = await asyncio.wait(self.tasks, timeout=30) if self.tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.sync(self.committer.stop)
        self.servers.clear()
        self.tasks.clear()

    async def _housekeeping(self, every: float) -> None:
        """MAIL-09: drop deliveries past their purge time and tell the customers."""
        while not self.stop_event.is_set():
            try:
                await self.sync(self.expire)
            except Exception:
                log.exception("housekeeping failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=every)

    def expire(self) -> int:
        with self._transaction() as session:
            rows = queue.expire_due(session, self.clock())
            names = {row.spool_name for row in rows}
            unused = names - queue.spools_in_use(session, names)
        for name in unused:
            self.spool.delete(name)
        return len(rows)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One unit of work, acting as ``mail-gateway:<instance>`` in the audit log."""
        with transaction(self.factory) as session:
            set_actor(session, system_actor(f"mail-gateway:{self.instance}"))
            yield session

    def _accepted(self) -> None:
        """Wake the delivery worker (from the event loop or a thread)."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.wake.set()
        else:
            loop.call_soon_threadsafe(self.wake.set)

    # -- authentication (MAILOUT) -------------------------------------------------------------

    def authenticate(
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        """A mailbox (its address and password) or the customer's relay account."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace").strip().lower()
        password = auth_data.password.decode("utf-8", "replace")
        with self.factory() as db:
            mailbox = mail.find_mailbox(db, login)
            if mailbox is not None and mailbox.password_hash:
                if verify_password(mailbox.password_hash, password):
                    account = Account(mailbox.customer_id, mailbox.address, mailbox=True)
                    return AuthResult(success=True, auth_data=account)
                return AuthResult(success=False, handled=False)
            if login.startswith("relay-") and login[6:].isdigit():
                own = mail.find_settings(db, int(login[6:]))
                if (
                    own is not None
                    and own.relay_password_hash
                    and own.relay_username == login
                    and verify_password(own.relay_password_hash, password)
                ):
                    return AuthResult(
                        success=True, auth_data=Account(own.customer_id, login, mailbox=False)
                    )
        return AuthResult(success=False, handled=False)

    # -- inbound ------------------------------------------------------------------------------

    def _usage_refusal(
        self, session: Session, customer_id: int, service: Service
    ) -> tuple[str | None, int | None]:
        decision = lifecycle.may_use(session, customer_id, service)
        if decision.allowed:
            return None, decision.contract_id
        if decision.code.startswith("suspended"):
            return "451 4.7.1 Mail service suspended for this customer, try again later", None
        return "550 5.7.1 No mail service for this domain", None

    def _admission(self, name: str) -> Admission:
        """Whose domain ``name`` is and whether its mail is taken now, kept for
        ``mail_cache_seconds`` (a suspension decided by this instance applies at once)."""

        def load() -> Admission:
            with self.factory() as session:
                domain = mail.find_domain(session, name)
                if domain is None:
                    return Admission(None, None, None)
                refusal, contract_id = self._usage_refusal(
                    session, domain.customer_id, Service.MAIL_IN
                )
                if contract_id is not None:
                    self._view(domain.customer_id, contract_id, session)
                return Admission(domain.customer_id, refusal, contract_id)

        return self._admissions.get(name, load)

    def forget(self, customer_id: int) -> None:
        """Drop what is kept in memory about a customer (after a suspension decided here)."""
        self._admissions.drop(lambda _, admission: admission.customer_id == customer_id)
        self._views.drop(lambda key, _: key[0] == customer_id)

    @overload
    def inbound_rcpt(self, envelope: GatewayEnvelope, address: str) -> str: ...

    @overload
    def inbound_rcpt(
        self, envelope: GatewayEnvelope, address: str, *, cached_only: bool
    ) -> str | None: ...

    def inbound_rcpt(
        self, envelope: GatewayEnvelope, address: str, *, cached_only: bool = False
    ) -> str | None:
        """The reply to ``RCPT TO``. ``cached_only``: None when the answer needs the database
        (the caller then asks again from a thread), so that most recipients are answered on
        the event loop without a thread hop."""
        try:
            rcpt = normalize_address(address)
        except InvalidInput:
            return "553 5.1.3 Bad recipient address syntax"
        name = domain_of(rcpt)
        admission = self._admissions.fresh(name)
        if admission is None:
            if cached_only:
                return None
            admission = self._admission(name)
        if admission.customer_id is None:
            return f"550 5.7.1 Relaying denied: {name} is not served here"
        if envelope.customer_id is not None and envelope.customer_id != admission.customer_id:
            return "452 4.5.3 Too many recipients, send the others in another transaction"
        if admission.refusal is not None:
            return admission.refusal
        if envelope.customer_id is None:
            assert admission.contract_id is not None  # taken: under a contract
            key = (admission.customer_id, admission.contract_id)
            view = self._views.fresh(key)
            if view is None:
                if cached_only:
                    return None
                view = self._view(*key)
            size = declared_size(envelope.mail_options)
            if size is not None and size > view.rules.max_message_bytes:
                return "552 5.3.4 Message size exceeds fixed maximum message size"
            envelope.customer_id = admission.customer_id
            envelope.contract_id = admission.contract_id
        return "250 2.1.5 Recipient OK"

    def _view(
        self, customer_id: int | None, contract_id: int | None, session: Session | None = None
    ) -> mail.CustomerView:
        """The customer as the filter sees it (terms, lists, mailboxes), kept for
        ``mail_cache_seconds``: a list or mailbox change applies within that delay."""
        assert customer_id is not None and contract_id is not None

        def load() -> mail.CustomerView:
            with nullcontext(session) if session is not None else self.factory() as db:
                contract = db.get(Contract, contract_id)
                assert contract is not None
                return mail.customer_view(db, customer_id, contract, self.settings)

        return self._views.get((customer_id, contract_id), load)

    async def inbound_data_async(self, request: Accepted) -> str:
        """The reply to an inbound message: the filter and the spool file in a thread, then the
        group commit awaited without holding a thread."""
        plan = await self.sync(self.inbound_filter, request)
        if isinstance(plan, str):
            return plan
        try:
            written = await self.committer.submit_batch_async(self._write_inbound, plan)
        except Exception:
            return self._not_stored(plan)
        return self._inbound_reply(plan, written)

    def _not_stored(self, plan: InboundPlan) -> str:
        if plan.spool_name is not None:
            self.spool.delete(plan.spool_name)
        log.exception("inbound message not stored")
        return "451 4.3.0 Temporary failure, please try again later"

    def _inbound_reply(self, plan: InboundPlan, written: tuple[int, bool]) -> str:
        log_id, suspended = written
        if suspended:  # MAIL-08 limit reached: decided again from the database
            self.forget(plan.view.customer_id)
        if plan.spool_name is None:
            verdict = plan.verdict
            reason = "virus found" if verdict.virus else f"judged spam (score {verdict.score:.1f})"
            return f"550 5.7.1 Message refused: {reason}"
        self._accepted()
        return f"250 2.0.0 OK queued as {log_id}"

    def inbound_filter(self, request: Accepted) -> InboundPlan | str:
        """Filter an inbound message and write its spool file: what its group commit is to
        write, or the reply refusing it at once (size)."""
        now = self.clock()
        view = self._view(request.customer_id, request.contract_id)
        raw = request.raw
        if len(raw) > view.rules.max_message_bytes:
            return "552 5.3.4 Message size exceeds fixed maximum message size"
        message = ParsedMessage(raw)  # parsed once: the filter's and the log's headers
        headers = message.msg
        sender = request.mail_from.lower()
        recipients = [r.lower() for r in request.rcpt_tos]
        verdict = self.scanner.scan_message(
            message,
            FilterEnvelope(
                mail_from=sender,
                rcpt_tos=tuple(recipients),
                client_ip=request.client_ip,
                helo=request.helo,
                direction=Direction.INBOUND.value,
            ),
            view.policy,
        )
        unfiltered = [
            r for r in recipients if r in view.mailboxes and not view.mailboxes[r].filtering_enabled
        ]
        groups = []
        filtered = [r for r in recipients if r not in unfiltered]
        if filtered:
            groups.append(Group(filtered, verdict.action, False))
        if unfiltered:  # MAIL-04 filtering disabled: delivered, viruses still stopped
            action = verdict.action if verdict.virus else Action.DELIVER
            groups.append(Group(unfiltered, action, True))
        names = {s.name for s in verdict.symbols}
        facts = {
            "allow_listed": ALLOWLISTED in names,
            "deny_listed": DENYLISTED in names,
            "forwarded": is_forwarded(headers, sender),
            "corrupted_host": CORRUPTED_HOST in names,
            "corrupted_domain": CORRUPTED_DOMAIN in names,
        }
        stored = any(g.action is not Action.REJECT for g in groups)
        spool_name = self.spool.write(raw, sync_directory=False) if stored else None
        held = stored and any(g.action not in (Action.DELIVER, Action.TAG) for g in groups)
        plan = InboundPlan(
            request=request,
            view=view,
            verdict=verdict,
            groups=groups,
            facts=facts,
            recipients=recipients,
            spool_name=spool_name,
            message_id=_message_id(headers),
            subject=_subject(headers) if held else "",
            now=now,
        )
        return plan

    def _write_inbound(self, session: Session, plans: list[InboundPlan]) -> list[tuple[int, bool]]:
        """The group's inbound messages: their logs, deliveries or quarantine, and the daily
        counts, in a few multi-row statements; per message (first log id, MAIL-08 limit hit)."""
        rows = [
            self._log_row(p.request, p.view, p.verdict, g, p.facts, p.now, p.message_id)
            for p in plans
            for g in p.groups
        ]
        connection = session.connection()
        ids = iter(connection.execute(INSERT_LOGS, rows).scalars())
        deliveries: list[dict[str, Any]] = []
        holds: list[dict[str, Any]] = []
        first_ids = []
        counts: dict[tuple[int, date], tuple[mail.CustomerView, datetime, list[str]]] = {}
        for plan in plans:
            log_ids = [next(ids) for _ in plan.groups]
            first_ids.append(log_ids[0])
            if plan.spool_name is not None:
                self._store(session, plan, log_ids, deliveries, holds)
            key = (plan.view.customer_id, plan.now.date())
            counts.setdefault(key, (plan.view, plan.now, []))[2].extend(plan.recipients)
        queue.enqueue_many(session, deliveries)
        if holds:
            connection.execute(insert(QUARANTINE), holds)
        alerted: set[tuple[int, date, str]] = set()
        for (customer_id, day), (view, now, addresses) in counts.items():
            counted = abuse.count_messages(session, view, addresses, Direction.INBOUND, now)
            alerted.update((customer_id, day, a) for a, c in counted.items() if c.alerted)
        return [  # MAIL-08 messages per mailbox per day, in: the limit hit for a recipient
            (
                log_id,
                any((p.view.customer_id, p.now.date(), r) in alerted for r in p.recipients),
            )
            for log_id, p in zip(first_ids, plans, strict=True)
        ]

    def _log_row(
        self,
        request: Accepted,
        view: mail.CustomerView,
        verdict: Verdict,
        group: Group,
        facts: dict[str, bool],
        now: datetime,
        message_id: str | None,
    ) -> dict[str, Any]:
        """The filtering log of one message for a group of its recipients (MAIL-10)."""
        return {
            "customer_id": view.customer_id,
            "direction": Direction.OUTBOUND if request.account else Direction.INBOUND,
            "at": now,
            "gateway": self.instance,
            "client_ip": request.client_ip,
            "helo": (request.helo or "")[:253] or None,
            "account": request.account.name if request.account else None,
            "mail_from": request.mail_from.lower()[:320],
            "rcpt_tos": group.recipients,
            "message_id": message_id,
            "size": len(request.raw),
            "action": group.action.value,
            "score": float(verdict.score),
            "symbols": [s.name for s in verdict.symbols],
            "virus": verdict.virus,
            "filtering_disabled": group.filtering_disabled,
            **facts,
        }

    def _log(
        self,
        session: Session,
        request: Accepted,
        view: mail.CustomerView,
        verdict: Verdict,
        group: Group,
        facts: dict[str, bool],
        now: datetime,
        headers: Message,
    ) -> FilterLog:
        row = self._log_row(request, view, verdict, group, facts, now, _message_id(headers))
        entry = FilterLog(**row)
        session.add(entry)
        session.flush()
        return entry

    def _trace(self, request: Accepted, log_id: int, now: datetime) -> str:
        """Our ``Received:`` line (RFC 5321 §4.4)."""
        return (
            f"Received: from {_ascii(request.helo)} ({_ascii(request.client_ip)}) by "
            f"{_ascii(self.settings.mail_hostname)} (operateur {self.instance}) with ESMTP "
            f"id {log_id}; {email.utils.format_datetime(now)}"
        )

    def _store(
        self,
        session: Session,
        plan: InboundPlan,
        log_ids: list[int],
        deliveries: list[dict[str, Any]],
        holds: list[dict[str, Any]],
    ) -> None:
        """Add the message's deliveries (per recipient domain) and quarantine rows to the
        group's; a held message whose sender may get a challenge is written at once, the
        challenge needing its row."""
        view, request, verdict, now = plan.view, plan.request, plan.verdict, plan.now
        assert plan.spool_name is not None
        purge = view.rules.unreachable_server_purge_hours
        challenges = view.challenge_enabled and (
            ReleaseChannel.SENDER_CHALLENGE in view.rules.release_channels
        )
        for group, log_id in zip(plan.groups, log_ids, strict=True):
            if group.action in (Action.DELIVER, Action.TAG):
                lines = [
                    self._trace(request, log_id, now),
                    f"X-Operateur-Id: {log_id}",
                    f"X-Operateur-Spam-Score: {verdict.score:.2f}",
                ]
                if group.action is Action.TAG:
                    lines.append("X-Operateur-Spam: yes")
                by_domain: dict[str, list[str]] = {}
                for rcpt in group.recipients:
                    by_domain.setdefault(domain_of(rcpt), []).append(rcpt)
                for domain, rcpts in by_domain.items():
                    deliveries.append(
                        queue.queue_row(
                            customer_id=view.customer_id,
                            log_id=log_id,
                            direction=Direction.INBOUND,
                            spool_name=plan.spool_name,
                            headers=lines,
                            mail_from=request.mail_from,
                            rcpt_tos=rcpts,
                            destination=domain,
                            size=len(request.raw),
                            now=now,
                            purge_hours=purge,
                        )
                    )
                continue
            for rcpt in group.recipients:  # quarantine, or refused for some recipients only
                fields: dict[str, Any] = dict(
                    customer_id=view.customer_id,
                    log_id=log_id,
                    spool_name=plan.spool_name,
                    mail_from=request.mail_from,
                    recipient=rcpt,
                    subject=plan.subject,
                    score=float(verdict.score),
                    symbols=[s.name for s in verdict.symbols],
                    virus=verdict.virus,
                    now=now,
                )
                if not challenges:
                    holds.append(quarantine.held_row(**fields))
                    continue
                item = quarantine.hold(session, **fields)
                quarantine.maybe_challenge(session, view, item, self.settings, now)

    # -- outbound (MAILOUT) -------------------------------------------------------------------

    def outbound_mail(self, account: Account, envelope: GatewayEnvelope, address: str) -> str:
        try:
            sender = normalize_address(address)
        except InvalidInput:
            return "553 5.1.7 Bad sender address syntax"
        with self.factory() as session:
            if abuse.account_blocked(session, account.customer_id, account.name):
                return "550 5.7.1 Account blocked (MAIL-08), contact support"
            domain = mail.find_domain(session, domain_of(sender))
            if domain is None or domain.customer_id != account.customer_id:
                return "553 5.7.1 Sender address not allowed for this account"
            if account.mailbox and sender != account.name:
                return "553 5.7.1 Sender address not allowed for this account"
            refusal, contract_id = self._usage_refusal(
                session, account.customer_id, Service.MAIL_OUT
            )
            if refusal is not None:
                return refusal
        envelope.customer_id = account.customer_id
        envelope.contract_id = contract_id
        return "250 2.1.0 Sender OK"

    def outbound_rcpt(self, account: Account, envelope: GatewayEnvelope, address: str) -> str:
        try:
            normalize_address(address)
        except InvalidInput:
            return "553 5.1.3 Bad recipient address syntax"
        if envelope.customer_id is None:
            return "503 5.5.1 Need MAIL first"
        request = Accepted(b"", "", (), envelope.customer_id, envelope.contract_id, None, None)
        view = self._view(request.customer_id, request.contract_id)
        if abuse.too_many_recipients(view, len(envelope.rcpt_tos) + 1):
            with self._transaction() as session:  # MAIL-08 blocked at once
                abuse.block_account(session, view, account.name, self.clock())
            return "550 5.7.1 Too many recipients: sending account blocked (MAIL-08)"
        return "250 2.1.5 Recipient OK"

    def outbound_data(self, request: Accepted) -> str:
        account = request.account
        assert account is not None
        now = self.clock()
        view = self._view(request.customer_id, request.contract_id)
        raw = request.raw
        if len(raw) > view.rules.max_message_bytes:
            return "552 5.3.4 Message size exceeds fixed maximum message size"
        with self.factory() as session:
            if abuse.account_blocked(session, account.customer_id, account.name):
                return "550 5.7.1 Account blocked (MAIL-08), contact support"
        sender = request.mail_from.lower()
        recipients = [r.lower() for r in request.rcpt_tos]
        message = ParsedMessage(raw)
        verdict = self.scanner.scan_message(
            message,
            FilterEnvelope(
                mail_from=sender,
                rcpt_tos=tuple(recipients),
                client_ip=request.client_ip,
                helo=request.helo,
                direction=Direction.OUTBOUND.value,
            ),
            view.policy,
        )
        spam = verdict.virus or verdict.action in (Action.QUARANTINE, Action.REJECT)
        headers = message.msg
        group = Group(recipients, Action.REJECT if spam else Action.DELIVER, False)
        facts = {
            "allow_listed": False,
            "deny_listed": False,
            "forwarded": False,
            "corrupted_host": False,
            "corrupted_domain": False,
        }
        spool_name = None if spam else self.spool.write(raw, sync_directory=False)

        def record(session: Session) -> tuple[int, bool]:
            """The log, the deliveries per recipient domain, the daily count and the spam
            burst check; (log id, service suspended)."""
            entry = self._log(session, request, view, verdict, group, facts, now, headers)
            counted = abuse.count_message(session, view, sender, Direction.OUTBOUND, now)
            if spam:
                return entry.id, abuse.check_spam_burst(session, view, now) or counted.alerted
            assert spool_name is not None
            by_domain: dict[str, list[str]] = {}
            for rcpt in recipients:
                by_domain.setdefault(domain_of(rcpt), []).append(rcpt)
            for domain, rcpts in by_domain.items():
                queue.enqueue(
                    session,
                    customer_id=view.customer_id,
                    log_id=entry.id,
                    direction=Direction.OUTBOUND,
                    spool_name=spool_name,
                    headers=[self._trace(request, entry.id, now)],
                    mail_from=request.mail_from,
                    rcpt_tos=rcpts,
                    destination=domain,
                    size=len(raw),
                    now=now,
                    purge_hours=view.rules.unreachable_server_purge_hours,
                )
            return entry.id, counted.alerted

        try:
            log_id, suspended = self.committer.submit(record)
        except Exception:
            if spool_name is not None:
                self.spool.delete(spool_name)
            log.exception("outbound message not stored")
            return "451 4.3.0 Temporary failure, please try again later"
        if suspended:  # MAIL-08: decided again from the database
            self.forget(view.customer_id)
        if spam:
            reason = "virus found" if verdict.virus else "judged spam"
            return f"550 5.7.1 Message refused: {reason}"
        self._accepted()
        return f"250 2.0.0 OK queued as {log_id}"
