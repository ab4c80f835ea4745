"""Tables of the accounts context."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operateur.catalog.terms import PaymentMethod
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class Audited:
    """Marker: every insert, update and delete of these rows is written to the audit log."""


class CustomerStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Role(enum.StrEnum):
    """Staff roles (the operator's employees) and customer roles."""

    ADMIN = "admin"
    BILLING = "billing"
    SUPPORT = "support"
    NETWORK = "network"
    CUSTOMER_ADMIN = "customer_admin"
    CUSTOMER_USER = "customer_user"

    @property
    def is_staff(self) -> bool:
        return self not in (Role.CUSTOMER_ADMIN, Role.CUSTOMER_USER)


class Operator(Base, Audited):
    """The company running the platform: the seller on every invoice."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(50), default="")
    siren: Mapped[str] = mapped_column(String(9), unique=True)
    vat_number: Mapped[str] = mapped_column(String(20))
    address_line: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="FR")
    email: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    sepa_creditor_id: Mapped[str | None] = mapped_column(String(35))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Customer(Base, Audited):
    """A business customer: a legal entity acting professionally (CTR-12)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(50), default="")
    siren: Mapped[str | None] = mapped_column(String(9), index=True)
    siret: Mapped[str | None] = mapped_column(String(14))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    address_line: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="FR")
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    iban: Mapped[str | None] = mapped_column(String(34), info={"secret": True})
    bic: Mapped[str | None] = mapped_column(String(11))
    payment_method: Mapped[PaymentMethod] = mapped_column(
        StrEnumType(PaymentMethod), default=PaymentMethod.SEPA_DIRECT_DEBIT
    )
    status: Mapped[CustomerStatus] = mapped_column(
        StrEnumType(CustomerStatus), default=CustomerStatus.PROSPECT
    )
    lang: Mapped[str] = mapped_column(String(2), default="fr")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )


class Contact(Base, Audited):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default="admin")  # admin, billing, technical
    lang: Mapped[str] = mapped_column(String(2), default="fr")

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class User(Base, Audited):
    """A person who logs in: operator staff (no customer) or a customer's administrator/user."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200), info={"secret": True})
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    lang: Mapped[str] = mapped_column(String(2), default="fr")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, info={"audit": False})
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info={"audit": False})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginSession(Base, Audited):
    """A login of a user (portal cookie or bearer token); only a hash of the token is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, info={"secret": True})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(100))
    # PRIV-02 [003 §15.3] connection data: kept here for the terms' ``logs_days`` and deleted
    # with the row (operateur/accounts/retention.py), so never copied into the lasting audit log
    client_ip: Mapped[str | None] = mapped_column(String(64), info={"audit": False})


class ApiKey(Base, Audited):
    """A credential for API clients; shown once at creation, stored as a hash, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), info={"secret": True})
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info={"audit": False})


class AuditEvent(Base):
    """Append-only record of every write: who, when, what, before and after (SEC-02, MAIL-11)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(50), index=True)
    entity: Mapped[str] = mapped_column(String(50), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(50))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
