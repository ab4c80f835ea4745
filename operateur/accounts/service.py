"""Use cases of the accounts context. Each takes a session and commits nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.accounts.models import (
    ApiKey,
    Contact,
    Customer,
    CustomerStatus,
    LoginSession,
    Operator,
    Role,
    User,
)
from operateur.accounts.permissions import Actor, Permission
from operateur.accounts.schemas import ContactIn, CustomerIn, CustomerPatch, OperatorIn, UserIn
from operateur.accounts.security import (
    digest,
    hash_password,
    new_api_key,
    new_token,
    same_digest,
    spend_password_check,
    split_api_key,
    verify_password,
)
from operateur.catalog.terms import PaymentMethod
from operateur.db import utcnow
from operateur.domain.identifiers import (
    french_vat_from_siren,
    is_eu_member,
    validate_bic,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat,
)
from operateur.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from operateur.i18n import Text

# --- operators -------------------------------------------------------------------------------


def create_operator(session: Session, data: OperatorIn) -> Operator:
    siren = validate_siren(data.siren, field="siren")
    operator = Operator(
        name=data.name,
        legal_form=data.legal_form,
        siren=siren,
        vat_number=validate_vat(data.vat_number, field="vat_number")
        if data.vat_number
        else french_vat_from_siren(siren),
        address_line=data.address_line,
        postal_code=data.postal_code,
        city=data.city,
        country=data.country,
        email=str(data.email),
        iban=validate_iban(data.iban, field="iban") if data.iban else None,
        bic=validate_bic(data.bic, field="bic") if data.bic else None,
        sepa_creditor_id=data.sepa_creditor_id,
    )
    session.add(operator)
    session.flush()
    return operator


def find_operator_by_siren(session: Session, siren: str) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.siren == siren))


def get_operator(session: Session, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(
            Text(fr="Opérateur {id} introuvable.", en="Operator {id} not found."),
            code="operator_not_found",
            details={"id": operator_id},
        )
    return operator


# --- customers -------------------------------------------------------------------------------


def _legal_identity(data: CustomerIn) -> tuple[str | None, str | None, str | None]:
    """SIREN, SIRET and VAT number of a customer, validated; only businesses are customers."""
    siren = validate_siren(data.siren, field="siren") if data.siren else None
    siret = validate_siret(data.siret, field="siret") if data.siret else None
    vat = validate_vat(data.vat_number, field="vat_number") if data.vat_number else None
    if data.country == "FR":
        if siren is None and siret is not None:
            siren = siret[:9]
        if siren is None:
            # CTR-12: only legal entities acting professionally [002 §4.1]
            raise InvalidInput(
                Text(
                    fr="Le SIREN est obligatoire pour un client établi en France.",
                    en="A SIREN is required for a customer established in France.",
                ),
                field="siren",
            )
        if siret is not None and not siret.startswith(siren):
            raise InvalidInput(
                Text(
                    fr="Le SIRET {siret} n'appartient pas au SIREN {siren}.",
                    en="SIRET {siret} does not belong to SIREN {siren}.",
                ),
                field="siret",
                details={"siret": siret, "siren": siren},
            )
        if vat is None:
            vat = french_vat_from_siren(siren)
    elif is_eu_member(data.country) and vat is None:
        raise InvalidInput(
            Text(
                fr="Le numéro de TVA intracommunautaire est obligatoire pour un client de l'UE.",
                en="An intra-EU VAT number is required for an EU business customer.",
            ),
            field="vat_number",
        )
    return siren, siret, vat


def _check_payment_details(method: PaymentMethod, iban: str | None) -> None:
    if method == PaymentMethod.SEPA_DIRECT_DEBIT and not iban:
        raise InvalidInput(
            Text(
                fr="Un IBAN est obligatoire pour le prélèvement SEPA.",
                en="An IBAN is required for SEPA direct debit.",
            ),
            field="iban",
        )


def create_customer(session: Session, operator_id: int, data: CustomerIn) -> Customer:
    siren, siret, vat = _legal_identity(data)
    iban = validate_iban(data.iban, field="iban") if data.iban else None
    bic = validate_bic(data.bic, field="bic") if data.bic else None
    _check_payment_details(data.payment_method, iban)
    if siren and session.scalar(
        select(Customer.id).where(Customer.operator_id == operator_id, Customer.siren == siren)
    ):
        raise Conflict(
            Text(
                fr="Un client avec le SIREN {siren} existe déjà.",
                en="A customer with SIREN {siren} already exists.",
            ),
            code="customer_exists",
            field="siren",
            details={"siren": siren},
        )
    customer = Customer(
        operator_id=operator_id,
        name=data.name,
        legal_form=data.legal_form,
        siren=siren,
        siret=siret,
        vat_number=vat,
        address_line=data.address_line,
        postal_code=data.postal_code,
        city=data.city,
        country=data.country,
        email=str(data.email),
        phone=data.phone,
        iban=iban,
        bic=bic,
        payment_method=data.payment_method,
        lang=data.lang,
    )
    session.add(customer)
    session.flush()
    return customer


def find_customer_by_siren(session: Session, operator_id: int, siren: str) -> Customer | None:
    return session.scalar(
        select(Customer).where(Customer.operator_id == operator_id, Customer.siren == siren)
    )


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            details={"id": customer_id},
        )
    return customer


def list_customers(
    session: Session,
    operator_id: int | None,
    *,
    status: CustomerStatus | None = None,
    search: str | None = None,
) -> list[Customer]:
    stmt = select(Customer).order_by(Customer.name)
    if operator_id is not None:
        stmt = stmt.where(Customer.operator_id == operator_id)
    if status is not None:
        stmt = stmt.where(Customer.status == status)
    if search:
        stmt = stmt.where(Customer.name.ilike(f"%{search}%"))
    return list(session.scalars(stmt))


IDENTITY_FIELDS = frozenset({"name", "legal_form", "siret", "vat_number", "status"})


def update_customer(
    session: Session, actor: Actor, customer: Customer, patch: CustomerPatch
) -> Customer:
    changes = patch.model_dump(exclude_unset=True)
    identity = IDENTITY_FIELDS & changes.keys()
    if identity and not actor.has(Permission.CUSTOMER_IDENTITY_WRITE):
        raise Forbidden(
            Text(
                fr="Seul l'opérateur peut modifier : {fields}.",
                en="Only the operator may change: {fields}.",
            ),
            code="permission_denied",
            field=sorted(identity)[0],
            details={"fields": ", ".join(sorted(identity))},
        )
    if "siret" in changes and changes["siret"]:
        changes["siret"] = validate_siret(changes["siret"], field="siret")
    if "vat_number" in changes and changes["vat_number"]:
        changes["vat_number"] = validate_vat(changes["vat_number"], field="vat_number")
    if "iban" in changes and changes["iban"]:
        changes["iban"] = validate_iban(changes["iban"], field="iban")
    if "bic" in changes and changes["bic"]:
        changes["bic"] = validate_bic(changes["bic"], field="bic")
    _check_payment_details(
        changes.get("payment_method", customer.payment_method), changes.get("iban", customer.iban)
    )
    for key, value in changes.items():
        setattr(customer, key, str(value) if key == "email" else value)
    session.flush()
    return customer


def mask_iban(iban: str | None) -> str | None:
    """PRIV-02, SEC-02: an IBAN as shown to people — country and check digits, then only the
    last four characters, in the usual groups of four ("FR76 **** **** **** **** ***0 189");
    enough to recognise one's account, not to debit it."""
    if not iban:
        return None
    compact = "".join(iban.split()).upper()
    hidden = compact[:4] + "*" * max(len(compact) - 8, 0) + compact[4:][-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


# --- contacts --------------------------------------------------------------------------------


def add_contact(session: Session, customer: Customer, data: ContactIn) -> Contact:
    contact = Contact(customer_id=customer.id, **data.model_dump(mode="json"))
    session.add(contact)
    session.flush()
    return contact


def list_contacts(session: Session, customer_id: int) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id)
        )
    )


