"""The SMPP wire helpers of the connector: receipts, addresses, short-message decoding."""

from __future__ import annotations

from datetime import UTC, datetime

from operateur.sms.encoding import SmsEncoding, encode
from operateur.sms.smpp import (
    address,
    concatenation_udh,
    decode_short_message,
    parse_receipt,
    split_udh,
    to_e164,
)


def test_receipt_text_is_parsed() -> None:
    # SPEC: SMS-01 per-message status from the SMSC's delivery receipt (SMPP 3.4 appendix B)
    receipt = parse_receipt(
        "id:0A1B2C sub:001 dlvrd:000 submit date:2603101000 done date:2603101002 "
        "stat:UNDELIV err:034 text:Bonjour le monde",
        source="+33612345678",
        destination="38100",
    )
    assert receipt is not None
    assert receipt.smsc_id == "0A1B2C"
    assert receipt.stat == "UNDELIV"
    assert receipt.error == "err:034"
    assert receipt.done_at == datetime(2026, 3, 10, 10, 2, tzinfo=UTC)
    assert receipt.text == "Bonjour le monde"


def test_receipt_tlvs_win_over_the_text() -> None:
    # SPEC: SMS-01 receipted_message_id and message_state TLVs are authoritative
    receipt = parse_receipt(
        "id:WRONG stat:ENROUTE err:000", receipted_message_id="RIGHT", message_state=2
    )
    assert receipt is not None
    assert (receipt.smsc_id, receipt.stat, receipt.error) == ("RIGHT", "DELIVRD", None)
    assert parse_receipt("no id here") is None


def test_addresses_on_the_wire() -> None:
    # SPEC: SMS-05 alphanumeric senders go as TON 5; SMS-07 recipients as international numbers
    assert address("+33612345678") == ("33612345678", 1, 1)
    assert address("38100") == ("38100", 0, 1)
    assert address("BOULANGERIE") == ("BOULANGERIE", 5, 0)
    assert to_e164("33612345678", 1) == "+33612345678"
    assert to_e164("0612345678", 0) == "+33612345678"
    assert to_e164("38100", 0) == "38100"


def test_gsm_and_ucs2_decoding_round_trip() -> None:
    # SPEC: SMS-03 extension characters are an escape pair on the wire
    text = "Prix: 5€ {promo} [x] ~ ^ | \\ Ç"
    assert decode_short_message(encode(text, SmsEncoding.GSM7), 0) == text
    assert decode_short_message("Grüße ✅".encode("utf-16-be"), 8) == "Grüße ✅"


def test_concatenation_header() -> None:
    # SPEC: SMS-03 each part of a long message carries the 8-bit concatenation UDH
    udh = concatenation_udh(300, 3, 2)
    assert udh == bytes([0x05, 0x00, 0x03, 300 % 256, 3, 2])
    assert split_udh(udh + b"abc", 0x40) == (udh, b"abc")
    assert split_udh(b"abc", 0x00) == (b"", b"abc")
