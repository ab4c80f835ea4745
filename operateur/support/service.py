"""Use cases of the support context. Each takes a session and commits nothing.

Tickets (SUP-01): a customer opens a question or an incident about one of its contracts; the
operator's staff answer; the first answer of an incident is due within the terms' response time
counted in support hours (SUP-02). Each month's requests beyond the terms' quota, and tickets
closed as caused by the customer, are handed to billing as pending charges (SUP-03), once each.

Declarations of lost or stolen credentials, SIM cards or equipment (SUP-04) are recorded with
their time — the customer is liable until then — and the service is suspended on request.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event as sqla_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session, SessionTransaction

from operateur.accounts import service as accounts
from operateur.accounts.audit import actor_of
from operateur.accounts.models import Customer, User
from operateur.billing.models import LineSource, PendingCharge
from operateur.catalog.service import get_offer
from operateur.catalog.terms import SuspensionCause
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import (
    Contract,
    EquipmentStatus,
    LineStatus,
)
from operateur.db import utcnow
from operateur.domain.calendar import PARIS, add_months
from operateur.domain.identifiers import new_reference
from operateur.errors import Conflict, Forbidden, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event
from operateur.notifications.service import notify
from operateur.support import rules
from operateur.support.models import (
    LossDeclaration,
    LossKind,
    Severity,
    Ticket,
    TicketAttachment,
    TicketKind,
    TicketMessage,
    TicketOutcome,
    TicketStatus,
)

log = logging.getLogger("operateur.support")

OVER_QUOTA_CODE = "support.over_quota"
WRONG_TICKET_CODE = "support.wrong_ticket"


def period_of(moment: datetime) -> str:
    """The month (Paris time) a ticket counts in for the quota."""
    return moment.astimezone(PARIS).strftime("%Y-%m")


def _period_start(period: str) -> date:
    try:
        year, month = (int(part) for part in period.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput(
            Text(
                fr="Période {period} invalide (AAAA-MM).", en="Invalid period {period} (YYYY-MM)."
            ),
            field="period",
            details={"period": period},
        ) from None


def _required_text(value: str, field: str, max_length: int) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(Text(fr="Champ obligatoire.", en="Required field."), field=field)
    if len(text) > max_length:
        raise InvalidInput(
            Text(fr="{max} caractères au plus.", en="At most {max} characters."),
            field=field,
            details={"max": max_length},
        )
    return text


# --- tickets ---------------------------------------------------------------------------------


def open_ticket(
    session: Session,
    customer_id: int,
    *,
    contract_id: int,
    kind: TicketKind,
    severity: Severity,
    service: str,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket about one of the customer's contracts; an incident gets its first-response
    deadline from the contract's terms (SUP-02)."""
    now = now or utcnow()
    contract = contracts.get_contract(session, customer_id, contract_id)
    contracts.require_state(contract, "open a ticket", contracts.OPEN_STATES)
    services = {s.value for s in get_offer(contract.offer_id).services}
    if service not in services:
        raise InvalidInput(
            Text(
                fr="Le contrat {reference} ne comprend pas le service {service}.",
                en="Contract {reference} does not include the service {service}.",
            ),
            field="service",
            details={"reference": contract.reference, "service": service},
        )
    ticket = Ticket(
        reference=new_reference("TK"),
        customer_id=customer_id,
        contract_id=contract.id,
        kind=kind,
        severity=severity,
        service=service,
        subject=_required_text(subject, "subject", 200),
        status=TicketStatus.OPEN,
        period=period_of(now),
        opened_at=now,
        opened_by=actor_of(session).label,
        first_response_due=rules.first_response_due(
            contracts.terms_of(contract), incident=kind is TicketKind.INCIDENT, opened_at=now
        ),
    )
    session.add(ticket)
    session.flush()
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            customer_id=customer_id,
            at=now,
            author=ticket.opened_by,
            from_staff=False,  # the request itself, even when staff open it for the customer
            body=_required_text(body, "body", 20_000),
        )
    )
    session.flush()
    event(log, "ticket.opened", ticket=ticket.reference, customer=customer_id, kind=kind.value)
    return ticket


