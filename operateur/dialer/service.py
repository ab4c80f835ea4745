"""The calling CRM (VOX-18 [000 §1]): the customer's contacts, call lists handed to its agents,
caller IDs chosen among the customer's own numbers, outcomes of each call with the call's
recording attached to the contact. Each function takes a session and commits nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from operateur.accounts.models import User
from operateur.catalog.service import get_offer
from operateur.catalog.terms import Service
from operateur.contracts import after_end, lifecycle
from operateur.contracts.models import SERVED, Contract
from operateur.dialer.models import (
    CallList,
    CallListEntry,
    CallOutcome,
    CrmContact,
    EntryStatus,
    Outcome,
)
from operateur.domain.numbering import parse_number
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.numbers.models import NumberStatus, PhoneNumber
from operateur.recordings.models import CallRecording


def _require_crm(session: Session, customer_id: int) -> None:
    decision = lifecycle.may_use(session, customer_id, Service.CRM)
    if not decision.allowed:
        raise Conflict(decision.reason, code=f"crm_{decision.code}")


def _not_found(what: Text, object_id: int) -> NotFound:
    return NotFound(what, code="crm_not_found", details={"id": object_id})


# --- contacts ----------------------------------------------------------------------------------


def add_contact(
    session: Session,
    customer_id: int,
    *,
    name: str,
    phone: str,
    company: str = "",
    email: str | None = None,
    notes: str = "",
) -> CrmContact:
    """A contact to call, once per number of the customer."""
    _require_crm(session, customer_id)
    e164 = parse_number(phone, field="phone")
    if not name.strip():
        raise InvalidInput(Text(fr="Nom obligatoire.", en="A name is required."), field="name")
    if session.scalar(
        select(CrmContact.id).where(CrmContact.customer_id == customer_id, CrmContact.phone == e164)
    ):
        raise Conflict(
            Text(fr="Un contact a déjà le {phone}.", en="A contact already has {phone}."),
            code="crm_contact_exists",
            field="phone",
            details={"phone": e164},
        )
    contact = CrmContact(
        customer_id=customer_id,
        name=name.strip(),
        company=company.strip(),
        phone=e164,
        email=email,
        notes=notes,
    )
    session.add(contact)
    session.flush()
    return contact


def list_contacts(session: Session, customer_id: int) -> list[CrmContact]:
    return list(
        session.scalars(
            select(CrmContact).where(CrmContact.customer_id == customer_id).order_by(CrmContact.id)
        )
    )


def get_contact(session: Session, customer_id: int, contact_id: int) -> CrmContact:
    contact = session.scalar(
        select(CrmContact).where(CrmContact.id == contact_id, CrmContact.customer_id == customer_id)
    )
    if contact is None:
        raise _not_found(
            Text(fr="Contact {id} introuvable.", en="Contact {id} not found."), contact_id
        )
    return contact


def history(session: Session, customer_id: int, contact_id: int) -> list[CallOutcome]:
    """The calls to a contact, newest first, with their recordings."""
    get_contact(session, customer_id, contact_id)
    return list(
        session.scalars(
            select(CallOutcome)
            .where(CallOutcome.customer_id == customer_id, CallOutcome.contact_id == contact_id)
            .order_by(CallOutcome.id.desc())
        )
    )


# --- call lists --------------------------------------------------------------------------------


def _own_number(session: Session, customer_id: int, number_id: int) -> PhoneNumber:
    """VOX-18 [000 §1], VOX-09: the caller ID is one of the customer's assigned numbers."""
    number = session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.id == number_id,
            PhoneNumber.customer_id == customer_id,
            PhoneNumber.status == NumberStatus.ASSIGNED,
        )
    )
    if number is None:
        raise InvalidInput(
            Text(
                fr="Le numéro présenté doit être l'un de vos numéros attribués.",
                en="The caller ID must be one of your assigned numbers.",
            ),
            field="caller_id_number_id",
        )
    return number


def create_list(
    session: Session, customer_id: int, *, name: str, caller_id_number_id: int
) -> CallList:
    _require_crm(session, customer_id)
    _own_number(session, customer_id, caller_id_number_id)
    if not name.strip():
        raise InvalidInput(Text(fr="Nom obligatoire.", en="A name is required."), field="name")
    call_list = CallList(
        customer_id=customer_id, name=name.strip(), caller_id_number_id=caller_id_number_id
    )
    session.add(call_list)
    session.flush()
    return call_list


def list_lists(session: Session, customer_id: int) -> list[CallList]:
    return list(
        session.scalars(
            select(CallList).where(CallList.customer_id == customer_id).order_by(CallList.id)
        )
    )


def get_list(session: Session, customer_id: int, list_id: int) -> CallList:
    call_list = session.scalar(
        select(CallList).where(CallList.id == list_id, CallList.customer_id == customer_id)
    )
    if call_list is None:
        raise _not_found(
            Text(fr="Liste {id} introuvable.", en="Call list {id} not found."), list_id
        )
    return call_list


