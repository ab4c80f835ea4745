"""Use cases of the SMS context: single sends, sender IDs, templates, distribution lists, the
monthly stock, held messages and the customer's API settings. Campaigns are in
``operateur.sms.campaigns``; the outbox state machine in ``operateur.sms.outbox``.

Every use case takes a session and commits nothing. Each send is checked in this order, and the
first refusal is reported with its rule: the service is usable now (a live contract covering SMS,
not suspended), SMS-10 eligibility, the sender (SMS-05), the recipient (SMS-07), the text
(SMS-02/03), the sending window (SMS-04); then a recipient who answered STOP makes the message
UNSUBSCRIBED (SMS-06, reported, never sent), the content filter holds it (SMS-09), and its parts
are taken from the monthly stock (SMS-08) and, for a prepaid account, their price reserved
(BIL-10).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import openpyxl
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.billing.models import LineSource, PendingCharge
from operateur.catalog.terms import (
    ContractTerms,
    OutsideWindow,
    PaymentMethod,
    Service,
    SmsRules,
)
from operateur.contracts.lifecycle import may_use
from operateur.contracts.models import Contract
from operateur.contracts.service import price_item, terms_of
from operateur.db import utcnow
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.sms import callbacks, charging, optouts, outbox, stock
from operateur.sms.content import matching_rule
from operateur.sms.eligibility import check_eligibility
from operateur.sms.encoding import SmsAnalysis, SmsEncoding, analyze, stop_mention
from operateur.sms.models import (
    SenderStatus,
    SmsList,
    SmsListEntry,
    SmsMessage,
    SmsSender,
    SmsSettings,
    SmsStatus,
    SmsTemplate,
)
from operateur.sms.recipients import Recipient, check_recipient
from operateur.sms.senders import check_sender
from operateur.sms.window import OUTSIDE_WINDOW_ERROR, plan, sending_window


@contextmanager
def all_or_nothing(session: Session) -> Iterator[None]:
    """A savepoint: on a refusal its writes are undone and the objects they touched (a wallet,
    a stock counter) read again, so that the caller's session stays usable and exact."""
    try:
        with session.begin_nested():
            yield
    except BaseException:
        session.expire_all()  # everything before the savepoint was flushed when it began
        raise


# --- the customer's SMS service ----------------------------------------------------------------


@dataclass(frozen=True)
class SmsContext:
    """What every send reads: the customer, the contract serving SMS and its frozen terms, and
    the operator's shared short code (``optouts.operator_short_code``)."""

    customer: Customer
    contract: Contract
    terms: ContractTerms
    rules: SmsRules
    part_price: Decimal
    short_code: str

    @property
    def prepaid(self) -> bool:
        return self.customer.payment_method is PaymentMethod.PREPAID

    @property
    def mention(self) -> str:
        """The STOP mention appended to every message under these terms (SMS-06), or ""."""
        return stop_mention(self.rules, self.short_code)

    def analyze(self, text: str) -> SmsAnalysis:
        """``text`` as it would be sent under these terms, STOP mention included."""
        return analyze(text, self.rules, self.mention)


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]", "", plain)


def context(session: Session, customer_id: int) -> SmsContext:
    """The customer's SMS service now, or the refusal: no live contract covering SMS, the
    contract suspended for it (CTR-06), or not eligible (SMS-10)."""
    decision = may_use(session, customer_id, Service.SMS)
    if not decision.allowed or decision.contract_id is None:
        raise Conflict(
            decision.reason, code=f"sms_service_{decision.code}", details={"id": customer_id}
        )
    contract = session.get(Contract, decision.contract_id)
    customer = session.get(Customer, customer_id)
    assert contract is not None and customer is not None
    terms = terms_of(contract)
    if terms.sms is None:  # the SMS option was taken out of this contract's terms
        raise Conflict(
            Text(
                fr="Le contrat {reference} ne comprend pas le service SMS.",
                en="Contract {reference} does not include the SMS service.",
            ),
            code="sms_service_not_in_contract",
            details={"reference": contract.reference},
        )
    check_eligibility(customer, terms)
    return SmsContext(
        customer,
        contract,
        terms,
        terms.sms,
        charging.part_price(contract, terms),
        optouts.operator_short_code(),
    )


