"""CTR-08 inactivity: a contract with no use for the terms' period is terminated.

Use is a call or message recorded for the contract (usage records) or an order of the
customer; before the first one, the period runs from activation. When the period has run
(1 month [000 §10], 2 months [004 §12.2], 6 months [002 §17.3]) the contract ends at once, or
after the terms' notice (5 business days [004 §12.2]). Where the terms say so the prepaid
balance is forfeited [002 §12.7.4] and the remaining subscriptions to the term are invoiced
(CTR-05 [002 §17.6; 004 §3]).

# CTR-08 [002 §17.3] « La résiliation donnera lieu à une information auprès du Client. »
The customer is told when the termination is decided — with its date, the last use, and its
consequences (the prepaid balance forfeited, its amount when the contract ends at once; the
subscriptions invoiced; a new contract needed) — only where the terms' ``customer_informed``
says so; otherwise nothing is sent, neither then nor when the notice runs out.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.billing import wallets
from operateur.billing.models import UsageRecord, Wallet
from operateur.contracts import lifecycle, notices, termination
from operateur.contracts.models import Contract, ContractNotice, ContractStatus, NoticeKind
from operateur.contracts.service import terms_of
from operateur.domain.calendar import PARIS
from operateur.i18n import Text
from operateur.orders.service import last_order_on

ZERO = Decimal("0")


def last_activity(session: Session, contract: Contract) -> date | None:
    """The last day the contract was used (or ordered on), its activation at the earliest."""
    last_use = session.scalar(
        select(func.max(UsageRecord.started_at)).where(UsageRecord.contract_id == contract.id)
    )
    ordered = last_order_on(session, contract.customer_id)
    days = [d for d in (contract.activated_on, ordered) if d is not None]
    if last_use is not None:
        days.append(last_use.astimezone(PARIS).date())
    return max(days) if days else None


def inactive_due(session: Session, as_of: date) -> list[str]:
    """Terminate (or give notice to) every active contract idle for its terms' period."""
    done: list[str] = []
    for contract in list(
        session.scalars(select(Contract).where(Contract.status == ContractStatus.ACTIVE))
    ):
        terms = terms_of(contract).inactivity
        last = last_activity(session, contract)
        if terms is None or last is None:
            continue
        reached = terms.period.after(last)
        if reached > as_of:
            continue
        ends_on = terms.termination_notice.after(as_of) if terms.termination_notice else as_of
        period = notices.delay(terms.period)
        why = Text(
            fr=f"Aucune utilisation du service depuis le {notices.fr(last)} : après "
            f"{period.fr} d'inactivité, le contrat prend fin le {notices.fr(ends_on)}.",
            en=f"No use of the service since {notices.en(last)}: after {period.en} without "
            f"use, the contract ends on {notices.en(ends_on)}.",
        )
        extras: list[Text] = []
        if terms.remaining_subscriptions_due:
            owed = termination.early_termination_amount(session, contract, ends_on)
            termination.invoice_early_termination(session, contract, owed, ends_on, as_of)
            extras.append(owed.explanation)
        if (
            terms.prepaid_balance_forfeited
            and ends_on > as_of
            and not _shares_the_wallet(session, contract)
        ):
            extras.append(
                Text(
                    fr=f"Le solde prépayé non consommé au {notices.fr(ends_on)} restera acquis "
                    "à l'opérateur, comme le prévoient vos conditions.",
                    en=f"The prepaid balance left unused on {notices.en(ends_on)} will be "
                    "forfeited to the operator, as your terms provide.",
                )
            )
        if terms.new_contract_required:
            extras.append(
                Text(
                    fr="Seul un nouveau contrat permettra de reprendre le service.",
                    en="Only a new contract can restart the service.",
                )
            )
        session.add(
            ContractNotice(
                contract_id=contract.id,
                customer_id=contract.customer_id,
                kind=NoticeKind.INACTIVITY,
                by_operator=True,
                started_on=last,
                notified_on=as_of,
                opens_on=reached,
                closes_on=ends_on,
                summary=f"no use since {last.isoformat()}",
            )
        )
        reason = f"CTR-08 inactivity since {last.isoformat()}"
        inform = terms.customer_informed
        if ends_on > as_of:
            lifecycle.give_notice(
                session,
                contract,
                received_on=as_of,
                ends_on=ends_on,
                reason=reason,
                why=notices.join(why, *extras),
                inform=inform,
            )
        else:
            # forfeited before the termination is told, so that the one message gives the amount
            lost = _forfeit(session, contract) if terms.prepaid_balance_forfeited else ZERO
            if lost > 0:
                extras.append(
                    Text(
                        fr=f"Le solde prépayé non consommé de {notices.eur(lost).fr} reste "
                        "acquis à l'opérateur, comme le prévoient vos conditions.",
                        en=f"The unused prepaid balance of {notices.eur(lost).en} is forfeited "
                        "to the operator, as your terms provide.",
                    )
                )
            lifecycle.terminate(
                session,
                contract,
                on=as_of,
                reason=reason,
                why=notices.join(why, *extras),
                inform=inform,
            )
        done.append(f"inactivity:{contract.reference}")
    return done


