"""The scheduler: runs every job that is due on a date, exactly once per due date.

Each job has a name, a rule saying on which days it is due, and a body. ``run_once`` claims
``(job, due date)`` in ``job_runs`` — a unique row, so two processes running at the same time on
PostgreSQL cannot both claim it — and runs the body in the same transaction: a job that fails
leaves no claim and runs again next time. Jobs that open their own transactions (the billing
run) are idempotent and claim once they are done; a whole ``run_once`` holds an exclusive lock
(a PostgreSQL advisory lock, a process lock on SQLite) so that such a job is not run twice at
once either.

``tick`` is what runs every minute inside ``operateur serve`` (and ``scheduler run-once``): the
jobs due today, then the delivery of the notifications due (emails, webhooks, retries). The
planned-maintenance windows (CTR-06) are applied by each ``run_once`` up to the end of its day,
capped at the clock, so a live tick applies them every minute.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, String, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from operateur.accounts import retention as accounts_retention
from operateur.accounts.audit import set_actor
from operateur.accounts.models import Operator
from operateur.accounts.permissions import system_actor
from operateur.billing import invoicing, wallets
from operateur.contracts import (
    after_end,
    dunning,
    equipment,
    inactivity,
    lifecycle,
    maintenance,
    renewal,
)
from operateur.contracts.models import Contract, ContractStatus
from operateur.db import Base, UTCDateTime, utcnow
from operateur.domain.calendar import PARIS, last_day_of_month
from operateur.fraud import service as fraud
from operateur.logs import event
from operateur.mail import jobs as mail_jobs
from operateur.notifications.service import deliver_due
from operateur.numbers import portability
from operateur.numbers import service as numbers
from operateur.privacy import incidents as security_incidents
from operateur.quality import reports as quality_reports
from operateur.quality import service as quality
from operateur.recordings import service as recordings
from operateur.support import service as support

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
    """Contracts whose notice period is over are terminated on their last day (also when they
    were suspended during the notice)."""
    for contract in session.scalars(
        select(Contract).where(
            Contract.status.in_((ContractStatus.NOTICE_GIVEN, ContractStatus.SUSPENDED)),
            Contract.ends_on < as_of,
        )
    ):
        assert contract.ends_on is not None
        lifecycle.terminate(
            session,
            contract,
            on=contract.ends_on,
            reason="end of notice",
            inform=inactivity.informed(session, contract),  # CTR-08 customer_informed
        )
        inactivity.on_end(session, contract)


def _release_reservations(session: Session, as_of: date) -> None:
    wallets.release_expired(session)


def _free_numbers(session: Session, as_of: date) -> None:
    numbers.free_quarantined(session)


def _release_numbers(session: Session, as_of: date) -> None:
    """VOX-14 the numbers of contracts over (whatever ended them) go to quarantine."""
    from operateur.config import Settings

    numbers.release_ended_contracts(session, as_of, Settings().number_quarantine_days)


def _dunning(session: Session, as_of: date) -> None:
    dunning.run(session, as_of)


def _trials(session: Session, as_of: date) -> None:
    """CTR-12 free trials over without a signature end."""
    lifecycle.end_trials(session, as_of)


def _inactivity(session: Session, as_of: date) -> None:
    """CTR-08 contracts idle for their terms' period are terminated."""
    inactivity.inactive_due(session, as_of)


def _renewals(session: Session, as_of: date) -> None:
    """CTR-03/04 licence changes handed to billing, then tacit renewals recorded."""
    renewal.apply_due_changes(session, as_of)
    renewal.renewals_due(session, as_of)


def _access(session: Session, as_of: date) -> None:
    """CTR-09 read-only access after termination ends at the start of its last day."""
    after_end.close_access(session, datetime.combine(as_of, time(0), PARIS))


def _purge(session: Session, as_of: date) -> None:
    """CTR-09, PRIV-02 end-customer data deleted after the terms' retention."""
    after_end.purge_due(session, as_of)


def _equipment(session: Session, as_of: date) -> None:
    """CTR-10 equipment not returned invoiced; returned provided equipment refunded."""
    equipment.settle_due(session, as_of)


