"""The billing run: one invoice per contract and period, gapless numbers, French VAT.

What an invoice of period P (``YYYY-MM``, issued on the last day of P) holds, from the terms:

- recurring fees (MRC) — in advance for the coming month (BIL-01), or in arrears for P; the
  first period prorata temporis from the start (BIL-02); annual contracts invoiced for their whole
  period on the last day of its first month (BIL-03 [003 §6.2]). ``SubscriptionCoverage`` keeps
  how far each subscription is billed, so a rerun bills only what is left;
- one-off fees (NRC) on the first invoice after the subscription starts (BIL-17);
- rated usage of P and earlier not yet invoiced, in arrears, with third-party surcharges as their
  own line (BIL-01, BIL-09);
- the shortfall under the minimum monthly commitment as a delta line (BIL-08);
- the surcharge for a payment method other than the default (BIL-05);
- pending charges and credits from other engines (penalties, SLA credits: BIL-16).

Credits never take an invoice below zero: what they leave over is kept as a pending credit of
the contract and deducted from its next invoice, so no credit is lost (``_add_credits``).

Amounts are HT; a price list quoted TTC (BIL-11) is converted with the French standard rate.
``run_period`` owns its transactions (one per chunk of contracts): a crash loses at most the
chunk in progress, a rerun completes the period, and numbers never have gaps because each number
is taken in the same transaction as its invoice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, bindparam, cast, func, select, update
from sqlalchemy import Text as SqlText
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.audit import set_actor
from operateur.accounts.models import AuditEvent, Customer
from operateur.accounts.permissions import Actor, system_actor
from operateur.billing import allowances, bulk, usage_totals
from operateur.billing.models import (
    BillingRun,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    LineSource,
    Payment,
    PendingCharge,
    PeriodUsage,
    SubscriptionCoverage,
    UnlimitedPlanAbuse,
    UsageKind,
)
from operateur.billing.payments import lock_invoice, set_off, settle_status
from operateur.billing.penalties import payment_due_date
from operateur.catalog.terms import (
    BillingTerms,
    BillingTiming,
    ContractTerms,
    PaymentMethod,
    PriceBasis,
    PriceItem,
)
from operateur.contracts import service as contracts
from operateur.contracts.models import (
    Contract,
    ContractStatus,
    Subscription,
    Suspension,
    SuspensionScope,
)
from operateur.db import utcnow
from operateur.domain.calendar import PARIS, add_months, last_day_of_month
from operateur.domain.identifiers import is_eu_member
from operateur.domain.money import round_money
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text
from operateur.logs import event

log = logging.getLogger("operateur.billing")

# CGI art. 278: the French standard VAT rate. Law, not a contract term.
FRENCH_STANDARD_VAT_RATE = Decimal("20.00")
UNIT_PRICE_PLACES = Decimal("0.0001")
BILLABLE_STATUSES = (
    ContractStatus.ACTIVE,
    ContractStatus.SUSPENDED,
    ContractStatus.NOTICE_GIVEN,
    ContractStatus.TERMINATED,
)


# --- VAT --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Buyer:
    """The customer columns an invoice needs, read as a row: a billing run loads thousands."""

    id: int
    operator_id: int
    country: str
    payment_method: PaymentMethod
    lang: str

    @classmethod
    def of(cls, customer: Customer) -> Buyer:
        return cls(
            customer.id,
            customer.operator_id,
            customer.country,
            customer.payment_method,
            customer.lang,
        )


BUYER_COLUMNS = (
    Customer.id.label("customer_id"),
    Customer.operator_id,
    Customer.country,
    Customer.payment_method,
    Customer.lang,
)


@dataclass(frozen=True)
class VatTreatment:
    category: str  # EN 16931 VAT category: S standard, AE reverse charge, E exempt
    rate: Decimal
    reverse_charge: bool
    exemption_reason: str | None = None


def vat_treatment(customer: Customer | Buyer) -> VatTreatment:
    """French customers pay French VAT; EU businesses self-assess it (reverse charge, CGI
    art. 283-2 and directive 2006/112/CE art. 196); services to businesses outside the EU are
    not subject to French VAT (CGI art. 259-1)."""
    if customer.country == "FR":
        return VatTreatment("S", FRENCH_STANDARD_VAT_RATE, reverse_charge=False)
    if is_eu_member(customer.country):
        return VatTreatment("AE", Decimal("0"), reverse_charge=True)
    return VatTreatment(
        "E",
        Decimal("0"),
        reverse_charge=False,
        exemption_reason="TVA non applicable, article 259-1 du CGI",
    )


def invoice_vat(invoice: Invoice) -> VatTreatment:
    """The VAT treatment an issued invoice was made with (one per invoice): what a credit note
    correcting it must use, whatever the customer's treatment is today — a penalty invoice,
    outside the scope of VAT, is credited without VAT."""
    first = invoice.lines[0] if invoice.lines else None
    if first is None:
        return VatTreatment("S", FRENCH_STANDARD_VAT_RATE, reverse_charge=False)
    return VatTreatment(
        first.vat_category,
        first.vat_rate,
        reverse_charge=invoice.reverse_charge,
        exemption_reason=invoice.vat_exemption_reason,
    )


def vat_amount(net: Decimal, rate: Decimal) -> Decimal:
    return round_money(net * rate / 100)


def price_excl_vat(price: Decimal, basis: PriceBasis) -> Decimal:
    """A price-list price without VAT (BIL-11): TTC prices lose the French standard rate."""
    if basis is PriceBasis.INCL_VAT:
        return price * 100 / (100 + FRENCH_STANDARD_VAT_RATE)
    return price


# --- periods ----------------------------------------------------------------------------------


def parse_period(period: str) -> date:
    """The first day of a ``YYYY-MM`` period."""
    try:
        year, month = (int(part) for part in period.split("-"))
        return date(year, month, 1)
    except ValueError as error:
        raise InvalidInput(
            Text(
                fr="Période invalide « {period} » : attendu AAAA-MM.",
                en="Invalid period '{period}': expected YYYY-MM.",
            ),
            field="period",
            details={"period": period},
        ) from error


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def issue_date_of(period_start: date) -> date:
    """BIL-03: invoices are issued on the last day of the month; an annual contract's invoice
    is issued on the last day of the first month of its period, the month whose run bills it
    (see ``_recurring_spans``)."""
    return last_day_of_month(period_start)


def due_date_of(terms: BillingTerms, issue: date) -> date:
    """BIL-04: invoices are e-mailed on their issue date (BIL-12), so a term counted from
    receipt starts on the issue date too."""
    return payment_due_date(terms, issue_date=issue, received_date=issue)


# --- drafting lines ---------------------------------------------------------------------------


@dataclass
class DraftLine:
    source: LineSource
    code: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net_amount: Decimal
    covers: tuple[date, date] | None = None  # [start, end) of a recurring fee


@dataclass(frozen=True)
class CarriedCredit:
    """The part of a credit an invoice could not take (an invoice never turns negative): it is
    kept as a pending credit, deducted from the next invoice of the contract (BIL-16)."""

    key: str  # the idempotency key of the pending charge that carries it
    source: LineSource
    code: str
    description: str
    amount: Decimal  # HT, negative


@dataclass
class Draft:
    lines: list[DraftLine] = field(default_factory=list)
    coverage: dict[int, date] = field(default_factory=dict)  # subscription id -> billed until
    nrc_subscriptions: list[int] = field(default_factory=list)
    usage_totals: list[int] = field(default_factory=list)  # PeriodUsage ids billed here
    charges: list[PendingCharge] = field(default_factory=list)  # used by this invoice
    carried: list[CarriedCredit] = field(default_factory=list)

    @property
    def total_net(self) -> Decimal:
        return sum((line.net_amount for line in self.lines), Decimal("0"))


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """The subscription columns an invoice reads, as a row: a billing run reads thousands,
    and needs neither ORM identity nor change tracking for them."""

    id: int
    contract_id: int
    item_code: str
    label: str
    quantity: int
    unit_price_nrc: Decimal
    unit_price_mrc: Decimal
    start_date: date | None
    end_date: date | None


SUBSCRIPTION_COLUMNS = (  # in the order of ``SubscriptionRow``'s fields
    Subscription.id,
    Subscription.contract_id,
    Subscription.item_code,
    Subscription.label,
    Subscription.quantity,
    Subscription.unit_price_nrc,
    Subscription.unit_price_mrc,
    Subscription.start_date,
    Subscription.end_date,
)


@dataclass(frozen=True, slots=True)
class Coverage:
    """How far a subscription is billed (``SubscriptionCoverage``), read as a row."""

    billed_until: date | None
    nrc_invoice_id: int | None


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _recurring_spans(
    sub: SubscriptionRow, billed_until: date | None, terms: BillingTerms, period_start: date
) -> tuple[tuple[date, date, Decimal], ...]:
    """The spans [start, end) of ``sub`` this period's invoice bills, each with the fraction of
    a full billing period it represents."""
    if sub.start_date is None:
        return ()
    return _spans(
        sub.start_date,
        sub.end_date,
        billed_until,
        terms.subscription_period_months,
        terms.subscriptions_billed is BillingTiming.IN_ADVANCE,
        terms.first_period_prorata,
        period_start,
    )


@lru_cache(maxsize=4096)
def _spans(
    start_date: date,
    end_date: date | None,
    billed_until: date | None,
    months: int,
    in_advance: bool,
    first_period_prorata: bool,
    period_start: date,
) -> tuple[tuple[date, date, Decimal], ...]:
    """``_recurring_spans`` on plain values, memoized: a run's subscriptions share a few start
    dates, so the calendar arithmetic is done once per distinct case."""
    next_period = add_months(period_start, 1)
    stop = end_date + timedelta(days=1) if end_date else None
    cursor = billed_until or start_date
    spans: list[tuple[date, date, Decimal]] = []
    while True:
        if months == 1:
            slot_start = cursor.replace(day=1)
            slot_end = add_months(slot_start, 1)
        else:  # periods anchored on the subscription's start (contract anniversaries)
            k = 0
            while add_months(start_date, months * (k + 1)) <= cursor:
                k += 1
            slot_start = add_months(start_date, months * k)
            slot_end = add_months(slot_start, months)
        if in_advance:
            # monthly: the invoice of P bills through the end of P+1; annual: the period whose
            # first month is P (or earlier) is billed whole
            limit = add_months(next_period, 1) if months == 1 else next_period
            if slot_start >= limit:
                break
        elif slot_end > next_period:  # in arrears: only periods over by the end of P
            break
        end = slot_end if stop is None else min(slot_end, stop)
        if end <= cursor:
            break
        full = (slot_end - slot_start).days
        used = (end - cursor).days
        prorata = used != full and (first_period_prorata or stop is not None)
        fraction = Decimal(used) / Decimal(full) if prorata else Decimal(1)
        spans.append((cursor, end, fraction))
        cursor = end
        if stop is not None and cursor >= stop:
            break
    return tuple(spans)


@lru_cache(maxsize=4096)
def _span_text(start: date, end: date) -> str:
    """`` — 01/01/2026 – 31/01/2026`` for the span [start, end)."""
    return f" — {_fmt(start)} – {_fmt(end - timedelta(days=1))}"


def recurring_lines(
    sub: SubscriptionRow, billed_until: date | None, terms: BillingTerms, period_start: date
) -> tuple[list[DraftLine], date | None]:
    """MRC lines of one subscription for this period, and how far it is then billed."""
    if sub.unit_price_mrc == 0:
        return [], billed_until
    months = terms.subscription_period_months
    lines: list[DraftLine] = []
    new_until = billed_until
    monthly = price_excl_vat(sub.unit_price_mrc, terms.price_basis)
    for start, end, fraction in _recurring_spans(sub, billed_until, terms, period_start):
        unit_price = (monthly * months * fraction).quantize(UNIT_PRICE_PLACES, ROUND_HALF_UP)
        quantity = Decimal(sub.quantity)
        lines.append(
            DraftLine(
                source=LineSource.SUBSCRIPTION,
                code=sub.item_code,
                description=sub.label + _span_text(start, end),
                quantity=quantity,
                unit="MON" if months == 1 else "ANN",
                unit_price=unit_price,
                net_amount=round_money(quantity * unit_price),
                covers=(start, end),
            )
        )
        new_until = end
    return lines, new_until


def one_off_line(sub: SubscriptionRow, terms: BillingTerms) -> DraftLine:
    unit_price = price_excl_vat(sub.unit_price_nrc, terms.price_basis).quantize(
        UNIT_PRICE_PLACES, ROUND_HALF_UP
    )
    quantity = Decimal(sub.quantity)
    return DraftLine(
        source=LineSource.ONE_OFF,
        code=sub.item_code,
        description=sub.label,
        quantity=quantity,
        unit="C62",
        unit_price=unit_price,
        net_amount=round_money(quantity * unit_price),
    )


@dataclass(frozen=True)
class UsageTotal:
    """Rated, not yet invoiced usage of a contract for one kind and destination."""

    kind: str
    destination: str | None
    prefix: str | None
    count: int
    seconds: int
    segments: int
    cost: Decimal
    surcharge: Decimal


def _usage_lines(usage: list[UsageTotal], basis: PriceBasis) -> list[DraftLine]:
    """One line per destination (BIL-09), third-party surcharges on a line of their own."""
    merged: dict[tuple[str, str | None], UsageTotal] = {}
    for total in usage:
        key = (total.kind, total.destination)
        seen = merged.get(key)
        merged[key] = (
            total
            if seen is None
            else UsageTotal(
                total.kind,
                total.destination,
                None,
                seen.count + total.count,
                seen.seconds + total.seconds,
                seen.segments + total.segments,
                seen.cost + total.cost,
                seen.surcharge + total.surcharge,
            )
        )
    lines: list[DraftLine] = []
    surcharges = Decimal("0")
    for total in merged.values():
        surcharges += total.surcharge
        net = round_money(price_excl_vat(total.cost, basis))
        where = total.destination or ""
        if total.kind == UsageKind.SMS:
            text = f"SMS {where} — {total.count} messages, {total.segments} segments"
        else:
            minutes = (Decimal(total.seconds) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)
            text = f"Communications {where} — {total.count} appels, {minutes} min"
        lines.append(
            DraftLine(
                LineSource.USAGE, f"usage.{total.kind}", text.strip(), Decimal(1), "C62", net, net
            )
        )
    if surcharges:
        net = round_money(price_excl_vat(surcharges, basis))
        lines.append(
            DraftLine(
                LineSource.SURCHARGE,
                "usage.surcharge",
                "Surtaxes des services tiers (reversées)",
                Decimal(1),
                "C62",
                net,
                net,
            )
        )
    return lines


def _minimum_shortfall(terms: BillingTerms, draft: Draft, period_start: date) -> DraftLine | None:
    """BIL-08: the month's recurring fees and usage under the minimum give a delta line."""
    minimum = terms.minimum_monthly_commitment
    if minimum is None:
        return None
    period_end = add_months(period_start, 1)
    spent = sum(
        (
            line.net_amount
            for line in draft.lines
            if line.source is LineSource.USAGE
            or (line.covers and line.covers[0] < period_end and line.covers[1] > period_start)
        ),
        Decimal("0"),
    )
    shortfall = round_money(minimum - spent)
    if shortfall <= 0:
        return None
    return DraftLine(
        LineSource.MINIMUM_SHORTFALL,
        "minimum_commitment",
        f"Complément au minimum de facturation mensuel ({minimum} € HT)",
        Decimal(1),
        "C62",
        shortfall,
        shortfall,
    )


