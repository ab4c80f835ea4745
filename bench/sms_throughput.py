"""Benchmark: SMS submission through operateur's outbox and SMPP connector against a bare
smpplib loop and against Jasmin, all to the same SMSC simulator on loopback.

    python bench/sms_throughput.py [--count N] [--rounds R] [--window W]
                                   [--no-jasmin | --jasmin-connectors K]
                                   [--postgres | --database URL]

The simulator (``operateur.testing.smsc``, smpp34's server) runs in its own process so that it
does not share the interpreter with the client being measured; it sends no receipts (the bare
loop would not read them). Every side sends N single-part GSM 7-bit messages to distinct numbers
with the same window of outstanding submit_sm.

The machine is shared: its load changes from one second to the next, and with it the rates.
So the sides run in turns, R rounds of (bare, operateur, Jasmin), each round with its own N
messages (operateur's on a route of their own), and the ratios are given per round and as the
median of the rounds' ratios — each a comparison of runs a few seconds apart.

- **bare smpplib**: bind, then submit_sm as fast as the window allows, reading the responses;
  nothing is stored. This is the protocol limit of smpplib on this machine.
- **operateur**: N messages QUEUED in a fresh database (SQLite in a temporary directory by
  default; ``--postgres``: a throwaway PostgreSQL, fsync off; inserting them is not timed),
  then the dispatcher of one route runs until the outbox is empty: claim (SUBMITTING,
  committed), split and encode, submit_sm, and the responses recorded in one transaction per
  batch (``outbox.mark_submitted_many``: SUBMITTED, SMSC id per part, usage record and usage
  totals, prepaid debit when prepaid).
- **Jasmin** 0.11.1 (``bench/jasmin_gateway.py`` sets it up: a throwaway RabbitMQ and Redis,
  jasmind, a connector to the simulator, a user and a default MT route): the same smpplib loop
  submits to Jasmin's SMPP server, which queues each message in RabbitMQ and answers; its
  connector submits them to the simulator. Timed until the simulator has received all N. Needs
  Debian's ``rabbitmq-server`` and ``redis-server`` (``apt-get install -y rabbitmq-server
  redis-server``) and, the first time, PyPI to build Jasmin's own virtualenv under
  ``~/.cache/operateur-bench/jasmin-venv``; without them (or with ``--no-jasmin``) one line says
  why Jasmin was not measured and the other two columns run. Jasmin's connector keeps one
  submit_sm outstanding (it takes messages from RabbitMQ with a prefetch of 1 and acknowledges
  each on its submit_sm_resp), whatever the window of its SMPP server's client; with
  ``--jasmin-connectors K`` it has K connectors to the simulator and a route spreading the
  messages over them (then jasmind's single Python process is the limit).

Prints the rates, the CPU time per message of the client (this process: the bare loop, or
operateur's connector and database threads) and of the simulator for the bare and operateur
sides, the ratio operateur / bare (goal: >= 80 %) and operateur / Jasmin, then checks
that every message is SUBMITTED with its SMSC id and billed (one usage record each, counted once
in the usage totals) and that the simulator took exactly N submits per side and round, each
recipient once per side; exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import multiprocessing
import os
import select
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path

import smpplib.client
import smpplib.exceptions
import smpplib.smpp
from sqlalchemy import func, insert
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, OperatorIn
from operateur.billing.models import PeriodUsage, UsageKind, UsageRecord
from operateur.catalog.terms import OutsideWindow, PaymentMethod
from operateur.contracts import service as contracts
from operateur.db import make_engine
from operateur.domain.calendar import PARIS
from operateur.migrations import upgrade_engine
from operateur.sms.dispatcher import Dispatcher
from operateur.sms.encoding import SmsEncoding
from operateur.sms.models import SmsMessage, SmsStatus, SmsSubmission
from operateur.sms.smpp import SmppRoute
from operateur.sms.stock import month_of
from operateur.testing.postgres import PostgresServer
from operateur.testing.smsc import SmscSimulator

sys.path.insert(0, str(Path(__file__).parent))
import jasmin_gateway  # noqa: E402  (bench/jasmin_gateway.py, next to this file)
from cpu import process_cpu  # noqa: E402  (bench/cpu.py)

TUESDAY_10H = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)  # inside the 004 sending window
SENDER = "38100"


def recipient(index: int, side: int) -> str:
    return f"+336{side}{index:07d}"


def has_taken(smsc: SmscSimulator, total: int) -> bool:
    return len(smsc.submits) >= total


def serve_simulator(conn: Connection) -> None:
    """In the simulator's process: send its port, answer ("wait", total, timeout) with the
    number of submits taken once it reaches ``total`` (or the timeout passes), and ("stop",)
    with its final counts."""
    with SmscSimulator(receipts=False, relay=False) as smsc:
        conn.send(smsc.port)
        while (request := conn.recv())[0] == "wait":
            _, total, timeout = request
            with contextlib.suppress(TimeoutError):
                smsc.wait_until(functools.partial(has_taken, smsc, total), timeout)
            conn.send(len(smsc.submits))
        submits = smsc.submits
    conn.send(
        {
            "submits": len(submits),
            "distinct_messages": len({(s.destination_addr, s.short_message) for s in submits}),
        }
    )


class Simulator:
    """The SMSC simulator in a process of its own, on 127.0.0.1:``port``."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve_simulator, args=(child,), daemon=True)
        self._process.start()
        if not self._conn.poll(60):
            raise RuntimeError("the SMSC simulator did not start")
        self.port: int = self._conn.recv()

    @property
    def pid(self) -> int:
        pid = self._process.pid
        assert pid is not None
        return pid

    def wait_for(self, total: int, timeout: float) -> int:
        """Block until the simulator has taken ``total`` submits in all, or ``timeout``
        seconds passed; the number it has taken."""
        self._conn.send(("wait", total, timeout))
        taken: int = self._conn.recv()
        return taken

    def stop(self) -> dict[str, int]:
        self._conn.send(("stop",))
        counts: dict[str, int] = self._conn.recv()
        self._process.join(60)
        return counts


