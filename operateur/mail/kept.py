"""What the mail gateway keeps in memory of the database for ``mail_cache_seconds`` (domains,
customers as the filter sees them, customers' servers): read once for all the messages of that
delay instead of once per message, so that a change applies within it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from time import monotonic
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    """Values by key, each kept ``seconds`` after it was read. Safe across threads; one thread
    at a time reads a key, so that when a value expires the threads needing it at that moment
    wait for one read instead of each making its own."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._loaders: dict[K, threading.Lock] = {}

    def fresh(self, key: K) -> V | None:
        """The value kept for ``key`` if it is younger than ``seconds``, else None."""
        with self._lock:
            kept = self._values.get(key)
        if kept is not None and monotonic() - kept[0] < self.seconds:
            return kept[1]
        return None

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The value kept for ``key``, else read with ``load`` and kept."""
        value = self.fresh(key)
        if value is not None:
            return value
        with self._lock:
            loader = self._loaders.setdefault(key, threading.Lock())
        with loader:
            value = self.fresh(key)  # read meanwhile by another thread
            if value is None:
                read_at = monotonic()
                value = load()
                with self._lock:
                    self._values[key] = (read_at, value)
        return value

    def drop(self, which: Callable[[K, V], bool]) -> None:
        """Forget the values for which ``which(key, value)`` is true: read again when next
        needed."""
        with self._lock:
            for key in [k for k, (_, v) in self._values.items() if which(k, v)]:
                del self._values[key]
