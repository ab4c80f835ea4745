"""What the portal's pages show, read through the contexts' service functions and tables:
a customer's dashboard, alerts and usage; the staff's billing runs, dunning queue and SEPA
batches. Reads only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.billing import collection, invoicing, payments, wallets
from operateur.billing.models import (
    BillingRun,
    DirectDebit,
    DirectDebitStatus,
    Invoice,
    InvoiceKind,
    UsageKind,
    UsageRecord,
    UsageStatus,
)
from operateur.catalog.service import get_offer
from operateur.catalog.terms import LocalizedText
from operateur.contracts import dunning, lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.commitment import Schedule
from operateur.contracts.models import Contract, ContractStatus, Suspension
from operateur.domain.calendar import PARIS, add_months
from operateur.errors import NotFound
from operateur.i18n import Text
from operateur.support import service as support
from operateur.support.models import Ticket, TicketStatus

ZERO = Decimal("0")
NOTICE_WARNING_DAYS = 60  # how early the dashboard recalls a notice deadline (display only)


@dataclass(frozen=True)
class ContractRow:
    contract: Contract
    offer_name: LocalizedText
    schedule: Schedule | None
    suspensions: list[Suspension]


def offer_name(offer_id: str) -> LocalizedText:
    try:
        return get_offer(offer_id).name
    except NotFound:
        return LocalizedText(fr=offer_id, en=offer_id)


def contract_rows(session: Session, customer_id: int, today: date) -> list[ContractRow]:
    return [
        ContractRow(
            contract=c,
            offer_name=offer_name(c.offer_id),
            schedule=contracts.contract_schedule(c, today),
            suspensions=lifecycle.open_suspensions(session, c.id),
        )
        for c in contracts.list_contracts(session, customer_id)
    ]


@dataclass(frozen=True)
class Balance:
    open_invoices: list[Invoice]
    outstanding: Decimal
    overdue: Decimal
    wallet: wallets.WalletView | None
    late_invoices: list[Invoice]  # past the day they are due (brought forward, BIL-06)


def balance(session: Session, customer_id: int, today: date) -> Balance:
    open_rows = payments.open_invoices(session, customer_id)
    outstanding = sum((payments.outstanding(i) for i in open_rows), ZERO)
    due_on = collection.due_dates(session, customer_id, today)  # BIL-06 brought forward
    late = [i for i in open_rows if due_on.get(i.id, i.due_date) < today]
    overdue = sum((payments.outstanding(i) for i in late), ZERO)
    try:
        wallet: wallets.WalletView | None = wallets.get_wallet(session, customer_id)
    except NotFound:
        wallet = None
    return Balance(open_rows, outstanding, overdue, wallet, late)


@dataclass(frozen=True)
class Alert:
    level: str  # "warning" or "info"
    text: Text
    params: dict[str, str]
    link: str | None = None


def alerts(
    session: Session, customer_id: int, rows: list[ContractRow], money: Balance, today: date
) -> list[Alert]:
    """What the customer should act on: suspensions, overdue invoices, notice deadlines,
    answers waiting for them."""
    found: list[Alert] = []
    base = f"/customers/{customer_id}"
    for row in rows:
        for suspension in row.suspensions:
            found.append(
                Alert(
                    "warning",
                    Text(
                        fr="Contrat {reference} suspendu depuis le {since} : {reason}",
                        en="Contract {reference} suspended since {since}: {reason}",
                    ),
                    {
                        "reference": row.contract.reference,
                        "since": suspension.started_at.astimezone(PARIS).date().isoformat(),
                        "reason": suspension.reason,
                    },
                    f"{base}/contracts/{row.contract.id}",
                )
            )
        deadline = row.schedule.notice_deadline if row.schedule else None
        if (
            deadline is not None
            and row.contract.status in (ContractStatus.ACTIVE, ContractStatus.SUSPENDED)
            and today <= deadline <= today + timedelta(days=NOTICE_WARNING_DAYS)
        ):
            found.append(
                Alert(
                    "info",
                    Text(
                        fr="Contrat {reference} : dernier jour pour donner préavis le {deadline}.",
                        en="Contract {reference}: last day to give notice {deadline}.",
                    ),
                    {"reference": row.contract.reference, "deadline": deadline.isoformat()},
                    f"{base}/contracts/{row.contract.id}",
                )
            )
    late = money.late_invoices
    if late:
        found.append(
            Alert(
                "warning",
                Text(
                    fr="{n} facture(s) échue(s) non réglée(s).",
                    en="{n} overdue invoice(s) unpaid.",
                ),
                {"n": str(len(late))},
                f"{base}/invoices",
            )
        )
    waiting = session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.customer_id == customer_id, Ticket.status == TicketStatus.ANSWERED
        )
    )
    if waiting:
        found.append(
            Alert(
                "info",
                Text(
                    fr="{n} ticket(s) d'assistance attendent votre réponse.",
                    en="{n} support ticket(s) wait for your answer.",
                ),
                {"n": str(waiting)},
                f"{base}/tickets",
            )
        )
    return found


# --- usage -----------------------------------------------------------------------------------


@dataclass
class DayUsage:
    day: date
    calls: int = 0
    seconds: int = 0
    sms: int = 0


def daily_usage(session: Session, customer_id: int, first: date, last: date) -> list[DayUsage]:
    """Calls (answered or not), billed minutes and SMS segments per day (Paris time)."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=PARIS)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=PARIS)
    days = {
        first + timedelta(days=n): DayUsage(first + timedelta(days=n))
        for n in range((last - first).days + 1)
    }
    rows = session.execute(
        select(
            UsageRecord.kind,
            UsageRecord.started_at,
            UsageRecord.billed_seconds,
            UsageRecord.sms_segments,
        ).where(
            UsageRecord.customer_id == customer_id,
            UsageRecord.status == UsageStatus.RATED,
            UsageRecord.started_at >= start,
            UsageRecord.started_at < end,
        )
    )
    for kind, started_at, seconds, segments in rows:
        bucket = days.get(started_at.astimezone(PARIS).date())
        if bucket is None:
            continue
        if kind == UsageKind.VOICE:
            bucket.calls += 1
            bucket.seconds += int(seconds or 0)
        else:
            bucket.sms += int(segments or 0) or 1
    return list(days.values())


