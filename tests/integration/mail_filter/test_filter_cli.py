"""``operateur mail scan`` and ``operateur mail train`` (MAIL-01, MAIL-02)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from operateur.cli import app
from operateur.mail.filter.corpus import split, supplement_ham
from operateur.testing.dns import DnsServer
from tests.integration.mail_filter.conftest import message

EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path / "data"))


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, ["mail", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_scan_prints_verdict_score_and_symbols(tmp_path: Path) -> None:
    # SPEC: MAIL-01 a spam blocked, a virus found, a plain message delivered
    spam = split().test_spam[0]
    virus = tmp_path / "virus.eml"
    virus.write_bytes(message(text=f"{EICAR}\n"))
    results = _run("scan", str(spam), str(virus), "--json")
    by_file = {Path(r["file"]).name: r for r in results}
    assert by_file[spam.name]["action"] in ("quarantine", "reject")
    assert by_file[spam.name]["score"] == pytest.approx(
        sum(s["score"] for s in by_file[spam.name]["symbols"]), abs=0.01
    )
    assert by_file["virus.eml"]["virus"] is True
    assert by_file["virus.eml"]["action"] == "reject"
    assert "VIRUS_EICAR" in {s["name"] for s in by_file["virus.eml"]["symbols"]}


def test_scan_looks_nothing_up_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SPEC: MAIL-02 DNSBL lookups only with --network
    raw = tmp_path / "m.eml"
    raw.write_bytes(message())
    with DnsServer() as zone:
        zone.add("10.2.0.192.bl-one.test", "A", "127.0.0.2")
        monkeypatch.setenv("OPERATEUR_MAIL_RESOLVER_NAMESERVERS", zone.nameserver)
        monkeypatch.setenv("OPERATEUR_MAIL_DNSBL_ZONES", "bl-one.test")
        offline = _run("scan", str(raw), "--client-ip", "192.0.2.10", "--json")
        assert zone.queries == []
        assert "RBL_LISTED" not in {s["name"] for s in offline[0]["symbols"]}
        online = _run("scan", str(raw), "--client-ip", "192.0.2.10", "--network", "--json")
        assert ("10.2.0.192.bl-one.test", "A") in zone.queries
        listed = [s for s in online[0]["symbols"] if s["name"] == "RBL_LISTED"]
        assert listed == [{"name": "RBL_LISTED", "score": 2.0,
                           "detail": "192.0.2.10 in bl-one.test"}]  # fmt: skip


def test_train_writes_a_model_that_scan_uses(tmp_path: Path) -> None:
    # SPEC: MAIL-01 retraining from released (ham) and reported (spam) mail
    corpus = split()
    ham, spam = tmp_path / "released", tmp_path / "reported"
    for directory, files in ((ham, corpus.train_ham[:40]), (spam, corpus.train_spam[:40])):
        directory.mkdir()
        for path in files:
            shutil.copy(path, directory / path.name)
    model = tmp_path / "model.npz"
    summary = _run("train", "--ham", str(ham), "--spam", str(spam), "--model", str(model),
                   "--json")  # fmt: skip
    assert model.is_file()
    # the French business ham shipped in the package is learned too, unless --no-supplement
    assert (summary["ham"], summary["spam"]) == (40 + len(supplement_ham()), 40)
    [result] = _run("scan", str(corpus.test_spam[0]), "--model", str(model), "--json")
    assert any(s["name"].startswith("CLASSIFIER_") for s in result["symbols"])
    alone = _run("train", "--ham", str(ham), "--spam", str(spam), "--model", str(model),
                 "--no-supplement", "--json")  # fmt: skip
    assert (alone["ham"], alone["spam"]) == (40, 40)


def test_train_refuses_a_missing_directory(tmp_path: Path) -> None:
    # SPEC: MAIL-01
    result = CliRunner().invoke(
        app, ["mail", "train", "--ham", str(tmp_path / "nope"), "--spam", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "nope" in result.output
