"""Dunning (CTR-06, BIL-06): what happens to a contract when one of its invoices is overdue,
dated from the terms: a reminder on the first late day, a formal notice when the terms require
one, suspension after the terms' delay, termination when still unpaid; service restored once
nothing is overdue any more. Prepaid accounts are suspended when their balance is exhausted and
restored when topped up (BIL-10). Each step is taken once per invoice (``DunningStep``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from operateur.accounts.models import Customer
from operateur.billing import collection, payments, wallets
from operateur.billing.models import Invoice, InvoiceKind, Wallet
from operateur.catalog.terms import ContractTerms, PaymentMethod, SuspensionCause
from operateur.contracts import lifecycle, notices, termination
from operateur.contracts.models import Contract, ContractStatus, Suspension
from operateur.contracts.service import terms_of
from operateur.db import Base
from operateur.errors import NotFound
from operateur.i18n import Text


class DunningStep(Base):
    __tablename__ = "dunning_steps"
    __table_args__ = (UniqueConstraint("invoice_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column()
    customer_id: Mapped[int] = mapped_column()
    step: Mapped[str] = mapped_column(String(20))  # reminder, formal_notice, suspension...
    on: Mapped[date] = mapped_column()


@dataclass(frozen=True)
class DunningPlan:
    reminder_on: date
    formal_notice_on: date | None
    suspend_on: date | None  # None: the terms do not suspend for non-payment
    terminate_on: date | None


def plan(terms: ContractTerms, due: date) -> DunningPlan:
    """The dated steps for an invoice due on ``due`` under these terms."""
    late = terms.late_payment
    first_late = due + timedelta(days=1)
    notice_on = first_late if late.suspend_requires_formal_notice else None
    suspend_on: date | None = None
    if late.suspend_after is not None:
        suspend_on = max(first_late, late.suspend_after.after(due))
        if notice_on is not None:
            suspend_on = max(suspend_on, terms.suspension.notice_delay.after(notice_on))
    if late.terminate_after is not None:
        terminate_on: date | None = max(late.terminate_after.after(due), suspend_on or due)
    elif suspend_on is not None and terms.suspension.terminate_if_uncured_after is not None:
        terminate_on = terms.suspension.terminate_if_uncured_after.after(suspend_on)
    else:
        terminate_on = None
    return DunningPlan(first_late, notice_on, suspend_on, terminate_on)


def _step(session: Session, invoice: Invoice, step: str, on: date) -> bool:
    """Record a step once; False when it was already taken."""
    if session.scalar(
        select(DunningStep.id).where(DunningStep.invoice_id == invoice.id, DunningStep.step == step)
    ):
        return False
    session.add(
        DunningStep(invoice_id=invoice.id, customer_id=invoice.customer_id, step=step, on=on)
    )
    session.flush()
    return True


def _non_payment(session: Session, contract: Contract) -> list[Suspension]:
    return [
        s
        for s in lifecycle.open_suspensions(session, contract.id)
        if s.cause in (SuspensionCause.NON_PAYMENT.value, SuspensionCause.PREPAID_DEPLETED.value)
    ]


def run(session: Session, as_of: date) -> list[str]:
    """Take every dunning step due by ``as_of``; the steps taken, for the scheduler's report."""
    taken: list[str] = []
    for invoice, due in overdue(session, as_of):
        contract = session.get(Contract, invoice.contract_id)
        assert contract is not None
        steps = plan(terms_of(contract), due)
        notices_due = (("reminder", steps.reminder_on), ("formal_notice", steps.formal_notice_on))
        for step, on in notices_due:
            if on is not None and on <= as_of and _step(session, invoice, step, on):
                notices.unpaid(
                    session,
                    contract,
                    step=step,
                    invoice_id=invoice.id,
                    number=invoice.number,
                    outstanding=payments.outstanding(invoice),
                    due=due,
                    on=on,
                    suspend_on=steps.suspend_on,
                    terminate_on=steps.terminate_on,
                )
                taken.append(f"{step}:{invoice.number}")
        if (
            steps.suspend_on is not None
            and steps.suspend_on <= as_of
            and _step(session, invoice, "suspension", steps.suspend_on)
        ):
            if contract.status in (ContractStatus.ACTIVE, ContractStatus.NOTICE_GIVEN):
                lifecycle.suspend(
                    session,
                    contract,
                    cause=SuspensionCause.NON_PAYMENT,
                    reason=f"facture {invoice.number} impayée à échéance du {due:%d/%m/%Y}",
                    on=steps.suspend_on,
                    why=_unpaid_text(invoice, due, steps.terminate_on),
                )
            taken.append(f"suspension:{invoice.number}")
        if (
            steps.terminate_on
            and steps.terminate_on <= as_of
            and _step(session, invoice, "termination", steps.terminate_on)
        ):
            if contract.status in lifecycle.LIVE:
                # CTR-05 an end caused by the customer before the term owes the terms' amount
                owed = termination.early_termination_amount(session, contract, steps.terminate_on)
                termination.invoice_early_termination(
                    session, contract, owed, steps.terminate_on, steps.terminate_on
                )
                lifecycle.terminate(
                    session,
                    contract,
                    on=steps.terminate_on,
                    reason=f"facture {invoice.number} toujours impayée",
                    why=notices.join(_unpaid_text(invoice, due, None), owed.explanation),
                )
            taken.append(f"termination:{invoice.number}")
    taken.extend(_prepaid(session))
    taken.extend(_restore_paid(session, as_of))
    return taken


