"""The SMS dispatcher: the outbox in the database, delivered over SMPP, one connector per route.

``OutboxSource`` is the bridge between a connector (``operateur.sms.smpp``) and the outbox: it
claims QUEUED messages (``outbox.claim_many``, committed before anything is written to the SMSC),
then, outside the claim's transaction, splits each text under its contract's SMS rules with
``operateur.sms.encoding`` (one analysis gives the encoding and the parts, as ``encoding.split``
does) and encodes the parts; it records
what the connector learnt in one transaction per batch with the outbox's batch forms:
``outbox.mark_submitted_many`` / ``outbox.mark_failed_many`` for the responses,
``outbox.apply_receipts`` for delivery receipts, and ``outbox.receive`` for inbound messages
(STOP, SMS-06). It touches messages through those functions only.

``Dispatcher`` runs one connector per configured route in its own thread. At start it returns to
the queue the messages a crashed dispatcher left SUBMITTING (``outbox.requeue_stale``) once they
are older than the longest time a live connector can hold one (see the exactly-once notes in
``operateur.sms.smpp``); a graceful stop drains every route first, so a restart leaves nothing
behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.catalog.terms import SmsRules
from operateur.contracts.models import Contract
from operateur.contracts.service import terms_of
from operateur.db import utcnow
from operateur.errors import InvalidInput, OperateurError
from operateur.sms import optouts, outbox
from operateur.sms.encoding import SmsEncoding, analyze, encode, stop_mention
from operateur.sms.smpp import (
    DATA_CODING_DEFAULT,
    DATA_CODING_UCS2,
    Inbound,
    Receipt,
    Settlement,
    SmppConnector,
    SmppRoute,
    Submission,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")
R = TypeVar("R")

#: What one bad item of a settlement may raise (it is then recorded alone or dropped).
_ITEM_ERRORS = (OperateurError, SQLAlchemyError)

DATA_CODINGS = {SmsEncoding.GSM7: DATA_CODING_DEFAULT, SmsEncoding.UCS2: DATA_CODING_UCS2}


def _session(factory: sessionmaker[Session]) -> Session:
    session = factory()
    audit.set_actor(session, system_actor("sms-dispatcher"))
    return session


class _Preparer:
    """Claimed messages made ready for the wire: the STOP mention of their contract's terms
    appended with the operator's short code (SMS-06), split under the contract's SMS rules (one
    analysis gives the encoding and the parts, as ``encoding.split`` does — never smpplib's
    splitter, which can cut an escape pair) and encoded. ``rules``: each contract's SMS rules,
    read in the claim's transaction. The parts of a text already seen under the same contract (a
    campaign's messages often share it) are kept for the claim."""

    def __init__(self, rules: dict[int, SmsRules | None], short_code: str) -> None:
        self.rules = rules
        self.short_code = short_code
        self.parts: dict[tuple[int, str], tuple[tuple[bytes, ...], int, tuple[str, ...]]] = {}

    def __call__(self, message: outbox.Claimed) -> Submission:
        key = (message.contract_id, message.text)
        found = self.parts.get(key)
        if found is None:
            found = self.parts[key] = self._split(message)
        parts, data_coding, texts = found
        if len(parts) != message.parts:
            log.warning(
                "sms %s: %d parts counted at enqueue, %d now", message.id, message.parts, len(parts)
            )
        return Submission(
            message_id=message.id,
            sender=message.sender,
            recipient=message.recipient,
            parts=parts,
            data_coding=data_coding,
            texts=texts,
        )

    def _split(self, message: outbox.Claimed) -> tuple[tuple[bytes, ...], int, tuple[str, ...]]:
        rules = self.rules[message.contract_id]
        if rules is None:
            raise InvalidInput("no SMS rules in the contract terms", code="no_sms_terms")
        analysis = analyze(message.text, rules, stop_mention(rules, self.short_code))
        error = analysis.error()
        if error is not None:
            raise error
        texts = tuple(analysis.part_texts())
        parts = tuple(encode(text, analysis.encoding) for text in texts)
        return parts, DATA_CODINGS[analysis.encoding], texts


