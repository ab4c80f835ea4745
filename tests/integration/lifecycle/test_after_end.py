"""After termination: read-only access then none (CTR-09), real deletion of end-customer data
recorded without the data (CTR-09, PRIV-02), equipment returns (CTR-10)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts import service as accounts
from operateur.accounts.models import AuditEvent, Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.billing.models import Invoice
from operateur.contracts import after_end, equipment, lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import (
    Contract,
    ContractStatus,
    EquipmentMode,
    EquipmentStatus,
    Line,
    LineKind,
    LineStatus,
)
from operateur.contracts.schemas import EquipmentIn, LineIn
from operateur.errors import Conflict
from tests.integration.conftest import Builder


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# SPEC: CTR-09, SEC-02
def test_admins_keep_read_only_access_48_hours_then_nothing(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    customer = build.customer()
    actor = system_actor("test")
    base = {"operator_id": build.operator_id, "customer_id": customer.id}
    admin = accounts.create_user(
        session,
        actor,
        **base,
        data=UserIn(
            email="chef@client.fr",
            display_name="Chef",
            password="correct horse battery",
            role=Role.CUSTOMER_ADMIN,
        ),
    )
    _, admin_key = accounts.create_api_key(
        session, actor, **base, name="admin", role=Role.CUSTOMER_ADMIN
    )
    _, user_key = accounts.create_api_key(
        session, actor, **base, name="user", role=Role.CUSTOMER_USER
    )
    today = lifecycle.today()
    contract = build.contract(customer, "crm-voip", today - timedelta(days=60), [])
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.AGENT, label="x")
    )
    # ended yesterday: [000 §10] the administrator keeps access 48 h after the last day
    lifecycle.terminate(session, contract, on=today - timedelta(days=1), reason="fin")
    session.commit()
    path = f"/api/v1/customers/{customer.id}"
    assert client.get(f"{path}/contracts", headers=_auth(admin_key)).status_code == 200
    write = client.post(
        f"{path}/contacts", headers=_auth(admin_key), json={"name": "x", "email": "x@client.fr"}
    )
    assert write.status_code == 403  # read-only
    assert client.get(f"{path}/contracts", headers=_auth(user_key)).status_code == 401
    session.refresh(line)
    assert line.status is LineStatus.CLOSED  # [000 §10] the access codes stop working
    # the day the 48 hours are over, every login and API key of the customer stops
    assert contract.access_ends_at is not None
    scheduler.run_once(session_factory, today + timedelta(days=1))
    assert client.get(f"{path}/contracts", headers=_auth(admin_key)).status_code == 200
    scheduler.run_once(session_factory, today + timedelta(days=2))
    assert client.get(f"{path}/contracts", headers=_auth(admin_key)).status_code == 401
    session.refresh(admin)
    assert admin.active is False


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def line_eraser() -> Iterator[list[int]]:
    """A context's eraser, here deleting the contract's lines (standing for, say, the index of
    its recordings); it reports the rows it deleted."""
    deleted: list[int] = []

    def erase(session: Session, contract: Contract) -> int:
        rows = list(session.scalars(select(Line).where(Line.contract_id == contract.id)))
        for row in rows:
            deleted.append(row.id)
            session.delete(row)
        return len(rows)

    after_end.register_eraser(erase)
    yield deleted
    after_end.ERASERS.remove(erase)


# SPEC: CTR-09, PRIV-02
def test_end_customer_data_deleted_60_days_after_the_end(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    data_dir: Path,
    line_eraser: list[int],
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2026, 1, 5), [])
    for label in ("Alice", "Bob"):
        contracts.create_line(
            session,
            customer.id,
            LineIn(contract_id=contract.id, kind=LineKind.AGENT, label=f"{label} Martin"),
        )
    files = after_end.contract_files(contract)
    (files / "recordings").mkdir(parents=True)
    (files / "recordings" / "appel-0612345678.wav").write_bytes(b"RIFF")
    (files / "prospects.csv").write_text("nom,telephone\nDurand,0612345678\n")
    lifecycle.terminate(session, contract, on=date(2026, 3, 2), reason="fin")
    session.commit()
    # [000 §7.4] 60 days after the end (2 March): 1 May
    scheduler.run_once(session_factory, date(2026, 4, 30))
    session.refresh(contract)
    assert contract.status is ContractStatus.TERMINATED and files.exists()
    scheduler.run_once(session_factory, date(2026, 5, 1))
    session.refresh(contract)
    assert contract.status is ContractStatus.PURGED
    assert not files.exists()
    assert len(line_eraser) == 2
    assert session.scalars(select(Line).where(Line.contract_id == contract.id)).all() == []
    # the audit log records the deletions and the purge, never the data deleted
    events = session.scalars(select(AuditEvent).where(AuditEvent.customer_id == customer.id)).all()
    deletions = [e for e in events if e.action == "delete" and e.entity == "lines"]
    assert len(deletions) == 2 and all(e.before is None for e in deletions)
    purge = [
        e for e in events if e.entity == "contracts" and (e.after or {}).get("status") == "purged"
    ]
    assert len(purge) == 1
    logged = str([(e.before, e.after, e.reason) for e in events if e.at >= deletions[0].at])
    for secret in ("Alice", "Bob", "Durand", "0612345678", "prospects.csv"):
        assert secret not in logged
    history = lifecycle.history(session, contract.id)
    assert history[-1].transition == "purge"
    assert history[-1].details == {"files": 2, "rows": 2, "users": 0}


# SPEC: CTR-10
def test_returned_equipment_inspected_damaged_is_not_refunded(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2024, 3, 1), [])
    item = contracts.add_equipment(
        session,
        customer.id,
        EquipmentIn(
            contract_id=contract.id,
            serial="SN-1",
            model="Yealink",
            mode=EquipmentMode.PROVISION,
            value=Decimal("120.00"),
            delivered_on=date(2024, 3, 1),
        ),
    )
    other = contracts.add_equipment(
        session,
        customer.id,
        EquipmentIn(
            contract_id=contract.id,
            serial="SN-2",
            model="Yealink",
            mode=EquipmentMode.PROVISION,
            value=Decimal("120.00"),
            delivered_on=date(2024, 3, 1),
        ),
    )
    lifecycle.terminate(session, contract, on=date(2026, 4, 30), reason="fin")
    assert item.return_due_on == date(2026, 5, 10)  # [001 §12.5] within 10 days
    equipment.record_return(session, item, date(2026, 5, 4))
    equipment.record_return(session, other, date(2026, 5, 4))
    assert item.inspection_due_on == date(2026, 6, 18)  # [001 §12.5] inspection in 45 days
    assert (
        equipment.inspect(session, item, inspected_on=date(2026, 5, 20), good_condition=False)
        is None
    )
    with pytest.raises(Conflict):
        equipment.inspect(session, item, inspected_on=date(2026, 5, 21), good_condition=True)
    # in good condition after 2 years and 2 months of use (3 started years): 120 × 40 % = 48
    note = equipment.inspect(session, other, inspected_on=date(2026, 5, 20), good_condition=True)
    assert note is not None and note.total_net == Decimal("48.00")
    session.commit()
    # returned in time: nothing is invoiced for them afterwards
    scheduler.run_once(session_factory, date(2026, 5, 11))
    invoices = session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).all()
    assert [i.purpose for i in invoices] == [f"equipment-refund:{other.id}"]
    assert (item.status, other.status) == (EquipmentStatus.RETURNED, EquipmentStatus.RETURNED)


# SPEC: CTR-10
def test_refund_depreciation_per_started_year() -> None:
    assert equipment.started_years(date(2026, 1, 5), date(2026, 1, 5)) == 0
    assert equipment.started_years(date(2026, 1, 5), date(2026, 1, 6)) == 1
    assert equipment.started_years(date(2026, 1, 5), date(2027, 1, 5)) == 1
    assert equipment.started_years(date(2026, 1, 5), date(2027, 1, 6)) == 2
    assert equipment.refund_amount(Decimal("120"), Decimal("20"), 6) == Decimal("0.00")
