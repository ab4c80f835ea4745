"""Voice in the portal: a customer's hourly traffic quality against the targets of its terms
(VOX-08), its number port-ins (VOX-15); the staff's fraud alerts with their evidence and a
one-click restriction (VOX-06, BIL-13), and the donor operators' answers to port-ins."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import Customer
from operateur.accounts.permissions import Actor, Permission
from operateur.catalog.terms import SuspensionCause
from operateur.config import Settings
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, SuspensionScope
from operateur.dialer import service as dialer
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput, NotFound
from operateur.fraud import service as fraud
from operateur.fraud.models import AlertStatus
from operateur.http.deps import SessionDep
from operateur.i18n import Lang, Text
from operateur.numbers import directory, portability
from operateur.numbers import service as numbers
from operateur.numbers.models import Ineligibility, PortRequest
from operateur.portal import charts
from operateur.portal.customer import space
from operateur.portal.render import number, render
from operateur.portal.security import allowed, page_lang
from operateur.portal.web import act, now, portal_router, today
from operateur.quality import service as quality
from operateur.recordings import service as recordings
from operateur.recordings.api import export_response
from operateur.voice import telemarketing
from operateur.voice.models import ConsentKind

router = portal_router()


# --- traffic quality (VOX-08) ----------------------------------------------------------------

ASR = Text(fr="Taux de réponse (ASR) par heure", en="Answer-seizure ratio per hour")
ACD = Text(fr="Durée moyenne (ACD) par heure", en="Average call duration per hour")
SHORT = Text(fr="Appels courts par heure", en="Short calls per hour")


def _kpi_chart(
    lang: Lang, title: Text, values: list[tuple[str, Decimal]], target: Decimal, unit: str
) -> tuple[str, Markup]:
    """One indicator per hour with the terms' target drawn across."""
    points = [charts.Point(h, v, f"{number(v, lang, 1)} {unit}") for h, v in values]
    top = max([v for _, v in values] + [target])
    return title.render(lang), charts.bar_chart(
        title.render(lang),
        points,
        axis_max_label=f"{number(top, lang, 0)} {unit}",
        target=target,
        target_label=Text(fr="objectif", en="target").render(lang)
        + f" {number(target, lang, 0)} {unit}",
    )


@router.get("/customers/{customer_id}/voice-quality", response_class=HTMLResponse)
def quality_page(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.BILLING_READ)],
    session: SessionDep,
    day: date | None = None,
) -> Response:
    """ASR, ACD and short calls per hour of a day, the terms' targets drawn on each chart."""
    lang = page_lang(request)
    shown = day or today(request)
    start = datetime.combine(shown, time(0), tzinfo=PARIS)
    rows = quality.customer_quality(session, customer_id, start, start + timedelta(days=1))
    figures: list[dict[str, Any]] = []
    for row in rows:
        limits = row.thresholds
        hours = [(w.start.astimezone(PARIS).strftime("%H"), w) for w in row.windows]
        figures.append(
            {
                "contract": row.contract,
                "thresholds": limits,
                "windows": row.windows,
                "charts": [
                    _kpi_chart(
                        lang, ASR, [(h, w.asr) for h, w in hours], limits.asr_min_percent, "%"
                    ),
                    _kpi_chart(
                        lang,
                        ACD,
                        [(h, w.acd or Decimal(0)) for h, w in hours],
                        Decimal(limits.acd_min_seconds),
                        "s",
                    ),
                    _kpi_chart(
                        lang,
                        SHORT,
                        [(h, w.short_call_ratio or Decimal(0)) for h, w in hours],
                        limits.short_call_max_percent,
                        "%",
                    ),
                ],
            }
        )
    return render(
        request,
        "voice/quality.html",
        space(session, actor, customer_id, figures=figures, day=shown),
    )


# --- port-ins (VOX-15) -----------------------------------------------------------------------


@router.get("/customers/{customer_id}/port-ins", response_class=HTMLResponse)
def port_ins_page(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.CONTRACTS_READ)],
    session: SessionDep,
) -> Response:
    return render(
        request,
        "voice/port_ins.html",
        space(
            session,
            actor,
            customer_id,
            requests=portability.list_requests(session, customer_id),
            lines=contracts.list_lines(session, customer_id),
            may_request=actor.has(Permission.PORTING_REQUEST),
        ),
    )


