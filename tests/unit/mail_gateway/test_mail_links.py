"""Signed one-click links of the digest and the challenge (MAIL-03)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from operateur.config import Settings
from operateur.errors import InvalidInput
from operateur.mail import links

SECRET = b"k" * 32
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


# SPEC: MAIL-03
def test_a_signed_link_carries_its_data_until_it_expires() -> None:
    token = links.sign(SECRET, "release", {"q": 42, "r": "a@b.fr"}, NOW + timedelta(days=30))
    data = links.verify(SECRET, "release", token, NOW)
    assert (data["q"], data["r"]) == (42, "a@b.fr")
    with pytest.raises(InvalidInput):
        links.verify(SECRET, "release", token, NOW + timedelta(days=31))


# SPEC: MAIL-03
def test_a_tampered_or_misused_link_is_refused() -> None:
    token = links.sign(SECRET, "release", {"q": 42, "r": "a@b.fr"}, NOW + timedelta(days=1))
    payload, signature = token.split(".")
    forged = links.sign(b"other secret", "release", {"q": 43, "r": "a@b.fr"}, NOW)
    for bad in (
        f"{forged.split('.')[0]}.{signature}",  # another message under the old signature
        forged,  # signed with another key
        f"{payload}.{signature[:-2]}xx",
        "garbage",
    ):
        with pytest.raises(InvalidInput) as error:
            links.verify(SECRET, "release", bad, NOW)
        assert error.value.code == "invalid_link"
    with pytest.raises(InvalidInput):  # a release link is not a challenge link
        links.verify(SECRET, "challenge", token, NOW)


# SPEC: MAIL-03
def test_a_link_with_characters_outside_ascii_is_refused_as_invalid() -> None:
    token = links.sign(SECRET, "release", {"q": 42, "r": "a@b.fr"}, NOW + timedelta(days=1))
    payload, signature = token.split(".")
    for bad in (f"é{payload}.{signature}", f"{payload}.{signature[:-1]}é", "é"):
        with pytest.raises(InvalidInput) as error:
            links.verify(SECRET, "release", bad, NOW)
        assert error.value.code == "invalid_link"


# SPEC: MAIL-03
def test_links_are_never_signed_with_an_empty_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    secret = links.link_secret(settings)
    assert len(secret) >= 32 and links.link_secret(settings) == secret  # generated once, kept
    # the file as another process leaves it between creating and writing it: not a key
    other = Settings(data_dir=tmp_path / "other")
    (tmp_path / "other" / "mail").mkdir(parents=True)
    (tmp_path / "other" / "mail" / "link.secret").write_bytes(b"")
    with pytest.raises(RuntimeError):
        links.link_secret(other)