def find_context(session: Session, customer_id: int) -> SmsContext | None:
    try:
        return context(session, customer_id)
    except Conflict:
        return None


# --- senders (SMS-05) ------------------------------------------------------------------------


def resolve_sender(session: Session, ctx: SmsContext, name: str | None) -> str:
    """The sender a message goes out with: the operator's shared short code by default when
    the terms share it (SMS-06), or one of the customer's authorised custom senders (SMS-05)."""
    if name is None or name == ctx.short_code:
        if not ctx.rules.shared_short_code:
            raise InvalidInput(
                Text(
                    fr="Un émetteur est obligatoire : demander un émetteur personnalisé (SMS-05).",
                    en="A sender is required: request a custom sender (SMS-05).",
                ),
                code="sms_sender_required",
                field="sender",
            )
        return ctx.short_code
    authorised = session.scalar(
        select(SmsSender.id).where(
            SmsSender.customer_id == ctx.customer.id,
            SmsSender.name == name,
            SmsSender.status == SenderStatus.AUTHORISED,
        )
    )
    if authorised is None:
        raise InvalidInput(
            Text(
                fr="L'émetteur « {sender} » n'est pas autorisé pour ce client : il doit être "
                "demandé puis validé (SMS-05).",
                en='The sender "{sender}" is not authorised for this customer: it must be '
                "requested and approved first (SMS-05).",
            ),
            code="sms_sender_not_authorised",
            field="sender",
            details={"sender": name},
        )
    return name


def _bill_sender_request(session: Session, ctx: SmsContext, sender: SmsSender) -> None:
    """Put the request fee of the price list on the next invoice, once (SMS-05)."""
    code = ctx.rules.sender_request_price_code
    item = price_item(ctx.contract, code) if code is not None else None
    if item is None or sender.billed:
        return
    key = f"sms-sender:{sender.id}"
    if session.scalar(select(PendingCharge.id).where(PendingCharge.idempotency_key == key)):
        sender.billed = True
        return
    session.add(
        PendingCharge(
            customer_id=ctx.customer.id,
            contract_id=ctx.contract.id,
            source=LineSource.ONE_OFF,
            code=item.code,
            description=f"{item.label.fr} : {sender.name}",
            amount=item.unit_price,
            idempotency_key=key,
        )
    )
    sender.billed = True
    session.flush()


def request_sender(session: Session, customer_id: int, name: str) -> SmsSender:
    """A customer asks for a custom sender. Refused at once, with the rule named, when the
    rules forbid it; otherwise waiting for the operator's review. The request fee is billed at
    once when the terms bill it even if refused, else on authorisation. Asking again for the
    same name returns the first request (and bills nothing more)."""
    ctx = context(session, customer_id)
    name = name.strip()
    existing = session.scalar(
        select(SmsSender).where(SmsSender.customer_id == customer_id, SmsSender.name == name)
    )
    if existing is not None:
        return existing
    check = check_sender(name, ctx.rules)
    sender = SmsSender(
        customer_id=customer_id,
        contract_id=ctx.contract.id,
        name=name[:16],
        status=SenderStatus.REQUESTED if check.allowed else SenderStatus.REFUSED,
        rule=check.rule.value if check.rule else None,
        reason="" if check.allowed else check.reason.fr,
        reviewed_at=None if check.allowed else utcnow(),
        reviewed_by=None if check.allowed else "rules",
    )
    session.add(sender)
    session.flush()
    if ctx.rules.sender_request_billed_even_if_refused:
        _bill_sender_request(session, ctx, sender)
    return sender


def get_sender(session: Session, customer_id: int, sender_id: int) -> SmsSender:
    sender = session.scalar(
        select(SmsSender).where(SmsSender.id == sender_id, SmsSender.customer_id == customer_id)
    )
    if sender is None:
        raise NotFound(
            Text(fr="Émetteur {id} introuvable.", en="Sender {id} not found."),
            code="sms_sender_not_found",
            details={"id": sender_id},
        )
    return sender


def list_senders(session: Session, customer_id: int) -> list[SmsSender]:
    return list(
        session.scalars(
            select(SmsSender).where(SmsSender.customer_id == customer_id).order_by(SmsSender.id)
        )
    )