def _voice_housekeeping(session: Session, as_of: date) -> None:
    """VOX-05, BIL-10: calls whose end never arrived are ended; old prospection attempts go."""
    from operateur.config import Settings
    from operateur.voice.control import housekeeping

    housekeeping(session, Settings())


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
    Job("end_trials", lambda d: True, _trials),
    Job("inactivity", lambda d: True, _inactivity),
    # VOX-14: after the jobs that end contracts, the numbers of those over are taken back
    Job("release_ended_numbers", lambda d: True, _release_numbers),
    Job("renewals", lambda d: True, _renewals),
    Job("close_access", lambda d: True, _access),
    Job("purge_data", lambda d: True, _purge),
    Job("equipment_returns", lambda d: True, _equipment),
    Job("voice_housekeeping", lambda d: True, _voice_housekeeping),
    # SUP-03: the requests beyond the quota of the month just ended, for the next invoices
    Job("support_charges", lambda d: d.day == 1, support.charge_previous_month),
    # MAIL-03/06/07/09/10: the mail gateway's digests, expiry, retention, recount, SLA credits
    Job("mail_digests", lambda d: True, mail_jobs.digests),
    Job("mail_expire", lambda d: True, mail_jobs.expire),
    Job("mail_retention", lambda d: True, mail_jobs.purge),
    Job("mail_licence_recount", lambda d: True, mail_jobs.recount),
    Job("mail_sla_credits", lambda d: d.day == 1, mail_jobs.sla_credits),
    # VOX-06, BIL-13, BIL-15: fraud detectors over the period's usage, and what the terms do
    Job("fraud_detectors", lambda d: True, fraud.daily_job),
    # VOX-08: yesterday's hours below the quality targets become penalties for billing
    Job("quality_penalties", lambda d: True, quality.daily_penalties),
    # VOX-16: consumer reports above average for the terms' months: notice, then suspension
    Job("abnormal_reports", lambda d: d.day == 1, quality_reports.monthly_evaluation),
    Job("abnormal_reports_suspensions", lambda d: True, quality_reports.daily_suspensions),
    # VOX-15: ported numbers become active on porting day
    Job("port_ins", lambda d: True, portability.daily_activation),
    # VOX-12, VOX-13: recordings after 24 months, traffic data after 12 months
    Job("voice_retention", lambda d: True, recordings.daily_purge),
    # PRIV-02: logins (connection data, IP addresses) after the terms' logs_days
    Job("connection_logs_retention", lambda d: True, accounts_retention.daily_purge),
    # SEC-03: staff reminded of the customers still to tell of an incident affecting their data
    Job("security_incident_alerts", lambda d: True, security_incidents.alert_staff),
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


_LOCAL_LOCK = threading.Lock()


@contextmanager
def _exclusive(factory: sessionmaker[Session], name: str) -> Iterator[None]:
    """One holder at a time: a PostgreSQL advisory lock (across processes), a process lock on
    SQLite (the embedded single-process profile)."""
    bind = factory.kw.get("bind")
    if bind is None or bind.dialect.name != "postgresql":
        with _LOCAL_LOCK:
            yield
        return
    key = zlib.crc32(name.encode())
    connection = bind.connect() if isinstance(bind, Engine) else bind
    try:
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
    finally:
        if isinstance(bind, Engine):
            connection.close()


def run_once(factory: sessionmaker[Session], as_of: date) -> list[str]:
    """Run every job due on ``as_of`` that has not run for that date, and the maintenance
    windows due by its end; the names of those run."""
    with _exclusive(factory, "operateur.scheduler"):
        return _run_once(factory, as_of)


def tick(factory: sessionmaker[Session], as_of: date | None = None) -> list[str]:
    """The jobs due on ``as_of`` (default: today in Paris, with ``catch_up``), then the
    notifications due."""
    if as_of is None:  # catch_up runs today too: the maintenance windows due now included
        executed = catch_up(factory, datetime.now(PARIS).date())
    else:
        executed = run_once(factory, as_of)
    deliver_due(factory)
    return executed


def run_maintenance(factory: sessionmaker[Session], now: datetime) -> list[str]:
    """CTR-06 planned maintenance windows started or ended by ``now``: not a daily job, the
    window's hours matter, so every live tick runs it (idempotent, under the scheduler lock)."""
    with _exclusive(factory, "operateur.scheduler"):
        done = _maintenance(factory, now)
    for name in done:
        event(log, "job.done", job=name)
    return done


def _maintenance(
    factory: sessionmaker[Session], now: datetime, clock: datetime | None = None
) -> list[str]:
    with factory() as session:
        set_actor(session, system_actor("scheduler:maintenance"))
        done = maintenance.apply_due(session, now, clock=clock)
        session.commit()
    return done


#: How far back a restarted scheduler runs the days it missed (a month's end included).
CATCH_UP_DAYS = 31


def catch_up(factory: sessionmaker[Session], today: date) -> list[str]:
    """``run_once`` for each day since the last one any job ran for, up to ``today``, oldest
    first (at most ``CATCH_UP_DAYS`` back): a platform down over a month's last day or the 1st
    still issues that month's invoices and hands over its credits once it is back."""
    with factory() as session:
        last = session.scalar(select(func.max(JobRun.due_on)))
    start = today
    if last is not None:
        start = max(
            min(date.fromisoformat(last) + timedelta(days=1), today),
            today - timedelta(days=CATCH_UP_DAYS),
        )
    executed: list[str] = []
    for n in range((today - start).days + 1):
        executed += run_once(factory, start + timedelta(days=n))
    return executed


def _run_once(factory: sessionmaker[Session], as_of: date) -> list[str]:
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
    # CTR-06 the maintenance windows started or ended by the end of ``as_of``, never ahead of
    # the clock (a day run early cuts no service before its hour); not claimed per date: the
    # windows record each step, so a day run again, or later in the day, is applied once
    clock = utcnow()
    day_end = datetime.combine(as_of + timedelta(days=1), time(0), PARIS)
    executed += _maintenance(factory, min(day_end, clock), clock)
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
    """Run the due jobs of today (Paris) and deliver the notifications due every minute in a
    daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                tick(factory)
            except Exception:  # a failing job is logged and retried on the next tick
                log.exception("scheduler tick failed")
            stop.wait(every_seconds)

    threading.Thread(target=loop, name="operateur-scheduler", daemon=True).start()
    return stop