def get_contact(session: Session, customer_id: int, contact_id: int) -> Contact:
    contact = session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.customer_id == customer_id)
    )
    if contact is None:
        raise NotFound(
            Text(fr="Contact {id} introuvable.", en="Contact {id} not found."),
            code="contact_not_found",
            details={"id": contact_id},
        )
    return contact


def remove_contact(session: Session, contact: Contact) -> None:
    session.delete(contact)
    session.flush()


# --- users and login -------------------------------------------------------------------------


def create_user(
    session: Session, actor: Actor, *, operator_id: int, customer_id: int | None, data: UserIn
) -> User:
    """Create a user; a customer's users get customer roles, staff get staff roles."""
    if customer_id is None and not data.role.is_staff:
        raise InvalidInput(
            Text(fr="Un membre de l'opérateur a un rôle opérateur.", en="Staff need a staff role."),
            field="role",
        )
    if customer_id is not None and data.role.is_staff:
        raise InvalidInput(
            Text(
                fr="Un utilisateur client a le rôle customer_admin ou customer_user.",
                en="A customer's user has the role customer_admin or customer_user.",
            ),
            field="role",
        )
    if customer_id is None and not actor.has(Permission.STAFF_MANAGE):
        raise Forbidden(
            Text(fr="Gestion du personnel réservée.", en="Managing staff is restricted."),
            code="permission_denied",
        )
    if customer_id is not None and data.role == Role.CUSTOMER_ADMIN:
        _check_admin_seats(session, customer_id)
    email = str(data.email).lower()
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(
            Text(fr="L'adresse {email} est déjà utilisée.", en="{email} is already in use."),
            code="user_exists",
            field="email",
            details={"email": email},
        )
    user = User(
        email=email,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=data.role,
        operator_id=operator_id,
        customer_id=customer_id,
        lang=data.lang,
    )
    session.add(user)
    session.flush()
    return user


