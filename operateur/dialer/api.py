"""REST endpoints of the calling CRM (VOX-18), for the customer's administrators and agents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from operateur.accounts.permissions import Actor, Permission
from operateur.db import utcnow
from operateur.dialer import service as crm
from operateur.dialer.schemas import (
    CallListIn,
    CallListOut,
    ContactDetailOut,
    ContactIn,
    ContactOut,
    EntriesIn,
    EntryOut,
    NextIn,
    OutcomeIn,
    OutcomeOut,
)
from operateur.errors import InvalidInput
from operateur.http.deps import SessionDep, require
from operateur.i18n import Text

router = APIRouter(tags=["crm"])

Agent = Annotated[Actor, require(Permission.DIALER_USE)]
BASE = "/customers/{customer_id}/crm"


@router.get(f"{BASE}/contacts", response_model=list[ContactOut])
def list_contacts(customer_id: int, actor: Agent, session: SessionDep) -> list[ContactOut]:
    return [ContactOut.model_validate(c) for c in crm.list_contacts(session, customer_id)]


@router.post(f"{BASE}/contacts", response_model=ContactOut, status_code=status.HTTP_201_CREATED)
def add_contact(customer_id: int, body: ContactIn, actor: Agent, session: SessionDep) -> ContactOut:
    return ContactOut.model_validate(crm.add_contact(session, customer_id, **body.model_dump()))


@router.get(f"{BASE}/contacts/{{crm_contact_id}}", response_model=ContactDetailOut)
def get_contact(
    customer_id: int, crm_contact_id: int, actor: Agent, session: SessionDep
) -> ContactDetailOut:
    """A contact with every call made to it, outcomes and recordings."""
    contact = crm.get_contact(session, customer_id, crm_contact_id)
    return ContactDetailOut(
        **ContactOut.model_validate(contact).model_dump(),
        history=[
            OutcomeOut.model_validate(o) for o in crm.history(session, customer_id, contact.id)
        ],
    )


@router.get(f"{BASE}/call-lists", response_model=list[CallListOut])
def list_lists(customer_id: int, actor: Agent, session: SessionDep) -> list[CallListOut]:
    return [CallListOut.model_validate(c) for c in crm.list_lists(session, customer_id)]


@router.post(f"{BASE}/call-lists", response_model=CallListOut, status_code=status.HTTP_201_CREATED)
def create_list(
    customer_id: int, body: CallListIn, actor: Agent, session: SessionDep
) -> CallListOut:
    call_list = crm.create_list(
        session, customer_id, name=body.name, caller_id_number_id=body.caller_id_number_id
    )
    return CallListOut.model_validate(call_list)


@router.post(f"{BASE}/call-lists/{{call_list_id}}/entries", response_model=list[EntryOut])
def add_entries(
    customer_id: int, call_list_id: int, body: EntriesIn, actor: Agent, session: SessionDep
) -> list[EntryOut]:
    call_list = crm.get_list(session, customer_id, call_list_id)
    entries = crm.add_entries(
        session, call_list, body.contact_ids, agent_user_id=body.agent_user_id
    )
    return [EntryOut.model_validate(e) for e in entries]


@router.post(f"{BASE}/call-lists/{{call_list_id}}/next", response_model=EntryOut | None)
def next_entry(
    customer_id: int, call_list_id: int, body: NextIn, actor: Agent, session: SessionDep
) -> EntryOut | None:
    """The next contact for the agent to call (null when the list is done)."""
    call_list = crm.get_list(session, customer_id, call_list_id)
    agent = body.agent_user_id or actor.user_id
    if agent is None:
        raise InvalidInput(
            Text(fr="Précisez l'agent.", en="Name the agent."), field="agent_user_id"
        )
    entry = crm.next_entry(session, call_list, agent, utcnow())
    return EntryOut.model_validate(entry) if entry else None


@router.post(f"{BASE}/outcomes", response_model=OutcomeOut, status_code=status.HTTP_201_CREATED)
def record_outcome(
    customer_id: int, body: OutcomeIn, actor: Agent, session: SessionDep
) -> OutcomeOut:
    outcome = crm.record_outcome(
        session,
        customer_id,
        contact_id=body.contact_id,
        outcome=body.outcome,
        agent_user_id=body.agent_user_id or actor.user_id,
        caller_id_number_id=body.caller_id_number_id,
        entry_id=body.entry_id,
        call_id=body.call_id,
        notes=body.notes,
        callback_at=body.callback_at,
    )
    return OutcomeOut.model_validate(outcome)
