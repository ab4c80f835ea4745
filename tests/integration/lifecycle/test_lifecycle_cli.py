"""The lifecycle's commands on a fresh SQLite database: orders, webhooks, the scheduler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operateur.cli import app
from operateur.testing.webhooks import WebhookReceiver
from tests.integration.lifecycle.conftest import cli_database


@pytest.fixture
def customer_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    with cli_database(tmp_path, monkeypatch) as build:
        return build.customer().id


# SPEC: CTR-12, CTR-03
def test_orders_webhooks_and_scheduler_from_the_command_line(
    customer_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPERATEUR_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    with WebhookReceiver() as receiver:
        _scenario(customer_id, receiver)
        assert [r.json()["event"] for r in receiver.requests] == [
            "order.received",
            "order.accepted",
        ]


def _scenario(customer_id: int, receiver: WebhookReceiver) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "notifications",
            "webhooks",
            "add",
            receiver.url,
            "--customer",
            str(customer_id),
            "--event",
            "order.*",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "Signing secret (shown this once): whsec_" in added.output
    hooks = json.loads(
        runner.invoke(
            app, ["notifications", "webhooks", "list", "--customer", str(customer_id), "--json"]
        ).output
    )
    assert [(h["url"], h["events"]) for h in hooks] == [(receiver.url, ["order.*"])]
    assert "whsec_" not in str(hooks)
    placed = runner.invoke(
        app,
        [
            "orders",
            "place",
            "--customer",
            str(customer_id),
            "--offer",
            "crm-voip",
            "--item",
            "crm.licence=3",
            "--signatory",
            "M. Durand",
        ],
    )
    assert placed.exit_code == 0, placed.output
    [order] = json.loads(
        runner.invoke(app, ["orders", "list", "--status", "received", "--json"]).output
    )
    assert order["items"] == [{"type": "subscription", "item_code": "crm.licence", "quantity": 3}]
    refused = runner.invoke(app, ["orders", "refuse", str(order["id"]), "--reason", "infeasible"])
    assert refused.exit_code == 1 and "invalid_input [reason]" in refused.output
    accepted = runner.invoke(app, ["orders", "accept", str(order["id"]), "--on", "2026-04-07"])
    assert accepted.exit_code == 0 and "Order accepted: contract CT-" in accepted.output
    sent = json.loads(
        runner.invoke(
            app, ["notifications", "list", "--customer", str(customer_id), "--json"]
        ).output
    )
    assert {(n["channel"], n["event"]) for n in sent} >= {
        ("email", "order.received"),
        ("webhook", "order.received"),
        ("webhook", "order.accepted"),
    }
    first = json.loads(
        runner.invoke(app, ["scheduler", "run-once", "--as-of", "2026-04-08", "--json"]).output
    )
    assert "renewals:2026-04-08" in first["executed"]
    again = runner.invoke(app, ["scheduler", "run-once", "--as-of", "2026-04-08", "--json"])
    assert json.loads(again.output) == {"executed": []}
