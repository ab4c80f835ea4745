"""What the customer is told, in French and English, at each step of a contract's life.

Every notice names the contract, the reason, the dates and the amounts, and is queued through
``operateur.notifications.service.notify`` in the caller's transaction: an email to the
customer's contacts and an event on its webhooks (``contract.suspended``,
``invoice.reminder``…). Each carries an idempotency key, so a step replayed after a crash is
not announced twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from operateur.catalog.service import get_offer
from operateur.catalog.terms import Delay, DelayUnit, SuspensionCause
from operateur.contracts.models import Contract, ContractStatus, SuspensionScope
from operateur.domain.calendar import PARIS
from operateur.domain.money import format_eur
from operateur.i18n import Text
from operateur.notifications.service import notify

FOOTER = Text(
    fr="\n\nCeci est un message automatique de votre opérateur ; répondez à votre "
    "interlocuteur habituel pour toute question.",
    en="\n\nThis is an automatic message from your operator; contact your usual "
    "representative with any question.",
)

CAUSES: dict[str, Text] = {
    SuspensionCause.FRAUD: Text(fr="fraude avérée", en="proven fraud"),
    SuspensionCause.DISLOYALTY: Text(fr="déloyauté", en="disloyalty"),
    SuspensionCause.BANNED_CONTENT: Text(fr="contenu interdit", en="banned content"),
    SuspensionCause.ETHICS_BREACH: Text(fr="manquement déontologique", en="ethics breach"),
    SuspensionCause.CONTRACT_BREACH: Text(fr="manquement au contrat", en="breach of contract"),
    SuspensionCause.CREDENTIAL_LOSS: Text(
        fr="perte des identifiants", en="loss of the credentials"
    ),
    SuspensionCause.ABUSE: Text(fr="usage abusif", en="abuse"),
    SuspensionCause.OPERATOR_COMPLAINT: Text(
        fr="plainte d'un opérateur", en="complaint from a carrier"
    ),
    SuspensionCause.NON_PAYMENT: Text(fr="défaut de paiement", en="non-payment"),
    SuspensionCause.PREPAID_DEPLETED: Text(fr="crédit prépayé épuisé", en="prepaid credit used up"),
    SuspensionCause.MAINTENANCE: Text(fr="maintenance", en="maintenance"),
    SuspensionCause.AUTHORITY_ORDER: Text(
        fr="injonction d'une autorité", en="order of an authority"
    ),
    SuspensionCause.TECHNICAL_CONSTRAINT: Text(
        fr="contrainte technique", en="technical constraint"
    ),
    SuspensionCause.LICENCE_LOSS: Text(fr="perte d'une licence", en="loss of a licence"),
    SuspensionCause.ILLEGAL_USE: Text(fr="usage illicite", en="illegal use"),
    SuspensionCause.DANGEROUS_EQUIPMENT: Text(fr="équipement dangereux", en="dangerous equipment"),
    SuspensionCause.NETWORK_HARM: Text(fr="atteinte au réseau", en="harm to the network"),
    SuspensionCause.FORCE_MAJEURE: Text(fr="force majeure", en="force majeure"),
    SuspensionCause.SPAM_BURST: Text(fr="envoi massif de spam", en="spam burst"),
    SuspensionCause.MASS_MAILING: Text(fr="publipostage de masse", en="mass mailing"),
    SuspensionCause.URGENT_HARM: Text(fr="atteinte urgente", en="urgent harm"),
}

SCOPES: dict[SuspensionScope, Text] = {
    SuspensionScope.FULL: Text(fr="l'ensemble du service", en="the whole service"),
    SuspensionScope.INTERNATIONAL_CALLS: Text(
        fr="les appels vers l'international", en="international calls"
    ),
    SuspensionScope.OUTBOUND_CALLS: Text(fr="les appels sortants", en="outbound calls"),
    SuspensionScope.SMS: Text(fr="l'envoi de SMS", en="sending SMS"),
    SuspensionScope.MAIL: Text(fr="le filtrage des e-mails", en="mail filtering"),
}


def fr(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def en(d: date) -> str:
    return d.isoformat()


def eur(amount: Decimal) -> Text:
    return Text(fr=format_eur(amount, "fr"), en=format_eur(amount, "en"))


def delay(value: Delay) -> Text:
    business = value.day_kind.value == "business"
    words = {
        DelayUnit.DAYS: Text(
            fr="jours ouvrés" if business else "jours", en="business days" if business else "days"
        ),
        DelayUnit.MONTHS: Text(fr="mois", en="months"),
        DelayUnit.HOURS: Text(fr="heures", en="hours"),
    }[value.unit]
    return Text(fr=f"{value.value} {words.fr}", en=f"{value.value} {words.en}")


def join(*parts: Text | None) -> Text:
    """Paragraphs in both languages; ``None`` parts are left out."""
    chosen = [p for p in parts if p is not None]
    return Text(fr="\n\n".join(p.fr for p in chosen), en="\n\n".join(p.en for p in chosen))


def send(
    session: Session,
    contract: Contract,
    event: str,
    *,
    subject: Text,
    body: Text,
    key: str,
    data: dict[str, Any] | None = None,
    contacts: str = "all",
) -> None:
    """Queue one notice about ``contract`` (email to the contacts, event on the webhooks)."""
    offer = get_offer(contract.offer_id).name
    head = Text(
        fr=f"Contrat {contract.reference} ({offer.fr})",
        en=f"Contract {contract.reference} ({offer.en})",
    )
    notify(
        session,
        contract.customer_id,
        event=event,
        subject=subject,
        body=join(head, body, FOOTER),
        data={"key": key, "contract": contract.reference, "contract_id": contract.id}
        | (data or {}),
        contacts=contacts,
    )


# --- the contract's transitions --------------------------------------------------------------


def suspended(
    session: Session,
    contract: Contract,
    *,
    suspension_id: int,
    cause: SuspensionCause,
    scope: SuspensionScope,
    on: date,
    why: Text,
) -> None:
    c, s = CAUSES[cause], SCOPES[scope]
    send(
        session,
        contract,
        "contract.suspended",
        subject=Text(
            fr=f"Suspension du contrat {contract.reference}",
            en=f"Contract {contract.reference} suspended",
        ),
        body=join(
            Text(
                fr=f"Nous suspendons {s.fr} à compter du {fr(on)}, pour {c.fr}.",
                en=f"We suspend {s.en} from {en(on)}, for {c.en}.",
            ),
            why,
        ),
        key=f"suspend:{contract.id}:{suspension_id}",
        data={"cause": cause.value, "scope": scope.value, "on": on, "reason": why.fr},
    )


def restored(session: Session, contract: Contract, *, event_id: int, on: date, why: Text) -> None:
    send(
        session,
        contract,
        "contract.restored",
        subject=Text(
            fr=f"Rétablissement du contrat {contract.reference}",
            en=f"Contract {contract.reference} restored",
        ),
        body=join(
            Text(
                fr=f"Le service est rétabli depuis le {fr(on)}.",
                en=f"The service is restored since {en(on)}.",
            ),
            why,
        ),
        key=f"restore:{contract.id}:{event_id}",
        data={"on": on, "reason": why.fr},
    )


def notice_received(
    session: Session, contract: Contract, *, received_on: date, ends_on: date, why: Text
) -> None:
    send(
        session,
        contract,
        "contract.notice_given",
        subject=Text(
            fr=f"Résiliation du contrat {contract.reference}",
            en=f"Termination of contract {contract.reference}",
        ),
        body=join(
            Text(
                fr=f"Nous avons enregistré le {fr(received_on)} la résiliation du contrat. "
                f"Le service est assuré jusqu'au {fr(ends_on)} inclus.",
                en=f"We recorded the termination of the contract on {en(received_on)}. "
                f"The service runs until {en(ends_on)} included.",
            )
            if contract.status is not ContractStatus.SUSPENDED
            else Text(  # a notice cures nothing (CTR-06): the service stays suspended
                fr=f"Nous avons enregistré le {fr(received_on)} la résiliation du contrat. "
                f"Il prend fin le {fr(ends_on)} inclus ; le service reste suspendu d'ici là.",
                en=f"We recorded the termination of the contract on {en(received_on)}. "
                f"It ends on {en(ends_on)} included; the service stays suspended until then.",
            ),
            why,
        ),
        key=f"notice:{contract.id}:{received_on.isoformat()}",
        data={"received_on": received_on, "ends_on": ends_on, "reason": why.fr},
    )


def terminated(
    session: Session, contract: Contract, *, on: date, why: Text, after: Text | None
) -> None:
    send(
        session,
        contract,
        "contract.terminated",
        subject=Text(
            fr=f"Fin du contrat {contract.reference}",
            en=f"Contract {contract.reference} terminated",
        ),
        body=join(
            Text(fr=f"Le contrat a pris fin le {fr(on)}.", en=f"The contract ended on {en(on)}."),
            why,
            after,
        ),
        key=f"terminate:{contract.id}",
        data={"on": on, "reason": why.fr},
    )


def renewed(
    session: Session,
    contract: Contract,
    *,
    on: date,
    months: int,
    term_end: date,
    changes: Text | None,
) -> None:
    send(
        session,
        contract,
        "contract.renewed",
        subject=Text(
            fr=f"Reconduction du contrat {contract.reference}",
            en=f"Contract {contract.reference} renewed",
        ),
        body=join(
            Text(
                fr=f"Le contrat est reconduit tacitement le {fr(on)} pour {months} mois, "
                f"jusqu'au {fr(term_end)} inclus.",
                en=f"The contract renews tacitly on {en(on)} for {months} months, "
                f"until {en(term_end)} included.",
            ),
            changes,
        ),
        key=f"renew:{contract.id}:{on.isoformat()}",
        data={"on": on, "months": months, "term_end": term_end},
    )


# --- dunning (CTR-06, BIL-06) ----------------------------------------------------------------


def unpaid(
    session: Session,
    contract: Contract,
    *,
    step: str,
    invoice_id: int,
    number: str,
    outstanding: Decimal,
    due: date,
    on: date,
    suspend_on: date | None,
    terminate_on: date | None,
) -> None:
    """A reminder (``step="reminder"``) or a formal notice (``"formal_notice"``) of an unpaid
    invoice, with what happens next and when."""
    amount = eur(outstanding)
    nxt: list[Text] = []
    if suspend_on is not None and suspend_on > on:
        nxt.append(
            Text(
                fr=f"Sans paiement, le service sera suspendu le {fr(suspend_on)}.",
                en=f"Without payment, the service will be suspended on {en(suspend_on)}.",
            )
        )
    if terminate_on is not None:
        nxt.append(
            Text(
                fr=f"Sans paiement, le contrat sera résilié le {fr(terminate_on)}.",
                en=f"Without payment, the contract will be terminated on {en(terminate_on)}.",
            )
        )
    if step == "formal_notice":
        subject = Text(
            fr=f"Mise en demeure : facture {number} impayée",
            en=f"Formal notice: invoice {number} unpaid",
        )
        opening = Text(
            fr=f"Mise en demeure du {fr(on)} : la facture {number}, échue le {fr(due)}, "
            f"reste impayée pour {amount.fr}. Nous vous mettons en demeure de la régler.",
            en=f"Formal notice of {en(on)}: invoice {number}, due on {en(due)}, is still "
            f"unpaid for {amount.en}. We formally require its payment.",
        )
    else:
        subject = Text(
            fr=f"Rappel : facture {number} impayée", en=f"Reminder: invoice {number} unpaid"
        )
        opening = Text(
            fr=f"La facture {number}, échue le {fr(due)}, reste impayée pour {amount.fr}.",
            en=f"Invoice {number}, due on {en(due)}, is still unpaid for {amount.en}.",
        )
    send(
        session,
        contract,
        f"invoice.{step}",
        subject=subject,
        body=join(opening, *nxt),
        key=f"{step}:{invoice_id}",
        data={
            "invoice": number,
            "outstanding": outstanding,
            "due_date": due,
            "on": on,
            "suspend_on": suspend_on,
            "terminate_on": terminate_on,
        },
        contacts="billing",
    )


# --- planned maintenance (CTR-06 [002 §13.1.5]) -------------------------------------------------


def fr_at(moment: datetime) -> str:
    """A moment in French, Paris time: ``14/03/2026 à 22:00``."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def en_at(moment: datetime) -> str:
    """A moment in English, Paris time: ``2026-03-14 22:00 (Paris time)``."""
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M (Paris time)")


