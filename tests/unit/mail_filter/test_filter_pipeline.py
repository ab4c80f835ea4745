"""Scores to actions with the customer's thresholds (MAIL-01)."""

from __future__ import annotations

import dataclasses

from operateur.mail.filter import Action, Envelope, Filter, Policy
from operateur.mail.filter.pipeline import action_for
from tests.unit.mail_filter.conftest import MessageBuilder


def test_thresholds_of_the_policy(policy: Policy) -> None:
    # SPEC: MAIL-01 deliver, tag, quarantine, reject from the contract's scores (5, 8, 15)
    assert action_for(policy.tag_at - 0.01, policy) is Action.DELIVER
    assert action_for(policy.tag_at, policy) is Action.TAG
    assert action_for(policy.quarantine_at, policy) is Action.QUARANTINE
    assert action_for(policy.reject_at, policy) is Action.REJECT


def test_the_same_message_under_stricter_thresholds(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-01 thresholds are per customer: the verdict follows them
    raw = message(text="Validez votre compte : http://198.51.100.23/valider?id=1\n")
    verdict = mail_filter.scan(raw, envelope, policy)
    strict = dataclasses.replace(
        policy,
        tag_at=verdict.score - 3,
        quarantine_at=verdict.score - 2,
        reject_at=verdict.score - 1,
    )
    assert mail_filter.scan(raw, envelope, strict).action is Action.REJECT
    lenient = dataclasses.replace(
        policy, tag_at=verdict.score + 1, quarantine_at=verdict.score + 2,
        reject_at=verdict.score + 3,
    )  # fmt: skip
    assert mail_filter.scan(raw, envelope, lenient).action is Action.DELIVER


def test_verdict_score_is_the_sum_of_its_symbols(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-01 one verdict from the scanners' scored symbols
    verdict = mail_filter.scan(message(), envelope, policy)
    assert verdict.score == round(sum(s.score for s in verdict.symbols), 2)
    assert any(s.name.startswith("CLASSIFIER_") for s in verdict.symbols)


def test_no_dns_lookup_without_network(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-02 lookups only when the policy allows them: an unreachable resolver and
    # lists configured change nothing while network is off
    offline = dataclasses.replace(
        policy, dnsbl_zones=("bl.test",), uribl_zones=("uri.test",),
        resolver_nameservers=("127.0.0.1:9",), network=False,
    )  # fmt: skip
    verdict = mail_filter.scan(message(text="http://site.test/\n"), envelope, offline)
    names = {s.name for s in verdict.symbols}
    assert not {n for n in names if n.startswith(("RBL", "URIBL", "SPF", "DKIM", "DMARC"))}
