"""The bytes a GSM 7-bit part goes out as (3GPP TS 23.038 §6.2.1, one septet per octet)."""

from __future__ import annotations

from operateur.sms.encoding import SmsEncoding, encode


def test_plain_text_is_sent_as_its_default_alphabet_codes() -> None:
    # SPEC: SMS-02 — "@", "$", "è", "é", "ù", "ì", "ò", "Ç", "Ø", "Å", "Δ", "_", "¡", "¿",
    # "ä", line feed: codes of the GSM alphabet, not of Latin-1
    text = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"
    expected = bytes(
        [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
         0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C,
         0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
         0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40,
         0x41, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x61, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E,
         0x7F]
    )  # fmt: skip
    assert encode(text, SmsEncoding.GSM7) == expected


def test_substitutes_and_extension_characters_in_a_part() -> None:
    # SPEC: SMS-02 — the 004 charset's substitutes ("À" as "A"), "€" as escape + 0x65, and a
    # part without them still byte for byte the same as one with them
    assert encode("Prix : 5€ À lundi", SmsEncoding.GSM7) == b"Prix : 5\x1b\x65 A lundi"
    assert encode("Prix : 5 A lundi", SmsEncoding.GSM7) == b"Prix : 5 A lundi"
    assert encode("ç", SmsEncoding.GSM7) == encode("Ç", SmsEncoding.GSM7) == b"\x09"