@router.post("/customers/{customer_id}/port-ins")
def request_port_in(
    customer_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.PORTING_REQUEST)],
    session: SessionDep,
    number_text: Annotated[str, Form(alias="number", min_length=4, max_length=20)],
    line_id: Annotated[int, Form()],
    holder_name: Annotated[str, Form(max_length=200)],
    rio: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Ask to bring a number in; what the operator can check (RIO, pending port) is checked
    at once and an ineligible request is closed with its reason."""
    customer = accounts.get_customer(session, customer_id)
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/port-ins",
        done=Text(fr="Demande de portabilité enregistrée.", en="Port-in request recorded."),
        run=lambda: portability.request_port_in(
            session,
            customer,
            number=number_text,
            rio_code=rio.strip() or None,
            line_id=line_id,
            holder_name=holder_name,
        ),
    )


@router.get("/staff/port-ins", response_class=HTMLResponse)
def port_in_queue(
    request: Request,
    actor: Annotated[Actor, allowed(Permission.PORTING_MANAGE, staff_only=True)],
    session: SessionDep,
) -> Response:
    rows = session.execute(
        select(PortRequest, Customer)
        .join(Customer, Customer.id == PortRequest.customer_id)
        .where(Customer.operator_id == actor.operator_id)
        .order_by(PortRequest.id.desc())
        .limit(300)
    ).all()
    return render(
        request,
        "voice/port_queue.html",
        {"rows": rows, "reasons": [Ineligibility.NUMBER_INACTIVE, Ineligibility.NOT_HOLDER]},
    )


@router.post("/staff/port-ins/{customer_id}/{request_id}")
def donor_answer(
    customer_id: int,
    request_id: int,
    request: Request,
    actor: Annotated[Actor, allowed(Permission.PORTING_MANAGE, staff_only=True)],
    session: SessionDep,
    accepted: Annotated[bool, Form()] = False,
    reason: Annotated[Ineligibility | None, Form()] = None,
    scheduled_on: Annotated[date | None, Form()] = None,
    slot_start: Annotated[time | None, Form()] = None,
    slot_end: Annotated[time | None, Form()] = None,
) -> Response:
    """The donor operator's answer: the porting day and slot, or its refusal reason."""
    _own_customer(session, actor, customer_id)
    port = portability.get_request(session, customer_id, request_id)
    return act(
        request,
        session,
        back="/staff/port-ins",
        done=Text(fr="Réponse de l'opérateur cédant enregistrée.", en="Donor answer recorded."),
        run=lambda: portability.record_donor_answer(
            session,
            port,
            accepted=accepted,
            reason=None if accepted else reason,
            scheduled_on=scheduled_on,
            slot_start=slot_start,
            slot_end=slot_end,
            now=now(request),
        ),
    )


def _own_customer(session: Session, actor: Actor, customer_id: int) -> None:
    if accounts.get_customer(session, customer_id).operator_id != actor.operator_id:
        raise NotFound(
            Text(fr="Client {id} introuvable.", en="Customer {id} not found."),
            code="customer_not_found",
            details={"id": customer_id},
        )


# --- fraud alerts (VOX-06, BIL-13) -----------------------------------------------------------

FraudStaff = Annotated[Actor, allowed(Permission.FRAUD_MANAGE, staff_only=True)]


@router.get("/staff/fraud", response_class=HTMLResponse)
def fraud_page(
    request: Request, actor: FraudStaff, session: SessionDep, all: bool = False
) -> Response:
    """Fraud alerts with their evidence and what was done under the terms."""
    names = {c.id: c.name for c in accounts.list_customers(session, actor.operator_id)}
    alerts = [
        a
        for a in fraud.list_alerts(session, status=None if all else AlertStatus.OPEN)
        if a.customer_id in names
    ]
    states = {a.id: lifecycle.open_suspensions(session, a.contract_id) for a in alerts}
    return render(
        request,
        "voice/fraud.html",
        {"alerts": alerts, "names": names, "suspensions": states, "show_all": all},
    )


def _alert(session: Session, actor: Actor, alert_id: int) -> Any:
    alert = fraud.get_alert(session, alert_id)
    _own_customer(session, actor, alert.customer_id)
    return alert


@router.post("/staff/fraud/{alert_id}/restrict")
def restrict(
    alert_id: int,
    request: Request,
    actor: FraudStaff,
    session: SessionDep,
) -> Response:
    """One click: calls abroad cut where the terms allow a partial suspension, else the whole
    service (CTR-06), with the alert as the reason."""
    alert = _alert(session, actor, alert_id)
    contract = session.get(Contract, alert.contract_id)
    assert contract is not None
    partial = contracts.terms_of(contract).suspension.partial_allowed
    return act(
        request,
        session,
        back="/staff/fraud",
        done=Text(fr="Contrat restreint.", en="Contract restricted."),
        reason=f"fraud alert {alert.id}",
        run=lambda: lifecycle.suspend(
            session,
            contract,
            cause=SuspensionCause.FRAUD,
            scope=SuspensionScope.INTERNATIONAL_CALLS if partial else SuspensionScope.FULL,
            reason=f"alerte fraude {alert.id} ({alert.rule}, {alert.kind.value})",
        ),
    )


