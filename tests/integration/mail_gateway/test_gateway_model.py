"""The classifier model a gateway runs: the one ``operateur mail train`` wrote under the data
directory when there is one, else the shipped one (MAIL-01 retraining from released and
reported mail)."""

from __future__ import annotations

import smtplib

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.config import Settings
from operateur.mail.filter.classifier import operator_model_path, train
from operateur.mail.filter.corpus import split
from operateur.mail.gateway import gateway_filter
from operateur.mail.harness import GatewayThread
from operateur.mail.models import QuarantinedMessage
from operateur.testing.smtp import SmtpSink
from tests.integration.mail_gateway.conftest import make_customer, wait_for

# the offer's own thresholds (the other gateway tests raise them above the classifier's reach)
OFFER_THRESHOLDS = {"mail": {"spam_tag_score": "5", "spam_quarantine_score": "8"}}


def _send(address: tuple[str, int], raw: bytes) -> None:
    with smtplib.SMTP(*address, timeout=30) as client:
        client.sendmail("list@corpus.example", ["alice@acme.fr"], raw)


def test_the_gateway_runs_the_model_the_operator_trained(
    db: sessionmaker[Session], settings: Settings, sink: SmtpSink
) -> None:
    # SPEC: MAIL-01 the operator retrains the classifier and the gateway uses that model
    make_customer(db, server_port=sink.port, overrides=OFFER_THRESHOLDS)
    corpus = split()
    ham = corpus.test_ham[0].read_bytes()

    with GatewayThread(db, settings, gateway_filter(settings)) as gateway:  # shipped model
        _send(gateway.inbound, ham)
        wait_for(lambda: sink.to("alice@acme.fr"))

    # an operator whose users reported this kind of mail as spam and released the other kind:
    # ham and spam swapped, so the retrained model holds what the shipped one delivered
    model = train(
        [p.read_bytes() for p in corpus.train_spam[:150]],
        [p.read_bytes() for p in corpus.train_ham[:150]],
    )
    model.save(operator_model_path(settings.data_dir))
    sink.clear()
    with GatewayThread(db, settings, gateway_filter(settings)) as gateway:
        _send(gateway.inbound, ham)
        held = wait_for(lambda: _held(db))
    assert [h.recipient for h in held] == ["alice@acme.fr"]
    assert "CLASSIFIER_SPAM" in held[0].symbols
    assert sink.to("alice@acme.fr") == []


def _held(db: sessionmaker[Session]) -> list[QuarantinedMessage]:
    with db() as session:
        return list(session.scalars(select(QuarantinedMessage)))