def monthly_spend(
    session: Session, customer_id: int, today: date, months: int = 12
) -> list[tuple[str, Decimal]]:
    """Invoiced amount excluding VAT per billed month (credit notes deducted)."""
    first = add_months(today.replace(day=1), -(months - 1))
    periods = [add_months(first, n).strftime("%Y-%m") for n in range(months)]
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for kind, period, net in session.execute(
        select(Invoice.kind, Invoice.period, Invoice.total_net).where(
            Invoice.customer_id == customer_id, Invoice.period.in_(periods)
        )
    ):
        if period is not None:
            totals[period] += -net if kind == InvoiceKind.CREDIT_NOTE else net
    return [(p, totals[p]) for p in periods]


# --- staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    run: BillingRun
    issued: int
    total: int | None  # contracts to bill; None once unknown

    @property
    def finished(self) -> bool:
        return self.run.finished_at is not None


def billing_runs(session: Session, operator_id: int | None, limit: int = 24) -> list[RunRow]:
    stmt = select(BillingRun).order_by(BillingRun.id.desc()).limit(limit)
    if operator_id is not None:
        stmt = stmt.where(BillingRun.operator_id == operator_id)
    rows = []
    for run in session.scalars(stmt):
        issued = session.scalar(select(func.count(Invoice.id)).where(Invoice.run_id == run.id))
        if run.finished_at is not None:
            total: int | None = run.invoices_issued + run.contracts_skipped
        else:
            total = len(
                invoicing.billable_contracts(
                    session, run.operator_id, invoicing.parse_period(run.period)
                )
            )
        rows.append(RunRow(run, int(issued or 0), total))
    return rows


@dataclass
class DunningRow:
    invoice: Invoice
    customer: Customer
    contract: Contract
    days_late: int
    outstanding: Decimal
    plan: dunning.DunningPlan
    taken: list[str] = field(default_factory=list)

    @property
    def next_step(self) -> tuple[str, date] | None:
        for name, when in (
            ("reminder", self.plan.reminder_on),
            ("formal_notice", self.plan.formal_notice_on),
            ("suspension", self.plan.suspend_on),
            ("termination", self.plan.terminate_on),
        ):
            if when is not None and name not in self.taken:
                return name, when
        return None


