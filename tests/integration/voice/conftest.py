"""The end-to-end voice stack on loopback: operateur served by uvicorn on a fresh database of the
session's backend, the shipped Kamailio configuration in front of it, and a SIPp callee behind
it. Tests place real SIP calls with SIPp (``operateur.testing.sip.place_calls``) and read what
operateur wrote (usage records, wallets) from the same database.

The data is made through the real services, committed, in short transactions: on SQLite every
transaction takes the write lock, and the server writes at the same time.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.billing import usage, wallets
from operateur.billing.models import Reservation, UsageRecord
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind
from operateur.contracts.schemas import LineIn
from operateur.db import make_engine, utcnow
from operateur.migrations import upgrade_engine
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberStatus, NumberTier
from operateur.testing.sip import Kamailio, OperateurServer, SippCallee
from operateur.voice.control import USAGE_SOURCE, reservation_ref
from tests.integration.conftest import Builder

T = TypeVar("T")

# The rate deck of every test customer (BIL-09): prefix, price a minute, connection fee, steps.
DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France fixe,0.012,0,60/60,0
336,France mobile,0.05,0.01,30/6,0
337,France mobile,0.05,0.01,30/6,0
"""

# Per-second decks, so that the amount of a call cut at a known duration is exact.
PER_SECOND_DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France fixe,0.012,0,1/1,0
"""
PREPAID_DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France fixe,0.60,0,1/1,0
"""

LANDLINE = "+33145000000"
MOBILE = "+33612345678"


def wait_for(probe: Callable[[], T | None], *, timeout: float = 90.0, what: str = "") -> T:
    """Poll ``probe`` until it returns something (an event awaited, not a timing check)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what or 'an event'} after {timeout} s")
        time.sleep(0.2)


@dataclass(frozen=True)
class Account:
    customer_id: int
    contract_id: int
    line: str  # the line's SIP user name
    number: str  # the caller ID assigned to the customer


NUMBERS = itertools.count(1)


class VoiceStack:
    """A database shared with a running operateur, a Kamailio in front, a SIPp callee behind;
    the proxy asks operateur over ``transport``: ``http`` or ``evapi`` (its event socket)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        builder: Builder,
        server: OperateurServer,
        kamailio: Kamailio,
        callee: SippCallee,
        api_key: str,
        transport: str,
    ) -> None:
        self.factory = factory
        self.builder = builder
        self.server = server
        self.kamailio = kamailio
        self.callee = callee
        self.api_key = api_key
        self.transport = transport

    def session(self) -> Session:
        session = self.factory()
        audit.set_actor(session, system_actor("test"))
        return session

    def next_number(self, prefix: str) -> str:
        return f"{prefix}{next(NUMBERS):04d}"  # the stacks of both transports share the database

    def account(
        self,
        offer: str,
        *,
        line_kind: LineKind,
        number_prefix: str,
        deck: str = DECK,
        overrides: dict[str, Any] | None = None,
        prepaid_credit: str | None = None,
    ) -> Account:
        """A customer with a signed, active contract of ``offer``, one line, one assigned
        number, its own rate deck and, for a prepaid customer, a wallet topped up."""
        with self.session() as session, session.begin():
            self.builder.session = session
            customer = self.builder.customer(
                payment_method=PaymentMethod.PREPAID if prepaid_credit else PaymentMethod.TRANSFER
            )
            contract = self.builder.contract(customer, offer, date(2026, 1, 5), [], overrides)
            line = contracts.create_line(
                session, customer.id, LineIn(contract_id=contract.id, kind=line_kind, label="L1")
            )
            number = self.next_number(number_prefix)
            (row,) = numbers.add_to_stock(session, [number], NumberTier.STANDARD)
            row.status = NumberStatus.ASSIGNED
            row.customer_id = customer.id
            row.line_id = line.id
            row.assigned_at = utcnow()
            usage.publish_deck(session, deck, name="Test", customer_id=customer.id)
            if prepaid_credit is not None:
                wallets.open_wallet(session, customer.id)
                wallets.top_up(
                    session,
                    customer.id,
                    received=Decimal(prepaid_credit),
                    bank_fees=Decimal("0"),
                    reference=f"topup-{uuid.uuid4().hex}",
                )
            return Account(customer.id, contract.id, line.sip_username, number)

    def usage_records(self, call_ids: list[str], *, timeout: float = 90.0) -> list[UsageRecord]:
        """The usage records of these calls, in the same order, once they have all arrived."""

        def probe() -> list[UsageRecord] | None:
            with self.session() as session, session.begin():
                rows = {
                    r.external_id: r
                    for r in session.scalars(
                        select(UsageRecord).where(
                            UsageRecord.source == USAGE_SOURCE,
                            UsageRecord.external_id.in_(call_ids),
                        )
                    )
                }
                session.expunge_all()
            if len(rows) < len(call_ids):
                return None
            return [rows[c] for c in call_ids]

        try:
            return wait_for(probe, timeout=timeout, what=f"the usage records of {call_ids}")
        except AssertionError as missing:
            raise AssertionError(
                f"{missing}\n--- kamailio ---\n{self.kamailio.log[-6000:]}"
                f"\n--- operateur ---\n{self.server.log[-6000:]}"
            ) from None

    def usage_count(self, call_ids: list[str]) -> int:
        with self.session() as session, session.begin():
            return len(
                session.scalars(
                    select(UsageRecord.id).where(
                        UsageRecord.source == USAGE_SOURCE,
                        UsageRecord.external_id.in_(call_ids),
                    )
                ).all()
            )

    def reservation(self, call_id: str) -> Reservation:
        with self.session() as session, session.begin():
            row = session.scalars(
                select(Reservation).where(Reservation.session_ref == reservation_ref(call_id))
            ).one()
            session.expunge(row)
            return row

    def wallet(self, customer_id: int) -> wallets.WalletView:
        with self.session() as session, session.begin():
            return wallets.get_wallet(session, customer_id)


