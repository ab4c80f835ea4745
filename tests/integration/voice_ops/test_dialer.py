"""The calling CRM: contacts, call lists for agents, caller IDs among the customer's numbers,
outcomes and recordings attached to contacts (VOX-18); its data deleted with the contract's
end-customer data (CTR-09)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Customer, Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.contracts import after_end, lifecycle
from operateur.contracts.models import LineKind
from operateur.dialer import service as crm
from operateur.dialer.models import EntryStatus, Outcome
from operateur.errors import Conflict, InvalidInput
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberTier
from operateur.recordings import service as recordings
from tests.integration.voice_ops.conftest import Setup

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _agent(session: Session, customer: Customer, name: str) -> int:
    user = accounts.create_user(
        session,
        system_actor("test"),
        operator_id=customer.operator_id,
        customer_id=customer.id,
        data=UserIn(
            email=f"{name}@client-{customer.id}.fr",
            display_name=name,
            password="0123456789ab",
            role=Role.CUSTOMER_USER,
        ),
    )
    return user.id


# SPEC: VOX-18
def test_agents_work_call_lists_and_outcomes_stay_on_contacts(
    setup: Setup, session: Session, tmp_path: Path
) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 2)])
    line = setup.line(contract, "agent-line", LineKind.AGENT)
    numbers.record_address_proof(
        session, customer, document="kbis", reference="K", received_on=NOW.date(), checked_by="s"
    )
    numbers.add_to_stock(session, ["+33948000001", "+33948000002"], NumberTier.STANDARD)
    caller_id = numbers.assign_random(
        session, customer, kind="non_geographic", tier=NumberTier.STANDARD, line_id=line.id
    )
    alice = _agent(session, customer, "alice")
    bob = _agent(session, customer, "bob")
    dupont = crm.add_contact(session, customer.id, name="M. Dupont", phone="06 12 34 56 01")
    durand = crm.add_contact(session, customer.id, name="Mme Durand", phone="06 12 34 56 02")
    martin = crm.add_contact(session, customer.id, name="M. Martin", phone="06 12 34 56 03")
    assert dupont.phone == "+33612345601"
    with pytest.raises(Conflict):
        crm.add_contact(session, customer.id, name="Doublon", phone="+33612345601")
    # the caller ID is one of the customer's own numbers
    other = setup.build.customer()
    numbers.record_address_proof(
        session, other, document="kbis", reference="O", received_on=NOW.date(), checked_by="s"
    )
    foreign = numbers.assign_random(
        session, other, kind="non_geographic", tier=NumberTier.STANDARD, line_id=None
    )
    with pytest.raises(InvalidInput) as refused:
        crm.create_list(session, customer.id, name="Relances", caller_id_number_id=foreign.id)
    assert refused.value.field == "caller_id_number_id"
    relances = crm.create_list(
        session, customer.id, name="Relances", caller_id_number_id=caller_id.id
    )
    crm.add_entries(session, relances, [dupont.id, durand.id], agent_user_id=alice)
    crm.add_entries(session, relances, [martin.id, dupont.id])  # Dupont only once
    first = crm.next_entry(session, relances, alice, NOW)
    assert first is not None and first.contact_id == dupont.id
    # Bob gets the entries nobody holds: Martin's
    for_bob = crm.next_entry(session, relances, bob, NOW)
    assert for_bob is not None and for_bob.contact_id == martin.id
    # Alice calls Dupont; the call is recorded
    setup.call(line, "crm-1", "+33612345601", NOW, 95)
    recording = recordings.attach(
        session, customer.id, call_id="crm-1", data=b"RIFF....WAVE", content_type="audio/wav",
        data_dir=tmp_path, max_bytes=1000,
    )  # fmt: skip
    done = crm.record_outcome(
        session, customer.id, contact_id=dupont.id, outcome=Outcome.CALLBACK,
        agent_user_id=alice, caller_id_number_id=caller_id.id, entry_id=first.id,
        call_id="crm-1", notes="Rappeler après 14 h", callback_at=NOW + timedelta(hours=5),
    )  # fmt: skip
    assert done.recording_id == recording.id and done.caller_id == caller_id.e164
    assert first.status is EntryStatus.CALLBACK
    # next for Alice: Durand (the callback is not due yet), then Dupont once it is
    second = crm.next_entry(session, relances, alice, NOW + timedelta(hours=1))
    assert second is not None and second.contact_id == durand.id
    crm.record_outcome(
        session, customer.id, contact_id=durand.id, outcome=Outcome.NOT_INTERESTED,
        agent_user_id=alice, caller_id_number_id=caller_id.id, entry_id=second.id,
    )  # fmt: skip
    assert second.status is EntryStatus.DONE
    assert crm.next_entry(session, relances, alice, NOW + timedelta(hours=2)) is None
    due = crm.next_entry(session, relances, alice, NOW + timedelta(hours=5))
    assert due is not None and due.contact_id == dupont.id
    [call] = crm.history(session, customer.id, dupont.id)
    assert (call.outcome, call.recording_id, call.notes) == (
        Outcome.CALLBACK,
        recording.id,
        "Rappeler après 14 h",
    )

    # CTR-09: 60 days after the end of the contract the CRM data is deleted
    lifecycle.terminate(session, contract, on=date(2026, 3, 31), reason="end")
    after_end.purge_due(session, date(2026, 5, 30))
    assert crm.list_contacts(session, customer.id) == []


# SPEC: VOX-18
def test_only_calling_crm_offers_have_the_crm(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    with pytest.raises(Conflict) as refused:
        crm.add_contact(session, customer.id, name="X", phone="0612345601")
    assert refused.value.code == "crm_no_contract"
