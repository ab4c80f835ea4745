"""Benchmark: call control's ``authorize`` — authorizations per second and p50/p99 latency.

    python bench/voice_authorize_engine.py [--calls N] [--http-calls N] [--concurrency C]
                                           [--workers W] [--no-redis]

Builds a migrated SQLite database in a temporary directory with a CPaaS customer (rate deck,
assigned caller ID, limits raised by contract overrides so that every call is admitted: the
allowed path is the one that does all the work) and measures, in one run:

1. the in-process engine (``VoiceControl.authorize``) with in-process counters;
2. the same engine with Redis counters (a throwaway ``redis-server`` on loopback), unless
   ``--no-redis`` or the server is not installed;
3. through HTTP: ``operateur.app:create_served_app`` served by uvicorn on loopback (one worker with
   in-process counters), driven by an httpx client with keep-alive and C concurrent requests;
4. through HTTP with W uvicorn workers sharing Redis counters (when Redis is available).

Each call is a distinct call id that stays live (no ``end``): the counters grow as in a busy
system. Prints, for each, authorizations per second, p50 and p99 latency, and the ratio to the
reference figure of a charging engine, 5,000 authorizations per second on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

import httpx

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import CustomerIn, OperatorIn
from operateur.billing import usage
from operateur.catalog.terms import PaymentMethod
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.models import LineKind
from operateur.contracts.schemas import LineIn
from operateur.db import make_engine, make_session_factory, transaction, utcnow
from operateur.domain.calendar import PARIS
from operateur.migrations import upgrade_engine
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberStatus, NumberTier
from operateur.testing.ports import free_port
from operateur.testing.redis import RedisServer
from operateur.voice.control import AuthorizeRequest, VoiceControl
from operateur.voice.counters import Counters, InProcessCounters, RedisCounters

REFERENCE_PER_SECOND = 5_000
CALLER = "+33162000001"
DECK = """prefix,destination,price_per_minute,connection_fee,steps,min_seconds
33,France fixe,0.012,0,60/60,0
336,France mobile,0.05,0.01,30/6,0
337,France mobile,0.05,0.01,30/6,0
32,Belgique,0.03,0,60/60,0
"""
CALLEES = ("+33145000000", "+33612345678", "+3222000000", "+33756000000")
UNLIMITED = {
    "limits": {
        "calls_per_second": 1_000_000,
        "concurrent_calls_per_account": 1_000_000,
    }
}


def build_world(url: str) -> tuple[str, str]:
    """Create the customer, its line, number and deck; return (line, staff API key)."""
    engine = make_engine(url)
    upgrade_engine(engine)
    audit.install()
    try:
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
                    name="Centre d'appels",
                    legal_form="SAS",
                    siren="552100554",
                    address_line="1 rue du Client",
                    postal_code="75001",
                    city="Paris",
                    email="compta@client-bench.fr",
                    payment_method=PaymentMethod.TRANSFER,
                ),
            )
            contract = contracts.create_contract(session, customer, "cpaas", UNLIMITED)
            contracts.sign(
                session,
                contract,
                "Bench",
                datetime.combine(date(2026, 1, 5), clock_time(9), tzinfo=PARIS),
            )
            contracts.activate(session, contract, date(2026, 1, 5))
            line = contracts.create_line(
                session,
                customer.id,
                LineIn(contract_id=contract.id, kind=LineKind.TRUNK, label="Trunk"),
            )
            (number,) = numbers.add_to_stock(session, [CALLER], NumberTier.STANDARD)
            number.status = NumberStatus.ASSIGNED
            number.customer_id = customer.id
            number.line_id = line.id
            number.assigned_at = utcnow()
            usage.publish_deck(session, DECK, name="Bench", customer_id=customer.id)
            _, key = accounts.create_api_key(
                session,
                system_actor(),
                operator_id=operator.id,
                customer_id=None,
                name="kamailio",
                role=Role.NETWORK,
            )
            return line.sip_username, key
    finally:
        engine.dispose()


def summary(name: str, latencies: list[float], elapsed: float, allowed: int) -> None:
    count = len(latencies)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(count - 1, int(count * 0.99))] * 1000
    rate = count / elapsed
    print(
        f"{name:<44} {rate:>9,.0f} auth/s  p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  "
        f"ratio to 5,000/s {rate / REFERENCE_PER_SECOND:5.2f}  ({allowed}/{count} allowed)"
    )


def bench_engine(name: str, url: str, line: str, counters: Counters, calls: int) -> None:
    engine = make_engine(url)
    settings = Settings(database_url=url, voice_cache_seconds=3600)
    control = VoiceControl(make_session_factory(engine), counters, settings)
    try:
        control.authorize(AuthorizeRequest("warm-up", line, CALLER, CALLEES[0]))  # fills the cache
        latencies: list[float] = []
        allowed = 0
        started = time.perf_counter()
        for n in range(calls):
            request = AuthorizeRequest(f"{name}-{n}", line, CALLER, CALLEES[n % len(CALLEES)])
            before = time.perf_counter()
            decision = control.authorize(request)
            latencies.append(time.perf_counter() - before)
            allowed += decision.allow
        summary(name, latencies, time.perf_counter() - started, allowed)
    finally:
        counters.clear()
        engine.dispose()


def start_server(
    url: str, port: int, workers: int, redis_url: str | None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OPERATEUR_DATABASE_URL": url,
        "OPERATEUR_LOG_LEVEL": "WARNING",
        "OPERATEUR_VOICE_CACHE_SECONDS": "3600",
        "OPERATEUR_VOICE_AUTH_CACHE_SECONDS": "3600",
    }
    env.pop("OPERATEUR_REDIS_URL", None)
    if redis_url:
        env["OPERATEUR_REDIS_URL"] = redis_url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "operateur.app:create_served_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_server(process)
    raise RuntimeError("uvicorn did not start")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def _drive(name: str, port: int, key: str, line: str, calls: int, concurrency: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    allowed = 0
    counter = iter(range(calls))

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=30
    ) as client:

        async def one(call_id: str, callee: str) -> None:
            nonlocal allowed
            body = {"call_id": call_id, "line": line, "caller": CALLER, "callee": callee}
            before = time.perf_counter()
            response = await client.post("/api/v1/voice/authorize", json=body)
            latencies.append(time.perf_counter() - before)
            response.raise_for_status()
            allowed += response.json()["allow"]

        for n in range(concurrency * 4):  # warm-up: connections, caches of every worker
            await one(f"{name}-warm-{n}", CALLEES[0])
        latencies.clear()
        allowed = 0

        async def worker() -> None:
            for n in counter:
                await one(f"{name}-{n}", CALLEES[n % len(CALLEES)])

        before = await _server_seconds(client)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        after = await _server_seconds(client)
    summary(name, latencies, elapsed, allowed)
    total, count = after[0] - before[0], after[1] - before[1]
    if count:
        print(
            f"{'  server side (Prometheus histogram of one worker)':<44} "
            f"mean {total / count * 1000:.3f} ms per authorize over {count:.0f} requests"
        )


async def _server_seconds(client: httpx.AsyncClient) -> tuple[float, float]:
    """(sum of seconds, count) of the authorize route in the server's /metrics."""
    text = (await client.get("/metrics")).text
    values = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for kind in values:
            prefix = f"operateur_http_request_seconds_{kind}{{"
            if line.startswith(prefix) and 'route="/api/v1/voice/authorize"' in line:
                values[kind] = float(line.rsplit(" ", 1)[1])
    return values["sum"], values["count"]


