"""SEC-01, SEC-02: credentials are checked without telling, by the time they take, what part
was right: an unknown identifier costs the same password check as a known one, an API key's
secret is compared in constant time; a deactivated user's login stops working at once."""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.errors import Unauthenticated
from tests.integration.conftest import Builder

PASSWORD = "correct horse battery"


def _login(session: Session, email: str, password: str = PASSWORD) -> str:
    _row, token, _user = accounts.login(
        session,
        email,
        password,
        session_hours=8,
        max_failures=5,
        lockout_minutes=15,
        single_session=False,
    )
    return token


def _user(session: Session, build: Builder, email: str, *, active: bool = True) -> int:
    customer = build.customer(name=email)
    user = accounts.create_user(
        session,
        system_actor(),
        operator_id=build.operator_id,
        customer_id=customer.id,
        data=UserIn(email=email, display_name=email, password=PASSWORD, role=Role.CUSTOMER_ADMIN),
    )
    user.active = active
    session.flush()
    return customer.id


def _count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
        calls.append(1)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return calls


# SPEC: SEC-01
def test_an_unknown_or_disabled_identifier_costs_the_same_password_check(
    session: Session, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without it, the quick refusal of an unknown address tells which addresses have an
    account (the message is the same, the time is not)."""
    _user(session, build, "connu@client.fr")
    _user(session, build, "parti@client.fr", active=False)
    calls = _count_verifications(monkeypatch)
    for email in ("connu@client.fr", "inconnu@client.fr", "parti@client.fr"):
        with pytest.raises(Unauthenticated) as refused:
            _login(session, email, "not the password")
        assert refused.value.code == "bad_credentials"
    assert len(calls) == 3  # one argon2 check each, known or not


# SPEC: SEC-01
def test_an_api_keys_secret_is_compared_in_constant_time(
    session: Session, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = _user(session, build, "cles@client.fr")
    _row, key = accounts.create_api_key(
        session,
        system_actor(),
        operator_id=build.operator_id,
        customer_id=customer_id,
        name="crm",
        role=Role.CUSTOMER_USER,
    )
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    forged = key[: key.rindex("_") + 1] + "x" * 43  # the right public id, a wrong secret
    assert accounts.authenticate_token(session, forged) is None
    actor = accounts.authenticate_token(session, key)
    assert actor is not None and actor.customer_id == customer_id
    assert len(compared) == 2


# SPEC: SEC-01, SEC-02
def test_a_deactivated_users_session_stops_working_at_once(
    session: Session, build: Builder
) -> None:
    customer_id = _user(session, build, "depart@client.fr")
    token = _login(session, "depart@client.fr")
    actor = accounts.authenticate_token(session, token)
    assert actor is not None and actor.customer_id == customer_id
    user = accounts.get_user(session, customer_id, actor.id or 0)
    accounts.deactivate_user(session, user)
    assert accounts.authenticate_token(session, token) is None
    with pytest.raises(Unauthenticated):
        _login(session, "depart@client.fr")
