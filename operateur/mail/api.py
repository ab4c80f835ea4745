"""REST endpoints of the mail gateway console (MAIL-02, MAIL-03, MAIL-05..07, MAIL-11): below
the customer for its administrators, and operator-wide lists and refused domains for staff.
Every call is written to the console connection log (MAIL-10)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import select

from operateur.accounts import service as accounts
from operateur.accounts.models import Customer
from operateur.accounts.permissions import Actor, Permission
from operateur.contracts import service as contracts
from operateur.contracts.lifecycle import LIVE
from operateur.contracts.models import Contract
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import Forbidden
from operateur.http.deps import ActorDep, SessionDep, require
from operateur.i18n import Text
from operateur.mail import licences, quarantine, queue, sla
from operateur.mail import service as mail
from operateur.mail.models import FeedbackChannel, MailFeedback, QuarantineStatus
from operateur.mail.schemas import (
    CreditOut,
    CreditsIn,
    DomainIn,
    DomainOut,
    FeedbackOut,
    LicenceOut,
    ListEntryIn,
    ListEntryOut,
    MailboxIn,
    MailboxOut,
    MailboxPatch,
    QuarantineOut,
    QueuedOut,
    RefusedDomainIn,
    RefusedDomainOut,
    RemediesOut,
    ReportIn,
    ServerIn,
    ServerOut,
    SettingsIn,
    SettingsOut,
    SlaOut,
    WindowOut,
)


def console_log(request: Request, actor: ActorDep, session: SessionDep) -> None:
    """MAIL-10, MAIL-11: who reached the mail console, from where, to do what."""
    raw = request.path_params.get("customer_id")
    mail.record_console(
        session,
        actor=actor.label,
        action=f"{request.method} {request.url.path}",
        customer_id=int(raw) if raw is not None else None,
        client_ip=request.client.host if request.client else None,
    )


router = APIRouter(
    prefix="/customers/{customer_id}/mail", tags=["mail"], dependencies=[Depends(console_log)]
)
operator_router = APIRouter(prefix="/mail", tags=["mail"], dependencies=[Depends(console_log)])

Reader = Annotated[Actor, require(Permission.MAIL_READ)]
Manager = Annotated[Actor, require(Permission.MAIL_MANAGE)]
Operator = Annotated[Actor, require(Permission.MAIL_OPERATE)]


def _today() -> date:
    return datetime.now(PARIS).date()


# --- domains ---------------------------------------------------------------------------------


@router.get("/domains", response_model=list[DomainOut])
def list_domains(customer_id: int, actor: Reader, session: SessionDep) -> list[DomainOut]:
    return [DomainOut.model_validate(d) for d in mail.list_domains(session, customer_id)]


@router.post("/domains", response_model=DomainOut, status_code=status.HTTP_201_CREATED)
def add_domain(customer_id: int, body: DomainIn, actor: Manager, session: SessionDep) -> DomainOut:
    """Protect a domain (MAIL-01) within the contract's licence (MAIL-07)."""
    return DomainOut.model_validate(mail.add_domain(session, customer_id, body.name, _today()))


