"""BIL-06 late payment: interest or flat penalty, recovery indemnity, acceleration. Pure rules.

Every figure comes from the contract's :class:`~operateur.catalog.terms.LatePaymentTerms` and
from the dated reference tables of :mod:`operateur.billing.reference_rates`.

Counting the delay. ``due_date`` is the last day to pay: a payment received that day is on
time. Each calendar day after it, up to and including the day the payment is received (or
``as_of`` while something is still unpaid), is a day late: paid on 1 March an invoice due on
10 January is 50 days late ("nombre de jours de retard = date de paiement - date d'échéance").
The five kinds of ``LatePaymentTerms.interest``:

- ``flat_percent_after_days`` [000 §6]: once the delay exceeds ``after_days`` days, ``percent``
  of the whole sum still due on the first day beyond them, once (not pro rata temporis);
- ``max_ecb_plus_points_or_legal_multiple`` [001 §10.4]: from the first day late, at
  max(ECB + ``points``, ``legal_rate_multiple`` x legal rate), on the amount including VAT when
  ``base_includes_vat`` (else the share of it excluding VAT);
- ``ecb_plus_points_from_due_date`` [002 §12.5.1]: ECB + ``points``, running from the due date;
- ``ecb_plus_points_after_term`` [003 §6.3]: ECB + ``points``, due from the day after the
  payment term;
- ``daily_legal_rate_multiple`` [004 §9.3]: interest for each day late at
  ``legal_rate_multiple`` x the legal rate.

The due date is counted from the invoice's issue or receipt by the billing terms (BIL-04, see
:func:`payment_due_date`). Once it is known, [002] "à partir de la date d'échéance" and [003]
"le jour suivant les 30 jours de délai" count the same days (the day a delay runs from is not
itself counted, as in art. 641 code de procédure civile); what tells them apart is that date:
30 days from issue for 002, 30 days from receipt for 003.

Interest = base x annual rate x days / 365 (exact/365, leap years included), with the rates of
L441-10: the ECB rate in force on 1 January for the first half-year, on 1 July for the second,
and the legal rate of each half-year, so the delay is split at each half-year boundary and at
each partial payment (a payment received on a day reduces the base from the next day). Each
period is computed exactly in ``Decimal``; only the sum is rounded, to the cent, half-up. The
base is the amount including VAT (the sum owed) unless the terms say otherwise. The recovery
indemnity (L441-10, 40 € in every seed) is due as soon as the invoice is late.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from operateur.billing.reference_rates import (
    ReferenceTables,
    load_tables,
    semester_start,
)
from operateur.catalog.terms import (
    BillingTerms,
    CountedFrom,
    DailyLegalMultiple,
    EcbOrLegalMultiple,
    EcbPlusPointsAfterTerm,
    EcbPlusPointsFromDueDate,
    FlatPercentAfterDays,
    LatePaymentTerms,
)
from operateur.domain.calendar import DayKind, add_days
from operateur.domain.money import format_eur, require_amount, round_money
from operateur.errors import InvalidInput
from operateur.i18n import Text

#: BIL-06 day-count convention: interest = amount x rate x days / 365 (exact/365).
DAY_COUNT_BASIS = 365
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


class PenaltyBasis(StrEnum):
    INCL_VAT = "incl_vat"
    EXCL_VAT = "excl_vat"


@dataclass(frozen=True)
class InterestPeriod:
    """Days ``start``..``end`` (both included) at one base and one annual rate."""

    start: date
    end: date
    days: int
    base: Decimal  # the amount interest runs on during the period
    annual_rate: Decimal  # percent per year actually applied
    ecb_rate: Decimal | None  # the ECB rate of the half-year, when the rule uses it
    legal_rate: Decimal | None  # the legal rate of the half-year, when the rule uses it
    amount: Decimal  # exact, not rounded: base x annual_rate / 100 x days / 365


@dataclass(frozen=True)
class Penalty:
    """What a late invoice costs on ``as_of``."""

    kind: str  # the ``LatePaymentTerms.interest.kind``
    late: bool
    due_date: date
    days_late: int  # days after the due date up to payment (or as_of)
    days_counted: int  # days the interest ran on (the flat kind: the days late)
    basis: PenaltyBasis
    base: Decimal  # the base on the first day counted (flat kind: on the day it applies)
    periods: tuple[InterestPeriod, ...]  # interest kinds: one per half-year and base
    flat_percent: Decimal | None  # flat kind: the percent applied once, else None
    day_count_basis: int
    interest: Decimal  # interest or flat penalty, rounded to the cent (half-up)
    indemnity: Decimal  # the recovery indemnity
    total: Decimal
    explanation: Text


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice with something left to pay: ``outstanding`` is the amount not paid and not
    validly contested (BIL-07 holds the contested part out of collection)."""

    invoice_id: str
    due_date: date
    outstanding: Decimal
    issued_on: date | None = None  # BIL-06 an invoice is never due before it is issued


