"""`operateur voice …` on a fresh SQLite database with the demo data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.cli import app
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind
from operateur.contracts.schemas import LineIn
from operateur.db import make_engine, make_session_factory, transaction
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberStatus, NumberTier
from tests.integration.conftest import Builder

DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France,0.01,0,60/60,0
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPERATEUR_REDIS_URL", raising=False)
    return tmp_path


def _centrex_line(tmp_path: Path) -> tuple[str, str, int]:
    """A Centrex customer with a line and a number, made in the command's database."""
    engine = make_engine(Settings(data_dir=tmp_path / "var").resolved_database_url())
    try:
        with transaction(make_session_factory(engine)) as session:
            set_actor(session, system_actor("test"))
            build = Builder(session)
            customer = build.customer()
            contract = build.contract(customer, "centrex", date(2026, 1, 5), [])
            line = contracts.create_line(
                session,
                customer.id,
                LineIn(contract_id=contract.id, kind=LineKind.CENTREX, label="Accueil"),
            )
            (number,) = numbers.add_to_stock(session, ["+33140000001"], NumberTier.STANDARD)
            number.status = NumberStatus.ASSIGNED
            number.customer_id = customer.id
            number.line_id = line.id
            return line.sip_username, number.e164, customer.id
    finally:
        engine.dispose()


# SPEC: VOX-01, VOX-10
def test_try_a_call_record_a_consent_import_an_opposition_list(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    deck = env / "deck.csv"
    deck.write_text(DECK)
    published = runner.invoke(
        app, ["billing", "publish-deck", str(deck), "--offer", "centrex", "--name", "Test"]
    )
    assert published.exit_code == 0, published.output
    line, number, customer = _centrex_line(env)
    ask = ["voice", "authorize", "--line", line, "--caller", number, "--json"]
    allowed = json.loads(runner.invoke(app, [*ask, "--callee", "0145000000"]).output)
    assert (allowed["allow"], allowed["code"], allowed["route"]) == (True, 200, "fr_geographic")
    refused = json.loads(runner.invoke(app, [*ask, "--callee", "+12125550100"]).output)
    assert (refused["allow"], refused["code"]) == (False, 403)
    assert refused["reason"].startswith("VOX-01 ")
    text = runner.invoke(
        app, ["voice", "authorize", "--line", line, "--caller", number, "--callee", "112"]
    )
    assert text.output.startswith("ALLOW 200")

    recorded = runner.invoke(
        app,
        [
            "voice",
            "consent",
            "1",
            "0612345678",
            "--subject",
            "Mme Martin",
            "--given-at",
            "2026-11-02T15:00:00+01:00",
            "--proof",
            "formulaire 12",
            "--kind",
            "refusal",
            "--json",
        ],
    )
    assert recorded.exit_code == 0, recorded.output
    listed = json.loads(runner.invoke(app, ["voice", "consents", str(customer), "--json"]).output)
    assert [(c["number"], c["kind"]) for c in listed] == [("+33612345678", "refusal")]

    bad = env / "bad.txt"
    bad.write_text("0612345678\nnot a number\n")
    failed = runner.invoke(app, ["voice", "import-oppositions", str(bad), "--source", "b"])
    assert failed.exit_code == 1
    latin1 = env / "latin1.txt"
    latin1.write_bytes("numéro\n0612345678\n".encode("latin-1"))
    refused = runner.invoke(app, ["voice", "import-oppositions", str(latin1), "--source", "b"])
    assert refused.exit_code == 1 and "UTF-8" in refused.output  # said, not a traceback
    good = env / "good.txt"
    good.write_text("numero\n0612345678\n0698765432\n")
    imported = json.loads(
        runner.invoke(
            app, ["voice", "import-oppositions", str(good), "--source", "b", "--json"]
        ).output
    )
    assert (imported["added"], imported["total"]) == (2, 2)