def overdue(
    session: Session, as_of: date, operator_id: int | None = None
) -> list[tuple[Invoice, date]]:
    """The open invoices past the day they are due on ``as_of``, with that day: their own due
    date, or earlier when one late invoice made every open invoice of the customer due at once
    (BIL-06 [000 §6; 004 §9.3, §9.5], read from the terms by ``collection.due_dates``); the
    oldest due first. ``operator_id``: that operator's customers only (the staff's queue)."""
    late_customers = select(Invoice.customer_id).where(
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.status.in_(payments.OPEN_STATUSES),
        Invoice.due_date < as_of,
        Invoice.contract_id.is_not(None),
    )
    if operator_id is not None:
        late_customers = late_customers.join(Customer, Customer.id == Invoice.customer_id).where(
            Customer.operator_id == operator_id
        )
    found: list[tuple[Invoice, date]] = []
    for customer_id in session.scalars(late_customers.distinct().order_by(Invoice.customer_id)):
        due_on = collection.due_dates(session, customer_id, as_of)
        for invoice in payments.open_invoices(session, customer_id):
            due = due_on.get(invoice.id)
            if due is not None and due < as_of and payments.outstanding(invoice) > 0:
                found.append((invoice, due))
    found.sort(key=lambda row: (row[1], row[0].id))
    return found


def _unpaid_text(invoice: Invoice, due: date, terminate_on: date | None) -> Text:
    """Why the service stops: the unpaid invoice, its amount and due date, and what follows."""
    amount = notices.eur(payments.outstanding(invoice))
    text = Text(
        fr=f"Motif : la facture {invoice.number}, échue le {notices.fr(due)}, reste "
        f"impayée pour {amount.fr}.",
        en=f"Reason: invoice {invoice.number}, due on {notices.en(due)}, is still "
        f"unpaid for {amount.en}.",
    )
    if terminate_on is None:
        return text
    return notices.join(
        text,
        Text(
            fr="Le service sera rétabli dès réception du paiement ; sans paiement, le contrat "
            f"sera résilié le {notices.fr(terminate_on)}.",
            en="The service is restored as soon as the payment is received; without payment, "
            f"the contract will be terminated on {notices.en(terminate_on)}.",
        ),
    )


def _prepaid(session: Session) -> list[str]:
    """BIL-10: a prepaid account with nothing available suspends the customer's contracts."""
    taken: list[str] = []
    for customer in session.scalars(
        select(Customer)
        .join(Wallet, Wallet.customer_id == Customer.id)
        .where(Customer.payment_method == PaymentMethod.PREPAID)
    ):
        if wallets.get_wallet(session, customer.id).available > 0:
            continue
        for contract in session.scalars(
            select(Contract).where(
                Contract.customer_id == customer.id, Contract.status == ContractStatus.ACTIVE
            )
        ):
            lifecycle.suspend(
                session,
                contract,
                cause=SuspensionCause.PREPAID_DEPLETED,
                reason="crédit prépayé épuisé",
                why=Text(
                    fr="Votre crédit prépayé est épuisé : le service reprend dès que votre "
                    "compte est rechargé.",
                    en="Your prepaid credit is used up: the service resumes as soon as your "
                    "account is topped up.",
                ),
            )
            taken.append(f"prepaid_suspension:{contract.reference}")
    return taken


def _prepaid_available(session: Session, customer_id: int) -> Decimal:
    """The prepaid balance available; none when the customer never opened a prepaid account."""
    try:
        return wallets.get_wallet(session, customer_id).available
    except NotFound:
        return Decimal("0")


def _restore_paid(session: Session, as_of: date) -> list[str]:
    """Service comes back once nothing is overdue and a prepaid balance is available again."""
    taken: list[str] = []
    for contract in session.scalars(
        select(Contract).where(Contract.status == ContractStatus.SUSPENDED)
    ):
        blocking = _non_payment(session, contract)
        # a running maintenance window's suspension stays (lifecycle.restore keeps it): the
        # payment lifts the non-payment one now, the window's end brings the service back
        held = lifecycle.held_by_maintenance(session, contract.id)
        others = [
            s
            for s in lifecycle.open_suspensions(session, contract.id)
            if s not in blocking and s.id not in held
        ]
        if not blocking or others:
            continue
        if not terms_of(contract).late_payment.restore_on_payment:
            continue
        due_on = collection.due_dates(session, contract.customer_id, as_of)
        still_overdue = any(
            due_on.get(i.id, i.due_date) < as_of and payments.outstanding(i) > 0
            for i in payments.open_invoices(session, contract.customer_id)
        )
        customer = session.get(Customer, contract.customer_id)
        assert customer is not None
        exhausted = customer.payment_method == PaymentMethod.PREPAID and (
            _prepaid_available(session, customer.id) <= 0
        )
        if still_overdue or exhausted:
            continue
        lifecycle.restore(
            session,
            contract,
            reason="paiement reçu",
            on=as_of,
            why=Text(
                fr="Votre paiement est reçu : plus aucune facture échue ne reste impayée.",
                en="Your payment is received: no invoice past its due date remains unpaid.",
            ),
        )
        taken.append(f"restored:{contract.reference}")
    return taken
