"""Group commit of accepted mail: messages accepted at the same time on several connections are
recorded in one database transaction, after one fsync of the spool directory, instead of one
each. Every message still gets its 250 only once its file and its rows are durable (MAIL-09);
a message whose own work fails is rolled back alone (a savepoint each) and answered 451.
Work submitted with ``submit_batch`` is written together with the group's other items of the
same writer (multi-row statements instead of one ORM flush per message); if that batch fails,
its items are written again one by one, so that only the failing one fails.

The delivery worker's claims and results go through the same writer: one gateway process then
writes from one thread, so its transactions never wait on each other for the embedded
database's lock (SQLite's busy handler sleeps milliseconds per retry), and they share the
groups' commits."""

from __future__ import annotations

import asyncio
import logging
import queue as queues
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.db import transaction
from operateur.mail.queue import Spool

log = logging.getLogger("operateur.mail.commit")

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a batch
MAX_GROUP = 64  # messages per transaction at most


Writer = Callable[[Session, list[Any]], list[Any]]  # items -> one result each, in order


@dataclass
class _Work(Generic[T]):
    fn: Callable[[Session], T] | None  # None: an item of ``writer``'s batch
    spool: bool  # its spool files must be durable before its rows
    writer: Writer | None = None
    item: Any = None
    future: asyncio.Future[T] | None = None  # awaited on its event loop instead of ``done``
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


def _settle(work: _Work[Any]) -> None:
    """Hand a work's outcome to the coroutine awaiting it (on its event loop)."""
    future = work.future
    assert future is not None
    if future.cancelled():  # its client went away meanwhile: written all the same
        return
    if work.error is not None:
        future.set_exception(work.error)
    else:
        future.set_result(work.result)


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
        return self._wait(_Work(fn, spool))

    def submit_batch(
        self, writer: Callable[[Session, list[I]], list[T]], item: I, *, spool: bool = True
    ) -> T:
        """Write ``item`` with ``writer``, together with the other items of the same writer in
        the next group; its result once committed. ``writer`` returns one result per item, in
        the items' order."""
        if self._thread is None:
            with transaction(self.factory) as session:
                set_actor(session, system_actor(self.actor))
                return writer(session, [item])[0]
        return self._wait(_Work(None, spool, writer, item))

    async def submit_batch_async(
        self, writer: Callable[[Session, list[I]], list[T]], item: I, *, spool: bool = True
    ) -> T:
        """``submit_batch`` for a coroutine: awaited on its event loop, no thread held."""
        loop = asyncio.get_running_loop()
        if self._thread is None:
            return await loop.run_in_executor(
                None, lambda: self.submit_batch(writer, item, spool=spool)
            )
        future: asyncio.Future[T] = loop.create_future()
        self._pending.put(_Work(None, spool, writer, item, future))
        return await future

    def _wait(self, work: _Work[T]) -> T:
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
                written: set[int] = set()
                for work in group:
                    if work.fn is not None:
                        self._one(session, work)
                    elif id(work) not in written:  # the first item of its writer's batch
                        batch = [w for w in group if w.fn is None and w.writer == work.writer]
                        written.update(id(w) for w in batch)
                        self._batch(session, batch)
        except Exception as error:  # the commit itself failed: every message of the group
            log.exception("group commit failed")
            for work in group:
                work.error = work.error or error
        for work in group:
            if work.future is not None:
                with suppress(RuntimeError):  # its event loop is closed: nobody waits
                    work.future.get_loop().call_soon_threadsafe(_settle, work)
            else:
                work.done.set()

    @staticmethod
    def _one(session: Session, work: _Work[Any]) -> None:
        try:
            with session.begin_nested():
                assert work.fn is not None
                work.result = work.fn(session)
        except Exception as error:  # this message only: answered 451
            work.error = error

    def _batch(self, session: Session, batch: list[_Work[Any]]) -> None:
        """The items of one writer together; if that fails, each alone in its savepoint."""
        writer = batch[0].writer
        assert writer is not None
        try:
            with session.begin_nested():
                results = writer(session, [work.item for work in batch])
        except Exception as error:
            if len(batch) == 1:  # this message only: answered 451
                batch[0].error = error
                return
            for work in batch:
                self._batch(session, [work])
            return
        for work, result in zip(batch, results, strict=True):
            work.result = result
