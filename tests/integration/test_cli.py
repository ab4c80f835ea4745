"""The `operateur` command on a fresh SQLite database: what `make run` chains, and more."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operateur.cli import app
from operateur.demo.data import CUSTOMERS, DEMO_LOGINS


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"OPERATEUR_DATA_DIR": str(tmp_path / "var"), "OPERATEUR_LANG": "fr"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    return values


def test_upgrade_then_demo_load_is_idempotent(env: dict[str, str]) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert (Path(env["OPERATEUR_DATA_DIR"]) / "operateur.db").exists()
    first = runner.invoke(app, ["demo", "load"])
    assert first.exit_code == 0, first.output
    for login in DEMO_LOGINS:
        assert login.email in first.output and login.password in first.output
    second = runner.invoke(app, ["demo", "load"])
    assert "0 objet(s) créé(s)" in second.output
    listed = runner.invoke(app, ["customers", "list", "--json"])
    customers = json.loads(listed.output)
    assert len(customers) == len(CUSTOMERS) == 12
    assert {c["status"] for c in customers} == {"active"}
    contracts = json.loads(
        runner.invoke(app, ["contracts", "list", "--customer", "1", "--json"]).output
    )
    assert contracts[0]["status"] == "active"
    shown = json.loads(
        runner.invoke(app, ["contracts", "show", str(contracts[0]["id"]), "--json"]).output
    )
    # SPEC: SEC-01 — the first demo customer is on the Centrex offer: one session per identifier
    assert shown["offer_id"] == "centrex" and shown["terms"]["security"]["single_session"] is True
    # SPEC: CTR-03 — Boulangerie Martin, Centrex activated on 1 March 2026 (signed the same day):
    # 36 months to 28 February 2029, notice by 1 December 2028, then renewals of 12 months
    plan = json.loads(
        runner.invoke(
            app,
            ["contracts", "schedule", str(contracts[0]["id"]), "--as-of", "2026-11-23", "--json"],
        ).output
    )
    assert (plan["term_end"], plan["notice_deadline"], plan["next_term_months"]) == (
        "2029-02-28",
        "2028-12-01",
        12,
    )
    again = runner.invoke(app, ["contracts", "sign", str(contracts[0]["id"]), "--signed-by", "X"])
    assert again.exit_code == 1 and "illegal_transition" in again.output
    audit = runner.invoke(app, ["audit", "list", "--entity", "contracts", "--json"])
    events = json.loads(audit.output)
    assert events and all(e["actor"].startswith("cli:") for e in events)


# SPEC: VOX-02, VOX-14
@pytest.mark.parametrize(
    ("number", "kind", "e164"),
    [
        ("112", "emergency", None),
        ("15", "emergency", None),
        ("01 40 00 00 00", "geographic", "+33140000000"),
        ("0612345678", "mobile", "+33612345678"),
        ("0899123456", "special", "+33899123456"),
        ("3900", "short", None),
    ],
)
def test_numbers_classify(env: dict[str, str], number: str, kind: str, e164: str | None) -> None:
    result = CliRunner().invoke(app, ["numbers", "classify", number, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["kind"] == kind
    assert data["e164"] == e164


def test_cli_errors_name_the_field_and_exit_non_zero(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["numbers", "add-stock", "+33199000301", "112"])
    assert result.exit_code == 1
    assert "[numbers.1]" in result.output
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    english = runner.invoke(app, ["catalog", "show", "nope"])
    assert english.exit_code == 1
    assert "unknown offer: nope" in english.output.lower()


def test_scheduler_run_once_twice_executes_nothing_the_second_time(env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(app, ["db", "upgrade"])
    first = json.loads(
        runner.invoke(app, ["scheduler", "run-once", "--as-of", "2026-11-23", "--json"]).output
    )
    assert first["executed"]
    second = json.loads(
        runner.invoke(app, ["scheduler", "run-once", "--as-of", "2026-11-23", "--json"]).output
    )
    assert second == {"executed": []}
