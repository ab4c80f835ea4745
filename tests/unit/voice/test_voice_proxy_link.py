"""The proxy link's wire format: netstrings of JSON, cut anywhere by TCP (Kamailio evapi)."""

from __future__ import annotations

import pytest

from operateur.voice.proxy_link import Frames, acknowledge, encode, parse_proxies


def test_messages_cut_anywhere_are_read_whole_and_in_order() -> None:
    stream = encode({"type": "end", "seq": 1}) + encode({"type": "answer", "seq": 2, "é": "€"})
    for cut in range(1, len(stream)):
        frames = Frames()
        read = frames.feed(stream[:cut]) + frames.feed(stream[cut:])
        assert read == [b'{"type":"end","seq":1}', '{"type":"answer","seq":2,"é":"€"}'.encode()]


@pytest.mark.parametrize(
    ("seqs", "acks"),
    [
        ([7, 5, 6, 9, 11, 12, 13, 1], "1,5-7,9,11-13"),
        ([4, 4, 3], "3-4"),  # a report sent again and taken twice
        ([None, "x", 2], "2"),  # a malformed report without a usable number
        ([], ""),
    ],
)
def test_reports_are_acknowledged_as_ranges_of_their_numbers(seqs: list[object], acks: str) -> None:
    assert acknowledge(seqs) == encode({"acks": acks})


@pytest.mark.parametrize(
    ("stream", "reason"),
    [
        (b"5:hello;", "not ended by a comma"),
        (b"123456789012345", "length missing"),
        (b"2000000:{", "netstring of 2000000 bytes"),
    ],
)
def test_a_broken_stream_is_refused_with_its_reason(stream: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Frames().feed(stream)


def test_the_proxies_setting_names_the_bad_entry() -> None:
    assert parse_proxies("127.0.0.1:8448, [::1]:9000,") == [("127.0.0.1", 8448), ("::1", 9000)]
    with pytest.raises(ValueError, match="'kamailio' is not host:port"):
        parse_proxies("127.0.0.1:8448,kamailio")