def smpplib_loop(
    port: int, count: int, window: int, first: int, side: int, system_id: str, password: str
) -> float:
    """Bind, submit_sm with smpplib and a window until every one is answered: seconds taken."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=30, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transceiver(system_id=system_id, password=password)
    sock = client._socket
    started = time.perf_counter()
    sent = answered = 0
    while answered < count:
        while sent < count and sent - answered < window:
            destination = recipient(first + sent, side)[1:]
            pdu = smpplib.smpp.make_pdu(
                "submit_sm",
                client=client,
                source_addr_ton=0,
                source_addr_npi=1,
                source_addr=SENDER,
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=destination,
                esm_class=0,
                data_coding=0,
                registered_delivery=0,
                short_message=f"Message de test {first + sent}".encode("ascii"),
            )
            client.send_pdu(pdu)
            sent += 1
        select.select([sock], [], [], 5)
        while True:
            pdu = client.read_pdu()
            if pdu.command == "submit_sm_resp":
                if pdu.status != 0:
                    raise RuntimeError(f"submit_sm refused: {pdu.status:#x}")
                answered += 1
            if not select.select([sock], [], [], 0)[0]:
                break
    elapsed = time.perf_counter() - started
    with contextlib.suppress(smpplib.exceptions.ConnectionError):
        client.unbind()  # the simulator may close before its unbind_resp
    client.disconnect()
    return elapsed


def bare_loop(port: int, count: int, window: int, first: int = 0) -> float:
    """smpplib straight to the simulator, nothing stored: messages per second."""
    return count / smpplib_loop(port, count, window, first, 1, "bare", "bench")


def with_cpu(
    simulator: Simulator, count: int, side: Callable[[], float]
) -> tuple[float, tuple[float, float]]:
    """``side()``'s rate, and the CPU time per message (µs) of this process (the client being
    measured, all its threads) and of the simulator while it ran."""
    client, smsc = time.process_time(), process_cpu(simulator.pid)
    rate = side()
    client, smsc = time.process_time() - client, process_cpu(simulator.pid) - smsc
    return rate, (client / count * 1e6, smsc / count * 1e6)


def jasmin_side(
    jasmin: jasmin_gateway.Jasmin,
    simulator: Simulator,
    count: int,
    window: int,
    first: int,
    total: int,
) -> float:
    """smpplib to Jasmin's SMPP server, timed until the simulator has ``total`` submits in all
    (``count`` of them Jasmin's): messages per second."""
    started = time.perf_counter()
    smpplib_loop(
        jasmin.smpp_port, count, window, first, 3, jasmin_gateway.USER, jasmin_gateway.PASSWORD
    )
    taken = simulator.wait_for(total, timeout=max(120.0, count / 20))
    elapsed = time.perf_counter() - started
    if taken < total:
        raise RuntimeError(
            f"Jasmin accepted {count} messages; the simulator got {count - (total - taken)}"
        )
    return count / elapsed


def route_name(round_index: int) -> str:
    return f"bench-{round_index + 1}"


def prepare_database(url: str, count: int, rounds: int = 1) -> sessionmaker[Session]:
    """A migrated database with one 004 customer and ``count`` QUEUED messages per round, on
    the round's route."""
    engine = make_engine(url)
    upgrade_engine(engine)
    audit.install()
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session, session.begin():
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
                name="Client Bench",
                legal_form="SARL",
                siren="552100554",
                address_line="1 rue du Client",
                postal_code="75001",
                city="Paris",
                country="FR",
                email="compta@client-bench.fr",
                payment_method=PaymentMethod.SEPA_DIRECT_DEBIT,
                iban="FR7630006000011234567890189",
            ),
        )
        contract = contracts.create_contract(session, customer, "telecom", {})
        contracts.sign(
            session, contract, "Signataire", datetime.combine(date(2026, 1, 5), dtime(9), PARIS)
        )
        contracts.activate(session, contract, date(2026, 1, 5))
        session.flush()
        rows = [
            {
                "customer_id": customer.id,
                "contract_id": contract.id,
                "sender": SENDER,
                "recipient": recipient(index, 2),
                "text": f"Message de test {index}",
                "encoding": SmsEncoding.GSM7,
                "parts": 1,
                "status": SmsStatus.QUEUED,
                "not_before": TUESDAY_10H,
                "route": route_name(index // count),
                "smsc_ids": [],
                "attempts": 0,
                "outside_window": OutsideWindow.QUEUE,
                "destination": "FR mobile",
                "cost": Decimal("0.06"),
                "prepaid": False,
                "stock_month": month_of(TUESDAY_10H),
            }
            for index in range(count * rounds)
        ]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(SmsMessage), rows[start : start + 10_000])
    return factory