def maintenance_planned(
    session: Session,
    contract: Contract,
    *,
    window_id: int,
    starts_at: datetime,
    ends_at: datetime,
    scope: SuspensionScope,
    why: Text,
) -> None:
    """The email announcing a planned maintenance at least the terms' notice ahead."""
    s = SCOPES[scope]
    send(
        session,
        contract,
        "contract.maintenance_planned",
        subject=Text(
            fr=f"Maintenance programmée — contrat {contract.reference}",
            en=f"Planned maintenance — contract {contract.reference}",
        ),
        body=join(
            Text(
                fr=f"Une opération de maintenance suspendra {s.fr} du {fr_at(starts_at)} au "
                f"{fr_at(ends_at)} (heure française).",
                en=f"A maintenance operation will suspend {s.en} from {en_at(starts_at)} to "
                f"{en_at(ends_at)}.",
            ),
            why,
        ),
        key=f"maintenance:{window_id}:{contract.id}",
        data={"window_id": window_id, "starts_at": starts_at, "ends_at": ends_at},
    )


def maintenance_cancelled(
    session: Session,
    contract: Contract,
    *,
    window_id: int,
    starts_at: datetime,
    ends_at: datetime,
    why: Text,
) -> None:
    send(
        session,
        contract,
        "contract.maintenance_cancelled",
        subject=Text(
            fr=f"Maintenance annulée — contrat {contract.reference}",
            en=f"Maintenance cancelled — contract {contract.reference}",
        ),
        body=join(
            Text(
                fr=f"La maintenance annoncée du {fr_at(starts_at)} au {fr_at(ends_at)} est "
                "annulée : le service ne sera pas suspendu pour elle.",
                en=f"The maintenance announced from {en_at(starts_at)} to {en_at(ends_at)} is "
                "cancelled: the service will not be suspended for it.",
            ),
            why,
        ),
        key=f"maintenance_cancelled:{window_id}:{contract.id}",
        data={"window_id": window_id, "starts_at": starts_at, "ends_at": ends_at},
    )
