"""Port-in requests: a customer brings the number it has with another operator (VOX-15).

[001 §9.2]: a request needs the number's RIO. It is ineligible when the RIO is missing or wrong,
the number is not active at the donor operator, a port is already pending for it, or the
requester is not the holder of the line; then a new number is assigned to the customer. Once the
donor operator accepts, the porting date and time slot are set and the customer is told; on
porting day the number becomes active on the customer's line (``activate_due``, a daily job of
the scheduler).

The operator checks what it can itself (RIO format and key, pending requests, residency);
the donor operator's answer (number inactive, requester not the holder, or accepted with a
date and slot) is recorded by staff.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.db import utcnow
from operateur.domain.calendar import PARIS, is_business_day, public_holiday_name
from operateur.domain.numbering import NumberKind, classify
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.logs import event
from operateur.notifications.service import notify
from operateur.numbers import rio
from operateur.numbers import service as numbers
from operateur.numbers.models import (
    Ineligibility,
    NumberStatus,
    NumberTier,
    PhoneNumber,
    PortRequest,
    PortStatus,
)

log = logging.getLogger("operateur.numbers")

PENDING = (PortStatus.SUBMITTED, PortStatus.SCHEDULED)
PORTABLE_KINDS = (NumberKind.GEOGRAPHIC, NumberKind.NON_GEOGRAPHIC, NumberKind.MOBILE)

REASONS: dict[Ineligibility, Text] = {
    Ineligibility.RIO_MISSING: Text(
        fr="le RIO du numéro n'a pas été fourni", en="the number's RIO was not given"
    ),
    Ineligibility.RIO_INVALID: Text(
        fr="le RIO est erroné pour ce numéro", en="the RIO is wrong for this number"
    ),
    Ineligibility.NUMBER_INACTIVE: Text(
        fr="le numéro est inactif chez l'opérateur donneur",
        en="the number is inactive at the donor operator",
    ),
    Ineligibility.PORT_PENDING: Text(
        fr="une demande de portabilité est déjà en cours pour ce numéro",
        en="a porting request is already pending for this number",
    ),
    Ineligibility.NOT_HOLDER: Text(
        fr="le demandeur n'est pas le titulaire de la ligne",
        en="the requester is not the holder of the line",
    ),
}


def _kind_of(e164: str) -> NumberKind:
    info = classify(e164)
    if info.kind not in PORTABLE_KINDS:
        raise InvalidInput(
            Text(
                fr="Ce numéro ({kind}) ne se porte pas.",
                en="This number ({kind}) cannot be ported.",
            ),
            field="number",
            details={"kind": info.kind.value},
        )
    return info.kind


def request_port_in(
    session: Session,
    customer: Customer,
    *,
    number: str,
    rio_code: str | None,
    line_id: int,
    holder_name: str,
) -> PortRequest:
    """Record a port-in request for ``number`` onto one of the customer's lines. What the
    operator can check itself is checked now: an ineligible request is closed at once with its
    reason and a new number is assigned on the line."""
    e164 = classify(number, field="number").e164
    if e164 is None:
        raise InvalidInput(
            Text(fr="{number} ne se porte pas.", en="{number} cannot be ported."),
            field="number",
            details={"number": number},
        )
    _kind_of(e164)
    if not holder_name.strip():
        raise InvalidInput(
            Text(fr="Le titulaire de la ligne est requis.", en="The line's holder is required."),
            field="holder_name",
        )
    line = contracts.get_line(session, customer.id, line_id)
    numbers.check_residency(session, customer)
    held = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
    # a number once ported in and returned to its range holder is no longer ours: it may come
    # back by a new port
    if held is not None and held.status not in (NumberStatus.PORTING, NumberStatus.RETURNED):
        raise Conflict(
            Text(
                fr="Le numéro {number} est déjà chez nous.",
                en="The number {number} is already ours.",
            ),
            code="number_exists",
            field="number",
            details={"number": e164},
        )
    checked = rio.check(rio_code, e164)
    _one_request_at_a_time(session, e164)
    request = PortRequest(
        customer_id=customer.id,
        contract_id=line.contract_id,
        line_id=line.id,
        e164=e164,
        # a RIO longer than 12 characters is only "wrong": it is not kept (nor would it fit)
        rio=checked.rio if 0 < len(checked.rio) <= rio.LENGTH else None,
        holder_name=holder_name.strip(),
        status=PortStatus.SUBMITTED,
    )
    session.add(request)
    session.flush()
    pending = session.scalar(
        select(PortRequest.id).where(
            PortRequest.e164 == e164,
            PortRequest.status.in_(PENDING),
            PortRequest.id != request.id,
        )
    )
    if checked.reason == "rio_missing":
        _ineligible(session, customer, request, Ineligibility.RIO_MISSING)
    elif not checked.valid:
        _ineligible(session, customer, request, Ineligibility.RIO_INVALID)
    elif pending is not None:
        _ineligible(session, customer, request, Ineligibility.PORT_PENDING)
    else:
        event(log, "port.submitted", port=request.id, customer=customer.id)
    return request


def _one_request_at_a_time(session: Session, e164: str) -> None:
    """Two requests for one number at the same moment: the second waits until the first is
    committed, then finds it pending (VOX-15). PostgreSQL: a transaction-scoped advisory lock
    on the number; SQLite lets one writer at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"port-in:{e164}"}
        )


