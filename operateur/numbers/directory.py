"""The public identification of numbers (VOX-17 [000 §2]): from a number that called or texted
them, a consumer learns the service's name and description, the provider, its website and
address, and where to complain — what staff recorded and published for that number. An
unknown, unassigned or unpublished number shows nothing, and says nothing about why."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.db import utcnow
from operateur.domain.numbering import classify
from operateur.errors import InvalidInput, NotFound
from operateur.i18n import Text
from operateur.numbers.models import DirectoryEntry, NumberStatus, PhoneNumber


@dataclass(frozen=True)
class EntryData:
    service_name: str
    description: str
    provider: str
    address: str
    complaint_contact: str
    website: str | None = None
    published: bool = False


def _required(data: EntryData) -> None:
    for name in ("service_name", "description", "provider", "address", "complaint_contact"):
        if not str(getattr(data, name)).strip():
            raise InvalidInput(
                Text(fr="Ce champ est obligatoire.", en="This field is required."), field=name
            )


def set_entry(session: Session, number: PhoneNumber, data: EntryData) -> DirectoryEntry:
    """Record (or replace) what the public lookup shows for one of a customer's numbers."""
    _required(data)
    assert number.customer_id is not None
    entry = session.scalar(select(DirectoryEntry).where(DirectoryEntry.number_id == number.id))
    if entry is None:
        entry = DirectoryEntry(number_id=number.id, customer_id=number.customer_id)
        session.add(entry)
    entry.service_name = data.service_name.strip()
    entry.description = data.description.strip()
    entry.provider = data.provider.strip()
    entry.website = (data.website or "").strip() or None
    entry.address = data.address.strip()
    entry.complaint_contact = data.complaint_contact.strip()
    entry.published = data.published
    entry.updated_at = utcnow()
    session.flush()
    return entry


def get_entry(session: Session, number: PhoneNumber) -> DirectoryEntry | None:
    return session.scalar(select(DirectoryEntry).where(DirectoryEntry.number_id == number.id))


def _hidden() -> NotFound:
    return NotFound(
        Text(
            fr="Aucune information publiée pour ce numéro.",
            en="No information is published for this number.",
        ),
        code="number_not_published",
    )


def lookup(session: Session, raw: str) -> tuple[str, DirectoryEntry]:
    """The published entry of an assigned number, as the public sees it."""
    try:
        e164 = classify(raw).e164
    except InvalidInput:
        raise _hidden() from None
    if e164 is None:
        raise _hidden()
    found = session.execute(
        select(PhoneNumber.e164, DirectoryEntry)
        .join(DirectoryEntry, DirectoryEntry.number_id == PhoneNumber.id)
        .where(
            PhoneNumber.e164 == e164,
            PhoneNumber.status == NumberStatus.ASSIGNED,
            PhoneNumber.customer_id == DirectoryEntry.customer_id,
            DirectoryEntry.published.is_(True),
        )
    ).first()
    if found is None:
        raise _hidden()
    return found[0], found[1]
