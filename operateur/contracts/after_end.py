"""After termination (CTR-09, PRIV-02): access, then deletion of end-customer data.

- The service's access codes stop working at the end: the contract's lines are closed when
  the terms say so (``access_codes_revoked``).
- Where the terms keep the administrator account open for a while (``admin_access_hours``,
  48 h [000 §10]) and the customer has no other live contract, its administrators keep a
  read-only access until then to retrieve their data (their role becomes read-only; other users
  lose access at once); after it, every login and API key of the customer stops working. A new
  contract signed within that window gives the administrators their role back
  (:func:`on_new_contract`).
- End-customer data, recordings included, is deleted ``end_customer_data_deletion_days`` after
  the end (60 days [000 §7.4]): the contract's files under ``<data_dir>/contracts/<id>/`` (where
  the engines store recordings and imports) and the rows other contexts register through
  :func:`register_eraser`. The deletion is real; the audit log records it without the data, and
  the contract becomes ``purged``. When no other contract still serves the customer or keeps its
  data, the customer's users are anonymised too (logins impossible, API keys revoked), their
  rows kept for the audit log's references (SEC-02).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import ApiKey, Role, User
from operateur.config import Settings
from operateur.contracts import notices
from operateur.contracts.models import SERVED, Contract, ContractStatus, Line, LineStatus
from operateur.contracts.service import record_transition, terms_of
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.i18n import Text

#: Deleters of end-customer data kept by other contexts (voice recordings, message contents...):
#: each deletes the rows of one contract and returns how many it deleted.
Eraser = Callable[[Session, Contract], int]
ERASERS: list[Eraser] = []


def register_eraser(eraser: Eraser) -> Eraser:
    """Register a function deleting a context's end-customer data of a contract (CTR-09)."""
    if eraser not in ERASERS:
        ERASERS.append(eraser)
    return eraser


def contract_files(contract: Contract, settings: Settings | None = None) -> Path:
    """Where the engines keep a contract's files (recordings, imports, exports)."""
    return (settings or Settings()).data_dir / "contracts" / str(contract.id)


def _other_live_contract(session: Session, contract: Contract) -> bool:
    return (
        session.scalar(
            select(Contract.id).where(
                Contract.customer_id == contract.customer_id,
                Contract.id != contract.id,
                Contract.status.in_(SERVED),
            )
        )
        is not None
    )


def access_end(on: date, hours: int) -> datetime:
    """The end of read-only access: ``hours`` after the end of the last day of service."""
    return datetime.combine(on + timedelta(days=1), time(0), PARIS) + timedelta(hours=hours)


def purge_date(contract: Contract) -> date | None:
    days = terms_of(contract).post_termination.end_customer_data_deletion_days
    if days is None or contract.terminated_on is None:
        return None
    return contract.terminated_on + timedelta(days=days)


def on_termination(session: Session, contract: Contract, on: date) -> Text | None:
    """Close what ends with the contract and say what follows (access, deletion)."""
    terms = terms_of(contract).post_termination
    parts: list[Text] = []
    if terms.access_codes_revoked:
        for line in session.scalars(select(Line).where(Line.contract_id == contract.id)):
            line.status = LineStatus.CLOSED
        parts.append(
            Text(
                fr="Les accès au service (lignes, identifiants) ne fonctionnent plus.",
                en="The service's access codes (lines, credentials) no longer work.",
            )
        )
    if terms.admin_access_hours is not None and not _other_live_contract(session, contract):
        ends = access_end(on, terms.admin_access_hours)
        contract.access_ends_at = ends
        contract.read_only_admins = _read_only(session, contract.customer_id)
        parts.append(
            Text(
                fr="Vos administrateurs gardent un accès en lecture seule jusqu'au "
                f"{ends.astimezone(PARIS):%d/%m/%Y à %H:%M} pour récupérer vos données ; "
                "les accès seront ensuite fermés.",
                en="Your administrators keep a read-only access until "
                f"{ends.astimezone(PARIS):%Y-%m-%d %H:%M} (Paris) to retrieve your data; "
                "access then ends.",
            )
        )
    contract.terminated_on = on
    purge_on = purge_date(contract)
    if purge_on is not None:
        parts.append(
            Text(
                fr="Les données de vos clients finaux, enregistrements compris, seront "
                f"effacées définitivement le {notices.fr(purge_on)}.",
                en="Your end customers' data, recordings included, will be permanently "
                f"deleted on {notices.en(purge_on)}.",
            )
        )
    session.flush()
    return notices.join(*parts) if parts else None


def _read_only(session: Session, customer_id: int) -> dict[str, list[int]]:
    """Administrators keep a read-only role; the customer's other users lose access. Returns
    the users and API keys made read-only, to give their role back on a new contract."""
    demoted: dict[str, list[int]] = {"users": [], "api_keys": []}
    for user in session.scalars(select(User).where(User.customer_id == customer_id)):
        if user.role == Role.CUSTOMER_ADMIN:
            user.role = Role.CUSTOMER_USER
            demoted["users"].append(user.id)
        elif user.active:
            accounts.deactivate_user(session, user)
    for key in session.scalars(
        select(ApiKey).where(ApiKey.customer_id == customer_id, ApiKey.revoked_at.is_(None))
    ):
        if key.role == Role.CUSTOMER_ADMIN:
            key.role = Role.CUSTOMER_USER
            demoted["api_keys"].append(key.id)
        else:
            accounts.revoke_api_key(session, key)
    session.flush()
    return demoted


