"""The outbox: the one state machine of every SMS (CONTRACTS.md, "SMS outbox").

    HELD        -> QUEUED (released), REJECTED (refused in review), CANCELLED, UNSUBSCRIBED
    QUEUED      -> SUBMITTING (claim), REJECTED, CANCELLED, UNSUBSCRIBED
    SUBMITTING  -> SUBMITTED (mark_submitted), QUEUED (mark_failed retry, requeue_stale),
                   REJECTED (mark_failed)
    SUBMITTED   -> DELIVERED, UNDELIVERED, EXPIRED (apply_receipt)

Every change of status is checked against :data:`TRANSITIONS`. One message at a time it goes
through :func:`move`, which refuses an illegal one, stamps the final time, gives back the stock
and the prepaid reservation of a message that ends unsent, and queues the customer's status
callback. The transport's hot paths have batch forms for a whole window of SMSC answers:
:func:`claim_many`, :func:`mark_submitted_many` and :func:`apply_receipts` make their moves with
one statement per table (bulk moves that give nothing back, so of :func:`move` only the status
callback applies to them); :func:`mark_failed_many` reads the batch at once and moves each
message through :func:`move`. The single forms of CONTRACTS.md (:func:`claim`,
:func:`mark_submitted`, :func:`mark_failed`, :func:`apply_receipt`) call them. The SMPP
transport (``operateur.sms.dispatcher``) calls only the batch forms, :func:`requeue_stale` and
:func:`receive`. No function here commits: the caller owns the transaction, so a message is
never lost nor sent twice across a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session

from operateur.catalog.terms import OutsideWindow, Service, SmsRules
from operateur.contracts.lifecycle import may_use
from operateur.contracts.models import Contract
from operateur.contracts.service import terms_of
from operateur.db import utcnow
from operateur.domain.numbering import classify
from operateur.errors import Conflict, InvalidInput, NotFound, OperateurError
from operateur.i18n import Text
from operateur.sms import bulk, callbacks, charging, optouts, stock
from operateur.sms.models import (
    FINAL_STATUSES,
    NOT_SENT_STATUSES,
    CampaignStatus,
    SmsCampaign,
    SmsMessage,
    SmsStatus,
    SmsSubmission,
)
from operateur.sms.window import OUTSIDE_WINDOW_ERROR, sending_window

log = logging.getLogger("operateur.sms")

S = SmsStatus
#: The legal moves of a message (CONTRACTS.md).
TRANSITIONS: dict[SmsStatus, frozenset[SmsStatus]] = {
    S.HELD: frozenset({S.QUEUED, S.REJECTED, S.CANCELLED, S.UNSUBSCRIBED}),
    S.QUEUED: frozenset({S.SUBMITTING, S.REJECTED, S.CANCELLED, S.UNSUBSCRIBED}),
    S.SUBMITTING: frozenset({S.SUBMITTED, S.QUEUED, S.REJECTED}),
    S.SUBMITTED: frozenset({S.DELIVERED, S.UNDELIVERED, S.EXPIRED}),
}

#: Delivery-receipt states (SMPP 3.4 Appendix B) and the status each one gives a message.
RECEIPT_STATUS: dict[str, SmsStatus] = {
    "DELIVRD": S.DELIVERED,
    "UNDELIV": S.UNDELIVERED,
    "REJECTD": S.UNDELIVERED,
    "DELETED": S.UNDELIVERED,
    "EXPIRED": S.EXPIRED,
}

PENDING = (S.HELD, S.QUEUED)  # not yet handed to the transport


def _illegal(message_id: int, status: SmsStatus, target: SmsStatus) -> Conflict:
    return Conflict(
        Text(
            fr="Le SMS {id} est « {status} » : il ne peut passer à « {target} ».",
            en="SMS {id} is {status}: it cannot become {target}.",
        ),
        code="sms_illegal_transition",
        details={"id": message_id, "status": status.value, "target": target.value},
    )


def _not_found(message_id: int) -> NotFound:
    return NotFound(
        Text(fr="SMS {id} introuvable.", en="SMS {id} not found."),
        code="sms_not_found",
        details={"id": message_id},
    )


def move(
    session: Session,
    message: SmsMessage,
    target: SmsStatus,
    *,
    now: datetime,
    error: str | None = None,
) -> None:
    """Move ``message`` to ``target`` or raise ``Conflict`` naming both states."""
    if target not in TRANSITIONS.get(message.status, frozenset()):
        raise _illegal(message.id, message.status, target)
    message.status = target
    if error is not None:
        message.error = error
    if target in FINAL_STATUSES:
        message.final_at = now
    if target in NOT_SENT_STATUSES:
        stock.give_back(session, message.customer_id, message.stock_month, message.parts)
        charging.release(session, message)
    callbacks.status_changed(session, message)


def get_message(session: Session, message_id: int, *, lock: bool = False) -> SmsMessage:
    query = select(SmsMessage).where(SmsMessage.id == message_id)
    message = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if message is None:
        raise _not_found(message_id)
    return message


# --- bulk moves -------------------------------------------------------------------------------


@cache
def _locking_select(columns: tuple[str, ...], count: int) -> Select[Any]:
    """SELECT id and ``columns`` of ``count`` messages whose ids are given (parameters ``id0``
    …) FOR UPDATE, in id order; built once per column list and count (a hot path: see
    ``bulk.fetch_rows``)."""
    table = bulk.table_of(SmsMessage)
    return (
        select(table.c.id, *(table.c[name] for name in columns))
        .where(table.c.id.in_([bindparam(f"id{index}") for index in range(count)]))
        .order_by(table.c.id)
        .with_for_update(of=table)
    )


def _locked_rows(session: Session, columns: tuple[str, ...], ids: Iterable[int]) -> dict[int, Any]:
    """The given columns of these messages (rows by id), locked until the end of the
    transaction (in id order, so that two transactions never wait for each other)."""
    connection = session.connection()
    found: dict[int, Any] = {}
    for chunk in bulk.chunks(sorted(set(ids))):
        query = _locking_select(columns, len(chunk))
        params = {f"id{index}": message_id for index, message_id in enumerate(chunk)}
        found.update((row.id, row) for row in bulk.fetch_rows(connection, query, params))
    return found


def _callbacks(session: Session, message_ids: Iterable[int]) -> None:
    """The status callbacks of messages moved in bulk (only those with a callback URL)."""
    ids = sorted(message_ids)
    for chunk in bulk.chunks(ids):
        callbacks.status_changed_many(
            session,
            session.scalars(
                select(SmsMessage).where(SmsMessage.id.in_(chunk)).order_by(SmsMessage.id)
            ).all(),
        )


# --- the transport's side ---------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """An item of a batch the outbox did not apply (the message is left as it was): the error
    the single form would have raised."""

    message_id: int
    error: OperateurError


@dataclass(frozen=True)
class DeliveryReceipt:
    """What a delivery receipt says of one part: its SMSC message id, the final or intermediate
    ``stat`` (SMPP 3.4 Appendix B), when it was done and the error code if any."""

    smsc_id: str
    stat: str
    done_at: datetime | None = None
    error: str | None = None


class Claimed(NamedTuple):  # a named tuple: one per message on the hot path
    """A message claimed for the transport (now SUBMITTING): what it takes to submit it."""

    id: int
    customer_id: int
    contract_id: int
    sender: str
    recipient: str
    text: str
    parts: int


@dataclass(frozen=True)
class _Gate:
    """Whether a contract's messages may leave at the time of a claim."""

    refusal: str | None  # the service is not usable now (contract suspended, ended...)
    open: bool  # its sending window is open (SMS-04)
    next_opening: datetime | None  # when it is not


