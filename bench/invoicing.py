"""A billing run beside the bare bulk insert of the invoices it produces.

    python bench/invoicing.py [--customers 10000] [--usage 1000000] [--backends sqlite,postgresql]

For each backend: a fresh database with N customers on the ``crm-voip`` offer (one licence
subscription each) and M rated calls of January 2026 spread over them; then

- ``run``: ``operateur.billing.invoicing.run_period`` for 2026-01 (loading, drafting, numbering,
  VAT, audit, subscription coverage, closing the usage totals), in chunks of 500 contracts;
- ``insert``: the rows the run wrote for its invoices — the invoices, their lines and the audit
  events of the run — read back and bulk-inserted in one transaction into a second fresh
  database that holds only what they refer to.

Prints both times and their ratio (the goal: the run costs at most 3 × the bare insert).
PostgreSQL runs on a throwaway local cluster (needs Debian's ``postgresql`` package); both of its
databases are vacuumed and analysed after their setup, as autovacuum leaves a database by the end
of a month (else it may start in the middle of either timed part).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.orm import sessionmaker

from operateur.accounts.audit import install as install_audit
from operateur.accounts.models import AuditEvent, Customer, Operator
from operateur.billing import invoicing, usage_totals
from operateur.billing.models import BillingRun, Invoice, InvoiceLine, UsageRecord
from operateur.catalog import service as catalog
from operateur.contracts.models import Contract, Subscription
from operateur.db import make_engine
from operateur.migrations import upgrade_engine
from operateur.testing.postgres import PostgresServer

PERIOD = "2026-01"
OFFER = "crm-voip"


def _fresh(url: str) -> Engine:
    engine = make_engine(url)
    upgrade_engine(engine)
    return engine


def _setup(engine: Engine, customers: int, usage: int, seed: int = 7) -> None:
    """The operator, customers, signed contracts and subscriptions; then the usage."""
    offer = catalog.get_offer(OFFER)
    terms = offer.terms.model_dump(mode="json")
    prices = [item.model_dump(mode="json") for item in offer.prices]
    now = datetime(2025, 12, 15, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Operator),
            [
                {
                    "id": 1,
                    "name": "Bench",
                    "legal_form": "SAS",
                    "siren": "732829320",
                    "vat_number": "FR44732829320",
                    "address_line": "1 rue",
                    "postal_code": "69001",
                    "city": "Lyon",
                    "country": "FR",
                    "email": "bench@operateur.fr",
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(Customer),
            [
                {
                    "id": n,
                    "operator_id": 1,
                    "name": f"Client {n}",
                    "legal_form": "SARL",
                    "siren": f"{n:09d}",
                    "address_line": "1 rue",
                    "postal_code": "75001",
                    "city": "Paris",
                    "country": "FR",
                    "email": f"c{n}@bench.fr",
                    "payment_method": "transfer",
                    "status": "active",
                    "lang": "fr",
                    "created_at": now,
                }
                for n in range(1, customers + 1)
            ],
        )
        conn.execute(
            insert(Contract),
            [
                {
                    "id": n,
                    "reference": f"CT-{n:08d}",
                    "customer_id": n,
                    "offer_id": OFFER,
                    "status": "active",
                    "overrides": {},
                    "terms": terms,
                    "prices": prices,
                    "signed_at": now,
                    "signed_by": "bench",
                    "activated_on": date(2026, 1, 1),
                    "created_at": now,
                }
                for n in range(1, customers + 1)
            ],
        )
        conn.execute(
            insert(Subscription),
            [
                {
                    "id": n,
                    "contract_id": n,
                    "customer_id": n,
                    "item_code": "crm.licence",
                    "label": "Licence CRM",
                    "quantity": 1 + n % 5,
                    "unit_price_nrc": Decimal("0"),
                    "unit_price_mrc": Decimal("39.00"),
                    "start_date": date(2026, 1, 1),
                    "created_at": now,
                }
                for n in range(1, customers + 1)
            ],
        )
    rng = random.Random(seed)
    destinations = ["France fixe", "France mobile", "Belgique fixe", "Royaume-Uni mobile"]
    batch: list[dict[str, Any]] = []
    started = datetime(2026, 1, 10, 9, tzinfo=UTC)
    with engine.begin() as conn:
        for n in range(usage):
            customer = 1 + n % customers
            seconds = rng.randint(1, 900)
            batch.append(
                {
                    "source": "bench",
                    "external_id": f"call-{n}",
                    "kind": "voice",
                    "customer_id": customer,
                    "contract_id": customer,
                    "account": f"acc{customer}",
                    "caller": "+33199000001",
                    "callee": "+33140000000",
                    "direction": "outbound",
                    "started_at": started,
                    "disposition": "ANSWERED",
                    "billable_seconds": seconds,
                    "billed_seconds": seconds,
                    "sms_segments": 0,
                    "period": PERIOD,
                    "status": "rated",
                    "destination": destinations[n % 4],
                    "cost": Decimal(rng.randint(0, 2_000_000)).scaleb(-6),
                    "surcharge": Decimal("0"),
                    "created_at": started,
                }
            )
            if len(batch) == 20_000:
                _store(conn, batch)
                batch.clear()
        if batch:
            _store(conn, batch)


def _store(conn: Connection, records: list[dict[str, Any]]) -> None:
    """Store rated usage the way a bulk import does: the records, and their running totals."""
    conn.execute(insert(UsageRecord), records)
    usage_totals.add(conn, records)


def _settle(engine: Engine) -> None:
    """PostgreSQL as it stands at the end of a month of usage: statistics up to date, the
    setup's dead rows vacuumed (otherwise autovacuum starts in the middle of the timed work, on
    either side). Untimed, done to both databases."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def _rows(engine: Engine, model: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(select(model.__table__))
        return [dict(row._mapping) for row in result]


