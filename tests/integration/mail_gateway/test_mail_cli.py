"""`operateur mail` on a fresh SQLite database with the demo data: the console commands, the
prober, the figures, and the mail jobs of the scheduler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from operateur.cli import app
from operateur.contracts.models import Contract
from operateur.db import make_engine, make_session_factory
from operateur.mail.models import ConsoleLog, FilterLog, ProbeResult, QuarantinedMessage
from operateur.testing.ports import free_port


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "var"
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(data))
    monkeypatch.setenv("OPERATEUR_LANG", "fr")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["demo", "load"]).exit_code == 0
    return data


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# SPEC: MAIL-01, MAIL-02, MAIL-07, MAIL-11
def test_console_commands(env: Path) -> None:
    engine = make_engine(f"sqlite:///{env / 'operateur.db'}")
    with make_session_factory(engine)() as session:
        contract = session.scalars(
            select(Contract).where(Contract.offer_id == "mail-security").order_by(Contract.id)
        ).first()
        assert contract is not None
        customer = str(contract.customer_id)
    run("mail", "domains", "add", customer, "Demo-Client.fr")
    run("mail", "servers", "add", customer, "mx.demo-client.fr", "--priority", "5")
    run("mail", "mailboxes", "add", customer, "Compta@demo-client.fr", "--no-filtering")
    run("mail", "lists", "add", "deny", "@spam.example", "--customer", customer)
    run("mail", "lists", "add", "allow", "@banque.example")  # the operator's own list
    domains = json.loads(run("mail", "domains", "list", customer, "--json"))
    assert [d["name"] for d in domains] == ["demo-client.fr"]
    boxes = json.loads(run("mail", "mailboxes", "list", customer, "--json"))
    assert boxes[0]["address"] == "compta@demo-client.fr" and boxes[0]["filtering"] is False
    licences = {c["unit"]: c for c in json.loads(run("mail", "licences", customer, "--json"))}
    assert licences["mailbox"]["used"] == 1 and licences["domain"]["used"] == 1
    refused = CliRunner().invoke(app, ["mail", "domains", "add", customer, "pas un domaine"])
    assert refused.exit_code == 1 and "invalid_input [name]" in refused.output
    with make_session_factory(engine)() as session:  # the demo's own activity (held mail)
        logged = session.scalar(select(func.count()).where(FilterLog.customer_id == int(customer)))
        held = list(
            session.scalars(
                select(QuarantinedMessage.id).where(QuarantinedMessage.customer_id == int(customer))
            )
        )
    figures = json.loads(run("mail", "sla", customer, "--json"))
    assert figures["window"]["processed"] == logged and figures["month"]["credit"] == "0.00"
    listed = json.loads(run("mail", "quarantine", "list", customer, "--json"))
    assert sorted(item["id"] for item in listed) == sorted(held)

    closed = f"127.0.0.1:{free_port()}"
    down = json.loads(run("mail", "probe", "--once", "--gateway", closed, "--json"))
    assert down == {closed: False}

    executed = run("scheduler", "run-once", "--as-of", "2026-12-01", "--json")
    for job in ("mail_digests", "mail_expire", "mail_retention", "mail_licence_recount"):
        assert f"{job}:2026-12-01" in executed
    assert "mail_sla_credits:2026-12-01" in executed  # the first of the month

    with make_session_factory(engine)() as session:
        actions = [row.action for row in session.scalars(select(ConsoleLog))]
        assert "cli mail domains add demo-client.fr" in actions
        assert len(session.scalars(select(ProbeResult)).all()) == 1
    engine.dispose()
