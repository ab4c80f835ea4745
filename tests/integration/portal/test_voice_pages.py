"""Voice pages of the portal: the staff records the donor operator's answer to a port-in on the
application's clock (VOX-15)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts.models import Customer
from operateur.contracts.models import Line
from operateur.domain.calendar import PARIS
from operateur.numbers import portability, rio
from operateur.numbers import service as numbers
from operateur.numbers.models import PhoneNumber, PortRequest, PortStatus
from tests.e2e.world import STAFF_EMAIL, STAFF_PASSWORD, World
from tests.integration.portal.conftest import Browser

QUEUE = "/staff/port-ins"


def _submitted(session: Session, world: World) -> PortRequest:
    """A port-in of the Boulangerie waiting for the donor operator's answer."""
    customer = session.get(Customer, world.centrex.id)
    assert customer is not None
    numbers.record_address_proof(
        session,
        customer,
        document="kbis",
        reference="K-portal",
        received_on=date(2026, 1, 5),
        checked_by="staff",
    )
    line = session.scalars(
        select(Line).where(Line.contract_id == world.centrex.contract_id).order_by(Line.id)
    ).first()
    assert line is not None
    code = "02F123456" + rio.key("02", "F", "123456", "0140000080")
    request = portability.request_port_in(
        session,
        customer,
        number="0140000080",
        rio_code=code,
        line_id=line.id,
        holder_name="Boulangerie Martin",
    )
    session.commit()
    assert request.status is PortStatus.SUBMITTED
    return request


# SPEC: VOX-15
def test_the_donor_answer_is_checked_against_the_portal_clock(
    browser: Browser, world: World, session: Session
) -> None:
    # [001 §9.2] the porting day is a day to come: to come by the portal's clock (a demo or
    # test date), as every other page of the portal, not by the machine's date
    request = _submitted(session, world)
    action = f"{QUEUE}/{world.centrex.id}/{request.id}"
    slot = {"accepted": "true", "slot_start": "08:00", "slot_end": "12:00"}
    app = browser.client.app
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)

    # by the clock, 1 March 2030 has passed (the machine has not reached it yet)
    app.state.clock = lambda: datetime(2030, 3, 4, 9, 0, tzinfo=PARIS)  # type: ignore[attr-defined]
    refused = browser.post(QUEUE, action, {**slot, "scheduled_on": "2030-03-01"})
    assert refused.status_code == 303
    shown = browser.get(refused.headers["location"]).text
    assert "la date de portage 2030-03-01 est passée" in shown
    session.expire_all()
    assert session.get(PortRequest, request.id).status is PortStatus.SUBMITTED  # type: ignore[union-attr]

    # by the clock, 10 March 2026 is to come (the machine is past it)
    app.state.clock = lambda: datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # type: ignore[attr-defined]
    accepted = browser.post(QUEUE, action, {**slot, "scheduled_on": "2026-03-10"})
    assert accepted.status_code == 303
    assert "cédant enregistrée." in browser.get(accepted.headers["location"]).text
    session.expire_all()
    scheduled = session.get(PortRequest, request.id)
    assert scheduled is not None
    assert (scheduled.status, scheduled.scheduled_on, scheduled.slot_start) == (
        PortStatus.SCHEDULED,
        date(2026, 3, 10),
        "08:00",
    )


# SPEC: VOX-14, VOX-15
def test_staff_see_the_numbers_returned_to_their_range_holder(
    browser: Browser, world: World, session: Session
) -> None:
    request = _submitted(session, world)
    portability.record_donor_answer(
        session, request, accepted=True, scheduled_on=date(2026, 3, 10),
        slot_start=time(8, 0), slot_end=time(12, 0), now=datetime(2026, 3, 2, 9, tzinfo=PARIS),
    )  # fmt: skip
    [ported] = portability.activate_due(session, date(2026, 3, 10))
    number = session.get(PhoneNumber, ported.number_id)
    assert number is not None
    numbers.release(session, number, 90)
    session.commit()
    browser.login(STAFF_EMAIL, STAFF_PASSWORD)
    returned = browser.get("/staff/numbers", params={"status": "returned"}).text
    assert "<code>+33140000080</code>" in returned
    assert "Restitué" in returned
    assert "+33140000080" not in browser.get("/staff/numbers", params={"status": "free"}).text
