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
    # CTR-06 [004 §11.4] terminate a totally suspended contract: either party, so the
    # customer's administrator as well as the staff who write contracts
    CONTRACTS_TERMINATE = "contracts:terminate"
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
    WEBHOOKS_MANAGE = "webhooks:manage"  # a customer's webhook endpoints (notifications)
    ORDERS_PLACE = "orders:place"  # place an order for a customer (CTR-12)
    ORDERS_REVIEW = "orders:review"  # accept or refuse orders, the order queue (CTR-12)
    TICKETS_OPEN = "tickets:open"  # open and follow a customer's support tickets (SUP-01)
    TICKETS_ANSWER = "tickets:answer"  # answer and close tickets, the support queue (SUP-01..03)
    LOSS_DECLARE = "loss:declare"  # declare lost or stolen credentials, SIM, equipment (SUP-04)
    DATA_EXPORT = "data:export"  # export a customer's data (PRIV-01)
    MAIL_READ = "mail:read"  # a customer's mail gateway: domains, quarantine, SLA (MAIL-03)
    MAIL_MANAGE = "mail:manage"  # domains, mailboxes, lists, releases of a customer (MAIL-11)
    MAIL_OPERATE = "mail:operate"  # operator-wide lists, refused domains, SLA credits (MAIL-02)
    VOICE_CONTROL = "voice:control"  # the SIP proxy asks before each call (VOX-01..11)
    VOICE_READ = "voice:read"  # a customer's live calls, consents and calling profiles
    VOICE_CONSENTS_WRITE = "voice:consents:write"  # record consents and refusals (VOX-10)
    VOICE_ADMIN = "voice:admin"  # opposition list, suspended destinations, profiles (VOX-01/10)
    FRAUD_MANAGE = "fraud:manage"  # fraud alerts: list and resolve them (VOX-06, BIL-13/15)
    REPORTS_MANAGE = "reports:manage"  # consumer reports on numbers, notices (VOX-16)
    RECORDINGS_READ = "recordings:read"  # a customer's call recordings, export (VOX-12)
    RECORDINGS_WRITE = "recordings:write"  # attach recording files to calls (VOX-12)
    PORTING_REQUEST = "porting:request"  # ask to port a number in (VOX-15)
    PORTING_MANAGE = "porting:manage"  # record the donor operator's answer (VOX-15)
    DIRECTORY_WRITE = "directory:write"  # what the public lookup shows (VOX-17)
    DIALER_USE = "dialer:use"  # the calling CRM: contacts, lists, outcomes (VOX-18)
    SMS_READ = "sms:read"  # a customer's SMS: messages, campaigns, lists, stock (SMS-01)
    SMS_SEND = "sms:send"  # send SMS, campaigns, templates and lists (SMS-01)
    SMS_MANAGE = "sms:manage"  # sender requests and API settings of a customer (SMS-05)
    SMS_REVIEW = "sms:review"  # held messages, sender reviews, stock (SMS-05, SMS-08, SMS-09)
    MAINTENANCE_MANAGE = "maintenance:manage"  # announce and cancel planned maintenance (CTR-06)
    INCIDENTS_MANAGE = "incidents:manage"  # the security-incident register (SEC-02, SEC-03)
    INCIDENTS_READ = "incidents:read"  # the incidents that affected one customer (SEC-02)
    DATA_REQUESTS = "data-requests:manage"  # a customer's data subjects' requests (PRIV-01)
    DATA_REQUESTS_REVIEW = "data-requests:review"  # every customer's requests overdue (PRIV-01)


_READ_ONE = {
    Permission.BILLING_READ,
    Permission.CATALOG_READ,
    Permission.CUSTOMER_READ,
    Permission.CONTRACTS_READ,
    Permission.NUMBERS_READ,
    Permission.VOICE_READ,
    Permission.SMS_READ,
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
            Permission.CONTRACTS_TERMINATE,
            Permission.BILLING_WRITE,
            Permission.ORDERS_PLACE,
            Permission.ORDERS_REVIEW,
            Permission.DISPUTES_FILE,
            Permission.CUSTOMER_AUDIT_READ,
            Permission.FRAUD_MANAGE,
            Permission.REPORTS_MANAGE,
        }
    ),
    Role.SUPPORT: frozenset(
        _READ_ONE
        | {
            Permission.CUSTOMERS_LIST,
            Permission.CUSTOMER_PROFILE_WRITE,
            Permission.USERS_MANAGE,
            Permission.CUSTOMER_AUDIT_READ,
            Permission.TICKETS_OPEN,
            Permission.TICKETS_ANSWER,
            Permission.WEBHOOKS_MANAGE,
            Permission.ORDERS_PLACE,
            Permission.LOSS_DECLARE,
            Permission.DATA_EXPORT,
            Permission.MAIL_READ,
            Permission.MAIL_MANAGE,
            Permission.VOICE_CONSENTS_WRITE,
            Permission.REPORTS_MANAGE,
            Permission.RECORDINGS_READ,
            Permission.PORTING_REQUEST,
            Permission.DIRECTORY_WRITE,
            Permission.SMS_REVIEW,
            Permission.INCIDENTS_MANAGE,
            Permission.INCIDENTS_READ,
            Permission.DATA_REQUESTS,
            Permission.DATA_REQUESTS_REVIEW,
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
            Permission.MAIL_READ,
            Permission.MAIL_MANAGE,
            Permission.MAIL_OPERATE,
            Permission.VOICE_CONTROL,
            Permission.VOICE_READ,
            Permission.VOICE_CONSENTS_WRITE,
            Permission.VOICE_ADMIN,
            Permission.FRAUD_MANAGE,
            Permission.RECORDINGS_WRITE,
            Permission.PORTING_REQUEST,
            Permission.PORTING_MANAGE,
            Permission.DIRECTORY_WRITE,
            Permission.MAINTENANCE_MANAGE,
            Permission.INCIDENTS_MANAGE,
            Permission.INCIDENTS_READ,
        }
    ),
    Role.CUSTOMER_ADMIN: frozenset(
        _READ_ONE
        | {
            Permission.CONTRACTS_TERMINATE,
            Permission.DISPUTES_FILE,
            Permission.CUSTOMER_PROFILE_WRITE,
            Permission.USERS_MANAGE,
            Permission.CUSTOMER_AUDIT_READ,
            Permission.TICKETS_OPEN,
            Permission.LOSS_DECLARE,
            Permission.DATA_EXPORT,
            Permission.WEBHOOKS_MANAGE,
            Permission.ORDERS_PLACE,
            Permission.MAIL_READ,
            Permission.MAIL_MANAGE,
            Permission.VOICE_CONSENTS_WRITE,
            Permission.RECORDINGS_READ,
            Permission.PORTING_REQUEST,
            Permission.DIALER_USE,
            Permission.SMS_SEND,
            Permission.SMS_MANAGE,
            Permission.INCIDENTS_READ,
            Permission.DATA_REQUESTS,
        }
    ),
    Role.CUSTOMER_USER: frozenset(
        _READ_ONE
        | {
            Permission.TICKETS_OPEN,
            Permission.LOSS_DECLARE,
            Permission.DIALER_USE,
            Permission.SMS_SEND,
        }
    ),
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
