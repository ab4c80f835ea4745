"""Throwaway rspamd and spamd instances on loopback, for the engine adapters' tests and the
accuracy benchmark. Needs Debian's ``rspamd``, ``spamassassin`` and ``spamd`` packages.

Both run offline: rspamd with its network modules (RBL, SURBL, SPF, DKIM, DMARC, ASN, fuzzy,
phishing feeds, once_received's reverse DNS, updates) switched off and its resolver pointed
at a nameserver the caller gives (a loopback ``DnsServer``); spamd with ``--local`` (no DNS
tests). rspamd's Bayes keeps its statistics in Redis (``redis_url``); spamd's in a file.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from operateur.testing.ports import free_port
from operateur.testing.processes import ChildProcess

RSPAMD_OFFLINE_MODULES = (
    "rbl", "surbl", "spf", "dkim", "dmarc", "arc", "asn", "emails", "fuzzy_check",
    "phishing", "mx_check", "once_received", "url_redirector", "rspamd_update", "dcc",
)  # fmt: skip
START_TIMEOUT_SECONDS = 300.0  # rspamd compiles its TLD and regexp sets at start


def _as_user(path: Path, user: str) -> None:
    """Give a directory tree to the engine's system user when we run as root."""
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(path):
            shutil.chown(root, user)
            for name in dirs + files:
                shutil.chown(os.path.join(root, name), user)


class _Process(ChildProcess):
    root: Path

    def _stop_process(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self, name: str) -> str:
        path = self.root / name
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


