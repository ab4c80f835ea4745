"""Ends arriving together from several proxy workers: each call stored and charged once."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.billing import wallets
from operateur.billing.models import Reservation, ReservationStatus, UsageRecord
from operateur.contracts.models import LineKind
from operateur.voice.counters import Counters
from tests.integration.conftest import Builder
from tests.integration.voice_control.conftest import Clock, VoiceWorld

CALLS = 10  # 2 on each of 5 Centrex lines (VOX-05)


# SPEC: BIL-10, VOX-05
def test_concurrent_ends_store_each_call_once_and_charge_each_reservation_once(
    committed_factory: sessionmaker[Session], counters: Counters, clock: Clock, tmp_path: Path
) -> None:
    session = committed_factory()
    audit.set_actor(session, system_actor("test"))
    voice = VoiceWorld(Builder(session), session, committed_factory, counters, clock, tmp_path)
    account = voice.account("centrex", line_kind=LineKind.CENTREX, lines=5, prepaid=True)
    voice.top_up(account, "100.00")
    control = voice.control()
    call_ids = []
    for n in range(CALLS):
        line = account.lines[n % len(account.lines)]
        call_id, decision = voice.call(control, account, "+33612345678", line=line)
        assert decision.allow, (n, decision)
        call_ids.append(call_id)
    for call_id in call_ids:
        control.answer(call_id)
    voice.clock.advance(95)  # France mobile, steps 30/6: 96 s billed, 0.01 + 0.08 = 0.09 €

    start = threading.Barrier(CALLS * 2)
    errors: list[BaseException] = []

    def end(call_id: str) -> None:
        try:
            start.wait()
            control.end(call_id, "ANSWERED", 200)
        except BaseException as exc:  # reported below
            errors.append(exc)

    # every call ended twice at once, as when the proxy retries an end it thinks was lost
    threads = [threading.Thread(target=end, args=(c,)) for c in call_ids for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    with committed_factory() as check:
        stored = check.scalars(
            select(UsageRecord.external_id).where(UsageRecord.external_id.in_(call_ids))
        ).all()
        assert sorted(stored) == sorted(call_ids)
        assert (
            check.scalar(
                select(func.sum(UsageRecord.cost)).where(UsageRecord.external_id.in_(call_ids))
            )
            == Decimal("0.09") * CALLS
        )
        statuses = set(check.scalars(select(Reservation.status)).all())
        assert statuses == {ReservationStatus.COMMITTED}
        wallet = wallets.get_wallet(check, account.customer.id)
        assert (wallet.balance, wallet.reserved) == (Decimal("99.10"), Decimal("0"))
    assert control.live_calls() == []
