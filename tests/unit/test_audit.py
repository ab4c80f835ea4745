"""The audit log records every write and cannot itself be changed (SEC-02, MAIL-11)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import AuditEvent
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, OperatorIn
from operateur.errors import Conflict


def _operator(session: Session) -> int:
    return accounts.create_operator(
        session,
        OperatorIn(
            name="Op",
            legal_form="SAS",
            siren="732829320",
            address_line="1 rue",
            postal_code="69001",
            city="Lyon",
            email="op@operateur-test.fr",
        ),
    ).id


# SPEC: SEC-02
def test_create_update_delete_are_recorded_with_actor_and_reason(session: Session) -> None:
    audit.set_actor(session, system_actor("cli:alice"), reason="ticket 42")
    customer = accounts.create_customer(
        session,
        _operator(session),
        CustomerIn(
            name="Boulangerie",
            legal_form="SARL",
            siren="552100554",
            address_line="1 rue",
            postal_code="75001",
            city="Paris",
            email="a@boulangerie.fr",
            payment_method="transfer",
        ),
    )
    customer.city = "Lyon"
    session.flush()
    events = audit.query(session, audit.AuditQuery(customer_id=customer.id))
    assert [(e.action, e.entity) for e in events] == [
        ("update", "customers"),
        ("create", "customers"),
    ]
    update, create = events
    assert update.before == {"city": "Paris"} and update.after == {"city": "Lyon"}
    assert create.after is not None and create.after["siren"] == "552100554"
    assert update.actor_label == "cli:alice" and update.reason == "ticket 42"


# SPEC: SEC-02
def test_the_audit_log_is_append_only(session: Session) -> None:
    _operator(session)
    session.commit()
    event = session.scalars(select(AuditEvent)).first()
    assert event is not None
    event.reason = "rewritten"
    with pytest.raises(Conflict):
        session.flush()
    session.rollback()
    event = session.scalars(select(AuditEvent)).first()
    assert event is not None
    session.delete(event)
    with pytest.raises(Conflict):
        session.flush()
