"""Numbers: the RIO and port-in requests (VOX-15); proof of address, Silver/Gold and alias
numbers with their monthly fees (VOX-14, BIL-17)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from operateur import scheduler
from operateur.accounts import audit
from operateur.accounts.models import Customer
from operateur.accounts.permissions import system_actor
from operateur.cli import app
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, LineStatus, Subscription
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.notifications.models import OutboxMessage
from operateur.numbers import portability, rio
from operateur.numbers import service as numbers
from operateur.numbers.models import (
    AliasTarget,
    Ineligibility,
    NumberStatus,
    NumberTier,
    PhoneNumber,
    PortStatus,
)
from tests.integration.conftest import Builder, commit_while_waited_for
from tests.integration.voice_ops.conftest import Setup

TODAY = date(2026, 3, 2)
BEFORE = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # when the donor operator answers


# SPEC: VOX-15
def test_rio_key_worked_example() -> None:
    # "02F123456" + 0140000000, alphabet A=0 … Z=25, 0=26 … 9=35, + = 36:
    # a = (sum of the 19 values) mod 37 = 501 mod 37 = 20 -> "U"
    # b = (2b + v) mod 37 step by step: 26, 6, 17, 24, 2, 33, 22, 1, 34, 20, 30, 16, 21, 31,
    #     14, 17, 23, 35, 22 -> "W"
    # c = (4c + v) mod 37 step by step: 26, 21, 15, 13, 6, 16, 20, 0, 32, 6, 14, 12, 0, 26,
    #     19, 28, 27, 23, 7 -> "H"
    assert rio.key("02", "F", "123456", "0140000000") == "UWH"
    ok = rio.check("02 F 123456 UWH", "01 40 00 00 00")
    assert ok.valid and (ok.operator, ok.quality, ok.reference, ok.key) == (
        "02",
        "F",
        "123456",
        "UWH",
    )
    wrong = rio.check("02F123456UWH", "+33140000001")  # another number: another key
    assert not wrong.valid and wrong.reason == "bad_key"
    assert wrong.expected_key is not None and wrong.expected_key[0] == "V"  # a = 21
    assert rio.check("02F123456UW", "0140000000").reason == "bad_format"
    assert rio.check("", "0140000000").reason == "rio_missing"
    # a mobile number's RIO has the quality E or P, a fixed number's F to Z
    assert rio.check("02E123456UWH", "0140000000").reason == "bad_quality"
    assert rio.check("02F123456UWH", "+442071234567").reason == "not_french"


# SPEC: VOX-15
def test_check_rio_command() -> None:
    runner = CliRunner(env={"OPERATEUR_LANG": "en"})
    good = runner.invoke(app, ["numbers", "check-rio", "02F123456UWH", "--number", "0140000000"])
    assert good.exit_code == 0 and "Valid RIO" in good.output
    bad = runner.invoke(
        app, ["numbers", "check-rio", "02F123456UWX", "--number", "0140000000", "--json"]
    )
    assert bad.exit_code == 1
    body = json.loads(bad.output)
    assert (body["valid"], body["reason"], body["expected_key"]) == (False, "bad_key", "UWH")
    assert body["message"] == "the key UWX does not match this number (expected: UWH)"


def _customer(build: Builder, session: Session, *, proof: bool = True) -> Customer:
    customer = build.customer()
    if proof:
        numbers.record_address_proof(
            session,
            customer,
            document="kbis",
            reference=f"K-{customer.id}",
            received_on=TODAY,
            checked_by="staff",
        )
    return customer


# SPEC: VOX-14
def test_french_numbers_need_a_proof_of_the_current_address(
    build: Builder, session: Session
) -> None:
    numbers.add_to_stock(session, ["+33199000301", "+33199000302"], NumberTier.STANDARD)
    customer = _customer(build, session, proof=False)
    with pytest.raises(Conflict) as refused:
        numbers.assign_random(
            session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=None
        )
    assert refused.value.code == "address_proof_missing"
    numbers.record_address_proof(
        session, customer, document="edf", reference="F-1", received_on=TODAY, checked_by="s"
    )
    number = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=None
    )
    assert number.status is NumberStatus.ASSIGNED and number.customer_id == customer.id
    # the customer moves: the proof of the old address no longer counts
    customer.address_line = "8 avenue Nouvelle"
    with pytest.raises(Conflict) as moved:
        numbers.assign_random(
            session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=None
        )
    assert moved.value.code == "address_proof_missing"


def _fee_subscriptions(session: Session, contract: Contract) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription).where(
                Subscription.contract_id == contract.id,
                Subscription.item_code.like("numbers.%"),
            )
        )
    )


# SPEC: VOX-14, BIL-17
def test_gold_silver_and_alias_numbers_carry_their_monthly_fee(
    setup: Setup, session: Session
) -> None:
    customer = _customer(setup.build, session)
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 2)])
    desk = setup.line(contract, "desk")
    shop = setup.line(contract, "shop")
    numbers.add_to_stock(session, ["+33199000401"], NumberTier.GOLD)
    numbers.add_to_stock(session, ["+33199000402"], NumberTier.SILVER)
    numbers.add_to_stock(session, ["+33199000403", "+33199000404"], NumberTier.STANDARD)
    gold = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.GOLD, line_id=desk.id
    )
    numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.SILVER, line_id=None,
        contract_id=contract.id,
    )  # fmt: skip
    # the centrex price list: Gold 12.00, Silver 5.00 a month [001 §9.1]
    assert sorted(
        (s.item_code, s.unit_price_mrc) for s in _fee_subscriptions(session, contract)
    ) == [
        ("numbers.gold", Decimal("12.00")),
        ("numbers.silver", Decimal("5.00")),
    ]
    # an alias rings both active lines, for 3.00 a month [001 §9]
    alias = numbers.assign_alias(session, customer, kind="geographic", line_ids=[desk.id, shop.id])
    targets = session.scalars(select(AliasTarget.line_id).where(AliasTarget.number_id == alias.id))
    assert sorted(targets) == sorted([desk.id, shop.id])
    assert ("numbers.alias", Decimal("3.00")) in {
        (s.item_code, s.unit_price_mrc) for s in _fee_subscriptions(session, contract)
    }
    # an alias attaches to active lines only
    shop.status = LineStatus.SUSPENDED
    with pytest.raises(Conflict) as inactive:
        numbers.assign_alias(session, customer, kind="geographic", line_ids=[shop.id])
    assert inactive.value.code == "line_not_active"
    # a Gold number needs a contract whose price list has the Gold fee
    numbers.add_to_stock(session, ["+33199000405"], NumberTier.GOLD)
    with pytest.raises(InvalidInput) as no_contract:
        numbers.assign_random(
            session, customer, kind="geographic", tier=NumberTier.GOLD, line_id=None
        )
    assert no_contract.value.field == "contract_id"
    # released: quarantined, the fee stops
    numbers.release(session, gold, 90)
    [gold_fee] = [s for s in _fee_subscriptions(session, contract) if s.item_code == "numbers.gold"]
    assert gold_fee.end_date is not None
    assert gold.status is NumberStatus.QUARANTINED


# SPEC: VOX-14
def test_the_numbers_of_an_ended_contract_are_quarantined_then_reassigned(
    setup: Setup, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # [002 §6.5] a number "peut être attribué à un tiers en cas de suspension ou de résiliation"
    customer = _customer(setup.build, session)
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 2)])
    desk = setup.line(contract, "desk-end")
    shop = setup.line(contract, "shop-end")
    numbers.add_to_stock(session, ["+33199000701"], NumberTier.STANDARD)
    on_line = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=desk.id
    )
    numbers.add_to_stock(session, ["+33199000702"], NumberTier.STANDARD)
    alias = numbers.assign_alias(session, customer, kind="geographic", line_ids=[desk.id, shop.id])
    numbers.add_to_stock(session, ["+33199000703"], NumberTier.SILVER)
    billed = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.SILVER, line_id=None,
        contract_id=contract.id,
    )  # fmt: skip
    port = portability.request_port_in(
        session, customer, number="+33140000070", rio_code=_rio_for("+33140000070"),
        line_id=shop.id, holder_name="Boulangerie",
    )  # fmt: skip
    assert port.status is PortStatus.SUBMITTED
    lifecycle.terminate(session, contract, on=date(2026, 3, 31), reason="customer's notice")
    release = next(j for j in scheduler.DAILY_JOBS if j.name == "release_ended_numbers")

    release.body(session, date(2026, 3, 31))  # the last day: still the customer's
    assert on_line.status is NumberStatus.ASSIGNED and on_line.line_id == desk.id

    release.body(session, date(2026, 4, 1))
    mine = (on_line, alias, billed)
    assert [n.status for n in mine] == [NumberStatus.QUARANTINED] * 3
    assert all(n.customer_id is None and n.line_id is None for n in mine)
    assert numbers.list_customer_numbers(session, customer.id) == []
    assert numbers.alias_lines(session, alias.id) == []
    assert all(f.ended_on is not None for n in mine for f in numbers.fees_of(session, n.id))
    # its line is gone
    assert portability.get_request(session, customer.id, port.id).status is PortStatus.CANCELLED
    until = [n.quarantined_until for n in mine]
    assert all(u is not None and u > utcnow() + timedelta(days=89) for u in until)

    # the job running again (a retried day) changes nothing
    assert numbers.release_ended_contracts(session, date(2026, 4, 2), 90) == 0
    assert [n.quarantined_until for n in mine] == until

    other = _customer(setup.build, session)
    other_contract = setup.build.contract(other, "centrex", TODAY, [("centrex.line", 1)])
    other_line = setup.line(other_contract, "other-end")
    # still in quarantine: not assignable to anyone
    assert numbers.free_quarantined(session) == 0
    with pytest.raises(Conflict) as none_free:
        numbers.assign_random(
            session, other, kind="geographic", tier=NumberTier.STANDARD, line_id=other_line.id
        )
    assert none_free.value.code == "no_free_number"
    # after the quarantine the number goes to another customer's line
    later = utcnow() + timedelta(days=91)
    monkeypatch.setattr(numbers, "utcnow", lambda: later)
    assert numbers.free_quarantined(session) == 3
    taken = numbers.assign_random(
        session, other, kind="geographic", tier=NumberTier.STANDARD, line_id=other_line.id
    )
    assert taken.e164 in {"+33199000701", "+33199000702"}
    assert (taken.customer_id, taken.line_id) == (other.id, other_line.id)
    assert numbers.list_customer_numbers(session, customer.id) == []


# SPEC: VOX-14
def test_numbers_stay_while_the_customer_keeps_another_contract(
    setup: Setup, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = _customer(setup.build, session)
    ended = setup.build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 1)])
    kept = setup.build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 1)])
    ended_line = setup.line(ended, "ended-line")
    kept_line = setup.line(kept, "kept-line")
    numbers.add_to_stock(
        session, ["+33199000801", "+33199000802", "+33199000803"], NumberTier.STANDARD
    )
    lost = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=ended_line.id
    )
    stays = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=kept_line.id
    )
    loose = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=None
    )
    lifecycle.terminate(session, ended, on=date(2026, 3, 31), reason="customer's notice")
    with pytest.raises(Conflict):  # a contract not over keeps its numbers
        numbers.release_contract_numbers(session, kept, 90)
    assert numbers.release_ended_contracts(session, date(2026, 4, 1), 90) == 1
    assert lost.status is NumberStatus.QUARANTINED
    # the other contract's number, and the one on no line, stay the customer's
    assert {n.id for n in numbers.list_customer_numbers(session, customer.id)} == {
        stays.id,
        loose.id,
    }
    # the daily job does not come back to the ended contract: nothing is left to take from it
    # while the customer's other contract keeps the number on no line
    visited: list[int] = []
    release_one = numbers.release_contract_numbers

    def recording(session: Session, contract: Contract, quarantine_days: int) -> list[PhoneNumber]:
        visited.append(contract.id)
        return release_one(session, contract, quarantine_days)

    monkeypatch.setattr(numbers, "release_contract_numbers", recording)
    assert numbers.release_ended_contracts(session, date(2026, 4, 2), 90) == 0
    assert visited == []
    # once the last contract is over too, every number goes back
    lifecycle.terminate(session, kept, on=date(2026, 4, 30), reason="customer's notice")
    assert numbers.release_ended_contracts(session, date(2026, 5, 1), 90) == 2
    assert numbers.list_customer_numbers(session, customer.id) == []


# SPEC: VOX-14
@pytest.mark.parametrize(("other_state", "taken_back"), [("draft", True), ("signed", False)])
def test_a_draft_contract_holds_no_numbers(
    setup: Setup, session: Session, other_state: str, taken_back: bool
) -> None:
    """A draft (never signed, no service provided) does not keep the customer's numbers once
    its real contract is over; a signed contract, about to be served, does."""
    customer = _customer(setup.build, session)
    ended = setup.build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 1)])
    other = contracts.create_contract(session, customer, "centrex", {})
    if other_state == "signed":
        contracts.sign(session, other, "Signataire", datetime(2026, 3, 2, 9, tzinfo=PARIS))
    assert other.status.value == other_state
    numbers.add_to_stock(session, ["+33199000811"], NumberTier.STANDARD)
    loose = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=None
    )
    lifecycle.terminate(session, ended, on=date(2026, 3, 31), reason="customer's notice")
    assert numbers.release_ended_contracts(session, date(2026, 4, 1), 90) == int(taken_back)
    if taken_back:
        assert loose.status is NumberStatus.QUARANTINED and loose.customer_id is None
        assert numbers.list_customer_numbers(session, customer.id) == []
    else:
        assert loose.status is NumberStatus.ASSIGNED and loose.customer_id == customer.id
        assert numbers.numbers_of_contract(session, ended) == []


# SPEC: VOX-14, VOX-15
def test_a_ported_in_number_goes_back_to_its_range_holder_never_to_our_stock(
    setup: Setup, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # VOX-14 [002 §6.5] a number is never owned by the customer: when the service on a number
    # brought by portability ends, the number is returned to the operator its range is
    # allocated to ("restitution à l'opérateur attributaire"), not reassigned by us
    customer = _customer(setup.build, session)
    contract = setup.build.contract(customer, "cpaas", TODAY, [])
    line = setup.line(contract, f"ret{customer.id}")
    numbers.add_to_stock(session, ["+33199000821"], NumberTier.STANDARD)
    ours = numbers.assign_random(
        session, customer, kind="geographic", tier=NumberTier.STANDARD, line_id=line.id
    )
    request = portability.request_port_in(
        session, customer, number="+33140000060", rio_code=_rio_for("+33140000060"),
        line_id=line.id, holder_name="Boulangerie",
    )  # fmt: skip
    portability.record_donor_answer(
        session, request, accepted=True, scheduled_on=date(2026, 3, 10),
        slot_start=time(8, 0), slot_end=time(12, 0), now=BEFORE,
    )  # fmt: skip
    assert portability.activate_due(session, date(2026, 3, 10)) == [request]
    ported = session.get(PhoneNumber, request.number_id)
    assert ported is not None
    assert (ported.status, ported.customer_id) == (NumberStatus.ASSIGNED, customer.id)
    lifecycle.terminate(session, contract, on=date(2026, 3, 31), reason="customer's notice")

    assert numbers.release_ended_contracts(session, date(2026, 4, 1), 90) == 2
    assert (ours.status, ported.status) == (NumberStatus.QUARANTINED, NumberStatus.RETURNED)
    assert (ported.customer_id, ported.line_id, ported.quarantined_until) == (None, None, None)
    # its monthly fee ends as for any number taken back
    assert [f.ended_on for f in numbers.fees_of(session, ported.id)] == [
        utcnow().astimezone(PARIS).date()
    ]
    assert numbers.list_customer_numbers(session, customer.id) == []
    # staff see it among the returned numbers, never in the free stock
    assert numbers.list_stock(session, status=NumberStatus.RETURNED) == [ported]

    # after the quarantine our own number is free again; the ported one stays returned
    later = utcnow() + timedelta(days=91)
    monkeypatch.setattr(numbers, "utcnow", lambda: later)
    assert numbers.free_quarantined(session) == 1
    assert ours.status is NumberStatus.FREE
    assert ported.status is NumberStatus.RETURNED
    free = numbers.list_stock(session, status=NumberStatus.FREE, kind="geographic")
    assert ported not in free and ours in free
    other = _customer(setup.build, session)
    other_contract = setup.build.contract(other, "centrex", TODAY, [("centrex.line", 1)])
    other_line = setup.line(other_contract, f"ret-other{other.id}")
    taken = numbers.assign_random(
        session, other, kind="geographic", tier=NumberTier.STANDARD, line_id=other_line.id
    )
    assert taken.id == ours.id
    with pytest.raises(Conflict) as none_free:  # the returned number is not ours to give
        numbers.assign_random(
            session, other, kind="geographic", tier=NumberTier.STANDARD, line_id=other_line.id
        )
    assert none_free.value.code == "no_free_number"
    assert ported.status is NumberStatus.RETURNED and ported.customer_id is None

    # no longer ours, the number may come back by a new port, of another customer
    again = portability.request_port_in(
        session, other, number="+33140000060", rio_code=_rio_for("+33140000060"),
        line_id=other_line.id, holder_name="Dupont",
    )  # fmt: skip
    assert again.status is PortStatus.SUBMITTED
    portability.record_donor_answer(
        session, again, accepted=True, scheduled_on=date(2026, 7, 6),
        slot_start=time(8, 0), slot_end=time(12, 0), now=BEFORE,
    )  # fmt: skip
    assert portability.activate_due(session, date(2026, 7, 6)) == [again]
    back = session.get(PhoneNumber, again.number_id)
    assert back is ported
    assert (back.status, back.customer_id, back.line_id) == (
        NumberStatus.ASSIGNED,
        other.id,
        other_line.id,
    )


def _portable_customer(setup: Setup, session: Session) -> tuple[Customer, int]:
    customer = _customer(setup.build, session)
    contract = setup.build.contract(customer, "centrex", TODAY, [("centrex.line", 1)])
    line = setup.line(contract, f"port{customer.id}")
    numbers.add_to_stock(session, [f"+3319900050{n}" for n in range(5)], NumberTier.STANDARD)
    return customer, line.id


def _rio_for(e164: str, code: str = "02F123456") -> str:
    return code + rio.key(code[:2], code[2], code[3:], "0" + e164[3:])


# SPEC: VOX-15
def test_ineligible_requests_give_their_reason_and_a_new_number(
    setup: Setup, session: Session
) -> None:
    customer, line_id = _portable_customer(setup, session)
    missing = portability.request_port_in(
        session, customer, number="01 40 00 00 10", rio_code=None, line_id=line_id,
        holder_name="Boulangerie",
    )  # fmt: skip
    assert (missing.status, missing.reason) == (PortStatus.INELIGIBLE, Ineligibility.RIO_MISSING)
    new = session.get(PhoneNumber, missing.new_number_id)
    assert new is not None and new.customer_id == customer.id and new.line_id == line_id
    assert new.kind == "geographic"
    wrong = portability.request_port_in(
        session, customer, number="+33140000011", rio_code="02F123456UWH", line_id=line_id,
        holder_name="Boulangerie",
    )  # fmt: skip
    assert wrong.reason is Ineligibility.RIO_INVALID and wrong.new_number_id is not None
    first = portability.request_port_in(
        session, customer, number="+33140000012", rio_code=_rio_for("+33140000012"),
        line_id=line_id, holder_name="Boulangerie",
    )  # fmt: skip
    assert first.status is PortStatus.SUBMITTED and first.reason is None
    twice = portability.request_port_in(
        session, customer, number="+33140000012", rio_code=_rio_for("+33140000012"),
        line_id=line_id, holder_name="Boulangerie",
    )  # fmt: skip
    assert twice.reason is Ineligibility.PORT_PENDING
    # the donor operator answers: the requester is not the line's holder
    refused = portability.record_donor_answer(
        session, first, accepted=False, reason=Ineligibility.NOT_HOLDER
    )
    assert (refused.status, refused.reason) == (PortStatus.INELIGIBLE, Ineligibility.NOT_HOLDER)
    assert refused.new_number_id is not None
    mails = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event == "numbers.port_ineligible")
            .order_by(OutboxMessage.id)
        )
    )
    assert len(mails) == 4  # one per ineligible request, to the customer's address
    assert "le demandeur n'est pas le titulaire de la ligne" in mails[-1].body


# SPEC: VOX-15
def test_accepted_port_is_scheduled_and_active_on_porting_day(
    setup: Setup, session: Session
) -> None:
    customer, line_id = _portable_customer(setup, session)
    request = portability.request_port_in(
        session, customer, number="0140000020", rio_code=_rio_for("+33140000020"),
        line_id=line_id, holder_name="Boulangerie Martin",
    )  # fmt: skip
    with pytest.raises(InvalidInput):  # an acceptance without its slot
        portability.record_donor_answer(session, request, accepted=True, scheduled_on=TODAY)
    portability.record_donor_answer(
        session,
        request,
        accepted=True,
        scheduled_on=date(2026, 3, 10),
        slot_start=time(8, 0),
        slot_end=time(12, 0),
        now=BEFORE,
    )
    assert request.status is PortStatus.SCHEDULED
    told = session.scalar(
        select(OutboxMessage).where(OutboxMessage.event == "numbers.port_scheduled")
    )
    assert told is not None and "2026-03-10 entre 08:00 et 12:00" in told.body
    assert portability.activate_due(session, date(2026, 3, 9)) == []
    assert portability.activate_due(session, date(2026, 3, 10)) == [request]
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+33140000020"))
    assert number is not None and number.status is NumberStatus.ASSIGNED
    assert (number.customer_id, number.line_id) == (customer.id, line_id)
    ported = portability.get_request(session, customer.id, request.id)
    assert ported.status is PortStatus.PORTED and ported.number_id == number.id
    assert portability.activate_due(session, date(2026, 3, 11)) == []


# SPEC: VOX-15
@pytest.mark.parametrize(
    ("day", "start", "end", "field", "said_fr", "said_en"),
    [
        # the day before the answer
        (date(2026, 3, 1), time(8, 0), time(12, 0), "scheduled_on", "est passée", "in the past"),
        # a Saturday
        (date(2026, 3, 7), time(8, 0), time(12, 0), "scheduled_on", "samedi", "Saturday"),
        # Easter Monday, a French public holiday on a weekday
        (date(2026, 4, 6), time(8, 0), time(12, 0), "scheduled_on", "Lundi de Pâques",
         "Easter Monday"),
        # today, but the slot ended at 08:30 and the answer comes at 09:00
        (date(2026, 3, 2), time(8, 0), time(8, 30), "slot_end", "déjà passée",
         "already passed"),
        # a slot kept and told as HH:MM cannot carry seconds
        (date(2026, 3, 10), time(8, 0, 30), time(12, 0), "slot_start", "HH:MM", "HH:MM"),
        (date(2026, 3, 10), time(12, 0), time(8, 0), "slot_end", "finit avant",
         "ends before"),
    ],
)  # fmt: skip
def test_a_porting_day_past_or_not_worked_or_a_slot_over_is_refused(
    setup: Setup,
    session: Session,
    day: date,
    start: time,
    end: time,
    field: str,
    said_fr: str,
    said_en: str,
) -> None:
    customer, line_id = _portable_customer(setup, session)
    request = portability.request_port_in(
        session, customer, number="0140000025", rio_code=_rio_for("+33140000025"),
        line_id=line_id, holder_name="Boulangerie Martin",
    )  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        portability.record_donor_answer(
            session, request, accepted=True, scheduled_on=day, slot_start=start, slot_end=end,
            now=BEFORE,
        )  # fmt: skip
    assert refused.value.field == field
    assert said_fr in refused.value.render("fr") and said_en in refused.value.render("en")
    assert request.status is PortStatus.SUBMITTED and request.scheduled_on is None
    # today's slot 08:00-12:00, not over at 09:00, is accepted
    portability.record_donor_answer(
        session, request, accepted=True, scheduled_on=date(2026, 3, 2), slot_start=time(8, 0),
        slot_end=time(12, 0), now=BEFORE,
    )  # fmt: skip
    assert portability.get_request(session, customer.id, request.id).status is (
        PortStatus.SCHEDULED
    )


# SPEC: VOX-15
def test_a_rio_too_long_is_a_wrong_rio_recorded_within_its_column(
    setup: Setup, session: Session
) -> None:
    # [001 §9.2] "Numéro RIO erroné": ineligible and a new number; the 13 characters given do
    # not fit the 12-character RIO column (PostgreSQL refused the whole request).
    customer, line_id = _portable_customer(setup, session)
    request = portability.request_port_in(
        session, customer, number="+33140000030", rio_code=_rio_for("+33140000030") + "X",
        line_id=line_id, holder_name="Boulangerie",
    )  # fmt: skip
    session.flush()
    assert (request.status, request.reason) == (PortStatus.INELIGIBLE, Ineligibility.RIO_INVALID)
    assert request.new_number_id is not None
    assert request.rio is None or len(request.rio) <= 12


def _another_line(setup: Setup, session: Session) -> tuple[Customer, int]:
    customer = _customer(setup.build, session)
    contract = setup.build.contract(customer, "centrex", TODAY, [("centrex.line", 1)])
    return customer, setup.line(contract, f"port{customer.id}").id


# SPEC: VOX-15
def test_one_port_that_cannot_activate_does_not_hold_back_the_others(
    setup: Setup, session: Session
) -> None:
    # Two requests for one number both scheduled (here: the second checked while the first
    # was not visible yet). On porting day the first takes the number; the second must not
    # stop the daily job for everyone else.
    first_customer, first_line = _portable_customer(setup, session)
    second_customer, second_line = _another_line(setup, session)
    third_customer, third_line = _another_line(setup, session)
    first = portability.request_port_in(
        session, first_customer, number="+33140000040", rio_code=_rio_for("+33140000040"),
        line_id=first_line, holder_name="Boulangerie",
    )  # fmt: skip
    first.status = PortStatus.CANCELLED  # as if not yet committed when the second checks
    session.flush()
    second = portability.request_port_in(
        session, second_customer, number="+33140000040", rio_code=_rio_for("+33140000040"),
        line_id=second_line, holder_name="Boulangerie",
    )  # fmt: skip
    first.status = PortStatus.SUBMITTED
    other = portability.request_port_in(
        session, third_customer, number="+33140000041", rio_code=_rio_for("+33140000041"),
        line_id=third_line, holder_name="Fromagerie",
    )  # fmt: skip
    for request in (first, second, other):
        portability.record_donor_answer(
            session, request, accepted=True, scheduled_on=date(2026, 3, 10),
            slot_start=time(8, 0), slot_end=time(12, 0), now=BEFORE,
        )  # fmt: skip
    done = portability.activate_due(session, date(2026, 3, 10))
    assert done == [first, other]
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+33140000040"))
    assert number is not None and number.customer_id == first_customer.id
    assert second.status is PortStatus.SCHEDULED  # left for the staff, not ported
    ported = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+33140000041"))
    assert ported is not None and ported.customer_id == third_customer.id


# SPEC: VOX-15, BIL-17
def test_a_ported_number_carries_the_offers_monthly_fee_like_an_assigned_one(
    setup: Setup, session: Session
) -> None:
    # cpaas bills each geographic number 1.00 a month (numbers.geographic): a number brought
    # by portability is one of the contract's numbers from its porting day, as one assigned.
    customer = _customer(setup.build, session)
    contract = setup.build.contract(customer, "cpaas", TODAY, [])
    line = setup.line(contract, f"cpaas{customer.id}")
    request = portability.request_port_in(
        session, customer, number="+33140000050", rio_code=_rio_for("+33140000050"),
        line_id=line.id, holder_name="Boulangerie",
    )  # fmt: skip
    portability.record_donor_answer(
        session, request, accepted=True, scheduled_on=date(2026, 3, 10),
        slot_start=time(8, 0), slot_end=time(12, 0), now=BEFORE,
    )  # fmt: skip
    assert portability.activate_due(session, date(2026, 3, 10)) == [request]
    [fee] = _fee_subscriptions(session, contract)
    assert (fee.item_code, fee.quantity, fee.start_date) == (
        "numbers.geographic",
        1,
        date(2026, 3, 10),
    )
    number = session.get(PhoneNumber, request.number_id)
    assert number is not None
    assert [f.item_code for f in numbers.fees_of(session, number.id)] == ["numbers.geographic"]


# SPEC: VOX-15
def test_of_two_requests_for_one_number_sent_at_once_the_second_is_pending(
    committed_factory: sessionmaker[Session],
) -> None:
    """[001 §9.2] "une demande de portabilité est déjà en cours pour ce Numéro": two customers
    asking for the same number at the same moment cannot both be sent to the donor operator."""
    with committed_factory() as prepare:
        audit.set_actor(prepare, system_actor("test"))
        setup = Setup(prepare, Builder(prepare))
        first_customer, first_line = _another_line(setup, prepare)
        second_customer, second_line = _another_line(setup, prepare)
        prepare.commit()
        ids = (first_customer.id, first_line, second_customer.id, second_line)
    wanted, code = "+33140000060", _rio_for("+33140000060")
    outcome: list[PortStatus] = []

    def ask(session: Session, customer_id: int, line_id: int) -> None:
        audit.set_actor(session, system_actor("test"))
        customer = session.get(Customer, customer_id)
        assert customer is not None
        request = portability.request_port_in(
            session, customer, number=wanted, rio_code=code, line_id=line_id,
            holder_name="Boulangerie",
        )  # fmt: skip
        outcome.append(request.status)

    def second_asks() -> None:
        with committed_factory() as second:
            ask(second, ids[2], ids[3])
            second.commit()

    first = committed_factory()
    try:
        ask(first, ids[0], ids[1])
        commit_while_waited_for(first, second_asks)
    finally:
        first.close()
    assert outcome == [PortStatus.SUBMITTED, PortStatus.INELIGIBLE]