def get_ticket(session: Session, customer_id: int, ticket_id: int) -> Ticket:
    ticket = session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.customer_id == customer_id)
    )
    if ticket is None:
        raise NotFound(
            Text(fr="Ticket {id} introuvable.", en="Ticket {id} not found."),
            code="ticket_not_found",
            details={"id": ticket_id},
        )
    return ticket


def list_tickets(
    session: Session, customer_id: int, *, status: TicketStatus | None = None
) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.customer_id == customer_id)
    if status is not None:
        stmt = stmt.where(Ticket.status == status)
    return list(session.scalars(stmt.order_by(Ticket.opened_at.desc(), Ticket.id.desc())))


def queue(
    session: Session, operator_id: int | None, *, include_closed: bool = False
) -> list[Ticket]:
    """The staff's queue: tickets of the operator's customers, the most urgent deadline first."""
    stmt = select(Ticket).join(Customer, Customer.id == Ticket.customer_id)
    if operator_id is not None:
        stmt = stmt.where(Customer.operator_id == operator_id)
    if not include_closed:
        stmt = stmt.where(Ticket.status != TicketStatus.CLOSED)
    stmt = stmt.order_by(
        Ticket.first_response_at.is_not(None),
        Ticket.first_response_due.is_(None),
        Ticket.first_response_due,
        Ticket.opened_at,
    )
    return list(session.scalars(stmt))


def messages(session: Session, ticket: Ticket) -> list[TicketMessage]:
    return list(
        session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id)
            .order_by(TicketMessage.at, TicketMessage.id)
        )
    )


def add_message(
    session: Session, ticket: Ticket, body: str, *, now: datetime | None = None
) -> TicketMessage:
    """A message on an open ticket. The first message of the operator's staff is the first
    response of the SLA (SUP-02); it then waits for the customer, and the other way round."""
    now = now or utcnow()
    if ticket.status is TicketStatus.CLOSED:
        raise Conflict(
            Text(
                fr="Le ticket {reference} est clos : ouvrez-en un nouveau.",
                en="Ticket {reference} is closed: open a new one.",
            ),
            code="ticket_closed",
            details={"reference": ticket.reference},
        )
    actor = actor_of(session)
    staff = actor.is_staff
    message = TicketMessage(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        at=now,
        author=actor.label,
        from_staff=staff,
        body=_required_text(body, "body", 20_000),
    )
    session.add(message)
    if staff:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        ticket.status = TicketStatus.ANSWERED
    else:
        ticket.status = TicketStatus.OPEN
    session.flush()
    if staff:
        notify(
            session,
            ticket.customer_id,
            event="ticket.answered",
            subject=Text(
                fr="Ticket {reference} : réponse de l'assistance",
                en="Ticket {reference}: the support answered",
            ),
            body=Text(
                fr="L'assistance a répondu à votre ticket {reference} « {subject} » :\n\n{body}",
                en='The support answered your ticket {reference} "{subject}":\n\n{body}',
            ),
            data={
                "key": f"ticket-message:{message.id}",
                "reference": ticket.reference,
                "subject": ticket.subject,
                "body": message.body,
            },
        )
    return message


