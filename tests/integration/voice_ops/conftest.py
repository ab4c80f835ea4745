"""Helpers of the voice-operations tests: a customer's contract with a line whose SIP user name
the test chooses, a rate deck, and calls stored as usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from operateur.billing import usage
from operateur.billing.models import UsageRecord
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, Line, LineKind
from operateur.contracts.schemas import LineIn
from tests.integration.conftest import Builder

DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France,0.012,0,60/60,0
331,France fixe Île-de-France,0.012,0,60/60,0
336,France mobile,0.05,0.01,30/6,0
44,Royaume-Uni,0.10,0,60/60,0
"""


@dataclass
class Setup:
    session: Session
    build: Builder

    def line(
        self,
        contract: Contract,
        sip: str,
        kind: LineKind = LineKind.CENTREX,
    ) -> Line:
        line = contracts.create_line(
            self.session,
            contract.customer_id,
            LineIn(contract_id=contract.id, kind=kind, label=sip),
        )
        line.sip_username = sip
        self.session.flush()
        return line

    def call(
        self,
        line: Line,
        call_id: str,
        callee: str,
        start: datetime,
        seconds: int | None,
        *,
        ring: int = 5,
        disposition: str | None = None,
    ) -> UsageRecord:
        """A call of ``line`` answered after ``ring`` seconds and lasting ``seconds`` (None:
        not answered)."""
        answer = start + timedelta(seconds=ring) if seconds is not None else None
        end = (answer + timedelta(seconds=seconds)) if answer and seconds is not None else start
        return usage.record_call(
            self.session,
            usage.CallData(
                source="test",
                call_id=call_id,
                account=line.sip_username,
                caller="+33199000001",
                callee=callee,
                start=start,
                answer=answer,
                end=end if answer else start + timedelta(seconds=ring),
                disposition=disposition or ("ANSWERED" if answer else "NO ANSWER"),
            ),
        )


@pytest.fixture
def setup(session: Session, build: Builder) -> Setup:
    usage.publish_deck(session, DECK, name="Deck 2026", offer_id="centrex")
    usage.publish_deck(session, DECK, name="Deck 2026", offer_id="cpaas")
    usage.publish_deck(session, DECK, name="Deck 2026", offer_id="telecom")
    usage.publish_deck(session, DECK, name="Deck 2026", offer_id="crm-voip")
    return Setup(session, build)


def day(year: int, month: int, d: int) -> date:
    return date(year, month, d)
