"""Benchmark: what the HTTP layer costs on top of call control's engine.

    python bench/http_overhead.py [--calls N] [--http-calls N] [--concurrency C]

Builds the world of ``bench/voice_authorize_engine.py`` (a migrated SQLite database in a
temporary directory, a CPaaS customer whose every call is admitted, the proxy's API key) and
measures, in one run:

1. the engine alone: ``VoiceControl.authorize`` in process (the floor);
2. the application in process: called as an ASGI callable, one request after the other,
   without socket or client (what the framework, middleware and dependencies add), first a
   bare FastAPI application with the same two routes (health, an authorize-shaped POST with a
   pydantic body, nothing of operateur: the floor of the framework on this machine), then
   ``create_app``;
3. the same two applications served by uvicorn (one worker; operateur with in-process
   counters) on loopback, with C keep-alive connections each sending one request after the
   other: first with a lean client (prepared requests, replies parsed by httptools); then
   operateur with that client opening a TCP connection per request, as Kamailio's
   ``http_client_query()`` does; then operateur with the httpx client of
   ``bench/voice_authorize_engine.py``. On a machine of 2
   cores the client shares the cores with the server: httpx spends more CPU per request than
   the server does, so with it the rate measures the client as much as the server.

For each: requests per second, p50 and p99 latency, the CPU time per request of the process
that serves (the figure least disturbed by a loaded machine), for authorize the ratio of that
CPU time to the engine's, and for uvicorn the client's CPU time per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httptools
import httpx
from cpu import process_cpu
from fastapi import FastAPI
from pydantic import BaseModel
from voice_authorize_engine import (
    CALLEES,
    CALLER,
    build_world,
    start_server,
    stop_server,
)

from operateur.app import create_app
from operateur.config import Settings
from operateur.db import make_engine, make_session_factory
from operateur.testing.ports import free_port
from operateur.voice.control import AuthorizeRequest, VoiceControl
from operateur.voice.counters import InProcessCounters


class Figures:
    """Latencies of one series and the CPU seconds the serving side spent on it."""

    def __init__(self, name: str, latencies: list[float], elapsed: float, cpu: float) -> None:
        self.name = name
        self.count = len(latencies)
        ordered = sorted(latencies)
        self.rate = self.count / elapsed
        self.p50 = statistics.median(ordered) * 1000
        self.p99 = ordered[min(self.count - 1, int(self.count * 0.99))] * 1000
        self.cpu_ms = cpu / self.count * 1000
        self.client_cpu_ms: float | None = None

    def show(self, engine_ms: float | None = None) -> None:
        ratio = f"  {self.cpu_ms / engine_ms:5.1f}x engine" if engine_ms else ""
        client = f"  (client {self.client_cpu_ms:.3f})" if self.client_cpu_ms else ""
        print(
            f"{self.name:<50} {self.rate:>7,.0f} req/s  p50 {self.p50:7.3f} ms  "
            f"p99 {self.p99:7.3f} ms  CPU {self.cpu_ms:5.3f} ms/req{ratio}{client}",
            flush=True,
        )


def _body(call_id: str, line: str, n: int) -> dict[str, str]:
    return {"call_id": call_id, "line": line, "caller": CALLER, "callee": CALLEES[n % 4]}


# --- 1. the engine ------------------------------------------------------------------------------


def bench_engine(url: str, line: str, calls: int) -> Figures:
    engine = make_engine(url)
    settings = Settings(database_url=url, voice_cache_seconds=3600)
    control = VoiceControl(make_session_factory(engine), InProcessCounters(), settings)
    try:
        control.authorize(AuthorizeRequest("warm-up", line, CALLER, CALLEES[0]))
        latencies: list[float] = []
        cpu, started = time.process_time(), time.perf_counter()
        for n in range(calls):
            request = AuthorizeRequest(f"engine-{n}", line, CALLER, CALLEES[n % 4])
            before = time.perf_counter()
            control.authorize(request)
            latencies.append(time.perf_counter() - before)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return Figures("engine, in process", latencies, elapsed, cpu)
    finally:
        engine.dispose()


# --- 2. the application as an ASGI callable -----------------------------------------------------


async def _asgi_call(app: Any, method: str, path: str, key: str, body: bytes = b"") -> int:
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _series(
    name: str, calls: int, one: Callable[[int], Awaitable[int]], cpu_of: Callable[[], float]
) -> Figures:
    latencies: list[float] = []
    cpu, started = cpu_of(), time.perf_counter()
    for n in range(calls):
        before = time.perf_counter()
        status = await one(n)
        latencies.append(time.perf_counter() - before)
        if status != 200:
            raise RuntimeError(f"{name}: HTTP {status}")
    return Figures(name, latencies, time.perf_counter() - started, cpu_of() - cpu)


def bench_in_process(label: str, app: Any, line: str, key: str, calls: int) -> list[Figures]:

    def authorize(prefix: str) -> Callable[[int], Awaitable[int]]:
        def one(n: int) -> Awaitable[int]:
            body = json.dumps(_body(f"{prefix}-{n}", line, n)).encode()
            return _asgi_call(app, "POST", "/api/v1/voice/authorize", key, body)

        return one

    async def run() -> list[Figures]:
        for n in range(50):  # warm-up: lazy route set-up, caches, thread pool
            await _asgi_call(app, "GET", "/api/v1/health", key)
            await authorize("warm")(n)
        return [
            await _series(
                f"{label}, health",
                calls,
                lambda n: _asgi_call(app, "GET", "/api/v1/health", key),
                time.process_time,
            ),
            await _series(f"{label}, authorize", calls, authorize(label), time.process_time),
        ]

    return asyncio.run(run())


# --- 3 and 4. uvicorn and an httpx keep-alive client --------------------------------------------


class AuthorizeBody(BaseModel):
    call_id: str
    line: str
    caller: str
    callee: str
    source_ip: str | None = None


def bare_app() -> FastAPI:
    """The floor: FastAPI with the two routes and nothing else (``--factory`` target)."""
    app = FastAPI()

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/voice/authorize")
    def authorize(body: AuthorizeBody) -> dict[str, Any]:
        return {"allow": True, "code": 200, "reason": body.call_id, "max_duration": 3600}

    return app


class LeanConnection:
    """One keep-alive HTTP/1.1 connection sending prepared requests and parsing the replies
    with httptools (the parser uvicorn uses): a client that costs little CPU per request, so
    that on a machine of 2 cores the server, not the client, is what is measured."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.status = 0
        self.done = False
        self.parser = httptools.HttpResponseParser(self)

    @classmethod
    async def open(cls, port: int) -> LeanConnection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    def on_message_complete(self) -> None:  # httptools callback
        self.done = True

    async def request(self, raw: bytes) -> int:
        self.done = False
        self.writer.write(raw)
        while not self.done:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            self.parser.feed_data(data)
        return int(self.parser.get_status_code())

    def close(self) -> None:
        self.writer.close()