def _check_admin_seats(session: Session, customer_id: int) -> None:
    """SEC-01 [003 §4]: no more active administrators than the contract's terms allow."""
    from operateur.contracts.service import max_admin_accounts

    allowed = max_admin_accounts(session, customer_id)
    if allowed is None:
        return
    admins = session.scalar(
        select(func.count(User.id)).where(
            User.customer_id == customer_id,
            User.role == Role.CUSTOMER_ADMIN,
            User.active.is_(True),
        )
    )
    if (admins or 0) >= allowed:
        raise Conflict(
            Text(
                fr="Votre contrat prévoit au plus {max} comptes administrateurs.",
                en="Your contract allows at most {max} administrator accounts.",
            ),
            code="admin_accounts_limit",
            field="role",
            details={"max": allowed},
        )


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(session: Session, operator_id: int, customer_id: int | None) -> list[User]:
    stmt = select(User).where(User.operator_id == operator_id)
    stmt = stmt.where(
        User.customer_id.is_(None) if customer_id is None else User.customer_id == customer_id
    )
    return list(session.scalars(stmt.order_by(User.id)))


def get_user(session: Session, customer_id: int | None, user_id: int) -> User:
    stmt = select(User).where(User.id == user_id)
    stmt = stmt.where(
        User.customer_id.is_(None) if customer_id is None else User.customer_id == customer_id
    )
    user = session.scalar(stmt)
    if user is None:
        raise NotFound(
            Text(fr="Utilisateur {id} introuvable.", en="User {id} not found."),
            code="user_not_found",
            details={"id": user_id},
        )
    return user


def deactivate_user(session: Session, user: User) -> User:
    """The user can no longer log in: their sessions end, and the API keys they created for
    their own account (the customer's, or the operator's for staff) are revoked (SEC-01) —
    a key does not outlive the person who holds its secret."""
    now = utcnow()
    user.active = False
    for login in _open_sessions(session, user.id):
        login.revoked_at = now
        login.revoked_reason = "user_deactivated"
    for key in _keys_owned_by(session, user):
        key.revoked_at = now
    session.flush()
    return user


#: Where an erased user's address points: a reserved domain that never receives mail
#: (RFC 2606 §2), unique per user since the address identifies logins.
ERASED_DOMAIN = "erased.invalid"
ERASED_PASSWORD = "!erased"  # not a hash: no password ever matches it


def is_erased(user: User) -> bool:
    return user.email.endswith(f"@{ERASED_DOMAIN}")


