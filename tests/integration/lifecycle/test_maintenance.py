"""CTR-06 [002 §13.1.5] planned maintenance: each contract is checked against its own terms
(7 business days' notice, outside business hours), the accepted customers are told by email,
the scheduler suspends and restores them, staff can cancel."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from operateur import scheduler
from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Customer
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import ContactIn
from operateur.billing import wallets
from operateur.catalog.terms import PaymentMethod, Service, SuspensionCause
from operateur.cli import app
from operateur.contracts import dunning, lifecycle, maintenance
from operateur.contracts.models import (
    Contract,
    ContractStatus,
    MaintenanceStatus,
    MaintenanceWindow,
    Suspension,
)
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.i18n import Text
from operateur.notifications.service import deliver_due
from operateur.testing.smtp import SmtpSink
from tests.integration.conftest import Builder, commit_while_waited_for
from tests.integration.lifecycle.conftest import body, cli_database, subjects

REASON = Text(fr="Mise à jour des serveurs SIP", en="SIP servers upgrade")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def _customer(build: Builder, session: Session, email: str, lang: str = "fr") -> Customer:
    customer = build.customer()
    accounts.add_contact(session, customer, ContactIn(name="Admin", email=email, lang=lang))
    return customer


def _announce(
    session: Session, contracts: list[Contract], announced: datetime, start: datetime, end: datetime
) -> MaintenanceWindow:
    return maintenance.announce(
        session,
        starts_at=start,
        ends_at=end,
        reason=REASON,
        contract_ids=[c.id for c in contracts],
        announced_at=announced,
    )


def _status(session: Session, contract: Contract) -> ContractStatus:
    session.refresh(contract)
    return contract.status


def _window_status(session: Session, window_id: int) -> MaintenanceStatus:
    window = session.get(MaintenanceWindow, window_id)
    assert window is not None
    session.refresh(window)
    return window.status


def _verdicts(session: Session, window: MaintenanceWindow) -> dict[int, str | None]:
    return {r.contract_id: r.refusal_code for r in maintenance.rows(session, window)}


# SPEC: CTR-06
def test_notice_is_counted_in_business_days_and_only_accepted_customers_are_told(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    cpaas_customer = _customer(build, session, "admin@cpaas.fr")
    cpaas = build.contract(cpaas_customer, "cpaas", date(2026, 1, 5), [])
    centrex = build.contract(
        _customer(build, session, "admin@centrex.fr"),
        "centrex",
        date(2026, 1, 5),
        [("centrex.line", 1)],
    )
    announced = at(date(2026, 4, 30), 10)
    # [002 §13.1.5] 7 business days after Thursday 30 April: 1 and 8 May are public holidays,
    # so 4, 5, 6, 7, 11, 12, 13 May — a window on Tuesday 12 May is too early
    early = _announce(
        session, [cpaas, centrex], announced, at(date(2026, 5, 12), 21), at(date(2026, 5, 12), 23)
    )
    assert _verdicts(session, early) == {
        cpaas.id: "maintenance_notice",
        centrex.id: "no_planned_maintenance",  # the centrex terms have no maintenance clause
    }
    refusal = maintenance.rows(session, early)[0].refusal
    assert "au plus tôt le 13/05/2026" in refusal["fr"]
    assert "on 2026-05-13 at the earliest" in refusal["en"]
    window = _announce(
        session,
        [cpaas, centrex],
        announced,
        at(date(2026, 5, 13), 21),
        at(date(2026, 5, 13), 23, 30),
    )
    assert _verdicts(session, window) == {cpaas.id: None, centrex.id: "no_planned_maintenance"}
    session.commit()
    deliver_due(session_factory)
    told = smtp_sink.to("admin@cpaas.fr")
    assert subjects(told) == [f"Maintenance programmée — contrat {cpaas.reference}"]
    assert "du 13/05/2026 à 21:00 au 13/05/2026 à 23:30" in body(told[0])
    assert "Mise à jour des serveurs SIP" in body(told[0])
    assert smtp_sink.to("admin@centrex.fr") == []


# SPEC: CTR-06
def test_window_must_stay_out_of_business_hours(build: Builder, session: Session) -> None:
    contract = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
    announced = at(date(2026, 3, 2), 10)

    def verdict(start: datetime, end: datetime) -> str | None:
        window = _announce(session, [contract], announced, start, end)
        return _verdicts(session, window)[contract.id]

    # [002 §13.1.5] non-working: after 20:00 on weekdays, weekends, French public holidays
    assert verdict(at(date(2026, 3, 17), 19), at(date(2026, 3, 17), 23)) == "business_hours"
    weekend = _announce(
        session, [contract], announced, at(date(2026, 3, 20), 22), at(date(2026, 3, 23), 10)
    )
    # Friday night to Monday 10:00 overlaps Monday's opening
    assert "le 23/03/2026 à 09:00" in maintenance.rows(session, weekend)[0].refusal["fr"]
    assert verdict(at(date(2026, 3, 17), 20), at(date(2026, 3, 18), 6)) is None
    assert verdict(at(date(2026, 3, 21), 8), at(date(2026, 3, 21), 18)) is None  # Saturday
    # Ascension Thursday 14 May 2026 is a public holiday: daytime maintenance is allowed
    assert verdict(at(date(2026, 5, 14), 10), at(date(2026, 5, 14), 14)) is None


# SPEC: CTR-06
def test_scheduler_suspends_at_the_start_and_restores_at_the_end_once(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    customer = _customer(build, session, "admin@cpaas.fr")
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    window = _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    session.commit()
    assert scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 21, 59)) == []
    assert scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 22)) == [
        f"maintenance_started:{window.id}"
    ]
    assert scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 23)) == []
    assert _status(session, contract) is ContractStatus.SUSPENDED
    decision = lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE)
    assert decision.allowed is False and decision.code == "suspended_maintenance"
    assert scheduler.run_maintenance(session_factory, at(date(2026, 3, 22), 4)) == [
        f"maintenance_done:{window.id}"
    ]
    assert scheduler.run_maintenance(session_factory, at(date(2026, 3, 22), 5)) == []
    assert _status(session, contract) is ContractStatus.ACTIVE
    (suspension,) = session.scalars(select(Suspension).where(Suspension.contract_id == contract.id))
    assert (suspension.cause, suspension.starts_on, suspension.lifted_on) == (
        SuspensionCause.MAINTENANCE.value,
        date(2026, 3, 21),
        date(2026, 3, 22),
    )
    assert _window_status(session, window.id) is MaintenanceStatus.DONE
    deliver_due(session_factory)
    told = smtp_sink.to("admin@cpaas.fr")
    assert subjects(told) == [
        f"Maintenance programmée — contrat {contract.reference}",
        f"Suspension du contrat {contract.reference}",
        f"Rétablissement du contrat {contract.reference}",
    ]
    assert "pour maintenance" in body(told[1])
    assert "jusqu'au 22/03/2026 à 04:00" in body(told[1])


# SPEC: CTR-06
def test_end_of_maintenance_leaves_another_suspension_in_place(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    contract = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
    window = _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    lifecycle.suspend(
        session,
        contract,
        cause=SuspensionCause.PREPAID_DEPLETED,
        reason="crédit épuisé",
        on=date(2026, 3, 20),
    )
    session.commit()
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 22))
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 22), 4))
    session.expire_all()
    assert _window_status(session, window.id) is MaintenanceStatus.DONE
    assert _status(session, contract) is ContractStatus.SUSPENDED
    still = lifecycle.open_suspensions(session, contract.id)
    assert [s.cause for s in still] == [SuspensionCause.PREPAID_DEPLETED.value]


# SPEC: CTR-06
def test_cancelled_window_is_told_and_suspends_nobody(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    customer = _customer(build, session, "admin@cpaas.fr", lang="en")
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    window = _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    maintenance.cancel(session, window, reason="Postponed", now=at(date(2026, 3, 10), 9))
    with pytest.raises(Conflict):
        maintenance.cancel(session, window, reason="again")
    session.commit()
    assert scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 23)) == []
    assert _status(session, contract) is ContractStatus.ACTIVE
    deliver_due(session_factory)
    told = smtp_sink.to("admin@cpaas.fr")
    assert subjects(told) == [
        f"Planned maintenance — contract {contract.reference}",
        f"Maintenance cancelled — contract {contract.reference}",
    ]
    assert "from 2026-03-21 22:00 (Paris time) to 2026-03-22 04:00 (Paris time)" in body(told[0])
    assert "is cancelled" in body(told[1]) and "Postponed" in body(told[1])


# SPEC: CTR-06
def test_cancelling_a_started_window_restores_the_service(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    contract = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
    window = _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    session.commit()
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 22))
    assert _status(session, contract) is ContractStatus.SUSPENDED
    assert _window_status(session, window.id) is MaintenanceStatus.STARTED
    maintenance.cancel(session, window, reason="fini plus tôt", now=at(date(2026, 3, 21), 23))
    session.commit()
    assert scheduler.run_maintenance(session_factory, at(date(2026, 3, 22), 4)) == []
    assert _status(session, contract) is ContractStatus.ACTIVE
    assert _window_status(session, window.id) is MaintenanceStatus.CANCELLED


# SPEC: CTR-06
def test_bad_windows_are_refused_with_the_field(build: Builder, session: Session) -> None:
    contract = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
    announced = at(date(2026, 3, 2), 10)
    cases = [
        (at(date(2026, 3, 21), 22), at(date(2026, 3, 21), 21), [contract.id], None, "ends_at"),
        (at(date(2026, 3, 1), 22), at(date(2026, 3, 1), 23), [contract.id], None, "starts_at"),
        (at(date(2026, 3, 21), 22), at(date(2026, 3, 21), 23), [], None, "contract_ids"),
        # no contract of that offer is in service
        (at(date(2026, 3, 21), 22), at(date(2026, 3, 21), 23), [], "mail-security", "contract_ids"),
    ]
    for start, end, ids, offer, field in cases:
        with pytest.raises(InvalidInput) as refused:
            maintenance.announce(
                session,
                starts_at=start,
                ends_at=end,
                reason=REASON,
                contract_ids=ids,
                offer_id=offer,
                announced_at=announced,
            )
        assert refused.value.field == field


# SPEC: CTR-06
def test_an_offer_window_takes_its_contracts_in_service_only(
    build: Builder, session: Session
) -> None:
    live = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
    ended = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
    lifecycle.terminate(session, ended, on=date(2026, 2, 1), reason="fin")
    window = maintenance.announce(
        session,
        starts_at=at(date(2026, 3, 21), 22),
        ends_at=at(date(2026, 3, 22), 4),
        reason=REASON,
        offer_id="cpaas",
        services=[Service.SMS],
        announced_at=at(date(2026, 3, 2), 10),
    )
    assert _verdicts(session, window) == {live.id: None}


@pytest.fixture
def cli_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    with cli_database(tmp_path, monkeypatch) as build:
        return build.contract(build.customer(), "cpaas", date(2026, 1, 5), []).id


# SPEC: CTR-06
def test_cli_announces_runs_and_cancels(cli_contract: int) -> None:
    runner = CliRunner()
    ahead = datetime.now(PARIS).date() + timedelta(days=30)
    day = ahead + timedelta(days=(5 - ahead.weekday()) % 7)  # a Saturday a month ahead
    announce = [
        "contracts",
        "maintenance-announce",
        "--start",
        f"{day.isoformat()}T22:00",
        "--end",
        f"{day.isoformat()}T23:00",
        "--reason-fr",
        "Mise à jour",
        "--reason-en",
        "Upgrade",
        "--offer",
        "cpaas",
    ]
    done = runner.invoke(app, announce)
    assert done.exit_code == 0, done.output
    assert f"contract {cli_contract}\taccepted" in done.output
    window_id = done.output.split("\t")[0]
    started = runner.invoke(
        app, ["contracts", "maintenance-run", "--at", f"{day.isoformat()}T22:30"]
    )
    assert started.output.strip() == f"maintenance_started:{window_id}"
    shown = runner.invoke(app, ["contracts", "show", str(cli_contract), "--json"])
    assert json.loads(shown.output)["status"] == "suspended"
    cancelled = runner.invoke(
        app, ["contracts", "maintenance-cancel", window_id, "--reason", "done early"]
    )
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.output
    listed = runner.invoke(app, ["contracts", "maintenance-list"])
    assert listed.output.startswith(f"{window_id}\tcancelled")
    again = runner.invoke(app, ["contracts", "maintenance-cancel", window_id, "--reason", "x"])
    assert again.exit_code != 0 and "already over or cancelled" in again.output


# SPEC: CTR-06
def test_a_cancel_racing_the_start_restores_what_the_start_suspended(
    committed_factory: sessionmaker[Session],
) -> None:
    """The scheduler starts a window while staff call it off: the cancellation waits for the
    start and ends the suspensions it made — no contract stays suspended for a window that is
    cancelled (nothing would ever restore it)."""
    with committed_factory() as prepare:
        audit.set_actor(prepare, system_actor("test"))
        build = Builder(prepare)
        contract = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
        window = _announce(
            prepare,
            [contract],
            at(date(2026, 3, 2), 10),
            at(date(2026, 3, 21), 22),
            at(date(2026, 3, 22), 4),
        )
        prepare.commit()
        contract_id, window_id = contract.id, window.id

    def staff_cancel() -> None:
        with committed_factory() as other:
            audit.set_actor(other, system_actor("test"))
            found = maintenance.get_window(other, window_id, None)
            maintenance.cancel(other, found, reason="reportée", now=at(date(2026, 3, 21), 22, 5))
            other.commit()

    first = committed_factory()
    try:
        audit.set_actor(first, system_actor("scheduler:maintenance"))
        assert maintenance.apply_due(first, at(date(2026, 3, 21), 22)) == [
            f"maintenance_started:{window_id}"
        ]
        commit_while_waited_for(first, staff_cancel)
    finally:
        first.close()
    with committed_factory() as check:
        window_after = check.get(MaintenanceWindow, window_id)
        contract_after = check.get(Contract, contract_id)
        assert window_after is not None and contract_after is not None
        assert window_after.status is MaintenanceStatus.CANCELLED
        assert contract_after.status is ContractStatus.ACTIVE
        assert lifecycle.open_suspensions(check, contract_id) == []


def _causes(session: Session, contract: Contract) -> list[str]:
    session.expire_all()
    return sorted(s.cause for s in lifecycle.open_suspensions(session, contract.id))


# SPEC: CTR-06
def test_a_restore_for_another_cause_keeps_the_maintenance_suspension(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    """[002 §13.1.5] the service is interrupted for the whole window: staff lifting a
    non-payment suspension during it (the API and back-office restore) lift that one only."""
    customer = _customer(build, session, "admin@cpaas.fr")
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    lifecycle.suspend(
        session,
        contract,
        cause=SuspensionCause.NON_PAYMENT,
        reason="facture impayée",
        on=date(2026, 3, 20),
    )
    session.commit()
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 22))
    session.expire_all()
    lifecycle.restore(session, contract, reason="paiement reçu", on=date(2026, 3, 21))
    session.commit()
    assert _causes(session, contract) == [SuspensionCause.MAINTENANCE.value]
    assert _status(session, contract) is ContractStatus.SUSPENDED
    decision = lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE)
    assert decision.allowed is False and decision.code == "suspended_maintenance"
    # only the window's end restores the service
    with pytest.raises(Conflict) as held:
        lifecycle.restore(session, contract, reason="encore", on=date(2026, 3, 21))
    assert held.value.code == "maintenance_in_progress"
    session.rollback()
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 22), 4))
    assert _causes(session, contract) == []
    assert _status(session, contract) is ContractStatus.ACTIVE
    assert lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE).allowed is True
    deliver_due(session_factory)
    told = smtp_sink.to("admin@cpaas.fr")
    assert subjects(told) == [
        f"Maintenance programmée — contrat {contract.reference}",
        f"Suspension du contrat {contract.reference}",
        f"Suspension du contrat {contract.reference}",
        f"Levée d'une suspension — contrat {contract.reference}",
        f"Rétablissement du contrat {contract.reference}",
    ]
    assert "défaut de paiement est levée le 21/03/2026" in body(told[3])
    assert "jusqu'au 22/03/2026 à 04:00" in body(told[3])


# SPEC: CTR-06, BIL-10
def test_payment_during_the_window_lifts_its_suspension_the_end_restores(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    """The dunning path: a prepaid balance topped up during the window lifts the depletion
    suspension at once, but the service stays interrupted until the window's end."""
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    wallets.open_wallet(session, customer.id)
    _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    assert dunning.run(session, date(2026, 3, 20)) == [f"prepaid_suspension:{contract.reference}"]
    session.commit()
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 22))
    session.expire_all()
    wallets.top_up(
        session, customer.id, received=Decimal("20"), bank_fees=Decimal("0"), reference="T1"
    )
    dunning.run(session, date(2026, 3, 21))
    session.commit()
    assert _causes(session, contract) == [SuspensionCause.MAINTENANCE.value]
    assert lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE).allowed is False
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 22), 4))
    assert _causes(session, contract) == []
    assert lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE).allowed is True


