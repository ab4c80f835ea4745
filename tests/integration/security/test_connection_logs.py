"""PRIV-02 [003 §15.3]: connection data — when and from which IP address each login came — is
kept the days of the customer's terms (``retention.logs_days``, 365) from its creation, then
deleted; the audit log records the login without the address."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur import scheduler
from operateur.accounts import retention
from operateur.accounts import service as accounts
from operateur.accounts.models import AuditEvent, LoginSession, Role
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import UserIn
from operateur.db import utcnow
from tests.integration.conftest import Builder

PASSWORD = "correct horse battery"


def _login(session: Session, email: str, ip: str) -> LoginSession:
    row, _token, _user = accounts.login(
        session,
        email,
        PASSWORD,
        session_hours=8,
        max_failures=5,
        lockout_minutes=15,
        single_session=False,
        client_ip=ip,
    )
    return row


def _user(session: Session, build: Builder, customer_id: int | None, email: str) -> None:
    accounts.create_user(
        session,
        system_actor(),
        operator_id=build.operator_id,
        customer_id=customer_id,
        data=UserIn(
            email=email,
            display_name=email,
            password=PASSWORD,
            role=Role.CUSTOMER_ADMIN if customer_id is not None else Role.SUPPORT,
        ),
    )


# SPEC: PRIV-02
def test_connection_data_leaves_after_the_days_of_the_customers_terms(
    session: Session, build: Builder
) -> None:
    short = build.customer(name="Court")
    build.contract(
        short, "telecom", date(2026, 1, 5), [], overrides={"retention": {"logs_days": 30}}
    )
    usual = build.customer(name="Usuel")
    build.contract(usual, "telecom", date(2026, 1, 5), [])  # the offer's 365 days
    _user(session, build, short.id, "admin@court.fr")
    _user(session, build, usual.id, "admin@usuel.fr")
    _user(session, build, None, "support@operateur-test.fr")
    old_short = _login(session, "admin@court.fr", "192.0.2.10")
    old_usual = _login(session, "admin@usuel.fr", "192.0.2.20")
    old_staff = _login(session, "support@operateur-test.fr", "192.0.2.30")
    session.flush()

    later = utcnow() + timedelta(days=31)
    purged = retention.purge_connection_logs(session, later)

    assert purged == 1
    remaining = set(session.scalars(select(LoginSession.id)))
    assert old_short.id not in remaining  # 31 days > the 30 of its terms
    assert {old_usual.id, old_staff.id} <= remaining  # 365 days: kept
    # a year and a day later, the usual customer's and the staff's logins go too
    assert retention.purge_connection_logs(session, utcnow() + timedelta(days=366)) == 2
    assert session.scalar(select(LoginSession.id)) is None


# SPEC: PRIV-02, SEC-02
def test_the_audit_log_records_a_login_without_its_ip_address(
    session: Session, build: Builder
) -> None:
    customer = build.customer(name="Traces")
    build.contract(customer, "telecom", date(2026, 1, 5), [])
    _user(session, build, customer.id, "admin@traces.fr")
    row = _login(session, "admin@traces.fr", "198.51.100.7")
    session.flush()
    [created] = [
        e
        for e in session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "login_sessions", AuditEvent.action == "create"
            )
        )
        if e.after is not None and e.after["id"] == row.id
    ]
    assert created.after is not None and created.after["user_id"] == row.user_id
    assert "198.51.100.7" not in str(created.after)
    assert row.client_ip == "198.51.100.7"  # the connection log itself keeps it (its days)


# SPEC: PRIV-02
def test_the_scheduler_deletes_connection_data_every_day(session: Session, build: Builder) -> None:
    customer = build.customer(name="Quotidien")
    build.contract(customer, "telecom", date(2026, 1, 5), [])
    _user(session, build, customer.id, "admin@quotidien.fr")
    _login(session, "admin@quotidien.fr", "203.0.113.5")
    session.flush()
    job = next(j for j in scheduler.DAILY_JOBS if j.name == "connection_logs_retention")
    assert job.due(date(2026, 3, 1))
    job.body(session, utcnow().date() + timedelta(days=365))
    assert session.scalar(select(LoginSession.id)) is not None  # 365 days not yet over
    job.body(session, utcnow().date() + timedelta(days=367))
    assert session.scalar(select(LoginSession.id)) is None