def pending_senders(session: Session) -> list[SmsSender]:
    """Requests waiting for the operator's review, every customer."""
    return list(
        session.scalars(
            select(SmsSender)
            .where(SmsSender.status == SenderStatus.REQUESTED)
            .order_by(SmsSender.id)
        )
    )


def review_sender(
    session: Session, sender: SmsSender, *, authorise: bool, reason: str, reviewer: str
) -> SmsSender:
    """The operator authorises or refuses a requested sender (SMS-05)."""
    if sender.status is not SenderStatus.REQUESTED:
        raise Conflict(
            Text(
                fr="L'émetteur « {name} » a déjà été examiné ({status}).",
                en='The sender "{name}" was already reviewed ({status}).',
            ),
            code="sms_sender_reviewed",
            details={"name": sender.name, "status": sender.status.value},
        )
    ctx = context(session, sender.customer_id)
    sender.status = SenderStatus.AUTHORISED if authorise else SenderStatus.REFUSED
    sender.rule = None if authorise else "operator_review"
    sender.reason = reason
    sender.reviewed_at = utcnow()
    sender.reviewed_by = reviewer
    if authorise or ctx.rules.sender_request_billed_even_if_refused:
        _bill_sender_request(session, ctx, sender)
    session.flush()
    return sender


# --- settings ---------------------------------------------------------------------------------


def get_settings(session: Session, customer_id: int) -> SmsSettings:
    return callbacks.settings_of(session, customer_id)


def update_settings(
    session: Session,
    customer_id: int,
    *,
    callback_url: str | None,
    outside_window: OutsideWindow | None,
) -> SmsSettings:
    row = callbacks.settings_of(session, customer_id)
    row.callback_url = (
        callbacks.check_callback_url(callback_url) if callback_url is not None else None
    )
    row.outside_window = outside_window
    session.flush()
    return row


def outside_window_policy(
    session: Session, ctx: SmsContext, asked: OutsideWindow | None
) -> OutsideWindow:
    """Queue or reject outside the window: the request's choice, the customer's setting, else
    the offer's (SMS-04)."""
    if asked is not None:
        return asked
    own = session.scalar(
        select(SmsSettings.outside_window).where(SmsSettings.customer_id == ctx.customer.id)
    )
    return own or ctx.rules.outside_window


# --- single sends -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRequest:
    to: str
    text: str
    sender: str | None = None
    send_at: datetime | None = None
    client_ref: str | None = None
    callback_url: str | None = None
    outside_window: OutsideWindow | None = None


def check_text(text: str, ctx: SmsContext) -> SmsAnalysis:
    """The analysis of a valid text as sent (STOP mention included); ``InvalidInput`` naming
    the characters or the length."""
    analysis = ctx.analyze(text)
    error = analysis.error()
    if error is not None:
        raise error
    return analysis


@dataclass
class Draft:
    """A message checked and ready to be stored (single send or one recipient of a campaign)."""

    recipient: str
    destination: str
    text: str
    analysis: SmsAnalysis | None
    status: SmsStatus
    error: str | None = None
    warning: str | None = None
    held_rule: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def parts(self) -> int:
        return self.analysis.part_count if self.analysis is not None else 0

    @property
    def counts_against_stock(self) -> bool:
        return self.status in (SmsStatus.QUEUED, SmsStatus.HELD)


def draft(
    ctx: SmsContext, recipient: Recipient, text: str, analysis: SmsAnalysis, unsubscribed: bool
) -> Draft:
    """Decide the first status of a checked message: UNSUBSCRIBED (SMS-06), HELD by the content
    filter (SMS-09), or QUEUED."""
    base = Draft(recipient.e164, recipient.destination, text, analysis, SmsStatus.QUEUED)
    base.warning = recipient.warning
    if unsubscribed:
        base.status, base.error = SmsStatus.UNSUBSCRIBED, "unsubscribed"
    elif ctx.rules.content_filter and (rule := matching_rule(text)) is not None:
        base.status, base.held_rule = SmsStatus.HELD, rule
    return base


