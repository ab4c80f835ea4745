"""SEC-02 [000 §7.5] "tracer l'ensemble des actions": every audit event names the row it is
about, its creation included, so that an object's whole history is found by its id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.schemas import ContactIn
from tests.integration.conftest import Builder


# SPEC: SEC-02
def test_an_objects_history_from_its_creation_is_found_by_its_id(
    session: Session, build: Builder
) -> None:
    customer = build.customer(name="Historique")
    contact = accounts.add_contact(
        session,
        customer,
        ContactIn(name="Claire Martin", email="claire@historique.fr", role="billing"),
    )
    accounts.remove_contact(session, contact)
    history = audit.query(session, audit.AuditQuery(entity="contacts", entity_id=str(contact.id)))
    assert [e.action for e in reversed(history)] == ["create", "delete"]
    assert all(e.customer_id == customer.id for e in history)
