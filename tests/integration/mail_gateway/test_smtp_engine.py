"""The gateway's SMTP engine reads commands and messages faster than aiosmtpd's own code but
must answer and receive exactly what aiosmtpd would: both engines get the same bytes over real
sockets and are compared. And delivery reuses an open SMTP session for the next message to the
same server, without losing or repeating one."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.config import Settings
from operateur.mail.commit import GroupCommit
from operateur.mail.filter import Filter
from operateur.mail.gateway import ConnectionLimiter, GatewaySMTP
from operateur.mail.harness import GatewayThread
from operateur.mail.models import Direction, FilterLog, QueuedMessage, QueueStatus
from operateur.mail.queue import open_spool
from operateur.testing.ports import free_port
from tests.integration.mail_gateway.conftest import (
    make_customer,
    message,
    tls_client,
    wait_for,
)

SIZE_LIMIT = 4000


class Recorder:
    """Keeps what each message's DATA brought, and from which client connection."""

    def __init__(self) -> None:
        self.contents: list[bytes] = []
        self.peers: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.contents.append(envelope.original_content)
            self.peers.append(session.peer)
        return "250 OK"


class LongLines(SMTP):
    """aiosmtpd's own engine with the gateway's line limit: the reference."""

    line_length_limit = GatewaySMTP.line_length_limit


class AiosmtpdServer(Controller):
    def factory(self) -> SMTP:
        return LongLines(self.handler, **self.SMTP_kwargs)


class GatewayServer(Controller):
    def factory(self) -> SMTP:
        return GatewaySMTP(self.handler, limiter=ConnectionLimiter(10), **self.SMTP_kwargs)


@pytest.fixture
def engines() -> Iterator[list[tuple[Controller, Recorder]]]:
    running: list[tuple[Controller, Recorder]] = []
    kinds: list[type[Controller]] = [AiosmtpdServer, GatewayServer]
    for kind in kinds:
        recorder = Recorder()
        controller = kind(
            recorder,
            hostname="127.0.0.1",
            port=free_port(),
            data_size_limit=SIZE_LIMIT,
            decode_data=False,
        )
        controller.start()
        running.append((controller, recorder))
    yield running
    for controller, _ in running:
        controller.stop()


def converse(port: int, lines: list[bytes]) -> list[bytes]:
    """Send each command (or message) and collect the reply to each."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        stream = sock.makefile("rb")
        replies = [_reply(stream)]
        for line in lines:
            sock.sendall(line)
            replies.append(_reply(stream))
        return replies


def _reply(stream: Any) -> bytes:
    lines = [stream.readline()]
    while lines[-1][3:4] == b"-":
        lines.append(stream.readline())
    return b"".join(lines)


BODIES = [
    b"Subject: plain\r\n\r\nHello.\r\nA line ending with a dot.\r\n",
    b"Subject: stuffed\r\n\r\n..a line that began with a dot\r\n..\r\n...\r\nend\r\n",
    b"",  # an empty message: the lone dot right after DATA
    b"..first line stuffed\r\nsecond\r\n",
    b"bare LF then dot\n.\r\nstill the message\r\n",
    b"x" * 70000 + b"\r\n",  # a line longer than the listener takes: 500
    (b"y" * 100 + b".\r\n") * 60,  # over the size limit (lines ending with a dot): 552
    b"z" * 3990 + b"\r\n",  # just under the size limit
    b"a." * 2000 + b"\r\n",  # one line, many dots, under the line limit, over the size limit
]


# SPEC: MAIL-01
@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_gateway_engine_receives_what_aiosmtpd_receives(
    engines: list[tuple[Controller, Recorder]], body: bytes
) -> None:
    session = [
        b"EHLO client.example\r\n",
        b"MAIL FROM:<paul@partenaire.example> SIZE=10\r\n",
        b"RCPT TO:<alice@acme.fr>\r\n",
        b"DATA\r\n",
        body + b".\r\n",
        b"MAIL FROM:<paul@partenaire.example>\r\n",  # the session goes on after it
        b"RCPT TO:<bob@acme.fr>\r\n",
        b"DATA\r\n",
        b"Subject: second\r\n\r\nok\r\n.\r\n",
        b"QUIT\r\n",
    ]
    results = []
    for controller, recorder in engines:
        replies = converse(controller.port, session)
        results.append((replies[1:], recorder.contents))  # the greeting names the engine
    (reference, received), (gateway, gateway_received) = results
    assert gateway == reference
    assert gateway_received == received
    assert received[-1] == b"Subject: second\r\n\r\nok\r\n"


ADDRESSES = [
    "<a@b.c>",
    "<a@b.c> SIZE=100",
    "<a@b.c>  BODY=8BITMIME SMTPUTF8",
    "<a.b+c@x-y.example.org>\tSIZE=5",
    "<A@B.C>",
    "<a@b.c> ",
    "<a@b.c>x",
    "<a@b.c> (comment) SIZE=1",
    "<a..b@c>",
    "<.a@b>",
    "<a@b..c>",
    "<a@b.c.>",
    "<>",
    "< a@b.c>",
    '<"q u"@b.c>',
    "<a@[192.0.2.1]>",
    "<a(comment)@b.c>",
    "<@relay.example:a@b.c>",
    "<élise@b.c>",
    "<a@b_c.d>",
    "<a@b.c",
    "a@b.c",
    "<" + "l" * 70 + "@b.c>",  # over the local part limit
]


# SPEC: MAIL-01
@pytest.mark.parametrize("argument", ADDRESSES)
def test_addresses_are_read_as_aiosmtpd_reads_them(argument: str) -> None:
    loop = asyncio.new_event_loop()  # given to both: without one, aiosmtpd opens its own
    try:
        reference = SMTP(Recorder(), loop=loop)
        gateway = GatewaySMTP(Recorder(), limiter=ConnectionLimiter(1), loop=loop)
        for engine in (reference, gateway):
            engine.local_part_limit = 64
        assert gateway._getaddr(argument) == reference._getaddr(argument)
    finally:
        loop.close()


class SessionSink(Controller):
    """The customer's server, noting the client connection of each message."""

    def __init__(self, port: int) -> None:
        self.recorder = Recorder()
        super().__init__(self.recorder, hostname="127.0.0.1", port=port)


