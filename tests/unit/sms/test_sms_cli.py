"""``operateur sms analyze`` and ``operateur sms check-sender``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from operateur.sms.cli import app

runner = CliRunner()
FR = {"OPERATEUR_LANG": "fr"}
EN = {"OPERATEUR_LANG": "en"}


def test_analyze_prints_the_counts_in_french() -> None:
    # SPEC: SMS-03 151 + 10 > 160 -> two parts; the mention "STOP 38100" is appended as sent
    # (SMS-06), set apart by a line break since that costs no part: 151 + 1 + 10 = 162 = 153 + 9.
    result = runner.invoke(app, ["analyze", "a" * 151, "--offer", "telecom"], env=FR)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Encodage : GSM 7 bits",
        "Longueur : 151 + 11 réservés à la mention STOP = 162 (au plus 1224)",
        "Parties : 2 (153 + 9)",
        "Valide : oui",
    ]


def test_analyze_json_shows_the_stop_mention_with_the_operators_short_code() -> None:
    # SPEC: SMS-03, SMS-06 150 + "STOP 36180" = 160: one SMS, the mention glued (a line break
    # would make a second part); the short code is the operator's setting.
    env = FR | {"OPERATEUR_SMS_SHORT_CODE": "36180"}
    result = runner.invoke(app, ["analyze", "a" * 150, "--offer", "telecom", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["length"], data["stop_reserved"], data["part_count"]) == (150, 10, 1)
    assert data["stop_mention"] == "STOP 36180"
    assert data["parts"][0]["text"] == "a" * 150 + "STOP 36180"


def test_analyze_names_the_refused_characters_and_exits_1() -> None:
    # SPEC: SMS-02
    result = runner.invoke(app, ["analyze", "Fête 😀", "--offer", "telecom"], env=EN)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert 'Refused characters: "ê" U+00EA #2, "😀" U+1F600 #6' in lines
    assert "Valid: no" in lines
    assert any(line.startswith("Reason: The SMS contains characters") for line in lines)


def test_analyze_json_under_a_unicode_offer() -> None:
    # SPEC: SMS-02, SMS-03 UCS-2 under the cpaas offer: "Fête " = 5 units, 😀 = 2.
    result = runner.invoke(app, ["analyze", "Fête 😀", "--offer", "cpaas", "--json"], env=EN)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["encoding"] == "ucs2"
    assert (data["length"], data["stop_reserved"], data["part_count"]) == (7, 0, 1)
    assert data["parts"] == [{"start": 0, "end": 6, "length": 7, "capacity": 70, "text": "Fête 😀"}]
    assert data["valid"] is True and data["faults"] == [] and data["reason"] is None


def test_analyze_json_lists_faults_with_their_index() -> None:
    # SPEC: SMS-02
    result = runner.invoke(app, ["analyze", "Fête", "--offer", "telecom", "--json"], env=FR)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["faults"] == [{"character": "ê", "codepoint": "U+00EA", "index": 1}]
    assert data["problem"] == "characters"
    assert data["reason"].startswith("Le SMS contient des caractères non autorisés")


def test_an_offer_without_sms_rules_is_an_error_naming_it() -> None:
    result = runner.invoke(app, ["analyze", "Bonjour", "--offer", "mail-security"], env=FR)
    assert result.exit_code == 1
    assert "mail-security" in result.stderr
    assert "ne comprend pas de service SMS" in result.stderr
    english = runner.invoke(app, ["analyze", "Hello", "--offer", "mail-security"], env=EN)
    assert "The offer mail-security has no SMS service" in english.stderr


def test_an_unknown_offer_is_an_error() -> None:
    result = runner.invoke(app, ["analyze", "Bonjour", "--offer", "nope"], env=FR)
    assert result.exit_code == 1
    assert "Offre inconnue : nope" in result.stderr


def test_check_sender_refuses_a_sensitive_name() -> None:
    # SPEC: SMS-05
    result = runner.invoke(app, ["check-sender", "AMELI-INFO"], env=FR)
    assert result.exit_code == 1
    assert result.stdout.strip() == (
        "Émetteur « AMELI-INFO » refusé (SMS-05) : il reprend le nom sensible « Ameli »."
    )


def test_check_sender_json_in_english() -> None:
    # SPEC: SMS-05
    result = runner.invoke(app, ["check-sender", "A1234", "--json"], env=EN)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "sender": "A1234",
        "allowed": False,
        "rule": "letter_and_four_digits",
        "matched_name": None,
        "reason": 'Sender "A1234" refused (SMS-05): a sender made of one letter and four digits '
        "is forbidden.",
    }


def test_check_sender_with_an_offer_applies_its_patterns() -> None:
    # SPEC: SMS-05 the cpaas offer does not refuse one letter and four digits.
    result = runner.invoke(app, ["check-sender", "A1234", "--offer", "cpaas"], env=EN)
    assert result.exit_code == 0
    assert result.stdout.strip() == 'Sender "A1234" accepted (SMS-05).'


def test_check_sender_accepts_an_ordinary_name() -> None:
    # SPEC: SMS-05
    result = runner.invoke(app, ["check-sender", "BOULANGERIE", "--offer", "telecom"], env=FR)
    assert result.exit_code == 0
    assert result.stdout.strip() == "Émetteur « BOULANGERIE » accepté (SMS-05)."