def on_new_contract(session: Session, customer_id: int, at: datetime) -> list[str]:
    """CTR-09: a contract signed while an ended contract's read-only access still runs gives
    the administrators made read-only their role back; that access is then no longer closed
    by the scheduler (the customer is live again). The references of the windows ended."""
    done: list[str] = []
    for contract in session.scalars(
        select(Contract).where(
            Contract.customer_id == customer_id,
            Contract.access_ends_at.is_not(None),
            Contract.access_ends_at > at,
            Contract.access_closed_at.is_(None),
        )
    ):
        demoted = contract.read_only_admins or {}
        for user_id in demoted.get("users", []):
            user = session.get(User, user_id)
            if user is not None and user.active and user.role == Role.CUSTOMER_USER:
                user.role = Role.CUSTOMER_ADMIN
        for key_id in demoted.get("api_keys", []):
            key = session.get(ApiKey, key_id)
            if key is not None and key.revoked_at is None and key.role == Role.CUSTOMER_USER:
                key.role = Role.CUSTOMER_ADMIN
        contract.read_only_admins = None
        contract.access_closed_at = at
        done.append(contract.reference)
    session.flush()
    return done


def close_access(session: Session, as_of: datetime) -> list[str]:
    """CTR-09: once the read-only period is over, every login and API key of the customer
    stops working (unless the customer has signed a new contract meanwhile)."""
    done: list[str] = []
    for contract in session.scalars(
        select(Contract).where(
            Contract.access_ends_at.is_not(None),
            Contract.access_ends_at <= as_of,
            Contract.access_closed_at.is_(None),
        )
    ):
        contract.access_closed_at = utcnow()
        if _other_live_contract(session, contract):
            continue
        for user in session.scalars(
            select(User).where(User.customer_id == contract.customer_id, User.active.is_(True))
        ):
            accounts.deactivate_user(session, user)
        for key in session.scalars(
            select(ApiKey).where(
                ApiKey.customer_id == contract.customer_id, ApiKey.revoked_at.is_(None)
            )
        ):
            accounts.revoke_api_key(session, key)
        done.append(f"access_closed:{contract.reference}")
    session.flush()
    return done


def purge(session: Session, contract: Contract, on: date) -> dict[str, int]:
    """Delete the contract's end-customer data for good (files and registered rows); the audit
    log records the deletion and its counts, never the data. The contract becomes purged."""
    directory = contract_files(contract)
    files = sum(1 for p in directory.rglob("*") if p.is_file()) if directory.exists() else 0
    previous = session.info.get("audit_omit_data")
    session.info["audit_omit_data"] = True
    try:
        rows = sum(eraser(session, contract) for eraser in ERASERS)
        users = _erase_users(session, contract, on)
        session.flush()
    finally:
        session.info["audit_omit_data"] = previous
    counts = {"files": files, "rows": rows, "users": users}
    record_transition(
        session,
        contract,
        "purge",
        (ContractStatus.TERMINATED,),
        ContractStatus.PURGED,
        f"CTR-09 end-customer data deleted on {on.isoformat()}: {files} file(s), {rows} row(s)",
        counts,
    )
    if directory.exists():
        shutil.rmtree(directory)
    notices.send(
        session,
        contract,
        "contract.purged",
        subject=Text(
            fr=f"Effacement des données du contrat {contract.reference}",
            en=f"Data of contract {contract.reference} deleted",
        ),
        body=Text(
            fr=f"Les données de vos clients finaux, enregistrements compris, ont été effacées "
            f"définitivement le {notices.fr(on)}.",
            en=f"Your end customers' data, recordings included, was permanently deleted on "
            f"{notices.en(on)}.",
        ),
        key=f"purge:{contract.id}",
        data={"on": on} | counts,
    )
    return counts


def _erase_users(session: Session, contract: Contract, on: date) -> int:
    """CTR-09, PRIV-02: with the customer's last data goes its people's: once no other
    contract still serves the customer or still keeps its data (terminated, deletion to come),
    its users are anonymised (:func:`accounts.erase_user`: logins impossible, sessions ended)
    and its API keys revoked. The rows stay for the audit log (SEC-02). Returns how many users
    were erased."""
    others = session.scalars(
        select(Contract).where(
            Contract.customer_id == contract.customer_id,
            Contract.id != contract.id,
            Contract.status.in_((*SERVED, ContractStatus.TERMINATED)),
        )
    )
    for other in others:
        if other.status in SERVED:
            return 0
        other_purge = purge_date(other)
        if other_purge is not None and other_purge > on:
            return 0  # that contract's purge erases them when its data goes
    erased = 0
    for user in session.scalars(select(User).where(User.customer_id == contract.customer_id)):
        if not accounts.is_erased(user):
            accounts.erase_user(session, user)
            erased += 1
    for key in session.scalars(
        select(ApiKey).where(
            ApiKey.customer_id == contract.customer_id, ApiKey.revoked_at.is_(None)
        )
    ):
        accounts.revoke_api_key(session, key)
    return erased


def purge_due(session: Session, as_of: date) -> list[str]:
    """Purge every terminated contract whose deletion date has come."""
    done: list[str] = []
    for contract in list(
        session.scalars(select(Contract).where(Contract.status == ContractStatus.TERMINATED))
    ):
        when = purge_date(contract)
        if when is not None and when <= as_of:
            purge(session, contract, as_of)
            done.append(f"purged:{contract.reference}")
    return done
