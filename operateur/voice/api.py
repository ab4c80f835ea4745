"""REST endpoints of the voice context.

- ``/voice/authorize|answer|update|end``: call control for the SIP proxy, with the API key of a
  staff user of the ``network`` role (permission ``VOICE_CONTROL``). These run on every call, so
  a checked API key is trusted for ``voice_auth_cache_seconds`` instead of being looked up (and
  its last use written) on each request; the permission is checked each time by the one access
  check, :class:`operateur.http.deps.Require`.
- ``/voice/calls``, ``/voice/oppositions``, ``/voice/destination-suspensions``: staff.
- ``/customers/{customer_id}/voice/…``: a customer's live calls, consents and profiles.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, status
from starlette.concurrency import run_in_threadpool

from operateur.accounts import service as accounts
from operateur.accounts.audit import actor_of
from operateur.accounts.permissions import Actor, Permission
from operateur.config import Settings
from operateur.db import transaction
from operateur.errors import Unauthenticated
from operateur.http.deps import Require, SessionDep, require
from operateur.i18n import Text, pick_lang
from operateur.voice import suspensions, telemarketing
from operateur.voice.control import AuthorizeRequest, VoiceControl
from operateur.voice.counters import shared_counters
from operateur.voice.inbound import InboundRequest
from operateur.voice.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    CallIn,
    ConsentIn,
    ConsentOut,
    DestinationSuspensionIn,
    DestinationSuspensionOut,
    EndIn,
    InboundIn,
    InboundOut,
    LiveCallOut,
    OkOut,
    OppositionsIn,
    OppositionsOut,
    ProfileIn,
    ProfileOut,
    WithdrawIn,
)

router = APIRouter(tags=["voice"])

_ENGINE_LOCK = threading.Lock()


def engine_of(app: FastAPI) -> VoiceControl:
    """The app's call-control engine, built on first use from its settings."""
    state = app.state
    control: VoiceControl | None = getattr(state, "voice_control", None)
    if control is None:
        with _ENGINE_LOCK:
            control = getattr(state, "voice_control", None)
            if control is None:
                settings: Settings = state.settings
                control = VoiceControl(
                    state.session_factory, shared_counters(settings.redis_url), settings
                )
                state.voice_control = control
    return control


async def control_of(request: Request) -> VoiceControl:
    return engine_of(request.app)


ControlDep = Annotated[VoiceControl, Depends(control_of)]


def _proxy_actor(request: Request) -> Actor:
    """The actor behind the bearer key, from the cache or (once per delay) the database."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            Text(fr="Clé d'API manquante.", en="Missing API key."), code="unauthenticated"
        )
    state = request.app.state
    cache: dict[str, tuple[Actor, float]] | None = getattr(state, "voice_auth_cache", None)
    if cache is None:
        cache = state.voice_auth_cache = {}
    key = hashlib.sha256(token.encode()).hexdigest()
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[1] < state.settings.voice_auth_cache_seconds:
        return hit[0]
    with transaction(state.session_factory) as session:  # the key's last use is written now
        found = accounts.authenticate_token(session, token)
    if found is None:
        cache.pop(key, None)
        raise Unauthenticated(
            Text(fr="Clé d'API invalide.", en="Invalid API key."), code="unauthenticated"
        )
    if len(cache) > 10_000:
        cache.clear()
    cache[key] = (found, now)
    return found


async def _controller(request: Request) -> Actor:
    """The proxy's credential (cached) with ``VOICE_CONTROL``, checked by ``Require``. Async,
    like ``control_of``: the call path makes a single hop to the worker threads (the route)."""
    actor = _proxy_actor(request)
    request.state.actor = actor
    with request.app.state.session_factory() as session:  # used only below a customer path
        return Require(Permission.VOICE_CONTROL)(request, actor, session)


Controller = Annotated[Actor, Depends(_controller)]
Admin = Annotated[Actor, require(Permission.VOICE_ADMIN)]
Reader = Annotated[Actor, require(Permission.VOICE_READ)]
ConsentWriter = Annotated[Actor, require(Permission.VOICE_CONSENTS_WRITE)]


# --- call control (the SIP proxy) -------------------------------------------------------------


@router.post("/voice/authorize", response_model=AuthorizeOut)
async def authorize(
    body: AuthorizeIn, actor: Controller, control: ControlDep, request: Request
) -> AuthorizeOut:
    """May this call go through? Always 200: a refusal has ``allow=false`` with the SIP
    ``code`` and ``reason`` to relay.

    The call-control routes are async and send only the engine to a worker thread (it may
    read the database or Redis): a plain ``def`` route would make two trips, the second one
    for FastAPI's check of the response model."""
    decision = await run_in_threadpool(
        control.authorize,
        AuthorizeRequest(
            call_id=body.call_id,
            line=body.line,
            caller=body.caller,
            callee=body.callee,
            source_ip=body.source_ip,
            media=body.media,
        ),
    )
    return AuthorizeOut(
        allow=decision.allow,
        code=decision.code,
        reason=decision.reason(pick_lang(request.headers.get("accept-language"))),
        max_duration=decision.max_duration,
        route=decision.route,
        emergency=decision.emergency,
    )