@dataclass
class ContractInputs:
    """What drafting one contract's invoice reads, loaded in bulk for a chunk of contracts."""

    contract_id: int
    reference: str  # the contract's
    customer: Buyer
    terms: ContractTerms
    prices: dict[str, PriceItem]  # by code
    subscriptions: list[SubscriptionRow] = field(default_factory=list)
    coverage: dict[int, Coverage] = field(default_factory=dict)  # by subscription id
    usage: list[UsageTotal] = field(default_factory=list)
    usage_totals: list[int] = field(default_factory=list)  # the PeriodUsage rows read
    charges: list[PendingCharge] = field(default_factory=list)
    abuse: UnlimitedPlanAbuse | None = None  # BIL-15 for this period (its fee per line)
    # BIL-15 the unlimited plans are void: abused this period, or in an earlier one when the
    # terms allow no return to the flat rate (``unlimited_void_is_final``)
    unlimited_void: bool = False
    # CTR-06/BIL-06 [start, end) of the whole suspensions, read only when the terms stop
    # billing during a suspension (end None: still suspended)
    suspended: list[tuple[date, date | None]] = field(default_factory=list)
    # the suspension credits of this period were already carried forward by an earlier run
    # that issued no invoice (they are among ``charges`` until an invoice takes them)
    suspension_carried: bool = False