def pipeline(
    factory: sessionmaker[Session], port: int, count: int, window: int, name: str = "default"
) -> float:
    route = SmppRoute(
        name=name,
        host="127.0.0.1",
        port=port,
        system_id="operateur",
        password="bench",
        window=window,
        poll_seconds=0.01,
        registered_delivery=False,
    )
    dispatcher = Dispatcher(factory, [route], clock=lambda: TUESDAY_10H)
    started = time.perf_counter()
    dispatcher.run(until_idle=True)
    elapsed = time.perf_counter() - started
    return count / elapsed


def check(factory: sessionmaker[Session], expected: int) -> list[str]:
    """Every message SUBMITTED with its SMSC id, one usage record each, counted in the totals."""
    with factory() as session:
        submitted = session.scalar(
            sql_select(func.count(func.distinct(SmsSubmission.message_id)))
            .join(SmsMessage, SmsMessage.id == SmsSubmission.message_id)
            .where(SmsMessage.status == SmsStatus.SUBMITTED)
        )
        records = session.scalar(
            sql_select(func.count()).select_from(UsageRecord).where(UsageRecord.source == "sms")
        )
        counted = session.scalar(
            sql_select(func.sum(PeriodUsage.calls)).where(PeriodUsage.kind == UsageKind.SMS)
        )
    problems = []
    if submitted != expected:
        problems.append(f"{submitted} of {expected} messages SUBMITTED with an SMSC id")
    if records != expected or counted != expected:
        problems.append(f"{records} usage records, {counted} in the totals, for {expected}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=10_000, help="messages per side and round (issue: 100000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="turns of (bare, operateur, Jasmin)")
    parser.add_argument("--window", type=int, default=50, help="outstanding submit_sm")
    parser.add_argument("--no-jasmin", action="store_true", help="skip the Jasmin column")
    parser.add_argument(
        "--jasmin-connectors", type=int, default=1, help="Jasmin's connectors to the simulator"
    )
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temp dir)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    args = parser.parse_args()

    postgres = PostgresServer() if args.postgres else None
    try:
        return run(args.database or (postgres.start() if postgres else None), args)
    finally:
        if postgres:
            postgres.stop()


