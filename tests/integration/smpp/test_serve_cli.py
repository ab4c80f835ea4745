"""`operateur sms serve`: the dispatcher as a command, routes from OPERATEUR_SMS_ROUTES."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from operateur.cli import app
from operateur.sms.models import SmsStatus
from operateur.testing.smsc import SmscSimulator
from tests.integration.smpp.conftest import World


def test_serve_until_idle_sends_the_queue(
    world: World, smsc: SmscSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SPEC: SMS-01 messages queued through the API or a campaign leave with `sms serve`
    ids = world.queue(5, text="Code 1234", owner=world.cpaas)  # cpaas: no sending window
    url = world.factory.kw["bind"].url.render_as_string(hide_password=False)
    monkeypatch.setenv("OPERATEUR_DATABASE_URL", url)
    routes = {
        "default": {
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "op",
            "password": "pw",
            "poll_seconds": 0.02,
        }
    }
    monkeypatch.setenv("OPERATEUR_SMS_ROUTES", json.dumps(routes))

    result = CliRunner().invoke(app, ["sms", "serve", "--until-idle"])

    assert result.exit_code == 0, result.output
    assert all(s in (SmsStatus.SUBMITTED, SmsStatus.DELIVERED) for s in world.statuses(ids))
    assert sorted(s.destination_addr for s in smsc.submits) == sorted(
        m.recipient.lstrip("+") for m in world.messages(ids)
    )
    assert smsc.binds == ["op"]


def test_serve_without_routes_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # SPEC: SMS-01 the dispatcher refuses to start without a route to an SMSC
    monkeypatch.setenv("OPERATEUR_SMS_ROUTES", "")
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    result = CliRunner().invoke(app, ["sms", "serve", "--until-idle"])
    assert result.exit_code == 1
    assert "No SMPP route" in result.output
