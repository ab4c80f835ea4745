"""A small voice world for call-control tests: customers with Centrex, CPaaS and calling-tool
contracts, lines, numbers, a rate deck, a clock the test moves, and the counters backend —
in process and on a throwaway Redis server (every test runs on both)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.models import Customer
from operateur.billing import usage, wallets
from operateur.catalog.terms import PaymentMethod
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, Line, LineKind
from operateur.contracts.schemas import LineIn
from operateur.db import utcnow
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberStatus, NumberTier
from operateur.testing.redis import RedisServer
from operateur.voice.control import AuthorizeRequest, VoiceControl
from operateur.voice.counters import Counters, InProcessCounters, RedisCounters
from operateur.voice.decision import Decision
from tests.integration.conftest import Builder

DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France fixe,0.012,0,60/60,0
336,France mobile,0.05,0.01,30/6,0
337,France mobile,0.05,0.01,30/6,0
338,France services,0.10,0,60/60,0
32,Belgique,0.03,0,60/60,0
1,Etats-Unis,0.02,0,1/1,0
"""

# Tuesday 24 November 2026, 11:30 in Paris: a working day, within the prospection hours.
START = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


class Clock:
    """The time call control reads; tests move it instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    server = RedisServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(params=["in_process", "redis"])
def counters(request: pytest.FixtureRequest) -> Iterator[Counters]:
    if request.param == "redis":
        store = RedisCounters(
            request.getfixturevalue("redis_url"), prefix=f"test:{uuid.uuid4().hex}:"
        )
        yield store
        store.clear()
        store.close()
    else:
        yield InProcessCounters()


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@dataclass
class Account:
    customer: Customer
    contract: Contract
    lines: list[Line]
    numbers: list[str] = field(default_factory=list)

    @property
    def line(self) -> Line:
        return self.lines[0]


class VoiceWorld:
    def __init__(
        self,
        build: Builder,
        session: Session,
        factory: sessionmaker[Session],
        counters: Counters,
        clock: Clock,
        tmp_path: Path,
    ) -> None:
        self.build = build
        self.session = session
        self.factory = factory
        self.counters = counters
        self.clock = clock
        self.tmp_path = tmp_path
        self._calls = 0
        self._numbers = 0

    def settings(self, **values: Any) -> Settings:
        return Settings(data_dir=self.tmp_path, database_url="sqlite://", **values)

    def control(self, **settings: Any) -> VoiceControl:
        values: dict[str, Any] = {"voice_cache_seconds": 0}
        values.update(settings)
        return VoiceControl(self.factory, self.counters, self.settings(**values), clock=self.clock)

    def account(
        self,
        offer: str,
        *,
        line_kind: LineKind,
        lines: int = 1,
        items: list[tuple[str, int]] | None = None,
        overrides: dict[str, Any] | None = None,
        prepaid: bool = False,
        numbers: tuple[str, ...] = ("+33140000001",),
    ) -> Account:
        customer = self.build.customer(
            payment_method=PaymentMethod.PREPAID if prepaid else PaymentMethod.TRANSFER
        )
        contract = self.build.contract(
            customer, offer, date(2026, 1, 5), items or [], overrides=overrides
        )
        made = [
            contracts.create_line(
                self.session,
                customer.id,
                LineIn(contract_id=contract.id, kind=line_kind, label=f"Ligne {n}"),
            )
            for n in range(lines)
        ]
        usage.publish_deck(self.session, DECK, name="Test", customer_id=customer.id)
        account = Account(customer, contract, made)
        for number in numbers:
            self.give_number(account, number)
        if prepaid:
            wallets.open_wallet(self.session, customer.id)
        self.session.commit()
        return account

    def give_number(self, account: Account, e164: str) -> None:
        """Assign ``e164`` to the account's customer (on its first line)."""
        (row,) = numbers.add_to_stock(self.session, [e164], NumberTier.STANDARD)
        row.status = NumberStatus.ASSIGNED
        row.customer_id = account.customer.id
        row.line_id = account.line.id
        row.assigned_at = utcnow()
        self.session.flush()
        account.numbers.append(e164)

    def top_up(self, account: Account, amount: str) -> None:
        wallets.top_up(
            self.session,
            account.customer.id,
            received=Decimal(amount),
            bank_fees=Decimal("0"),
            reference=f"topup-{uuid.uuid4().hex}",
        )
        self.session.commit()

    def call(
        self,
        control: VoiceControl,
        account: Account,
        callee: str = "+33145000000",
        *,
        line: Line | None = None,
        caller: str | None = None,
        media: str = "audio",
        call_id: str | None = None,
    ) -> tuple[str, Decision]:
        self._calls += 1
        call_id = call_id or f"call-{self._calls}@test"
        decision = control.authorize(
            AuthorizeRequest(
                call_id=call_id,
                line=(line or account.line).sip_username,
                caller=caller or account.numbers[0],
                callee=callee,
                source_ip="127.0.0.1",
                media=media,
            )
        )
        return call_id, decision


@pytest.fixture
def voice(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    counters: Counters,
    clock: Clock,
    tmp_path: Path,
) -> VoiceWorld:
    return VoiceWorld(build, session, session_factory, counters, clock, tmp_path)