def close_ticket(
    session: Session,
    ticket: Ticket,
    *,
    outcome: TicketOutcome,
    reason: str,
    now: datetime | None = None,
) -> Ticket:
    """Close a ticket. Only the operator's staff may say who caused it; a ticket closed as
    caused by the customer is billed at the terms' fee (SUP-03), once."""
    now = now or utcnow()
    actor = actor_of(session)
    if outcome is not TicketOutcome.RESOLVED and not actor.is_staff:
        raise Forbidden(
            Text(
                fr="Seul l'opérateur qualifie la cause d'un ticket.",
                en="Only the operator qualifies the cause of a ticket.",
            ),
            code="permission_denied",
            field="outcome",
        )
    if ticket.status is TicketStatus.CLOSED:
        raise Conflict(
            Text(fr="Le ticket {reference} est déjà clos.", en="Ticket {reference} is closed."),
            code="ticket_closed",
            details={"reference": ticket.reference},
        )
    if outcome is TicketOutcome.CAUSED_BY_CUSTOMER and ticket.kind is not TicketKind.INCIDENT:
        # SUP-03 [002 §27; 004 §4.2]: the fee is for an incident the customer caused; questions
        # are answered free of charge [002 §14.1]
        raise InvalidInput(
            Text(
                fr="Seul un incident peut être imputé au client : le ticket {reference} est une "
                "question.",
                en="Only an incident can be put down to the customer: ticket {reference} is a "
                "question.",
            ),
            field="outcome",
            details={"reference": ticket.reference},
        )
    add_message(
        session,
        ticket,
        _required_text(reason, "reason", 2000),
        now=now,
    )
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = now
    ticket.closed_by = actor.label
    ticket.outcome = outcome
    if outcome is TicketOutcome.CAUSED_BY_CUSTOMER:
        contract = session.get(Contract, ticket.contract_id)
        assert contract is not None
        fee = contracts.terms_of(contract).support.wrong_ticket_fee
        if fee:
            _charge(
                session,
                ticket,
                code=WRONG_TICKET_CODE,
                description=f"Ticket ouvert à tort (cause client) — {ticket.reference}",
                amount=fee,
                key=f"support:wrong_ticket:{ticket.id}",
            )
    session.flush()
    event(log, "ticket.closed", ticket=ticket.reference, outcome=outcome.value)
    return ticket


def _charge(
    session: Session, ticket: Ticket, *, code: str, description: str, amount: Decimal, key: str
) -> PendingCharge | None:
    """A line for the next invoice of the ticket's contract, created once per key (None when
    it already exists)."""
    if session.scalar(select(PendingCharge.id).where(PendingCharge.idempotency_key == key)):
        return None
    charge = PendingCharge(
        customer_id=ticket.customer_id,
        contract_id=ticket.contract_id,
        source=LineSource.ONE_OFF,
        code=code,
        description=description,
        amount=amount,
        idempotency_key=key,
    )
    session.add(charge)
    session.flush()
    return charge


def ticket_charges(session: Session, ticket: Ticket) -> list[PendingCharge]:
    keys = [f"support:wrong_ticket:{ticket.id}", f"support:over_quota:{ticket.id}"]
    return list(
        session.scalars(select(PendingCharge).where(PendingCharge.idempotency_key.in_(keys)))
    )


def sla(session: Session, ticket: Ticket, now: datetime | None = None) -> rules.SlaClock:
    contract = session.get(Contract, ticket.contract_id)
    assert contract is not None
    return rules.sla_clock(
        contracts.terms_of(contract).support,
        opened_at=ticket.opened_at,
        due=ticket.first_response_due,
        responded_at=ticket.first_response_at,
        now=now or utcnow(),
    )


# --- attachments -----------------------------------------------------------------------------

# An attachment's file is written before its row is committed (so that a committed row always
# has its file); these files are removed again if that transaction, or a savepoint holding
# them, is rolled back or closed without a commit.
_STAGED = "operateur.support.staged_files"