def message_from(
    ctx: SmsContext,
    item: Draft,
    *,
    sender: str,
    not_before: datetime,
    policy: OutsideWindow,
    now: datetime,
    campaign_id: int | None = None,
    client_ref: str | None = None,
    callback_url: str | None = None,
) -> SmsMessage:
    """The outbox row of a draft (not added to the session)."""
    analysis = item.analysis
    return SmsMessage(
        customer_id=ctx.customer.id,
        contract_id=ctx.contract.id,
        campaign_id=campaign_id,
        sender=sender,
        recipient=item.recipient,
        text=item.text,
        encoding=analysis.encoding if analysis is not None else SmsEncoding.GSM7,
        parts=item.parts,
        status=item.status,
        not_before=not_before,
        route="default",
        smsc_ids=[],
        attempts=0,
        error=item.error,
        client_ref=client_ref,
        callback_url=callback_url,
        outside_window=policy,
        held_rule=item.held_rule,
        warning=item.warning,
        destination=item.destination,
        cost=ctx.part_price * item.parts,
        prepaid=ctx.prepaid,
        stock_month=stock.month_of(not_before),
        final_at=None if item.counts_against_stock else now,
        created_at=now,
    )


def _same_request(message: SmsMessage, recipient: str, text: str) -> None:
    if message.recipient != recipient or message.text != text:
        raise Conflict(
            Text(
                fr="La référence client « {ref} » est déjà utilisée pour un autre SMS.",
                en='The client reference "{ref}" is already used for another SMS.',
            ),
            code="sms_client_ref_reused",
            details={"ref": message.client_ref},
        )


def send(
    session: Session, customer_id: int, request: SendRequest, *, now: datetime | None = None
) -> SmsMessage:
    """Enqueue one SMS (SMS-01). A repeat with the same ``client_ref`` returns the first one.
    Refusals raise; a recipient who answered STOP gives a stored UNSUBSCRIBED message."""
    now = now or utcnow()
    ctx = context(session, customer_id)
    recipient = check_recipient(request.to, ctx.rules, field="to")
    existing = _sent_as(session, customer_id, request.client_ref)
    if existing is not None:
        _same_request(existing, recipient.e164, request.text)
        return existing
    sender = resolve_sender(session, ctx, request.sender)
    analysis = check_text(request.text, ctx)
    outside = outside_window_policy(session, ctx, request.outside_window)
    at = max(request.send_at or now, now)
    not_before = plan(ctx.rules, at, outside)
    unsubscribed = optouts.is_unsubscribed(
        session, customer_id, ctx.rules, recipient.e164, ctx.short_code
    )
    item = draft(ctx, recipient, request.text, analysis, unsubscribed)
    callback_url = request.callback_url
    if callback_url is not None:
        callbacks.check_callback_url(callback_url)
    else:
        callback_url = callbacks.settings_of(session, customer_id).callback_url
    message = message_from(
        ctx,
        item,
        sender=sender,
        not_before=not_before,
        policy=outside,
        now=now,
        client_ref=request.client_ref,
        callback_url=callback_url,
    )
    try:
        with all_or_nothing(session):  # a refusal (stock, credit) leaves nothing behind
            if item.counts_against_stock:
                stock.take(session, customer_id, ctx.terms.limits, message.stock_month, item.parts)
            session.add(message)
            session.flush()
            if item.counts_against_stock:
                charging.reserve(session, message, now)
            else:
                callbacks.status_changed(session, message)
    except IntegrityError:
        # the same client_ref sent at the same moment (a client's retry): the first one wins
        first = _sent_as(session, customer_id, request.client_ref)
        if first is None:
            raise
        _same_request(first, recipient.e164, request.text)
        return first
    return message


def _sent_as(session: Session, customer_id: int, client_ref: str | None) -> SmsMessage | None:
    """The customer's message sent with ``client_ref``, if any."""
    if client_ref is None:
        return None
    return session.scalar(
        select(SmsMessage).where(
            SmsMessage.customer_id == customer_id, SmsMessage.client_ref == client_ref
        )
    )


def get_message(session: Session, customer_id: int, message_id: int) -> SmsMessage:
    message = session.scalar(
        select(SmsMessage).where(SmsMessage.id == message_id, SmsMessage.customer_id == customer_id)
    )
    if message is None:
        raise NotFound(
            Text(fr="SMS {id} introuvable.", en="SMS {id} not found."),
            code="sms_not_found",
            details={"id": message_id},
        )
    return message


