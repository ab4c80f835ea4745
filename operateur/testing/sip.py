"""Throwaway SIP peers on loopback for the voice tests and the call-control benchmark.

- :class:`Kamailio` runs the shipped proxy configuration (``deploy/kamailio/kamailio.cfg``) on a
  free loopback port, pointed at an operateur API and at a next hop; extra pre-processor defines
  select the benchmark variants (``BENCH_RELAY_ONLY``, ``BENCH_CNXCC``).
- :class:`SippCallee` answers every call it receives (scenario ``uas.xml``) and records the
  INVITEs and BYEs that reached it.
- :func:`place_calls` runs a SIPp caller scenario (``uac_hangup.xml``, ``uac_wait_bye.xml``) to
  its end and returns what happened to each call, read from the scenario's log lines.
- :class:`OperateurServer` serves ``operateur.app:create_served_app`` with uvicorn on a free port.

SIPp's built-in ``uac``/``uas`` scenarios ignore Record-Route, so the scenarios are our own
(``tests/integration/voice/scenarios/``). Needs Debian's ``kamailio``,
``kamailio-utils-modules``, ``kamailio-extra-modules`` and ``sip-tester`` (SIPp).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from operateur.testing.ports import free_port
from operateur.testing.processes import ChildProcess

REPO = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = REPO / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = REPO / "tests" / "integration" / "voice" / "scenarios"

_LOG_LINE = re.compile(r"^(?P<event>[A-Z]+) call=(?P<call>\S+) t=(?P<t>\d+)(?: (?P<rest>.*))?$")
_STATUS = re.compile(r"status=SIP/2\.0 (?P<code>\d{3}) ?(?P<reason>.*)$")


def _binary(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found is None:
        raise RuntimeError(f"{name} is not installed (apt-get install {package})")
    return found


def _udp_bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    """Stop a process started in its own session, and everything it started."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def sip_options(port: int, timeout: float = 1.0) -> str | None:
    """Send one OPTIONS to 127.0.0.1:``port``; the status line of the answer, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()[1]
        call_id = uuid.uuid4().hex
        request = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{call_id[:16]}\r\n"
            f"From: <sip:probe@127.0.0.1:{local}>;tag={call_id[:8]}\r\n"
            f"To: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: {call_id}@127.0.0.1\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.settimeout(timeout)
        sock.sendto(request.encode(), ("127.0.0.1", port))
        try:
            data = sock.recv(65535)
        except OSError:
            return None
        return data.split(b"\r\n", 1)[0].decode(errors="replace")


# --- Kamailio ---------------------------------------------------------------------------------


class Kamailio(ChildProcess):
    """The shipped Kamailio configuration on a free loopback UDP port.

    ``api_url`` and ``api_key`` point it at operateur; ``gateway_port`` is the loopback port
    every call is relayed to (a :class:`SippCallee`). ``defines`` are extra ``-A`` pre-processor
    defines (``"BENCH_CNXCC"``, ``'CNXCC_REDIS="addr=…"'``, ``"HTTP_TIMEOUT=1"``). With
    ``evapi``, operateur is asked over the event socket on ``evapi_port`` (operateur connects
    to it: ``OPERATEUR_SIP_EVAPI``) instead of HTTP."""

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        gateway_port: int,
        children: int = 2,
        defines: Sequence[str] = (),
        shm_mb: int = 64,
        config: Path = KAMAILIO_CFG,
        evapi: bool = False,
    ) -> None:
        self.binary = _binary("kamailio", "kamailio")
        self.api_url = api_url
        self.api_key = api_key
        self.gateway_port = gateway_port
        self.children = children
        self.defines = tuple(defines)
        self.shm_mb = shm_mb
        self.config = config
        self.port = free_port()
        self.carrier_port = free_port()  # calls from the carrier, sent on to the gateway
        self.evapi_port = free_port() if evapi else None
        self.root = Path(tempfile.mkdtemp(prefix="operateur-kamailio-"))
        self.log_path = self.root / "kamailio.log"

    @property
    def log(self) -> str:
        """What Kamailio printed (for the message of a failing test)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 60.0) -> Kamailio:
        env = {
            **os.environ,
            "OPERATEUR_API_URL": self.api_url,
            "OPERATEUR_API_KEY": self.api_key,
            "OPERATEUR_SIP_LISTEN": f"udp:127.0.0.1:{self.port}",
            "OPERATEUR_SIP_GATEWAY": f"sip:127.0.0.1:{self.gateway_port}",
            "OPERATEUR_SIP_CARRIER_LISTEN": f"udp:127.0.0.1:{self.carrier_port}",
            "OPERATEUR_SIP_LINES_GATEWAY": f"sip:127.0.0.1:{self.gateway_port}",
        }
        env["OPERATEUR_SIP_CTL"] = f"unix:{self.root / 'kamailio_ctl'}"  # for :meth:`rpc`
        if self.evapi_port is not None:
            env["OPERATEUR_SIP_EVAPI_LISTEN"] = f"127.0.0.1:{self.evapi_port}"
        command = [
            self.binary,
            "-DD",  # foreground, children forked
            "-E",  # log to stderr
            "-f",
            str(self.config),
            "-Y",
            str(self.root),  # runtime directory
            "-m",
            str(self.shm_mb),
            "-x",
            "tlsf",  # the TLSF memory manager (deploy/kamailio/README.md)
            "-A",
            f"CHILDREN={self.children}",
        ]
        for define in self.defines:
            command += ["-A", define]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"kamailio exited at start:\n{self.log}")
            status = sip_options(self.port, timeout=0.5)
            if status is not None and status.startswith("SIP/2.0 200"):
                return self
        self.stop()
        raise RuntimeError(f"kamailio did not answer OPTIONS:\n{self.log}")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def rpc(self, *command: str) -> str:
        """A command on the RPC socket (``kamcmd``), e.g. ``rpc("htable.get", "t", "key")``."""
        socket_path = self.root / "kamailio_ctl"
        result = subprocess.run(
            [_binary("kamcmd", "kamailio"), "-s", f"unix:{socket_path}", *command],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout

    def reports_waiting(self) -> int:
        """Reports the proxy keeps until operateur takes them (its report queue's length)."""

        def value(key: str) -> int:
            found = re.search(r"value:\s*(\d+)", self.rpc("htable.get", "reportq", key))
            return int(found.group(1)) if found else 0

        return value("tail") - value("head")

    def links(self) -> int:
        """How many times operateur has connected to the event socket (from the log)."""
        return self.log.count("operateur connected from")

    def wait_for_link(self, count: int = 1, timeout: float = 60.0) -> None:
        """Wait until operateur has connected to the event socket ``count`` times."""
        deadline = time.monotonic() + timeout
        while self.links() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"operateur did not connect to the event socket:\n{self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        _stop(self._process)
        self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Kamailio:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --- SIPp -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SipEvent:
    """One log line of a scenario: what happened to a call, ``t`` seconds after SIPp started."""

    event: str  # RESULT, HANGUP, CUT, NOCUT (caller); INVITE, BYE (callee)
    call_id: str
    t: float
    rest: str


def read_events(path: Path) -> list[SipEvent]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(errors="replace").splitlines():
        found = _LOG_LINE.match(line.strip())
        if found:
            events.append(
                SipEvent(
                    found["event"],
                    found["call"],
                    int(found["t"]) / 1000,
                    found["rest"] or "",
                )
            )
    return events


def _call_number(call_id: str) -> int:
    head = call_id.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


class SippCallee(ChildProcess):
    """SIPp answering every call on a free loopback port (``uas.xml``)."""

    def __init__(self, scenario: Path = SCENARIOS / "uas.xml") -> None:
        self.binary = _binary("sipp", "sip-tester")
        self.scenario = scenario
        self.port = free_port()
        self.media_port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="operateur-sipp-callee-"))
        self.log_path = self.root / "callee.log"

    def start(self, timeout: float = 30.0) -> SippCallee:
        command = [
            self.binary,
            "-sf",
            str(self.scenario),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-mp",
            str(self.media_port),
            "-nostdin",
            "-trace_logs",
            "-log_file",
            str(self.log_path),
            "-trace_err",
            "-error_file",
            str(self.root / "errors.log"),
        ]
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("sipp (callee) exited at start")
            if _udp_bound(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sipp (callee) did not bind its port")

    def events(self) -> list[SipEvent]:
        return read_events(self.log_path)

    def invited(self) -> set[str]:
        """Call ids of the INVITEs that reached the callee."""
        return {e.call_id for e in self.events() if e.event == "INVITE"}

    def byes(self) -> set[str]:
        """Call ids whose BYE reached the callee."""
        return {e.call_id for e in self.events() if e.event == "BYE"}

    def stop(self) -> None:
        _stop(self._process, signal.SIGUSR1)  # SIPp's "quit softly"
        self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> SippCallee:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class CallOutcome:
    """What the caller saw of one call. Times are seconds since the caller started."""

    call_id: str
    code: int  # the final answer to the INVITE
    reason: str
    answered_at: float | None
    ended_at: float | None  # the caller's BYE answered, or the proxy's BYE received
    cut_by_proxy: bool  # the BYE came from the proxy (uac_wait_bye.xml)

    @property
    def talked(self) -> float | None:
        """Seconds between the 200 OK and the end of the call."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at


class SippError(RuntimeError):
    pass


def place_calls(
    proxy_port: int,
    *,
    line: str,
    caller: str,
    callee: str,
    calls: int = 1,
    rate: int = 10,
    hold_ms: int = 0,
    scenario: str = "uac_hangup.xml",
    timeout: float = 180.0,
    local_ip: str = "127.0.0.1",
) -> list[CallOutcome]:
    """Place ``calls`` calls from SIP account ``line`` presenting ``caller`` to ``callee``
    through the proxy on ``proxy_port``, ``rate`` new calls a second, all allowed at once; the
    caller hangs up after ``hold_ms`` (``uac_hangup.xml``) or waits for the proxy to cut the
    call (``uac_wait_bye.xml``); SIPp sends from ``local_ip`` (another loopback address plays
    another peer). Returns the outcome of each call, in the order placed."""
    binary = _binary("sipp", "sip-tester")
    root = Path(tempfile.mkdtemp(prefix="operateur-sipp-caller-"))
    log = root / "caller.log"
    errors = root / "errors.log"
    command = [
        binary,
        f"127.0.0.1:{proxy_port}",
        "-sf",
        str(SCENARIOS / scenario),
        "-s",
        callee,
        "-key",
        "line",
        line,
        "-key",
        "caller",
        caller,
        "-d",
        str(hold_ms),
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-r",
        str(rate),
        "-i",
        local_ip,
        "-p",
        str(free_port()),
        "-mp",
        str(free_port()),
        "-nostdin",
        "-timeout",
        f"{int(timeout)}s",
        "-timeout_error",
        "-trace_logs",
        "-log_file",
        str(log),
        "-trace_err",
        "-error_file",
        str(errors),
    ]
    try:
        finished = subprocess.run(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=root,
            timeout=timeout + 30,
            check=False,
        )
        events = read_events(log)
        if finished.returncode != 0:
            detail = errors.read_text(errors="replace")[-4000:] if errors.exists() else ""
            raise SippError(
                f"sipp exited with {finished.returncode}: {finished.stderr.decode()[-2000:]}\n"
                f"{detail}\nevents: {events}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return _outcomes(events)


def _outcomes(events: Sequence[SipEvent]) -> list[CallOutcome]:
    by_call: dict[str, dict[str, SipEvent]] = {}
    for e in events:
        by_call.setdefault(e.call_id, {})[e.event] = e
    outcomes = []
    for call_id in sorted(by_call, key=_call_number):
        seen = by_call[call_id]
        result = seen.get("RESULT")
        status = _STATUS.search(result.rest) if result else None
        if result is None or status is None:
            raise SippError(f"call {call_id} has no final answer in the caller's log: {seen}")
        code = int(status["code"])
        end = seen.get("CUT") or seen.get("HANGUP") or seen.get("NOCUT")
        outcomes.append(
            CallOutcome(
                call_id=call_id,
                code=code,
                reason=status["reason"].strip(),
                answered_at=result.t if code == 200 else None,
                ended_at=end.t if end else None,
                cut_by_proxy="CUT" in seen,
            )
        )
    return outcomes


# --- operateur --------------------------------------------------------------------------------


class OperateurServer(ChildProcess):
    """``operateur.app:create_served_app`` served by uvicorn on a free loopback port."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.env = dict(env or {})
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="operateur-server-"))
        self.log_path = self.root / "uvicorn.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 120.0) -> OperateurServer:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OPERATEUR_")},
            "OPERATEUR_DATA_DIR": str(self.root),
            "OPERATEUR_DATABASE_URL": self.database_url,
            "OPERATEUR_LOG_LEVEL": "WARNING",
            **self.env,
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "operateur.app:create_served_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"uvicorn exited at start:\n{self.log}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"uvicorn did not start:\n{self.log}")

    def stop(self) -> None:
        _stop(self._process)
        self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OperateurServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()