def _bench(url_run: str, url_insert: str, customers: int, usage: int) -> tuple[float, float, int]:
    engine = _fresh(url_run)
    _setup(engine, customers, usage)
    _settle(engine)
    install_audit()
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    started = time.perf_counter()
    report = invoicing.run_period(factory, 1, PERIOD, chunk_size=500)
    run_seconds = time.perf_counter() - started
    runs, invoices, lines, events = (
        _rows(engine, BillingRun),
        _rows(engine, Invoice),
        _rows(engine, InvoiceLine),
        _rows(engine, AuditEvent),  # the setup writes none: these are the run's
    )
    engine.dispose()

    target = _fresh(url_insert)
    _setup(target, customers, 0)
    with target.begin() as conn:
        conn.execute(insert(BillingRun), runs)
    _settle(target)
    started = time.perf_counter()
    with target.begin() as conn:
        conn.execute(insert(Invoice), invoices)
        conn.execute(insert(InvoiceLine), lines)
        conn.execute(insert(AuditEvent), events)
    insert_seconds = time.perf_counter() - started
    with target.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM invoices")).scalar() == len(report.issued)
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == len(events)
    target.dispose()
    return run_seconds, insert_seconds, len(report.issued)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--usage", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"billing run of {PERIOD}: {args.customers} customers, {args.usage} usage records")
    print(f"{'backend':<12}{'invoices':>10}{'run (s)':>12}{'insert (s)':>12}{'ratio':>8}")
    ok = True
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            server = None
            if backend == "postgresql":
                server = PostgresServer()
                base = server.start()
                admin = make_engine(base)
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    for name in ("bench_run", "bench_insert"):
                        conn.execute(text(f"CREATE DATABASE {name}"))
                admin.dispose()
                root = base.rsplit("/", 1)[0]
                urls = (f"{root}/bench_run", f"{root}/bench_insert")
            else:
                urls = (f"sqlite:///{Path(tmp) / 'run.db'}", f"sqlite:///{Path(tmp) / 'insert.db'}")
            try:
                run_s, insert_s, count = _bench(*urls, args.customers, args.usage)
            finally:
                if server is not None:
                    server.stop()
        ratio = run_s / insert_s
        ok = ok and ratio <= 3.0
        print(f"{backend:<12}{count:>10}{run_s:>12.2f}{insert_s:>12.2f}{ratio:>8.1f}")
    print("goal (run <= 3 x insert):", "met" if ok else "not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