def _transaction_of(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _stage_file(session: Session, path: Path) -> None:
    staged: dict[SessionTransaction | None, list[Path]] = session.info.setdefault(_STAGED, {})
    staged.setdefault(_transaction_of(session), []).append(path)


def _on_commit(session: Session) -> None:
    """A committed savepoint hands its files to the enclosing transaction; a committed root
    transaction makes them permanent."""
    staged = session.info.get(_STAGED)
    if not staged:
        return
    transaction = _transaction_of(session)
    files = staged.pop(transaction, [])
    if transaction is not None and transaction.nested and transaction.parent is not None:
        staged.setdefault(transaction.parent, []).extend(files)


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """Whatever is still staged on an ended transaction was rolled back: delete it."""
    staged = session.info.get(_STAGED)
    if not staged:
        return
    for path in staged.pop(transaction, []):
        path.unlink(missing_ok=True)
        log.info("attachment file removed after rollback: %s", path.name)


def install_file_cleanup() -> None:
    """Listen to every session's commits and rollbacks (once per process)."""
    if not sqla_event.contains(Session, "after_commit", _on_commit):
        sqla_event.listen(Session, "after_commit", _on_commit)
        sqla_event.listen(Session, "after_transaction_end", _on_transaction_end)


install_file_cleanup()


_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


def clean_filename(name: str) -> str:
    """The last path part of a client's file name, without control or path characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")
    return cleaned[:200] or "piece-jointe"


def add_attachment(
    session: Session,
    ticket: Ticket,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    data_dir: Path,
    max_bytes: int,
) -> TicketAttachment:
    """Store a file of the ticket under ``data_dir/support/<customer>/`` and record it."""
    if not data:
        raise InvalidInput(Text(fr="Fichier vide.", en="Empty file."), field="file")
    if len(data) > max_bytes:
        raise InvalidInput(
            Text(
                fr="Fichier trop gros : {max} octets au plus.",
                en="File too large: at most {max} bytes.",
            ),
            field="file",
            details={"max": max_bytes},
        )
    if ticket.status is TicketStatus.CLOSED:
        raise Conflict(
            Text(fr="Le ticket {reference} est clos.", en="Ticket {reference} is closed."),
            code="ticket_closed",
            details={"reference": ticket.reference},
        )
    relative = Path("support") / str(ticket.customer_id) / f"{ticket.id}-{secrets.token_hex(12)}"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    session.connection()  # the transaction the file belongs to has begun
    _stage_file(session, target)
    partial.write_bytes(data)
    partial.replace(target)
    attachment = TicketAttachment(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        author=actor_of(session).label,
        filename=clean_filename(filename),
        content_type=(content_type or "application/octet-stream")[:100],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=relative.as_posix(),
    )
    session.add(attachment)
    session.flush()
    return attachment


def attachments(session: Session, ticket: Ticket) -> list[TicketAttachment]:
    return list(
        session.scalars(
            select(TicketAttachment)
            .where(TicketAttachment.ticket_id == ticket.id)
            .order_by(TicketAttachment.id)
        )
    )


def get_attachment(session: Session, ticket: Ticket, attachment_id: int) -> TicketAttachment:
    attachment = session.scalar(
        select(TicketAttachment).where(
            TicketAttachment.id == attachment_id, TicketAttachment.ticket_id == ticket.id
        )
    )
    if attachment is None:
        raise NotFound(
            Text(fr="Pièce jointe {id} introuvable.", en="Attachment {id} not found."),
            code="attachment_not_found",
            details={"id": attachment_id},
        )
    return attachment


def read_attachment(attachment: TicketAttachment, data_dir: Path) -> bytes:
    path = data_dir / attachment.path
    if not path.is_file():
        raise NotFound(
            Text(fr="Fichier {name} absent du stockage.", en="File {name} missing from storage."),
            code="attachment_missing",
            details={"name": attachment.filename},
        )
    return path.read_bytes()


# --- monthly quota (SUP-03) ------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaUsage:
    contract_id: int
    period: str
    users: int
    quota: int | None  # None: no quota in the terms
    used: int  # requests of the month that count
    fee_beyond: Decimal | None

    @property
    def beyond(self) -> int:
        return 0 if self.quota is None else max(0, self.used - self.quota)


def quota_users(session: Session, contract: Contract, period: str) -> int:
    """The users the quota is counted on: the largest subscribed quantity of the terms' items
    (e.g. protected mailboxes) during the month, or the customer's active portal users."""
    items = contracts.terms_of(contract).support.quota_user_items
    if not items:
        count = session.scalar(
            select(func.count(User.id)).where(
                User.customer_id == contract.customer_id, User.active.is_(True)
            )
        )
        return int(count or 0)
    start = _period_start(period)
    end = add_months(start, 1)
    quantities = [
        sub.quantity
        for sub in contracts.list_subscriptions(session, contract)
        if sub.item_code in items
        and (sub.start_date is None or sub.start_date < end)
        and (sub.end_date is None or sub.end_date >= start)
    ]
    return max(quantities, default=0)


def _counted(session: Session, contract_id: int, period: str) -> list[Ticket]:
    """The month's tickets of a contract that count as requests, in the order opened: every
    ticket but the operator's own incidents."""
    return list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.contract_id == contract_id,
                Ticket.period == period,
                (Ticket.outcome.is_(None)) | (Ticket.outcome != TicketOutcome.OPERATOR_FAULT),
            )
            .order_by(Ticket.opened_at, Ticket.id)
        )
    )


