"""The STOP mention as the SMSC receives it (SMS-06, SMS-02/03) and the operator's short code
(setting ``OPERATEUR_SMS_SHORT_CODE``) as sender, mention and STOP destination."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from operateur.sms import optouts, service
from operateur.sms.models import SmsMessage, SmsOptOut, SmsStatus
from operateur.sms.service import SendRequest
from operateur.testing.smsc import SmscSimulator
from tests.integration.smpp.conftest import World, dispatching, route_to, wait_for
from tests.integration.sms.conftest import TUESDAY_10H

S = SmsStatus


def _send(world: World, customer_id: int, text: str, to: str, sender: str | None = None) -> int:
    """Enqueue through the API's use case (checks, counting, stock) and commit."""
    with world.session() as session, session.begin():
        request = SendRequest(to=to, text=text, sender=sender)
        return service.send(session, customer_id, request, now=TUESDAY_10H).id


def test_the_smsc_receives_each_message_ending_with_the_stop_mention(
    world: World, smsc: SmscSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SPEC: SMS-06 the mention with the operator's short code ends every 004 message;
    # SPEC: SMS-03 parts counted with it, worked out by hand (GSM 7-bit, 160 / 153):
    # - "Soldes -20% ce samedi !" (23) + line break + "STOP 36180" = 34 -> 1 part;
    # - 150 "a" + "STOP 36180" = 160 -> 1 part, no room for the line break (it would make 2);
    # - 151 "a" + "\nSTOP 36180" = 162 -> 2 parts: 153 | 9, the mention across them;
    # - 152 "a" + "€" (2 septets, cannot straddle 153) + "\nSTOP 36180" -> 152 | 2 + 11 = 13.
    monkeypatch.setenv("OPERATEUR_SMS_SHORT_CODE", "36180")
    texts = ["Soldes -20% ce samedi !", "a" * 150, "a" * 151, "a" * 152 + "€"]
    ids = [
        _send(world, world.telecom.id, text, f"+3361000000{index}")
        for index, text in enumerate(texts)
    ]
    stored = world.messages(ids)
    assert [message.parts for message in stored] == [1, 1, 2, 2]
    assert {message.sender for message in stored} == {"36180"}  # the shared short code

    with dispatching(world, route_to(smsc)):
        wait_for(lambda: all(status is S.DELIVERED for status in world.statuses(ids)))

    received = {m.parts[0].destination_addr: m for m in smsc.messages()}
    arrived = [received[f"3361000000{index}"] for index in range(4)]
    assert [m.text for m in arrived] == [
        "Soldes -20% ce samedi !\nSTOP 36180",
        "a" * 150 + "STOP 36180",
        "a" * 151 + "\nSTOP 36180",
        "a" * 152 + "€\nSTOP 36180",
    ]
    assert [len(m.parts) for m in arrived] == [1, 1, 2, 2]
    assert [m.parts[-1].payload for m in arrived[2:]] == [
        b"TOP 36180",  # 151 "a" + "\nS" fill the first part
        b"\x1b\x65\nSTOP 36180",
    ]
    assert {part.source_addr for m in arrived for part in m.parts} == {"36180"}
    # what was billed is what was sent: one usage per part
    assert sum(len(message.smsc_ids) for message in world.messages(ids)) == 6


def test_the_cpaas_offer_appends_no_mention(world: World, smsc: SmscSimulator) -> None:
    # SPEC: SMS-06 the API customer writes its own STOP mention (no term in the cpaas offer)
    with world.session() as session, session.begin():
        service.request_sender(session, world.cpaas.id, "Appli")
        sender = service.list_senders(session, world.cpaas.id)[0]
        service.review_sender(session, sender, authorise=True, reason="ok", reviewer="staff")
    message_id = _send(world, world.cpaas.id, "Code 1234", "+33610000009", sender="Appli")
    with dispatching(world, route_to(smsc)):
        wait_for(lambda: world.statuses([message_id]) == [S.DELIVERED])
    [message] = smsc.messages()
    assert message.text == "Code 1234"


def test_stop_to_the_operators_short_code_unsubscribes_from_every_sharing_customer(
    world: World, smsc: SmscSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SPEC: SMS-06 the answer to the mention's number (the operator's short code) unsubscribes
    # the number from every customer sharing it, even one that sent from its own custom sender
    monkeypatch.setenv("OPERATEUR_SMS_SHORT_CODE", "36180")
    other = world.add_customer("telecom", "Fleuriste")
    first = _send(world, world.telecom.id, "Offre", "+33698765432")
    with dispatching(world, route_to(smsc)):
        wait_for(lambda: world.statuses([first]) == [S.DELIVERED])
        smsc.inject("33698765432", "36180", "STOP")
        wait_for(lambda: len(smsc.acked_inbound) == 1)

    with world.session() as session:
        scopes = set(
            session.scalars(select(SmsOptOut.scope).where(SmsOptOut.recipient == "+33698765432"))
        )
        assert optouts.short_code_scope("36180") in scopes
        rules = service.context(session, other.id).rules
        assert optouts.is_unsubscribed(session, other.id, rules, "+33698765432", "36180")
    later = _send(world, other.id, "Bouquets", "+33698765432")
    [refused] = world.messages([later])
    assert (refused.status, refused.error) == (S.UNSUBSCRIBED, "unsubscribed")
    with world.session() as session:
        assert session.scalar(select(SmsMessage.smsc_ids).where(SmsMessage.id == later)) == []
