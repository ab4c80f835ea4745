"""Benchmark: real SIP calls through Kamailio on loopback, three ways in one run, then
``authorize`` alone.

    python bench/voice_authorize.py [--seconds S] [--concurrency C] [--children N]
                                    [--workers W] [--engine-calls N] [--skip-engine]

SIPp (``uac_hangup.xml``, zero hold: INVITE, 200, ACK, BYE) keeps C calls in flight through the
shipped Kamailio configuration (``deploy/kamailio/kamailio.cfg``, N SIP workers) to a SIPp
callee, for S seconds each:

1. ``relay``: Kamailio relaying alone (dialogs tracked, nothing asked: ``-A BENCH_RELAY_ONLY``);
2. ``operateur (HTTP)``: Kamailio asking operateur (``authorize``, ``answer``, ``end`` over
   HTTP) — every rule checked, every call rated and written as a usage record; operateur served
   by uvicorn with W workers (in-process counters for one worker, Redis beyond) on SQLite;
3. ``operateur (evapi)``: the same questions and reports over Kamailio's event socket
   (``OPERATEUR_SIP_EVAPI_LISTEN``; ``operateur.voice.proxy_link``): calls suspended while
   operateur answers, reports acknowledged;
4. ``cnxcc``: Kamailio with its own in-process credit control, the cnxcc module on Redis
   (``-A BENCH_CNXCC``).

It prints the sustained calls per second of each (completed calls after a warm-up, divided by
the time), the failed calls, the CPU time per call of each process taking part (Kamailio with
its workers, operateur, Redis, SIPp's caller and callee: the machine's cores are shared by all
of them, so the rates follow their sum), and the ratios; the goal is operateur >= cnxcc (the
better of operateur's two transports: a deployment picks one). Every call operateur admitted is
checked to have its usage record. Then it runs
``bench/voice_authorize_engine.py`` (authorizations per second and p50/p99 latency of
``authorize`` alone, in process and over HTTP) with ``--engine-calls``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
from cpu import cpu_of, processes
from sqlalchemy import create_engine, func, select

from operateur.billing.models import UsageRecord
from operateur.testing.ports import free_port
from operateur.testing.redis import RedisServer
from operateur.testing.sip import (
    SCENARIOS,
    Kamailio,
    OperateurServer,
    SippCallee,
)

HERE = Path(__file__).resolve().parent
CALLEE = "+33145000000"
WARM_UP_SECONDS = 3.0


def low_port() -> int:
    """A free loopback port below 32768: cnxcc keeps the Redis port in a signed short."""
    for port in range(20_000, 32_000, 7):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")


def engine_bench() -> ModuleType:
    """``bench/voice_authorize_engine.py`` (the VOICE-CORE benchmark), for its test world."""
    spec = importlib.util.spec_from_file_location(
        "voice_authorize_engine", HERE / "voice_authorize_engine.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Run:
    name: str
    calls_per_second: float
    completed: int
    failed: int
    alive: bool  # Kamailio still running at the end


def _stats(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _seconds(elapsed: str) -> float:
    """SIPp's ``ElapsedTime(C)``: ``HH:MM:SS`` then ``:uuuuuu`` or ``.uuuuuu``."""
    parts = elapsed.replace(".", ":").split(":")
    hours, minutes, seconds = (int(part) for part in parts[:3])
    fraction = float("0." + parts[3]) if len(parts) > 3 else 0.0
    return hours * 3600 + minutes * 60 + seconds + fraction