def _ineligible(
    session: Session, customer: Customer, request: PortRequest, reason: Ineligibility
) -> None:
    """Close the request with its reason and assign a new number of the same kind on the line
    ([001 §9.2] "affectera alors un nouveau numéro au Client")."""
    request.status = PortStatus.INELIGIBLE
    request.reason = reason
    try:
        new = numbers.assign_random(
            session,
            customer,
            kind=_kind_of(request.e164).value,
            tier=NumberTier.STANDARD,
            line_id=request.line_id,
        )
    except Conflict as error:
        if error.code != "no_free_number":
            raise
        new = None
    request.new_number_id = new.id if new else None
    session.flush()
    notify(
        session,
        customer.id,
        event="numbers.port_ineligible",
        subject=Text(
            fr="Portabilité du {number} impossible", en="Porting of {number} not possible"
        ),
        body=Text(
            fr="Votre demande de portabilité du {number} n'est pas éligible : {reason_fr}. "
            "Nouveau numéro attribué : {new}.",
            en="Your request to port {number} is not eligible: {reason_en}. "
            "New number assigned: {new}.",
        ),
        data={
            "key": f"port:{request.id}:ineligible",
            "number": request.e164,
            "reason": reason.value,
            "reason_fr": REASONS[reason].fr,
            "reason_en": REASONS[reason].en,
            "new": new.e164 if new else "-",
        },
    )
    event(log, "port.ineligible", port=request.id, reason=reason.value)


