"""The optional external engines, against real throwaway rspamd and spamd instances on
loopback (Debian packages, network modules off) (MAIL-01)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from operateur.config import Settings
from operateur.mail.filter import Filter, Policy
from operateur.mail.filter.engines import Rspamd, Spamd
from operateur.mail.gateway import gateway_filter
from operateur.testing.dns import DnsServer
from operateur.testing.spam_engines import RspamdServer, SpamdServer
from tests.integration.mail_filter.conftest import envelope, message

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


@pytest.fixture(scope="module")
def rspamd() -> Iterator[RspamdServer]:
    with DnsServer() as resolver, RspamdServer(nameserver=resolver.nameserver) as server:
        yield server


@pytest.fixture(scope="module")
def spamd() -> Iterator[SpamdServer]:
    with SpamdServer() as server:
        yield server


def test_rspamd_adapter_scores_with_the_real_engine(rspamd: RspamdServer) -> None:
    # SPEC: MAIL-01 rspamd over its HTTP protocol
    engine = Rspamd(rspamd.url)
    spam = engine.check(message(text=f"{GTUBE}\n"), client_ip="192.0.2.10")
    assert spam.spam is True and spam.score >= 15 and "GTUBE" in spam.rules
    ham = engine.check(message(), client_ip="192.0.2.10", mail_from="paul@partenaire.test",
                       rcpt_tos=("compta@client.test",))  # fmt: skip
    # rspamd's own header checks score this bare test message a little (no PTR, no Received)
    assert "GTUBE" not in ham.rules and ham.score < 15


def test_spamd_adapter_scores_with_the_real_engine(spamd: SpamdServer) -> None:
    # SPEC: MAIL-01 SpamAssassin's spamd protocol
    engine = Spamd("127.0.0.1", spamd.port)
    spam = engine.check(message(text=f"{GTUBE}\n"))
    assert spam.spam is True and spam.score >= 1000 and "GTUBE" in spam.rules
    ham = engine.check(message())
    assert ham.spam is False and ham.score < 5


def test_engines_as_scanners_of_the_filter(
    rspamd: RspamdServer, spamd: SpamdServer, mail_filter: Filter
) -> None:
    # SPEC: MAIL-01 an engine's score joins the verdict as one symbol
    with_engines = Filter(engines=[Rspamd(rspamd.url), Spamd("127.0.0.1", spamd.port)])
    policy = Policy(tag_at=5, quarantine_at=8, reject_at=15)
    verdict = with_engines.scan(message(text=f"{GTUBE}\n"), envelope(), policy)
    symbols = {s.name: s for s in verdict.symbols}
    assert symbols["RSPAMD"].score >= 15 and "GTUBE" in symbols["RSPAMD"].detail
    assert symbols["SPAMASSASSIN"].score >= 1000
    alone = mail_filter.scan(message(text=f"{GTUBE}\n"), envelope(), policy)
    assert verdict.score > alone.score


def test_unreachable_engines_do_not_stop_the_mail() -> None:
    # SPEC: MAIL-01 an engine down adds a zero-score note; the verdict is still given
    down = Filter(engines=[Rspamd("http://127.0.0.1:9"), Spamd("127.0.0.1", 9)])
    verdict = down.scan(message(), envelope(), Policy(tag_at=5, quarantine_at=8, reject_at=15))
    symbols = {s.name: s for s in verdict.symbols}
    assert symbols["RSPAMD_UNAVAILABLE"].score == 0
    assert symbols["SPAMD_UNAVAILABLE"].score == 0


def test_the_gateway_asks_the_engines_its_settings_name(
    rspamd: RspamdServer, spamd: SpamdServer, tmp_path: Path
) -> None:
    # SPEC: MAIL-01 rspamd and spamd configured for the gateway (settings, no code)
    settings = Settings(
        data_dir=tmp_path,
        mail_rspamd_url=rspamd.url,
        mail_spamd_address=f"127.0.0.1:{spamd.port}",
    )
    policy = Policy(tag_at=5, quarantine_at=8, reject_at=15)
    verdict = gateway_filter(settings).scan(message(text=f"{GTUBE}\n"), envelope(), policy)
    symbols = {s.name: s for s in verdict.symbols}
    assert symbols["RSPAMD"].score >= 15 and symbols["SPAMASSASSIN"].score >= 1000
    assert verdict.action.value == "reject"
    unconfigured = gateway_filter(Settings(data_dir=tmp_path)).scan(
        message(text=f"{GTUBE}\n"), envelope(), policy
    )
    assert not {"RSPAMD", "SPAMASSASSIN"} & {s.name for s in unconfigured.symbols}
