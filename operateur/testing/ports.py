"""Loopback ports for the servers that tests and benchmarks start.

A port the kernel hands out for ``bind(("127.0.0.1", 0))`` comes from its ephemeral range, the
same range it draws the local ports of outgoing connections from. Between the moment a test picks
such a port and the moment its server binds it, any outgoing connection of the process (a retry
towards that very port included: Linux then connects the socket to itself) can take it, and the
server fails with "address already in use". Ports are therefore taken below that range, one after
the other from a random start, so that one process never hands out the same port twice.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000
_lock = threading.Lock()
_next: int | None = None


def _range() -> tuple[int, int]:
    """The ports to draw from: the widest span outside the kernel's ephemeral range."""
    try:
        low, high = (int(part) for part in _EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32_768, 60_999  # Linux's default
    below, above = (_LOWEST, low - 1), (high + 1, 65_535)
    return max(below, above, key=lambda span: span[1] - span[0])


def _bindable(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port() -> int:
    """A loopback port free for both TCP and UDP right now, never handed out before by this
    process and outside the range of outgoing connections' ports."""
    global _next
    first, last = _range()
    with _lock:
        if _next is None:
            _next = random.randint(first, last)
        for _ in range(last - first + 1):
            port, _next = _next, _next + 1 if _next < last else first
            if _bindable(port):
                return port
    raise RuntimeError(f"no free loopback port between {first} and {last}")


__all__ = ["free_port"]