def record_donor_answer(
    session: Session,
    request: PortRequest,
    *,
    accepted: bool,
    reason: Ineligibility | None = None,
    scheduled_on: date | None = None,
    slot_start: time | None = None,
    slot_end: time | None = None,
    now: datetime | None = None,
) -> PortRequest:
    """The donor operator's answer: a refusal for one of its reasons (number inactive,
    requester not the holder), or the porting date and time slot, told to the customer. The
    porting day is a business day not past (``now``: the present moment by default) and the
    slot a whole-minute span of it not over yet (:func:`check_schedule`)."""
    if request.status is not PortStatus.SUBMITTED:
        raise Conflict(
            Text(
                fr="La demande {id} n'attend pas de réponse ({status}).",
                en="Request {id} is not waiting for an answer ({status}).",
            ),
            code="port_not_submitted",
            details={"id": request.id, "status": request.status.value},
        )
    customer = session.get(Customer, request.customer_id)
    assert customer is not None
    if not accepted:
        if reason not in (Ineligibility.NUMBER_INACTIVE, Ineligibility.NOT_HOLDER):
            raise InvalidInput(
                Text(
                    fr="Le refus de l'opérateur donneur donne sa raison : number_inactive ou "
                    "not_holder.",
                    en="The donor operator's refusal gives its reason: number_inactive or "
                    "not_holder.",
                ),
                field="reason",
            )
        _ineligible(session, customer, request, reason)
        return request
    if scheduled_on is None or slot_start is None or slot_end is None:
        raise InvalidInput(
            Text(
                fr="Une portabilité acceptée a sa date et son créneau.",
                en="An accepted port has its date and time slot.",
            ),
            field="scheduled_on" if scheduled_on is None else "slot_start",
        )
    check_schedule(scheduled_on, slot_start, slot_end, now=now or utcnow())
    request.status = PortStatus.SCHEDULED
    request.scheduled_on = scheduled_on
    request.slot_start = slot_start.strftime("%H:%M")
    request.slot_end = slot_end.strftime("%H:%M")
    session.flush()
    notify(
        session,
        customer.id,
        event="numbers.port_scheduled",
        subject=Text(fr="Portabilité du {number} programmée", en="Porting of {number} scheduled"),
        body=Text(
            fr="Le {number} sera porté le {day} entre {start} et {end}. Votre service actuel "
            "continue jusque-là.",
            en="{number} will be ported on {day} between {start} and {end}. Your current "
            "service goes on until then.",
        ),
        data={
            "key": f"port:{request.id}:scheduled",
            "number": request.e164,
            "day": scheduled_on.isoformat(),
            "start": slot_start.strftime("%H:%M"),
            "end": slot_end.strftime("%H:%M"),
        },
    )
    event(log, "port.scheduled", port=request.id, on=scheduled_on.isoformat())
    return request


def check_schedule(scheduled_on: date, slot_start: time, slot_end: time, *, now: datetime) -> None:
    """VOX-15 [001 §9.2] "la date et le créneau horaires auxquels sera effectué le portage":
    the porting day is a business day (Monday to Friday, not a French public holiday) that has
    not passed, and the slot (Paris time, whole minutes, as it is kept and told) ends after it
    starts and, on the day itself, is not over yet. No minimum lead time: the seeds give none."""
    for field, moment in (("slot_start", slot_start), ("slot_end", slot_end)):
        if moment.second or moment.microsecond or moment.tzinfo is not None:
            raise InvalidInput(
                Text(
                    fr="{field} : une heure de Paris en heures et minutes (HH:MM) est attendue.",
                    en="{field}: a Paris time in hours and minutes (HH:MM) is expected.",
                ),
                field=field,
                details={"field": field, "value": moment.isoformat()},
            )
    if slot_end <= slot_start:
        raise InvalidInput(
            Text(fr="Le créneau finit avant de commencer.", en="The slot ends before it starts."),
            field="slot_end",
        )
    local = now.astimezone(PARIS)
    if scheduled_on < local.date():
        raise InvalidInput(
            Text(
                fr="scheduled_on : la date de portage {day} est passée.",
                en="scheduled_on: the porting day {day} is in the past.",
            ),
            field="scheduled_on",
            details={"day": scheduled_on.isoformat()},
        )
    if not is_business_day(scheduled_on):
        holiday_fr = public_holiday_name(scheduled_on, "fr")
        holiday_en = public_holiday_name(scheduled_on, "en")
        raise InvalidInput(
            Text(
                fr="scheduled_on : le {day} n'est pas un jour ouvré ({why_fr}) ; le portage "
                "a lieu un jour ouvré.",
                en="scheduled_on: {day} is not a business day ({why_en}); porting takes place "
                "on a business day.",
            ),
            field="scheduled_on",
            details={
                "day": scheduled_on.isoformat(),
                "why_fr": holiday_fr or ("samedi" if scheduled_on.weekday() == 5 else "dimanche"),
                "why_en": holiday_en or scheduled_on.strftime("%A"),
            },
        )
    if scheduled_on == local.date() and slot_end <= local.time().replace(tzinfo=None):
        raise InvalidInput(
            Text(
                fr="slot_end : le créneau de portage se termine à {end}, heure déjà passée.",
                en="slot_end: the porting slot ends at {end}, which has already passed.",
            ),
            field="slot_end",
            details={"end": slot_end.strftime("%H:%M")},
        )


