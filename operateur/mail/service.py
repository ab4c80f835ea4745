"""Use cases of the mail context for the console (API, CLI) and the gateway: protected domains,
the customer's own servers, mailboxes, allow/deny lists, refused domains, settings, and the
per-customer view the gateway filters with. Each takes a session and commits nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.security import hash_password
from operateur.catalog.terms import ContractTerms, MailRules
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text
from operateur.mail import licences
from operateur.mail.filter import Policy
from operateur.mail.models import (
    ConsoleLog,
    ListKind,
    Mailbox,
    MailDomain,
    MailListEntry,
    MailServer,
    MailSettings,
    RefusedDomain,
)
from operateur.mail.rules import (
    domain_of,
    normalize_address,
    normalize_domain,
    normalize_list_value,
)

# --- refused domains (MAIL-07 [003 §3.2]) ----------------------------------------------------


def find_refusal(session: Session, operator_id: int, name: str) -> RefusedDomain | None:
    """The refusal covering ``name`` or one of its parent domains, if any."""
    labels = name.split(".")
    parents = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return session.scalar(
        select(RefusedDomain).where(
            RefusedDomain.operator_id == operator_id, RefusedDomain.name.in_(parents)
        )
    )


def refuse_domain(session: Session, operator_id: int, name: str, reason: str) -> RefusedDomain:
    normalized = normalize_domain(name)
    if not reason.strip():
        raise InvalidInput(Text(fr="Indiquez le motif.", en="Give the reason."), field="reason")
    if session.scalar(
        select(RefusedDomain.id).where(
            RefusedDomain.operator_id == operator_id, RefusedDomain.name == normalized
        )
    ):
        raise Conflict(
            Text(fr="Domaine déjà refusé : {name}", en="Domain already refused: {name}"),
            code="domain_already_refused",
            field="name",
            details={"name": normalized},
        )
    refused = RefusedDomain(operator_id=operator_id, name=normalized, reason=reason.strip())
    session.add(refused)
    session.flush()
    return refused


def list_refused_domains(session: Session, operator_id: int) -> list[RefusedDomain]:
    return list(
        session.scalars(
            select(RefusedDomain)
            .where(RefusedDomain.operator_id == operator_id)
            .order_by(RefusedDomain.name)
        )
    )


def get_refused_domain(session: Session, operator_id: int, refused_id: int) -> RefusedDomain:
    refused = session.scalar(
        select(RefusedDomain).where(
            RefusedDomain.id == refused_id, RefusedDomain.operator_id == operator_id
        )
    )
    if refused is None:
        raise NotFound(
            Text(fr="Refus {id} introuvable.", en="Refusal {id} not found."),
            code="refused_domain_not_found",
            details={"id": refused_id},
        )
    return refused


# --- protected domains (MAIL-01, MAIL-07) ----------------------------------------------------


def find_domain(session: Session, name: str) -> MailDomain | None:
    return session.scalar(select(MailDomain).where(MailDomain.name == name.lower()))


def add_domain(session: Session, customer_id: int, name: str, on: date) -> MailDomain:
    """Protect a domain for the customer: a valid name, not refused by the operator, not
    protected already, within the contract's domain licence (MAIL-07)."""
    customer = accounts.get_customer(session, customer_id)
    normalized = normalize_domain(name)
    refusal = find_refusal(session, customer.operator_id, normalized)
    if refusal is not None:
        raise InvalidInput(
            Text(
                fr="Le domaine {name} est refusé par l'opérateur : {reason}",
                en="The domain {name} is refused by the operator: {reason}",
            ),
            code="domain_refused",
            field="name",
            details={"name": normalized, "reason": refusal.reason},
        )
    if find_domain(session, normalized) is not None:
        raise Conflict(
            Text(fr="Le domaine {name} est déjà protégé.", en="{name} is already protected."),
            code="domain_taken",
            field="name",
            details={"name": normalized},
        )
    contract = licences.require_room(session, customer_id, licences.DOMAIN, on)
    domain = MailDomain(customer_id=customer_id, contract_id=contract.id, name=normalized)
    session.add(domain)
    session.flush()
    return domain


def list_domains(session: Session, customer_id: int) -> list[MailDomain]:
    return list(
        session.scalars(
            select(MailDomain).where(MailDomain.customer_id == customer_id).order_by(MailDomain.id)
        )
    )