def _ended_idle(session: Session, contract: Contract) -> bool:
    """Whether the contract is (being) terminated for inactivity."""
    return (
        session.scalar(
            select(ContractNotice.id).where(
                ContractNotice.contract_id == contract.id,
                ContractNotice.kind == NoticeKind.INACTIVITY,
            )
        )
        is not None
    )


def informed(session: Session, contract: Contract) -> bool:
    """Whether the customer is told of the contract's end: always, except an end for
    inactivity under terms whose ``customer_informed`` is false (CTR-08)."""
    terms = terms_of(contract).inactivity
    return terms is None or terms.customer_informed or not _ended_idle(session, contract)


def _shares_the_wallet(session: Session, contract: Contract) -> bool:
    """Whether another contract of the customer is still live: the prepaid balance is the
    customer's, one for all its contracts, and still pays for that one."""
    return (
        session.scalar(
            select(Contract.id).where(
                Contract.customer_id == contract.customer_id,
                Contract.id != contract.id,
                Contract.status.in_(lifecycle.LIVE),
            )
        )
        is not None
    )


def _forfeit(session: Session, contract: Contract) -> Decimal:
    """CTR-08 [002 §12.7.4] the customer's prepaid balance lost (once: by its reference), unless
    another live contract of the customer still draws on it."""
    if session.scalar(select(Wallet.id).where(Wallet.customer_id == contract.customer_id)) is None:
        return ZERO
    if _shares_the_wallet(session, contract):
        return ZERO
    return wallets.forfeit(session, contract.customer_id, f"inactivity:{contract.reference}")


def on_end(session: Session, contract: Contract) -> None:
    """When a contract ended for inactivity after a notice: CTR-08 [002 §12.7.4] the prepaid
    balance is lost where the terms say so, and the customer told where they say so."""
    terms = terms_of(contract).inactivity
    if terms is None or not terms.prepaid_balance_forfeited or not _ended_idle(session, contract):
        return
    amount = _forfeit(session, contract)
    if amount > 0 and terms.customer_informed:
        notices.send(
            session,
            contract,
            "wallet.forfeited",
            subject=Text(
                fr=f"Solde prépayé perdu — contrat {contract.reference}",
                en=f"Prepaid balance forfeited — contract {contract.reference}",
            ),
            body=Text(
                fr=f"Le contrat ayant pris fin pour inactivité, le solde prépayé de "
                f"{notices.eur(amount).fr} est perdu, comme le prévoient vos conditions.",
                en=f"As the contract ended for inactivity, the prepaid balance of "
                f"{notices.eur(amount).en} is forfeited, as your terms provide.",
            ),
            key=f"forfeit:{contract.id}",
            data={"amount": amount},
            contacts="billing",
        )
