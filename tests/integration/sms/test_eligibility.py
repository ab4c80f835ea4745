"""SMS-10 at the contract's signature: the 004 SMS service is "réservé aux personnes morales
établies en France et pouvant justifier d'un moyen de paiement en Euros" [004 SMS annex §2]."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, ContractStatus
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict
from operateur.sms import service
from operateur.sms.service import SendRequest
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import TUESDAY_10H

SIGNED_AT = datetime.combine(date(2026, 1, 5), time(9), tzinfo=PARIS)


def _sign(
    session: Session, customer: Customer, overrides: dict[str, object] | None = None
) -> Contract:
    contract = contracts.create_contract(session, customer, "telecom", overrides or {})
    return contracts.sign(session, contract, "Signataire", SIGNED_AT)


def _refused(session: Session, customer: Customer) -> Conflict:
    contract = contracts.create_contract(session, customer, "telecom", {})
    with pytest.raises(Conflict) as refused:
        contracts.sign(session, contract, "Signataire", SIGNED_AT)
    assert contract.status is ContractStatus.DRAFT and contract.signed_at is None
    return refused.value


def test_a_company_established_abroad_cannot_sign_the_sms_service(
    session: Session, build: Builder
) -> None:
    # SPEC: SMS-10 checked when the contract is signed, the refusal naming the rule in FR/EN
    belgian = build.customer(country="BE", vat_number="BE0403170701", name="Belge")
    error = _refused(session, belgian)
    assert error.code == "sms_not_eligible"
    assert error.details["missing"] == "established_in_france"
    assert error.details["rule"] == "SMS-10"
    french = error.render("fr")
    assert "SMS-10" in french and "personnes morales établies en France" in french
    assert "retirer l'option SMS" in french
    english = error.render("en")
    assert "SMS-10" in english and "legal entities established in France" in english


def test_a_natural_person_cannot_sign_the_sms_service(session: Session, build: Builder) -> None:
    # SPEC: SMS-10 "personnes morales": an entrepreneur individuel is a natural person
    sole_trader = build.customer(name="Jean Dupont")
    sole_trader.legal_form = "Entrepreneur individuel"
    assert _refused(session, sole_trader).details["missing"] == "legal_entity"


def test_a_means_of_payment_in_euros_is_needed_at_signature(
    session: Session, build: Builder
) -> None:
    # SPEC: SMS-10 "pouvant justifier d'un moyen de paiement en Euros": the direct debit the
    # 004 offer requires [004 §9.2] draws on a SEPA account; a Turkish account is not one.
    debtor = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT, name="Compte TR")
    debtor.iban = "TR330006100519786457841326"
    assert _refused(session, debtor).details["missing"] == "pays_in_euros"
    debtor.iban = "FR7630006000011234567890189"
    assert _sign(session, debtor).status is ContractStatus.SIGNED


def test_an_eligible_company_signs_and_the_sms_option_can_be_taken_out(
    session: Session, build: Builder
) -> None:
    # SPEC: SMS-10 a French company signs; the foreign one signs once the SMS option is taken
    # out of its terms [004 SMS annex §3 "Cette option pourra être désactivée"], and then has
    # no SMS service
    company = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT, name="SARL FR")
    assert _sign(session, company).status is ContractStatus.SIGNED

    belgian = build.customer(country="BE", vat_number="BE0403170701", name="Belge")
    contract = _sign(session, belgian, {"sms": None})
    assert contract.status is ContractStatus.SIGNED
    contracts.activate(session, contract, SIGNED_AT.date())
    with pytest.raises(Conflict) as refused:
        service.send(session, belgian.id, SendRequest(to="0612345678", text="x"), now=TUESDAY_10H)
    assert refused.value.code == "sms_service_not_in_contract"