def activate_due(session: Session, as_of: date) -> list[PortRequest]:
    """On porting day, the ported number becomes active on the customer's line. A request that
    cannot be activated (its number was taken meanwhile) stays scheduled for the staff and is
    logged; it does not hold back the others."""
    done: list[PortRequest] = []
    for request in session.scalars(
        select(PortRequest)
        .where(PortRequest.status == PortStatus.SCHEDULED, PortRequest.scheduled_on <= as_of)
        .order_by(PortRequest.id)
    ).all():
        try:
            with session.begin_nested():
                _activate(session, request)
        except (Conflict, InvalidInput) as error:
            log.error("port.activation_failed port=%s code=%s", request.id, error.code)
            continue
        done.append(request)
        event(log, "port.done", port=request.id, number=request.e164)
    session.flush()
    return done


def _activate(session: Session, request: PortRequest) -> None:
    """The number becomes the customer's on its line, with the offer's monthly fee for a
    number of its kind from the porting day (BIL-17), as for an assigned number."""
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == request.e164))
    if number is None:
        number = PhoneNumber(
            e164=request.e164, kind=_kind_of(request.e164).value, tier=NumberTier.STANDARD
        )
        session.add(number)
    elif number.status not in (NumberStatus.PORTING, NumberStatus.FREE, NumberStatus.RETURNED):
        raise Conflict(
            Text(
                fr="Le numéro {number} est déjà attribué.",
                en="The number {number} is already assigned.",
            ),
            code="number_exists",
            details={"number": request.e164},
        )
    number.status = NumberStatus.ASSIGNED
    number.customer_id = request.customer_id
    number.line_id = request.line_id
    number.assigned_at = _porting_moment(request)
    session.flush()
    request.number_id = number.id
    request.status = PortStatus.PORTED
    request.ported_at = number.assigned_at
    contract = session.get(Contract, request.contract_id)
    assert contract is not None and request.scheduled_on is not None
    numbers.bill_standard_fee(session, number, contract, request.scheduled_on)
    session.flush()


def _porting_moment(request: PortRequest) -> datetime:
    """The start of the porting slot, when the number is ours."""
    assert request.scheduled_on is not None and request.slot_start is not None
    return datetime.combine(request.scheduled_on, time.fromisoformat(request.slot_start), PARIS)


def list_requests(session: Session, customer_id: int) -> list[PortRequest]:
    return list(
        session.scalars(
            select(PortRequest)
            .where(PortRequest.customer_id == customer_id)
            .order_by(PortRequest.id)
        )
    )


def get_request(session: Session, customer_id: int, request_id: int) -> PortRequest:
    request = session.scalar(
        select(PortRequest).where(
            PortRequest.id == request_id, PortRequest.customer_id == customer_id
        )
    )
    if request is None:
        raise NotFound(
            Text(fr="Demande {id} introuvable.", en="Request {id} not found."),
            code="port_request_not_found",
            details={"id": request_id},
        )
    return request


def cancel(session: Session, request: PortRequest) -> PortRequest:
    if request.status not in PENDING:
        raise Conflict(
            Text(
                fr="La demande {id} ne peut plus être annulée ({status}).",
                en="Request {id} can no longer be cancelled ({status}).",
            ),
            code="port_not_pending",
            details={"id": request.id, "status": request.status.value},
        )
    request.status = PortStatus.CANCELLED
    session.flush()
    return request


def daily_activation(session: Session, as_of: date) -> None:
    """The scheduler's daily job: numbers whose porting day has come become active."""
    activate_due(session, as_of)