def drive(
    proxy: Kamailio, line: str, caller: str, *, seconds: float, concurrency: int
) -> tuple[float, int, int]:
    """Keep ``concurrency`` zero-hold calls in flight through ``proxy`` for ``seconds``;
    (calls per second after the warm-up, calls completed, calls failed)."""
    root = Path(tempfile.mkdtemp(prefix="operateur-bench-sipp-"))
    stats = root / "stats.csv"
    command = [
        shutil.which("sipp") or "sipp",
        f"127.0.0.1:{proxy.port}",
        "-sf",
        str(SCENARIOS / "uac_hangup.xml"),
        "-s",
        CALLEE,
        "-key",
        "line",
        line,
        "-key",
        "caller",
        caller,
        "-d",
        "0",
        "-r",
        "100000",  # no pacing: -l keeps the calls in flight
        "-l",
        str(concurrency),
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_port()),
        "-nostdin",
        "-timeout",
        f"{int(seconds)}s",
        "-trace_stat",
        "-stf",
        str(stats),
        "-fd",
        "1",
    ]
    try:
        subprocess.run(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=root,
            timeout=seconds + 120,
            check=False,
        )
        rows = _stats(stats)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if len(rows) < 2:
        return 0.0, 0, 0
    points = [
        (_seconds(r["ElapsedTime(C)"]), int(r["SuccessfulCall(C)"]), int(r["FailedCall(C)"]))
        for r in rows
    ]
    start = next((p for p in points if p[0] >= WARM_UP_SECONDS), points[0])
    end = points[-1]
    elapsed = end[0] - start[0]
    rate = (end[1] - start[1]) / elapsed if elapsed > 0 else 0.0
    return rate, end[1], end[2]


UNUSED_API = "http://127.0.0.1:9/api/v1"  # the runs that never ask operateur over HTTP


def proxy_for(
    callee: SippCallee,
    args: argparse.Namespace,
    *,
    defines: Sequence[str] = (),
    api_url: str = UNUSED_API,
    api_key: str = "unused",
    evapi: bool = False,
) -> Kamailio:
    return Kamailio(
        api_url=api_url,
        api_key=api_key,
        gateway_port=callee.port,
        children=args.children,
        defines=defines,
        shm_mb=2048,  # NOTES: shared memory for thousands of dialogs a second
        evapi=evapi,
    )


def children_cpu() -> float:
    """CPU seconds of this process's finished children (SIPp's caller, once it has ended)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_mode(
    name: str,
    proxy: Kamailio,
    *,
    line: str,
    caller: str,
    args: argparse.Namespace,
    watch: Mapping[str, int | None],
) -> Run:
    """Drive calls through ``proxy`` (started here unless it runs already), then stop it.
    Prints the rate, then the CPU time per call of Kamailio, of the ``watch`` processes and of
    SIPp's caller: on this 2-core machine the rates are bound by their sum."""
    try:
        if not proxy.running:
            proxy.start()
        roots = {"Kamailio": proxy.pid, **watch}
        before, caller_before = processes(), children_cpu()
        rate, completed, failed = drive(
            proxy, line, caller, seconds=args.seconds, concurrency=args.concurrency
        )
        after, caller_after = processes(), children_cpu()
        result = Run(name, rate, completed, failed, proxy.running)
    finally:
        proxy.close()
    crashed = "" if result.alive else "  KAMAILIO DIED"
    print(
        f"{name:<42} {result.calls_per_second:>8,.0f} calls/s  "
        f"({result.completed:,} completed, {result.failed:,} failed){crashed}",
        flush=True,
    )
    calls = max(1, completed + failed)
    spent = {who: cpu_of(after, pid) - cpu_of(before, pid) for who, pid in roots.items()}
    spent["SIPp caller"] = caller_after - caller_before
    print(
        f"{'  CPU per call':<42} "
        + ", ".join(f"{who} {seconds / calls * 1e6:,.0f} µs" for who, seconds in spent.items()),
        flush=True,
    )
    return result