def _agent(session: Session, customer_id: int, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    user = session.scalar(select(User).where(User.id == user_id, User.customer_id == customer_id))
    if user is None or not user.active:
        raise InvalidInput(
            Text(
                fr="L'agent doit être un utilisateur actif du client.",
                en="The agent must be an active user of the customer.",
            ),
            field="agent_user_id",
        )
    return user.id


def add_entries(
    session: Session,
    call_list: CallList,
    contact_ids: list[int],
    *,
    agent_user_id: int | None = None,
) -> list[CallListEntry]:
    """Put contacts on a list (each once), for an agent or for whoever takes them."""
    agent = _agent(session, call_list.customer_id, agent_user_id)
    position = session.scalar(
        select(func.coalesce(func.max(CallListEntry.position), 0)).where(
            CallListEntry.list_id == call_list.id
        )
    )
    present = set(
        session.scalars(
            select(CallListEntry.contact_id).where(CallListEntry.list_id == call_list.id)
        )
    )
    added: list[CallListEntry] = []
    for contact_id in dict.fromkeys(contact_ids):
        get_contact(session, call_list.customer_id, contact_id)
        if contact_id in present:
            continue
        position = (position or 0) + 1
        entry = CallListEntry(
            customer_id=call_list.customer_id,
            list_id=call_list.id,
            contact_id=contact_id,
            agent_user_id=agent,
            position=position,
            status=EntryStatus.TO_CALL,
        )
        session.add(entry)
        added.append(entry)
    session.flush()
    return added


def next_entry(
    session: Session, call_list: CallList, agent_user_id: int, now: datetime
) -> CallListEntry | None:
    """The agent's next contact to call: a callback now due first, then the list in order
    (entries for this agent or for anyone); the entry is then the agent's."""
    agent = _agent(session, call_list.customer_id, agent_user_id)
    mine_or_free = (CallListEntry.agent_user_id == agent) | CallListEntry.agent_user_id.is_(None)
    entry = session.scalar(
        select(CallListEntry)
        .where(
            CallListEntry.list_id == call_list.id,
            CallListEntry.status == EntryStatus.CALLBACK,
            CallListEntry.callback_at <= now,
            mine_or_free,
        )
        .order_by(CallListEntry.callback_at)
        .limit(1)
    ) or session.scalar(
        select(CallListEntry)
        .where(
            CallListEntry.list_id == call_list.id,
            CallListEntry.status == EntryStatus.TO_CALL,
            mine_or_free,
        )
        .order_by(CallListEntry.position)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if entry is not None:
        entry.agent_user_id = agent
        session.flush()
    return entry


def get_entry(session: Session, customer_id: int, entry_id: int) -> CallListEntry:
    entry = session.scalar(
        select(CallListEntry).where(
            CallListEntry.id == entry_id, CallListEntry.customer_id == customer_id
        )
    )
    if entry is None:
        raise _not_found(Text(fr="Appel {id} introuvable.", en="Entry {id} not found."), entry_id)
    return entry


# --- outcomes ----------------------------------------------------------------------------------


def record_outcome(
    session: Session,
    customer_id: int,
    *,
    contact_id: int,
    outcome: Outcome,
    agent_user_id: int | None,
    caller_id_number_id: int,
    entry_id: int | None = None,
    call_id: str | None = None,
    notes: str = "",
    callback_at: datetime | None = None,
) -> CallOutcome:
    """What came of a call: kept on the contact with the call's recording, if there is one;
    a callback puts the contact back on the list for its time."""
    contact = get_contact(session, customer_id, contact_id)
    number = _own_number(session, customer_id, caller_id_number_id)
    agent = _agent(session, customer_id, agent_user_id)
    entry = get_entry(session, customer_id, entry_id) if entry_id is not None else None
    if entry is not None and entry.contact_id != contact.id:
        raise InvalidInput(
            Text(fr="Cet appel concerne un autre contact.", en="This entry is another contact's."),
            field="entry_id",
        )
    if outcome is Outcome.CALLBACK and callback_at is None:
        raise InvalidInput(
            Text(fr="Un rappel a sa date et son heure.", en="A callback has its time."),
            field="callback_at",
        )
    recording = (
        session.scalar(
            select(CallRecording.id)
            .where(CallRecording.customer_id == customer_id, CallRecording.call_id == call_id)
            .order_by(CallRecording.id)
            .limit(1)
        )
        if call_id
        else None
    )
    row = CallOutcome(
        customer_id=customer_id,
        contact_id=contact.id,
        entry_id=entry.id if entry else None,
        agent_user_id=agent,
        caller_id=number.e164,
        call_id=call_id,
        recording_id=recording,
        outcome=outcome,
        notes=notes,
    )
    session.add(row)
    if entry is not None:
        entry.status = EntryStatus.CALLBACK if outcome is Outcome.CALLBACK else EntryStatus.DONE
        entry.callback_at = callback_at if outcome is Outcome.CALLBACK else None
    session.flush()
    return row


# --- CTR-09 -------------------------------------------------------------------------------------


@after_end.register_eraser
def erase_crm_data(session: Session, contract: Contract) -> int:
    """CTR-09 [000 §7.4]: a purged calling-CRM contract takes the customer's CRM data with it,
    unless another live contract of the customer still includes the CRM."""
    if Service.CRM not in get_offer(contract.offer_id).services:
        return 0
    others = session.scalars(
        select(Contract).where(
            Contract.customer_id == contract.customer_id,
            Contract.id != contract.id,
            Contract.status.in_(SERVED),
        )
    )
    if any(Service.CRM in get_offer(other.offer_id).services for other in others):
        return 0
    deleted = 0
    for table in (CallOutcome, CallListEntry, CallList, CrmContact):
        result = session.execute(delete(table).where(table.customer_id == contract.customer_id))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    session.flush()
    return deleted
