"""Tacit renewal at term end (CTR-03) and licence-count changes (CTR-04).

A contract that renews tacitly starts its next term on its own: the scheduler records the
renewal on the first day of the new term and tells the customer. A licence-count change asked
during a term takes effect at a renewal: the next one, or — where the terms set a cut-off day
(the 20th [000 §5]) and the change is asked on or after it — the one after. Contracts whose
terms recount the units at renewal (the mail offer, +20 % free during the term [003 §3.1]) are
recounted from the mailboxes in service by ``operateur.mail.licences`` instead.

A change is handed to billing by splitting the subscription on its effective day: the old
quantity ends the day before, the new one starts that day. It is applied on the last day of
the month before (or on the day itself, whichever comes first), before that day's billing run,
so an invoice billing in advance already bills the new quantity.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.contracts import lifecycle, notices
from operateur.contracts.commitment import Schedule
from operateur.contracts.models import (
    Contract,
    ContractEvent,
    ContractStatus,
    LicenceChange,
    Subscription,
)
from operateur.contracts.service import (
    contract_schedule,
    record_transition,
    require_state,
    terms_of,
)
from operateur.domain.calendar import last_day_of_month
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text

RENEWING = (ContractStatus.ACTIVE, ContractStatus.SUSPENDED)
CATCH_UP = timedelta(days=31)  # a renewal missed while the scheduler was down is still recorded


def _next_renewal(contract: Contract, on: date) -> Schedule:
    plan = contract_schedule(contract, on)
    if plan is None or not plan.renews or plan.next_term_months is None:
        raise Conflict(
            Text(
                fr="Le contrat {ref} n'est pas reconduit : un changement de quantité passe par "
                "une commande.",
                en="Contract {ref} does not renew: a quantity change goes through an order.",
            ),
            code="no_renewal",
            details={"ref": contract.reference},
        )
    return plan


def effective_date(contract: Contract, on: date) -> date:
    """CTR-04: the renewal at which a licence-count change asked on ``on`` takes effect."""
    terms = terms_of(contract).commitment
    if terms.recount_at_renewal:
        raise Conflict(
            Text(
                fr="Les quantités du contrat {ref} sont recomptées à chaque reconduction d'après "
                "les unités en service.",
                en="Contract {ref} is recounted at each renewal from the units in service.",
            ),
            code="recounted_at_renewal",
            details={"ref": contract.reference},
        )
    plan = _next_renewal(contract, on)
    renewal = plan.term_end + timedelta(days=1)
    cutoff = terms.licence_change_cutoff_day
    if cutoff is not None and on.day >= cutoff:
        # the renewal after: the end of the next term, anchored on the commitment's start
        renewal = _next_renewal(contract, renewal).term_end + timedelta(days=1)
    return renewal


def request_change(
    session: Session, contract: Contract, sub: Subscription, quantity: int, on: date
) -> LicenceChange:
    """Record a licence-count change asked on ``on``, applied at :func:`effective_date`."""
    require_state(contract, "change a licence count", RENEWING)
    lifecycle.require_no_notice(contract)  # under notice: no renewal left to take effect at
    if sub.contract_id != contract.id:
        raise InvalidInput(
            Text(fr="Abonnement d'un autre contrat.", en="Subscription of another contract."),
            field="subscription_id",
        )
    if quantity < 1:
        raise InvalidInput(
            Text(fr="Au moins une unité.", en="At least one unit."), field="quantity"
        )
    change = LicenceChange(
        contract_id=contract.id,
        customer_id=contract.customer_id,
        subscription_id=sub.id,
        quantity=quantity,
        requested_on=on,
        effective_on=effective_date(contract, on),
    )
    session.add(change)
    session.flush()
    return change


def list_changes(session: Session, contract: Contract) -> list[LicenceChange]:
    return list(
        session.scalars(
            select(LicenceChange)
            .where(LicenceChange.contract_id == contract.id)
            .order_by(LicenceChange.id)
        )
    )


def application_day(effective_on: date) -> date:
    """The day a change effective on ``effective_on`` is applied: the last day of the month
    before (before that day's billing run), or the day itself."""
    return min(effective_on, last_day_of_month(effective_on.replace(day=1) - timedelta(days=1)))


def apply_due_changes(session: Session, as_of: date) -> list[str]:
    """Split the subscriptions whose licence change is due (see the module's docstring)."""
    done: list[str] = []
    changes = session.scalars(
        select(LicenceChange)
        .where(LicenceChange.applied_on.is_(None))
        .order_by(LicenceChange.effective_on, LicenceChange.id)
    )
    for change in list(changes):
        if application_day(change.effective_on) > as_of:
            continue
        contract = session.get(Contract, change.contract_id)
        old = session.get(Subscription, change.subscription_id)
        assert contract is not None and old is not None
        change.applied_on = as_of
        if contract.status not in RENEWING or old.quantity == change.quantity:
            continue
        start = max(change.effective_on, old.start_date or change.effective_on)
        old.end_date = start - timedelta(days=1)
        new = Subscription(
            contract_id=old.contract_id,
            customer_id=old.customer_id,
            item_code=old.item_code,
            label=old.label,
            quantity=change.quantity,
            unit_price_nrc=Decimal("0"),  # the set-up fee was billed with the first one
            unit_price_mrc=old.unit_price_mrc,
            start_date=start,
            end_date=None,
        )
        session.add(new)
        session.flush()
        # later changes of the same subscription now apply to its continuation
        for later in session.scalars(
            select(LicenceChange).where(
                LicenceChange.subscription_id == old.id, LicenceChange.applied_on.is_(None)
            )
        ):
            later.subscription_id = new.id
        done.append(f"licences:{contract.reference}:{old.item_code}:{change.quantity}")
    session.flush()
    return done


def _renewed(session: Session, contract: Contract, term_start: date) -> bool:
    for event in session.scalars(
        select(ContractEvent).where(
            ContractEvent.contract_id == contract.id, ContractEvent.transition == "renew"
        )
    ):
        if event.details.get("term_start") == term_start.isoformat():
            return True
    return False


def renewals_due(session: Session, as_of: date) -> list[str]:
    """CTR-03: record the tacit renewal of every contract whose new term has started, once.
    A contract under notice (``ends_on`` set, suspended meanwhile or not) never renews."""
    done: list[str] = []
    for contract in list(
        session.scalars(
            select(Contract).where(Contract.status.in_(RENEWING), Contract.ends_on.is_(None))
        )
    ):
        plan = contract_schedule(contract, as_of)
        if (
            plan is None
            or plan.term_number == 0
            or plan.term_start < as_of - CATCH_UP  # long past: the scheduler was not running
            or _renewed(session, contract, plan.term_start)
        ):
            continue
        months = terms_of(contract).commitment.renewal_months
        assert months is not None
        record_transition(
            session,
            contract,
            "renew",
            RENEWING,
            contract.status,
            f"tacit renewal for {months} months from {plan.term_start.isoformat()}",
            {"term_start": plan.term_start.isoformat(), "term_end": plan.term_end.isoformat()},
        )
        changed = list(
            session.scalars(
                select(LicenceChange).where(
                    LicenceChange.contract_id == contract.id,
                    LicenceChange.effective_on == plan.term_start,
                )
            )
        )
        text = None
        if changed:
            counts = ", ".join(str(c.quantity) for c in changed)
            text = Text(
                fr=f"Quantités recomptées et facturées pour la nouvelle période : {counts}.",
                en=f"Quantities recounted and billed for the new term: {counts}.",
            )
        notices.renewed(
            session,
            contract,
            on=plan.term_start,
            months=months,
            term_end=plan.term_end,
            changes=text,
        )
        done.append(f"renewed:{contract.reference}:{plan.term_start.isoformat()}")
    return done
