"""Nothing accepted is lost: buffering with retries while the customer's server refuses or is
down, a gateway killed between its 250 and the relay delivers after a restart, two gateways
share the queue without delivering twice, and mail is dropped after the terms' 168 hours."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.config import Settings
from operateur.db import utcnow
from operateur.mail.filter import Filter
from operateur.mail.harness import GatewayThread
from operateur.mail.models import QueuedMessage, QueueStatus
from operateur.mail.queue import spool_dir
from operateur.notifications.models import OutboxMessage
from operateur.testing.ports import free_port
from operateur.testing.smtp import SmtpSink
from tests.integration.mail_gateway.conftest import (
    RefusingServer,
    make_customer,
    message,
    tls_client,
    wait_for,
)


def queued(db: sessionmaker[Session]) -> list[QueuedMessage]:
    with db() as session:
        return list(session.scalars(select(QueuedMessage).order_by(QueuedMessage.id)))


def spool_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in spool_dir(settings).iterdir() if not p.name.startswith("."))


# SPEC: MAIL-09
def test_mail_is_buffered_while_the_server_refuses_then_delivered(
    db: sessionmaker[Session], settings: Settings, scanner: Filter
) -> None:
    port = free_port()
    make_customer(db, server_port=port)
    with GatewayThread(db, settings, scanner) as gateway:
        with RefusingServer(port) as refusing:
            with tls_client(gateway.inbound) as client:
                assert (
                    client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message()) == {}
                )
            wait_for(lambda: refusing.attempts >= 2)  # retried after the first refusal
            [row] = queued(db)
            assert row.status in (QueueStatus.QUEUED, QueueStatus.DELIVERING)
            assert "451" in wait_for(lambda: queued(db)[0].last_error)
        with SmtpSink(port=port) as server:
            [received] = wait_for(lambda: server.to("alice@acme.fr"))
            assert received["Subject"] == "Réunion de jeudi"
    [row] = queued(db)
    assert row.status is QueueStatus.DELIVERED and row.attempts >= 3
    assert spool_files(settings) == []  # delivered: the stored copy is gone (MAIL-10)


# SPEC: MAIL-09
def test_a_gateway_killed_after_its_250_delivers_after_a_restart(
    db: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    server_port, inbound_port = free_port(), free_port()
    make_customer(db, server_port=server_port)
    env = os.environ | {
        "OPERATEUR_DATA_DIR": str(settings.data_dir),
        "OPERATEUR_DATABASE_URL": settings.resolved_database_url(),
        "OPERATEUR_MAIL_INBOUND_LISTEN": f"127.0.0.1:{inbound_port}",
        "OPERATEUR_MAIL_SUBMISSION_LISTEN": "",
        "OPERATEUR_MAIL_NETWORK_CHECKS": "false",
        "OPERATEUR_MAIL_RETRY_FIRST_SECONDS": "1",
        "OPERATEUR_MAIL_RETRY_MAX_SECONDS": "1",
        "OPERATEUR_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "operateur"), "mail", "serve"]

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: _listening(inbound_port) or process.poll() is not None, timeout=60)
            assert process.poll() is None, "the gateway did not start"
        except BaseException:
            _stop(process, signal.SIGKILL)
            raise
        return process

    first = start()
    try:
        with tls_client(("127.0.0.1", inbound_port)) as client:  # the customer's server is down
            assert client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message()) == {}
    finally:
        _stop(first, signal.SIGKILL)
    [row] = queued(db)
    assert row.status in (QueueStatus.QUEUED, QueueStatus.DELIVERING)
    assert spool_files(settings) == [row.spool_name]  # durable before the 250
    with SmtpSink(port=server_port) as server:
        second = start()
        try:
            [received] = wait_for(lambda: server.to("alice@acme.fr"), timeout=60)
        finally:
            _stop(second, signal.SIGTERM)
    assert received["Subject"] == "Réunion de jeudi"
    assert queued(db)[0].status is QueueStatus.DELIVERED


def _stop(process: subprocess.Popen[bytes], how: signal.Signals) -> None:
    """Stop a gateway process with ``how``, killed if it is still there after 30 s: a failing
    test must not leave a gateway running behind it."""
    process.send_signal(how)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# SPEC: MAIL-12
def test_two_gateways_share_the_queue_and_deliver_each_message_once(
    db: sessionmaker[Session], settings: Settings, scanner: Filter
) -> None:
    port = free_port()
    make_customer(db, server_port=port)
    first = settings.model_copy(update={"mail_instance": "gw1"})
    second = settings.model_copy(update={"mail_instance": "gw2"})
    with GatewayThread(db, first, scanner) as gw1, GatewayThread(db, second, scanner) as gw2:
        for index in range(20):  # the customer's server is down: everything is buffered
            gateway = gw1 if index % 2 else gw2
            with tls_client(gateway.inbound) as client:
                body = message(subject=f"Message {index}")
                assert client.sendmail("paul@partenaire.example", ["alice@acme.fr"], body) == {}
        with SmtpSink(port=port) as server:
            wait_for(lambda: all(r.status is QueueStatus.DELIVERED for r in queued(db)), timeout=60)
            subjects = sorted(str(m["Subject"]) for m in server.messages)
    assert subjects == sorted(f"Message {index}" for index in range(20))
    assert {r.delivered_by for r in queued(db)} <= {"gw1", "gw2"}


# SPEC: MAIL-09
def test_mail_undeliverable_for_168_hours_is_deleted_and_the_customer_told(
    db: sessionmaker[Session], settings: Settings, scanner: Filter
) -> None:
    customer = make_customer(db, server_port=free_port())  # nothing listens there
    now = [utcnow()]
    with GatewayThread(db, settings, scanner, clock=lambda: now[0]) as gateway:
        with tls_client(gateway.inbound) as client:
            assert client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message()) == {}
        wait_for(lambda: queued(db)[0].attempts >= 1)
        now[0] += timedelta(hours=167)
        assert gateway.gateway.expire() == 0  # still within the terms' 168 hours
        now[0] += timedelta(hours=2)
        assert gateway.gateway.expire() == 1
    [row] = queued(db)
    assert row.status is QueueStatus.EXPIRED
    assert spool_files(settings) == []
    with db() as session:
        [notice] = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.customer_id == customer.id, OutboxMessage.event == "mail.expired"
            )
        ).all()
    assert "168 heures" in notice.subject
    assert "alice@acme.fr" in notice.body
