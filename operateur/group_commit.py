"""Group commit: many threads' writes in one transaction, each caller still answered only after
its own write is committed.

Call control's ``end`` arrives from several proxy workers at once; each one storing its call in
its own transaction pays a BEGIN, a handful of reads and a COMMIT. ``GroupCommit.submit`` puts
the item in a queue and waits: the first caller to find no batch running becomes the leader,
runs ``work`` on everything queued (its own item included) in one go, wakes the callers of that
batch and hands the lead to the first caller queued meanwhile. Batches are as large as the
concurrency of the moment: a lone caller runs alone at once, with no timer and no extra delay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class _Slot(Generic[T]):
    __slots__ = ("item", "woken", "finished", "error")

    def __init__(self, item: T) -> None:
        self.item = item
        self.woken = threading.Event()  # finished, or made the next leader
        self.finished = False
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Runs ``work`` on batches of the items submitted from many threads (see the module)."""

    def __init__(self, work: Callable[[Sequence[T]], None]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._queue: list[_Slot[T]] = []
        self._running = False

    def submit(self, item: T) -> None:
        """Return once ``item`` went through ``work`` (raise what ``work`` raised for it)."""
        slot = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            leader = not self._running
            self._running = True
        if not leader:
            slot.woken.wait()
        if not slot.finished:  # the leader, first or handed the lead
            with self._lock:
                batch, self._queue = self._queue, []
            self._run(batch)
            with self._lock:
                if self._queue:
                    self._queue[0].woken.set()  # its caller leads the next batch
                else:
                    self._running = False
        if slot.error is not None:
            raise slot.error

    def _run(self, batch: list[_Slot[T]]) -> None:
        error: BaseException | None = None
        try:
            self._work([slot.item for slot in batch])
        except BaseException as exc:  # every caller of the batch gets it
            error = exc
        for slot in batch:
            slot.error = error
            slot.finished = True
            slot.woken.set()