@router.post("/voice/inbound", response_model=InboundOut)
async def authorize_inbound(
    body: InboundIn, actor: Controller, control: ControlDep, request: Request
) -> InboundOut:
    """May the carrier's call to a customer's number ring its line (VOX-04, VOX-09, CTR-06,
    VOX-05)? Always 200; then ``answer`` and ``end`` as for outbound calls (never billed)."""
    decision, line = await run_in_threadpool(
        control.authorize_inbound,
        InboundRequest(
            call_id=body.call_id,
            caller=body.caller,
            callee=body.callee,
            from_abroad=body.from_abroad,
            source_ip=body.source_ip,
        ),
    )
    return InboundOut(
        allow=decision.allow,
        code=decision.code,
        reason=decision.reason(pick_lang(request.headers.get("accept-language"))),
        max_duration=decision.max_duration,
        line=line,
    )


@router.post("/voice/answer", response_model=OkOut)
async def answer(body: CallIn, actor: Controller, control: ControlDep) -> OkOut:
    await run_in_threadpool(control.answer, body.call_id, moment_of(body.at))
    return OkOut()


@router.post("/voice/update", response_model=OkOut)
async def update(body: CallIn, actor: Controller, control: ControlDep) -> OkOut:
    await run_in_threadpool(control.update, body.call_id)
    return OkOut()


@router.post("/voice/end", response_model=OkOut)
async def end(body: EndIn, actor: Controller, control: ControlDep) -> OkOut:
    """Idempotent: the end of a call that is not live (already ended, unknown) changes nothing."""
    await run_in_threadpool(
        control.end, body.call_id, body.disposition, body.sip_code, moment_of(body.at)
    )
    return OkOut()


def moment_of(unix_time: float | None) -> datetime | None:
    """A report's ``at`` (Unix seconds, as the proxy saw the event), or None."""
    return datetime.fromtimestamp(unix_time, UTC) if unix_time is not None else None


@router.get("/voice/calls", response_model=list[LiveCallOut])
def all_live_calls(actor: Controller, control: ControlDep) -> list[LiveCallOut]:
    return [LiveCallOut.model_validate(call) for call in control.live_calls()]


# --- staff: opposition list and suspended destinations --------------------------------------


@router.post("/voice/oppositions", response_model=OppositionsOut)
def import_oppositions(body: OppositionsIn, actor: Admin, session: SessionDep) -> OppositionsOut:
    """Import an opposition list (Bloctel format), all or nothing."""
    report = telemarketing.import_oppositions(
        session, body.content, source=body.source, replace=body.replace
    )
    return OppositionsOut(
        added=report.added,
        already_listed=report.already_listed,
        removed=report.removed,
        total=report.total,
    )


