"""``operateur contracts suspension-notice`` and ``suspend``: CTR-06's order from the command
line, on a fresh SQLite database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operateur.cli import app
from tests.integration.lifecycle.conftest import cli_database


@pytest.fixture
def contract_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    with cli_database(tmp_path, monkeypatch) as build:
        contract = build.contract(
            build.customer(), "crm-voip", date(2026, 3, 2), [("crm.licence", 1)]
        )
        return contract.id


# SPEC: CTR-06
def test_suspension_waits_for_the_formal_notice_and_its_delay(contract_id: int) -> None:
    runner = CliRunner()
    ident = str(contract_id)
    breach = ["--cause", "contract_breach", "--reason", "usage interdit"]
    first = runner.invoke(app, ["contracts", "suspend", ident, *breach, "--on", "2026-05-04"])
    assert first.exit_code != 0
    assert "a formal notice must be sent first" in first.output
    notice = runner.invoke(
        app,
        [
            "contracts",
            "suspension-notice",
            ident,
            "--cause",
            "contract_breach",
            "--summary",
            "usage interdit",
            "--on",
            "2026-05-07",
        ],
    )
    assert notice.exit_code == 0, notice.output
    # [000 §4.4] 2 business days; 8 May is a public holiday, then the weekend
    assert "suspension possible from 2026-05-12" in notice.output
    early = runner.invoke(app, ["contracts", "suspend", ident, *breach, "--on", "2026-05-11"])
    assert early.exit_code != 0 and "possible from 2026-05-12" in early.output
    done = runner.invoke(app, ["contracts", "suspend", ident, *breach, "--on", "2026-05-12"])
    assert done.exit_code == 0, done.output
    assert "suspended" in done.output