def _raw_request(
    method: str, path: str, key: str, body: bytes = b"", *, close: bool = False
) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
    if close:
        head += "Connection: close\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _drive(
    label: str,
    port: int,
    pid: int,
    key: str,
    line: str,
    calls: int,
    concurrency: int,
    client: str,
) -> list[Figures]:
    health_request = _raw_request("GET", "/api/v1/health", key)
    health_close = _raw_request("GET", "/api/v1/health", key, close=True)

    def authorize_request(n: int, close: bool = False) -> bytes:
        body = json.dumps(_body(f"{label}-{n}", line, n)).encode()
        return _raw_request("POST", "/api/v1/voice/authorize", key, body, close=close)

    async def series(name: str, send: Callable[[int, int], Awaitable[int]]) -> Figures:
        latencies: list[float] = []
        counter = iter(range(calls))

        async def worker(slot: int) -> None:
            for n in counter:
                before = time.perf_counter()
                status = await send(slot, n)
                latencies.append(time.perf_counter() - before)
                if status != 200:
                    raise RuntimeError(f"{name}: HTTP {status}")

        for n in range(4):  # warm-up on every connection
            await asyncio.gather(*(send(slot, -1 - n * concurrency - slot) for slot in slots))
        cpu, client_cpu, started = process_cpu(pid), time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(slot) for slot in slots))
        elapsed = time.perf_counter() - started
        figures = Figures(name, latencies, elapsed, process_cpu(pid) - cpu)
        figures.client_cpu_ms = (time.process_time() - client_cpu) / figures.count * 1000
        return figures

    slots = range(concurrency)
    if client == "lean":
        connections = [await LeanConnection.open(port) for _ in slots]
        try:
            return [
                await series(
                    f"{label}, health",
                    lambda slot, n: connections[slot].request(health_request),
                ),
                await series(
                    f"{label}, authorize",
                    lambda slot, n: connections[slot].request(authorize_request(n)),
                ),
            ]
        finally:
            for connection in connections:
                connection.close()

    if client == "connect":  # a TCP connection per request, as Kamailio's http_client does

        async def once(raw: bytes) -> int:
            connection = await LeanConnection.open(port)
            try:
                return await connection.request(raw)
            finally:
                connection.close()

        return [
            await series(f"{label}, health", lambda slot, n: once(health_close)),
            await series(
                f"{label}, authorize", lambda slot, n: once(authorize_request(n, close=True))
            ),
        ]

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {key}"},
        limits=limits,
        timeout=60,
    ) as http:

        async def health(slot: int, n: int) -> int:
            return (await http.get("/api/v1/health")).status_code

        async def authorize(slot: int, n: int) -> int:
            body = _body(f"{label}-{n}", line, n)
            return (await http.post("/api/v1/voice/authorize", json=body)).status_code

        return [
            await series(f"{label}, health", health),
            await series(f"{label}, authorize", authorize),
        ]