def run(url: str | None, args: argparse.Namespace) -> int:
    count, rounds = args.count, args.rounds
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as tmp, contextlib.ExitStack() as stack:
        url = url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(
            f"preparing {rounds} x {count} queued messages in {url.split(':')[0]} ...", flush=True
        )
        factory = prepare_database(url, count, rounds)
        simulator = Simulator()
        try:
            if args.no_jasmin:
                print("Jasmin: not measured (--no-jasmin)", flush=True)
                jasmin = None
            else:
                jasmin = start_jasmin(stack, Path(tmp), simulator.port, args.jasmin_connectors)
            ratios, jasmin_ratios = [], []
            expected = 0  # submits the simulator must have taken so far
            for index in range(rounds):
                bare, bare_cpu = with_cpu(
                    simulator,
                    count,
                    functools.partial(
                        bare_loop, simulator.port, count, args.window, first=index * count
                    ),
                )
                ours, ours_cpu = with_cpu(
                    simulator,
                    count,
                    functools.partial(
                        pipeline, factory, simulator.port, count, args.window, route_name(index)
                    ),
                )
                expected += 2 * count
                ratios.append(ours / bare)
                line = (
                    f"round {index + 1}: bare smpplib loop {bare:8,.0f} msg/s, "
                    f"operateur pipeline {ours:8,.0f} msg/s (persisted and tracked), "
                    f"ratio {ours / bare:.0%}"
                )
                if jasmin is not None:
                    expected += count
                    theirs = jasmin_side(
                        jasmin, simulator, count, args.window, index * count, expected
                    )
                    jasmin_ratios.append(ours / theirs)
                    line += f"; Jasmin {theirs:8,.0f} msg/s, operateur / Jasmin {ours / theirs:.2f}"
                print(line, flush=True)
                print(
                    f"  CPU per message: bare loop {bare_cpu[0]:,.0f} µs + simulator"
                    f" {bare_cpu[1]:,.0f} µs; operateur {ours_cpu[0]:,.0f} µs + simulator"
                    f" {ours_cpu[1]:,.0f} µs",
                    flush=True,
                )
        finally:
            stack.close()  # Jasmin first: its connector is bound to the simulator
            counts = simulator.stop()
        print(
            f"ratio operateur / bare: {statistics.median(ratios):.0%} median of {rounds} rounds"
            f" (min {min(ratios):.0%}, max {max(ratios):.0%}; goal >= 80 %)"
        )
        if jasmin_ratios:
            print(
                f"ratio operateur / Jasmin: {statistics.median(jasmin_ratios):.2f} median of"
                f" {rounds} rounds (min {min(jasmin_ratios):.2f}, max {max(jasmin_ratios):.2f})"
            )

        problems = check(factory, rounds * count)
        if counts["submits"] != expected or counts["distinct_messages"] != expected:
            problems.append(f"the simulator took {counts}, expected {expected} distinct")
        for problem in problems:
            print("ERROR:", problem)
        return 1 if problems else 0


def start_jasmin(
    stack: contextlib.ExitStack, tmp: Path, smsc_port: int, connectors: int
) -> jasmin_gateway.Jasmin | None:
    """Jasmin in front of the simulator, stopped with ``stack``; None, with the reason
    printed, when it cannot run here."""
    print(f"starting Jasmin (RabbitMQ, Redis, jasmind, {connectors} connector(s)) ...", flush=True)
    workdir = tmp / "jasmin"
    workdir.mkdir()
    try:
        return stack.enter_context(jasmin_gateway.Jasmin(workdir, smsc_port, connectors))
    except jasmin_gateway.Unavailable as why:
        print(f"Jasmin: not measured ({why})", flush=True)
        return None


if __name__ == "__main__":
    os.environ.setdefault("OPERATEUR_LOG_LEVEL", "WARNING")
    sys.exit(main())