@router.get("/voice/destination-suspensions", response_model=list[DestinationSuspensionOut])
def list_destination_suspensions(
    actor: Admin, session: SessionDep, include_lifted: bool = False
) -> list[DestinationSuspensionOut]:
    return [
        DestinationSuspensionOut.model_validate(row)
        for row in suspensions.list_destinations(session, include_lifted=include_lifted)
    ]


@router.post(
    "/voice/destination-suspensions",
    response_model=DestinationSuspensionOut,
    status_code=status.HTTP_201_CREATED,
)
def suspend_destination(
    body: DestinationSuspensionIn, actor: Admin, session: SessionDep
) -> DestinationSuspensionOut:
    row = suspensions.suspend_destination(
        session,
        prefix=body.prefix,
        reason=body.reason,
        effective_at=body.effective_at,
        offer_id=body.offer_id,
    )
    return DestinationSuspensionOut.model_validate(row)


@router.post(
    "/voice/destination-suspensions/{suspension_id}/lift",
    response_model=DestinationSuspensionOut,
)
def lift_destination(
    suspension_id: int, actor: Admin, session: SessionDep
) -> DestinationSuspensionOut:
    return DestinationSuspensionOut.model_validate(
        suspensions.lift_destination(session, suspension_id)
    )


# --- a customer's own -------------------------------------------------------------------------


@router.get("/customers/{customer_id}/voice/calls", response_model=list[LiveCallOut])
def live_calls(customer_id: int, actor: Reader, control: ControlDep) -> list[LiveCallOut]:
    """The customer's calls in progress."""
    return [LiveCallOut.model_validate(call) for call in control.live_calls(customer_id)]


@router.get("/customers/{customer_id}/voice/consents", response_model=list[ConsentOut])
def list_consents(
    customer_id: int, actor: Reader, session: SessionDep, number: str | None = None
) -> list[ConsentOut]:
    return [
        ConsentOut.model_validate(c)
        for c in telemarketing.list_consents(session, customer_id, number)
    ]


@router.post(
    "/customers/{customer_id}/voice/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
)
def record_consent(
    customer_id: int, body: ConsentIn, actor: ConsentWriter, session: SessionDep
) -> ConsentOut:
    """Record a consumer's consent, an existing contract, or a refusal (VOX-10)."""
    consent = telemarketing.record_consent(
        session,
        customer_id,
        number=body.number,
        kind=body.kind,
        subject=body.subject,
        given_at=body.given_at,
        proof=body.proof,
        recorded_by=actor_of(session).label,
    )
    return ConsentOut.model_validate(consent)


@router.post(
    "/customers/{customer_id}/voice/consents/{consent_id}/withdraw", response_model=ConsentOut
)
def withdraw_consent(
    customer_id: int, consent_id: int, body: WithdrawIn, actor: ConsentWriter, session: SessionDep
) -> ConsentOut:
    from operateur.db import utcnow

    consent = telemarketing.withdraw_consent(session, customer_id, consent_id, body.at or utcnow())
    return ConsentOut.model_validate(consent)


@router.get("/customers/{customer_id}/voice/profiles", response_model=list[ProfileOut])
def list_profiles(customer_id: int, actor: Reader, session: SessionDep) -> list[ProfileOut]:
    return [ProfileOut.model_validate(p) for p in telemarketing.list_profiles(session, customer_id)]


@router.put("/customers/{customer_id}/voice/profiles/{contract_id}", response_model=ProfileOut)
def set_profile(
    customer_id: int, contract_id: int, body: ProfileIn, actor: Admin, session: SessionDep
) -> ProfileOut:
    """Flag a contract's accounts as prospecting (VOX-10), where its terms allow it (VOX-11)."""
    profile = telemarketing.set_prospecting(session, customer_id, contract_id, body.prospecting)
    return ProfileOut.model_validate(profile)
