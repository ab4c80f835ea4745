"""The availability prober (MAIL-06): every minute it opens an SMTP session with each gateway
(banner, EHLO, QUIT) and records whether it answered. The service is unavailable in a minute
when every gateway failed its check in that minute [003 §9]; a minute nobody checked is not
counted against the operator or the customer."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from operateur.db import transaction, utcnow
from operateur.logs import event
from operateur.mail.models import ProbeResult

log = logging.getLogger("operateur.mail.prober")


def parse_gateways(text: str) -> list[tuple[str, int]]:
    found = []
    for part in text.split(","):
        if part.strip():
            host, _, port = part.strip().rpartition(":")
            found.append((host.strip("[]"), int(port)))
    return found


async def check(host: str, port: int, timeout: float = 10.0) -> tuple[bool, str]:
    """Does the gateway greet, answer EHLO and QUIT? (ok, what it said or why not)."""
    client = aiosmtplib.SMTP(hostname=host, port=port, timeout=timeout, start_tls=False)
    try:
        greeting = await client.connect()
        await client.ehlo()
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        return False, f"{type(error).__name__}: {error}"[:300]
    ok = 200 <= greeting.code < 300
    return ok, f"{greeting.code} {greeting.message}"[:300]


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def record(session: Session, gateway: str, minute: datetime, ok: bool, detail: str) -> None:
    """One result per gateway and minute; when two probers checked, a success wins."""
    existing = session.scalar(
        select(ProbeResult).where(ProbeResult.gateway == gateway, ProbeResult.minute == minute)
    )
    if existing is not None:
        existing.ok = existing.ok or ok
        return
    try:
        with session.begin_nested():
            session.add(ProbeResult(gateway=gateway, minute=minute, ok=ok, detail=detail))
    except IntegrityError:  # another prober recorded this minute meanwhile
        pass


async def probe_once(
    factory: sessionmaker[Session],
    gateways: Sequence[tuple[str, int]],
    now: datetime,
    timeout: float = 10.0,
) -> dict[str, bool]:
    results = await asyncio.gather(*(check(host, port, timeout) for host, port in gateways))
    minute = minute_of(now)
    outcome = {}
    with transaction(factory) as session:
        for (host, port), (ok, detail) in zip(gateways, results, strict=True):
            name = f"{host}:{port}"
            record(session, name, minute, ok, detail)
            outcome[name] = ok
    if not any(outcome.values()):
        event(log, "mail.gateways_down", minute=minute.isoformat(), gateways=list(outcome))
    return outcome


def unavailable_minutes(session: Session, start: datetime, end: datetime) -> int:
    """Minutes of [start, end) in which every gateway checked in that minute failed.

    Each minute is judged on its own results, whatever the gateways are called: a gateway
    renamed (or added, or retired) in the middle of the month does not hide the minutes when
    all of them were down (MAIL-06 [003 §9])."""
    down = (
        select(ProbeResult.minute)
        .where(ProbeResult.minute >= start, ProbeResult.minute < end)
        .group_by(ProbeResult.minute)
        .having(func.sum(case((ProbeResult.ok.is_(True), 1), else_=0)) == 0)
    )
    return session.scalar(select(func.count()).select_from(down.subquery())) or 0


async def run(
    factory: sessionmaker[Session],
    gateways: Sequence[tuple[str, int]],
    stop: asyncio.Event,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Check every gateway at the start of each minute until ``stop`` is set."""
    while not stop.is_set():
        try:
            await probe_once(factory, gateways, clock())
        except Exception:
            log.exception("probe failed")
        now = clock()
        wait = (minute_of(now) + timedelta(minutes=1) - now).total_seconds()
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.5))
        except TimeoutError:
            continue


def start_background(
    factory: sessionmaker[Session], gateways: Sequence[tuple[str, int]]
) -> threading.Event:
    """Run the prober in a daemon thread (inside ``operateur serve``); set the event to stop."""
    stopped = threading.Event()

    def main() -> None:
        async def loop() -> None:
            stop = asyncio.Event()

            async def watch() -> None:
                while not stopped.is_set():
                    await asyncio.sleep(1)
                stop.set()

            watcher = asyncio.create_task(watch())
            await run(factory, gateways, stop)
            watcher.cancel()

        asyncio.run(loop())

    threading.Thread(target=main, name="operateur-mail-prober", daemon=True).start()
    return stopped