class _Gates:
    """Per-claim cache of each contract's gate at the claim's time."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.by_contract: dict[int, _Gate] = {}
        self.usable: dict[int, str | None] = {}

    def of(self, contract_id: int, customer_id: int) -> _Gate:
        gate = self.by_contract.get(contract_id)
        if gate is None:
            contract = self.session.get(Contract, contract_id)
            assert contract is not None
            rules = terms_of(contract).sms
            if contract_id not in self.usable:
                decision = may_use(self.session, customer_id, Service.SMS, contract_id=contract_id)
                self.usable[contract_id] = None if decision.allowed else decision.code
            window = sending_window(rules) if rules is not None else None
            is_open = window is None or window.contains(self.now)
            gate = _Gate(
                refusal=self.usable[contract_id] if rules is not None else "no_sms_terms",
                open=is_open,
                next_opening=None if is_open or window is None else window.next_opening(self.now),
            )
            self.by_contract[contract_id] = gate
        return gate


def claim_many(session: Session, *, route: str, limit: int, now: datetime) -> list[Claimed]:
    """QUEUED messages due on ``route`` (not_before <= now, window open) -> SUBMITTING, locked
    with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; returns them oldest first, as the
    transport needs them (no ORM objects: this is the dispatcher's hot path).

    Messages of a paused campaign are left alone; a due message of a cancelled campaign (one
    that was on the wire at the cancel and came back for another attempt) is cancelled too,
    its stock given back. A due message whose sending
    window has closed meanwhile (SMS-04) waits for the next opening, or is rejected when its
    customer asked for rejection; one whose contract may no longer be used is rejected (through
    :func:`move`, which gives back its stock and reservation). The claimed ones move with one
    UPDATE: QUEUED -> SUBMITTING gives nothing back and reports nothing to the customer.
    """
    gates = _Gates(session, now)
    claimed: list[Claimed] = []
    while len(claimed) < limit:
        rows = session.execute(
            select(
                SmsMessage.id,
                SmsMessage.customer_id,
                SmsMessage.contract_id,
                SmsMessage.sender,
                SmsMessage.recipient,
                SmsMessage.text,
                SmsMessage.parts,
                SmsMessage.outside_window,
                SmsCampaign.status.label("campaign_status"),
            )
            .outerjoin(SmsCampaign, SmsCampaign.id == SmsMessage.campaign_id)
            .where(
                SmsMessage.status == S.QUEUED,
                SmsMessage.route == route,
                SmsMessage.not_before <= now,
                or_(
                    SmsMessage.campaign_id.is_(None),
                    SmsCampaign.status.in_((CampaignStatus.LAUNCHED, CampaignStatus.CANCELLED)),
                ),
            )
            .order_by(SmsMessage.not_before, SmsMessage.id)
            .limit(limit - len(claimed))
            .with_for_update(skip_locked=True, of=SmsMessage)
        ).all()
        if not rows:
            break
        taken: list[Claimed] = []
        refused: dict[int, str] = {}
        waiting: dict[datetime, list[int]] = {}
        cancelled: list[int] = []
        for row in rows:
            gate = gates.of(row.contract_id, row.customer_id)
            if row.campaign_status is CampaignStatus.CANCELLED:
                cancelled.append(row.id)
            elif gate.refusal is not None:
                refused[row.id] = f"service:{gate.refusal}"
            elif gate.open:
                taken.append(
                    Claimed(
                        row.id,
                        row.customer_id,
                        row.contract_id,
                        row.sender,
                        row.recipient,
                        row.text,
                        row.parts,
                    )
                )
            elif row.outside_window is OutsideWindow.REJECT:
                refused[row.id] = OUTSIDE_WINDOW_ERROR
            else:
                assert gate.next_opening is not None
                waiting.setdefault(gate.next_opening, []).append(row.id)
        bulk.set_columns(
            session,
            SmsMessage,
            (message.id for message in taken),
            {"status": S.SUBMITTING, "claimed_at": now},
        )
        for opening, ids in waiting.items():
            bulk.set_columns(session, SmsMessage, ids, {"not_before": opening})
        for chunk in bulk.chunks(sorted(refused)):
            for message in session.scalars(select(SmsMessage).where(SmsMessage.id.in_(chunk))):
                move(session, message, S.REJECTED, now=now, error=refused[message.id])
        for chunk in bulk.chunks(cancelled):
            for message in session.scalars(select(SmsMessage).where(SmsMessage.id.in_(chunk))):
                move(session, message, S.CANCELLED, now=now, error="campaign_cancelled")
        session.flush()
        claimed.extend(taken)
    return claimed


def claim(session: Session, *, route: str, limit: int, now: datetime) -> list[SmsMessage]:
    """QUEUED messages due (not_before <= now, window open) -> SUBMITTING, locked with
    SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; returns them oldest first
    (:func:`claim_many`, with the messages loaded)."""
    ids = [message.id for message in claim_many(session, route=route, limit=limit, now=now)]
    loaded: dict[int, SmsMessage] = {}
    for chunk in bulk.chunks(ids):
        loaded.update(
            (message.id, message)
            for message in session.scalars(select(SmsMessage).where(SmsMessage.id.in_(chunk)))
        )
    return [loaded[message_id] for message_id in ids]


_ACCEPTED_COLUMNS = (
    "status",
    "smsc_ids",
    "customer_id",
    "contract_id",
    "sender",
    "recipient",
    "parts",
    "destination",
    "cost",
    "prepaid",
    "callback_url",
)


def mark_submitted_many(
    session: Session, responses: Sequence[tuple[int, Sequence[str]]]
) -> list[Refusal]:
    """The SMSC accepted every part of these messages (one message id per part, in order):
    SUBMITTED and billed, the whole batch with one statement per table — their usage records
    in one bulk insert added to the running totals at once, prepaid reservations committed in
    one pass (``charging.settle_many``). A repeat with the same ids changes nothing. An item
    that cannot be applied (unknown message, one no longer SUBMITTING such as a cancelled one,
    missing or repeated ids) is left as it is and returned, without holding up the others."""
    session.flush()  # the session's pending changes are what the statements below start from
    now = utcnow()
    rows = _locked_rows(session, _ACCEPTED_COLUMNS, (message_id for message_id, _ in responses))
    state = {message_id: (row.status, list(row.smsc_ids)) for message_id, row in rows.items()}
    refused: list[Refusal] = []
    accepted: dict[int, list[str]] = {}
    for message_id, given in responses:
        smsc_ids = list(given)
        if message_id not in state:
            refused.append(Refusal(message_id, _not_found(message_id)))
            continue
        status, known = state[message_id]
        if status is not S.SUBMITTING and known == smsc_ids:
            continue  # a repeat
        if not smsc_ids or len(set(smsc_ids)) != len(smsc_ids):
            refused.append(Refusal(message_id, _bad_smsc_ids()))
            continue
        if S.SUBMITTED not in TRANSITIONS.get(status, frozenset()):
            refused.append(Refusal(message_id, _illegal(message_id, status, S.SUBMITTED)))
            continue
        state[message_id] = (S.SUBMITTED, smsc_ids)
        accepted[message_id] = smsc_ids
    if not accepted:
        return refused

    changes = [
        {"row_id": message_id, "smsc_ids": smsc_ids} for message_id, smsc_ids in accepted.items()
    ]
    bulk.update_rows(
        session, SmsMessage, changes, {"status": S.SUBMITTED, "submitted_at": now, "error": None}
    )
    bulk.insert_rows(
        session.connection(),
        SmsSubmission,
        [
            {"smsc_id": smsc_id, "message_id": message_id, "part": index}
            for message_id, smsc_ids in accepted.items()
            for index, smsc_id in enumerate(smsc_ids, start=1)
        ],
    )
    charging.settle_many(session, [_billable(rows[message_id]) for message_id in accepted], now)
    _callbacks(session, (i for i in accepted if rows[i].callback_url is not None))
    return refused


def _billable(row: Any) -> charging.Accepted:
    return charging.Accepted(
        message_id=row.id,
        customer_id=row.customer_id,
        contract_id=row.contract_id,
        sender=row.sender,
        recipient=row.recipient,
        parts=row.parts,
        destination=row.destination,
        cost=row.cost,
        prepaid=row.prepaid,
    )


def _bad_smsc_ids() -> InvalidInput:
    return InvalidInput(
        Text(fr="Identifiants SMSC manquants ou en double.", en="Missing or repeated SMSC ids."),
        code="sms_smsc_ids",
        field="smsc_ids",
    )


def mark_submitted(session: Session, message_id: int, smsc_ids: list[str]) -> None:
    """The SMSC accepted every part (one message id per part, in order): SUBMITTED, billed.
    Repeating it with the same ids changes nothing."""
    for refusal in mark_submitted_many(session, [(message_id, smsc_ids)]):
        raise refusal.error


def mark_failed_many(session: Session, failures: Sequence[tuple[int, str, bool]]) -> list[Refusal]:
    """``(message id, error, retry)`` for each message the SMSC refused or never answered, with
    one locking read for the batch: back to QUEUED for another attempt (attempts + 1), or
    REJECTED for good (its stock and prepaid reservation are given back by :func:`move`). A
    message already final is left alone; an item that cannot be applied is returned."""
    session.flush()
    messages: dict[int, SmsMessage] = {}
    for chunk in bulk.chunks(sorted({message_id for message_id, _, _ in failures})):
        messages.update(
            (message.id, message)
            for message in session.scalars(
                select(SmsMessage)
                .where(SmsMessage.id.in_(chunk))
                .order_by(SmsMessage.id)
                .with_for_update()
            )
        )
    now = utcnow()
    refused: list[Refusal] = []
    for message_id, error, retry in failures:
        message = messages.get(message_id)
        if message is None:
            refused.append(Refusal(message_id, _not_found(message_id)))
            continue
        if message.status in FINAL_STATUSES:
            continue
        try:
            move(session, message, S.QUEUED if retry else S.REJECTED, now=now, error=error)
        except Conflict as exc:
            refused.append(Refusal(message_id, exc))
            continue
        if retry:
            message.attempts += 1
    session.flush()
    return refused


def mark_failed(session: Session, message_id: int, *, error: str, retry: bool) -> None:
    """The SMSC refused or never answered: back to QUEUED for another attempt (attempts + 1),
    or REJECTED for good (its stock and prepaid reservation are given back)."""
    for refusal in mark_failed_many(session, [(message_id, error, retry)]):
        raise refusal.error


def requeue_stale(session: Session, *, older_than: datetime) -> int:
    """SUBMITTING messages claimed before ``older_than`` and left by a crash -> QUEUED."""
    session.flush()
    result = session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.status == S.SUBMITTING,
            or_(SmsMessage.claimed_at.is_(None), SmsMessage.claimed_at < older_than),
        )
        .values(status=S.QUEUED)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(getattr(result, "rowcount", 0) or 0)


def apply_receipts(session: Session, receipts: Sequence[DeliveryReceipt]) -> list[int | None]:
    """Delivery receipts, in the order received, applied together: DELIVRD -> DELIVERED,
    UNDELIV/REJECTD/DELETED -> UNDELIVERED, EXPIRED -> EXPIRED; fires the customers' status
    callbacks; idempotent. Returns, for each receipt, the id of its message (None when no
    part has that SMSC id).

    A long message is DELIVERED once every part is; the first part that fails decides its
    failure. Intermediate states (ENROUTE, ACCEPTD, UNKNOWN) are recorded on the part only.
    """
    session.flush()
    now = utcnow()
    parts: dict[str, Row[int, str, int, str | None]] = {}
    for smsc_ids in bulk.chunks(sorted({receipt.smsc_id for receipt in receipts})):
        parts.update(
            (part.smsc_id, part)
            for part in session.execute(
                select(
                    SmsSubmission.id,
                    SmsSubmission.smsc_id,
                    SmsSubmission.message_id,
                    SmsSubmission.stat,
                ).where(SmsSubmission.smsc_id.in_(smsc_ids))
            )
        )
    messages = _locked_rows(
        session,
        ("status", "smsc_ids", "delivered_at", "error", "callback_url"),
        (part.message_id for part in parts.values()),
    )
    # the receipt state of every part of the long messages concerned, kept up to date below
    siblings: dict[int, dict[str, str | None]] = {}
    long_ones = [i for i, row in messages.items() if len(row.smsc_ids) > 1]
    for chunk in bulk.chunks(long_ones):
        for sibling in session.execute(
            select(SmsSubmission.message_id, SmsSubmission.smsc_id, SmsSubmission.stat).where(
                SmsSubmission.message_id.in_(chunk)
            )
        ):
            siblings.setdefault(sibling.message_id, {})[sibling.smsc_id] = sibling.stat
    stat_of = {smsc_id: part.stat for smsc_id, part in parts.items()}
    status_of = {message_id: row.status for message_id, row in messages.items()}
    part_changes: dict[int, dict[str, Any]] = {}
    message_changes: dict[int, dict[str, Any]] = {}
    matched: list[int | None] = []
    for receipt in receipts:
        part = parts.get(receipt.smsc_id)
        if part is None:
            matched.append(None)
            continue
        message_id = part.message_id
        matched.append(message_id)
        if stat_of[receipt.smsc_id] in RECEIPT_STATUS:
            continue  # this part's final receipt was already applied
        state = receipt.stat.strip().upper()
        stat_of[receipt.smsc_id] = state[:10]
        part_changes[part.id] = {"row_id": part.id, "stat": state[:10], "done_at": receipt.done_at}
        if message_id in siblings:
            siblings[message_id][receipt.smsc_id] = state[:10]
        target = RECEIPT_STATUS.get(state)
        if target is None or status_of[message_id] is not S.SUBMITTED:
            continue
        if target is S.DELIVERED and any(
            stat != "DELIVRD" for stat in siblings.get(message_id, {}).values()
        ):
            continue
        assert target in TRANSITIONS[S.SUBMITTED] and target not in NOT_SENT_STATUSES
        status_of[message_id] = target
        row = messages[message_id]
        final_at = receipt.done_at or now
        delivered = target is S.DELIVERED
        message_changes[message_id] = {
            "row_id": message_id,
            "status": target,
            "final_at": final_at,
            "delivered_at": final_at if delivered else row.delivered_at,
            "error": row.error if delivered else (receipt.error or state),
        }
    bulk.update_rows(session, SmsSubmission, list(part_changes.values()))
    bulk.update_rows(session, SmsMessage, list(message_changes.values()))
    _callbacks(session, (i for i in message_changes if messages[i].callback_url is not None))
    return matched


def apply_receipt(
    session: Session,
    *,
    smsc_id: str,
    stat: str,
    done_at: datetime | None,
    error: str | None,
) -> SmsMessage | None:
    """DELIVRD -> DELIVERED, UNDELIV/REJECTD/DELETED -> UNDELIVERED, EXPIRED -> EXPIRED;
    fires the customer's status callback; idempotent. None when the id is unknown."""
    [message_id] = apply_receipts(session, [DeliveryReceipt(smsc_id, stat, done_at, error)])
    return None if message_id is None else get_message(session, message_id)


def _e164(raw: str) -> str | None:
    try:
        return classify(raw, field="source").e164
    except InvalidInput:
        return None


def receive(
    session: Session,
    *,
    source: str,
    destination: str,
    text: str,
    short_code: str | None = None,
) -> None:
    """An inbound message (deliver_sm that is not a receipt): STOP and variants unsubscribe
    the source for every customer sharing the destination short code (SMS-06); ``short_code``
    is the operator's (``optouts.operator_short_code()`` by default), the one the STOP mention
    of the shared offers names.

    The customers that sent to the source from that destination are unsubscribed too, and
    their messages still waiting for it end UNSUBSCRIBED. Other inbound texts are not a
    service of the offers (004 annex §3: "la réception des SMS n'est pas prévue"): logged only.
    """
    recipient = _e164(source)
    if recipient is None or not optouts.is_stop(text):
        log.info("sms inbound ignored source=%s destination=%s", source, destination)
        return
    sender = destination.strip()
    scopes = {
        optouts.customer_scope(customer_id)
        for customer_id in session.scalars(
            select(SmsMessage.customer_id)
            .where(SmsMessage.recipient == recipient, SmsMessage.sender == sender)
            .distinct()
        )
    }
    if sender.isdigit():
        scopes.add(optouts.short_code_scope(sender))
    optouts.record(session, recipient, scopes, text)
    log.info("sms stop recipient=%s destination=%s scopes=%s", recipient, sender, sorted(scopes))
    now = utcnow()
    waiting = session.scalars(
        select(SmsMessage)
        .where(SmsMessage.recipient == recipient, SmsMessage.status.in_(PENDING))
        .with_for_update()
    ).all()
    rules_of: dict[int, SmsRules | None] = {}
    operator_code = short_code or optouts.operator_short_code()
    for message in waiting:
        if message.contract_id not in rules_of:
            contract = session.get(Contract, message.contract_id)
            assert contract is not None
            rules_of[message.contract_id] = terms_of(contract).sms
        rules = rules_of[message.contract_id]
        bound = optouts.scopes_for(message.customer_id, rules, operator_code) if rules else ()
        if set(bound) & scopes:
            move(session, message, S.UNSUBSCRIBED, now=now, error="unsubscribed")
    session.flush()
