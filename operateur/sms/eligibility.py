"""Who may have the SMS service (SMS-10 [004 SMS annex §2]): "réservé aux personnes morales
établies en France et pouvant justifier d'un moyen de paiement en Euros".

Checked at the contract's signature (``operateur.contracts.service.sign``: a contract whose terms
keep the SMS service cannot be signed for anyone else; the SMS option may be taken out of its
terms instead, 004 annex §3) and again before every send (``operateur.sms.service.context``),
since a customer's details may change after signature. Conditions, each named when missing:

- ``legal_entity``: a legal form that is not a natural person's (INSEE category 1xxx,
  "entrepreneur individuel" and its variants);
- ``established_in_france``: country FR and a SIREN;
- ``pays_in_euros``: a euro means of payment — the contract is in euros, and the bank account on
  file (required for a SEPA direct debit, the only method of the 004 offer, §9.2) is in the SEPA
  zone, whose payments are in euros.

This module imports nothing of the contracts context, so that signing can use it.
"""

from __future__ import annotations

import re
import unicodedata

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from operateur.accounts.models import Customer
from operateur.catalog.terms import ContractTerms, PaymentMethod
from operateur.errors import Conflict
from operateur.i18n import Text

# Legal forms of natural persons (INSEE "catégories juridiques" 1xxx: entrepreneur individuel),
# folded: they are not "personnes morales" (SMS-10).
_NATURAL_PERSON_FORMS = frozenset(
    {"ei", "eirl", "entrepreneurindividuel", "microentreprise", "autoentrepreneur", "me"}
)

NOT_ELIGIBLE = Text(
    fr="Le service SMS est réservé aux personnes morales établies en France pouvant justifier "
    "d'un moyen de paiement en euros (SMS-10) : {missing}.",
    en="The SMS service is reserved to legal entities established in France with a means of "
    "payment in euros (SMS-10): {missing}.",
)

NOT_ELIGIBLE_AT_SIGNATURE = Text(
    fr="Le contrat ne peut être signé avec le service SMS : il est réservé aux personnes morales "
    "établies en France pouvant justifier d'un moyen de paiement en euros (SMS-10). Manque : "
    "{missing}. Compléter la fiche client, ou retirer l'option SMS des conditions du contrat.",
    en="The contract cannot be signed with the SMS service: it is reserved to legal entities "
    "established in France with a means of payment in euros (SMS-10). Missing: {missing}. "
    "Complete the customer's details, or take the SMS option out of the contract's terms.",
)


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]", "", plain)


def _in_sepa_zone(iban: str) -> bool:
    try:
        return bool(IBAN(iban).in_sepa_zone)
    except SchwiftyException:
        return False


def missing_conditions(customer: Customer, terms: ContractTerms) -> list[str]:
    """The SMS-10 conditions the customer does not meet under ``terms`` (empty when the terms
    do not reserve the service, or when every condition is met)."""
    rules = terms.sms
    if rules is None or not rules.french_entities_paying_eur_only:
        return []
    missing: list[str] = []
    if _fold(customer.legal_form) in _NATURAL_PERSON_FORMS:
        missing.append("legal_entity")
    if customer.country != "FR" or not customer.siren:
        missing.append("established_in_france")
    account_needed = customer.payment_method is PaymentMethod.SEPA_DIRECT_DEBIT
    if (
        terms.billing.currency != "EUR"
        or (account_needed and not customer.iban)
        or (customer.iban and not _in_sepa_zone(customer.iban))
    ):
        missing.append("pays_in_euros")
    return missing


def check_eligibility(customer: Customer, terms: ContractTerms) -> None:
    """SMS-10 before a send: ``Conflict`` ``sms_not_eligible`` naming what is missing."""
    missing = missing_conditions(customer, terms)
    if missing:
        raise Conflict(
            NOT_ELIGIBLE, code="sms_not_eligible", details={"missing": ", ".join(missing)}
        )


def check_signable(customer: Customer, terms: ContractTerms) -> None:
    """SMS-10 at the contract's signature: ``Conflict`` ``sms_not_eligible`` naming what is
    missing and the two ways out."""
    missing = missing_conditions(customer, terms)
    if missing:
        raise Conflict(
            NOT_ELIGIBLE_AT_SIGNATURE,
            code="sms_not_eligible",
            details={"missing": ", ".join(missing), "rule": "SMS-10"},
        )
