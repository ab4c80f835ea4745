"""SMPP delivery tests: the outbox in a database where sessions really commit (the dispatcher
runs in its own threads), an SMSC simulator on loopback, and a dispatcher on a fixed clock
inside the 004 sending window."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.catalog.terms import SmsRules
from operateur.contracts.models import Contract
from operateur.contracts.service import terms_of
from operateur.sms.dispatcher import Dispatcher
from operateur.sms.models import SmsMessage, SmsStatus
from operateur.sms.smpp import SmppRoute
from operateur.testing.smsc import SmscSimulator
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer, make_customer, queued


@dataclass
class World:
    """A committed database with one customer per offer used here."""

    factory: sessionmaker[Session]
    telecom: SmsCustomer
    cpaas: SmsCustomer

    def session(self) -> Session:
        session = self.factory()
        audit.set_actor(session, system_actor("test"))
        return session

    def queue(self, count: int = 1, **kwargs: Any) -> list[int]:
        """``count`` QUEUED messages (distinct recipients unless given), committed; their ids."""
        owner = kwargs.pop("owner", self.telecom)
        with self.session() as session, session.begin():
            ids = []
            for index in range(count):
                recipient = kwargs.get("recipient", f"+336{10000000 + index:08d}")
                extra = {k: v for k, v in kwargs.items() if k != "recipient"}
                ids.append(queued(session, owner, recipient, **extra).id)
            return ids

    def add_customer(self, offer: str, name: str) -> SmsCustomer:
        """Another customer of the same operator with a live contract of ``offer``, committed."""
        with self.session() as session, session.begin():
            build = Builder.__new__(Builder)  # the operator exists: no second one
            build.session = session
            build.operator_id = self.telecom.customer.operator_id
            added = make_customer(build, offer, name=name)
            session.expunge_all()
            return added

    def rules(self, owner: SmsCustomer) -> SmsRules:
        with self.session() as session:
            contract = session.get(Contract, owner.contract.id)
            assert contract is not None
            rules = terms_of(contract).sms
            assert rules is not None
            return rules

    def messages(self, ids: list[int] | None = None) -> list[SmsMessage]:
        with self.session() as session:
            query = select(SmsMessage).order_by(SmsMessage.id)
            if ids is not None:
                query = query.where(SmsMessage.id.in_(ids))
            return list(session.scalars(query))

    def statuses(self, ids: list[int] | None = None) -> list[SmsStatus]:
        return [message.status for message in self.messages(ids)]


@pytest.fixture
def world(committed_factory: sessionmaker[Session]) -> World:
    session = committed_factory()
    audit.set_actor(session, system_actor("test"))
    with session, session.begin():
        build = Builder(session)
        telecom = make_customer(build, "telecom", name="Boulangerie")
        cpaas = make_customer(build, "cpaas", name="Appli")
    return World(committed_factory, telecom, cpaas)


@pytest.fixture
def smsc() -> Iterator[SmscSimulator]:
    with SmscSimulator() as simulator:
        yield simulator


def route_to(smsc: SmscSimulator, **overrides: Any) -> SmppRoute:
    """A route to the simulator with timers short enough for a test."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "operateur",
        "password": "secret",
        "window": 10,
        "poll_seconds": 0.02,
        "reconnect_min_seconds": 0.05,
        "reconnect_max_seconds": 0.5,
        "in_doubt_seconds": 2,
        "enquire_link_seconds": 5,
        "response_timeout_seconds": 5,
        "throttle_pause_seconds": 0.05,
    }
    values.update(overrides)
    return SmppRoute(**values)


def fixed_clock(at: datetime = TUESDAY_10H) -> Callable[[], datetime]:
    return lambda: at


@contextmanager
def dispatching(
    world: World, route: SmppRoute, clock: Callable[[], datetime] | None = None
) -> Iterator[Dispatcher]:
    """A dispatcher of ``route`` running in the background (clock: Tuesday 10:00 Paris)."""
    dispatcher = Dispatcher(world.factory, [route], clock=clock or fixed_clock())
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        assert dispatcher.stop(timeout=60), "the dispatcher did not stop"


def wait_for(predicate: Callable[[], bool], timeout: float = 60) -> None:
    """Block until ``predicate()`` holds (not a timing assertion: a bound on a hang)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)
