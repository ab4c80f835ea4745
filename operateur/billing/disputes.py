"""BIL-07 invoice disputes: is a dispute admissible, and how an overpayment is settled.

Pure rules read from the contract's :class:`~operateur.catalog.terms.DisputeTerms`. The four
seed variants are all a matter of terms:

- [000 §6] by email within 7 days of receipt;
- [001 §11.3] by registered letter within 30 days of receipt; the contested part is suspended,
  late-payment penalties still run if the dispute fails;
- [002 §12.6] by email within 60 days of issue, giving the invoice date and number, the amount,
  the reason and the evidence, the uncontested part paid;
- [004 §9.4] within 3 months of receipt, only if the uncontested part is paid, no earlier
  invoice is unpaid and the contested amount exceeds 5 % of the invoice; an agreed overpayment
  is refunded within 5 days when it exceeds 20 % of the invoice, else credited on the next one.

:func:`assess_dispute` checks every condition and reports every one that fails, not only the
first, each as a stable code with a message in French and English.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from operateur.catalog.terms import (
    Channel,
    CountedFrom,
    Delay,
    DelayUnit,
    DisputeReference,
    DisputeTerms,
)
from operateur.domain.calendar import DayKind
from operateur.domain.money import format_eur, require_amount, round_money
from operateur.errors import InvalidInput
from operateur.i18n import Text

_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
_HOURS_PER_DAY = 24


class DisputeRefusal(StrEnum):
    """Why a dispute is not admissible (the ``code`` of each reason)."""

    OUT_OF_TIME = "out_of_time"
    WRONG_CHANNEL = "wrong_channel"
    MISSING_REFERENCES = "missing_references"
    UNCONTESTED_PART_UNPAID = "uncontested_part_unpaid"
    EARLIER_INVOICE_UNPAID = "earlier_invoice_unpaid"
    CONTESTED_SHARE_TOO_SMALL = "contested_share_too_small"


@dataclass(frozen=True)
class DisputeAssessment:
    accepted: bool
    reasons: tuple[tuple[str, Text], ...]  # every failed condition: (code, message)
    deadline: date  # last day to file the dispute (included)
    held_amount: Decimal  # held out of collection while the dispute is examined
    penalties_run_if_rejected: bool  # [001 §11.3] a failed dispute does not stop the interest

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.reasons)


class SettlementMethod(StrEnum):
    REFUND = "refund"
    CREDIT_NEXT_INVOICE = "credit_next_invoice"


@dataclass(frozen=True)
class OverpaymentSettlement:
    method: SettlementMethod
    amount: Decimal  # the overpayment, to the cent
    threshold: Decimal | None  # the share of the invoice above which it is refunded
    refund_within: Delay | None  # the refund delay, when refunded
    refund_by: date | None  # last day of the refund, when refunded and ``settled_on`` is known
    explanation: Text


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _delay_text(delay: Delay, lang: str) -> str:
    business = delay.day_kind.value == DayKind.BUSINESS.value
    if lang == "en":
        unit = {
            DelayUnit.DAYS: "business days" if business else "days",
            DelayUnit.MONTHS: "months",
            DelayUnit.HOURS: "business hours" if business else "hours",
        }[delay.unit]
    else:
        unit = {
            DelayUnit.DAYS: "jours ouvrés" if business else "jours",
            DelayUnit.MONTHS: "mois",
            DelayUnit.HOURS: "heures ouvrées" if business else "heures",
        }[delay.unit]
    return f"{delay.value} {unit}"


def _day(d: date, lang: str) -> str:
    return d.isoformat() if lang == "en" else d.strftime("%d/%m/%Y")


def _pct(value: Decimal, lang: str) -> str:
    text = f"{value.normalize():f}"
    return f"{text}%" if lang == "en" else f"{text.replace('.', ',')} %"


def _text(build_fr: str, build_en: str) -> Text:
    return Text(fr=build_fr, en=build_en)


_CHANNEL_NAMES: dict[Channel, tuple[str, str]] = {
    Channel.EMAIL: ("courrier électronique", "email"),
    Channel.REGISTERED_LETTER: ("lettre recommandée avec avis de réception", "registered letter"),
    Channel.LETTER: ("courrier", "letter"),
    Channel.PORTAL: ("espace client", "customer portal"),
    Channel.PHONE: ("téléphone", "phone"),
}

_REFERENCE_NAMES: dict[DisputeReference, tuple[str, str]] = {
    DisputeReference.INVOICE_DATE: ("date de la facture", "invoice date"),
    DisputeReference.INVOICE_NUMBER: ("numéro de la facture", "invoice number"),
    DisputeReference.AMOUNT: ("montant contesté", "amount contested"),
    DisputeReference.REASON: ("motif", "reason"),
    DisputeReference.EVIDENCE: ("justificatifs", "evidence"),
}


def _channels(channels: Iterable[Channel], lang: str) -> str:
    index = 1 if lang == "en" else 0
    joiner = " or " if lang == "en" else " ou "
    return joiner.join(_CHANNEL_NAMES[channel][index] for channel in channels)


def _references(references: Iterable[DisputeReference], lang: str) -> str:
    index = 1 if lang == "en" else 0
    return ", ".join(_REFERENCE_NAMES[reference][index] for reference in references)


# --------------------------------------------------------------------------------------------
# Admissibility
# --------------------------------------------------------------------------------------------


def dispute_deadline(terms: DisputeTerms, *, issue_date: date, received_date: date | None) -> date:
    """BIL-07 the last day (included) to contest an invoice: ``window`` after its issue or its
    receipt as the terms say."""
    if terms.window_from is CountedFrom.RECEIPT:
        if received_date is None:
            raise InvalidInput(
                Text(
                    fr="Le délai de contestation court de la réception : sa date est nécessaire.",
                    en="The dispute window runs from receipt: its date is needed.",
                ),
                field="received_date",
            )
        if received_date < issue_date:
            raise InvalidInput(
                Text(
                    fr="La facture ne peut pas être reçue avant son émission.",
                    en="The invoice cannot be received before it is issued.",
                ),
                field="received_date",
            )
        return terms.window.after(received_date)
    return terms.window.after(issue_date)


def assess_dispute(
    terms: DisputeTerms,
    *,
    invoice_total: Decimal,
    issue_date: date,
    received_date: date | None,
    filed_on: date,
    channel: Channel | str,
    contested_amount: Decimal,
    references_given: Iterable[DisputeReference | str],
    uncontested_part_paid: bool,
    earlier_invoice_unpaid: bool,
) -> DisputeAssessment:
    """BIL-07: whether a dispute is admissible under ``terms``, with every failed condition.

    ``invoice_total`` and ``contested_amount`` are in the same basis (normally including VAT).
    ``references_given`` are the references the dispute states (a ``set`` in practice).
    Impossible inputs (a dispute filed before the invoice exists, nothing or more than the
    invoice contested, an unknown channel or reference) raise ``InvalidInput``.
    """
    total = require_amount(invoice_total, "invoice_total", positive=True)
    contested = require_amount(contested_amount, "contested_amount", positive=True)
    if contested > total:
        raise InvalidInput(
            Text(
                fr="Le montant contesté ({contested}) dépasse le total de la facture ({total}).",
                en="The contested amount ({contested}) exceeds the invoice total ({total}).",
            ),
            field="contested_amount",
            details={"contested": str(contested), "total": str(total)},
        )
    if filed_on < issue_date:
        raise InvalidInput(
            Text(
                fr="Une contestation ne peut pas précéder l'émission de la facture.",
                en="A dispute cannot be filed before the invoice is issued.",
            ),
            field="filed_on",
        )
    try:
        used_channel = Channel(channel)
    except ValueError:
        raise InvalidInput(
            Text(fr="Canal inconnu : {channel}", en="Unknown channel: {channel}"),
            field="channel",
            details={"channel": str(channel)},
        ) from None
    given: set[DisputeReference] = set()
    for reference in references_given:
        try:
            given.add(DisputeReference(reference))
        except ValueError:
            raise InvalidInput(
                Text(fr="Référence inconnue : {ref}", en="Unknown reference: {ref}"),
                field="references_given",
                details={"ref": str(reference)},
            ) from None

    deadline = dispute_deadline(terms, issue_date=issue_date, received_date=received_date)
    reasons: list[tuple[str, Text]] = []

    if filed_on > deadline:
        anchor_fr = "de l'émission" if terms.window_from is CountedFrom.ISSUE else "de la réception"
        anchor_en = "of issue" if terms.window_from is CountedFrom.ISSUE else "of receipt"
        reasons.append(
            (
                DisputeRefusal.OUT_OF_TIME.value,
                _text(
                    f"Contestation hors délai : {_delay_text(terms.window, 'fr')} à compter "
                    f"{anchor_fr}, soit au plus tard le {_day(deadline, 'fr')} ; reçue le "
                    f"{_day(filed_on, 'fr')}.",
                    f"Dispute out of time: {_delay_text(terms.window, 'en')} {anchor_en}, i.e. "
                    f"by {_day(deadline, 'en')}; filed on {_day(filed_on, 'en')}.",
                ),
            )
        )
    if used_channel not in terms.channels:
        reasons.append(
            (
                DisputeRefusal.WRONG_CHANNEL.value,
                _text(
                    f"Canal non prévu au contrat ({_channels([used_channel], 'fr')}) : une "
                    f"contestation se fait par {_channels(terms.channels, 'fr')}.",
                    f"Channel not provided by the contract ({_channels([used_channel], 'en')}): "
                    f"a dispute is sent by {_channels(terms.channels, 'en')}.",
                ),
            )
        )
    missing = [reference for reference in terms.required_references if reference not in given]
    if missing:
        reasons.append(
            (
                DisputeRefusal.MISSING_REFERENCES.value,
                _text(
                    f"Éléments manquants : {_references(missing, 'fr')}.",
                    f"Missing: {_references(missing, 'en')}.",
                ),
            )
        )
    if terms.uncontested_part_must_be_paid and contested < total and not uncontested_part_paid:
        uncontested = round_money(total - contested)
        reasons.append(
            (
                DisputeRefusal.UNCONTESTED_PART_UNPAID.value,
                _text(
                    f"La partie non contestée ({format_eur(uncontested, 'fr')}) doit être payée.",
                    f"The uncontested part ({format_eur(uncontested, 'en')}) must be paid.",
                ),
            )
        )
    if terms.no_earlier_unpaid_invoice and earlier_invoice_unpaid:
        reasons.append(
            (
                DisputeRefusal.EARLIER_INVOICE_UNPAID.value,
                _text(
                    "Une facture antérieure reste impayée : le client doit être à jour de ses "
                    "paiements.",
                    "An earlier invoice is still unpaid: the customer must be up to date with "
                    "payments.",
                ),
            )
        )
    share = terms.min_contested_share_percent
    if share is not None:
        floor = total * share / _HUNDRED
        if contested <= floor:
            reasons.append(
                (
                    DisputeRefusal.CONTESTED_SHARE_TOO_SMALL.value,
                    _text(
                        f"Le montant contesté ({format_eur(contested, 'fr')}) ne dépasse pas "
                        f"{_pct(share, 'fr')} du total de la facture "
                        f"({format_eur(floor, 'fr')}).",
                        f"The contested amount ({format_eur(contested, 'en')}) does not exceed "
                        f"{_pct(share, 'en')} of the invoice total ({format_eur(floor, 'en')}).",
                    ),
                )
            )

    accepted = not reasons
    held = contested if accepted and terms.contested_part_suspended else _ZERO
    return DisputeAssessment(
        accepted=accepted,
        reasons=tuple(reasons),
        deadline=deadline,
        held_amount=round_money(held),
        penalties_run_if_rejected=terms.penalties_run_if_rejected,
    )


# --------------------------------------------------------------------------------------------
# Overpayments
# --------------------------------------------------------------------------------------------


def overpayment_settlement(
    terms: DisputeTerms,
    invoice_total: Decimal,
    overpaid: Decimal,
    *,
    settled_on: date | None = None,
) -> OverpaymentSettlement:
    """BIL-07 [004 §9.4]: an agreed overpayment is refunded within ``refund_delay`` of the
    amicable settlement when it exceeds ``refund_threshold_percent`` of the invoice; otherwise
    (and when the contract has no refund rule) it is credited on the next invoice."""
    total = require_amount(invoice_total, "invoice_total", positive=True)
    amount = require_amount(overpaid, "overpaid", positive=True)
    percent, delay = terms.refund_threshold_percent, terms.refund_delay
    if percent is None or delay is None:
        return OverpaymentSettlement(
            method=SettlementMethod.CREDIT_NEXT_INVOICE,
            amount=round_money(amount),
            threshold=None,
            refund_within=None,
            refund_by=None,
            explanation=_text(
                f"Trop-perçu de {format_eur(amount, 'fr')} imputé sur la prochaine facture "
                "(le contrat ne prévoit pas de remboursement).",
                f"Overpayment of {format_eur(amount, 'en')} credited on the next invoice "
                "(the contract provides no refund).",
            ),
        )
    threshold = total * percent / _HUNDRED
    if amount > threshold:
        refund_by = delay.after(settled_on) if settled_on is not None else None
        by_fr = f", au plus tard le {_day(refund_by, 'fr')}" if refund_by else ""
        by_en = f", by {_day(refund_by, 'en')}" if refund_by else ""
        return OverpaymentSettlement(
            method=SettlementMethod.REFUND,
            amount=round_money(amount),
            threshold=threshold,
            refund_within=delay,
            refund_by=refund_by,
            explanation=_text(
                f"Trop-perçu de {format_eur(amount, 'fr')}, supérieur à {_pct(percent, 'fr')} "
                f"de la facture ({format_eur(threshold, 'fr')}) : remboursé sous "
                f"{_delay_text(delay, 'fr')} après le règlement amiable{by_fr}.",
                f"Overpayment of {format_eur(amount, 'en')}, above {_pct(percent, 'en')} of the "
                f"invoice ({format_eur(threshold, 'en')}): refunded within "
                f"{_delay_text(delay, 'en')} of the amicable settlement{by_en}.",
            ),
        )
    return OverpaymentSettlement(
        method=SettlementMethod.CREDIT_NEXT_INVOICE,
        amount=round_money(amount),
        threshold=threshold,
        refund_within=None,
        refund_by=None,
        explanation=_text(
            f"Trop-perçu de {format_eur(amount, 'fr')}, pas plus de {_pct(percent, 'fr')} de la "
            f"facture ({format_eur(threshold, 'fr')}) : imputé sur la prochaine facture.",
            f"Overpayment of {format_eur(amount, 'en')}, not above {_pct(percent, 'en')} of the "
            f"invoice ({format_eur(threshold, 'en')}): credited on the next invoice.",
        ),
    )
