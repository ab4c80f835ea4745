"""Jasmin (the open-source SMS gateway, PyPI ``jasmin``) set up on loopback for the SMS
benchmark, in front of the same SMSC simulator as the other columns.

What it needs, and where it comes from:

- Debian's ``rabbitmq-server`` (``apt-get install -y rabbitmq-server``) and ``redis-server``.
  The bench starts its own throwaway RabbitMQ node and Redis in a temporary directory, on free
  loopback ports, and stops them (and the node's ``epmd``) at the end. RabbitMQ is run through
  ``/usr/lib/rabbitmq/bin/rabbitmq-server``: the ``/usr/sbin`` wrapper would switch to the
  ``rabbitmq`` user and its system directories.
- Jasmin itself, in a virtualenv of its own (it pulls Twisted, txAMQP, …, which have no place
  in operateur's): built the first time under ``~/.cache/operateur-bench/jasmin-venv`` with
  ``python3 -m venv`` and ``pip install jasmin==0.11.1``.

``jasmind`` runs with a configuration file pointing at them (no interceptor; its SMPP server,
HTTP API and jCli on free loopback ports; every path under the temporary directory). Through
jCli (its admin console, telnet on loopback) the bench adds an SMPP client connector to the
simulator without throughput limit (or several), a group and user, and an MT route: the
default route to the one connector, or a random round-robin over several.

Messages go in through Jasmin's SMPP server (its fast path: one bind, a window of outstanding
submit_sm, like the bare loop) and out through the connector to the simulator. Jasmin answers
each submit_sm once the message is queued in RabbitMQ; the rate counts until the simulator has
received all of them.

Known defect of Jasmin 0.11.1 (github.com/jookies/jasmin/issues/1236): after each
submit_sm_resp from the SMSC, ``messages.log`` shows ``'SubmitSM' object has no attribute
'response'``. The message was sent, answered and acknowledged in RabbitMQ before the failing
line; what is skipped is the DLR bookkeeping (one AMQP publish per message, unused here: no
receipts are asked for), so a fixed Jasmin would do slightly more work per message.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from operateur.testing.ports import free_port

JASMIN_VERSION = "0.11.1"
RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "operateur-bench"
VENV = CACHE / "jasmin-venv"
USER = "bench"  # Jasmin user (SMPP server bind) and connector credentials
PASSWORD = "bench"
CONNECTOR = "smsc"


class Unavailable(RuntimeError):
    """Jasmin cannot be measured on this machine; the message says why."""


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"{what} exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise Unavailable(f"{what} did not listen on port {port} within {timeout:.0f} s")


def ensure_venv() -> Path:
    """Jasmin's virtualenv, built the first time; its Python interpreter."""
    python = VENV / "bin" / "python"
    marker = VENV / f"jasmin-{JASMIN_VERSION}.installed"
    if marker.exists():
        return python
    print(f"building Jasmin {JASMIN_VERSION}'s virtualenv in {VENV} ...", flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    for command in (
        ["python3", "-m", "venv", str(VENV)],
        [str(python), "-m", "pip", "install", "-q", f"jasmin=={JASMIN_VERSION}"],
    ):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            raise Unavailable(f"{' '.join(command[:3])} failed: {lines[-1]}")
    marker.touch()
    return python


class Jasmin:
    """RabbitMQ, Redis and jasmind in ``workdir``, relaying to the SMSC on ``smsc_port``.

    ``smpp_port`` is Jasmin's SMPP server, where ``USER``/``PASSWORD`` bind."""

    def __init__(self, workdir: Path, smsc_port: int, connectors: int = 1) -> None:
        self.workdir = workdir
        self.smsc_port = smsc_port
        self.connectors = [f"{CONNECTOR}{index + 1}" for index in range(connectors)]
        self.smpp_port = free_port()
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._epmd_port = 0

    def __enter__(self) -> Jasmin:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if not RABBITMQ_SERVER.exists():
            raise Unavailable(f"{RABBITMQ_SERVER} missing (apt-get install -y rabbitmq-server)")
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise Unavailable("redis-server missing (apt-get install -y redis-server)")
        python = ensure_venv()
        redis_port = self._start_redis(redis_server)
        amqp_port = self._start_rabbitmq()
        jcli_port = self._start_jasmind(python, redis_port, amqp_port)
        self._configure(jcli_port)

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.workdir / f"{name}.out").open("wb")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir
        )
        log.close()
        self._processes.append((name, process))

    def _start_redis(self, redis_server: str) -> int:
        port = free_port()
        self._spawn(
            "redis",
            [redis_server, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.workdir)],
        )
        wait_for_port(port, self._processes[-1][1], "redis-server", 30)
        return port

    def _start_rabbitmq(self) -> int:
        base = self.workdir / "rabbitmq"
        (base / "home").mkdir(parents=True)
        (base / "enabled_plugins").write_text("[].\n")
        port, self._epmd_port = free_port(), free_port()
        env = dict(
            os.environ,
            HOME=str(base / "home"),  # the Erlang cookie goes there
            RABBITMQ_NODENAME=f"bench{port}@localhost",
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
            ERL_EPMD_PORT=str(self._epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
            RABBITMQ_MNESIA_BASE=str(base / "mnesia"),
            RABBITMQ_LOG_BASE=str(base / "log"),
            RABBITMQ_CONFIG_FILE=str(base / "rabbitmq"),  # none: the defaults
            RABBITMQ_CONF_ENV_FILE=str(base / "rabbitmq-env.conf"),  # none
            RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(base / "pid"),
        )
        self._spawn("rabbitmq", [str(RABBITMQ_SERVER)], env)
        wait_for_port(port, self._processes[-1][1], "rabbitmq-server", 120)
        return port

    def _start_jasmind(self, python: Path, redis_port: int, amqp_port: int) -> int:
        root = self.workdir / "jasmin"
        (root / "etc" / "jasmin" / "store").mkdir(parents=True)
        (root / "log").mkdir()
        spec = next((python.parent.parent / "lib").glob("python3*/site-packages/txamqp/specs"))
        http_port, jcli_port = free_port(), free_port()
        loopback = "bind = 127.0.0.1\n"
        config = root / "jasmin.cfg"
        config.write_text(
            f"[redis-client]\nhost = 127.0.0.1\nport = {redis_port}\n\n"
            f"[amqp-broker]\nhost = 127.0.0.1\nport = {amqp_port}\n"
            f"spec = {spec / 'standard' / 'amqp0-9-1.stripped.xml'}\n\n"
            f"[router]\n{loopback}port = {free_port()}\n\n"
            f"[client-management]\n{loopback}port = {free_port()}\n\n"
            f"[smpp-server]\n{loopback}port = {self.smpp_port}\n\n"
            f"[smpp-server-pb]\n{loopback}port = {free_port()}\n\n"
            f"[http-api]\n{loopback}port = {http_port}\n\n"
            f"[jcli]\n{loopback}port = {jcli_port}\nauthentication = False\n"
        )
        env = dict(os.environ, ROOT_PATH=str(root), LOG_PATH=str(root / "log"))
        jasmind = python.parent / "jasmind.py"
        self._spawn("jasmind", [str(python), str(jasmind), "--config", str(config)], env)
        wait_for_port(jcli_port, self._processes[-1][1], "jasmind", 60)
        return jcli_port

    def _configure(self, jcli_port: int) -> None:
        """Connectors to the simulator (started, bound), user, MT route: a default route to
        the one connector, or one spreading the messages at random over several."""
        with JCli(jcli_port) as jcli:
            for cid in self.connectors:
                jcli.add(
                    "smppccm",
                    cid=cid,
                    host="127.0.0.1",
                    port=str(self.smsc_port),
                    username="jasmin",
                    password=PASSWORD,
                    submit_throughput="0",  # no throttling
                )
                jcli.command(f"smppccm -1 {cid}", expect="Successfully started")
            jcli.add("group", gid=USER)
            jcli.add("user", uid=USER, gid=USER, username=USER, password=PASSWORD)
            targets = [f"smppc({cid})" for cid in self.connectors]
            if len(targets) == 1:
                jcli.add("mtrouter", type="DefaultRoute", connector=targets[0], rate="0")
            else:
                jcli.add("filter", type="TransparentFilter", fid="any")
                jcli.add(
                    "mtrouter",
                    type="RandomRoundrobinMTRoute",
                    order="10",
                    filters="any",
                    connectors=";".join(targets),
                    rate="0",
                )
            deadline = time.monotonic() + 30
            while jcli.command("smppccm -l").count("BOUND_TRX") < len(self.connectors):
                if time.monotonic() > deadline:
                    raise Unavailable("Jasmin's connectors did not bind to the simulator")
                time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM to each process, last started first; then the node's epmd."""
        for name, process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    print(f"{name} did not stop on SIGTERM: killed", file=sys.stderr)
                    process.kill()
                    process.wait()
        self._processes.clear()
        if self._epmd_port:
            epmd = shutil.which("epmd") or "epmd"
            subprocess.run(
                [epmd, "-port", str(self._epmd_port), "-kill"], capture_output=True, check=False
            )
            self._epmd_port = 0


class JCli:
    """Jasmin's admin console over telnet: a line in, the output up to the next prompt."""

    PROMPTS = (b"jcli : ", b"> ")

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), 10)
        self.buffer = b""
        self.sock.sendall(b"\r\n")  # the first prompt comes after a line
        self._read()

    def __enter__(self) -> JCli:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _read(self) -> str:
        while not self.buffer.endswith(self.PROMPTS):
            data = self.sock.recv(65536)
            if not data:
                raise Unavailable(f"jCli closed the connection: {self.buffer!r}")
            self.buffer += data
        out, self.buffer = self.buffer, b""
        return out.decode("utf-8", "replace")

    def command(self, line: str, expect: str | None = None) -> str:
        self.sock.sendall(line.encode() + b"\r\n")
        out = self._read()
        if expect is not None and expect not in out:
            raise Unavailable(f"jCli {line!r}: {out.strip()}")
        return out

    def add(self, manager: str, **fields: str) -> None:
        """``manager -a``, one ``key value`` line per field, ``ok``; fails unless added."""
        self.command(f"{manager} -a")
        for key, value in fields.items():
            out = self.command(f"{key} {value}")
            if "Unknown" in out or "Error" in out:
                raise Unavailable(f"jCli {manager} {key}: {out.strip()}")
        self.command("ok", expect="Successfully added")