@router.post("/staff/fraud/{alert_id}/resolve")
def resolve(
    alert_id: int,
    request: Request,
    actor: FraudStaff,
    session: SessionDep,
    resolution: Annotated[str, Form(min_length=1, max_length=2000)],
    lift_restriction: Annotated[bool, Form()] = False,
    reported: Annotated[bool, Form()] = False,
) -> Response:
    alert = _alert(session, actor, alert_id)
    return act(
        request,
        session,
        back="/staff/fraud",
        done=Text(fr="Alerte close.", en="Alert resolved."),
        run=lambda: fraud.resolve(
            session,
            alert,
            by=actor.label,
            resolution=resolution,
            lift_restriction=lift_restriction,
            reported=reported,
        ),
    )


# --- call recordings (VOX-12) ----------------------------------------------------------------

RecordingsReader = Annotated[Actor, allowed(Permission.RECORDINGS_READ)]


def _day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Whole Paris days: from the start of ``since`` to the end of ``until``."""
    start = datetime.combine(since, time(0), tzinfo=PARIS) if since else None
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=PARIS) if until else None
    return start, end


@router.get("/customers/{customer_id}/recordings", response_class=HTMLResponse)
def recordings_page(
    customer_id: int,
    request: Request,
    actor: RecordingsReader,
    session: SessionDep,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    start, end = _day_bounds(since, until)
    return render(
        request,
        "voice/recordings.html",
        space(
            session,
            actor,
            customer_id,
            rows=recordings.list_recordings(session, customer_id, since=start, until=end),
            since=since,
            until=until,
        ),
    )


@router.get("/customers/{customer_id}/recordings/{recording_id}/file")
def recording_file(
    customer_id: int,
    recording_id: int,
    request: Request,
    actor: RecordingsReader,
    session: SessionDep,
) -> Response:
    recording = recordings.get_recording(session, customer_id, recording_id)
    settings: Settings = request.app.state.settings
    return FileResponse(
        recordings.file_of(recording, settings.data_dir),
        media_type=recording.content_type,
        filename=recordings.download_name(recording),
    )


@router.get("/customers/{customer_id}/recordings.zip")
def recordings_zip(
    customer_id: int,
    request: Request,
    actor: RecordingsReader,
    session: SessionDep,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    """Every recording of the period in one zip with its manifest (VOX-12)."""
    settings: Settings = request.app.state.settings
    start, end = _day_bounds(since, until)
    return export_response(session, customer_id, settings.data_dir, since=start, until=end)


# --- telemarketing consents (VOX-10) ---------------------------------------------------------

ConsentsReader = Annotated[Actor, allowed(Permission.VOICE_READ)]
ConsentsWriter = Annotated[Actor, allowed(Permission.VOICE_CONSENTS_WRITE)]


@router.get("/customers/{customer_id}/consents", response_class=HTMLResponse)
def consents_page(
    customer_id: int,
    request: Request,
    actor: ConsentsReader,
    session: SessionDep,
    number: str = "",
) -> Response:
    """What consumers said about prospection calls: consent, existing contract or refusal,
    who, when and the proof; the latest record of a number is what the dialer obeys."""
    return render(
        request,
        "voice/consents.html",
        space(
            session,
            actor,
            customer_id,
            consents=telemarketing.list_consents(session, customer_id, number.strip() or None),
            kinds=list(ConsentKind),
            query=number,
            may_write=actor.has(Permission.VOICE_CONSENTS_WRITE),
            given_default=now(request).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M"),
        ),
    )


@router.post("/customers/{customer_id}/consents")
def record_consent(
    customer_id: int,
    request: Request,
    actor: ConsentsWriter,
    session: SessionDep,
    number_text: Annotated[str, Form(alias="number", min_length=1, max_length=32)],
    kind: Annotated[ConsentKind, Form()],
    subject: Annotated[str, Form(min_length=1, max_length=200)],
    given_at: Annotated[str, Form(min_length=1, max_length=20)],
    proof: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    def run() -> None:
        try:
            moment = datetime.fromisoformat(given_at).replace(tzinfo=PARIS)
        except ValueError:
            raise InvalidInput(
                Text(fr="Date invalide : {raw}", en="Invalid date: {raw}"),
                field="given_at",
                details={"raw": given_at},
            ) from None
        telemarketing.record_consent(
            session,
            customer_id,
            number=number_text,
            kind=kind,
            subject=subject,
            given_at=moment,
            proof=proof,
            recorded_by=actor.label,
        )

    return act(
        request,
        session,
        back=f"/customers/{customer_id}/consents",
        done=Text(fr="Déclaration enregistrée.", en="Statement recorded."),
        run=run,
    )


@router.post("/customers/{customer_id}/consents/{consent_id}/withdraw")
def withdraw_consent(
    customer_id: int,
    consent_id: int,
    request: Request,
    actor: ConsentsWriter,
    session: SessionDep,
) -> Response:
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/consents",
        done=Text(fr="Consentement retiré.", en="Consent withdrawn."),
        run=lambda: telemarketing.withdraw_consent(session, customer_id, consent_id, now(request)),
    )


# --- the public directory of a number (VOX-17) -----------------------------------------------

DirectoryWriter = Annotated[Actor, allowed(Permission.DIRECTORY_WRITE)]


@router.get("/customers/{customer_id}/numbers/{number_id}/directory", response_class=HTMLResponse)
def directory_page(
    customer_id: int, number_id: int, request: Request, actor: DirectoryWriter, session: SessionDep
) -> Response:
    """What the public lookup of a number shows: the service, its provider, where to
    complain."""
    number_row = numbers.get_customer_number(session, customer_id, number_id)
    return render(
        request,
        "voice/directory.html",
        space(
            session,
            actor,
            customer_id,
            phone=number_row,
            entry=directory.get_entry(session, number_row),
        ),
    )


@router.post("/customers/{customer_id}/numbers/{number_id}/directory")
def set_directory(
    customer_id: int,
    number_id: int,
    request: Request,
    actor: DirectoryWriter,
    session: SessionDep,
    service_name: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=4000)],
    provider: Annotated[str, Form(max_length=200)],
    address: Annotated[str, Form(max_length=400)],
    complaint_contact: Annotated[str, Form(max_length=300)],
    website: Annotated[str, Form(max_length=300)] = "",
    published: Annotated[bool, Form()] = False,
) -> Response:
    number_row = numbers.get_customer_number(session, customer_id, number_id)
    data = directory.EntryData(
        service_name=service_name,
        description=description,
        provider=provider,
        address=address,
        complaint_contact=complaint_contact,
        website=website.strip() or None,
        published=published,
    )
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/numbers/{number_id}/directory",
        done=Text(fr="Fiche d'annuaire enregistrée.", en="Directory entry saved."),
        run=lambda: directory.set_entry(session, number_row, data),
    )


# --- the calling CRM (VOX-18) ----------------------------------------------------------------

DialerUser = Annotated[Actor, allowed(Permission.DIALER_USE)]


@router.get("/customers/{customer_id}/dialer", response_class=HTMLResponse)
def dialer_page(
    customer_id: int, request: Request, actor: DialerUser, session: SessionDep
) -> Response:
    """The call centre's contacts and call lists."""
    return render(
        request,
        "voice/dialer.html",
        space(
            session,
            actor,
            customer_id,
            contacts=dialer.list_contacts(session, customer_id),
            lists=dialer.list_lists(session, customer_id),
            numbers=numbers.list_customer_numbers(session, customer_id),
        ),
    )


@router.post("/customers/{customer_id}/dialer/contacts")
def add_crm_contact(
    customer_id: int,
    request: Request,
    actor: DialerUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)],
    phone: Annotated[str, Form(max_length=40)],
    company: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=200)] = "",
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/dialer",
        done=Text(fr="Contact ajouté.", en="Contact added."),
        run=lambda: dialer.add_contact(
            session,
            customer_id,
            name=name,
            phone=phone,
            company=company,
            email=email.strip() or None,
            notes=notes,
        ),
    )


@router.post("/customers/{customer_id}/dialer/lists")
def create_call_list(
    customer_id: int,
    request: Request,
    actor: DialerUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)],
    caller_id_number_id: Annotated[int, Form()],
) -> Response:
    """A call list presenting one of the customer's own numbers (VOX-09)."""
    return act(
        request,
        session,
        back=f"/customers/{customer_id}/dialer",
        done=Text(fr="Liste d'appels créée.", en="Call list created."),
        run=lambda: dialer.create_list(
            session, customer_id, name=name, caller_id_number_id=caller_id_number_id
        ),
    )
