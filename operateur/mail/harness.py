"""Run a gateway in a background thread with its own event loop — for the tests and the
benchmark, which drive it from ordinary (blocking) code over real SMTP on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from operateur.config import Settings
from operateur.db import utcnow
from operateur.mail.gateway import Gateway, Scanner
from operateur.mail.relay import MxResolver

T = TypeVar("T")


class GatewayThread:
    """``with GatewayThread(factory, settings, scanner) as gw: gw.inbound`` is (host, port)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        scanner: Scanner,
        *,
        deliver: bool = True,
        resolver: MxResolver | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.gateway = Gateway(factory, settings, scanner, resolver=resolver, clock=clock)
        self.deliver = deliver
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="mail-gateway", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.gateway.start(deliver=self.deliver))
        except BaseException as error:  # reported to the starting thread
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    @property
    def inbound(self) -> tuple[str, int]:
        assert self.gateway.inbound_address is not None
        return self.gateway.inbound_address

    @property
    def submission(self) -> tuple[str, int]:
        assert self.gateway.submission_address is not None
        return self.gateway.submission_address

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run a coroutine on the gateway's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _shutdown(self) -> None:
        """Stop the gateway, then end the client sessions still open."""
        await self.gateway.stop()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def start(self) -> GatewayThread:
        self.thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Stop the gateway and its loop (a second call does nothing)."""
        if self.loop.is_closed():
            return
        if self.loop.is_running():
            self.call(self._shutdown())
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
