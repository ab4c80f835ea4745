"""The billing commands on the demo data: decks, usage, the monthly run, penalties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.billing import payments
from operateur.billing.models import Invoice, Payment
from operateur.cli import app
from operateur.db import make_engine


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["demo", "load"]).exit_code == 0
    return tmp_path


def _invoice_numbers(demo: Path, period: str) -> set[str]:
    engine = make_engine(f"sqlite:///{demo / 'var' / 'operateur.db'}")
    try:
        with Session(engine) as session:
            return set(session.scalars(select(Invoice.number).where(Invoice.period == period)))
    finally:
        engine.dispose()


def _reverse_demo_payments(demo: Path) -> None:
    """The demo customers pay on their due dates; here their payments come back unpaid (a
    rejected direct debit), so their invoices are late whatever day the test runs."""
    engine = make_engine(f"sqlite:///{demo / 'var' / 'operateur.db'}")
    try:
        with Session(engine) as session:
            set_actor(session, system_actor("test"))
            for payment in session.scalars(select(Payment)).all():
                payments.reverse_payment(session, payment)
            session.commit()
    finally:
        engine.dispose()


# SPEC: BIL-01, BIL-09
def test_publish_deck_import_usage_and_run_the_month(demo: Path) -> None:
    runner = CliRunner()
    deck = demo / "deck.csv"
    deck.write_text(
        "prefix,destination,price_per_minute,connection_fee,steps,min_seconds\n"
        "33,France fixe,0.012,0,60/60,0\n"
    )
    published = runner.invoke(
        app, ["billing", "publish-deck", str(deck), "--offer", "cpaas", "--name", "CPaaS"]
    )
    assert published.exit_code == 0, published.output
    lines = json.loads(
        runner.invoke(app, ["contracts", "list", "--customer", "2", "--json"]).output
    )
    assert lines  # Dupont Conseil, the CPaaS demo customer
    bad = demo / "bad.csv"
    bad.write_text(deck.read_text() + "x,Nowhere,1,0,60/60,0\n")
    refused = runner.invoke(
        app, ["billing", "publish-deck", str(bad), "--offer", "cpaas", "--name", "bad"]
    )
    assert refused.exit_code == 1 and "line 3" in refused.output
    first = runner.invoke(app, ["billing", "run", "--period", "2026-10", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    # every demo contract active in October 2026 has its invoice: made now, or already by the
    # demo's own activity (it invoices the month before the day it is loaded)
    assert len(report["issued"]) + report["skipped"] == 12
    issued = _invoice_numbers(demo, "2026-10")
    assert len(issued) == 12 and set(report["issued"]) <= issued
    again = json.loads(
        runner.invoke(app, ["billing", "run", "--period", "2026-10", "--json"]).output
    )
    assert again["issued"] == [] and again["skipped"] == 12
    # Centrex and telecom penalties use the legal rate of the half-year: until the operator
    # records the 2026-S2 rate, the command says exactly what is missing.
    _reverse_demo_payments(demo)
    missing = runner.invoke(app, ["billing", "penalties", "--as-of", "2026-12-31"])
    assert missing.exit_code == 1 and "2026-S2" in missing.output
    added = runner.invoke(
        app,
        [
            "billing",
            "add-rate",
            "--table",
            "legal_interest",
            "--effective",
            "2026-07-01",
            "--rate",
            "2.50",
            "--source",
            "test fixture (not the published rate)",
        ],
    )
    assert added.exit_code == 0, added.output
    assert (demo / "var" / "reference_rates" / "legal_interest_rates.csv").exists()
    late = runner.invoke(app, ["billing", "penalties", "--as-of", "2026-12-31", "--json"])
    assert late.exit_code == 0, late.output
    rows = json.loads(late.output)
    assert rows and {row["invoice"] for row in rows} <= set(issued)
