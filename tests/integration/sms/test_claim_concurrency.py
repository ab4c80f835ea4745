"""Two dispatchers claiming at once never take the same message (SKIP LOCKED on PostgreSQL;
the embedded SQLite database runs its write transactions one after the other)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.sms import outbox
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import TUESDAY_10H, make_customer, queued


def test_concurrent_claims_are_disjoint(
    engine: Engine, committed_factory: sessionmaker[Session]
) -> None:
    with committed_factory() as setup:
        audit.set_actor(setup, system_actor("test"))
        owner = make_customer(Builder(setup))
        ids = {queued(setup, owner, f"+336000000{n:02d}").id for n in range(10)}
        setup.commit()

    first, second = committed_factory(), committed_factory()
    try:
        taken_first = {m.id for m in outbox.claim(first, route="default", limit=4, now=TUESDAY_10H)}
        if engine.dialect.name == "postgresql":
            # the first transaction is still open: its rows are skipped, not waited for
            taken_second = {
                m.id for m in outbox.claim(second, route="default", limit=10, now=TUESDAY_10H)
            }
            first.commit()
        else:
            first.commit()  # SQLite: one writer at a time (BEGIN IMMEDIATE)
            taken_second = {
                m.id for m in outbox.claim(second, route="default", limit=10, now=TUESDAY_10H)
            }
        second.commit()
    finally:
        first.close()
        second.close()
    assert len(taken_first) == 4 and len(taken_second) == 6
    assert taken_first | taken_second == ids and not taken_first & taken_second