@dataclass(frozen=True)
class HeldAmount:
    """BIL-07 [001 §11.3]: ``amount`` held out of collection from ``start`` to ``end`` (both
    included) by a dispute later rejected under terms where penalties do not run for the held
    period: no interest on it those days."""

    start: date
    end: date
    amount: Decimal


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _date_order(earlier: date, later: date, field: str, earlier_name: str) -> None:
    if later < earlier:
        raise InvalidInput(
            Text(
                fr="{field} ({later}) ne peut pas précéder {other} ({earlier}).",
                en="{field} ({later}) cannot be before {other} ({earlier}).",
            ),
            field=field,
            details={
                "field": field,
                "later": later.isoformat(),
                "other": earlier_name,
                "earlier": earlier.isoformat(),
            },
        )


def _day(d: date, lang: str) -> str:
    return d.isoformat() if lang == "en" else d.strftime("%d/%m/%Y")


def _pct(rate: Decimal, lang: str) -> str:
    """``12.15`` → ``"12,15 %"`` (fr) / ``"12.15%"`` (en); at least two decimals."""
    value = rate.normalize()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(Decimal("0.01"))
    text = f"{value:f}"
    return f"{text}%" if lang == "en" else f"{text.replace('.', ',')} %"


def _both(build: Callable[[str], str]) -> Text:
    return Text(fr=build("fr"), en=build("en"))


def payment_due_date(
    billing: BillingTerms, *, issue_date: date, received_date: date | None
) -> date:
    """BIL-04: the last day to pay, ``payment_term_days`` (calendar or business) after the
    issue or the receipt of the invoice as the terms say."""
    if billing.payment_term_from is CountedFrom.RECEIPT:
        if received_date is None:
            raise InvalidInput(
                Text(
                    fr="Le délai de paiement court de la réception : sa date est nécessaire.",
                    en="The payment term runs from receipt: its date is needed.",
                ),
                field="received_date",
            )
        _date_order(issue_date, received_date, "received_date", "issue_date")
        start = received_date
    else:
        start = issue_date
    return add_days(start, billing.payment_term_days, DayKind(billing.payment_term_day_kind.value))


def recovery_indemnities(terms: LatePaymentTerms, late_invoices: int) -> Decimal:
    """BIL-06 the recovery indemnity for ``late_invoices`` late invoices: one per invoice when
    the terms say so, else one for the whole recovery."""
    if late_invoices < 0:
        raise ValueError("late_invoices must be >= 0")
    if terms.recovery_indemnity is None or late_invoices == 0:
        return _ZERO.quantize(Decimal("0.01"))
    count = late_invoices if terms.recovery_indemnity_per_invoice else 1
    return round_money(terms.recovery_indemnity * count)


# --------------------------------------------------------------------------------------------
# The penalty
# --------------------------------------------------------------------------------------------


