"""Benchmark: messages per second through the whole mail gateway, beside the scan rate of
rspamd and SpamAssassin's spamd on the same messages.

    python bench/mail_throughput.py [--messages 600] [--connections 4] [--instances 1]
        [--tls] [--postgres | --database-url URL] [--engines rspamd,spamd] [--corpus DIR]

- operateur: ``--instances`` gateway processes (``operateur mail serve``) on loopback sharing
  a fresh database (SQLite in a temporary directory; ``--postgres``: a throwaway PostgreSQL)
  and spool, one customer on the mail-security offer, its server an SMTP sink in another
  process. ``--connections`` clients send the messages over SMTP (STARTTLS with ``--tls``);
  each is filtered with the shipped model and the offer's thresholds (no network lookups),
  written durably (spool file fsync'd + database row committed) before the 250, then relayed
  to the sink — or held, or refused, as its verdict says. The rate is messages / time from
  the first send to the last relay (start-up excluded).
- rspamd (Debian package, throwaway instance, network modules off, Bayes on a throwaway Redis
  but not trained) with as many normal workers as there are gateway processes
  (``--instances``), so that both sides get the same number of processes; spamd
  (``--local``, one child whatever ``--instances``): ``/checkv2`` or one spamd request per
  message, ``--connections`` at a time, timed on a second pass (the first warms them up:
  rspamd compiles its rules in the background after it starts). Scanning only: no SMTP, no
  storage, no relay. An engine that is not installed is named and skipped.

Prints each rate, the CPU time per message of the gateway processes and of each engine's
processes during the timed part, and operateur's ratio to each peer (the goal: at least
rspamd's rate).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, OperatorIn
from operateur.catalog.terms import PaymentMethod
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.schemas import SubscriptionIn
from operateur.db import make_engine, make_session_factory, transaction
from operateur.domain.calendar import PARIS
from operateur.mail import service as mail
from operateur.mail.filter import Envelope, Filter
from operateur.mail.filter.corpus import default_root
from operateur.mail.models import QueuedMessage, QueueStatus
from operateur.migrations import upgrade_engine
from operateur.testing.ports import free_port
from operateur.testing.postgres import PostgresServer

sys.path.insert(0, str(Path(__file__).parent))
from cpu import cpu_of, process_cpu, processes  # noqa: E402  (bench/cpu.py)

DOMAIN = "bench.example"


# --- the customer's server: a sink in its own process ----------------------------------------


def _sink(port: int, counter: Any, ready: Any) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class LongLines(SMTP):
        line_length_limit = 65536  # like the gateway (and Postfix): long lines are taken

    class Sink(Controller):
        def factory(self) -> SMTP:
            return LongLines(self.handler, **self.SMTP_kwargs)

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Sink(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    threading.Event().wait()


# --- messages --------------------------------------------------------------------------------


def load_messages(root: Path, count: int) -> list[bytes]:
    """``count`` messages of the corpus, ham and spam interleaved, always the same ones."""
    ham = sorted((root / "ham").iterdir())
    spam = sorted((root / "spam").iterdir())
    chosen: list[Path] = []
    for pair in zip(ham, spam, strict=False):
        chosen.extend(pair)
    # the corpus files end their lines with LF; on the wire SMTP lines end with CRLF
    return [
        path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for path in chosen[:count]
    ]


def parallel(items: list[bytes], workers: int, work: Callable[[int, list[bytes]], None]) -> float:
    """Split ``items`` among ``workers`` threads; seconds until all are done."""
    shares = [items[i::workers] for i in range(workers)]
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work, n, share) for n, share in enumerate(shares)]:
            future.result()
    return time.perf_counter() - started


# --- operateur -------------------------------------------------------------------------------


def setup(url: str) -> int:
    engine = make_engine(url)
    upgrade_engine(engine)
    audit.install()
    with transaction(make_session_factory(engine)) as session:
        audit.set_actor(session, system_actor("bench"))
        operator = accounts.create_operator(
            session,
            OperatorIn(
                name="Opérateur Bench",
                legal_form="SAS",
                siren="732829320",
                address_line="1 place du Test",
                postal_code="69001",
                city="Lyon",
                email="contact@operateur-bench.fr",
            ),
        )
        customer = accounts.create_customer(
            session,
            operator.id,
            CustomerIn(
                name="Bench",
                legal_form="SAS",
                siren="552100554",
                address_line="1 rue du Banc",
                postal_code="75001",
                city="Paris",
                email=f"it@{DOMAIN}",
                payment_method=PaymentMethod.TRANSFER,
            ),
        )
        start = date.today() - timedelta(days=30)
        contract = contracts.create_contract(session, customer, "mail-security", {})
        contracts.sign(session, contract, "Bench", datetime.combine(start, clock_time(9), PARIS))
        contracts.activate(session, contract, start)
        for code in ("mail_in.mailbox", "mail.domain"):
            contracts.add_subscription(
                session, contract, SubscriptionIn(item_code=code, quantity=2)
            )
        mail.add_domain(session, customer.id, DOMAIN, date.today())
        customer_id = customer.id
    engine.dispose()
    return customer_id


def start_gateways(
    count: int, env: dict[str, str]
) -> tuple[list[subprocess.Popen[bytes]], list[tuple[str, int]]]:
    """``count`` gateway processes (``operateur mail serve``) sharing the database and spool."""
    binary = str(Path(sys.executable).parent / "operateur")
    processes, addresses = [], []
    for n in range(count):
        port = free_port()
        command = [binary, "mail", "serve", "--inbound", f"127.0.0.1:{port}", "--submission", ""]
        command += ["--instance", f"gw{n + 1}"]
        processes.append(subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL))
        addresses.append(("127.0.0.1", port))
    deadline = time.monotonic() + 180
    for address in addresses:
        while True:
            try:
                socket.create_connection(address, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("a gateway did not start") from None
                time.sleep(0.2)
    return processes, addresses


def run_operateur(
    messages: list[bytes], connections: int, tls: bool, url: str, instances: int
) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="operateur-mail-bench-"))
    customer_id = setup(url)
    port = free_port()
    counter, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(30)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        mail.add_server(session, customer_id, "127.0.0.1", port=port)
    env = os.environ | {
        "OPERATEUR_DATA_DIR": str(directory),
        "OPERATEUR_DATABASE_URL": url,
        "OPERATEUR_MAIL_NETWORK_CHECKS": "false",
        "OPERATEUR_MAIL_MAX_CONNECTIONS_PER_IP": str(connections + 1),
        "OPERATEUR_LOG_LEVEL": "WARNING",
    }
    processes, addresses = start_gateways(instances, env)
    refused = [0] * connections

    def send(worker: int, share: list[bytes]) -> None:
        client = smtplib.SMTP(*addresses[worker % len(addresses)], timeout=120)
        if tls:
            client.starttls(context=ssl._create_unverified_context())  # noqa: S323
        for index, raw in enumerate(share):  # many mailboxes: below the daily limit
            rcpt = f"user{worker}-{index % 100}@{DOMAIN}"
            try:
                client.sendmail("sender@corpus.example", [rcpt], raw)
            except smtplib.SMTPDataError as error:
                refused[worker] += 1
                if error.smtp_code != 550:
                    raise
        client.quit()

    try:
        cpu = sum(process_cpu(process.pid) for process in processes)
        started = time.perf_counter()
        answered = parallel(messages, connections, send)
        pending = select(func.count()).where(
            QueuedMessage.status.not_in((QueueStatus.DELIVERED, QueueStatus.FAILED))
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with factory() as session:
                if not session.scalar(pending):
                    break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = sum(process_cpu(process.pid) for process in processes) - cpu
        with factory() as session:
            relayed = session.scalar(select(func.count()).select_from(QueuedMessage)) or 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
        sink.terminate()
    with factory() as session:
        delivered = session.scalar(
            select(func.count()).where(QueuedMessage.status == QueueStatus.DELIVERED)
        )
        failed = session.scalar(
            select(func.count()).where(QueuedMessage.status == QueueStatus.FAILED)
        )
    engine.dispose()
    return {
        "seconds": elapsed,
        "cpu_ms": cpu / len(messages) * 1e3,
        "answered_seconds": answered,
        "relayed": counter.value,
        "delivered_rows": delivered,
        "failed_rows": failed,
        "refused": sum(refused),
        "held": len(messages) - relayed - sum(refused),
    }


def filter_rate(messages: list[bytes]) -> float:
    """The filter alone, one message at a time (for context)."""
    from operateur.catalog.service import get_offer

    rules = get_offer("mail-security").terms.mail
    assert rules is not None
    policy = mail.policy_for(rules, frozenset(), frozenset(), Settings(mail_network_checks=False))
    scanner = Filter()
    envelope = Envelope("sender@corpus.example", (f"user@{DOMAIN}",), "127.0.0.1", "bench")
    started = time.perf_counter()
    for raw in messages:
        scanner.scan(raw, envelope, policy)
    return len(messages) / (time.perf_counter() - started)


# --- peers -----------------------------------------------------------------------------------


def timed_scan(
    messages: list[bytes],
    connections: int,
    scan: Callable[[int, list[bytes]], None],
    root: int | None,
) -> tuple[float, float]:
    """A warm-up pass, then the timed one: messages per second, and CPU ms per message of the
    engine's process ``root`` and its workers."""
    parallel(messages, connections, scan)  # warm-up (rules compiled, caches filled)
    before = cpu_of(processes(), root)
    rate = len(messages) / parallel(messages, connections, scan)
    return rate, (cpu_of(processes(), root) - before) / len(messages) * 1e3


