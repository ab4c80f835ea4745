"""Who may do what: one permission table, read by the single access dependency."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from operateur.accounts.models import Role


class Permission(enum.StrEnum):
    CATALOG_READ = "catalog:read"
    CUSTOMERS_LIST = "customers:list"  # see every customer of the operator
    CUSTOMERS_CREATE = "customers:create"
    CUSTOMER_READ = "customer:read"  # one customer's own data
    CUSTOMER_IDENTITY_WRITE = "customer:identity:write"  # legal identity, status
    CUSTOMER_PROFILE_WRITE = "customer:profile:write"  # contacts, bank details, language
    USERS_MANAGE = "users:manage"  # users and API keys of a customer (or staff)
    STAFF_MANAGE = "staff:manage"
    CONTRACTS_READ = "contracts:read"
    CONTRACTS_WRITE = "contracts:write"
    NUMBERS_READ = "numbers:read"
    NUMBERS_ASSIGN = "numbers:assign"
    NUMBERS_INVENTORY = "numbers:inventory"  # the operator's whole number stock
    LINES_WRITE = "lines:write"
    EQUIPMENT_WRITE = "equipment:write"
    BILLING_READ = "billing:read"  # one customer's invoices, payments, usage, wallet
    BILLING_WRITE = "billing:write"  # runs, payments, top-ups, mandates, decks
    DISPUTES_FILE = "disputes:file"  # contest an invoice (BIL-07)
    AUDIT_READ = "audit:read"  # the operator's whole audit log
    CUSTOMER_AUDIT_READ = "customer:audit:read"  # one customer's own audit trail


_READ_ONE = {
    Permission.BILLING_READ,
    Permission.CATALOG_READ,
    Permission.CUSTOMER_READ,
    Permission.CONTRACTS_READ,
    Permission.NUMBERS_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.BILLING: frozenset(
        _READ_ONE
        | {
            Permission.CUSTOMERS_LIST,
            Permission.CUSTOMERS_CREATE,
            Permission.CUSTOMER_IDENTITY_WRITE,
            Permission.CUSTOMER_PROFILE_WRITE,
            Permission.CONTRACTS_WRITE,
            Permission.BILLING_WRITE,
            Permission.DISPUTES_FILE,
            Permission.CUSTOMER_AUDIT_READ,
        }
    ),
    Role.SUPPORT: frozenset(
        _READ_ONE
        | {
            Permission.CUSTOMERS_LIST,
            Permission.CUSTOMER_PROFILE_WRITE,
            Permission.USERS_MANAGE,
            Permission.CUSTOMER_AUDIT_READ,
        }
    ),
    Role.NETWORK: frozenset(
        _READ_ONE
        | {
            Permission.CUSTOMERS_LIST,
            Permission.NUMBERS_ASSIGN,
            Permission.NUMBERS_INVENTORY,
            Permission.LINES_WRITE,
            Permission.EQUIPMENT_WRITE,
        }
    ),
    Role.CUSTOMER_ADMIN: frozenset(
        _READ_ONE
        | {
            Permission.DISPUTES_FILE,
            Permission.CUSTOMER_PROFILE_WRITE,
            Permission.USERS_MANAGE,
            Permission.CUSTOMER_AUDIT_READ,
        }
    ),
    Role.CUSTOMER_USER: frozenset(_READ_ONE),
}


@dataclass(frozen=True)
class Actor:
    """Whoever performs a request: a logged-in user, an API key, or the platform itself."""

    kind: str  # "user", "api_key", "system"
    id: int | None
    label: str
    role: Role
    operator_id: int | None
    customer_id: int | None = None
    user_id: int | None = None
    session_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.customer_id is None and self.role.is_staff

    def has(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def may_access_customer(self, customer_id: int) -> bool:
        """Tenancy: staff reach every customer, a customer credential only its own."""
        return self.is_staff or self.customer_id == customer_id


def system_actor(label: str = "system") -> Actor:
    """The platform itself (CLI, scheduler, demo loader): full rights, named in the audit log."""
    return Actor(kind="system", id=None, label=label, role=Role.ADMIN, operator_id=None)