def rule_text(terms: LatePaymentTerms) -> Text:
    rule = terms.interest
    if isinstance(rule, FlatPercentAfterDays):
        return _both(
            lambda lang: (
                f"+{_pct(rule.percent, lang)} of the whole sum beyond {rule.after_days} days late"
                if lang == "en"
                else f"+{_pct(rule.percent, lang)} de la totalité de la somme au-delà de "
                f"{rule.after_days} jours de retard"
            )
        )
    if isinstance(rule, EcbOrLegalMultiple):
        return _both(
            lambda lang: (
                f"interest from the first day late at max(ECB rate + {rule.points} points, "
                f"{rule.legal_rate_multiple} × the legal rate)"
                if lang == "en"
                else f"intérêts dès le premier jour de retard au taux le plus élevé de (taux BCE "
                f"+ {rule.points} points ; {rule.legal_rate_multiple} × le taux légal)"
            )
        )
    if isinstance(rule, EcbPlusPointsFromDueDate):
        return _both(
            lambda lang: (
                f"interest from the due date at the ECB rate + {rule.points} points"
                if lang == "en"
                else f"intérêts à partir de la date d'échéance au taux BCE + {rule.points} points"
            )
        )
    if isinstance(rule, EcbPlusPointsAfterTerm):
        return _both(
            lambda lang: (
                f"interest from the day after the payment term at the ECB rate + "
                f"{rule.points} points"
                if lang == "en"
                else f"intérêts à compter du jour suivant le délai de paiement au taux BCE + "
                f"{rule.points} points"
            )
        )
    return _both(
        lambda lang: (
            f"daily interest at {rule.legal_rate_multiple} × the legal rate"
            if lang == "en"
            else f"intérêts journaliers à {rule.legal_rate_multiple} fois le taux légal"
        )
    )


def _period_rate(
    terms: LatePaymentTerms, day: date, tables: ReferenceTables
) -> tuple[Decimal, Decimal | None, Decimal | None]:
    """(annual rate applied, ECB rate used, legal rate used) for ``day``'s half-year."""
    rule = terms.interest
    if isinstance(rule, EcbPlusPointsFromDueDate | EcbPlusPointsAfterTerm):
        ecb = tables.ecb_entry_for_semester(day).rate
        return ecb + rule.points, ecb, None
    if isinstance(rule, EcbOrLegalMultiple):
        ecb = tables.ecb_entry_for_semester(day).rate
        legal = tables.legal_entry_for_semester(day).rate
        return max(ecb + rule.points, rule.legal_rate_multiple * legal), ecb, legal
    if isinstance(rule, DailyLegalMultiple):
        legal = tables.legal_entry_for_semester(day).rate
        return rule.legal_rate_multiple * legal, None, legal
    raise TypeError(f"{rule.kind} is not an interest rate rule")


def _rate_text(terms: LatePaymentTerms, period: InterestPeriod, lang: str) -> str:
    rule = terms.interest
    ecb, legal = period.ecb_rate, period.legal_rate
    applied = _pct(period.annual_rate, lang)
    if isinstance(rule, EcbOrLegalMultiple) and ecb is not None and legal is not None:
        ecb_part = _pct(ecb + rule.points, lang)
        legal_part = _pct(rule.legal_rate_multiple * legal, lang)
        if lang == "en":
            return (
                f"{applied} (max(ECB {_pct(ecb, lang)} + {rule.points} points = {ecb_part}, "
                f"{rule.legal_rate_multiple} × legal rate {_pct(legal, lang)} = {legal_part}))"
            )
        return (
            f"{applied} (max(BCE {_pct(ecb, lang)} + {rule.points} points = {ecb_part} ; "
            f"{rule.legal_rate_multiple} × taux légal {_pct(legal, lang)} = {legal_part}))"
        )
    if isinstance(rule, EcbPlusPointsFromDueDate | EcbPlusPointsAfterTerm) and ecb is not None:
        word = "ECB" if lang == "en" else "BCE"
        return f"{applied} ({word} {_pct(ecb, lang)} + {rule.points} points)"
    if isinstance(rule, DailyLegalMultiple) and legal is not None:
        word = "legal rate" if lang == "en" else "taux légal"
        return f"{applied} ({rule.legal_rate_multiple} × {word} {_pct(legal, lang)})"
    return applied


