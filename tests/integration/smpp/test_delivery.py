"""Delivery of the outbox over SMPP to an SMSC simulator on loopback (issue 6, "Delivery over
SMPP"): receipts, long messages, disconnects, restarts, refusals and STOP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from operateur.sms import optouts
from operateur.sms.dispatcher import Dispatcher, OutboxSource, stale_after
from operateur.sms.encoding import analyze
from operateur.sms.models import FINAL_STATUSES, SmsMessage, SmsStatus
from operateur.sms.smpp import DATA_CODING_DEFAULT, DATA_CODING_UCS2, ESM_CLASS_UDHI
from operateur.testing.smsc import SmscSimulator
from tests.integration.smpp.conftest import (
    World,
    dispatching,
    fixed_clock,
    route_to,
    wait_for,
)
from tests.integration.sms.conftest import TUESDAY_10H

S = SmsStatus
#: SMS-06 what the 004 offer appends to every message with the operator's default short code
MENTION = "\nSTOP 38100"


def all_in(world: World, ids: list[int], status: SmsStatus) -> bool:
    return all(found is status for found in world.statuses(ids))


def test_batch_is_submitted_then_delivered_by_receipts(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-01 a bulk send: every message submitted, receipted and tracked
    ids = world.queue(40, text="Soldes ce week-end", sender="38100")
    with dispatching(world, route_to(smsc)):
        wait_for(lambda: all_in(world, ids, S.DELIVERED))
        smsc.wait_until(lambda: len(smsc.acked_receipts) == 40)  # answered after the commit

    messages = world.messages(ids)
    submits = smsc.submits
    assert len(submits) == 40
    by_id = {submit.message_id: submit for submit in submits}
    for message in messages:
        assert message.submitted_at is not None and message.delivered_at is not None
        assert len(message.smsc_ids) == 1
        submit = by_id[message.smsc_ids[0]]
        assert submit.destination_addr == message.recipient.lstrip("+")
        assert (submit.dest_addr_ton, submit.dest_addr_npi) == (1, 1)
        assert submit.source_addr == "38100"
        assert submit.registered_delivery == 1
        assert submit.data_coding == DATA_CODING_DEFAULT
        assert submit.text == "Soldes ce week-end" + MENTION  # SMS-06 the STOP mention
    assert sorted(smsc.acked_receipts) == sorted(by_id)
    assert smsc.binds == ["operateur"]


def test_long_message_with_an_extension_character_at_the_part_boundary(
    world: World, smsc: SmscSimulator
) -> None:
    # SPEC: SMS-03 "€" counts two septets: after 152 "a" it cannot straddle the end of the
    # 153-septet first part and moves whole to the second part, escape pair intact. The STOP
    # mention (SMS-06) ends the last part: 152 + 2 + 20 + 1 + 10 = 185 septets, 2 parts.
    text = "a" * 152 + "€" + "b" * 20
    [message_id] = world.queue(text=text, parts=2)
    with dispatching(world, route_to(smsc)):
        wait_for(lambda: all_in(world, [message_id], S.DELIVERED))

    [message] = smsc.messages()
    first, second = message.parts
    assert [part.esm_class & ESM_CLASS_UDHI for part in message.parts] == [0x40, 0x40]
    reference = first.udh[3]
    assert first.udh == bytes([0x05, 0x00, 0x03, reference, 2, 1])
    assert second.udh == bytes([0x05, 0x00, 0x03, reference, 2, 2])
    assert first.payload == b"a" * 152
    # escape + "€", then the rest, a line feed (0x0A) and the mention
    assert second.payload == b"\x1b\x65" + b"b" * 20 + b"\nSTOP 38100"
    assert message.text == text + MENTION
    [stored] = world.messages([message_id])
    assert stored.smsc_ids == [first.message_id, second.message_id]


def test_unicode_message_goes_as_ucs2_parts(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-02 under an offer allowing Unicode, a character outside GSM 03.38 sends UCS-2
    text = "Votre code : 4242 ✅ " + "é" * 60
    analysis = analyze(text, world.rules(world.cpaas))
    [message_id] = world.queue(text=text, parts=analysis.part_count, owner=world.cpaas)
    with dispatching(world, route_to(smsc)):
        wait_for(lambda: all_in(world, [message_id], S.DELIVERED))

    [message] = smsc.messages()
    assert len(message.parts) == analysis.part_count == 2
    assert {part.data_coding for part in message.parts} == {DATA_CODING_UCS2}
    assert message.parts[0].payload == analysis.part_texts()[0].encode("utf-16-be")
    assert message.text == text


def test_disconnect_in_the_middle_of_a_batch_sends_each_message_once(
    world: World, smsc: SmscSimulator
) -> None:
    # SPEC: SMS-01 no message sent twice nor lost across a disconnect (issue 6): the SMSC cuts
    # the TCP connections after 60 submits, with a window of submits still on the wire.
    ids = world.queue(200, text="Promo")
    smsc.drop_after(60)
    with dispatching(world, route_to(smsc, window=20)):
        wait_for(lambda: all_in(world, ids, S.DELIVERED))

    assert smsc.drops == 1
    assert len(smsc.binds) >= 2
    recipients = [submit.destination_addr for submit in smsc.submits]
    assert len(recipients) == 200  # exactly once each: no duplicate, none missing
    assert sorted(recipients) == sorted(m.recipient.lstrip("+") for m in world.messages(ids))


@pytest.mark.parametrize(
    "text",
    [
        # 439 characters + the STOP mention (11) = 450: 3 parts, cut at 153 and 306
        " ".join(f"mots{index:03d}" for index in range(55)),
        # 419 + 11: the second part begins with a space, which the receipt's text lacks
        " ".join(f"mot{index:03d}" for index in range(60)),
    ],
)
def test_abrupt_drops_during_long_messages_keep_every_part_once(
    world: World, smsc: SmscSimulator, text: str
) -> None:
    # SPEC: SMS-03 a long message's parts survive a cut between them: each part arrives once
    # (parts on the wire at the cut are settled by their receipts, matched on the text start)
    ids = world.queue(30, text=text, parts=3)
    smsc.drop_after(25)
    with dispatching(world, route_to(smsc, window=8)):
        smsc.wait_until(lambda: smsc.drops == 1)
        smsc.drop_after(20)
        wait_for(lambda: all_in(world, ids, S.DELIVERED))

    assert smsc.drops == 2
    parts = [(s.destination_addr, s.concatenation) for s in smsc.submits]
    assert len(parts) == len(set(parts)) == 90
    assert len(smsc.messages()) == 30
    assert all(message.text == text + MENTION for message in smsc.messages())


LONG_TEXT = " ".join(f"mot{index:03d}" for index in range(60))  # 3 parts under 004


@pytest.mark.parametrize(("text", "parts"), [("Rappel RDV", 1), (LONG_TEXT, 3)])
def test_graceful_restart_resumes_without_resending(
    world: World, smsc: SmscSimulator, text: str, parts: int
) -> None:
    # SPEC: SMS-01 a restart of operateur neither loses nor repeats a message (nor a part of
    # a long message: the parts of a started message are finished before the stop)
    ids = world.queue(60, text=text, parts=parts)
    route = route_to(smsc, throughput=200)  # paced, so that the stop lands mid-batch
    with dispatching(world, route):
        smsc.wait_until(lambda: len(smsc.submits) >= 31)
    # stopped: drained and unbound, nothing left in between
    statuses = world.statuses(ids)
    assert S.SUBMITTING not in statuses
    assert S.QUEUED in statuses
    assert len(smsc.submits) % parts == 0  # whole messages only
    assert len(smsc.submits) < 60 * parts

    with dispatching(world, route):
        wait_for(lambda: all_in(world, ids, S.DELIVERED))
    keys = [(s.destination_addr, s.concatenation) for s in smsc.submits]
    assert len(keys) == len(set(keys)) == 60 * parts
    assert sorted(m.text for m in smsc.messages()) == [text + MENTION] * 60


def test_messages_left_submitting_by_a_crash_are_sent_once_after_restart(
    world: World, smsc: SmscSimulator
) -> None:
    # SPEC: SMS-01 a crash between claim and submit loses nothing
    route = route_to(smsc)
    ids = world.queue(5, text="Crash")
    crashed = OutboxSource(world.factory, "default", clock=fixed_clock())
    assert len(crashed.claim(10)) == 5  # claimed, never written: the process died here
    assert all_in(world, ids, S.SUBMITTING)

    later = TUESDAY_10H + stale_after([route]) + timedelta(seconds=1)
    with dispatching(world, route, clock=fixed_clock(later)):
        wait_for(lambda: all_in(world, ids, S.DELIVERED))
    assert len(smsc.submits) == 5
    assert all(message.attempts == 0 for message in world.messages(ids))


def test_receipts_give_undelivered_and_expired(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-01 per-message status from the delivery receipts
    ok, lost, late = world.queue(3, text="Statut")
    smsc.receipt_stats = {"33610000001": "UNDELIV", "33610000002": "EXPIRED"}
    with dispatching(world, route_to(smsc)):
        wait_for(lambda: all(s in FINAL_STATUSES for s in world.statuses([ok, lost, late])))
    assert world.statuses([ok, lost, late]) == [S.DELIVERED, S.UNDELIVERED, S.EXPIRED]


def test_refused_and_throttled_submits(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-01 an SMSC refusal is a final status with its reason; throttling is retried
    refused, *others = world.queue(6, text="Essai")
    smsc.refuse = {"33610000000": 0x0000000B}  # ESME_RINVDSTADR
    smsc.throttle(3)
    with dispatching(world, route_to(smsc, window=1)):
        wait_for(lambda: all_in(world, others, S.DELIVERED))
        wait_for(lambda: all_in(world, [refused], S.REJECTED))

    [message] = world.messages([refused])
    assert message.error is not None and "0x0000000B" in message.error
    assert len(smsc.submits) == 5  # throttled submits were not taken, then sent once


def test_stop_from_a_recipient_unsubscribes_the_number(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-06 an inbound STOP to the short code unsubscribes the number
    [sent] = world.queue(text="Offre", recipient="+33698765432", sender="38100")
    [waiting] = world.queue(
        text="Offre 2",
        recipient="+33698765432",
        sender="38100",
        not_before=TUESDAY_10H + timedelta(days=1),
    )
    with dispatching(world, route_to(smsc)):
        wait_for(lambda: all_in(world, [sent], S.DELIVERED))
        smsc.inject("33698765432", "38100", "Stop")
        wait_for(lambda: all_in(world, [waiting], S.UNSUBSCRIBED))

    assert smsc.acked_inbound == [("33698765432", "38100", "Stop")]
    rules = world.rules(world.telecom)
    with world.session() as session:
        assert optouts.is_unsubscribed(session, world.telecom.id, rules, "+33698765432", "38100")
        assert session.scalar(select(SmsMessage.error).where(SmsMessage.id == waiting))


def test_dispatcher_runs_until_idle(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-01 the `sms serve --until-idle` mode: sends what is due, then returns
    ids = world.queue(10, text="Fin")
    dispatcher = Dispatcher(world.factory, [route_to(smsc)], clock=fixed_clock())
    dispatcher.run(until_idle=True)
    assert all(status in (S.SUBMITTED, S.DELIVERED) for status in world.statuses(ids))
    assert len(smsc.submits) == 10
