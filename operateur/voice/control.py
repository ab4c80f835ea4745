"""Real-time call control: the SIP proxy asks before relaying each call (``authorize``), then
tells when it is answered, alive (``update``) and ended; calls whose end never arrives are reaped.

``authorize`` runs on every INVITE, so it reads what it needs about a line once — contract,
frozen terms, rate deck, the customer's numbers, the account's flags — and keeps it in process
for ``voice_cache_seconds`` (a change committed in this process drops it at once). A postpaid
call touches no database on ``authorize``; its usage record is written at ``end``. A prepaid call
reserves its credit at ``authorize`` (BIL-10) and commits the rated cost at ``end``.

Checks, in order; the first that fails refuses the call, naming its rule:

1. the line exists and is active, its contract covers voice (LINE);
2. emergency numbers: routed free, never limited nor billed, where the offer routes them;
   refused with a clear cause where it excludes them (VOX-02);
3. the contract and service may be used now, including partial suspensions of international
   calls (CTR-06 via ``contracts.lifecycle.may_use``);
4. the destination: valid number (404), data/fax (VOX-02), premium/IRSF blocklist, suspended
   destination, allowed countries, value-added numbers (VOX-01);
5. the caller ID (VOX-09);
6. a prospecting account on an offer that forbids it (VOX-11), then the telemarketing rules
   (VOX-10);
7. a price for the destination in the contract's rate deck (BIL-09);
8. counters, atomically: CAPS as a sliding one-second window (VOX-07, 503), the dialling rate
   of a line (VOX-11), concurrent calls of the line (VOX-05, 486) and of the platform account —
   the contract (VOX-07, 486);
9. prepaid: a reservation paying at least the connection fee and first step (BIL-10, 402).

The maximum duration is the smallest of the terms' cap (VOX-03), the fraud long-call limit
(VOX-06) and, for prepaid calls, what the reservation pays for at the destination's rate and
steps (BIL-10). Without any cap, ``voice_uncapped_call_seconds`` bounds the dialog.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.models import Customer
from operateur.accounts.permissions import system_actor
from operateur.billing import rating, usage, wallets
from operateur.billing.models import RateDeck, UsageStatus
from operateur.catalog.service import get_offer
from operateur.catalog.terms import (
    CapacityLimit,
    ContractTerms,
    EmergencyRouting,
    PaymentMethod,
    Service,
)
from operateur.config import Settings
from operateur.contracts.lifecycle import USABLE, UsageDecision, may_use
from operateur.contracts.models import (
    Contract,
    Line,
    LineKind,
    LineStatus,
    Subscription,
    Suspension,
)
from operateur.contracts.service import terms_of
from operateur.db import transaction, utcnow
from operateur.domain.calendar import TimeWindow
from operateur.errors import Conflict, NotFound
from operateur.group_commit import GroupCommit
from operateur.i18n import Text
from operateur.logs import event as log_event
from operateur.numbers.models import NumberStatus, PhoneNumber
from operateur.voice import credit, telemarketing
from operateur.voice.callerid import caller_id_refusal
from operateur.voice.counters import (
    AlreadyLive,
    Check,
    Counters,
    Slot,
    Window,
    shared_counters,
)
from operateur.voice.decision import (
    BUSY_HERE,
    FORBIDDEN,
    PAYMENT_REQUIRED,
    SERVICE_UNAVAILABLE,
    Decision,
    Refusal,
)
from operateur.voice.destinations import (
    NOT_A_NUMBER,
    Dialled,
    PrefixSet,
    barring,
    blocklist,
    dialled,
)
from operateur.voice.inbound import UNKNOWN_NUMBER, InboundRequest, inbound_refusal
from operateur.voice.models import DestinationSuspension, VoiceProfile

log = logging.getLogger("operateur.voice")

#: Where call records of call control are stored (``usage_records.source``).
USAGE_SOURCE = "voice-control"
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED")

# The voice service a line uses, by preference, among its offer's services.
_SERVICE_PREFERENCE = {
    LineKind.CENTREX: (Service.CENTREX, Service.FIXED),
    LineKind.TRUNK: (Service.CPAAS_VOICE, Service.VOICE_OUTBOUND, Service.FIXED, Service.CENTREX),
    LineKind.AGENT: (Service.VOICE_OUTBOUND, Service.CRM, Service.CPAAS_VOICE),
    LineKind.MOBILE: (Service.MOBILE, Service.FIXED),
}


# --- cache invalidation ------------------------------------------------------------------------

# Rows whose change alters what call control knows about a line. Wallets are not among them:
# a prepaid balance is read from the database on every prepaid call.
_WATCHED: tuple[type, ...] = (
    Contract,
    Suspension,
    Line,
    Subscription,
    PhoneNumber,
    RateDeck,
    Customer,
    VoiceProfile,
    DestinationSuspension,
)
_generation = 0
_install_lock = threading.Lock()


def _after_flush(session: Session, _context: Any) -> None:
    if any(isinstance(o, _WATCHED) for o in chain(session.new, session.dirty, session.deleted)):
        session.info["voice_changed"] = True


def _after_commit(session: Session) -> None:
    global _generation
    if session.info.pop("voice_changed", False):
        _generation += 1


def install_invalidation() -> None:
    """Drop every cached line view when a transaction of this process commits a change to a
    contract, a line, a number, a deck… (other processes rely on the cache's lifetime)."""
    with _install_lock:
        if not event.contains(Session, "after_flush", _after_flush):
            event.listen(Session, "after_flush", _after_flush)
            event.listen(Session, "after_commit", _after_commit)


# --- what call control knows about a line ---------------------------------------------------


@dataclass(frozen=True)
class LineView:
    """Everything ``authorize`` reads about a line, loaded at once and cached."""

    line_id: int
    sip_username: str
    active: bool
    customer_id: int
    contract_id: int
    contract_live: bool
    offer_id: str
    service: Service | None
    terms: ContractTerms
    usable: UsageDecision | None
    usable_abroad: UsageDecision | None
    usable_inbound: UsageDecision | None
    prepaid: bool
    deck: rating.RateDeck | None
    numbers: frozenset[str]
    prospecting: bool
    line_concurrency: int | None
    account_concurrency: int | None
    caps: int | None
    dialling_per_minute: int | None
    max_call_seconds: int | None
    windows: tuple[TimeWindow, ...]
    suspended: PrefixSet
    loaded_at: float
    generation: int


def _active_quantities(session: Session, contract_id: int, codes: Iterable[str]) -> dict[str, int]:
    wanted = set(codes)
    if not wanted:
        return {}
    today = date.today()
    quantities: dict[str, int] = {}
    for sub in session.scalars(
        select(Subscription).where(
            Subscription.contract_id == contract_id, Subscription.item_code.in_(wanted)
        )
    ):
        started = sub.start_date is None or sub.start_date <= today
        running = sub.end_date is None or sub.end_date >= today
        if started and running:
            quantities[sub.item_code] = quantities.get(sub.item_code, 0) + sub.quantity
    return quantities


def _with_options(
    base: int | None, terms: ContractTerms, limit: CapacityLimit, qty: dict[str, int]
) -> int | None:
    """A platform limit raised by the options subscribed (VOX-07, BIL-17)."""
    extra = sum(
        option.per_unit * qty.get(option.item_code, 0)
        for option in terms.limits.capacity_options
        if option.limit is limit
    )
    if base is None:
        return extra or None
    return base + extra


def _smallest(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def load_line_view(
    session: Session, sip_username: str, *, now: datetime, generation: int
) -> LineView | None:
    """Read what call control needs about the line ``sip_username`` (None: unknown line)."""
    line = session.scalar(select(Line).where(Line.sip_username == sip_username))
    if line is None:
        return None
    contract = session.get(Contract, line.contract_id)
    customer = session.get(Customer, line.customer_id)
    assert contract is not None and customer is not None
    terms = terms_of(contract)
    offered = get_offer(contract.offer_id).services
    service = next((s for s in _SERVICE_PREFERENCE[line.kind] if s in offered), None)
    usable = abroad = inbound = None
    if service:
        usable = may_use(session, line.customer_id, service, contract_id=line.contract_id)
        abroad = may_use(
            session, line.customer_id, service, international=True, contract_id=line.contract_id
        )
        inbound = may_use(
            session, line.customer_id, service, inbound=True, contract_id=line.contract_id
        )
    deck_id = usage.active_deck_id(session, contract)
    deck = usage.load_deck(session, deck_id) if deck_id is not None else None
    numbers = frozenset(
        session.scalars(
            select(PhoneNumber.e164).where(
                PhoneNumber.customer_id == line.customer_id,
                PhoneNumber.status == NumberStatus.ASSIGNED,
            )
        )
    )
    profile = telemarketing.get_profile(session, contract.id)
    limits = terms.limits
    quantities = _active_quantities(
        session, contract.id, (o.item_code for o in limits.capacity_options)
    )
    voice = terms.voice
    marketing = voice.telemarketing if voice else None
    suspended = {
        row.prefix: row.reason
        for row in session.scalars(
            select(DestinationSuspension).where(
                DestinationSuspension.lifted_at.is_(None),
                DestinationSuspension.effective_at <= now,
            )
        )
        if row.offer_id in (None, contract.offer_id)
    }
    long_call = limits.long_call_minutes * 60 if limits.long_call_minutes else None
    return LineView(
        line_id=line.id,
        sip_username=line.sip_username,
        active=line.status is LineStatus.ACTIVE,
        customer_id=line.customer_id,
        contract_id=contract.id,
        contract_live=contract.status in USABLE,
        offer_id=contract.offer_id,
        service=service,
        terms=terms,
        usable=usable,
        usable_abroad=abroad,
        usable_inbound=inbound,
        prepaid=customer.payment_method is PaymentMethod.PREPAID,
        deck=deck,
        numbers=numbers,
        prospecting=bool(profile and profile.prospecting),
        line_concurrency=limits.concurrent_calls_per_line,
        account_concurrency=_with_options(
            limits.concurrent_calls_per_account,
            terms,
            CapacityLimit.CONCURRENT_CALLS_PER_ACCOUNT,
            quantities,
        ),
        caps=_with_options(
            limits.calls_per_second, terms, CapacityLimit.CALLS_PER_SECOND, quantities
        ),
        dialling_per_minute=marketing.manual_dialling_attempts_per_minute if marketing else None,
        max_call_seconds=_smallest(limits.max_call_seconds, long_call),
        windows=tuple(telemarketing.time_window(w) for w in marketing.prospection_windows)
        if marketing
        else (),
        suspended=PrefixSet(suspended),
        loaded_at=time.monotonic(),
        generation=generation,
    )


# --- refusals -------------------------------------------------------------------------------


def _refusal(code: int, rule: str, cause: str, fr: str, en: str) -> Refusal:
    return Refusal(code, rule, cause, Text(fr=fr, en=en))


UNKNOWN_LINE = _refusal(
    FORBIDDEN, "LINE", "unknown_line", "compte SIP inconnu", "unknown SIP account"
)
LINE_INACTIVE = _refusal(
    FORBIDDEN, "LINE", "line_inactive", "ligne suspendue ou fermée", "line suspended or closed"
)
NO_VOICE = _refusal(
    FORBIDDEN,
    "LINE",
    "no_voice_service",
    "le contrat de cette ligne ne comprend pas de service voix",
    "this line's contract includes no voice service",
)
CONTRACT_NOT_LIVE = _refusal(
    FORBIDDEN,
    "CTR-06",
    "contract_not_live",
    "le contrat de cette ligne n'est pas en service",
    "this line's contract is not in service",
)
EMERGENCY_REFUSED = _refusal(
    FORBIDDEN,
    "VOX-02",
    "emergency_not_routed",
    "les numéros d'urgence ne sont pas acheminés par ce service : appelez le 112 depuis un "
    "téléphone fixe ou mobile",
    "emergency numbers are not routed by this service: call 112 from a landline or mobile phone",
)
NO_PRICE = _refusal(
    FORBIDDEN,
    "BIL-09",
    "no_price",
    "aucun tarif pour cette destination dans la grille du contrat",
    "no price for this destination in the contract's rate deck",
)
TELEMARKETING_FORBIDDEN = _refusal(
    FORBIDDEN,
    "VOX-11",
    "telemarketing_forbidden",
    "télémarketing et centres d'appels interdits par les conditions du contrat",
    "telemarketing and call centres are forbidden by the contract's terms",
)
CONTROL_UNAVAILABLE = _refusal(
    SERVICE_UNAVAILABLE,
    "SYS",
    "control_unavailable",
    "contrôle d'appel momentanément indisponible",
    "call control temporarily unavailable",
)
DUPLICATE_CALL_ID = _refusal(
    FORBIDDEN,
    "LINE",
    "duplicate_call_id",
    "identifiant d'appel déjà utilisé par une autre ligne",
    "call id already used by another line",
)


def _usage_refusal(decision: UsageDecision) -> Refusal:
    depleted = decision.code == "suspended_prepaid_depleted"
    return Refusal(
        PAYMENT_REQUIRED if depleted else FORBIDDEN,
        "BIL-10" if depleted else "CTR-06",
        decision.code,
        decision.reason,
    )


def _limit_refusal(check: Check) -> Refusal:
    kind = check.key.split(":", 1)[0]
    limit = check.limit
    if kind == "line":
        return _refusal(
            BUSY_HERE,
            "VOX-05",
            "line_concurrency",
            f"la ligne a déjà {limit} appels simultanés (maximum du contrat)",
            f"the line already has {limit} simultaneous calls (the contract's maximum)",
        )
    if kind == "account":
        return _refusal(
            BUSY_HERE,
            "VOX-07",
            "account_concurrency",
            f"le compte a déjà {limit} appels simultanés (maximum du contrat)",
            f"the account already has {limit} simultaneous calls (the contract's maximum)",
        )
    if kind == "caps":
        return _refusal(
            SERVICE_UNAVAILABLE,
            "VOX-07",
            "caps",
            f"plus de {limit} tentative(s) d'appel par seconde (CAPS du contrat)",
            f"more than {limit} call attempt(s) per second (the contract's CAPS)",
        )
    return _refusal(
        FORBIDDEN,
        "VOX-11",
        "automatic_dialling",
        f"plus de {limit} appels par minute sur une ligne : numérotation automatique interdite",
        f"more than {limit} calls a minute on one line: automatic dialling is forbidden",
    )


def _insufficient_credit(available: Decimal, needed: Decimal) -> Refusal:
    return _refusal(
        PAYMENT_REQUIRED,
        "BIL-10",
        "insufficient_credit",
        f"crédit prépayé insuffisant : {available} € disponibles, {needed} € pour la première "
        "tranche",
        f"insufficient prepaid credit: {available} € available, {needed} € for the first step",
    )


# --- live calls -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveCall:
    """A call between ``authorize`` and ``end``, as the counters backend holds it."""

    call_id: str
    line: str
    customer_id: int
    contract_id: int
    caller: str
    callee: str
    route: str
    emergency: bool
    max_duration: int
    started_at: datetime
    answered_at: datetime | None
    updated_at: datetime | None
    prepaid: bool
    inbound: bool = False

    @classmethod
    def from_state(cls, state: dict[str, str]) -> LiveCall:
        def moment(key: str) -> datetime | None:
            value = state.get(key) or ""
            return datetime.fromtimestamp(float(value), UTC) if value else None

        started = moment("created")
        assert started is not None
        return cls(
            call_id=state["call_id"],
            line=state["line"],
            customer_id=int(state["customer"]),
            contract_id=int(state["contract"]),
            caller=state["caller"],
            callee=state["callee"],
            route=state["route"],
            emergency=state["emergency"] == "1",
            max_duration=int(state["max"]),
            started_at=started,
            answered_at=moment("answered"),
            updated_at=moment("updated"),
            prepaid=state["prepaid"] == "1",
            inbound=state.get("direction") == "inbound",
        )


@dataclass(frozen=True)
class Ending:
    """A live call's end, as reported (or reaped), waiting to be settled."""

    state: dict[str, str]
    disposition: str
    ended: datetime
    sip_code: int
    reaped: bool


def _disposition(call: LiveCall, ending: Ending) -> tuple[str, datetime | None, datetime]:
    """(disposition, answer time, end time) to bill: an answered call is ANSWERED and ends no
    later than its maximum duration; a call never answered cannot be ANSWERED."""
    disposition, ended, answered = ending.disposition, ending.ended, call.answered_at
    if answered is not None:
        answered = max(answered, call.started_at)
    if answered is None and disposition == "ANSWERED":
        answered = ended  # the answer was never reported: nothing was talked
    if answered is not None:
        disposition = "ANSWERED"
        ended = min(ended, answered + timedelta(seconds=call.max_duration))
        ended = max(ended, answered)
    elif disposition == "ANSWERED" or disposition not in DISPOSITIONS:
        disposition = "FAILED"
    return disposition, answered, ended


INBOUND = "inbound"  # the route class of calls received


def reservation_ref(call_id: str) -> str:
    return f"call:{call_id}"


CallEnd = tuple[str, str, int, datetime | None]  # call id, disposition, SIP code, moment


@dataclass(frozen=True)
class AuthorizeRequest:
    call_id: str
    line: str
    caller: str
    callee: str
    source_ip: str = ""
    media: str = "audio"  # what the proxy saw in the SDP offer: audio, fax (T.38) or data


class VoiceControl:
    """The call-control engine of one process; safe to call from several threads."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        counters: Counters,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._factory = session_factory
        self.counters = counters
        self.settings = settings
        self._clock = clock
        self._views: dict[str, LineView] = {}
        self._blocked = blocklist(settings.voice_blocklist_path)
        self._ends: GroupCommit[Ending] = GroupCommit(self._settle_many)
        install_invalidation()

    # -- cache --

    def forget(self) -> None:
        """Drop every cached line view (the next call reads the database again)."""
        self._views.clear()

    def view(self, sip_username: str) -> LineView | None:
        cached = self._views.get(sip_username)
        fresh_for = self.settings.voice_cache_seconds
        if (
            cached is not None
            and cached.generation == _generation
            and time.monotonic() - cached.loaded_at < fresh_for
        ):
            return cached
        generation = _generation
        with self._factory() as session:
            loaded = load_line_view(session, sip_username, now=self._clock(), generation=generation)
        if loaded is None:
            self._views.pop(sip_username, None)
            return None
        if len(self._views) > 100_000:
            self._views.clear()
        self._views[sip_username] = loaded
        return loaded

    @contextmanager
    def _unit(self, session: Session | None = None) -> Iterator[Session]:
        """A transaction of call control, or a savepoint of the caller's ``session``."""
        if session is not None:
            with session.begin_nested():
                yield session
            return
        with transaction(self._factory) as own:
            set_actor(own, system_actor("voice-control"))
            yield own

    # -- authorize --

    def authorize(self, request: AuthorizeRequest) -> Decision:
        """Allow or refuse a call (see the module's docstring for the checks and their order)."""
        now = self._clock()
        view = self.view(request.line)
        if view is None:
            return Decision.refused(UNKNOWN_LINE)
        if not view.active:
            return Decision.refused(LINE_INACTIVE)
        voice = view.terms.voice
        if voice is None or view.service is None:
            return Decision.refused(NO_VOICE)
        number = dialled(request.callee)
        if number is None:
            return Decision.refused(NOT_A_NUMBER)
        if number.is_emergency:
            if voice.emergency_calls is EmergencyRouting.REFUSE:
                return Decision.refused(EMERGENCY_REFUSED, number.route, True)
            return self._emergency(request, view, number, now)
        refusal = self._checks(request, view, number)
        if refusal is not None:
            return Decision.refused(refusal, number.route)
        rate = (
            view.deck.match_digits(number.rating_key) if view.deck and number.rating_key else None
        )
        if rate is None:
            return Decision.refused(NO_PRICE, number.route)
        if view.prospecting:
            with self._factory() as session:
                refusal = telemarketing.prospection_refusal(
                    session,
                    customer_id=view.customer_id,
                    number=number.record_number,
                    rules=voice.telemarketing,
                    windows=view.windows,
                    now=now,
                )
            if refusal is not None:
                return Decision.refused(refusal, number.route)
        return self._admit(request, view, number, rate, now)

    def _checks(self, request: AuthorizeRequest, view: LineView, number: Dialled) -> Refusal | None:
        voice = view.terms.voice
        assert voice is not None
        if not view.contract_live:
            return CONTRACT_NOT_LIVE
        usable = view.usable_abroad if number.is_international else view.usable
        if usable is not None and not usable.allowed:
            return _usage_refusal(usable)
        refusal = barring(
            number, voice, blocked=self._blocked, suspended=view.suspended, media=request.media
        )
        if refusal is not None:
            return refusal
        refusal = caller_id_refusal(request.caller, voice.cli, assigned=view.numbers)
        if refusal is not None:
            return refusal
        if view.prospecting and not voice.telemarketing.allowed:
            return TELEMARKETING_FORBIDDEN
        return None

    def _limits(self, view: LineView) -> tuple[list[Window], list[Slot]]:
        windows: list[Window] = []
        slots: list[Slot] = []
        if view.caps is not None:
            windows.append(Window(f"caps:{view.contract_id}", view.caps, 1.0))
        if view.dialling_per_minute is not None:
            windows.append(Window(f"dial:{view.line_id}", view.dialling_per_minute, 60.0))
        if view.line_concurrency is not None:
            slots.append(Slot(f"line:{view.line_id}", view.line_concurrency))
        if view.account_concurrency is not None:
            slots.append(Slot(f"account:{view.contract_id}", view.account_concurrency))
        return windows, slots

    def _state(
        self,
        request: AuthorizeRequest | InboundRequest,
        view: LineView,
        *,
        callee: str,
        route: str,
        now: datetime,
        max_duration: int,
        emergency: bool = False,
        inbound: bool = False,
    ) -> dict[str, str]:
        """What the counters keep about a live call (read back by ``LiveCall.from_state``)."""
        return {
            "call_id": request.call_id,
            "line": view.sip_username,
            "customer": str(view.customer_id),
            "contract": str(view.contract_id),
            "caller": request.caller,
            "callee": callee,
            "route": route,
            "emergency": "1" if emergency else "0",
            "max": str(max_duration),
            "created": repr(now.timestamp()),
            "answered": "",
            "updated": "",
            # prepaid calls reserve credit; emergency and received calls are free
            "prepaid": "1" if view.prepaid and not emergency and not inbound else "0",
            "source_ip": request.source_ip,
            "direction": "inbound" if inbound else "outbound",
        }

    def _deadline(self, now: datetime, max_duration: int) -> float:
        s = self.settings
        return now.timestamp() + s.voice_ring_seconds + max_duration + s.voice_reap_margin_seconds

    def _replay(self, request: AuthorizeRequest) -> Decision:
        """The answer already given to this call id (a retransmitted INVITE)."""
        live = self.counters.get(request.call_id)
        if live is None or live["line"] != request.line:
            return Decision.refused(DUPLICATE_CALL_ID)
        return Decision(True, 200, None, int(live["max"]), live["route"], live["emergency"] == "1")

    def _emergency(
        self, request: AuthorizeRequest, view: LineView, number: Dialled, now: datetime
    ) -> Decision:
        """VOX-02: routed free, never limited nor billed (no slot, no CAPS, no credit)."""
        max_duration = self.settings.voice_uncapped_call_seconds
        try:
            self.counters.admit(
                request.call_id,
                windows=(),
                slots=(),
                state=self._state(
                    request,
                    view,
                    callee=number.record_number,
                    route=number.route,
                    now=now,
                    max_duration=max_duration,
                    emergency=True,
                ),
                owner=str(view.customer_id),
                deadline=self._deadline(now, max_duration),
                now=now.timestamp(),
            )
        except Exception:  # an emergency call goes through even without the counters
            log.exception("emergency call %s not recorded in the counters", request.call_id)
        log_event(log, "call.emergency", call=request.call_id, line=view.sip_username)
        return Decision(True, 200, None, max_duration, number.route, True)

    def _admit(
        self,
        request: AuthorizeRequest,
        view: LineView,
        number: Dialled,
        rate: rating.Rate,
        now: datetime,
    ) -> Decision:
        cap = view.max_call_seconds or self.settings.voice_uncapped_call_seconds
        windows, slots = self._limits(view)
        deadline = self._deadline(now, cap)
        state = self._state(
            request,
            view,
            callee=number.record_number,
            route=number.route,
            now=now,
            max_duration=cap,
        )
        try:
            failed = self.counters.admit(
                request.call_id,
                windows=windows,
                slots=slots,
                state=state,
                owner=str(view.customer_id),
                deadline=deadline,
                now=now.timestamp(),
            )
        except Exception:
            log.exception("counters unavailable for call %s", request.call_id)
            return Decision.refused(CONTROL_UNAVAILABLE, number.route)
        if isinstance(failed, AlreadyLive):
            return self._replay(request)
        if failed is not None:
            return Decision.refused(_limit_refusal(failed), number.route)
        max_duration = cap
        if view.prepaid or view.prospecting:
            try:
                outcome = self._record_admission(request, view, number, rate, now, cap, deadline)
            except Exception:
                self.counters.finish(request.call_id)
                raise
            if isinstance(outcome, Refusal):
                self.counters.finish(request.call_id)
                return Decision.refused(outcome, number.route)
            if outcome != cap:
                max_duration = outcome
                self.counters.set_fields(
                    request.call_id, {"max": str(outcome)}, only_if_empty=False
                )
        log_event(
            log,
            "call.authorized",
            call=request.call_id,
            line=view.sip_username,
            customer=view.customer_id,
            route=number.route,
            max=max_duration,
        )
        return Decision(True, 200, None, max_duration, number.route, False)

    def _record_admission(
        self,
        request: AuthorizeRequest,
        view: LineView,
        number: Dialled,
        rate: rating.Rate,
        now: datetime,
        cap: int,
        deadline: float,
    ) -> int | Refusal:
        """The database part of an admission, in one transaction: the prospection attempt
        (VOX-10) and the prepaid reservation (BIL-10). Returns the maximum duration, or why
        the call is refused."""
        with self._unit() as session:
            if view.prospecting:
                # VOX-10 checked again under the customer's lock (the first check read without
                # it): of calls to a number at the same moment, one only takes its last attempt
                session.execute(
                    select(Customer.id).where(Customer.id == view.customer_id).with_for_update()
                )
                voice = view.terms.voice
                assert voice is not None
                refusal = telemarketing.prospection_refusal(
                    session,
                    customer_id=view.customer_id,
                    number=number.record_number,
                    rules=voice.telemarketing,
                    windows=view.windows,
                    now=now,
                )
                if refusal is not None:
                    session.rollback()
                    return refusal
                telemarketing.record_attempt(
                    session,
                    customer_id=view.customer_id,
                    number=number.record_number,
                    call_id=request.call_id,
                    at=now,
                )
            if not view.prepaid:
                return cap
            try:
                available = wallets.get_wallet(session, view.customer_id).available
            except NotFound:
                available = Decimal("0")
            needed = credit.first_step_cost(rate)
            if available < needed:
                session.rollback()
                return _insufficient_credit(available, needed)
            amount = credit.hold_for(rate, available, cap)
            ttl = timedelta(seconds=deadline - now.timestamp())
            try:
                reservation = wallets.reserve(
                    session, view.customer_id, reservation_ref(request.call_id), amount, ttl
                )
            except Conflict:
                session.rollback()
                return _insufficient_credit(available, needed)
            return credit.covered_seconds(rate, reservation.amount, cap)

    # -- inbound calls --

    def authorize_inbound(self, request: InboundRequest) -> tuple[Decision, str]:
        """May the carrier's call to a customer's number ring its line? (decision, the line's
        SIP user name to ring). See ``operateur.voice.inbound`` for the rules."""
        now = self._clock()
        number = dialled(request.callee)
        e164 = number.info.e164 if number is not None else None
        with self._factory() as session:
            line_name = (
                session.scalar(
                    select(Line.sip_username)
                    .join(PhoneNumber, PhoneNumber.line_id == Line.id)
                    .where(PhoneNumber.e164 == e164, PhoneNumber.status == NumberStatus.ASSIGNED)
                )
                if e164
                else None
            )
        view = self.view(line_name) if line_name else None
        if view is None or e164 is None:
            return Decision.refused(UNKNOWN_NUMBER, INBOUND), ""
        refusal: Refusal | None = None
        if not view.active:
            refusal = LINE_INACTIVE
        elif view.terms.voice is None or view.service is None:
            refusal = NO_VOICE
        elif not view.contract_live:
            refusal = CONTRACT_NOT_LIVE
        elif view.usable_inbound is not None and not view.usable_inbound.allowed:
            refusal = _usage_refusal(view.usable_inbound)
        else:
            refusal = inbound_refusal(
                request.caller, from_abroad=request.from_abroad, rules=view.terms.voice.cli
            )
        if refusal is not None:
            return Decision.refused(refusal, INBOUND), view.sip_username
        cap = view.max_call_seconds or self.settings.voice_uncapped_call_seconds
        _, slots = self._limits(view)  # CAPS and dialling rates count calls placed only
        state = self._state(
            request, view, callee=e164, route=INBOUND, now=now, max_duration=cap, inbound=True
        )
        try:
            failed = self.counters.admit(
                request.call_id,
                windows=(),
                slots=slots,
                state=state,
                owner=str(view.customer_id),
                deadline=self._deadline(now, cap),
                now=now.timestamp(),
            )
        except Exception:
            log.exception("counters unavailable for inbound call %s", request.call_id)
            return Decision.refused(CONTROL_UNAVAILABLE, INBOUND), view.sip_username
        if isinstance(failed, AlreadyLive):
            live = self.counters.get(request.call_id)
            if live is None or live.get("direction") != "inbound" or live["callee"] != e164:
                return Decision.refused(DUPLICATE_CALL_ID, INBOUND), view.sip_username
            return Decision(True, 200, None, int(live["max"]), INBOUND, False), live["line"]
        if failed is not None:
            return Decision.refused(_limit_refusal(failed), INBOUND), view.sip_username
        log_event(
            log,
            "call.inbound",
            call=request.call_id,
            line=view.sip_username,
            customer=view.customer_id,
        )
        return Decision(True, 200, None, cap, INBOUND, False), view.sip_username

    # -- answer, update, end --

    def answer(self, call_id: str, at: datetime | None = None) -> bool:
        """The call was answered now, or ``at`` when the proxy reports it late (first answer
        counts). False for an unknown call."""
        stamp = repr(self._reported(at).timestamp())
        return self.counters.set_fields(call_id, {"answered": stamp}, only_if_empty=True)

    def update(self, call_id: str) -> bool:
        """An interim report: the call is still up."""
        stamp = repr(self._clock().timestamp())
        return self.counters.set_fields(call_id, {"updated": stamp}, only_if_empty=False)

    def end(
        self, call_id: str, disposition: str, sip_code: int = 0, at: datetime | None = None
    ) -> bool:
        """The call ended now (or ``at``, when the proxy reports it late): rate it, write its
        usage record, commit its reservation at the rated cost (the rest released), free its
        slots. False (and nothing done) when the call is not live: a repeated end has no
        effect. Ends arriving together are written in one transaction (group commit); each
        returns once its own call is committed."""
        state = self.counters.get(call_id)
        if state is None:
            return False
        ended = self._reported(at)
        self._ends.submit(Ending(state, disposition, ended, sip_code, reaped=False))
        self.counters.finish(call_id)
        return True

    def end_many(self, ends: Sequence[CallEnd]) -> int:
        """Several ends at once (the proxy link takes the reports that arrived together), written
        in one transaction; otherwise as ``end`` for each (a call not live is skipped, a call
        repeated is ended once). Returns how many calls were ended."""
        endings: dict[str, Ending] = {}
        for call_id, disposition, sip_code, at in ends:
            state = self.counters.get(call_id)
            if state is not None and call_id not in endings:
                endings[call_id] = Ending(
                    state, disposition, self._reported(at), sip_code, reaped=False
                )
        if endings:
            self._settle_many(list(endings.values()))
        for call_id in endings:
            self.counters.finish(call_id)
        return len(endings)

    def _reported(self, at: datetime | None) -> datetime:
        """The moment of a reported event: ``at`` as the proxy saw it, but never after now (a
        proxy's clock ahead); now when not given. Billing never starts before the call began
        (``_disposition``)."""
        now = self._clock()
        return now if at is None else min(at, now)

    def _settle_many(self, endings: Sequence[Ending], session: Session | None = None) -> None:
        """Write the usage records of ended calls and commit their prepaid reservations, in one
        transaction (or savepoint of ``session``). If another process stored one of the calls
        meanwhile, each call is settled on its own, so the others are never lost."""
        settled = [(LiveCall.from_state(e.state), e) for e in endings]
        for call, ending in settled:
            if call.emergency:
                log_event(log, "call.emergency.ended", call=call.call_id, sip=ending.sip_code)
        billed = [(call, ending) for call, ending in settled if not call.emergency]
        if not billed:
            return
        try:
            with self._unit(session) as unit:
                self._store(unit, billed)
        except IntegrityError:  # a concurrent end of one of these calls stored it first
            if len(billed) > 1:
                for one in billed:
                    self._settle_many([one[1]], session)
                return
            log.info("call %s already settled", billed[0][0].call_id)
        for call, ending in billed:
            log_event(
                log,
                "call.reaped" if ending.reaped else "call.ended",
                call=call.call_id,
                line=call.line,
                disposition=_disposition(call, ending)[0],
                sip=ending.sip_code,
            )

    def _store(self, unit: Session, billed: Sequence[tuple[LiveCall, Ending]]) -> None:
        calls = []
        for call, ending in billed:
            disposition, answered, ended = _disposition(call, ending)
            calls.append(
                usage.CallData(
                    source=USAGE_SOURCE,
                    call_id=call.call_id,
                    account=call.line,
                    caller=call.caller,
                    callee=call.callee,
                    start=call.started_at,
                    answer=answered,
                    end=max(ended, call.started_at),
                    disposition=disposition,
                    direction="inbound" if call.inbound else "outbound",
                )
            )
        stored = usage.record_calls(unit, calls)
        costs = {
            reservation_ref(call.call_id): (
                record.cost if record.status is UsageStatus.RATED else Decimal("0")
            )
            for (call, _), record in zip(billed, stored, strict=True)
            if call.prepaid and record.new
        }
        for ref in wallets.commit_many(unit, costs):
            log.warning("call %s ended without its reservation", ref)

    def cancel(self, call_id: str) -> bool:
        """Forget a call that was never placed (a test authorization): free its slots, give
        its reservation back whole and drop its prospection attempt; no usage record."""
        state = self.counters.finish(call_id)
        if state is None:
            return False
        with self._unit() as session:
            if state.get("prepaid") == "1":
                wallets.release(session, reservation_ref(call_id))
            telemarketing.forget_attempt(session, call_id)
        return True

    # -- reaping --

    def reap(self, session: Session | None = None, limit: int = 1000) -> int:
        """End the calls whose deadline passed without an end (the proxy crashed or lost it):
        an answered call is billed up to its maximum duration, the others as failed; their
        slots and reservations are freed. Works in its own transactions, or in ``session``
        (the scheduler's). Returns how many were reaped."""
        now = self._clock()
        due = []
        for call_id in self.counters.due(now.timestamp(), limit):
            state = self.counters.get(call_id)
            if state is None:
                continue
            call = LiveCall.from_state(state)
            if call.answered_at:
                due.append(
                    Ending(
                        state,
                        "ANSWERED",
                        call.answered_at + timedelta(seconds=call.max_duration),
                        0,
                        reaped=True,
                    )
                )
            else:
                due.append(Ending(state, "FAILED", call.started_at, 0, reaped=True))
        self._settle_many(due, session)
        reaped = sum(
            1 for ending in due if self.counters.finish(ending.state["call_id"]) is not None
        )
        with self._unit(session) as unit:
            wallets.release_expired(unit)  # reservations expire on the wallets' own clock
        return reaped

    def live_calls(self, customer_id: int | None = None, limit: int = 1000) -> list[LiveCall]:
        states = (
            self.counters.calls_of(str(customer_id))
            if customer_id is not None
            else self.counters.all_calls(limit)
        )
        return sorted((LiveCall.from_state(state) for state in states), key=lambda c: c.started_at)


def housekeeping(session: Session, settings: Settings) -> int:
    """The daily job: reap the calls of the shared counters that never ended (calls of a
    crashed worker; ``serve`` also reaps every few seconds) and forget old prospection
    attempts. Works in the scheduler's transaction; returns how many calls were reaped."""
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    control = VoiceControl(factory, shared_counters(settings.redis_url), settings)
    reaped = control.reap(session)
    telemarketing.purge_attempts(session, utcnow())
    return reaped


def start_reaper(control: VoiceControl, every_seconds: float) -> threading.Event:
    """Reap calls that never ended every ``every_seconds`` in a daemon thread (``serve``); set
    the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_seconds):
            try:
                reaped = control.reap()
                if reaped:
                    log_event(log, "calls.reaped", count=reaped)
            except Exception:  # logged and retried on the next tick
                log.exception("voice reaper tick failed")

    threading.Thread(target=loop, name="operateur-voice-reaper", daemon=True).start()
    return stop