def _validated_payments(
    paid: Iterable[tuple[date, Decimal]], as_of: date
) -> list[tuple[date, Decimal]]:
    payments: list[tuple[date, Decimal]] = []
    for index, (day, amount) in enumerate(paid):
        require_amount(amount, f"paid.{index}.amount")
        if amount == 0:
            raise InvalidInput(
                Text(fr="Un paiement nul n'est pas un paiement.", en="A zero payment is none."),
                field=f"paid.{index}.amount",
            )
        if day <= as_of:  # a payment after as_of is not known yet
            payments.append((day, amount))
    payments.sort(key=lambda item: item[0])
    return payments


def late_payment_penalty(
    terms: LatePaymentTerms,
    *,
    invoice_total_incl_vat: Decimal,
    invoice_total_excl_vat: Decimal,
    issue_date: date,
    due_date: date,
    received_date: date | None,
    as_of: date,
    paid: Sequence[tuple[date, Decimal]] = (),
    held: Sequence[HeldAmount] = (),
    tables: ReferenceTables | None = None,
) -> Penalty:
    """BIL-06: the late-payment penalty of one invoice on ``as_of``.

    ``paid`` lists the payments received (date, amount including VAT); those dated after
    ``as_of`` are ignored. ``received_date`` is when the customer received the invoice (checked
    against ``issue_date``; the due date itself is the caller's, see :func:`payment_due_date`).
    ``held`` lists amounts on which no penalty runs for a time (BIL-07: a rejected dispute whose
    terms leave the held period free of penalties). ``tables`` defaults to the packaged
    reference tables.
    """
    total = require_amount(invoice_total_incl_vat, "invoice_total_incl_vat")
    total_excl = require_amount(invoice_total_excl_vat, "invoice_total_excl_vat")
    if total_excl > total:
        raise InvalidInput(
            Text(
                fr="Le total HT ne peut pas dépasser le total TTC.",
                en="The total excluding VAT cannot exceed the total including VAT.",
            ),
            field="invoice_total_excl_vat",
        )
    _date_order(issue_date, due_date, "due_date", "issue_date")
    if received_date is not None:
        _date_order(issue_date, received_date, "received_date", "issue_date")
    payments = _validated_payments(paid, as_of)
    rule = terms.interest
    basis = (
        PenaltyBasis.EXCL_VAT
        if isinstance(rule, EcbOrLegalMultiple) and not rule.base_includes_vat
        else PenaltyBasis.INCL_VAT
    )

    def outstanding_on(day: date) -> Decimal:
        """The amount including VAT still unpaid at the start of ``day``."""
        paid_before = sum((amount for when, amount in payments if when < day), _ZERO)
        return max(total - paid_before, _ZERO)

    def chargeable_on(day: date) -> Decimal:
        """What bears a penalty on ``day``: the unpaid amount less what is held that day."""
        held_now = sum((h.amount for h in held if h.start <= day <= h.end), _ZERO)
        return max(outstanding_on(day) - held_now, _ZERO)

    def base_on(day: date) -> Decimal:
        owed = chargeable_on(day)
        if basis is PenaltyBasis.INCL_VAT or total == 0:
            return owed
        return owed * total_excl / total

    # The last day late: the payment that settles the invoice, else as_of.
    end = as_of
    cumulative = _ZERO
    for when, amount in payments:
        cumulative += amount
        if cumulative >= total:
            end = min(end, when)
            break
    first_late_day = due_date + timedelta(days=1)
    late = end >= first_late_day and outstanding_on(first_late_day) > 0
    if late and held:  # late once something not held is unpaid after the due date
        late = any(
            chargeable_on(first_late_day + timedelta(days=offset)) > 0
            for offset in range((end - first_late_day).days + 1)
        )
    days_late = (end - due_date).days if late else 0
    described = rule_text(terms)

    if not late:
        return Penalty(
            kind=rule.kind,
            late=False,
            due_date=due_date,
            days_late=0,
            days_counted=0,
            basis=basis,
            base=_ZERO,
            periods=(),
            flat_percent=rule.percent if isinstance(rule, FlatPercentAfterDays) else None,
            day_count_basis=DAY_COUNT_BASIS,
            interest=round_money(_ZERO),
            indemnity=round_money(_ZERO),
            total=round_money(_ZERO),
            explanation=_both(
                lambda lang: (
                    f"Not late on {_day(as_of, lang)} (due {_day(due_date, lang)}): nothing due."
                    if lang == "en"
                    else f"Pas de retard au {_day(as_of, lang)} (échéance "
                    f"{_day(due_date, lang)}) : rien n'est dû."
                )
            ),
        )

    indemnity = (
        round_money(terms.recovery_indemnity)
        if terms.recovery_indemnity is not None
        else round_money(_ZERO)
    )
    periods: list[InterestPeriod] = []
    flat_percent: Decimal | None = None
    if isinstance(rule, FlatPercentAfterDays):
        flat_percent = rule.percent
        trigger = due_date + timedelta(days=rule.after_days + 1)
        applies = end >= trigger
        base = base_on(trigger) if applies else base_on(first_late_day)
        # a held amount released after the threshold: its held days do not count in its delay
        for hold in held:
            if applies and hold.start <= trigger <= hold.end:
                held_days = (hold.end - max(hold.start, first_late_day)).days + 1
                own_trigger = trigger + timedelta(days=held_days)
                if end >= own_trigger:
                    base += min(hold.amount, outstanding_on(own_trigger))
        base = min(base, outstanding_on(trigger)) if applies else base
        exact = base * rule.percent / _HUNDRED if applies else _ZERO
        days_counted = days_late
    else:
        tables_in_use = tables or load_tables()
        day = first_late_day
        while day <= end:
            period_base = base_on(day)
            half = semester_start(day)
            annual, ecb, legal = _period_rate(terms, day, tables_in_use)
            period_end = day
            following = day + timedelta(days=1)
            while (
                following <= end
                and semester_start(following) == half
                and base_on(following) == period_base
            ):
                period_end = following
                following += timedelta(days=1)
            days = (period_end - day).days + 1
            if period_base > 0:
                amount = period_base * annual / _HUNDRED * days / DAY_COUNT_BASIS
                periods.append(
                    InterestPeriod(
                        start=day,
                        end=period_end,
                        days=days,
                        base=period_base,
                        annual_rate=annual,
                        ecb_rate=ecb,
                        legal_rate=legal,
                        amount=amount,
                    )
                )
            day = following
        base = periods[0].base if periods else _ZERO
        exact = sum((period.amount for period in periods), _ZERO)
        days_counted = sum(period.days for period in periods)
    interest = round_money(exact)
    total_due = interest + indemnity

    def explain(lang: str) -> str:
        en = lang == "en"
        parts = [
            (
                f"{days_late} days late (due {_day(due_date, lang)}); rule: {described.en}."
                if en
                else f"{days_late} jours de retard (échéance {_day(due_date, lang)}) ; règle : "
                f"{described.fr}."
            )
        ]
        basis_word = (
            ("incl. VAT" if en else "TTC")
            if basis is PenaltyBasis.INCL_VAT
            else ("excl. VAT" if en else "HT")
        )
        if flat_percent is not None:
            if exact > 0:
                parts.append(
                    f"Penalty: {format_eur(base, lang)} {basis_word} × {_pct(flat_percent, lang)}"
                    f" = {format_eur(interest, lang)}."
                    if en
                    else f"Pénalité : {format_eur(base, lang)} {basis_word} × "
                    f"{_pct(flat_percent, lang)} = {format_eur(interest, lang)}."
                )
            else:
                parts.append(
                    "No penalty yet: the delay has not passed the threshold."
                    if en
                    else "Pas encore de pénalité : le retard n'a pas dépassé le seuil."
                )
        else:
            for period in periods:
                rate = _rate_text(terms, period, lang)
                amount = format_eur(period.amount, lang)
                if en:
                    parts.append(
                        f"From {_day(period.start, lang)} to {_day(period.end, lang)}: "
                        f"{format_eur(period.base, lang)} {basis_word} × {rate} × {period.days}"
                        f" / {DAY_COUNT_BASIS} = {amount}."
                    )
                else:
                    parts.append(
                        f"Du {_day(period.start, lang)} au {_day(period.end, lang)} : "
                        f"{format_eur(period.base, lang)} {basis_word} × {rate} × {period.days}"
                        f" / {DAY_COUNT_BASIS} = {amount}."
                    )
            parts.append(
                f"Interest (amount × annual rate × days / {DAY_COUNT_BASIS}, rounded to the cent"
                f" at the end): {format_eur(interest, lang)}."
                if en
                else f"Intérêts (montant × taux annuel × jours / {DAY_COUNT_BASIS}, arrondis au "
                f"centime à la fin) : {format_eur(interest, lang)}."
            )
        parts.append(
            f"Recovery indemnity: {format_eur(indemnity, lang)}. Total: "
            f"{format_eur(total_due, lang)}."
            if en
            else "Indemnité forfaitaire pour frais de recouvrement : "
            f"{format_eur(indemnity, lang)}. Total : {format_eur(total_due, lang)}."
        )
        return " ".join(parts)

    return Penalty(
        kind=rule.kind,
        late=True,
        due_date=due_date,
        days_late=days_late,
        days_counted=days_counted,
        basis=basis,
        base=base,
        periods=tuple(periods),
        flat_percent=flat_percent,
        day_count_basis=DAY_COUNT_BASIS,
        interest=interest,
        indemnity=indemnity,
        total=total_due,
        explanation=_both(explain),
    )