def erase_user(session: Session, user: User) -> User:
    """CTR-09, PRIV-02: a user's personal data replaced for good — name, address, password —
    and the user deactivated (sessions ended, own API keys revoked). The row stays, under its
    id, so that the audit log's events still name who acted (SEC-02); the caller records the
    change without the erased values (``session.info["audit_omit_data"]``)."""
    if is_erased(user):
        return user
    deactivate_user(session, user)
    user.email = f"user-{user.id}@{ERASED_DOMAIN}"
    user.display_name = f"erased-{user.id}"
    user.password_hash = ERASED_PASSWORD
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = None
    session.flush()
    return user


def _keys_owned_by(session: Session, user: User) -> list[ApiKey]:
    """The live API keys a user created for their own account. A key staff made for a
    customer is the customer's: it stays when that staff member leaves."""
    return list(
        session.scalars(
            select(ApiKey).where(
                ApiKey.created_by_user_id == user.id,
                ApiKey.revoked_at.is_(None),
                ApiKey.customer_id.is_(None)
                if user.customer_id is None
                else ApiKey.customer_id == user.customer_id,
            )
        )
    )


def _open_sessions(session: Session, user_id: int) -> list[LoginSession]:
    now = utcnow()
    return list(
        session.scalars(
            select(LoginSession).where(
                LoginSession.user_id == user_id,
                LoginSession.revoked_at.is_(None),
                LoginSession.expires_at > now,
            )
        )
    )


BAD_LOGIN = Text(fr="Identifiant ou mot de passe incorrect.", en="Wrong identifier or password.")


def login(
    session: Session,
    email: str,
    password: str,
    *,
    session_hours: int,
    max_failures: int,
    lockout_minutes: int,
    single_session: bool,
    client_ip: str | None = None,
) -> tuple[LoginSession, str, User]:
    """Check a password and open a login session; returns (session row, token shown once, user).

    After ``max_failures`` wrong passwords in a row the identifier is locked for
    ``lockout_minutes``. With ``single_session`` (SEC-01) the user's other sessions end.
    """
    now = utcnow()
    user = find_user_by_email(session, email)
    if user is None or not user.active:
        spend_password_check(password)  # SEC-01: no quicker refusal to probe accounts with
        raise Unauthenticated(BAD_LOGIN, code="bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        raise Unauthenticated(
            Text(
                fr="Trop d'essais : identifiant bloqué jusqu'à {until}.",
                en="Too many attempts: identifier locked until {until}.",
            ),
            code="locked_out",
            details={"until": user.locked_until.isoformat(timespec="minutes")},
        )
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
        session.flush()
        raise Unauthenticated(BAD_LOGIN, code="bad_credentials")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if single_session:
        for previous in _open_sessions(session, user.id):
            previous.revoked_at = now
            previous.revoked_reason = "single_session"
    token = new_token()
    row = LoginSession(
        user_id=user.id,
        customer_id=user.customer_id,
        token_hash=digest(token),
        created_at=now,
        expires_at=now + timedelta(hours=session_hours),
        client_ip=client_ip,
    )
    session.add(row)
    session.flush()
    return row, token, user


