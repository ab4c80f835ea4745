"""``operateur catalog list`` and ``operateur catalog show``."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from operateur.catalog import service
from operateur.catalog.cli import app

runner = CliRunner()


def test_list_shows_every_offer_with_its_seed_names_and_services() -> None:
    result = runner.invoke(app, ["list"], env={"OPERATEUR_LANG": "fr"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "DOC", "NOM", "(FR)", "NOM", "(EN)", "SERVICES"]
    assert len(lines) == 6
    centrex = next(line for line in lines if line.startswith("centrex "))
    assert "001" in centrex and "Centrex VoIP" in centrex and "VoIP Centrex" in centrex
    telecom = next(line for line in lines if line.startswith("telecom "))
    assert "fixed, centrex, mobile, internet, sms" in telecom


def test_list_headers_follow_the_language() -> None:
    result = runner.invoke(app, ["list"], env={"OPERATEUR_LANG": "en"})
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[:2] == ["ID", "SEED"]


def test_show_json_prints_the_whole_template_with_decimals_as_strings() -> None:
    result = runner.invoke(app, ["show", "cpaas", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == service.get_offer("cpaas").model_dump(mode="json")
    assert data["terms"]["billing"]["minimum_monthly_commitment"] == "200.00"
    assert data["terms"]["late_payment"]["interest"] == {
        "kind": "ecb_plus_points_from_due_date",
        "points": "10",
    }


def test_show_without_json_prints_readable_yaml() -> None:
    result = runner.invoke(app, ["show", "centrex"])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    assert data["id"] == "centrex"
    assert data["terms"]["commitment"]["initial_term_months"] == 36


def test_show_an_unknown_offer_fails_with_a_message_on_stderr() -> None:
    result = runner.invoke(app, ["show", "nope"], env={"OPERATEUR_LANG": "fr"})
    assert result.exit_code == 1
    assert result.stderr.strip() == "Offre inconnue : nope"
    assert result.stdout == ""
    english = runner.invoke(app, ["show", "nope"], env={"OPERATEUR_LANG": "en"})
    assert english.stderr.strip() == "Unknown offer: nope"
