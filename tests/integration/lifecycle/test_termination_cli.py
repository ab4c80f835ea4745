"""``operateur contracts suspension-termination`` and ``operator-termination``: CTR-06
[004 §11.4] and CTR-07 [004 §12.2] from the command line, on a fresh SQLite database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operateur.catalog.terms import SuspensionCause
from operateur.cli import app
from operateur.contracts import lifecycle
from tests.integration.lifecycle.conftest import cli_database


@pytest.fixture
def contract_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """Two telecom contracts active from 5 January 2026; the first suspended from 2 March."""
    with cli_database(tmp_path, monkeypatch) as build:
        customer = build.customer()
        suspended = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
        active = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
        lifecycle.suspend(
            build.session, suspended, cause=SuspensionCause.FRAUD, reason="x", on=date(2026, 3, 2)
        )
        return suspended.id, active.id


# SPEC: CTR-06
def test_suspension_termination_waits_for_a_month_of_total_suspension(
    contract_ids: tuple[int, int],
) -> None:
    runner = CliRunner()
    command = ["contracts", "suspension-termination", str(contract_ids[0]), "--reason", "x"]
    early = runner.invoke(app, [*command, "--on", "2026-04-01"])
    assert early.exit_code != 0
    assert "termination is possible from 2026-04-02" in early.output
    done = runner.invoke(app, [*command, "--on", "2026-04-02", "--for-customer"])
    assert done.exit_code == 0, done.output
    assert "Notice recorded; the contract ends on 2026-05-02." in done.output
    again = runner.invoke(app, [*command, "--on", "2026-04-03"])
    assert again.exit_code != 0 and "already under notice" in again.output


# SPEC: CTR-07
def test_operator_termination_counts_business_days(contract_ids: tuple[int, int]) -> None:
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "contracts",
            "operator-termination",
            str(contract_ids[1]),
            "--case",
            "ceased_activity",
            "--reason",
            "liquidation",
            "--on",
            "2026-04-03",
        ],
    )
    assert done.exit_code == 0, done.output
    # Friday 3 April 2026, 5 business days with Easter Monday off: 13 April
    assert "Notice recorded; the contract ends on 2026-04-13." in done.output