def list_messages(
    session: Session,
    customer_id: int,
    *,
    status: SmsStatus | None = None,
    campaign_id: int | None = None,
    limit: int = 100,
) -> list[SmsMessage]:
    query = select(SmsMessage).where(SmsMessage.customer_id == customer_id)
    if status is not None:
        query = query.where(SmsMessage.status == status)
    if campaign_id is not None:
        query = query.where(SmsMessage.campaign_id == campaign_id)
    return list(session.scalars(query.order_by(SmsMessage.id.desc()).limit(limit)))


# --- held messages (SMS-09) -------------------------------------------------------------------


def held_messages(
    session: Session, customer_id: int | None = None, limit: int = 200
) -> list[SmsMessage]:
    """Messages the content filter holds, oldest first (all customers for the staff)."""
    query = select(SmsMessage).where(SmsMessage.status == SmsStatus.HELD)
    if customer_id is not None:
        query = query.where(SmsMessage.customer_id == customer_id)
    return list(session.scalars(query.order_by(SmsMessage.id).limit(limit)))


def review_held(
    session: Session, message: SmsMessage, *, release: bool, now: datetime | None = None
) -> SmsMessage:
    """The operator releases a held message (it is queued for the window, or rejected if its
    customer asked for rejection outside the window) or rejects it, naming the rule (SMS-09)."""
    now = now or utcnow()
    if message.status is not SmsStatus.HELD:
        raise Conflict(
            Text(
                fr="Le SMS {id} n'est pas retenu ({status}).",
                en="SMS {id} is not held ({status}).",
            ),
            code="sms_not_held",
            details={"id": message.id, "status": message.status.value},
        )
    if not release:
        outbox.move(
            session, message, SmsStatus.REJECTED, now=now, error=f"content:{message.held_rule}"
        )
        session.flush()
        return message
    contract = session.get(Contract, message.contract_id)
    assert contract is not None
    rules = terms_of(contract).sms
    window = sending_window(rules) if rules is not None else None
    at = max(message.not_before, now)
    if window is not None and not window.contains(at):
        if message.outside_window is OutsideWindow.REJECT:
            outbox.move(session, message, SmsStatus.REJECTED, now=now, error=OUTSIDE_WINDOW_ERROR)
            session.flush()
            return message
        at = window.next_opening(at)
    message.not_before = at
    outbox.move(session, message, SmsStatus.QUEUED, now=now)
    session.flush()
    return message


# --- stock (SMS-08) ---------------------------------------------------------------------------


def stock_view(
    session: Session, customer_id: int, month: str | None = None
) -> tuple[stock.StockView, int | None]:
    """The customer's stock for ``month`` (this month by default) and the contract serving
    SMS; without a live SMS contract the stock shows no limit and no contract."""
    ctx = find_context(session, customer_id)
    month = month or stock.month_of(utcnow())
    if ctx is None:
        return stock.StockView(
            customer_id, month, None, None, stock.used_in(session, customer_id, month)
        ), None
    return stock.view(session, customer_id, ctx.terms.limits, month), ctx.contract.id


def set_stock(
    session: Session, customer_id: int, monthly_limit: int, reason: str
) -> stock.StockView:
    """The operator sets the customer's monthly stock, within the terms' maximum (SMS-08)."""
    ctx = context(session, customer_id)
    stock.set_limit(session, customer_id, ctx.terms.limits, monthly_limit, reason)
    return stock.view(session, customer_id, ctx.terms.limits, stock.month_of(utcnow()))


# --- templates --------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(text: str) -> list[str]:
    """The ``{name}`` fields of a text, in order of first use. Other braces are text."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def render(text: str, fields: Mapping[str, str]) -> str:
    """The text with each ``{name}`` replaced by the field's value (empty when missing)."""
    return PLACEHOLDER.sub(lambda match: fields.get(match.group(1), ""), text)


def _check_name(name: str, field_name: str = "name") -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 100:
        raise InvalidInput(
            Text(
                fr="Le nom doit faire de 1 à 100 caractères.",
                en="The name must be 1 to 100 characters long.",
            ),
            field=field_name,
        )
    return cleaned


def _unique_name(session: Session, model: type[SmsTemplate] | type[SmsList], customer_id: int,
                 name: str) -> None:  # fmt: skip
    if session.scalar(select(model.id).where(model.customer_id == customer_id, model.name == name)):
        raise Conflict(
            Text(fr="Le nom « {name} » est déjà pris.", en='The name "{name}" is already taken.'),
            code="sms_name_taken",
            field="name",
            details={"name": name},
        )