def suspension_carry_key(contract_id: int, period: str) -> str:
    return f"carry:suspension:{contract_id}:{period}"


def draft_invoice(inputs: ContractInputs, period_start: date) -> Draft:
    """Everything the invoice of this contract for this period should hold (pure)."""
    billing = inputs.terms.billing
    draft = Draft()
    period_end, horizon = _next_months(period_start)
    suspension: list[DraftLine] = []
    for sub in inputs.subscriptions:
        if sub.start_date is None or sub.start_date >= horizon:
            continue
        row = inputs.coverage.get(sub.id)
        nrc_due = sub.start_date < period_end or billing.setup_fees_due_at_order
        if sub.unit_price_nrc and (row is None or row.nrc_invoice_id is None) and nrc_due:
            draft.lines.append(one_off_line(sub, billing))
            draft.nrc_subscriptions.append(sub.id)
        lines, until = recurring_lines(
            sub, row.billed_until if row else None, billing, period_start
        )
        if lines and until is not None:
            draft.lines.extend(lines)
            draft.coverage[sub.id] = until
        if inputs.suspended and until is not None and not inputs.suspension_carried:
            suspension.extend(
                suspension_credits(sub, until, billing, period_start, inputs.suspended)
            )
    draft.usage_totals = inputs.usage_totals
    # prepaid accounts already paid their usage from the wallet, call by call (BIL-10)
    prepaid = inputs.customer.payment_method == PaymentMethod.PREPAID
    if billing.usage_billed is not None and not prepaid:
        draft.lines.extend(_usage_lines(inputs.usage, billing.price_basis))
        draft.lines.extend(_allowance_lines(inputs, period_start))
    shortfall = _minimum_shortfall(billing, draft, period_start)
    if shortfall is not None:
        draft.lines.append(shortfall)
    if (
        billing.non_default_method_surcharge
        and inputs.customer.payment_method != billing.default_payment_method
        and draft.lines
    ):
        fee = billing.non_default_method_surcharge
        draft.lines.append(
            DraftLine(
                LineSource.PAYMENT_METHOD_SURCHARGE,
                "payment_method_surcharge",
                "Frais de gestion — paiement hors prélèvement SEPA",
                Decimal(1),
                "C62",
                fee,
                fee,
            )
        )
    credits: list[tuple[DraftLine, PendingCharge | None]] = []
    for charge in inputs.charges:
        line = DraftLine(
            charge.source,
            charge.code,
            charge.description,
            Decimal(1),
            "C62",
            charge.amount,
            charge.amount,
        )
        if charge.amount < 0:
            credits.append((line, charge))
        else:
            draft.lines.append(line)
            draft.charges.append(charge)
    credits.extend((line, None) for line in suspension)
    _add_credits(draft, credits, inputs.contract_id, period_of(period_start))
    return draft


def _add_credits(
    draft: Draft,
    credits: list[tuple[DraftLine, PendingCharge | None]],
    contract_id: int,
    period: str,
) -> None:
    """Deduct the credits — pending ones from other engines first (BIL-16), then this period's
    suspension credits (CTR-06/BIL-06) — never beyond the invoice's total: an invoice does not
    turn negative. What does not fit is carried to the next invoice of the contract, to the
    cent: the rest of a pending credit partly used, and the suspension credits left over. A
    pending credit nothing of which fits stays pending as it is."""
    room = max(draft.total_net, Decimal("0"))
    suspension_left = Decimal("0")
    for line, charge in credits:
        wanted = -line.net_amount
        applied = min(wanted, room)
        room -= applied
        if applied == wanted:
            draft.lines.append(line)
        elif applied > 0:
            draft.lines.append(
                DraftLine(
                    line.source,
                    line.code,
                    f"{line.description} (part imputée, reliquat reporté)"[:300],
                    Decimal(-1),
                    "C62",
                    applied,
                    -applied,
                )
            )
        left = wanted - applied
        if charge is None:
            suspension_left += left
        elif applied > 0:
            draft.charges.append(charge)
            if left:
                draft.carried.append(
                    CarriedCredit(
                        f"carry:charge:{charge.id}",
                        charge.source,
                        charge.code,
                        f"Reliquat reporté — {charge.description}"[:300],
                        -left,
                    )
                )
    if suspension_left:
        draft.carried.append(
            CarriedCredit(
                suspension_carry_key(contract_id, period),
                LineSource.CREDIT,
                "suspension",
                f"Suspension — reliquat du crédit de {period} reporté",
                -suspension_left,
            )
        )


