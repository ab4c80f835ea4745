"""CPU time of a process, for the benchmarks' CPU-per-operation figures."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system, all threads) a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def processes() -> dict[int, tuple[int, float]]:
    """Every process now: its parent and the CPU time (user + system, seconds) it has used."""
    found: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def cpu_of(snapshot: dict[int, tuple[int, float]], root: int | None) -> float:
    """CPU seconds used so far by process ``root`` and its descendants (workers, helpers)."""
    if root is None:
        return 0.0
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, (parent, _) in snapshot.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return sum(snapshot[pid][1] for pid in family if pid in snapshot)