def dunning_queue(session: Session, operator_id: int | None, today: date) -> list[DunningRow]:
    """Overdue invoices still owing money, the oldest due first, with their dated steps (due
    dates brought forward where one late invoice makes every open one due, BIL-06)."""
    rows = []
    for invoice, due in dunning.overdue(session, today, operator_id):
        customer = session.get(Customer, invoice.customer_id)
        contract = session.get(Contract, invoice.contract_id)
        assert customer is not None and contract is not None
        taken = list(
            session.scalars(
                select(dunning.DunningStep.step).where(dunning.DunningStep.invoice_id == invoice.id)
            )
        )
        rows.append(
            DunningRow(
                invoice=invoice,
                customer=customer,
                contract=contract,
                days_late=(today - due).days,
                outstanding=payments.outstanding(invoice),
                plan=dunning.plan(contracts.terms_of(contract), due),
                taken=taken,
            )
        )
    return rows


@dataclass(frozen=True)
class BatchRow:
    batch_id: str
    collection_date: date
    debits: int
    total: Decimal
    rejected: int


def sepa_batches(session: Session, operator_id: int | None) -> list[BatchRow]:
    stmt = select(DirectDebit).join(Customer, Customer.id == DirectDebit.customer_id)
    if operator_id is not None:
        stmt = stmt.where(Customer.operator_id == operator_id)
    grouped: dict[str, list[DirectDebit]] = defaultdict(list)
    for debit in session.scalars(stmt.order_by(DirectDebit.id)):
        grouped[debit.batch_id].append(debit)
    rows = [
        BatchRow(
            batch_id=batch,
            collection_date=debits[0].collection_date,
            debits=len(debits),
            total=sum((d.amount for d in debits), ZERO),
            rejected=sum(1 for d in debits if d.status is DirectDebitStatus.REJECTED),
        )
        for batch, debits in grouped.items()
    ]
    return sorted(rows, key=lambda r: (r.collection_date, r.batch_id), reverse=True)


def open_tickets_count(session: Session, operator_id: int | None) -> int:
    return len(support.queue(session, operator_id))


# --- the mail gateway's status, for the staff ----------------------------------------------


@dataclass(frozen=True)
class GatewayStatus:
    """The last check of each gateway, the unavailable minutes of today and of this month
    (MAIL-06), what waits in the delivery queue and in quarantine, and the last day's
    filtering decisions, for the operator's customers."""

    probes: list[tuple[str, datetime, bool, str]]  # gateway, last minute checked, ok, detail
    down_today: int
    down_month: int
    queue: dict[str, int]  # status -> messages
    held: int
    decisions: dict[str, int]  # filter action over the last 24 hours -> messages


def gateway_status(session: Session, operator_id: int, now: datetime) -> GatewayStatus:
    from operateur.mail import prober
    from operateur.mail.models import (
        FilterLog,
        ProbeResult,
        QuarantinedMessage,
        QuarantineStatus,
        QueuedMessage,
    )

    latest = (
        select(ProbeResult.gateway, func.max(ProbeResult.minute).label("minute"))
        .group_by(ProbeResult.gateway)
        .subquery()
    )
    probes = [
        (row.gateway, row.minute, row.ok, row.detail)
        for row in session.execute(
            select(ProbeResult).join(
                latest,
                (ProbeResult.gateway == latest.c.gateway) & (ProbeResult.minute == latest.c.minute),
            )
        ).scalars()
    ]
    local = now.astimezone(PARIS)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    mine = select(Customer.id).where(Customer.operator_id == operator_id)
    queue = dict(
        session.execute(
            select(QueuedMessage.status, func.count(QueuedMessage.id))
            .where(QueuedMessage.customer_id.in_(mine))
            .group_by(QueuedMessage.status)
        ).all()
    )
    held = session.scalar(
        select(func.count(QuarantinedMessage.id)).where(
            QuarantinedMessage.customer_id.in_(mine),
            QuarantinedMessage.status == QuarantineStatus.HELD,
        )
    )
    decisions = dict(
        session.execute(
            select(FilterLog.action, func.count(FilterLog.id))
            .where(FilterLog.customer_id.in_(mine), FilterLog.at >= now - timedelta(days=1))
            .group_by(FilterLog.action)
        ).all()
    )
    return GatewayStatus(
        probes=sorted(probes),
        down_today=prober.unavailable_minutes(session, day_start, now),
        down_month=prober.unavailable_minutes(session, month_start, now),
        queue={str(getattr(k, "value", k)): int(v) for k, v in queue.items()},
        held=int(held or 0),
        decisions={str(k): int(v) for k, v in decisions.items()},
    )
