"""Which contracts' terms set a customer's privacy deadlines."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.catalog.terms import ContractTerms
from operateur.contracts.models import Contract, ContractStatus
from operateur.contracts.service import served_terms, terms_of
from operateur.errors import InvalidInput
from operateur.i18n import Text


def governing_terms(session: Session, customer_id: int, *, field: str) -> list[ContractTerms]:
    """The terms of the customer's served contracts (``SERVED``); when none is served any more,
    those of its ended contracts (their terms still govern the data kept after the end, CTR-09).
    A customer without any signed contract has no terms to read: refused, naming ``field``."""
    served = served_terms(session, customer_id)
    if served:
        return served
    contracts = list(
        session.scalars(
            select(Contract)
            .where(
                Contract.customer_id == customer_id,
                Contract.status.in_((ContractStatus.TERMINATED, ContractStatus.PURGED)),
            )
            .order_by(Contract.id)
        )
    )
    if not contracts:
        raise InvalidInput(
            Text(
                fr="Le client {customer_id} n'a aucun contrat signé : aucune condition ne fixe "
                "le délai.",
                en="Customer {customer_id} has no signed contract: no terms set the delay.",
            ),
            code="no_contract_terms",
            field=field,
            details={"customer_id": customer_id},
        )
    return [terms_of(c) for c in contracts]
