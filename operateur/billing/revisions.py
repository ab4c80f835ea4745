"""CTR-13 price changes: Syntec indexation and unilateral price changes. Pure rules.

Read from the contract's :class:`~operateur.catalog.terms.ChangeTerms`. The seed variants:

- [000 §9.2] no unilateral change: only a signed amendment (no notice is ever enough);
- [001 §21.3] price-list changes apply at the contract's renewal (conditions: 1 month after
  notice);
- [002 §12.2] consumption prices change after a notice by email; the customer may object before
  the effective date, continued use is acceptance;
- [003 §3.2] changes without notice; an unfavourable change lets the customer terminate with a
  prorata refund of the unused months;
- [004 §9.6.1] one month's notice; when prices rise the customer may terminate without penalty
  within one month of the information; [004 §9.6.3] the annual Syntec revision
  P = P0 x S1 / S0 gives no termination right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from operateur.catalog.terms import ChangeTerms, Delay, DelayUnit, PriceIndex
from operateur.domain.money import require_amount
from operateur.errors import InvalidInput
from operateur.i18n import Text

#: CTR-13 a revised price is kept to 4 decimals (the precision of the price list, ``Money``).
PRICE_QUANTUM = Decimal("0.0001")


# --------------------------------------------------------------------------------------------
# Syntec indexation
# --------------------------------------------------------------------------------------------


def revised_price(p0: Decimal, s0: Decimal, s1: Decimal) -> Decimal:
    """CTR-13 [004 §9.6.3]: P = P0 x S1 / S0, rounded to 4 decimals half-up.

    ``p0`` is the initial price, ``s0`` the index in force when the contract was made, ``s1``
    the index of the month considered. Non-positive indices and a negative price are refused.
    """
    price = require_amount(p0, "p0", positive=False)
    base = require_amount(s0, "s0", positive=True)
    current = require_amount(s1, "s1", positive=True)
    return (price * current / base).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class IndexRevision:
    index: PriceIndex
    p0: Decimal
    s0: Decimal
    s1: Decimal
    price: Decimal
    termination_right: bool  # [004 §9.6.3] a revision "de droit" opens no termination right
    explanation: Text


def index_revision(terms: ChangeTerms, *, p0: Decimal, s0: Decimal, s1: Decimal) -> IndexRevision:
    """CTR-13 the annual index revision of the contract; ``InvalidInput`` when it has none."""
    index = terms.annual_index_revision
    if index is None:
        raise InvalidInput(
            Text(
                fr="Le contrat ne prévoit pas de révision annuelle sur indice.",
                en="The contract provides no annual index revision.",
            ),
            field="annual_index_revision",
        )
    price = revised_price(p0, s0, s1)
    name = index.value.capitalize()
    return IndexRevision(
        index=index,
        p0=p0,
        s0=s0,
        s1=s1,
        price=price,
        termination_right=False,
        explanation=Text(
            fr=f"Révision {name} : P = P0 × S1 / S0 = {p0} × {s1} / {s0} = {price} (arrondi à "
            "4 décimales) ; révision de droit, sans faculté de résiliation.",
            en=f"{name} revision: P = P0 × S1 / S0 = {p0} × {s1} / {s0} = {price} (rounded to "
            "4 decimals); a revision of right, with no termination right.",
        ),
    )


# --------------------------------------------------------------------------------------------
# Unilateral price changes
# --------------------------------------------------------------------------------------------


class PriceChangeMode(StrEnum):
    NOT_ALLOWED = "not_allowed"  # [000 §9.2] only a signed amendment changes prices
    AT_RENEWAL = "at_renewal"  # [001 §21.3] the price list changes at renewal
    WITH_NOTICE = "with_notice"  # [002 §12.2; 003 §3.2; 004 §9.6.1] after the notice


@dataclass(frozen=True)
class PriceChangeNotice:
    mode: PriceChangeMode
    notice_sufficient: bool  # the change may take effect on the date announced
    required_notice: Delay | None
    earliest_effective: date | None  # the first date the change may take effect
    applies_on: date | None  # when the new prices apply (None: not allowed, or renewal unknown)
    objection_until: date | None  # [002 §12.2] last day to object (before the effective date)
    continued_use_is_acceptance: bool  # [002 §12.2]
    termination_without_penalty: bool  # [003 §3.2; 004 §9.6.1]
    termination_until: date | None  # [004 §9.6.1] last day to ask; None: no time limit
    prorata_refund: bool  # [003 §3.2] unused months refunded on termination
    explanation: Text


def _delay_text(delay: Delay, lang: str) -> str:
    business = delay.day_kind.value == "business"
    words = {
        DelayUnit.DAYS: (
            "jours ouvrés" if business else "jours",
            "business days" if business else "days",
        ),
        DelayUnit.MONTHS: ("mois", "months"),
        DelayUnit.HOURS: ("heures", "hours"),
    }[delay.unit]
    return f"{delay.value} {words[1] if lang == 'en' else words[0]}"


def _day(d: date, lang: str) -> str:
    return d.isoformat() if lang == "en" else d.strftime("%d/%m/%Y")


def price_change_notice(
    terms: ChangeTerms,
    notified_on: date,
    effective_on: date,
    price_rises: bool,
    *,
    next_renewal: date | None = None,
) -> PriceChangeNotice:
    """CTR-13: whether a unilateral price change notified on ``notified_on`` may take effect on
    ``effective_on``, and what the customer may do about it.

    ``notified_on`` is the day the customer is informed (the termination window of [004] runs
    from it). ``next_renewal`` is the contract's next renewal date, needed when prices change
    only at renewal [001 §21.3]: the change then applies at that renewal.
    """
    if terms.price_list_changes_at_renewal:
        mode = PriceChangeMode.AT_RENEWAL
        required = None
        earliest = next_renewal
        sufficient = next_renewal is not None and effective_on == next_renewal
        applies_on = (
            next_renewal if next_renewal is not None and effective_on <= next_renewal else None
        )
    elif terms.price_change_notice is None:
        mode = PriceChangeMode.NOT_ALLOWED
        required = None
        earliest = None
        sufficient = False
        applies_on = None
    else:
        mode = PriceChangeMode.WITH_NOTICE
        required = terms.price_change_notice
        earliest = required.after(notified_on)
        sufficient = effective_on >= earliest
        applies_on = max(effective_on, earliest)

    objection_until = (
        applies_on - timedelta(days=1)
        if terms.objection_before_effective_date and applies_on is not None
        else None
    )
    window = terms.termination_window_on_price_rise
    may_terminate = (
        applies_on is not None
        and price_rises
        and (window is not None or terms.prorata_refund_on_unfavourable_change)
    )
    termination_until = window.after(notified_on) if may_terminate and window else None
    prorata_refund = may_terminate and terms.prorata_refund_on_unfavourable_change

    fr: list[str] = []
    en: list[str] = []
    if mode is PriceChangeMode.NOT_ALLOWED:
        fr.append("Le contrat ne permet pas de changer les prix sans avenant signé.")
        en.append("The contract does not allow a price change without a signed amendment.")
    elif mode is PriceChangeMode.AT_RENEWAL:
        if next_renewal is None:
            fr.append("Les prix changent au renouvellement du contrat, dont la date manque.")
            en.append("Prices change at the contract's renewal, whose date is missing.")
        else:
            fr.append(
                f"Les prix changent au renouvellement du {_day(next_renewal, 'fr')}"
                + ("." if sufficient else f", pas le {_day(effective_on, 'fr')}.")
            )
            en.append(
                f"Prices change at the renewal of {_day(next_renewal, 'en')}"
                + ("." if sufficient else f", not on {_day(effective_on, 'en')}.")
            )
    elif required is not None and earliest is not None:
        verdict_fr = "suffisant" if sufficient else "insuffisant"
        verdict_en = "sufficient" if sufficient else "too short"
        fr.append(
            f"Préavis de {_delay_text(required, 'fr')} {verdict_fr} : application au plus tôt le "
            f"{_day(earliest, 'fr')}, demandée le {_day(effective_on, 'fr')}."
        )
        en.append(
            f"Notice of {_delay_text(required, 'en')} {verdict_en}: effective on "
            f"{_day(earliest, 'en')} at the earliest, asked for {_day(effective_on, 'en')}."
        )
    if objection_until is not None:
        fr.append(f"Le client peut s'y opposer jusqu'au {_day(objection_until, 'fr')}.")
        en.append(f"The customer may object until {_day(objection_until, 'en')}.")
    if terms.continued_use_is_acceptance and applies_on is not None:
        fr.append("L'utilisation continue du service vaut acceptation.")
        en.append("Continued use of the service is acceptance.")
    if may_terminate:
        if termination_until is not None:
            fr.append(
                "Hausse de prix : résiliation sans pénalité possible jusqu'au "
                f"{_day(termination_until, 'fr')}."
            )
            en.append(
                "Price rise: termination without penalty possible until "
                f"{_day(termination_until, 'en')}."
            )
        else:
            fr.append("Changement défavorable : résiliation sans pénalité possible.")
            en.append("Unfavourable change: termination without penalty possible.")
        if prorata_refund:
            fr.append("Les mois non consommés sont remboursés au prorata.")
            en.append("Unused months are refunded pro rata.")
    elif applies_on is not None and price_rises:
        fr.append("Le contrat n'ouvre pas de droit de résiliation pour cette hausse.")
        en.append("The contract opens no termination right for this rise.")

    return PriceChangeNotice(
        mode=mode,
        notice_sufficient=sufficient,
        required_notice=required,
        earliest_effective=earliest,
        applies_on=applies_on,
        objection_until=objection_until,
        continued_use_is_acceptance=terms.continued_use_is_acceptance,
        termination_without_penalty=may_terminate,
        termination_until=termination_until,
        prorata_refund=prorata_refund,
        explanation=Text(fr=" ".join(fr), en=" ".join(en)),
    )