@pytest.fixture(scope="package")
def database_url(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh migrated database of the session's backend, where sessions really commit and
    that a server process can open too."""
    if engine.dialect.name == "postgresql":
        name = f"voice_{uuid.uuid4().hex[:12]}"
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f'CREATE DATABASE "{name}"')
            )
        url = engine.url.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('voice') / 'operateur.db'}"
    fresh = make_engine(url)
    upgrade_engine(fresh)
    fresh.dispose()
    yield url
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f'DROP DATABASE "{name}" WITH (FORCE)')
            )


@pytest.fixture(scope="package")
def voice_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    audit.install()
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture(scope="package")
def builder_and_key(voice_factory: sessionmaker[Session]) -> tuple[Builder, str]:
    """The operator and the proxy's API key (a staff user of the network role)."""
    with voice_factory() as session, session.begin():
        audit.set_actor(session, system_actor("test"))
        builder = Builder(session)
        _, key = accounts.create_api_key(
            session,
            system_actor(),
            operator_id=builder.operator_id,
            customer_id=None,
            name="kamailio",
            role=Role.NETWORK,
        )
    return builder, key


# A loaded machine may keep operateur busy for seconds: the proxy waits for it (SIPp gives up
# on an INVITE after about 15 s of retransmissions).
# The international interconnection of these tests sends from 127.0.0.2 (VOX-09).
PROXY_DEFINES = [
    "HTTP_TIMEOUT=10",
    "EVAPI_TIMEOUT_MS=10000",
    'INTERNATIONAL_CARRIER_NETS="127.0.0.2/32"',
]

SERVER_ENV = {
    # the test process writes lines and decks while the server runs: read them at every call
    "OPERATEUR_VOICE_CACHE_SECONDS": "0",
    # call.authorized, call.ended… in the server's log, shown when a test fails
    "OPERATEUR_LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="package")
def server(database_url: str) -> Iterator[OperateurServer]:
    """operateur answering the proxies over HTTP."""
    with OperateurServer(database_url, env=SERVER_ENV) as running:
        yield running


def evapi_env(proxy: Kamailio) -> dict[str, str]:
    """The settings of an operateur serving call control on ``proxy``'s event socket."""
    return {**SERVER_ENV, "OPERATEUR_SIP_EVAPI": f"127.0.0.1:{proxy.evapi_port}"}


UNUSED_API = "http://127.0.0.1:9/api/v1"  # a proxy asking over its event socket never uses it


@pytest.fixture(scope="package")
def callee() -> Iterator[SippCallee]:
    with SippCallee() as running:
        yield running


@pytest.fixture(scope="package", params=["http", "evapi"])
def stack(
    request: pytest.FixtureRequest,
    voice_factory: sessionmaker[Session],
    builder_and_key: tuple[Builder, str],
    database_url: str,
    callee: SippCallee,
) -> Iterator[VoiceStack]:
    """Every test of the stack runs with each transport of the shipped configuration."""
    builder, key = builder_and_key
    transport = request.param
    if transport == "http":
        server = request.getfixturevalue("server")
        with Kamailio(
            api_url=server.api_url, api_key=key, gateway_port=callee.port, defines=PROXY_DEFINES
        ) as kamailio:
            yield VoiceStack(voice_factory, builder, server, kamailio, callee, key, transport)
        return
    with (
        Kamailio(
            api_url=UNUSED_API,
            api_key=key,
            gateway_port=callee.port,
            defines=PROXY_DEFINES,
            evapi=True,
        ) as kamailio,
        OperateurServer(database_url, env=evapi_env(kamailio)) as server,
    ):
        kamailio.wait_for_link()
        yield VoiceStack(voice_factory, builder, server, kamailio, callee, key, transport)