# SPEC: CTR-06
def test_end_of_maintenance_keeps_a_non_payment_suspension_made_during_it(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    session.commit()
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 21), 22))
    session.expire_all()
    lifecycle.suspend(
        session,
        contract,
        cause=SuspensionCause.NON_PAYMENT,
        reason="facture impayée",
        on=date(2026, 3, 22),
    )
    session.commit()
    scheduler.run_maintenance(session_factory, at(date(2026, 3, 22), 4))
    assert _causes(session, contract) == [SuspensionCause.NON_PAYMENT.value]
    assert _status(session, contract) is ContractStatus.SUSPENDED
    decision = lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE)
    assert decision.allowed is False and decision.code == "suspended_non_payment"


def _clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """The scheduler's clock (the real time a replayed day is run at)."""
    monkeypatch.setattr(scheduler, "utcnow", lambda: moment)


# SPEC: CTR-06
def test_run_once_applies_the_windows_of_its_day_once(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``scheduler run-once --as-of`` (and the catch-up) apply the windows started or ended
    by the end of the day, once, never ahead of the clock."""
    customer = _customer(build, session, "admin@cpaas.fr")
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    window = _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    session.commit()
    # Saturday 10:00: running the next day ahead cuts no service before the window's hour
    _clock(monkeypatch, at(date(2026, 3, 21), 10))
    assert not [n for n in scheduler.run_once(session_factory, date(2026, 3, 22)) if "maint" in n]
    assert _status(session, contract) is ContractStatus.ACTIVE
    # at 23:00 the day's run (a tick, or a replay) starts it
    _clock(monkeypatch, at(date(2026, 3, 21), 23))
    assert f"maintenance_started:{window.id}" in scheduler.run_once(
        session_factory, date(2026, 3, 21)
    )
    assert lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE).allowed is False
    # the scheduler was down at 04:00; staff replay the 22nd later that morning
    _clock(monkeypatch, at(date(2026, 3, 22), 9))
    assert scheduler.run_once(session_factory, date(2026, 3, 22)) == [
        f"maintenance_done:{window.id}"
    ]
    assert scheduler.run_once(session_factory, date(2026, 3, 22)) == []
    assert _status(session, contract) is ContractStatus.ACTIVE
    assert _window_status(session, window.id) is MaintenanceStatus.DONE
    assert lifecycle.may_use(session, customer.id, Service.CPAAS_VOICE).allowed is True
    (suspension,) = session.scalars(select(Suspension).where(Suspension.contract_id == contract.id))
    assert (suspension.starts_on, suspension.lifted_on) == (date(2026, 3, 21), date(2026, 3, 22))
    deliver_due(session_factory)
    assert subjects(smtp_sink.to("admin@cpaas.fr")) == [
        f"Maintenance programmée — contrat {contract.reference}",
        f"Suspension du contrat {contract.reference}",
        f"Rétablissement du contrat {contract.reference}",
    ]


# SPEC: CTR-06
def test_a_day_replayed_after_its_window_closes_it_without_suspending(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A window that passed while the scheduler was down: replaying its days closes it and
    suspends nobody after the fact."""
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    window = _announce(
        session,
        [contract],
        at(date(2026, 3, 2), 10),
        at(date(2026, 3, 21), 22),
        at(date(2026, 3, 22), 4),
    )
    session.commit()
    _clock(monkeypatch, at(date(2026, 3, 23), 9))
    assert f"maintenance_done:{window.id}" in scheduler.run_once(session_factory, date(2026, 3, 21))
    assert not [n for n in scheduler.run_once(session_factory, date(2026, 3, 22)) if "maint" in n]
    assert _window_status(session, window.id) is MaintenanceStatus.DONE
    assert _status(session, contract) is ContractStatus.ACTIVE
    assert (
        session.scalars(select(Suspension).where(Suspension.contract_id == contract.id)).all() == []
    )


@pytest.fixture
def cli_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """A cpaas contract in the CLI's database with a window started on Saturday 21 March
    22:00 (until Sunday 04:00), as the live scheduler left it before going down."""
    with cli_database(tmp_path, monkeypatch) as build:
        contract = build.contract(build.customer(), "cpaas", date(2026, 1, 5), [])
        window = _announce(
            build.session,
            [contract],
            at(date(2026, 3, 2), 10),
            at(date(2026, 3, 21), 22),
            at(date(2026, 3, 22), 4),
        )
        maintenance.apply_due(build.session, at(date(2026, 3, 21), 22))
        return contract.id, window.id


# SPEC: CTR-06
def test_cli_run_once_after_the_window_restores_the_service_once(
    cli_window: tuple[int, int],
) -> None:
    contract_id, window_id = cli_window
    runner = CliRunner()

    def status() -> str:
        shown = runner.invoke(app, ["contracts", "show", str(contract_id), "--json"])
        return str(json.loads(shown.output)["status"])

    assert status() == "suspended"
    done = runner.invoke(app, ["scheduler", "run-once", "--as-of", "2026-03-22", "--json"])
    assert done.exit_code == 0, done.output
    assert f"maintenance_done:{window_id}" in json.loads(done.output)["executed"]
    assert status() == "active"
    listed = runner.invoke(app, ["contracts", "maintenance-list"])
    assert listed.output.startswith(f"{window_id}\tdone")
    again = runner.invoke(app, ["scheduler", "run-once", "--as-of", "2026-03-22", "--json"])
    assert json.loads(again.output)["executed"] == []
    assert status() == "active"
