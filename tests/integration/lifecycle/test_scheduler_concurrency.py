"""Two schedulers running the same date at the same time execute every job once (on PostgreSQL
through row claims and an advisory lock; the embedded SQLite profile serialises them)."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.billing import invoicing
from operateur.billing.models import BillingRun
from operateur.contracts.models import ContractEvent
from operateur.notifications.models import OutboxMessage
from tests.integration.conftest import Builder


# SPEC: CTR-03, CTR-06
def test_two_schedulers_at_once_run_each_job_once(
    committed_factory: sessionmaker[Session],
) -> None:
    with committed_factory() as session:
        audit.set_actor(session, system_actor("test"))
        build = Builder(session)
        customer = build.customer()
        contract = build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
        session.commit()
        operator_id, contract_id = build.operator_id, contract.id
    invoicing.run_period(committed_factory, operator_id, "2026-01")
    # 28 February: the January invoice (due 7 February) is overdue — reminder, suspension on
    # 8 February, termination 15 days later — and the month-end billing run is due
    day = date(2026, 2, 28)
    start = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            results.append(scheduler.run_once(committed_factory, day))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    executed = [job for result in results for job in result]
    assert len(executed) == len(set(executed))
    assert {"dunning:2026-02-28", "billing_run:2026-02-28"} <= set(executed)
    due = {f"{job.name}:2026-02-28" for job in scheduler.DAILY_JOBS if job.due(day)}
    assert set(executed) == due | {"billing_run:2026-02-28"}
    with committed_factory() as session:
        transitions = session.scalars(
            select(ContractEvent.transition).where(ContractEvent.contract_id == contract_id)
        ).all()
        assert transitions.count("suspend") == 1 and transitions.count("terminate") == 1
        runs = session.scalar(
            select(func.count(BillingRun.id)).where(BillingRun.period == "2026-02")
        )
        assert runs == 1  # the billing run itself, not only its invoices, ran once
        suspensions = session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.event == "contract.suspended")
        )
        assert suspensions == 1  # one email to the customer's address, not two
    assert scheduler.run_once(committed_factory, day) == []