def run_rspamd(messages: list[bytes], connections: int, workers: int) -> tuple[float, float]:
    from operateur.mail.filter.engines import Rspamd
    from operateur.testing.dns import DnsServer
    from operateur.testing.redis import RedisServer
    from operateur.testing.spam_engines import RspamdServer

    class Workers(RspamdServer):
        """The test server with ``workers`` normal workers instead of one."""

        def _configure(self) -> Path:
            conf = super()._configure()
            (conf / "local.d" / "worker-normal.inc").write_text(
                f'bind_socket = "127.0.0.1:{self.port}";\ncount = {workers};\n'
            )
            return conf

    redis = RedisServer()
    redis.start()
    try:
        with (
            DnsServer() as resolver,
            Workers(nameserver=resolver.nameserver, redis_url=redis.url) as server,
        ):
            clients = [Rspamd(server.url) for _ in range(connections)]

            def scan(worker: int, share: list[bytes]) -> None:
                for raw in share:
                    clients[worker].check(raw, client_ip="127.0.0.1", helo="bench")

            return timed_scan(messages, connections, scan, server.pid)
    finally:
        redis.stop()


def run_spamd(messages: list[bytes], connections: int, workers: int) -> tuple[float, float]:
    from operateur.mail.filter.engines import Spamd
    from operateur.testing.spam_engines import SpamdServer

    with SpamdServer() as server:
        assert server.port
        client = Spamd("127.0.0.1", server.port)

        def scan(worker: int, share: list[bytes]) -> None:
            for raw in share:
                client.check(raw)

        return timed_scan(messages, connections, scan, server.pid)