def bench_uvicorn(
    label: str,
    url: str,
    line: str,
    key: str,
    calls: int,
    concurrency: int,
    bare: bool,
    client: str,
) -> list[Figures]:
    port = free_port()
    process = start_bare_server(port) if bare else start_server(url, port, 1, None)
    try:
        drive = _drive(label, port, process.pid, key, line, calls, concurrency, client)
        return asyncio.run(drive)
    finally:
        stop_server(process)


def start_bare_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "http_overhead:bare_app",
            "--factory",
            "--app-dir",
            str(Path(__file__).parent),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="engine authorizations")
    parser.add_argument("--http-calls", type=int, default=3_000, help="requests per series")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent HTTP requests")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="operateur-bench-http-"))
    url = f"sqlite:///{root / 'operateur.db'}"
    try:
        line, key = build_world(url)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPU(s), load average {load}; database: SQLite")
        engine = bench_engine(url, line, args.calls)
        engine.show()
        engine_ms = engine.cpu_ms
        settings = Settings(
            database_url=url, voice_cache_seconds=3600, voice_auth_cache_seconds=3600
        )
        for label, app in (
            ("bare FastAPI, in process (ASGI call)", bare_app()),
            ("in process (ASGI call)", create_app(settings)),
        ):
            for figures in bench_in_process(label, app, line, key, args.http_calls):
                figures.show(engine_ms if "authorize" in figures.name else None)
        c = args.concurrency
        for label, bare, client in (
            (f"bare FastAPI, uvicorn, lean client, C={c}", True, "lean"),
            (f"uvicorn, lean client, C={c}", False, "lean"),
            (f"uvicorn, connection per request, C={c}", False, "connect"),
            (f"uvicorn, httpx client, C={c}", False, "httpx"),
        ):
            for figures in bench_uvicorn(label, url, line, key, args.http_calls, c, bare, client):
                figures.show(engine_ms if "authorize" in figures.name else None)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