class OutboxSource:
    """A connector's messages from the outbox of one route (see the module docstring)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        route: str,
        *,
        clock: Clock = utcnow,
        short_code: str | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.route = route
        self.clock = clock
        #: the operator's shared short code: named in the STOP mention, where STOP answers come
        self.short_code = short_code or optouts.operator_short_code()
        #: one write transaction of this source at a time (a claim and a settlement run in two
        #: threads of the connector): the other waits here and starts the moment it ends, where
        #: SQLite's busy handler would have it sleep and poll for the lock
        self._writing = threading.Lock()

    def claim(self, limit: int) -> list[Submission]:
        """Claim (committed), then prepare the messages outside the claim's transaction, so
        that it holds the database's write lock for its statements only (the settlements of
        the answers wait for it meanwhile). A message whose text no longer fits its terms is
        refused in a transaction of its own."""
        with self._writing, _session(self.session_factory) as session, session.begin():
            messages = outbox.claim_many(session, route=self.route, limit=limit, now=self.clock())
            rules: dict[int, SmsRules | None] = {}
            for contract_id in {message.contract_id for message in messages}:
                contract = session.get(Contract, contract_id)
                assert contract is not None
                rules[contract_id] = terms_of(contract).sms
        prepare = _Preparer(rules, self.short_code)
        ready: list[Submission] = []
        unfit: list[tuple[int, str, bool]] = []
        for message in messages:
            try:
                ready.append(prepare(message))
            except InvalidInput as exc:
                # The text cannot be sent under its terms (it passed them at enqueue, so the
                # terms or the text changed): refused, never sent.
                unfit.append((message.id, f"text:{exc.code}", False))
        if unfit:
            try:
                with self._writing, _session(self.session_factory) as session, session.begin():
                    self._log_refused(outbox.mark_failed_many(session, unfit))
            except _ITEM_ERRORS:
                # left SUBMITTING: the stale sweep requeues them and the next claim refuses them
                log.exception("sms route %s: unfit messages not refused", self.route)
        return ready

    def settle(self, settlement: Settlement) -> list[Receipt]:
        """One transaction for the whole batch, each kind of outcome applied by the outbox's
        batch form; if the transaction fails, each item again in its own savepoint so that one
        bad item (logged and dropped) cannot block the others."""
        try:
            with self._writing, _session(self.session_factory) as session, session.begin():
                return self._apply(session, settlement, isolated=False)
        except _ITEM_ERRORS:
            log.warning("sms route %s: a settlement item failed, applying one by one", self.route)
        with self._writing, _session(self.session_factory) as session, session.begin():
            return self._apply(session, settlement, isolated=True)

    def _apply(self, session: Session, settlement: Settlement, *, isolated: bool) -> list[Receipt]:
        """Submitted, failed, receipts, inbound, in that order; returns the receipts of unknown
        SMSC ids."""
        for _, refused in self._each(
            session,
            settlement.submitted,
            lambda items: outbox.mark_submitted_many(
                session, [(done.message_id, done.smsc_ids) for done in items]
            ),
            isolated=isolated,
        ):
            self._log_refused(refused)
        for _, refused in self._each(
            session,
            settlement.failed,
            lambda items: outbox.mark_failed_many(
                session, [(failed.message_id, failed.error, failed.retry) for failed in items]
            ),
            isolated=isolated,
        ):
            self._log_refused(refused)
        unknown: list[Receipt] = []
        for receipts, matched in self._each(
            session,
            settlement.receipts,
            lambda items: outbox.apply_receipts(
                session,
                [outbox.DeliveryReceipt(r.smsc_id, r.stat, r.done_at, r.error) for r in items],
            ),
            isolated=isolated,
        ):
            unknown.extend(
                receipt
                for receipt, message_id in zip(receipts, matched, strict=True)
                if message_id is None
            )

        def receive(items: Sequence[Inbound]) -> None:
            for inbound in items:
                outbox.receive(
                    session,
                    source=inbound.source,
                    destination=inbound.destination,
                    text=inbound.text,
                    short_code=self.short_code,
                )

        self._each(session, settlement.inbound, receive, isolated=isolated)
        return unknown

    def _each(
        self,
        session: Session,
        items: Sequence[T],
        apply: Callable[[Sequence[T]], R],
        *,
        isolated: bool,
    ) -> list[tuple[Sequence[T], R]]:
        """``apply`` on all the items at once; ``isolated``: on each alone in its own savepoint,
        an item that fails being logged and left out. Returns (items, result) pairs."""
        if not isolated:
            return [(items, apply(items))] if items else []
        done: list[tuple[Sequence[T], R]] = []
        for item in items:
            try:
                with session.begin_nested():
                    done.append(([item], apply([item])))
            except _ITEM_ERRORS as exc:
                log.error("sms route %s: %r not recorded: %s", self.route, item, exc)
        return done

    def _log_refused(self, refused: list[outbox.Refusal]) -> None:
        for refusal in refused:
            log.error(
                "sms route %s: outcome for message %s not recorded: %s",
                self.route,
                refusal.message_id,
                refusal.error,
            )


def stale_after(routes: Iterable[SmppRoute]) -> timedelta:
    """How long a live connector may hold a message SUBMITTING: past this, it was left by a
    crash (in doubt, then response timeout, with a margin for the reconnect backoff)."""
    longest = max(
        (
            route.in_doubt_seconds
            + 2 * route.response_timeout_seconds
            + route.reconnect_max_seconds
            for route in routes
        ),
        default=0.0,
    )
    return timedelta(seconds=longest)


class Dispatcher:
    """One ``SmppConnector`` per route, each in its own thread, fed by the outbox."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        routes: Iterable[SmppRoute],
        *,
        clock: Clock = utcnow,
        short_code: str | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.routes = list(routes)
        self.clock = clock
        self.stop_event = threading.Event()
        code = short_code or optouts.operator_short_code()
        self.connectors = {
            route.name: SmppConnector(
                route,
                OutboxSource(session_factory, route.name, clock=clock, short_code=code),
            )
            for route in self.routes
        }
        self._threads: list[threading.Thread] = []

    def requeue_stale(self) -> int:
        """Messages a crashed dispatcher left SUBMITTING go back to the queue."""
        with _session(self.session_factory) as session, session.begin():
            count = outbox.requeue_stale(
                session, older_than=self.clock() - stale_after(self.routes)
            )
        if count:
            log.warning("sms: %d message(s) left SUBMITTING by a crash requeued", count)
        return count

    def start(self, *, until_idle: bool = False) -> None:
        self.requeue_stale()
        for name, connector in self.connectors.items():
            thread = threading.Thread(
                target=connector.run,
                args=(self.stop_event,),
                kwargs={"until_idle": until_idle},
                name=f"smpp-{name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the connectors to end; True when they all did."""
        for thread in self._threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self._threads)

    def stop(self, timeout: float | None = None) -> bool:
        """Graceful stop: every route drains what is on the wire, unbinds and gives back what
        it had claimed but not sent."""
        self.stop_event.set()
        return self.join(timeout)

    def run(self, *, until_idle: bool = False) -> None:
        """Start and block until stopped (or, with ``until_idle``, until the outbox is empty)."""
        self.start(until_idle=until_idle)
        try:
            while not self.join(timeout=1.0):
                pass
        except KeyboardInterrupt:
            log.info("sms dispatcher: stopping (draining the routes)")
            self.stop()