def quota_usage(session: Session, contract: Contract, period: str) -> QuotaUsage:
    terms = contracts.terms_of(contract).support
    users = quota_users(session, contract, period)
    return QuotaUsage(
        contract_id=contract.id,
        period=period,
        users=users,
        quota=rules.monthly_quota(terms, users),
        used=len(_counted(session, contract.id, period)),
        fee_beyond=terms.fee_beyond_quota,
    )


def charge_over_quota(session: Session, period: str) -> list[PendingCharge]:
    """Hand billing one charge per request of ``period`` beyond the quota of its contract's
    terms (SUP-03); returns the charges created. Run once the month is over; running it again
    adds nothing."""
    _period_start(period)
    charges: list[PendingCharge] = []
    contract_ids = session.scalars(
        select(Ticket.contract_id).where(Ticket.period == period).distinct()
    )
    for contract_id in sorted(contract_ids):
        contract = session.get(Contract, contract_id)
        assert contract is not None
        usage = quota_usage(session, contract, period)
        if usage.quota is None or not usage.fee_beyond:
            continue
        for ticket in _counted(session, contract_id, period)[usage.quota :]:
            charge = _charge(
                session,
                ticket,
                code=OVER_QUOTA_CODE,
                description=f"Demande d'assistance au-delà du quota mensuel ({period}, "
                f"{usage.quota} incluses) — {ticket.reference}",
                amount=usage.fee_beyond,
                key=f"support:over_quota:{ticket.id}",
            )
            if charge is not None:
                charges.append(charge)
    if charges:
        event(log, "support.over_quota.charged", period=period, charges=len(charges))
    return charges


def charge_previous_month(session: Session, as_of: date) -> None:
    """The scheduler's job on the first day of a month: the requests beyond the quota of the
    month just ended."""
    charge_over_quota(session, add_months(as_of.replace(day=1), -1).strftime("%Y-%m"))


# --- lost or stolen credentials, SIM and equipment (SUP-04) ----------------------------------