def _queued(db: sessionmaker[Session]) -> list[QueuedMessage]:
    with db() as session:
        return list(session.scalars(select(QueuedMessage).order_by(QueuedMessage.id)))


# SPEC: MAIL-01, MAIL-12
def test_messages_to_one_server_share_an_smtp_session_and_each_is_delivered_once(
    db: sessionmaker[Session], settings: Settings, scanner: Filter
) -> None:
    port = free_port()
    make_customer(db, server_port=port)
    sink = SessionSink(port)
    sink.start()
    try:
        with GatewayThread(db, settings, scanner) as gateway:
            gateway.gateway.worker.connections.idle = 60  # slow machines: kept between sends
            with tls_client(gateway.inbound) as client:
                for index in range(3):
                    body = message(subject=f"Message {index}")
                    client.sendmail("paul@partenaire.example", ["alice@acme.fr"], body)
                    wait_for(lambda: len(sink.recorder.contents) == index + 1)  # noqa: B023
            wait_for(lambda: all(r.status is QueueStatus.DELIVERED for r in _queued(db)))
    finally:
        sink.stop()
    subjects = [c.split(b"Subject: ")[1].split(b"\r\n")[0] for c in sink.recorder.contents]
    assert subjects == [b"Message 0", b"Message 1", b"Message 2"]
    assert len(set(sink.recorder.peers)) == 1  # one SMTP session carried the three
    assert [r.attempts for r in _queued(db)] == [1, 1, 1]


# SPEC: MAIL-09
def test_a_kept_session_the_server_closed_is_replaced_without_a_retry(
    db: sessionmaker[Session], settings: Settings, scanner: Filter
) -> None:
    port = free_port()
    make_customer(db, server_port=port)
    with GatewayThread(db, settings, scanner) as gateway:
        gateway.gateway.worker.connections.idle = 60
        first = SessionSink(port)
        first.start()
        try:
            with tls_client(gateway.inbound) as client:
                client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message())
            wait_for(lambda: first.recorder.contents)
        finally:
            first.stop()  # the kept session is closed by the server
        second = SessionSink(port)
        second.start()
        try:
            with tls_client(gateway.inbound) as client:
                body = message(subject="After the restart")
                client.sendmail("paul@partenaire.example", ["alice@acme.fr"], body)
            [content] = wait_for(lambda: second.recorder.contents)
        finally:
            second.stop()
        wait_for(lambda: all(r.status is QueueStatus.DELIVERED for r in _queued(db)))
    assert b"Subject: After the restart" in content
    assert [r.attempts for r in _queued(db)] == [1, 1]  # not deferred: sent at once again


# SPEC: MAIL-09
def test_a_message_failing_in_its_group_commit_fails_alone(
    db: sessionmaker[Session], settings: Settings, sink: Any
) -> None:
    customer = make_customer(db, server_port=sink.port)
    committer = GroupCommit(db, open_spool(settings), "test")
    committer.start()
    held, release = threading.Event(), threading.Event()

    def hold_the_writer(session: Session) -> None:
        held.set()
        release.wait(30)

    def write(session: Session, names: list[str]) -> list[int]:
        ids = []
        for name in names:
            entry = FilterLog(
                customer_id=customer.id,
                direction=Direction.INBOUND,
                gateway="test",
                mail_from=f"{name}@partenaire.example",
                rcpt_tos=["alice@acme.fr"],
                size=1,
                action="deliver",
                score=0.0,
                symbols=[],
            )
            session.add(entry)
            session.flush()
            if name == "bad":
                raise ValueError("this message cannot be written")
            ids.append(entry.id)
        return ids

    outcomes: dict[str, Any] = {}

    def submit(name: str) -> None:
        try:
            outcomes[name] = committer.submit_batch(write, name)
        except ValueError as error:
            outcomes[name] = error

    try:
        blocker = threading.Thread(target=committer.submit, args=(hold_the_writer,))
        blocker.start()
        assert held.wait(30)
        senders = [threading.Thread(target=submit, args=(n,)) for n in ("good", "bad", "fine")]
        for thread in senders:
            thread.start()
        wait_for(lambda: committer._pending.qsize() == 3)  # the three in the next group
        release.set()
        for thread in [blocker, *senders]:
            thread.join(30)
    finally:
        committer.stop()
    assert isinstance(outcomes["bad"], ValueError)  # answered 451 by the gateway
    with db() as session:
        senders_written = sorted(session.scalars(select(FilterLog.mail_from)))
    assert senders_written == ["fine@partenaire.example", "good@partenaire.example"]
    assert isinstance(outcomes["good"], int) and isinstance(outcomes["fine"], int)