def _slot(sub: SubscriptionRow, day: date, months: int) -> tuple[date, date]:
    """The billing period [start, end) holding ``day``: the calendar month, or the contract
    year anchored on the subscription's start (as in ``_recurring_spans``)."""
    if months == 1:
        start = day.replace(day=1)
        return start, add_months(start, 1)
    assert sub.start_date is not None
    k = 0
    while add_months(sub.start_date, months * (k + 1)) <= day:
        k += 1
    start = add_months(sub.start_date, months * k)
    return start, add_months(start, months)


def suspension_credits(
    sub: SubscriptionRow,
    billed_until: date,
    terms: BillingTerms,
    period_start: date,
    suspended: list[tuple[date, date | None]],
) -> list[DraftLine]:
    """CTR-06/BIL-06 where the terms stop billing during a suspension: the days of this period
    the subscription was wholly suspended, already billed (in advance) or billed by this
    invoice, are credited prorata by days of their billing period, as BIL-02 prorates."""
    if sub.unit_price_mrc == 0 or sub.start_date is None:
        return []
    months = terms.subscription_period_months
    monthly = price_excl_vat(sub.unit_price_mrc, terms.price_basis)
    period_end = add_months(period_start, 1)
    stop = sub.end_date + timedelta(days=1) if sub.end_date else period_end
    lines: list[DraftLine] = []
    for first, after in suspended:
        cursor = max(first, period_start, sub.start_date)
        end = min(after or period_end, period_end, stop, billed_until)
        while cursor < end:
            slot_start, slot_end = _slot(sub, cursor, months)
            upto = min(end, slot_end)
            fraction = Decimal((upto - cursor).days) / Decimal((slot_end - slot_start).days)
            unit_price = (monthly * months * fraction).quantize(UNIT_PRICE_PLACES, ROUND_HALF_UP)
            quantity = Decimal(-sub.quantity)
            lines.append(
                DraftLine(
                    source=LineSource.CREDIT,
                    code=sub.item_code,
                    description=f"Suspension — {sub.label} non facturé du {_fmt(cursor)} au "
                    f"{_fmt(upto - timedelta(days=1))}",
                    quantity=quantity,
                    unit="MON" if months == 1 else "ANN",
                    unit_price=unit_price,
                    net_amount=round_money(quantity * unit_price),
                )
            )
            cursor = upto
    return lines


def _suspended_days(rows: Iterable[Any]) -> dict[int, list[tuple[date, date | None]]]:
    """Whole suspensions per contract, overlapping ones merged, as [start, end) day spans."""
    spans: dict[int, list[tuple[date, date | None]]] = {}
    for contract_id, starts_on, lifted_on, started_at, lifted_at in rows:
        start = starts_on or started_at.astimezone(PARIS).date()
        end = lifted_on or (lifted_at.astimezone(PARIS).date() if lifted_at else None)
        spans.setdefault(contract_id, []).append((start, end))
    merged: dict[int, list[tuple[date, date | None]]] = {}
    for contract_id, items in spans.items():
        items.sort(key=lambda span: span[0])
        out: list[tuple[date, date | None]] = []
        for start, end in items:
            if out and (out[-1][1] is None or start <= out[-1][1]):
                last_start, last_end = out[-1]
                joined = None if end is None or last_end is None else max(end, last_end)
                out[-1] = (last_start, joined)
            elif end is None or end > start:
                out.append((start, end))
        merged[contract_id] = out
    return merged


def _allowance_lines(inputs: ContractInputs, period_start: date) -> list[DraftLine]:
    """The deduction of calls included in the plans, and the BIL-15 fee when an unlimited
    plan was abused this period (its usage then stays at metered prices)."""
    prices = inputs.prices
    basis = inputs.terms.billing.price_basis
    lines: list[DraftLine] = []
    voided = inputs.unlimited_void
    if not voided and not _includes_calls(prices):
        return lines  # no plan includes anything and nothing was abused
    for pool in allowances.pools(inputs.subscriptions, prices, period_start):
        covered = [u for u in inputs.usage if u.kind == UsageKind.VOICE and pool.covers(u.prefix)]
        included = allowances.included_cost(
            pool,
            sum(u.seconds for u in covered),
            sum((u.cost for u in covered), Decimal("0")),
            unlimited_void=voided,
        )
        net = round_money(price_excl_vat(included, basis))
        if net > 0:
            lines.append(
                DraftLine(
                    LineSource.ALLOWANCE,
                    "allowance",
                    "Communications incluses dans les forfaits",
                    Decimal(-1),
                    "C62",
                    net,
                    -net,
                )
            )
    fee = inputs.terms.billing.unlimited_abuse_fee_per_line
    if inputs.abuse is not None and fee:
        lines.append(
            DraftLine(
                LineSource.PENALTY,
                "unlimited_abuse",
                f"Usage abusif d'un forfait illimité ({inputs.abuse.lines} ligne(s))",
                Decimal(inputs.abuse.lines),
                "C62",
                fee,
                round_money(fee * inputs.abuse.lines),
            )
        )
    return lines