# name -> (scan rate, CPU ms per message) of (messages, connections, workers); spamd keeps its
# one child
PEERS: dict[str, Callable[[list[bytes], int, int], tuple[float, float]]] = {
    "rspamd": run_rspamd,
    "spamd": run_spamd,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--tls", action="store_true", help="STARTTLS on every connection")
    parser.add_argument("--engines", default="rspamd,spamd")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--instances", type=int, default=1, help="gateway processes")
    args = parser.parse_args(argv)

    root = args.corpus or default_root()
    messages = load_messages(root, args.messages)
    print(f"{len(messages)} messages from {root}, {args.connections} connections")

    postgres = PostgresServer() if args.postgres else None
    url = args.database_url or (postgres.start() if postgres else None)
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='operateur-mail-db-')) / 'mail.db'}"
    database = "PostgreSQL (throwaway, fsync off)" if postgres else url.split(":")[0]
    try:
        result = run_operateur(messages, args.connections, args.tls, url, args.instances)
    finally:
        if postgres:
            postgres.stop()
    rate = len(messages) / result["seconds"]
    print(
        f"operateur gateway, {args.instances} process(es), {database}"
        f"{', STARTTLS' if args.tls else ''}:\n"
        f"{'':29} {rate:8.1f} msg/s  ({result['relayed']} relayed, {result['held']} held, "
        f"{result['refused']} refused in {result['seconds']:.1f} s; all answered after "
        f"{result['answered_seconds']:.1f} s); CPU {result['cpu_ms']:.2f} ms/msg"
    )
    print(f"operateur filter alone:       {filter_rate(messages):8.1f} msg/s (one at a time)")
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        try:
            peer, peer_cpu = PEERS[name](messages, args.connections, args.instances)
        except (RuntimeError, KeyError) as error:
            print(f"{name}: not measured ({error})")
            continue
        workers = args.instances if name == "rspamd" else 1
        label = f"{name} scan, {workers} worker(s)"
        print(
            f"{label:<29} {peer:8.1f} msg/s  -> operateur / {name} = {rate / peer:.2f};"
            f" CPU {peer_cpu:.2f} ms/msg"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