def logout(session: Session, actor: Actor) -> None:
    if actor.session_id is None:
        return
    row = session.get(LoginSession, actor.session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_reason = "logout"
        session.flush()


def _user_actor(user: User, session_id: int) -> Actor:
    return Actor(
        kind="user",
        id=user.id,
        label=user.email,
        role=Role(user.role),
        operator_id=user.operator_id,
        customer_id=user.customer_id,
        user_id=user.id,
        session_id=session_id,
    )


def _api_key(session: Session, token: str) -> tuple[ApiKey, Unauthenticated | None] | None:
    """The API key a token is, with why it no longer works (None if it does); None when the
    token is no genuine key (unknown, or a wrong secret)."""
    public_id = split_api_key(token)
    if public_id is None:
        return None
    found = session.execute(
        select(ApiKey, User.email, User.active, User.customer_id)
        .outerjoin(User, User.id == ApiKey.created_by_user_id)
        .where(ApiKey.public_id == public_id)
    ).first()
    if found is None or not same_digest(found[0].secret_hash, token):
        return None
    key, owner_email, owner_active, owner_customer_id = found
    # SEC-01: a key dies with its creator's account (see deactivate_user), checked here too
    # for keys made before that rule or a creator deactivated by another path
    if owner_active is False and owner_customer_id == key.customer_id:
        return key, Unauthenticated(
            Text(
                fr="Cette clé d'API a été créée par {owner}, dont le compte est désactivé : "
                "elle ne fonctionne plus. Un administrateur actif peut en créer une autre.",
                en="This API key was created by {owner}, whose account is deactivated: it "
                "no longer works. An active administrator can create a new one.",
            ),
            code="api_key_owner_deactivated",
            details={"owner": owner_email, "key": key.public_id},
        )
    if key.revoked_at is not None:
        return key, Unauthenticated(
            Text(
                fr="Cette clé d'API a été révoquée le {on}.",
                en="This API key was revoked on {on}.",
            ),
            code="api_key_revoked",
            details={"on": key.revoked_at.date().isoformat(), "key": key.public_id},
        )
    return key, None


def token_refusal(session: Session, token: str) -> Unauthenticated | None:
    """Why a genuine API key that :func:`authenticate_token` refused no longer works (revoked,
    its creator deactivated), for the edge to tell the caller — who holds the whole secret, so
    learns nothing new. None for anything else: an unknown token is told nothing."""
    found = _api_key(session, token)
    return found[1] if found is not None else None


def authenticate_token(session: Session, token: str, now: datetime | None = None) -> Actor | None:
    """The actor behind a bearer token (API key or login-session token), or None
    (:func:`token_refusal` says why a genuine key is refused)."""
    now = now or utcnow()
    if split_api_key(token) is not None:
        found = _api_key(session, token)
        if found is None or found[1] is not None:
            return None
        key = found[0]
        key.last_used_at = now
        return Actor(
            kind="api_key",
            id=key.id,
            label=f"api_key:{key.public_id}:{key.name}",
            role=Role(key.role),
            operator_id=key.operator_id,
            customer_id=key.customer_id,
            user_id=key.created_by_user_id,
        )
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return _user_actor(user, row.id)


# --- API keys --------------------------------------------------------------------------------


def create_api_key(
    session: Session,
    actor: Actor,
    *,
    operator_id: int,
    customer_id: int | None,
    name: str,
    role: Role,
) -> tuple[ApiKey, str]:
    """Create an API key and return it with its full secret, which is never shown again."""
    if customer_id is not None and role.is_staff:
        raise InvalidInput(
            Text(
                fr="Une clé client a le rôle customer_admin ou customer_user.",
                en="A customer's key has the role customer_admin or customer_user.",
            ),
            field="role",
        )
    if customer_id is None and (not role.is_staff or not actor.has(Permission.STAFF_MANAGE)):
        raise Forbidden(
            Text(fr="Clés opérateur réservées.", en="Staff keys are restricted."),
            code="permission_denied",
            field="role",
        )
    if actor.role == Role.CUSTOMER_USER or (
        actor.customer_id is not None
        and role == Role.CUSTOMER_ADMIN
        and actor.role != Role.CUSTOMER_ADMIN
    ):
        raise Forbidden(
            Text(fr="Rôle de clé trop élevé.", en="Key role above your own."),
            code="permission_denied",
            field="role",
        )
    public_id, key, key_hash = new_api_key()
    row = ApiKey(
        public_id=public_id,
        secret_hash=key_hash,
        name=name,
        role=role,
        operator_id=operator_id,
        customer_id=customer_id,
        created_by_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    return row, key


def list_api_keys(session: Session, operator_id: int, customer_id: int | None) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.operator_id == operator_id)
    stmt = stmt.where(
        ApiKey.customer_id.is_(None) if customer_id is None else ApiKey.customer_id == customer_id
    )
    return list(session.scalars(stmt.order_by(ApiKey.id)))


def get_api_key(session: Session, customer_id: int | None, key_id: int) -> ApiKey:
    stmt = select(ApiKey).where(ApiKey.id == key_id)
    stmt = stmt.where(
        ApiKey.customer_id.is_(None) if customer_id is None else ApiKey.customer_id == customer_id
    )
    key = session.scalar(stmt)
    if key is None:
        raise NotFound(
            Text(fr="Clé d'API {id} introuvable.", en="API key {id} not found."),
            code="api_key_not_found",
            details={"id": key_id},
        )
    return key


def revoke_api_key(session: Session, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key