def _among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` with the values as one parameter (``bulk.among``)."""
    return bulk.among(session.get_bind().dialect.name, column, values)


@lru_cache(maxsize=256)
def _parsed_terms(text: str) -> ContractTerms:
    """Frozen contract terms from their JSON text, parsed once per distinct text: thousands
    of contracts share a handful (read-only, as every ``ContractTerms`` here)."""
    return ContractTerms.model_validate(json.loads(text))


class PriceList(dict[str, PriceItem]):
    """A frozen price list by code, shared by the contracts whose lists have the same text,
    with what a run asks of it for every contract worked out once."""

    def __init__(self, items: Iterable[PriceItem]) -> None:
        super().__init__((item.code, item) for item in items)
        self.includes_calls = any(item.allowance is not None for item in self.values())


@lru_cache(maxsize=256)
def _parsed_prices(text: str) -> PriceList:
    """A frozen price list from its JSON text, by code, parsed once per distinct text."""
    items = (PriceItem.model_validate(item) for item in json.loads(text))
    return PriceList(items)


def _includes_calls(prices: dict[str, PriceItem]) -> bool:
    """Whether an item of the price list includes calls (an allowance); known once per
    distinct text for the lists ``_parsed_prices`` shares."""
    if isinstance(prices, PriceList):
        return prices.includes_calls
    return any(item.allowance is not None for item in prices.values())


def load_inputs(
    session: Session, contract_ids: list[int], period_start: date
) -> list[ContractInputs]:
    """The inputs of the contracts not yet invoiced for the period, in a handful of queries."""
    period = period_of(period_start)
    # The period invoice of each contract, probed by its unique key (contract, period, kind,
    # purpose) as a scalar subquery: PostgreSQL runs it once per contract, where an EXISTS or
    # a join is planned as a scan of the period's invoices tested against every contract —
    # chosen while the table's statistics still say it is nearly empty, as they do during a
    # run that adds thousands of invoices (seen: 30 to 80 ms a chunk, growing with the run).
    invoiced = (
        select(Invoice.id)
        .where(
            Invoice.contract_id == Contract.id,
            Invoice.period == period,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.purpose == "period",
        )
        .limit(1)
        .scalar_subquery()
    )
    # frozen terms and price lists are read as JSON text, parsed once per distinct text
    inputs: dict[int, ContractInputs] = {}
    rows = session.execute(
        select(
            Contract.id,
            Contract.reference,
            cast(Contract.terms, SqlText),
            cast(Contract.prices, SqlText),
            *BUYER_COLUMNS,
        )
        .join(Customer, Customer.id == Contract.customer_id)
        .where(_among(session, Contract.id, contract_ids), invoiced.is_(None))
        .order_by(Contract.id)
    ).all()
    for row in rows:
        contract_id, reference, terms_json, prices_json = row[:4]
        customer = Buyer(
            row.customer_id, row.operator_id, row.country, row.payment_method, row.lang
        )
        terms, prices = _parsed_terms(terms_json), _parsed_prices(prices_json)
        inputs[contract_id] = ContractInputs(contract_id, reference, customer, terms, prices)
    if not inputs:
        return []
    ids = list(inputs)
    for columns in session.execute(
        select(*SUBSCRIPTION_COLUMNS)
        .where(_among(session, Subscription.contract_id, ids))
        .order_by(Subscription.id)
    ):
        sub = SubscriptionRow(*columns)
        inputs[sub.contract_id].subscriptions.append(sub)
    for sub_id, owner, billed_until, nrc_invoice_id in session.execute(
        select(
            SubscriptionCoverage.subscription_id,
            Subscription.contract_id,
            SubscriptionCoverage.billed_until,
            SubscriptionCoverage.nrc_invoice_id,
        )
        .join(Subscription, Subscription.id == SubscriptionCoverage.subscription_id)
        .where(_among(session, Subscription.contract_id, ids))
    ):
        inputs[owner].coverage[sub_id] = Coverage(billed_until, nrc_invoice_id)
    totals = (
        select(
            PeriodUsage.id,
            PeriodUsage.contract_id,
            PeriodUsage.kind,
            PeriodUsage.destination,
            PeriodUsage.prefix,
            PeriodUsage.calls,
            PeriodUsage.billed_seconds,
            PeriodUsage.sms_segments,
            PeriodUsage.cost,
            PeriodUsage.surcharge,
        )
        .where(
            _among(session, PeriodUsage.contract_id, ids),
            PeriodUsage.invoice_id.is_(None),
            PeriodUsage.period <= period,
        )
        .order_by(
            PeriodUsage.contract_id,
            PeriodUsage.kind,
            PeriodUsage.destination,
            PeriodUsage.prefix,
            PeriodUsage.period,
        )
        .with_for_update()  # usage stored meanwhile waits, then opens new totals
    )
    for total_id, contract_id, kind, destination, prefix, *sums in session.execute(totals):
        calls, seconds, segments, cost, surcharge = sums
        inputs[contract_id].usage_totals.append(total_id)
        inputs[contract_id].usage.append(
            UsageTotal(
                str(kind),
                destination or None,
                prefix or None,
                calls,
                seconds,
                segments,
                cost,
                surcharge,
            )  # fmt: skip
        )
    for charge in session.scalars(
        select(PendingCharge)
        .where(_among(session, PendingCharge.contract_id, ids), PendingCharge.invoice_id.is_(None))
        .order_by(PendingCharge.id)
    ):
        inputs[charge.contract_id].charges.append(charge)
    for abuse in session.scalars(
        select(UnlimitedPlanAbuse).where(
            _among(session, UnlimitedPlanAbuse.contract_id, ids),
            UnlimitedPlanAbuse.period <= period,  # "YYYY-MM" strings sort as the months
        )
    ):
        found = inputs[abuse.contract_id]
        if abuse.period == period:
            found.abuse = abuse
            found.unlimited_void = True
        elif found.terms.billing.unlimited_void_is_final:
            found.unlimited_void = True
    # CTR-06/BIL-06: one query for the contracts whose terms stop billing while suspended
    stopping = [i for i, c in inputs.items() if not c.terms.suspension.billing_continues]
    if stopping:
        suspensions = session.execute(
            select(
                Suspension.contract_id,
                Suspension.starts_on,
                Suspension.lifted_on,
                Suspension.started_at,
                Suspension.lifted_at,
            ).where(
                _among(session, Suspension.contract_id, stopping),
                Suspension.scope == SuspensionScope.FULL,
            )
        )
        for contract_id, spans in _suspended_days(suspensions).items():
            inputs[contract_id].suspended = spans
        carry_keys = {suspension_carry_key(i, period): i for i in stopping}
        for key in session.scalars(
            select(PendingCharge.idempotency_key).where(
                _among(session, PendingCharge.idempotency_key, carry_keys)
            )
        ):
            inputs[carry_keys[key]].suspension_carried = True
    return list(inputs.values())


# --- numbering --------------------------------------------------------------------------------


def take_invoice_numbers(session: Session, operator_id: int, year: int, count: int) -> list[str]:
    """Take the next ``count`` numbers of the operator's yearly sequence, holding its row lock
    until the transaction ends: numbers are unique, chronological and gapless, even with
    concurrent runs (a rolled-back transaction gives its numbers back)."""
    values = {"operator_id": operator_id, "year": year, "last_value": 0}
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(InvoiceSequence).values(values)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["operator_id", "year"]))
    sequence = session.scalars(
        select(InvoiceSequence)
        .where(InvoiceSequence.operator_id == operator_id, InvoiceSequence.year == year)
        .with_for_update()
    ).one()
    first = sequence.last_value + 1
    sequence.last_value += count
    return [f"F{year}-{n:06d}" for n in range(first, first + count)]


# --- issuing ----------------------------------------------------------------------------------


def _invoice_row(
    *,
    number: str,
    contract_id: int,
    customer: Customer | Buyer,
    draft: Draft,
    kind: InvoiceKind,
    purpose: str,
    period_start: date | None,
    issue_date: date,
    due_date: date,
    run_id: int | None,
    preceding_invoice_id: int | None,
    vat: VatTreatment,
) -> dict[str, Any]:
    """The columns of one invoice (or credit note) drafted for a contract."""
    total_net = draft.total_net
    total_vat = vat_amount(total_net, vat.rate)
    return {
        "operator_id": customer.operator_id,
        "customer_id": customer.id,
        "contract_id": contract_id,
        "run_id": run_id,
        "number": number,
        "kind": kind,
        "purpose": purpose,
        "period": period_of(period_start) if period_start else None,
        "status": InvoiceStatus.ISSUED,
        "issue_date": issue_date,
        "due_date": due_date,
        "received_date": issue_date,
        "period_start": period_start,
        "period_end": _last_day(period_start) if period_start else None,
        "reverse_charge": vat.reverse_charge,
        "vat_exemption_reason": vat.exemption_reason,
        "total_net": total_net,
        "total_vat": total_vat,
        "total_gross": total_net + total_vat,
        "amount_paid": Decimal("0"),
        "amount_disputed": Decimal("0"),
        "amount_credited": Decimal("0"),
        "preceding_invoice_id": preceding_invoice_id,
        "lang": customer.lang,
        "created_at": utcnow(),
    }


@lru_cache(maxsize=64)
def _next_months(period_start: date) -> tuple[date, date]:
    """The first days of the two months after ``period_start``'s (asked once per contract)."""
    period_end = add_months(period_start, 1)
    return period_end, add_months(period_end, 1)


@lru_cache(maxsize=64)
def _last_day(period_start: date) -> date:
    return last_day_of_month(period_start)  # a run asks 10,000 times for the same month


def _line_rows(draft: Draft, vat: VatTreatment) -> list[dict[str, Any]]:
    return [
        {
            "position": position,
            "source": line.source,
            "code": line.code,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "vat_rate": vat.rate,
            "vat_category": vat.category,
            "net_amount": line.net_amount,
        }
        for position, line in enumerate(draft.lines, start=1)
    ]


def issue(
    session: Session,
    *,
    contract: Contract,
    customer: Customer | Buyer,
    draft: Draft,
    kind: InvoiceKind,
    purpose: str,
    period_start: date | None,
    issue_date: date,
    due_date: date,
    run_id: int | None = None,
    preceding_invoice_id: int | None = None,
    vat: VatTreatment | None = None,
) -> Invoice:
    """Write one invoice (or credit note) from a draft, with its number, lines and totals."""
    vat = vat or vat_treatment(customer)
    [number] = take_invoice_numbers(session, customer.operator_id, issue_date.year, 1)
    invoice = Invoice(
        **_invoice_row(
            number=number,
            contract_id=contract.id,
            customer=customer,
            draft=draft,
            kind=kind,
            purpose=purpose,
            period_start=period_start,
            issue_date=issue_date,
            due_date=due_date,
            run_id=run_id,
            preceding_invoice_id=preceding_invoice_id,
            vat=vat,
        ),
        lines=[InvoiceLine(**row) for row in _line_rows(draft, vat)],
    )
    session.add(invoice)
    session.flush()
    _record_billed(session, [(invoice.id, draft)])
    usage_totals.close(session, dict.fromkeys(draft.usage_totals, invoice.id))
    session.flush()
    return invoice


def _record_billed(session: Session, issued: list[tuple[int, Draft]]) -> None:
    """Remember what each invoice billed: how far each subscription is billed, its one-off
    fee and the pending charges used (the caller closes the usage totals)."""
    subs = {sub_id for _, d in issued for sub_id in set(d.coverage) | set(d.nrc_subscriptions)}
    existing: dict[int, tuple[date | None, int | None]] = {}
    if subs:
        existing = {
            sub_id: (until, nrc)
            for sub_id, until, nrc in session.execute(
                select(
                    SubscriptionCoverage.subscription_id,
                    SubscriptionCoverage.billed_until,
                    SubscriptionCoverage.nrc_invoice_id,
                ).where(_among(session, SubscriptionCoverage.subscription_id, subs))
            )
        }
    coverage: list[dict[str, Any]] = []
    for invoice_id, draft in issued:
        for sub_id in set(draft.coverage) | set(draft.nrc_subscriptions):
            until, nrc = existing.get(sub_id, (None, None))
            coverage.append(
                {
                    "subscription_id": sub_id,
                    "billed_until": draft.coverage.get(sub_id, until),
                    "nrc_invoice_id": invoice_id if sub_id in draft.nrc_subscriptions else nrc,
                }
            )
        for charge in draft.charges:
            charge.invoice_id = invoice_id
    if coverage:
        _upsert_coverage(session, coverage)
    session.flush()


COVERAGE_COLUMNS = ("subscription_id", "billed_until", "nrc_invoice_id")


def _upsert_coverage(session: Session, coverage: list[dict[str, Any]]) -> None:
    """Insert or update the coverage rows (one per subscription) in one statement: on
    PostgreSQL an ``INSERT … SELECT FROM unnest(arrays)`` with three array parameters rather
    than one parameter set per row; elsewhere an ``executemany``."""
    updated = COVERAGE_COLUMNS[1:]  # a subscription's row takes the new values
    if session.get_bind().dialect.name != "postgresql":
        lite = sqlite_insert(SubscriptionCoverage)
        update_ = {name: lite.excluded[name] for name in updated}
        session.connection().execute(
            lite.on_conflict_do_update(index_elements=["subscription_id"], set_=update_),
            coverage,
        )
        return
    arrays: tuple[ARRAY[Any], ...] = (ARRAY(Integer()), ARRAY(Date()), ARRAY(Integer()))
    values = (
        func.unnest(
            *(
                bindparam(None, [row[name] for row in coverage], type_=array)
                for name, array in zip(COVERAGE_COLUMNS, arrays, strict=True)
            )
        )
        .table_valued(*COVERAGE_COLUMNS)
        .render_derived()
    )
    stmt = pg_insert(SubscriptionCoverage).from_select(
        list(COVERAGE_COLUMNS), select(*(values.c[name] for name in COVERAGE_COLUMNS))
    )
    update_ = {name: stmt.excluded[name] for name in updated}
    session.connection().execute(
        stmt.on_conflict_do_update(index_elements=["subscription_id"], set_=update_)
    )


def _close_period_usage(session: Session, total_ids: list[int], period: str) -> None:
    """Close the usage totals billed by the period invoices just issued, in one statement per
    10,000 totals: each total takes the period invoice of its contract (unique per contract and
    period). Only the totals read and locked by ``load_inputs`` are named."""
    invoice = (
        select(Invoice.id)
        .where(
            Invoice.contract_id == PeriodUsage.contract_id,
            Invoice.period == period,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.purpose == "period",
        )
        .scalar_subquery()
    )
    for start in range(0, len(total_ids), 10_000):
        session.connection().execute(
            update(PeriodUsage)
            .where(_among(session, PeriodUsage.id, total_ids[start : start + 10_000]))
            .values(invoice_id=invoice)
        )


# What the audit event of an invoice issued in bulk records: the invoice row is immutable, so
# its identity and amounts are enough to trace the issue.
AUDITED_ON_ISSUE = (
    "number", "kind", "contract_id", "period", "issue_date", "due_date",
    "total_net", "total_vat", "total_gross",
)  # fmt: skip


def invoice_contracts(
    session: Session, contract_ids: list[int], period_start: date, run_id: int | None = None
) -> list[IssuedInvoice]:
    """Issue the period invoices of these contracts: those with something to bill and not
    yet invoiced for the period (idempotent). Numbers follow the contracts' order.

    Written in bulk — one statement for the invoices, one for their lines, one for their
    audit events — because a billing run issues thousands at once."""
    period = period_of(period_start)
    drafted: list[tuple[ContractInputs, Draft]] = []
    carried: list[tuple[ContractInputs, Draft]] = []
    for inputs in load_inputs(session, contract_ids, period_start):
        draft = draft_invoice(inputs, period_start)
        if draft.carried:
            carried.append((inputs, draft))
        if not draft.lines:
            continue
        if draft.total_net < 0:
            raise Conflict(
                Text(
                    fr="Les avoirs dépassent la facture de {period} du contrat {contract} : "
                    "émettre un avoir.",
                    en="Credits exceed the {period} invoice of contract {contract}: "
                    "issue a credit note.",
                ),
                code="negative_invoice",
                details={"period": period, "contract": inputs.reference},
            )
        drafted.append((inputs, draft))
    _carry_credits(session, carried)
    if not drafted:
        return []
    issued_on = issue_date_of(period_start)
    rows: list[dict[str, Any]] = []
    lines: list[list[dict[str, Any]]] = []
    by_operator: dict[int, list[tuple[ContractInputs, Draft]]] = {}
    for inputs, draft in drafted:
        by_operator.setdefault(inputs.customer.operator_id, []).append((inputs, draft))
    ordered = [pair for group in by_operator.values() for pair in group]
    for operator_id, group in by_operator.items():
        numbers = take_invoice_numbers(session, operator_id, issued_on.year, len(group))
        for number, (inputs, draft) in zip(numbers, group, strict=True):
            vat = vat_treatment(inputs.customer)
            rows.append(
                _invoice_row(
                    number=number,
                    contract_id=inputs.contract_id,
                    customer=inputs.customer,
                    draft=draft,
                    kind=InvoiceKind.INVOICE,
                    purpose="period",
                    period_start=period_start,
                    issue_date=issued_on,
                    due_date=due_date_of(inputs.terms.billing, issued_on),
                    run_id=run_id,
                    preceding_invoice_id=None,
                    vat=vat,
                )
            )
            lines.append(_line_rows(draft, vat))
    ids = _insert_invoices(session, rows)
    connection = session.connection()
    bulk.insert_rows(
        connection,
        InvoiceLine,
        [
            line | {"invoice_id": id_}
            for id_, group in zip(ids, lines, strict=True)
            for line in group
        ],
    )
    bulk.insert_rows(
        connection,
        AuditEvent,
        audit.insert_events(
            session,
            Invoice,
            [row | {"id": id_} for id_, row in zip(ids, rows, strict=True)],
            keys=AUDITED_ON_ISSUE,
        ),
    )
    _record_billed(session, [(id_, draft) for id_, (_, draft) in zip(ids, ordered, strict=True)])
    _close_period_usage(session, [t for _, draft in ordered for t in draft.usage_totals], period)
    _set_off_credit(session, {row["customer_id"] for row in rows})
    issued = [
        IssuedInvoice(
            id_, row["number"], row["customer_id"], row["contract_id"], row["total_gross"]
        )
        for id_, row in zip(ids, rows, strict=True)
    ]
    for invoice in issued:
        event(
            log,
            "invoice.issued",
            invoice=invoice.number,
            customer=invoice.customer_id,
            contract=invoice.contract_id,
            total=invoice.total_gross,
        )
    return issued


def _set_off_credit(session: Session, customer_ids: set[int]) -> None:
    """Use what the customers have paid and not yet allocated against the new invoices
    (BIL-14), for the few customers who have such credit (one short query finds them)."""
    holders = session.scalars(
        select(Payment.customer_id)
        .where(
            _among(session, Payment.customer_id, customer_ids),
            Payment.unallocated > 0,
            Payment.reversed_at.is_(None),
        )
        .distinct()
    ).all()
    if holders:
        set_off(session, sorted(holders))


def _carry_credits(session: Session, drafted: list[tuple[ContractInputs, Draft]]) -> None:
    """Keep the credits the drafts could not take as pending credits of their contracts, in
    the transaction of their invoices (a rerun finds them invoiced and carries nothing)."""
    for inputs, draft in drafted:
        for credit in draft.carried:
            session.add(
                PendingCharge(
                    customer_id=inputs.customer.id,
                    contract_id=inputs.contract_id,
                    source=credit.source,
                    code=credit.code,
                    description=credit.description,
                    amount=credit.amount,
                    idempotency_key=credit.key,
                )
            )
            event(
                log,
                "invoice.credit_carried",
                contract=inputs.reference,
                amount=credit.amount,
                key=credit.key,
            )
    session.flush()


def _insert_invoices(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert invoice rows in bulk; their ids in the order of ``rows``. On PostgreSQL the ids
    are taken from the sequence first and the rows copied with them; elsewhere they are read
    back by operator and number (unique together) rather than with an ordered RETURNING, which
    SQLite can only do one row per statement."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        ids = bulk.new_ids(connection, Invoice, len(rows))
        with_ids = [row | {"id": id_} for id_, row in zip(ids, rows, strict=True)]
        bulk.insert_rows(connection, Invoice, with_ids)
        return ids
    bulk.insert_rows(connection, Invoice, rows)
    keys = [(row["operator_id"], row["number"]) for row in rows]
    id_of: dict[tuple[int, str], int] = {}
    for operator_id in {operator_id for operator_id, _ in keys}:
        numbers = [number for owner, number in keys if owner == operator_id]
        id_of.update(
            ((operator_id, number), id_)
            for number, id_ in connection.execute(
                select(Invoice.number, Invoice.id).where(
                    Invoice.operator_id == operator_id, _among(session, Invoice.number, numbers)
                )
            )
        )
    return [id_of[key] for key in keys]


@dataclass(frozen=True)
class IssuedInvoice:
    id: int
    number: str
    customer_id: int
    contract_id: int
    total_gross: Decimal


def invoice_contract(
    session: Session, contract: Contract, period_start: date, run_id: int | None = None
) -> Invoice | None:
    """Issue the period invoice of one contract, or None when there is nothing to bill or it
    was already issued (idempotent)."""
    issued = invoice_contracts(session, [contract.id], period_start, run_id)
    return session.get(Invoice, issued[0].id) if issued else None


@dataclass
class RunReport:
    run_id: int
    period: str
    issued: list[str] = field(default_factory=list)
    skipped: int = 0


def billable_contracts(session: Session, operator_id: int, period_start: date) -> list[int]:
    """Contracts active at some point of the period or still owing fees."""
    period_end = add_months(period_start, 1)
    rows = session.scalars(
        select(Contract.id)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(
            Customer.operator_id == operator_id,
            Contract.status.in_(BILLABLE_STATUSES),
            Contract.activated_on.is_not(None),
            Contract.activated_on < period_end,
        )
        .order_by(Contract.id)
    )
    return list(rows)


def run_period(
    factory: sessionmaker[Session],
    operator_id: int,
    period: str,
    *,
    actor: Actor | None = None,
    chunk_size: int = 200,
) -> RunReport:
    """Invoice every billable contract of the operator for ``period``; safe to rerun."""
    period_start = parse_period(period)
    actor = actor or system_actor("billing-run")
    with factory() as session:
        set_actor(session, actor, f"billing run {period}")
        run = BillingRun(operator_id=operator_id, period=period)
        session.add(run)
        contract_ids = billable_contracts(session, operator_id, period_start)
        session.commit()
        run_id = run.id
    report = RunReport(run_id=run_id, period=period)
    for chunk in _chunks(contract_ids, chunk_size):
        _invoice_chunk(factory, actor, chunk, period_start, report)
    with factory() as session:
        set_actor(session, actor, f"billing run {period}")
        run_row = session.get(BillingRun, run_id)
        assert run_row is not None
        run_row.finished_at = utcnow()
        run_row.invoices_issued = len(report.issued)
        run_row.contracts_skipped = report.skipped
        session.commit()
    event(log, "billing.run.finished", run=run_id, period=period, issued=len(report.issued))
    return report


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _invoice_chunk(
    factory: sessionmaker[Session],
    actor: Actor,
    chunk: list[int],
    period_start: date,
    report: RunReport,
    attempts: int = 3,
) -> None:
    for attempt in range(attempts):
        with factory() as session:
            set_actor(session, actor, f"billing run {period_of(period_start)}")
            try:
                invoices = invoice_contracts(session, chunk, period_start, report.run_id)
                numbers = [invoice.number for invoice in invoices]
                session.commit()
            except IntegrityError:
                # another run issued the same invoices meanwhile: start over, skipping them
                session.rollback()
                if attempt == attempts - 1:
                    raise
                continue
        report.issued.extend(numbers)
        report.skipped += len(chunk) - len(numbers)
        return


# --- credit notes -----------------------------------------------------------------------------


def credit_note(
    session: Session,
    invoice: Invoice,
    *,
    reason: str,
    issue_date: date,
    amount_net: Decimal | None = None,
) -> Invoice:
    """Correct an issued invoice with a credit note (type 381): the whole invoice, or
    ``amount_net`` of it. Its amount is credited on the invoice, which is never changed."""
    if invoice.kind is not InvoiceKind.INVOICE:
        raise Conflict(
            Text(
                fr="Un avoir ne s'annule pas par un avoir.", en="A credit note cannot be credited."
            ),
            code="credit_of_credit",
        )
    lock_invoice(session, invoice)  # two credit notes at once never credit the same euro twice
    contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
    customer = session.get(Customer, invoice.customer_id)
    assert contract is not None and customer is not None
    if amount_net is None:
        lines = [
            DraftLine(
                LineSource.CORRECTION,
                line.code,
                line.description,
                line.quantity,
                line.unit,
                line.unit_price,
                line.net_amount,
            )
            for line in invoice.lines
        ]
    else:
        if amount_net <= 0:
            raise InvalidInput(
                Text(
                    fr="Le montant de l'avoir doit être positif.",
                    en="The credit amount must be positive.",
                ),
                field="amount_net",
            )
        net = round_money(amount_net)
        lines = [
            DraftLine(
                LineSource.CORRECTION,
                "credit",
                f"Avoir sur facture {invoice.number} — {reason}",
                Decimal(1),
                "C62",
                net,
                net,
            )
        ]
    draft = Draft(lines=lines)
    vat = invoice_vat(invoice)
    gross = draft.total_net + vat_amount(draft.total_net, vat.rate)
    if gross > invoice.total_gross - invoice.amount_credited:
        raise InvalidInput(
            Text(
                fr="L'avoir dépasse ce qui reste de la facture {number}.",
                en="The credit exceeds what is left of invoice {number}.",
            ),
            field="amount_net",
            details={"number": invoice.number},
        )
    previous = session.scalar(
        select(func.count(Invoice.id)).where(Invoice.preceding_invoice_id == invoice.id)
    )
    note = issue(
        session,
        contract=contract,
        customer=customer,
        draft=draft,
        kind=InvoiceKind.CREDIT_NOTE,
        purpose=f"credit:{invoice.id}:{(previous or 0) + 1}",
        period_start=None,
        issue_date=issue_date,
        due_date=issue_date,
        preceding_invoice_id=invoice.id,
        vat=vat,
    )
    note.status = InvoiceStatus.PAID
    invoice.amount_credited += note.total_gross
    settle_status(invoice)
    session.flush()
    event(log, "credit_note.issued", credit_note=note.number, invoice=invoice.number, reason=reason)
    return note


# --- interim invoices (BIL-13) ----------------------------------------------------------------


def interim_invoice(session: Session, contract: Contract, as_of: date) -> Invoice | None:
    """BIL-13: when the usage not yet invoiced, after what the plans include, passes the terms'
    threshold, invoice it now instead of at the end of the month. None when under it."""
    terms = contracts.terms_of(contract)
    threshold = terms.billing.early_invoicing_threshold
    if threshold is None:
        return None
    period_start = as_of.replace(day=1)
    loaded = load_inputs(session, [contract.id], period_start)
    if not loaded:
        return None
    inputs = loaded[0]
    if inputs.customer.payment_method == PaymentMethod.PREPAID:
        return None  # the wallet paid each call already (BIL-10), as ``draft_invoice`` says
    lines = _usage_lines(inputs.usage, terms.billing.price_basis)
    lines.extend(_allowance_lines(inputs, period_start))
    draft = Draft(lines=lines, usage_totals=inputs.usage_totals)
    if draft.total_net <= threshold:
        return None
    previous = session.scalar(
        select(func.count(Invoice.id)).where(
            Invoice.contract_id == contract.id, Invoice.purpose.like(f"interim:{as_of:%Y-%m}:%")
        )
    )
    invoice = issue(
        session,
        contract=contract,
        customer=inputs.customer,
        draft=draft,
        kind=InvoiceKind.INVOICE,
        purpose=f"interim:{as_of:%Y-%m}:{(previous or 0) + 1}",
        period_start=None,
        issue_date=as_of,
        due_date=due_date_of(terms.billing, as_of),
    )
    event(
        log,
        "invoice.interim",
        invoice=invoice.number,
        contract=contract.reference,
        total=invoice.total_gross,
    )
    return invoice