# --------------------------------------------------------------------------------------------
# Acceleration
# --------------------------------------------------------------------------------------------


def acceleration_day(
    terms: LatePaymentTerms, open_invoices: Iterable[OpenInvoice], as_of: date
) -> date | None:
    """BIL-06 [004 §9.5] "Toute somme non réglée à la date de paiement figurant sur la facture
    donne lieu à l'exigibilité immédiate de toutes les factures non encore arrivées à
    échéance" (déchéance du terme; [000 §6] "l'exigibilité immédiate de toutes les sommes
    restantes dues"): the day the open invoices became due at once, the first late day of the
    earliest invoice still unpaid after its due date; ``None`` when the terms do not say so or
    nothing is late on ``as_of``."""
    if not terms.accelerate_all_open_invoices:
        return None
    late = [i.due_date for i in open_invoices if i.outstanding > 0 and i.due_date < as_of]
    return min(late) + timedelta(days=1) if late else None


def accelerated_due_date(
    terms: LatePaymentTerms, invoice: OpenInvoice, open_invoices: Iterable[OpenInvoice], as_of: date
) -> date:
    """BIL-06 the day ``invoice`` is due on ``as_of``: its own due date, or earlier when the
    terms accelerate: the acceleration day for an invoice already issued then ("toutes les
    factures émises" [004 §9.3]), its issue date for one issued while an earlier invoice is
    still late (the unpaid sum keeps every new invoice due at once)."""
    day = acceleration_day(terms, open_invoices, as_of)
    if day is None:
        return invoice.due_date
    if invoice.issued_on is not None:
        day = max(day, invoice.issued_on)
    return min(day, invoice.due_date)


def accelerated_invoices(
    terms: LatePaymentTerms, open_invoices: Iterable[OpenInvoice], as_of: date
) -> tuple[OpenInvoice, ...]:
    """BIL-06 [000 §6; 004 §9.3, §9.5]: the open invoices not yet due on ``as_of`` that become
    due at once because another one is late, when the terms say so; else ``()``.

    An invoice is late when its due date is before ``as_of`` and something is still
    outstanding on it; "not yet due" means a due date after ``as_of``.
    """
    invoices = [invoice for invoice in open_invoices if invoice.outstanding > 0]
    if not terms.accelerate_all_open_invoices:
        return ()
    if not any(invoice.due_date < as_of for invoice in invoices):
        return ()
    return tuple(invoice for invoice in invoices if invoice.due_date > as_of)
