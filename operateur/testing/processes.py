"""What the servers tests and benchmarks run as child processes have in common."""

from __future__ import annotations

import subprocess


class ChildProcess:
    """A server run as a child process, held in ``_process`` while it runs."""

    _process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """Its (main) process id while it runs (the benchmarks read its CPU time)."""
        return self._process.pid if self._process is not None else None
