"""Pure rules of the gateway: address forms, lists, forwarded mail, retry delays, periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser

import pytest

from operateur.errors import InvalidInput
from operateur.mail.rules import (
    declared_size,
    domain_of,
    is_forwarded,
    normalize_address,
    normalize_domain,
    normalize_list_value,
    period_start,
    retry_delay,
)


def test_domains_are_lower_case_idna_and_checked() -> None:
    assert normalize_domain(" Exemple.FR. ") == "exemple.fr"
    assert normalize_domain("café.fr") == "xn--caf-dma.fr"
    for bad in ("", "localhost", "-bad.fr", "a..fr", "exemple.123", "x" * 64 + ".fr", "a b.fr"):
        with pytest.raises(InvalidInput) as error:
            normalize_domain(bad)
        assert error.value.field == "name"


def test_addresses_and_list_values() -> None:
    assert normalize_address("<Alice@Exemple.FR>") == "alice@exemple.fr"
    assert domain_of("alice@exemple.fr") == "exemple.fr"
    assert domain_of("") == ""
    with pytest.raises(InvalidInput):
        normalize_address("no-at-sign")
    assert normalize_list_value("Spammer@Bad.example") == "spammer@bad.example"
    assert normalize_list_value("@Bad.example") == "@bad.example"
    assert normalize_list_value("bad.example") == "@bad.example"


def _headers(text: str) -> object:
    return BytesHeaderParser().parsebytes(text.encode())


# SPEC: MAIL-04
def test_forwarded_mail_is_recognised() -> None:
    plain = _headers("From: a@b.fr\r\nSubject: x\r\n\r\n")
    assert not is_forwarded(plain, "a@b.fr")  # type: ignore[arg-type]
    resent = _headers("Resent-From: fwd@c.fr\r\nFrom: a@b.fr\r\n\r\n")
    assert is_forwarded(resent, "a@b.fr")  # type: ignore[arg-type]
    forwarded = _headers("X-Forwarded-To: me@d.fr\r\n\r\n")
    assert is_forwarded(forwarded, "a@b.fr")  # type: ignore[arg-type]
    assert is_forwarded(plain, "SRS0=HHH=TT=b.fr=a@forwarder.example")  # type: ignore[arg-type]


# SPEC: MAIL-09
def test_retry_delay_doubles_up_to_the_maximum() -> None:
    delays = [retry_delay(n, 60, 3600) for n in range(1, 9)]
    assert delays[:4] == [timedelta(seconds=s) for s in (60, 120, 240, 480)]
    assert delays[-1] == timedelta(seconds=3600)
    assert retry_delay(500, 60, 3600) == timedelta(seconds=3600)


# SPEC: MAIL-03
def test_challenge_periods() -> None:
    moment = datetime(2026, 11, 23, 17, 42, tzinfo=UTC)
    assert period_start(moment, 24) == datetime(2026, 11, 23, tzinfo=UTC)
    assert period_start(moment, 6) == datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert period_start(moment + timedelta(hours=7), 24) == datetime(2026, 11, 24, tzinfo=UTC)


def test_declared_size() -> None:
    assert declared_size(["BODY=8BITMIME", "SIZE=1234"]) == 1234
    assert declared_size(["size=99"]) == 99
    assert declared_size([]) is None