def create_template(session: Session, customer_id: int, name: str, text: str) -> SmsTemplate:
    """A reusable text; its characters are checked against the customer's SMS rules, the
    ``{placeholders}`` left out (SMS-01, SMS-02)."""
    name = _check_name(name)
    _unique_name(session, SmsTemplate, customer_id, name)
    ctx = context(session, customer_id)
    check_text(render(text, {}) or " ", ctx)
    template = SmsTemplate(customer_id=customer_id, name=name, text=text)
    session.add(template)
    session.flush()
    return template


def get_template(session: Session, customer_id: int, template_id: int) -> SmsTemplate:
    template = session.scalar(
        select(SmsTemplate).where(
            SmsTemplate.id == template_id, SmsTemplate.customer_id == customer_id
        )
    )
    if template is None:
        raise NotFound(
            Text(fr="Modèle {id} introuvable.", en="Template {id} not found."),
            code="sms_template_not_found",
            details={"id": template_id},
        )
    return template


def list_templates(session: Session, customer_id: int) -> list[SmsTemplate]:
    return list(
        session.scalars(
            select(SmsTemplate)
            .where(SmsTemplate.customer_id == customer_id)
            .order_by(SmsTemplate.name)
        )
    )


# --- distribution lists -----------------------------------------------------------------------

#: Column names read as the recipient's number in an imported file (folded).
NUMBER_COLUMNS = ("number", "phone", "mobile", "recipient", "to", "telephone", "tel",
                  "numero", "portable", "msisdn")  # fmt: skip
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ImportReport:
    """What an import did: rows added, and each row refused with its line and reason."""

    added: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


def create_list(session: Session, customer_id: int, name: str) -> SmsList:
    name = _check_name(name)
    _unique_name(session, SmsList, customer_id, name)
    context(session, customer_id)  # lists serve the SMS service: it must be open
    sms_list = SmsList(customer_id=customer_id, name=name, columns=[])
    session.add(sms_list)
    session.flush()
    return sms_list


def get_list(session: Session, customer_id: int, list_id: int) -> SmsList:
    sms_list = session.scalar(
        select(SmsList).where(SmsList.id == list_id, SmsList.customer_id == customer_id)
    )
    if sms_list is None:
        raise NotFound(
            Text(fr="Liste {id} introuvable.", en="List {id} not found."),
            code="sms_list_not_found",
            details={"id": list_id},
        )
    return sms_list


def list_lists(session: Session, customer_id: int) -> list[SmsList]:
    return list(
        session.scalars(
            select(SmsList).where(SmsList.customer_id == customer_id).order_by(SmsList.name)
        )
    )


def list_size(session: Session, list_id: int) -> int:
    return int(
        session.scalar(select(func.count(SmsListEntry.id)).where(SmsListEntry.list_id == list_id))
        or 0
    )


def list_entries(session: Session, list_id: int) -> list[SmsListEntry]:
    return list(
        session.scalars(
            select(SmsListEntry).where(SmsListEntry.list_id == list_id).order_by(SmsListEntry.id)
        )
    )