def get_domain(session: Session, customer_id: int, domain_id: int) -> MailDomain:
    domain = session.scalar(
        select(MailDomain).where(MailDomain.id == domain_id, MailDomain.customer_id == customer_id)
    )
    if domain is None:
        raise NotFound(
            Text(fr="Domaine {id} introuvable.", en="Domain {id} not found."),
            code="mail_domain_not_found",
            details={"id": domain_id},
        )
    return domain


def remove_domain(session: Session, domain: MailDomain) -> None:
    """Stop protecting a domain; its mailboxes must be removed first."""
    if session.scalar(select(Mailbox.id).where(Mailbox.domain_id == domain.id).limit(1)):
        raise Conflict(
            Text(
                fr="Le domaine {name} a encore des adresses : supprimez-les d'abord.",
                en="The domain {name} still has mailboxes: remove them first.",
            ),
            code="domain_has_mailboxes",
            details={"name": domain.name},
        )
    for server in session.scalars(select(MailServer).where(MailServer.domain_id == domain.id)):
        session.delete(server)
    session.delete(domain)
    session.flush()


# --- the customer's own servers --------------------------------------------------------------


def add_server(
    session: Session,
    customer_id: int,
    host: str,
    *,
    port: int = 25,
    priority: int = 10,
    domain_id: int | None = None,
) -> MailServer:
    """A server of the customer where clean inbound mail is relayed (lowest priority first)."""
    if domain_id is not None:
        get_domain(session, customer_id, domain_id)
    text = host.strip().lower().rstrip(".")
    name = text if _is_ip(text) else normalize_domain(text, "host")
    if not 1 <= port <= 65535:
        raise InvalidInput(Text(fr="Port invalide.", en="Invalid port."), field="port")
    server = MailServer(
        customer_id=customer_id, domain_id=domain_id, host=name, port=port, priority=priority
    )
    session.add(server)
    session.flush()
    return server


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def list_servers(session: Session, customer_id: int) -> list[MailServer]:
    return list(
        session.scalars(
            select(MailServer)
            .where(MailServer.customer_id == customer_id)
            .order_by(MailServer.priority, MailServer.id)
        )
    )


def get_server(session: Session, customer_id: int, server_id: int) -> MailServer:
    server = session.scalar(
        select(MailServer).where(MailServer.id == server_id, MailServer.customer_id == customer_id)
    )
    if server is None:
        raise NotFound(
            Text(fr="Serveur {id} introuvable.", en="Server {id} not found."),
            code="mail_server_not_found",
            details={"id": server_id},
        )
    return server


def servers_for(session: Session, customer_id: int, domain: str) -> list[tuple[str, int]]:
    """Where inbound mail for ``domain`` goes: the servers of that domain, then the customer's
    servers for every domain, each group by priority."""
    found = find_domain(session, domain)
    rows = [
        s
        for s in list_servers(session, customer_id)
        if s.domain_id is None or (found is not None and s.domain_id == found.id)
    ]
    rows.sort(key=lambda s: (s.domain_id is None, s.priority, s.id))
    return [(s.host, s.port) for s in rows]


# --- mailboxes -------------------------------------------------------------------------------


def find_mailbox(session: Session, address: str) -> Mailbox | None:
    return session.scalar(select(Mailbox).where(Mailbox.address == address.lower()))


def _check_password(password: str) -> str:
    if len(password) < 12:
        raise InvalidInput(
            Text(
                fr="Mot de passe trop court (12 caractères au moins).",
                en="Password too short (at least 12 characters).",
            ),
            field="password",
        )
    return hash_password(password)


def add_mailbox(
    session: Session,
    customer_id: int,
    address: str,
    on: date,
    *,
    filtering_enabled: bool = True,
    digest_enabled: bool = True,
    password: str | None = None,
) -> Mailbox:
    """A licensed address of one of the customer's protected domains (MAIL-07)."""
    normalized = normalize_address(address)
    domain = find_domain(session, domain_of(normalized))
    if domain is None or domain.customer_id != customer_id:
        raise InvalidInput(
            Text(
                fr="{address} n'est pas dans un domaine protégé de ce client.",
                en="{address} is not in a protected domain of this customer.",
            ),
            code="mailbox_domain_unknown",
            field="address",
            details={"address": normalized},
        )
    if find_mailbox(session, normalized) is not None:
        raise Conflict(
            Text(fr="L'adresse {address} existe déjà.", en="{address} already exists."),
            code="mailbox_exists",
            field="address",
            details={"address": normalized},
        )
    licences.require_room(session, customer_id, licences.MAILBOX, on)
    mailbox = Mailbox(
        customer_id=customer_id,
        domain_id=domain.id,
        address=normalized,
        filtering_enabled=filtering_enabled,
        digest_enabled=digest_enabled,
        password_hash=_check_password(password) if password else None,
    )
    session.add(mailbox)
    session.flush()
    return mailbox


