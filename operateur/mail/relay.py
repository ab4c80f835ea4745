"""Delivery of queued mail with aiosmtplib (MAIL-01, MAIL-09, MAIL-12).

Inbound mail goes to the customer's own servers (lowest priority first); outbound mail to the
MX hosts of the recipients' domain, resolved with dnspython (RFC 5321 §5.1: MX by preference,
the domain's own address when it has no MX, nothing for a null MX). A 5xx reply fails the
delivery for good; anything else (refusal 4xx, no answer, DNS trouble) defers it with a doubling
delay until the terms' purge delay. An SMTP session is kept open a moment after a message
for the next one to the same server (``Connections``), as Postfix's connection cache does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from time import monotonic
from typing import Any, TypeVar

import aiosmtplib
import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver
from sqlalchemy.orm import Session, sessionmaker

from operateur.config import Settings
from operateur.db import transaction, utcnow
from operateur.mail import queue
from operateur.mail import service as mail
from operateur.mail.commit import GroupCommit
from operateur.mail.kept import Kept
from operateur.mail.models import Direction
from operateur.mail.queue import Delivery, Spool

log = logging.getLogger("operateur.mail.relay")

T = TypeVar("T")


class DeliveryError(Exception):
    """A delivery that did not happen; ``permanent`` when the receiving side refused for good."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def parse_nameservers(values: Sequence[str]) -> list[dns.nameserver.Nameserver]:
    """``HOST`` or ``HOST:PORT`` (``[v6]:PORT``) into dnspython nameservers."""
    found: list[dns.nameserver.Nameserver] = []
    for value in values:
        host, port = value, 53
        if value.startswith("["):
            host, _, rest = value[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 53
        elif value.count(":") == 1:
            host, _, text = value.partition(":")
            port = int(text)
        found.append(dns.nameserver.Do53Nameserver(host, port))
    return found


class MxResolver:
    """Where to send a domain's mail: IP addresses of its MX hosts, best preference first."""

    def __init__(self, nameservers: Sequence[str] = (), timeout: float = 10.0) -> None:
        self.resolver = dns.asyncresolver.Resolver(configure=not nameservers)
        if nameservers:
            self.resolver.nameservers = parse_nameservers(nameservers)
        self.resolver.lifetime = timeout

    async def _addresses(self, host: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self.resolver.resolve(host, rdtype)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            found.extend(record.to_text() for record in answer)
        return found

    async def targets(self, domain: str) -> list[str]:
        try:
            try:
                answer = await self.resolver.resolve(domain, "MX")
                records = sorted(answer, key=lambda r: (r.preference, r.exchange.to_text()))
                hosts = [r.exchange.to_text().rstrip(".") for r in records]
            except dns.resolver.NoAnswer:
                hosts = [domain]  # RFC 5321 §5.1 implicit MX
            if hosts == [""]:  # RFC 7505 null MX: the domain accepts no mail
                raise DeliveryError(f"{domain} accepts no mail (null MX)", permanent=True)
            addresses: list[str] = []
            for host in hosts:
                addresses.extend(a for a in await self._addresses(host) if a not in addresses)
        except dns.resolver.NXDOMAIN:
            raise DeliveryError(f"domain {domain} does not exist", permanent=True) from None
        except dns.exception.DNSException as error:
            raise DeliveryError(
                f"DNS lookup of {domain} failed: {error}", permanent=False
            ) from None
        if not addresses:
            raise DeliveryError(f"no address for the mail servers of {domain}", permanent=False)
        return addresses


@dataclass
class Outcome:
    refused: dict[str, str] = field(default_factory=dict)  # for good (5xx)
    deferred: dict[str, str] = field(default_factory=dict)  # for now (4xx)


# How long an SMTP session to a receiving server is kept open for the next message to the same
# server: Postfix's defaults, smtp_connection_cache_time_limit (idle) and
# smtp_connection_reuse_time_limit (since opened).
IDLE_SECONDS = 2.0
REUSE_SECONDS = 300.0


@dataclass
class _Open:
    client: aiosmtplib.SMTP
    opened: float
    used: float


class Connections:
    """SMTP sessions to the receiving servers kept open between messages, so that a burst of
    mail to one server pays the connection, the greeting and EHLO (and STARTTLS) once, not once
    per message. Used from the event loop only."""

    def __init__(self, idle: float = IDLE_SECONDS, reuse: float = REUSE_SECONDS) -> None:
        self.idle = idle
        self.reuse = reuse
        self._open: dict[tuple[str, int], list[_Open]] = {}

    def take(self, host: str, port: int) -> _Open | None:
        """A kept session to ``host:port`` idle for less than ``idle`` seconds, if any."""
        now = monotonic()
        kept = self._open.get((host, port), [])
        while kept:
            found = kept.pop()
            if self._usable(found, now):
                return found
            found.client.close()
        return None

    def give_back(self, host: str, port: int, found: _Open) -> None:
        found.used = monotonic()
        if self._usable(found, found.used):
            self._open.setdefault((host, port), []).append(found)
        else:
            _forget(found.client)

    def _usable(self, found: _Open, now: float) -> bool:
        return (
            found.client.is_connected
            and now - found.used < self.idle
            and now - found.opened < self.reuse
        )

    async def prune(self, *, everything: bool = False) -> None:
        """End (QUIT) the sessions idle for too long — or all of them, when stopping."""
        now = monotonic()
        ending: list[aiosmtplib.SMTP] = []
        for key, kept in list(self._open.items()):
            keep = [] if everything else [o for o in kept if self._usable(o, now)]
            ending.extend(o.client for o in kept if o not in keep)
            if keep:
                self._open[key] = keep
            else:
                del self._open[key]
        await asyncio.gather(*(_quit(client) for client in ending))


async def _quit(client: aiosmtplib.SMTP) -> None:
    """End a session politely; a session already broken is just closed."""
    try:
        with suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            if client.is_connected:
                await client.quit(timeout=5)
    finally:
        client.close()


def _forget(client: aiosmtplib.SMTP) -> None:
    """End a session without waiting (from code that cannot await)."""
    if client.is_connected:
        asyncio.get_running_loop().create_task(_quit(client))
    else:
        client.close()


async def _sendmail(
    host: str,
    port: int,
    mail_from: str,
    recipients: Sequence[str],
    data: bytes,
    *,
    local_hostname: str,
    timeout: float,
    connections: Connections | None,
) -> dict[str, aiosmtplib.SMTPResponse]:
    """One SMTP transaction with ``host:port``: on a kept session when there is one, else on a
    new one; the recipients refused. A kept session is first checked with a NOOP: one the
    server closed meanwhile is replaced by a new one before anything of the message is sent (a
    session lost during the transaction is not: the message could have been taken, and it
    goes the way of any failed attempt)."""
    kept = connections.take(host, port) if connections is not None else None
    if kept is not None:
        try:
            await kept.client.noop()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            kept.client.close()  # closed by the server while idle: a new session below
            kept = None
    if kept is not None:
        try:
            refused, _ = await kept.client.sendmail(mail_from, list(recipients), data)
        except BaseException:
            await _quit(kept.client)
            raise
        assert connections is not None
        connections.give_back(host, port, kept)
        return refused
    client = aiosmtplib.SMTP(
        hostname=host,
        port=port,
        timeout=timeout,
        start_tls=None,
        validate_certs=False,
        local_hostname=local_hostname,
    )
    try:
        await client.connect()
        opened = monotonic()
        refused, _ = await client.sendmail(mail_from, list(recipients), data)
    except (ConnectionError, TimeoutError):
        client.close()
        raise
    except BaseException:
        await _quit(client)
        raise
    if connections is not None:
        connections.give_back(host, port, _Open(client, opened, opened))
    else:
        await _quit(client)
    return refused


async def send(
    targets: Sequence[tuple[str, int]],
    mail_from: str,
    recipients: Sequence[str],
    data: bytes,
    *,
    local_hostname: str,
    timeout: float,
    connections: Connections | None = None,
) -> Outcome:
    """Hand the message to the first target that takes it. Opportunistic STARTTLS without
    certificate checks, as between mail servers (RFC 3207, RFC 7435). With ``connections``,
    the SMTP session is taken from and given back to that cache."""
    errors: list[str] = []
    for host, port in targets:
        try:
            refused = await _sendmail(
                host,
                port,
                mail_from,
                recipients,
                data,
                local_hostname=local_hostname,
                timeout=timeout,
                connections=connections,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            replies = {r.recipient: f"{r.code} {r.message}" for r in error.recipients}
            if all(r.code >= 500 for r in error.recipients):
                raise DeliveryError(
                    f"{host}:{port} refused every recipient: {replies}", permanent=True
                ) from None
            errors.append(f"{host}:{port} {replies}")
            continue
        except aiosmtplib.SMTPResponseException as error:
            text = f"{host}:{port} {error.code} {error.message}"
            if error.code >= 500:
                raise DeliveryError(text, permanent=True) from None
            errors.append(text)
            continue
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            errors.append(f"{host}:{port} {type(error).__name__}: {error}")
            continue
        outcome = Outcome()
        for rcpt, reply in refused.items():
            target = outcome.refused if reply.code >= 500 else outcome.deferred
            target[rcpt] = f"{reply.code} {reply.message}"
        return outcome
    raise DeliveryError("; ".join(errors) or "no server to deliver to", permanent=False)


@dataclass
class Claimed:
    """A delivery claimed for this instance, with where to send it (inbound: the customer's
    servers) and its spool file (None: missing)."""

    delivery: Delivery
    hosts: list[tuple[str, int]]
    raw: bytes | None = None


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt came to: an outcome, or an error (permanent or not)."""

    delivery: Delivery
    outcome: Outcome | None
    error: str = ""
    permanent: bool = False


class DeliveryWorker:
    """Claims due deliveries and carries them out, up to ``concurrency`` at a time, for one
    gateway instance. Results are written in batches: one transaction for all the attempts
    finished meanwhile."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        spool: Spool,
        *,
        resolver: MxResolver | None = None,
        concurrency: int = 20,
        clock: Callable[[], datetime] = utcnow,
        committer: GroupCommit | None = None,
    ) -> None:
        self.factory = factory
        self.committer = committer  # the gateway's single writer, when it has one
        self.settings = settings
        self.spool = spool
        self.instance = settings.mail_instance
        self.resolver = resolver or MxResolver(
            [v.strip() for v in settings.mail_resolver_nameservers.split(",") if v.strip()]
        )
        self.concurrency = concurrency
        self.clock = clock
        self.connections = Connections()
        # the customers' servers by (customer, domain): a server added or removed applies
        # within mail_cache_seconds
        self._servers: Kept[tuple[int, str], list[tuple[str, int]]] = Kept(
            settings.mail_cache_seconds
        )

    async def _sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking work (database, spool) in a thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def _write(self, fn: Callable[[Session], T]) -> T:
        """``fn`` in a committed transaction: the gateway's group commit when there is one."""
        if self.committer is not None:
            return self.committer.submit(fn, spool=False)
        with transaction(self.factory) as session:
            return fn(session)

    def _claim(self, limit: int) -> list[Claimed]:
        """Claim due deliveries, and read their spool files (in the same thread)."""
        claimed = self._write(lambda session: self._claim_in(session, limit))
        for item in claimed:
            try:
                item.raw = self.spool.read(item.delivery.spool_name)
            except FileNotFoundError:
                item.raw = None
        return claimed

    def _claim_in(self, session: Session, limit: int) -> list[Claimed]:
        claimed = queue.claim_due(
            session,
            instance=self.instance,
            now=self.clock(),
            limit=limit,
            lease=timedelta(seconds=self.settings.mail_delivery_lease_seconds),
        )
        found = []
        for delivery in claimed:
            hosts: list[tuple[str, int]] = []
            if delivery.direction is Direction.INBOUND:
                customer, domain = delivery.customer_id, delivery.destination
                hosts = self._servers.get(
                    (customer, domain), partial(mail.servers_for, session, customer, domain)
                )
            found.append(Claimed(delivery, hosts))
        return found

    async def run(self, stop: asyncio.Event, wake: asyncio.Event, idle: float = 1.0) -> None:
        """Deliver until ``stop`` is set; ``wake`` is set when new mail was accepted (and when
        the worker is to stop). Deliveries under way when it stops are finished and recorded."""
        finished: asyncio.Queue[Attempt | None] = asyncio.Queue()
        recorder = asyncio.create_task(self._record_loop(finished))
        flying: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                room = self.concurrency - len(flying)
                claimed: list[Claimed] = []
                if room > 0:
                    wake.clear()  # mail accepted from now on is claimed by the next round
                    try:
                        claimed = await self._sync(self._claim, room)
                    except Exception:  # a database hiccup: logged, retried on the next round
                        log.exception("claiming deliveries failed")
                for item in claimed:
                    task = asyncio.create_task(self._attempt(item, finished))
                    flying.add(task)
                    task.add_done_callback(flying.discard)
                if claimed and len(claimed) == room:
                    continue  # maybe more is due: claim again as soon as there is room
                # full: wait for a delivery to finish; else for new mail (``wake``) — retries
                # and the leases of crashed instances fall due on their own: looked for every
                # ``idle`` seconds
                waiter = asyncio.ensure_future(wake.wait())
                waits = set(flying) if room <= 0 else {waiter}
                await asyncio.wait(waits, timeout=idle, return_when="FIRST_COMPLETED")
                waiter.cancel()
                await self.connections.prune()
        finally:
            await asyncio.gather(*flying, return_exceptions=True)
            await self.connections.prune(everything=True)
            await finished.put(None)
            await recorder

    async def _record_loop(self, finished: asyncio.Queue[Attempt | None]) -> None:
        """Write the attempts as they finish, everything finished meanwhile in one go."""
        while True:
            first = await finished.get()
            batch = [first]
            while not finished.empty():
                batch.append(finished.get_nowait())
            attempts = [a for a in batch if a is not None]
            if attempts:
                try:
                    await self._sync(self._record, attempts)
                except Exception:  # the claims stay leased: retried when the lease ends
                    log.exception("recording deliveries failed")
            if None in batch:
                return

    async def _targets(
        self, delivery: Delivery, hosts: list[tuple[str, int]]
    ) -> list[tuple[str, int]]:
        if delivery.direction is Direction.INBOUND:
            if not hosts:
                raise DeliveryError("no server configured for this customer", permanent=False)
            return hosts
        port = self.settings.mail_outbound_port
        return [(address, port) for address in await self.resolver.targets(delivery.destination)]

    async def _attempt(self, item: Claimed, finished: asyncio.Queue[Attempt | None]) -> None:
        await finished.put(await self._deliver(item))

    async def _deliver(self, item: Claimed) -> Attempt:
        delivery = item.delivery
        if item.raw is None:
            return Attempt(delivery, None, "spool file missing", permanent=True)
        data = b"".join(h.encode("utf-8") + b"\r\n" for h in delivery.headers) + item.raw
        try:
            targets = await self._targets(delivery, item.hosts)
            outcome = await send(
                targets,
                delivery.mail_from,
                delivery.rcpt_tos,
                data,
                local_hostname=self.settings.mail_hostname,
                timeout=self.settings.mail_relay_timeout_seconds,
                connections=self.connections,
            )
        except DeliveryError as error:
            return Attempt(delivery, None, str(error), error.permanent)
        return Attempt(delivery, outcome)

    def _record(self, attempts: list[Attempt]) -> None:
        unused = self._write(lambda session: self._record_in(session, attempts))
        for name in unused:
            self.spool.delete(name)

    def _record_in(self, session: Session, attempts: list[Attempt]) -> list[str]:
        """Write the attempts' results; the spool files no delivery or quarantine needs now."""
        now = self.clock()
        settings = self.settings
        done: set[str] = set()
        taken = [  # every recipient taken: marked delivered in one statement
            a.delivery
            for a in attempts
            if a.outcome is not None and not a.outcome.refused and not a.outcome.deferred
        ]
        queue.mark_delivered_many(session, taken, instance=self.instance, now=now)
        done.update(delivery.spool_name for delivery in taken)
        taken_ids = {delivery.id for delivery in taken}
        for attempt in attempts:
            delivery, outcome = attempt.delivery, attempt.outcome
            if delivery.id in taken_ids:
                continue
            if outcome is None and attempt.permanent:
                queue.mark_failed(
                    session, delivery.id, instance=self.instance, now=now, error=attempt.error
                )
                done.add(delivery.spool_name)
            elif outcome is None:
                queue.mark_deferred(
                    session,
                    delivery.id,
                    instance=self.instance,
                    now=now,
                    error=attempt.error,
                    first_seconds=settings.mail_retry_first_seconds,
                    max_seconds=settings.mail_retry_max_seconds,
                )
            else:
                self._delivered(session, delivery, outcome, now)
                done.add(delivery.spool_name)
        return sorted(done - queue.spools_in_use(session, done))

    def _delivered(
        self, session: Session, delivery: Delivery, outcome: Outcome, now: datetime
    ) -> None:
        row = queue.mark_delivered(
            session, delivery.id, instance=self.instance, now=now, refused=outcome.refused
        )
        if row is None or not outcome.deferred:
            return
        rest = queue.enqueue(  # recipients refused for now: their own retry
            session,
            customer_id=row.customer_id,
            log_id=row.log_id,
            direction=row.direction,
            spool_name=row.spool_name,
            headers=list(row.headers),
            mail_from=row.mail_from,
            rcpt_tos=sorted(outcome.deferred),
            destination=row.destination,
            size=row.size,
            now=now,
            purge_hours=1,
        )
        rest.expires_at = row.expires_at
        rest.next_attempt_at = now + timedelta(seconds=self.settings.mail_retry_first_seconds)