def billed_calls(url: str) -> int:
    """Usage records operateur wrote (every call it admitted, answered or not)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(UsageRecord)) or 0)
    finally:
        engine.dispose()


def server_times(server: OperateurServer) -> str:
    """Mean time operateur spent per request of each call-control route (its /metrics)."""
    text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=30).text
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        for route in ("authorize", "answer", "end"):
            if f'route="/api/v1/voice/{route}"' not in line:
                continue
            if line.startswith("operateur_http_request_seconds_sum{"):
                sums[route] = sums.get(route, 0.0) + float(line.rsplit(" ", 1)[1])
            elif line.startswith("operateur_http_request_seconds_count{"):
                counts[route] = counts.get(route, 0.0) + float(line.rsplit(" ", 1)[1])
    return ", ".join(
        f"{route} {sums[route] / counts[route] * 1000:.1f} ms"
        for route in ("authorize", "answer", "end")
        if counts.get(route)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of each SIP run")
    parser.add_argument("--concurrency", type=int, default=32, help="calls kept in flight")
    parser.add_argument("--children", type=int, default=8, help="Kamailio SIP workers")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of operateur")
    parser.add_argument(
        "--engine-calls", type=int, default=10_000, help="authorizations of the engine bench"
    )
    parser.add_argument("--skip-engine", action="store_true", help="no authorize-alone bench")
    args = parser.parse_args()

    engine = engine_bench()
    root = Path(tempfile.mkdtemp(prefix="operateur-bench-sip-"))
    url = f"sqlite:///{root / 'operateur.db'}"
    redis = RedisServer()
    redis.port = low_port()
    callee = SippCallee()
    runs: dict[str, Run] = {}
    try:
        line, key = engine.build_world(url)
        caller = engine.CALLER
        redis_url = redis.start()
        callee.start()
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"machine: {os.cpu_count()} CPU(s), load average {load}; {args.seconds:.0f} s a "
            f"run, {args.concurrency} calls in flight, {args.children} Kamailio workers; "
            f"operateur: {args.workers} uvicorn worker(s), SQLite",
            flush=True,
        )
        at = {"line": line, "caller": caller, "args": args}
        callee_only = {"SIPp callee": callee.pid}
        shared_counters = {"Redis": redis.pid} if args.workers > 1 else {}
        runs["relay"] = bench_mode(
            "Kamailio relaying alone",
            proxy_for(callee, args, defines=["BENCH_RELAY_ONLY"]),
            watch=callee_only,
            **at,
        )
        server_env = {
            "OPERATEUR_VOICE_CACHE_SECONDS": "3600",
            "OPERATEUR_VOICE_AUTH_CACHE_SECONDS": "3600",
        }
        if args.workers > 1:
            server_env["OPERATEUR_REDIS_URL"] = redis_url  # counters shared by the workers
        with OperateurServer(url, workers=args.workers, env=server_env) as server:
            runs["http"] = bench_mode(
                "Kamailio asking operateur (HTTP)",
                proxy_for(callee, args, api_url=server.api_url, api_key=key),
                watch={"operateur": server.pid, **shared_counters, **callee_only},
                **at,
            )
            print(f"{'  operateur, mean time per request':<42} {server_times(server)}")
        proxy = proxy_for(callee, args, evapi=True).start()
        evapi_env = {**server_env, "OPERATEUR_SIP_EVAPI": f"127.0.0.1:{proxy.evapi_port}"}
        with OperateurServer(url, workers=args.workers, env=evapi_env) as server:
            proxy.wait_for_link(args.workers)
            runs["evapi"] = bench_mode(
                "Kamailio asking operateur (evapi)",
                proxy,
                watch={"operateur": server.pid, **shared_counters, **callee_only},
                **at,
            )
        runs["cnxcc"] = bench_mode(
            "Kamailio with cnxcc (Redis)",
            proxy_for(
                callee,
                args,
                defines=["BENCH_CNXCC", f'CNXCC_REDIS="addr=127.0.0.1;port={redis.port};db=1"'],
            ),
            watch={"Redis": redis.pid, **callee_only},
            **at,
        )
        billed = billed_calls(url)
    finally:
        callee.close()
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)

    def ratio(a: str, b: str) -> str:
        below = runs[b].calls_per_second
        return f"{runs[a].calls_per_second / below:5.2f}" if below else "  n/a"

    print(
        f"usage records written by operateur: {billed:,} (calls completed through it: "
        f"{runs['http'].completed + runs['evapi'].completed:,})"
    )
    print(f"ratio operateur HTTP / relay alone:  {ratio('http', 'relay')}")
    print(f"ratio operateur evapi / relay alone: {ratio('evapi', 'relay')}")
    print(f"ratio cnxcc / relay alone:           {ratio('cnxcc', 'relay')}")
    print(f"ratio operateur HTTP / cnxcc:        {ratio('http', 'cnxcc')}")
    print(f"ratio operateur evapi / cnxcc:       {ratio('evapi', 'cnxcc')}  (goal >= 1.00)")

    if not args.skip_engine:
        print("\nauthorize alone (bench/voice_authorize_engine.py):", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "voice_authorize_engine.py"),
                "--calls",
                str(args.engine_calls),
                "--http-calls",
                str(max(1000, args.engine_calls // 4)),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