class RspamdServer(_Process):
    """rspamd's normal worker (``url``) and controller (``controller``) on loopback."""

    def __init__(self, *, nameserver: str, redis_url: str | None = None) -> None:
        self.binary = shutil.which("rspamd")
        if self.binary is None:
            raise RuntimeError("rspamd is not installed (apt-get install rspamd)")
        self.root = Path(tempfile.mkdtemp(prefix="operateur-rspamd-"))
        self.port, self.controller_port = free_port(), free_port()
        self.nameserver = nameserver
        self.redis_url = redis_url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def controller(self) -> str:
        return f"127.0.0.1:{self.controller_port}"

    def _configure(self) -> Path:
        conf = self.root / "conf"
        for sub in ("local.d", "override.d"):
            (conf / sub).mkdir(parents=True)
        for sub in ("db", "run", "log"):
            (self.root / sub).mkdir()
        local, override = conf / "local.d", conf / "override.d"
        (local / "worker-normal.inc").write_text(
            f'bind_socket = "127.0.0.1:{self.port}";\ncount = 1;\n'
        )
        (local / "worker-controller.inc").write_text(
            f'bind_socket = "127.0.0.1:{self.controller_port}";\ncount = 1;\n'
        )
        (override / "worker-proxy.inc").write_text("enabled = false;\n")
        (override / "worker-fuzzy.inc").write_text("enabled = false;\n")
        (local / "logging.inc").write_text(
            f'type = "file";\nfilename = "{self.root}/log/rspamd.log";\nlevel = "error";\n'
        )
        (local / "options.inc").write_text(
            f'dns {{ nameserver = ["{self.nameserver}"]; timeout = 1s; retransmits = 1; }}\n'
        )
        for module in RSPAMD_OFFLINE_MODULES:
            (local / f"{module}.conf").write_text("enabled = false;\n")
        if self.redis_url:
            server = self.redis_url.removeprefix("redis://").split("/")[0]
            (local / "classifier-bayes.conf").write_text(
                f'backend = "redis";\nservers = "{server}";\nautolearn = false;\n'
            )
        return conf

    def start(self) -> str:
        """Start rspamd, wait until its worker answers, and return its URL."""
        assert self.binary is not None
        conf = self._configure()
        command = [self.binary, "-f", "-c", "/etc/rspamd/rspamd.conf"]
        if os.geteuid() == 0:
            _as_user(self.root, "_rspamd")
            command += ["-u", "_rspamd", "-g", "_rspamd"]
        for name, value in (
            ("LOCAL_CONFDIR", conf),
            ("DBDIR", self.root / "db"),
            ("RUNDIR", self.root / "run"),
            ("LOGDIR", self.root / "log"),
        ):
            command += ["--var", f"{name}={value}"]
        with (self.root / "stderr").open("wb") as err:
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        details = self._log_tail("stderr") + self._log_tail("log/rspamd.log")
        self.stop()
        raise RuntimeError(f"rspamd did not start: {details}")

    def learn(self, kind: str, directory: Path) -> int:
        """``rspamc learn_spam|learn_ham`` of every file in `directory` (as bulk mail: rspamd
        otherwise skips messages it already classifies confidently); returns how many it
        learned. rspamc skips symbolic links: the directory must hold the files."""
        if kind not in ("spam", "ham"):
            raise ValueError(kind)
        result = subprocess.run(
            ["rspamc", "-h", self.controller, "-t", "300", "--header", "Learn-Type: bulk",
             f"learn_{kind}", str(directory)],
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
        return result.stdout.count("success = true")

    def stop(self) -> None:
        self._stop_process()

    def __enter__(self) -> RspamdServer:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SpamdServer(_Process):
    """SpamAssassin's spamd on loopback, local tests only, Bayes in a temporary file."""

    USER = "debian-spamd"

    def __init__(self) -> None:
        self.binary = shutil.which("spamd") or "/usr/sbin/spamd"
        if not Path(self.binary).exists():
            raise RuntimeError("spamd is not installed (apt-get install spamd)")
        self.root = Path(tempfile.mkdtemp(prefix="operateur-spamd-"))
        self.port = free_port()
        self.site = self.root / "site"
        self._configure()

    def _configure(self) -> None:
        self.site.mkdir()
        (self.root / "home").mkdir()
        (self.root / "bayes").mkdir()
        for pre in Path("/etc/spamassassin").glob("*.pre"):  # the plugins to load
            shutil.copy(pre, self.site / pre.name)
        (self.site / "local.cf").write_text(
            "use_bayes 1\n"
            f"bayes_path {self.root}/bayes/bayes\n"
            "bayes_auto_learn 0\n"
            "bayes_file_mode 0777\n"
            "lock_method flock\n"
        )

    def learn(self, kind: str, directory: Path) -> None:
        """``sa-learn --spam|--ham`` of every file in `directory`, into this spamd's Bayes."""
        if kind not in ("spam", "ham"):
            raise ValueError(kind)
        subprocess.run(
            ["sa-learn", f"--{kind}", "--siteconfigpath", str(self.site), "--no-sync",
             str(directory)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["sa-learn", "--sync", "--siteconfigpath", str(self.site)],
            check=True,
            capture_output=True,
        )
        _as_user(self.root / "bayes", self.USER)

    def learned(self) -> dict[str, int]:
        """How many messages the Bayes database has learned (``sa-learn --dump magic``)."""
        dump = subprocess.run(
            ["sa-learn", "--dump", "magic", "--siteconfigpath", str(self.site)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        counts = {}
        for line in dump.splitlines():
            fields = line.split()
            if len(fields) >= 5 and fields[-1] in ("nspam", "nham"):
                counts[fields[-1]] = int(fields[2])
        return counts

    def start(self) -> tuple[str, int]:
        """Start spamd, wait until it answers PING, and return (host, port)."""
        command = [self.binary, "-L", "-x", "--siteconfigpath", str(self.site),
                   "-H", str(self.root / "home"), "-i", f"127.0.0.1:{self.port}",
                   "-m", "1", "-s", "stderr"]  # fmt: skip
        if os.geteuid() == 0:
            _as_user(self.root, self.USER)
            command += ["-u", self.USER]
        with (self.root / "stderr").open("wb") as err:
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING SPAMC/1.5\r\n\r\n")
                    if b"PONG" in conn.recv(64):
                        return "127.0.0.1", self.port
            except OSError:
                time.sleep(0.5)
        details = self._log_tail("stderr")
        self.stop()
        raise RuntimeError(f"spamd did not start: {details}")

    def stop(self) -> None:
        self._stop_process()

    def __enter__(self) -> SpamdServer:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