def list_mailboxes(session: Session, customer_id: int) -> list[Mailbox]:
    return list(
        session.scalars(
            select(Mailbox).where(Mailbox.customer_id == customer_id).order_by(Mailbox.address)
        )
    )


def get_mailbox(session: Session, customer_id: int, mailbox_id: int) -> Mailbox:
    mailbox = session.scalar(
        select(Mailbox).where(Mailbox.id == mailbox_id, Mailbox.customer_id == customer_id)
    )
    if mailbox is None:
        raise NotFound(
            Text(fr="Adresse {id} introuvable.", en="Mailbox {id} not found."),
            code="mailbox_not_found",
            details={"id": mailbox_id},
        )
    return mailbox


def update_mailbox(
    session: Session,
    mailbox: Mailbox,
    *,
    filtering_enabled: bool | None = None,
    digest_enabled: bool | None = None,
    password: str | None = None,
    unblock: bool = False,
) -> Mailbox:
    """Switch filtering (MAIL-04) or the digest (MAIL-03), set the submission password, or
    lift a block (MAIL-08) once the customer has dealt with its cause."""
    if filtering_enabled is not None:
        mailbox.filtering_enabled = filtering_enabled
    if digest_enabled is not None:
        mailbox.digest_enabled = digest_enabled
    if password is not None:
        mailbox.password_hash = _check_password(password)
    if unblock:
        mailbox.blocked_at = None
        mailbox.blocked_reason = None
    session.flush()
    return mailbox


def remove_mailbox(session: Session, mailbox: Mailbox) -> None:
    session.delete(mailbox)
    session.flush()


# --- settings --------------------------------------------------------------------------------


def find_settings(session: Session, customer_id: int) -> MailSettings | None:
    return session.scalar(select(MailSettings).where(MailSettings.customer_id == customer_id))


def settings_of(session: Session, customer_id: int) -> MailSettings:
    """The customer's gateway settings, created with the defaults on first use."""
    found = find_settings(session, customer_id)
    if found is None:
        found = MailSettings(customer_id=customer_id, challenge_enabled=False)
        session.add(found)
        session.flush()
    return found


def update_settings(
    session: Session,
    customer_id: int,
    *,
    challenge_enabled: bool | None = None,
    relay_password: str | None = None,
    unblock_relay: bool = False,
) -> MailSettings:
    """Challenge-response on or off (MAIL-03); the customer-wide submission account, whose
    user name is ``relay-<customer id>`` (MAILOUT)."""
    found = settings_of(session, customer_id)
    if challenge_enabled is not None:
        found.challenge_enabled = challenge_enabled
    if relay_password is not None:
        found.relay_username = f"relay-{customer_id}"
        found.relay_password_hash = _check_password(relay_password)
    if unblock_relay:
        found.relay_blocked_at = None
        found.relay_blocked_reason = None
    session.flush()
    return found


# --- allow and deny lists (MAIL-02, MAIL-04) -------------------------------------------------


def add_list_entry(
    session: Session,
    operator_id: int,
    customer_id: int | None,
    kind: ListKind,
    value: str,
    note: str = "",
) -> MailListEntry:
    """An address or ``@domain`` on the customer's list, or the operator's when
    ``customer_id`` is None."""
    normalized = normalize_list_value(value)
    duplicate = session.scalar(
        select(MailListEntry.id).where(
            MailListEntry.operator_id == operator_id,
            MailListEntry.customer_id.is_(None)
            if customer_id is None
            else MailListEntry.customer_id == customer_id,
            MailListEntry.kind == kind,
            MailListEntry.value == normalized,
        )
    )
    if duplicate is not None:
        raise Conflict(
            Text(fr="{value} figure déjà sur la liste.", en="{value} is already listed."),
            code="list_entry_exists",
            field="value",
            details={"value": normalized},
        )
    entry = MailListEntry(
        operator_id=operator_id,
        customer_id=customer_id,
        kind=kind,
        value=normalized,
        note=note.strip(),
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session, operator_id: int, customer_id: int | None
) -> list[MailListEntry]:
    """The customer's own entries, or the operator's when ``customer_id`` is None."""
    return list(
        session.scalars(
            select(MailListEntry)
            .where(
                MailListEntry.operator_id == operator_id,
                MailListEntry.customer_id.is_(None)
                if customer_id is None
                else MailListEntry.customer_id == customer_id,
            )
            .order_by(MailListEntry.kind, MailListEntry.value)
        )
    )