def add_entries(
    session: Session, sms_list: SmsList, rows: Iterable[tuple[int, str, dict[str, str]]]
) -> ImportReport:
    """Add ``(line, number, fields)`` rows to a list: each bad number, duplicate or
    unsubscribed recipient is reported with its line and reason, the others are added."""
    ctx = context(session, sms_list.customer_id)
    report = ImportReport()
    rows = list(rows)
    known = set(
        session.scalars(select(SmsListEntry.recipient).where(SmsListEntry.list_id == sms_list.id))
    )
    accepted: list[tuple[int, Recipient, dict[str, str]]] = []
    for line, raw, fields in rows:
        try:
            recipient = check_recipient(raw, ctx.rules, field="number")
        except InvalidInput as error:
            report.rejected.append(
                {
                    "line": line,
                    "number": raw,
                    "reason": str(error.details.get("reason", error.code)),
                    "message": error.render(),
                }
            )
            continue
        if recipient.e164 in known:
            report.rejected.append({"line": line, "number": raw, "reason": "duplicate"})
            continue
        known.add(recipient.e164)
        accepted.append((line, recipient, fields))
    stopped = optouts.unsubscribed_among(
        session, sms_list.customer_id, ctx.rules, (r.e164 for _, r, _ in accepted), ctx.short_code
    )
    columns = list(sms_list.columns)
    for line, recipient, fields in accepted:
        if recipient.e164 in stopped:
            report.rejected.append(
                {"line": line, "number": recipient.e164, "reason": "unsubscribed"}
            )
            continue
        for name in fields:
            if name not in columns:
                columns.append(name)
        session.add(
            SmsListEntry(
                list_id=sms_list.id,
                customer_id=sms_list.customer_id,
                recipient=recipient.e164,
                fields=fields,
                warning=recipient.warning,
            )
        )
        if recipient.warning is not None:
            report.warnings.append(
                {"line": line, "number": recipient.e164, "warning": recipient.warning}
            )
        report.added += 1
    sms_list.columns = columns
    report.rejected.sort(key=lambda row: int(row["line"]))
    session.flush()
    return report


def _number_column(header: list[str]) -> int | None:
    folded = [_fold(name) for name in header]
    for candidate in NUMBER_COLUMNS:
        if candidate in folded:
            return folded.index(candidate)
    return None


def _import_table(
    session: Session,
    sms_list: SmsList,
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
) -> ImportReport:
    """Rows of a table with a header: one column holds the number, the others become fields."""
    header = [name.strip() for name in header]
    number_at = _number_column(header)
    if number_at is None:
        raise InvalidInput(
            Text(
                fr="Aucune colonne de numéro dans l'en-tête (attendu : {names}).",
                en="No number column in the header (expected: {names}).",
            ),
            code="sms_import_no_number_column",
            field="file",
            details={"names": ", ".join(NUMBER_COLUMNS)},
        )
    # a column without a header (a trailing separator, a note beside an XLSX table) is ignored
    bad = [
        name
        for i, name in enumerate(header)
        if i != number_at and name and not _COLUMN.fullmatch(name)
    ]
    if bad:
        raise InvalidInput(
            Text(
                fr="Noms de colonnes invalides : {names} (lettres, chiffres et _ seulement).",
                en="Invalid column names: {names} (letters, digits and _ only).",
            ),
            code="sms_import_bad_columns",
            field="file",
            details={"names": ", ".join(bad)},
        )
    entries: list[tuple[int, str, dict[str, str]]] = []
    for line, values in rows:
        if not any(value.strip() for value in values):
            continue
        values = values + [""] * (len(header) - len(values))
        fields = {
            name: values[i].strip() for i, name in enumerate(header) if i != number_at and name
        }
        entries.append((line, values[number_at].strip(), fields))
    return add_entries(session, sms_list, entries)


def _empty_file() -> InvalidInput:
    return InvalidInput(
        Text(fr="Le fichier est vide.", en="The file is empty."),
        code="sms_import_empty",
        field="file",
    )


def import_csv(session: Session, sms_list: SmsList, text: str) -> ImportReport:
    """Import a CSV (comma, semicolon or tab, UTF-8, a header): one column holds the number
    (``number``, ``phone``, ``mobile``, ``telephone``, ``numero``…), every other column becomes a
    field for the placeholders. Good rows are added, bad ones reported by line (SMS-01)."""
    text = text.lstrip("\ufeff")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise _empty_file()
    return _import_table(session, sms_list, header, ((reader.line_num, row) for row in reader))


def _cell(value: object) -> str:
    """A spreadsheet cell as text: numbers typed as numbers lose no digit (``612345678``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def import_xlsx(session: Session, sms_list: SmsList, data: bytes) -> ImportReport:
    """Import the first sheet of an Excel workbook (.xlsx), as ``import_csv`` does a CSV; a
    row's line is its row number in the sheet."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInput(
            Text(
                fr="Ce fichier n'est pas un classeur Excel (.xlsx) lisible.",
                en="This file is not a readable Excel workbook (.xlsx).",
            ),
            code="sms_import_not_xlsx",
            field="file",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        table = [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not table or not any(table[0]):
        raise _empty_file()
    return _import_table(
        session, sms_list, table[0], ((index, row) for index, row in enumerate(table[1:], 2))
    )
