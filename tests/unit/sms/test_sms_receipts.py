"""Receipts of parts left in doubt by a cut: which part a receipt settles."""

from __future__ import annotations

from typing import Any, cast

from operateur.sms.smpp import (
    SmppConnector,
    SmppRoute,
    Submission,
    _InDoubt,
    _Message,
    _Part,
    parse_receipt,
)

SENDER = "38100"
RECIPIENT = "+33612345678"


def _connector_with_parts_in_doubt(texts: tuple[str, ...]) -> tuple[SmppConnector, list[_Part]]:
    route = SmppRoute(name="t", host="127.0.0.1", port=1, system_id="t", password="t")
    connector = SmppConnector(route, cast(Any, None))  # the source is not used here
    submission = Submission(
        message_id=1,
        sender=SENDER,
        recipient=RECIPIENT,
        parts=tuple(text.encode() for text in texts),
        data_coding=0,
        texts=texts,
    )
    message = _Message(
        submission=submission,
        reference=1,
        smsc_ids=[None] * len(texts),
        statuses=[None] * len(texts),
        retries=[0] * len(texts),
        unanswered=set(range(len(texts))),
    )
    parts = [_Part(message, index) for index in range(len(texts))]
    connector._in_doubt = [_InDoubt(part, deadline=1e12) for part in parts]
    return connector, parts


# SPEC: SMS-03
def test_a_receipt_settles_the_part_it_quotes_even_one_beginning_with_a_space() -> None:
    """A long message cut between parts: the SMSC quotes the start of each part in its receipt
    (stripped of spaces); the part beginning with a space must be recognised, else it is sent
    a second time after the in-doubt delay."""
    connector, parts = _connector_with_parts_in_doubt(
        ("Bonjour à tous, voici le", " programme de la semaine")
    )
    receipt = parse_receipt(
        "id:SMSC-2 sub:001 dlvrd:001 submit date:2611241000 done date:2611241000 stat:DELIVRD "
        "err:000 text: programme de la se",
        source=RECIPIENT,
        destination=SENDER,
    )
    assert receipt is not None
    assert connector._match_in_doubt(receipt) is parts[1]
    assert [doubt.part for doubt in connector._in_doubt] == [parts[0]]