def get_list_entry(
    session: Session, operator_id: int, customer_id: int | None, entry_id: int
) -> MailListEntry:
    entry = next(
        (e for e in list_entries(session, operator_id, customer_id) if e.id == entry_id), None
    )
    if entry is None:
        raise NotFound(
            Text(fr="Entrée {id} introuvable.", en="List entry {id} not found."),
            code="list_entry_not_found",
            details={"id": entry_id},
        )
    return entry


def remove_list_entry(session: Session, entry: MailListEntry) -> None:
    session.delete(entry)
    session.flush()


def list_values(
    session: Session, operator_id: int, customer_id: int
) -> tuple[frozenset[str], frozenset[str]]:
    """(allow, deny) of one customer: its own entries and the operator's."""
    rows = session.execute(
        select(MailListEntry.kind, MailListEntry.value).where(
            MailListEntry.operator_id == operator_id,
            (MailListEntry.customer_id == customer_id) | MailListEntry.customer_id.is_(None),
        )
    )
    allow: set[str] = set()
    deny: set[str] = set()
    for kind, value in rows:
        (allow if kind is ListKind.ALLOW else deny).add(value)
    return frozenset(allow), frozenset(deny)


# --- what the gateway needs to filter one customer's mail ------------------------------------


def _zones(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def policy_for(
    rules: MailRules, allow: frozenset[str], deny: frozenset[str], settings: Settings
) -> Policy:
    """The filter's policy: thresholds of the contract (MAIL-01), lists (MAIL-02), the
    operator's DNS lists with the terms' corrupted-host count (MAIL-02)."""
    return Policy(
        tag_at=float(rules.spam_tag_score),
        quarantine_at=float(rules.spam_quarantine_score),
        reject_at=float(rules.spam_reject_score),
        allow=allow,
        deny=deny,
        dnsbl_zones=_zones(settings.mail_dnsbl_zones),
        dnsbl_corrupted_at=rules.rbl_listings_for_corrupted_host,
        uribl_zones=_zones(settings.mail_uribl_zones),
        network=settings.mail_network_checks,
        resolver_nameservers=_zones(settings.mail_resolver_nameservers),
    )


@dataclass(frozen=True)
class MailboxView:
    address: str
    filtering_enabled: bool
    blocked: bool


@dataclass(frozen=True)
class CustomerView:
    """One customer as the gateway sees it while it handles a message."""

    customer_id: int
    operator_id: int
    contract: Contract
    terms: ContractTerms
    rules: MailRules
    policy: Policy
    allow: frozenset[str]
    deny: frozenset[str]
    challenge_enabled: bool
    mailboxes: dict[str, MailboxView] = field(default_factory=dict)


def customer_view(
    session: Session, customer_id: int, contract: Contract, settings: Settings
) -> CustomerView:
    customer = accounts.get_customer(session, customer_id)
    terms = contracts.terms_of(contract)
    if terms.mail is None:
        raise Conflict(
            Text(
                fr="Le contrat {contract} n'a pas de conditions de passerelle email.",
                en="The contract {contract} has no mail gateway terms.",
            ),
            code="no_mail_terms",
            details={"contract": contract.reference},
        )
    allow, deny = list_values(session, customer.operator_id, customer_id)
    own = find_settings(session, customer_id)
    boxes = {
        m.address: MailboxView(m.address, m.filtering_enabled, m.blocked_at is not None)
        for m in list_mailboxes(session, customer_id)
    }
    return CustomerView(
        customer_id=customer_id,
        operator_id=customer.operator_id,
        contract=contract,
        terms=terms,
        rules=terms.mail,
        policy=policy_for(terms.mail, allow, deny, settings),
        allow=allow,
        deny=deny,
        challenge_enabled=bool(own and own.challenge_enabled),
        mailboxes=boxes,
    )


# --- console log (MAIL-10, MAIL-11) ----------------------------------------------------------


def record_console(
    session: Session,
    *,
    actor: str,
    action: str,
    customer_id: int | None,
    client_ip: str | None,
) -> None:
    """One line of the console connection log, kept 365 days (MAIL-10)."""
    session.add(
        ConsoleLog(customer_id=customer_id, actor=actor, client_ip=client_ip, action=action[:300])
    )