def declare_loss(
    session: Session,
    customer_id: int,
    *,
    kind: LossKind,
    theft: bool = False,
    contract_id: int | None = None,
    line_id: int | None = None,
    equipment_id: int | None = None,
    user_id: int | None = None,
    api_key_id: int | None = None,
    occurred_at: datetime | None = None,
    details: str = "",
    suspend: bool = False,
    now: datetime | None = None,
) -> LossDeclaration:
    """Record the declaration at ``now``. Lost credentials stop working at once (the user is
    deactivated, the API key revoked), lost equipment is marked lost, and with ``suspend`` the
    contract behind it is suspended (a SIM's line too) as the customer requests."""
    now = now or utcnow()
    actor = actor_of(session)
    if occurred_at is not None and occurred_at > now:
        raise InvalidInput(
            Text(fr="La perte ne peut être dans le futur.", en="The loss cannot be in the future."),
            field="occurred_at",
        )
    contract: Contract | None = (
        contracts.get_contract(session, customer_id, contract_id) if contract_id else None
    )
    needed = {
        LossKind.EQUIPMENT: ("equipment_id", equipment_id),
        LossKind.SIM: ("line_id", line_id),
        LossKind.CREDENTIALS: ("user_id", user_id),
        LossKind.API_KEY: ("api_key_id", api_key_id),
    }[kind]
    if needed[1] is None:
        raise InvalidInput(
            Text(fr="Indiquez l'élément perdu ou volé.", en="Name the lost or stolen item."),
            field=needed[0],
        )
    declaration = LossDeclaration(
        customer_id=customer_id,
        kind=kind,
        theft=theft,
        occurred_at=occurred_at,
        declared_at=now,
        declared_by=actor.label,
        details=details.strip()[:2000],
        suspend_requested=suspend,
    )
    if kind is LossKind.EQUIPMENT:
        assert equipment_id is not None
        equipment = contracts.get_equipment(session, customer_id, equipment_id)
        contract = _contract_of_item(session, customer_id, contract, equipment.contract_id)
        equipment.status = EquipmentStatus.LOST
        declaration.equipment_id = equipment.id
    elif kind is LossKind.SIM:
        assert line_id is not None
        line = contracts.get_line(session, customer_id, line_id)
        contract = _contract_of_item(session, customer_id, contract, line.contract_id)
        declaration.line_id = line.id
        if suspend:
            line.status = LineStatus.SUSPENDED
    elif kind is LossKind.CREDENTIALS:
        assert user_id is not None
        user = accounts.get_user(session, customer_id, user_id)
        declaration.user_id = user.id
        accounts.deactivate_user(session, user)
    else:
        assert api_key_id is not None
        key = accounts.get_api_key(session, customer_id, api_key_id)
        declaration.api_key_id = key.id
        accounts.revoke_api_key(session, key)
    if suspend and contract is None:
        raise InvalidInput(
            Text(
                fr="Indiquez le contrat dont le service doit être suspendu.",
                en="Name the contract whose service is to be suspended.",
            ),
            field="contract_id",
        )
    declaration.contract_id = contract.id if contract else None
    session.add(declaration)
    session.flush()
    if suspend:
        assert contract is not None
        what = {
            LossKind.EQUIPMENT: "équipement",
            LossKind.SIM: "carte SIM",
            LossKind.CREDENTIALS: "identifiants",
            LossKind.API_KEY: "clé d'API",
        }[kind]
        suspension = lifecycle.suspend(
            session,
            contract,
            cause=SuspensionCause.CREDENTIAL_LOSS,
            reason=f"{'vol' if theft else 'perte'} de {what} déclaré(e) le "
            f"{now.astimezone(PARIS):%d/%m/%Y à %H:%M} par {actor.label} (SUP-04)",
        )
        declaration.suspension_id = suspension.id
        session.flush()
    event(log, "loss.declared", customer=customer_id, kind=kind.value, suspended=suspend)
    return declaration


def _contract_of_item(
    session: Session, customer_id: int, named: Contract | None, contract_id: int
) -> Contract:
    """The contract a lost SIM or piece of equipment belongs to: the one whose service is
    suspended (SUP-04); naming another contract is refused."""
    if named is not None and named.id != contract_id:
        raise InvalidInput(
            Text(
                fr="L'élément déclaré appartient au contrat {expected}, pas au contrat {named}.",
                en="The declared item belongs to contract {expected}, not to contract {named}.",
            ),
            field="contract_id",
            details={"expected": contract_id, "named": named.id},
        )
    return named or contracts.get_contract(session, customer_id, contract_id)


def list_declarations(session: Session, customer_id: int) -> list[LossDeclaration]:
    return list(
        session.scalars(
            select(LossDeclaration)
            .where(LossDeclaration.customer_id == customer_id)
            .order_by(LossDeclaration.declared_at.desc(), LossDeclaration.id.desc())
        )
    )
