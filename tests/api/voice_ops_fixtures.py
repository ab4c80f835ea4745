"""Voice-operations objects of a tenant of the API test world: a proof of address (numbers are
only assigned with one, VOX-14), a calling-CRM contract with a call and its recording (VOX-12),
a port-in request (VOX-15), calling-CRM contacts and lists (VOX-18), so that every route naming
one has one to reach (or to be refused)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.billing import usage
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind
from operateur.contracts.schemas import LineIn
from operateur.dialer import service as crm
from operateur.numbers import portability, rio
from operateur.numbers import service as numbers
from operateur.recordings import service as recordings

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "  # the start of a WAV file is enough to store one


def address_proof(session: Session, customer: Customer) -> None:
    numbers.record_address_proof(
        session,
        customer,
        document="kbis",
        reference=f"KBIS-{customer.id}",
        received_on=date.today(),
        checked_by="test",
    )


def voice_ops_objects(
    session: Session, customer: Customer, line_id: int, number_id: int, data_dir: Path
) -> dict[str, int]:
    crm_contract = contracts.create_contract(session, customer, "crm-voip", {})
    contracts.sign(session, crm_contract, "Signataire")
    contracts.activate(session, crm_contract, date.today())
    agent = contracts.create_line(
        session,
        customer.id,
        LineIn(contract_id=crm_contract.id, kind=LineKind.AGENT, label="Agent"),
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    call = usage.record_call(
        session,
        usage.CallData(
            source="test",
            call_id=f"call-{customer.id}",
            account=agent.sip_username,
            caller="+33199000001",
            callee="+33140000001",
            start=start,
            answer=start + timedelta(seconds=3),
            end=start + timedelta(seconds=63),
            disposition="ANSWERED",
        ),
    )
    recording = recordings.attach(
        session,
        customer.id,
        call_id=call.external_id,
        data=WAV + str(customer.id).encode(),
        content_type="audio/wav",
        data_dir=data_dir,
        max_bytes=1_000_000,
    )
    ported = f"+3314000007{customer.id % 10}"
    code = "02F12345" + str(customer.id % 10)
    port = portability.request_port_in(
        session,
        customer,
        number=ported,
        rio_code=code + rio.key(code[:2], code[2], code[3:], "0" + ported[3:]),
        line_id=line_id,
        holder_name=customer.name,
    )
    contact = crm.add_contact(
        session, customer.id, name=f"Prospect {customer.id}", phone=f"+3361234567{customer.id % 10}"
    )
    call_list = crm.create_list(
        session, customer.id, name="Relances", caller_id_number_id=number_id
    )
    crm.add_entries(session, call_list, [contact.id])
    return {
        "recording_id": recording.id,
        "port_id": port.id,
        "crm_contact_id": contact.id,
        "call_list_id": call_list.id,
    }