def bench_http(
    name: str,
    url: str,
    line: str,
    key: str,
    calls: int,
    concurrency: int,
    workers: int,
    redis_url: str | None,
) -> None:
    port = free_port()
    process = start_server(url, port, workers, redis_url)
    try:
        asyncio.run(_drive(name, port, key, line, calls, concurrency))
    finally:
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50_000, help="engine authorizations")
    parser.add_argument("--http-calls", type=int, default=10_000, help="HTTP authorizations")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent HTTP requests")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers with Redis")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis runs")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="operateur-bench-voice-"))
    url = f"sqlite:///{root / 'operateur.db'}"
    redis: RedisServer | None = None
    try:
        line, key = build_world(url)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPU(s), load average {load}; database: SQLite")
        bench_engine("engine, in-process counters", url, line, InProcessCounters(), args.calls)
        redis_url = None
        if not args.no_redis and shutil.which("redis-server"):
            redis = RedisServer()
            redis_url = redis.start()
            bench_engine(
                "engine, Redis counters", url, line, RedisCounters(redis_url), args.calls // 5
            )
        bench_http(
            f"HTTP, 1 uvicorn worker, in-process, C={args.concurrency}",
            url,
            line,
            key,
            args.http_calls,
            args.concurrency,
            1,
            None,
        )
        if redis_url:
            bench_http(
                f"HTTP, {args.workers} uvicorn workers, Redis, C={args.concurrency}",
                url,
                line,
                key,
                args.http_calls,
                args.concurrency,
                args.workers,
                redis_url,
            )
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
