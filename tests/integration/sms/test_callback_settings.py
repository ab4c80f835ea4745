"""The customer's callback signing secret is created once, even by two transactions at once
(the API reading the settings while the transport reports a first status): both sign with the
same secret, neither fails (SMS-01, status callbacks signed with HMAC)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from operateur.sms import callbacks
from operateur.sms.models import SmsSettings
from tests.integration.conftest import Builder, commit_while_waited_for
from tests.integration.sms.conftest import make_customer
from tests.integration.sms.test_campaign_races import _session


def test_two_transactions_creating_the_signing_secret_agree_on_it(
    committed_factory: sessionmaker[Session],
) -> None:
    # SPEC: SMS-01 — callbacks signed under one secret per customer
    with _session(committed_factory) as setup:
        owner = make_customer(Builder(setup))
        setup.commit()
    secrets: list[str] = []
    errors: list[Exception] = []

    def second() -> None:
        with _session(committed_factory) as other:
            try:
                secrets.append(callbacks.settings_of(other, owner.id).callback_secret)
                other.commit()
            except Exception as error:  # what the caller would see
                errors.append(error)

    first = _session(committed_factory)
    try:
        secrets.append(callbacks.settings_of(first, owner.id).callback_secret)
        commit_while_waited_for(first, second)
    finally:
        first.close()

    assert errors == []
    assert len(secrets) == 2 and secrets[0] == secrets[1]
    with committed_factory() as check:
        count = check.scalar(
            select(func.count(SmsSettings.id)).where(SmsSettings.customer_id == owner.id)
        )
        assert count == 1
