"""``operateur sms …`` on a fresh SQLite database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.cli import app
from operateur.config import Settings
from operateur.db import make_engine, make_session_factory, transaction
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import make_customer

runner = CliRunner()


@pytest.fixture
def telecom_customer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A customer on the 004 "telecom" offer in a freshly migrated database."""
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(Settings().resolved_database_url())
    try:
        with transaction(make_session_factory(engine)) as session:
            audit.set_actor(session, system_actor("test"))
            customer = make_customer(Builder(session)).id
    finally:
        engine.dispose()
    return customer


def sms(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["sms", *args])
    return result.exit_code, result.output


def test_the_sms_commands_end_to_end(telecom_customer: int, tmp_path: Path) -> None:
    # SPEC: SMS-01, SMS-05, SMS-08, SMS-09
    customer = str(telecom_customer)
    code, out = sms("senders", "request", customer, "AMELI-INFO", "--json")
    assert code == 0, out
    assert (json.loads(out)[0]["status"], json.loads(out)[0]["rule"]) == (
        "refused",
        "sensitive_name",
    )

    code, out = sms("stock", "show", customer, "--json")
    assert json.loads(out)["monthly_limit"] == 1000
    code, out = sms("stock", "raise", customer, "200000", "--reason", "big campaign")
    assert code == 1 and "sms_stock_above_maximum" in out
    code, out = sms("stock", "raise", customer, "5000", "--reason", "big campaign", "--json")
    assert code == 0 and json.loads(out)["monthly_limit"] == 5000

    file = tmp_path / "clients.csv"
    file.write_text("numero;first_name\n06 12 34 56 78;Marie\n06 12;Paul\n07 81 23 45 67;Éric\n")
    code, out = sms("lists", "import", customer, str(file), "--create", "Clients", "--json")
    report = json.loads(out)
    assert code == 1  # a row was refused
    assert report["added"] == 2 and [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (3, "bad_number")
    ]
    list_id = str(report["list_id"])
    text = "Bonjour {first_name} !"
    code, out = sms(
        "campaign", "create", customer, "--name", "Rentrée", "--list", list_id, "--text", text,
        "--json",
    )  # fmt: skip
    assert code == 0, out
    campaign = json.loads(out)
    code, out = sms("campaign", "schedule", customer, str(campaign["id"]), "--json")
    assert code == 0, out
    assert json.loads(out)["statistics"]["total"] == 2
    stats_file = tmp_path / "stats.csv"
    code, out = sms("campaign", "stats", customer, str(campaign["id"]), "--csv", str(stats_file))
    assert code == 0 and "2 SMS" in out
    assert next(csv.reader(io.StringIO(stats_file.read_text())))[0] == "hour"
    code, out = sms("campaign", "cancel", customer, str(campaign["id"]), "--json")
    assert json.loads(out)["statistics"]["by_status"]["cancelled"] == 2

    code, out = sms("send", customer, "0612345678", "Colis en attente : https://bit.ly/x", "--json")
    assert code == 0, out
    held = json.loads(out)
    assert (held["status"], held["held_rule"]) == ("held", "phishing-url-shortener")
    code, out = sms("held", "list", "--json")
    assert [m["id"] for m in json.loads(out)] == [held["id"]]
    code, out = sms("held", "review", customer, str(held["id"]), "--reject", "--json")
    assert json.loads(out)["status"] == "rejected"
    code, out = sms("status", customer, str(held["id"]), "--json")
    assert json.loads(out)["error"] == "content:phishing-url-shortener"
