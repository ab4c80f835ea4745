"""The scheduler: runs every job that is due on a date, exactly once per due date.

Each job has a name, a rule saying on which days it is due, and a body. ``run_once`` claims
``(job, due date)`` in ``job_runs`` — a unique row, so two processes running at the same time on
PostgreSQL cannot both claim it — and runs the body in the same transaction: a job that fails
leaves no claim and runs again next time. Jobs that open their own transactions (the billing
run) are idempotent and claim once they are done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.models import Operator
from operateur.accounts.permissions import system_actor
from operateur.billing import invoicing, wallets
from operateur.contracts import dunning, lifecycle
from operateur.contracts.models import Contract, ContractStatus
from operateur.db import Base, UTCDateTime, utcnow
from operateur.domain.calendar import PARIS, last_day_of_month
from operateur.logs import event
from operateur.numbers import service as numbers

log = logging.getLogger("operateur.scheduler")


class JobRun(Base):
    """A job done for a due date: the claim that makes every job run once per date."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    due_on: Mapped[str] = mapped_column(String(10))  # ISO date
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _end_notices(session: Session, as_of: date) -> None:
    """Contracts whose notice period is over are terminated on their last day."""
    for contract in session.scalars(
        select(Contract).where(
            Contract.status == ContractStatus.NOTICE_GIVEN, Contract.ends_on < as_of
        )
    ):
        assert contract.ends_on is not None
        lifecycle.terminate(session, contract, on=contract.ends_on, reason="end of notice")


def _release_reservations(session: Session, as_of: date) -> None:
    wallets.release_expired(session)


def _free_numbers(session: Session, as_of: date) -> None:
    numbers.free_quarantined(session)


def _dunning(session: Session, as_of: date) -> None:
    dunning.run(session, as_of)


@dataclass(frozen=True)
class Job:
    name: str
    due: Callable[[date], bool]
    body: Callable[[Session, date], None]


DAILY_JOBS = (
    Job("end_notices", lambda d: True, _end_notices),
    Job("release_expired_reservations", lambda d: True, _release_reservations),
    Job("free_quarantined_numbers", lambda d: True, _free_numbers),
    Job("dunning", lambda d: True, _dunning),
)


def _claim(session: Session, job: str, as_of: date) -> bool:
    """Claim (job, date) inside the current transaction; False when it was already done."""
    if session.scalar(
        select(JobRun.id).where(JobRun.job == job, JobRun.due_on == as_of.isoformat())
    ):
        return False
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, due_on=as_of.isoformat()))
    except IntegrityError:
        return False
    return True


def run_once(factory: sessionmaker[Session], as_of: date) -> list[str]:
    """Run every job due on ``as_of`` that has not run for that date; the names of those run."""
    executed: list[str] = []
    for job in DAILY_JOBS:
        if not job.due(as_of):
            continue
        with factory() as session:
            set_actor(session, system_actor(f"scheduler:{job.name}"))
            if not _claim(session, job.name, as_of):
                session.rollback()
                continue
            job.body(session, as_of)
            session.commit()
        executed.append(f"{job.name}:{as_of.isoformat()}")
    if as_of == last_day_of_month(as_of):  # BIL-03 invoices are issued on the last day
        name = "billing_run"
        with factory() as session:
            done = session.scalar(
                select(JobRun.id).where(JobRun.job == name, JobRun.due_on == as_of.isoformat())
            )
            operators = list(session.scalars(select(Operator.id)))
        if not done:
            for operator_id in operators:
                invoicing.run_period(
                    factory,
                    operator_id,
                    as_of.strftime("%Y-%m"),
                    actor=system_actor("scheduler:billing_run"),
                )
            with factory() as session:
                if _claim(session, name, as_of):
                    session.commit()
                    executed.append(f"{name}:{as_of.isoformat()}")
    for name in executed:
        event(log, "job.done", job=name)
    return executed


def start_background(
    factory: sessionmaker[Session], every_seconds: float = 60.0
) -> threading.Event:
    """Run the due jobs of today (Paris) every minute in a daemon thread; set the returned
    event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                run_once(factory, datetime.now(PARIS).date())
            except Exception:  # a failing job is logged and retried on the next tick
                log.exception("scheduler tick failed")
            stop.wait(every_seconds)

    threading.Thread(target=loop, name="operateur-scheduler", daemon=True).start()
    return stop
