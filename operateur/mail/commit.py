"""Group commit of accepted mail: messages accepted at the same time on several connections are
recorded in one database transaction, after one fsync of the spool directory, instead of one
each. Every message still gets its 250 only once its file and its rows are durable (MAIL-09);
a message whose own work fails is rolled back alone (a savepoint each) and answered 451.

The delivery worker's claims and results go through the same writer: one gateway process then
writes from one thread, so its transactions never wait on each other for the embedded
database's lock (SQLite's busy handler sleeps milliseconds per retry), and they share the
groups' commits."""

from __future__ import annotations

import logging
import queue as queues
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.db import transaction
from operateur.mail.queue import Spool

log = logging.getLogger("operateur.mail.commit")

T = TypeVar("T")
MAX_GROUP = 64  # messages per transaction at most


@dataclass
class _Work(Generic[T]):
    fn: Callable[[Session], T]
    spool: bool  # its spool files must be durable before its rows
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """One writer thread; ``submit`` blocks until the work is committed (or failed)."""

    def __init__(self, factory: sessionmaker[Session], spool: Spool, actor: str) -> None:
        self.factory = factory
        self.spool = spool
        self.actor = actor
        self._pending: queues.Queue[_Work[Any] | None] = queues.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mail-commit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join(30)
            self._thread = None

    def submit(self, fn: Callable[[Session], T], *, spool: bool = True) -> T:
        """Run ``fn`` in the next group's transaction; its result once committed. ``spool``:
        the spool directory is fsync'd before (files written for this work name its rows)."""
        if self._thread is None:  # not started: a transaction of its own
            with transaction(self.factory) as session:
                set_actor(session, system_actor(self.actor))
                return fn(session)
        work: _Work[T] = _Work(fn, spool)
        self._pending.put(work)
        work.done.wait()
        if work.error is not None:
            raise work.error
        return work.result  # type: ignore[no-any-return]

    def _run(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                return
            group = [first]
            stopping = False
            while len(group) < MAX_GROUP:
                try:
                    more = self._pending.get_nowait()
                except queues.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
            self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[_Work[Any]]) -> None:
        try:
            if any(work.spool for work in group):
                self.spool.sync()  # the group's spool files, durable before their rows
            with transaction(self.factory) as session:
                set_actor(session, system_actor(self.actor))
                for work in group:
                    try:
                        with session.begin_nested():
                            work.result = work.fn(session)
                    except Exception as error:  # this message only: answered 451
                        work.error = error
        except Exception as error:  # the commit itself failed: every message of the group
            log.exception("group commit failed")
            for work in group:
                work.error = work.error or error
        for work in group:
            work.done.set()
