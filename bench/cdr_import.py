"""Importing an Asterisk ``Master.csv`` into usage, beside parsing it alone.

    python bench/cdr_import.py [--calls 20000]

On a fresh SQLite database with one Centrex customer, its line and a rate deck: N answered
calls of March 2026 written as ``Master.csv`` rows, then

- ``parse``: ``cdr_import.parse`` alone (CSV, times, numbers to E.164);
- ``import``: ``cdr_import.import_cdrs`` (parse, store each call once, rate it) in one
  transaction;
- ``again``: the same file a second time (every call a duplicate, nothing stored).

Prints calls per second of each and the ratio import / parse.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, OperatorIn
from operateur.billing import cdr_import, usage
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind
from operateur.contracts.schemas import LineIn
from operateur.db import make_engine, make_session_factory
from operateur.migrations import upgrade_engine

DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France,0.012,0,60/60,0
336,France mobile,0.05,0.01,30/6,0
"""


def _setup(session: Session) -> None:
    operator = accounts.create_operator(
        session,
        OperatorIn(
            name="Bench",
            legal_form="SAS",
            siren="732829320",
            address_line="1 place du Test",
            postal_code="69001",
            city="Lyon",
            email="bench@operateur-test.fr",
        ),
    )
    customer = accounts.create_customer(
        session,
        operator.id,
        CustomerIn(
            name="Client",
            legal_form="SAS",
            siren="552100554",
            address_line="1 rue",
            postal_code="75001",
            city="Paris",
            email="c@client-test.fr",
            payment_method="transfer",
        ),
    )
    contract = contracts.create_contract(session, customer, "centrex", {})
    contracts.sign(session, contract, "Bench", datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    contracts.activate(session, contract, date(2026, 1, 1))
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.CENTREX, label="a")
    )
    line.sip_username = "alice"
    usage.publish_deck(session, DECK, name="Bench", offer_id="centrex")


def master_csv(calls: int) -> str:
    start = datetime(2026, 3, 2, 8, 0)
    rows = []
    for n in range(calls):
        at = start + timedelta(seconds=20 * n)
        answer = at + timedelta(seconds=4)
        end = answer + timedelta(seconds=30 + n % 300)
        callee = f"06{n % 100_000_000:08d}" if n % 3 else f"01{n % 100_000_000:08d}"
        rows.append(
            f'"alice","0140000000","{callee}","from-internal","","PJSIP/alice-{n:08x}","",'
            f'"Dial","","{at:%Y-%m-%d %H:%M:%S}","{answer:%Y-%m-%d %H:%M:%S}",'
            f'"{end:%Y-%m-%d %H:%M:%S}",{(end - at).seconds},{(end - answer).seconds},'
            f'"ANSWERED","DOCUMENTATION","bench.{n}"'
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    calls = parser.parse_args().calls
    text = master_csv(calls)
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        upgrade_engine(engine)
        audit.install()
        factory = make_session_factory(engine)
        with factory() as session:
            audit.set_actor(session, system_actor("bench"))
            _setup(session)
            session.commit()
        began = time.perf_counter()
        parsed = cdr_import.parse(text, cdr_import.CdrFormat.ASTERISK)
        parse_seconds = time.perf_counter() - began
        assert len(parsed.calls) == calls and not parsed.rejected
        timings = {}
        for name in ("import", "again"):
            with factory() as session:
                audit.set_actor(session, system_actor("bench"))
                began = time.perf_counter()
                report = cdr_import.import_cdrs(session, text, cdr_import.CdrFormat.ASTERISK)
                session.commit()
                timings[name] = time.perf_counter() - began
            expected = (calls, 0) if name == "import" else (0, calls)
            assert (report.stored, report.duplicates) == expected, report
            assert not report.rejected
        engine.dispose()
    print(f"calls: {calls}")
    print(f"parse:  {calls / parse_seconds:10.0f} calls/s ({parse_seconds:.2f} s)")
    for name, seconds in timings.items():
        print(f"{name}: {calls / seconds:10.0f} calls/s ({seconds:.2f} s)")
    print(f"ratio import / parse: {timings['import'] / parse_seconds:.1f}")


if __name__ == "__main__":
    main()