@router.delete("/domains/{domain_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_domain(
    customer_id: int, domain_id: int, actor: Manager, session: SessionDep
) -> Response:
    mail.remove_domain(session, mail.get_domain(session, customer_id, domain_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- the customer's servers ------------------------------------------------------------------


@router.get("/servers", response_model=list[ServerOut])
def list_servers(customer_id: int, actor: Reader, session: SessionDep) -> list[ServerOut]:
    return [ServerOut.model_validate(s) for s in mail.list_servers(session, customer_id)]


@router.post("/servers", response_model=ServerOut, status_code=status.HTTP_201_CREATED)
def add_server(customer_id: int, body: ServerIn, actor: Manager, session: SessionDep) -> ServerOut:
    server = mail.add_server(
        session,
        customer_id,
        body.host,
        port=body.port,
        priority=body.priority,
        domain_id=body.domain_id,
    )
    return ServerOut.model_validate(server)


@router.delete("/servers/{server_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_server(
    customer_id: int, server_id: int, actor: Manager, session: SessionDep
) -> Response:
    session.delete(mail.get_server(session, customer_id, server_id))
    session.flush()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- mailboxes -------------------------------------------------------------------------------


@router.get("/mailboxes", response_model=list[MailboxOut])
def list_mailboxes(customer_id: int, actor: Reader, session: SessionDep) -> list[MailboxOut]:
    return [MailboxOut.model_validate(m) for m in mail.list_mailboxes(session, customer_id)]


@router.post("/mailboxes", response_model=MailboxOut, status_code=status.HTTP_201_CREATED)
def add_mailbox(
    customer_id: int, body: MailboxIn, actor: Manager, session: SessionDep
) -> MailboxOut:
    """A licensed address (MAIL-07): filtering and digest switches, submission password."""
    mailbox = mail.add_mailbox(
        session,
        customer_id,
        body.address,
        _today(),
        filtering_enabled=body.filtering_enabled,
        digest_enabled=body.digest_enabled,
        password=body.password,
    )
    return MailboxOut.model_validate(mailbox)


@router.patch("/mailboxes/{mailbox_id}", response_model=MailboxOut)
def update_mailbox(
    customer_id: int, mailbox_id: int, body: MailboxPatch, actor: Manager, session: SessionDep
) -> MailboxOut:
    if body.unblock and not actor.is_staff:  # MAIL-08 a block is lifted by the operator
        raise Forbidden(
            Text(
                fr="Seul l'opérateur peut débloquer un compte bloqué pour abus.",
                en="Only the operator can unblock an account blocked for abuse.",
            ),
            code="unblock_staff_only",
        )
    mailbox = mail.update_mailbox(
        session,
        mail.get_mailbox(session, customer_id, mailbox_id),
        filtering_enabled=body.filtering_enabled,
        digest_enabled=body.digest_enabled,
        password=body.password,
        unblock=body.unblock,
    )
    return MailboxOut.model_validate(mailbox)


@router.delete("/mailboxes/{mailbox_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_mailbox(
    customer_id: int, mailbox_id: int, actor: Manager, session: SessionDep
) -> Response:
    mail.remove_mailbox(session, mail.get_mailbox(session, customer_id, mailbox_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- settings --------------------------------------------------------------------------------


def _settings_out(customer_id: int, found: object | None) -> SettingsOut:
    if found is None:
        return SettingsOut(
            customer_id=customer_id,
            challenge_enabled=False,
            relay_username=None,
            relay_blocked_at=None,
            relay_blocked_reason=None,
        )
    return SettingsOut.model_validate(found)


@router.get("/settings", response_model=SettingsOut)
def get_settings(customer_id: int, actor: Reader, session: SessionDep) -> SettingsOut:
    return _settings_out(customer_id, mail.find_settings(session, customer_id))


@router.put("/settings", response_model=SettingsOut)
def put_settings(
    customer_id: int, body: SettingsIn, actor: Manager, session: SessionDep
) -> SettingsOut:
    """Challenge-response on or off (MAIL-03); the relay account's password (MAILOUT)."""
    if body.unblock_relay and not actor.is_staff:
        raise Forbidden(
            Text(
                fr="Seul l'opérateur peut débloquer un compte bloqué pour abus.",
                en="Only the operator can unblock an account blocked for abuse.",
            ),
            code="unblock_staff_only",
        )
    found = mail.update_settings(
        session,
        customer_id,
        challenge_enabled=body.challenge_enabled,
        relay_password=body.relay_password,
        unblock_relay=body.unblock_relay,
    )
    return _settings_out(customer_id, found)


# --- allow and deny lists --------------------------------------------------------------------


@router.get("/lists", response_model=list[ListEntryOut])
def list_entries(customer_id: int, actor: Reader, session: SessionDep) -> list[ListEntryOut]:
    operator_id = accounts.get_customer(session, customer_id).operator_id
    entries = mail.list_entries(session, operator_id, customer_id)
    return [ListEntryOut.model_validate(e) for e in entries]


@router.post("/lists", response_model=ListEntryOut, status_code=status.HTTP_201_CREATED)
def add_entry(
    customer_id: int, body: ListEntryIn, actor: Manager, session: SessionDep
) -> ListEntryOut:
    """An address or @domain on the customer's allow or deny list (MAIL-02)."""
    operator_id = accounts.get_customer(session, customer_id).operator_id
    entry = mail.add_list_entry(session, operator_id, customer_id, body.kind, body.value, body.note)
    return ListEntryOut.model_validate(entry)


@router.delete("/lists/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_entry(customer_id: int, entry_id: int, actor: Manager, session: SessionDep) -> Response:
    operator_id = accounts.get_customer(session, customer_id).operator_id
    mail.remove_list_entry(
        session, mail.get_list_entry(session, operator_id, customer_id, entry_id)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- quarantine and reports (MAIL-03, MAIL-05) -----------------------------------------------


@router.get("/quarantine", response_model=list[QuarantineOut])
def list_quarantine(
    customer_id: int,
    actor: Reader,
    session: SessionDep,
    status: QuarantineStatus | None = QuarantineStatus.HELD,
    recipient: str | None = None,
) -> list[QuarantineOut]:
    items = quarantine.list_held(session, customer_id, status=status, recipient=recipient)
    return [QuarantineOut.model_validate(i) for i in items]


@router.post("/quarantine/{item_id}/release", response_model=QuarantineOut)
def release(customer_id: int, item_id: int, actor: Manager, session: SessionDep) -> QuarantineOut:
    item = quarantine.get_item(session, customer_id, item_id)
    quarantine.release(
        session, item, channel=FeedbackChannel.ADMINISTRATOR, actor=actor.label, now=utcnow()
    )
    return QuarantineOut.model_validate(item)


@router.post("/quarantine/{item_id}/allow-sender", response_model=QuarantineOut)
def allow_sender(
    customer_id: int, item_id: int, actor: Manager, session: SessionDep
) -> QuarantineOut:
    """Allow-list the sender (MAIL-04) and release the message."""
    item = quarantine.get_item(session, customer_id, item_id)
    quarantine.allow_sender(session, item, actor=actor.label, now=utcnow())
    return QuarantineOut.model_validate(item)


@router.delete("/quarantine/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_held(customer_id: int, item_id: int, actor: Manager, session: SessionDep) -> Response:
    item = quarantine.get_item(session, customer_id, item_id)
    quarantine.delete(session, item, actor=actor.label, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/reports", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED)
def report(customer_id: int, body: ReportIn, actor: Manager, session: SessionDep) -> FeedbackOut:
    """Report delivered spam or a virus, or blocked legitimate mail (MAIL-05, MAIL-06)."""
    feedback = quarantine.report(
        session, customer_id, body.log_id, body.kind, actor=actor.label, now=utcnow()
    )
    return FeedbackOut.model_validate(feedback)


@router.get("/reports", response_model=list[FeedbackOut])
def list_reports(customer_id: int, actor: Reader, session: SessionDep) -> list[FeedbackOut]:
    """Every release and report recorded for the customer (MAIL-03, MAIL-05)."""
    rows = session.scalars(
        select(MailFeedback)
        .where(MailFeedback.customer_id == customer_id)
        .order_by(MailFeedback.id.desc())
        .limit(500)
    )
    return [FeedbackOut.model_validate(r) for r in rows]


@router.get("/queue", response_model=list[QueuedOut])
def pending(customer_id: int, actor: Reader, session: SessionDep) -> list[QueuedOut]:
    """Mail buffered while the customer's server does not take it (MAIL-09)."""
    return [QueuedOut.model_validate(q) for q in queue.pending(session, customer_id)]


# --- licences and SLA ------------------------------------------------------------------------


@router.get("/licences", response_model=list[LicenceOut])
def licence_counts(customer_id: int, actor: Reader, session: SessionDep) -> list[LicenceOut]:
    """Mailboxes and domains used against the contract's licence and tolerance (MAIL-07)."""
    return [LicenceOut(**vars(c)) for c in licences.counts(session, customer_id, _today())]


def _window(figures: sla.WindowFigures) -> WindowOut:
    return WindowOut(**vars(figures))


@router.get("/sla", response_model=list[SlaOut])
def sla_figures(
    customer_id: int, actor: Reader, session: SessionDep, as_of: date | None = None
) -> list[SlaOut]:
    """Rolling-window figures ending at the end of ``as_of`` (today by default) and the month's
    remedies so far, per live mail contract with an SLA (MAIL-05, MAIL-06)."""
    day = as_of or _today()
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
    out = []
    contract = licences.mail_contract(session, customer_id)
    terms = contracts.terms_of(contract) if contract else None
    if contract is not None and terms is not None and terms.sla and terms.sla.mail:
        figures = sla.window_figures(session, customer_id, end, terms.sla.mail)
        month = sla.remedies(session, contract, day.strftime("%Y-%m"))
        worst = _window(month.worst_week) if month.worst_week else None
        out.append(
            SlaOut(
                as_of=day,
                window=_window(figures),
                month=RemediesOut(**(vars(month) | {"worst_week": worst})),
            )
        )
    return out


# --- operator-wide (staff) -------------------------------------------------------------------


def _operator_id(actor: Actor) -> int:
    if actor.operator_id is None:
        raise Forbidden(
            Text(fr="Réservé au personnel d'un opérateur.", en="For an operator's staff only."),
            code="operator_staff_only",
        )
    return actor.operator_id


@operator_router.get("/operator-lists", response_model=list[ListEntryOut])
def operator_lists(actor: Operator, session: SessionDep) -> list[ListEntryOut]:
    entries = mail.list_entries(session, _operator_id(actor), None)
    return [ListEntryOut.model_validate(e) for e in entries]


@operator_router.post(
    "/operator-lists", response_model=ListEntryOut, status_code=status.HTTP_201_CREATED
)
def add_operator_entry(body: ListEntryIn, actor: Operator, session: SessionDep) -> ListEntryOut:
    """An entry of the operator's allow or deny list, applied to every customer (MAIL-02)."""
    entry = mail.add_list_entry(
        session, _operator_id(actor), None, body.kind, body.value, body.note
    )
    return ListEntryOut.model_validate(entry)


@operator_router.delete("/operator-lists/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_operator_entry(entry_id: int, actor: Operator, session: SessionDep) -> Response:
    entry = mail.get_list_entry(session, _operator_id(actor), None, entry_id)
    mail.remove_list_entry(session, entry)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@operator_router.get("/refused-domains", response_model=list[RefusedDomainOut])
def refused_domains(actor: Operator, session: SessionDep) -> list[RefusedDomainOut]:
    found = mail.list_refused_domains(session, _operator_id(actor))
    return [RefusedDomainOut.model_validate(r) for r in found]


@operator_router.post(
    "/refused-domains", response_model=RefusedDomainOut, status_code=status.HTTP_201_CREATED
)
def refuse_domain(body: RefusedDomainIn, actor: Operator, session: SessionDep) -> RefusedDomainOut:
    """A domain the operator will not protect: illegal or immoral site (MAIL-07)."""
    refused = mail.refuse_domain(session, _operator_id(actor), body.name, body.reason)
    return RefusedDomainOut.model_validate(refused)


@operator_router.delete("/refused-domains/{refused_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_refusal(refused_id: int, actor: Operator, session: SessionDep) -> Response:
    session.delete(mail.get_refused_domain(session, _operator_id(actor), refused_id))
    session.flush()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@operator_router.post("/sla-credits", response_model=list[CreditOut])
def sla_credits(body: CreditsIn, actor: Operator, session: SessionDep) -> list[CreditOut]:
    """Hand a month's SLA remedies of every live mail contract to billing (idempotent)."""
    operator_id = _operator_id(actor)
    out = []
    for contract in session.scalars(
        select(Contract)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(Customer.operator_id == operator_id, Contract.status.in_(LIVE))
        .order_by(Contract.id)
    ):
        if not licences.is_mail_contract(contract):
            continue
        terms = contracts.terms_of(contract)
        if terms.sla is None or terms.sla.mail is None:
            continue
        charge = sla.hand_to_billing(session, contract, body.period)
        out.append(
            CreditOut(
                contract_id=contract.id,
                period=body.period,
                amount=charge.amount if charge else Decimal("0"),
                pending_charge_id=charge.id if charge else None,
            )
        )
    return out
