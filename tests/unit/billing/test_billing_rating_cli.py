"""``operateur billing rate --deck DECK.csv --usage USAGE.csv [--json]``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from operateur.billing.cli import app

runner = CliRunner()

DECK = (
    "prefix,destination,price_per_minute,connection_fee,steps,min_seconds,comment\n"
    "33,France fixe,0.012,0,60/60,0,national\n"
    "336,France mobile,0.05,0.01,30/6,10,\n"
    "3361,Spécial,0.20,0,1/1,0,\n"
)
USAGE = (
    "call_id,account,caller,callee,start,answer,end,disposition\n"
    # 61 s to 33: 60/60 -> 120 s x 0.012/60 = 0.024 €
    "c1,acme,+33140000000,+33140000001,2024-05-01T10:00:00Z,2024-05-01T10:00:05Z,"
    "2024-05-01T10:01:06Z,ANSWERED\n"
    # 31 s to 3361: 1/1 -> 31 s x 0.20/60 = 0.103333.. -> 0.103333 €
    "c2,acme,+33140000000,+33612345678,2024-05-01T12:00:00+02:00,2024-05-01T12:00:01+02:00,"
    "2024-05-01T12:00:32+02:00,ANSWERED\n"
    # 5 s to 336: 30/6 and 10 s minimum -> 30 s x 0.05/60 + 0.01 fee = 0.035 €
    "c3,acme,+33140000000,33698765432,2024-05-01T10:00:00Z,2024-05-01T10:00:01Z,"
    "2024-05-01T10:00:06Z,ANSWERED\n"
    # answered, no prefix for +44: rejected
    "c4,acme,+33140000000,+442012345678,2024-05-01T10:00:00Z,2024-05-01T10:00:01Z,"
    "2024-05-01T10:00:32Z,ANSWERED\n"
    # not answered: free
    "c5,acme,,+33140000002,2024-05-01T10:00:00Z,,2024-05-01T10:00:10Z,NO ANSWER\n"
    # not an E.164 number: rejected
    "c6,acme,,inconnu,2024-05-01T10:00:00Z,,2024-05-01T10:00:10Z,BUSY\n"
)
# Sum of the amounts: 0.024 + 0.103333 + 0.035 + 0 = 0.162333 € -> 0.16 € to the cent.


def files(tmp_path: Path, deck: str = DECK, usage: str = USAGE) -> list[str]:
    deck_path = tmp_path / "deck.csv"
    usage_path = tmp_path / "usage.csv"
    deck_path.write_text(deck, encoding="utf-8")
    usage_path.write_text(usage, encoding="utf-8")
    return ["rate", "--deck", str(deck_path), "--usage", str(usage_path)]


def test_rate_prints_each_call_the_rejections_and_the_total_in_french(tmp_path: Path) -> None:
    # SPEC: BIL-09
    result = runner.invoke(app, files(tmp_path), env={"OPERATEUR_LANG": "fr"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "APPEL",
        "PRÉFIXE",
        "DESTINATION",
        "DURÉE",
        "(S)",
        "FACTURÉ",
        "(S)",
        "MONTANT",
        "(EUR)",
    ]
    rows = {line.split()[0]: line for line in lines[1:5]}
    assert rows["c1"].split() == ["c1", "33", "France", "fixe", "61", "120", "0,024000"]
    assert rows["c2"].split() == ["c2", "3361", "Spécial", "31", "31", "0,103333"]
    assert rows["c3"].split() == ["c3", "336", "France", "mobile", "5", "30", "0,035000"]
    assert rows["c5"].split() == ["c5", "33", "France", "fixe", "0", "0", "0,000000"]
    assert lines[5] == "Rejetés : 2"
    assert lines[6] == "  ligne 5, appel c4, callee : aucun préfixe de la grille pour +442012345678"
    assert lines[7] == "  ligne 7, appel c6, callee : « inconnu » n'est pas un numéro E.164"
    assert lines[8] == (
        "Total : 0,16 € (somme exacte des montants : 0,162333 €, arrondie au centime)"
    )
    # The total is the sum of the amounts shown, rounded to the cent.
    shown = sum(Decimal(rows[c].split()[-1].replace(",", ".")) for c in rows)
    assert shown == Decimal("0.162333")


def test_rate_speaks_english_with_operateur_lang_en(tmp_path: Path) -> None:
    result = runner.invoke(app, files(tmp_path), env={"OPERATEUR_LANG": "en"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["CALL", "PREFIX"]
    assert "0.024000" in lines[1]
    assert "Rejected: 2" in lines
    assert lines[-1] == "Total: €0.16 (exact sum of the amounts: €0.162333, rounded to the cent)"


def test_rate_json_has_records_rejections_and_total_as_strings(tmp_path: Path) -> None:
    result = runner.invoke(app, [*files(tmp_path), "--json"], env={"OPERATEUR_LANG": "en"})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == "0.16" and data["currency"] == "EUR"
    assert data["total_exact"] == "0.162333"
    assert [record["call_id"] for record in data["records"]] == ["c1", "c2", "c3", "c5"]
    assert data["records"][0] == {
        "line": 2,
        "call_id": "c1",
        "account": "acme",
        "callee": "+33140000001",
        "disposition": "ANSWERED",
        "prefix": "33",
        "destination": "France fixe",
        "duration_seconds": 61,
        "billed_seconds": 120,
        "cost": "0.024000",
    }
    assert data["records"][3]["cost"] == "0.000000"
    assert data["rejected"] == [
        {
            "line": 5,
            "call_id": "c4",
            "field": "callee",
            "reason": "no_matching_prefix",
            "value": "+442012345678",
            "message": "no prefix of the deck matches +442012345678",
        },
        {
            "line": 7,
            "call_id": "c6",
            "field": "callee",
            "reason": "invalid_number",
            "value": "inconnu",
            "message": "“inconnu” is not an E.164 number",
        },
    ]
    assert sum(Decimal(record["cost"]) for record in data["records"]) == Decimal(
        data["total_exact"]
    )


def test_a_bad_deck_prints_every_bad_row_and_rates_nothing(tmp_path: Path) -> None:
    deck = (
        "prefix,destination,price_per_minute,connection_fee,steps,min_seconds\n"
        "33,France fixe,0.012,0,60/60,0\n"
        "336,Mobile,abc,0,60/60,0\n"
        "44,UK,0.01,0,60/0,0\n"
        "33,Doublon,0.01,0,1/1,0\n"
    )
    arguments = files(tmp_path, deck=deck)
    result = runner.invoke(app, arguments, env={"OPERATEUR_LANG": "fr"})
    assert result.exit_code == 1
    assert result.stdout == ""
    path = arguments[2]
    assert result.stderr.splitlines() == [
        f"{path}, ligne 3, price_per_minute : « abc » n'est pas un nombre",
        f"{path}, ligne 4, steps : « 60/0 » : paliers attendus sous la forme PREMIER/SUIVANT "
        "en secondes, chacun au moins 1 (ex. 60/60, 30/6)",
        f"{path}, ligne 5, prefix : préfixe 33 déjà défini ligne 2",
        "invalid_input [deck]: Grille tarifaire invalide : 3 erreur(s), aucun tarif n'est chargé.",
    ]
    english = runner.invoke(app, arguments, env={"OPERATEUR_LANG": "en"})
    assert english.exit_code == 1
    assert f"{path}, line 5, prefix: prefix 33 already defined on line 2" in english.stderr
    assert "Invalid rate deck: 3 error(s), no rate is loaded." in english.stderr


def test_a_usage_file_with_a_wrong_header_is_refused(tmp_path: Path) -> None:
    arguments = files(tmp_path, usage="id,caller\nx,y\n")
    result = runner.invoke(app, arguments, env={"OPERATEUR_LANG": "en"})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "line 1, header: unexpected header “id,caller”" in result.stderr
    assert "invalid_input [usage]: Unreadable usage file, line 1" in result.stderr


def test_a_missing_or_non_utf8_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    arguments = files(tmp_path)
    missing = tmp_path / "absent.csv"
    result = runner.invoke(
        app, ["rate", "--deck", str(missing), "--usage", arguments[4]], env={"OPERATEUR_LANG": "fr"}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"invalid_input [deck]: Lecture impossible de {missing}")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("prefix,destination\n33,Télécom\n".encode("latin-1"))
    result = runner.invoke(
        app, ["rate", "--deck", str(latin1), "--usage", arguments[4]], env={"OPERATEUR_LANG": "en"}
    )
    assert result.exit_code == 1
    assert f"The file {latin1} is not UTF-8." in result.stderr
