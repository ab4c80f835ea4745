"""Ending a contract under its terms.

- CTR-05 termination for convenience: notice against renewal (no fee when it reaches the
  operator by the notice deadline: the contract ends with its term), or an earlier end, not
  before the terms' convenience notice, with the early-termination amount of the terms invoiced
  at once: the remaining monthly fees to the term end [001 §20; 004 §3], the higher of the
  subscriptions and the minimum monthly commitment for each remaining month [002 §24.4.5], or
  nothing (no refund of sums paid [003 §3.3]).
- CTR-07 termination for breach: a formal notice, then termination once its delay has run
  (and within the terms' window when they set one).
- CTR-11 force majeure: the event is notified (within the terms' delay), and either party may
  terminate once it has lasted the terms' period.
- CTR-14 an outage attributable to the operator lasting the terms' consecutive days lets the
  customer terminate.
Each right is a ``ContractNotice`` with the day it opens (and closes); using it terminates the
contract, without any early-termination amount except when the operator ends it for the
customer's breach (CTR-05 [001 §20; 004 §12.1]: the terms' amount, as dunning charges it).

Two terminations take a notice instead, ended by the scheduler's end-of-notice job:
- CTR-06 [004 §11.4] after the terms' period of total suspension, either party may terminate
  with the terms' notice (``terminate_after_suspension``);
- CTR-07 [004 §12.2] the operator may terminate in the clause's specific cases with the terms'
  notice in business days (``operator_termination``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.invoicing import price_excl_vat
from operateur.catalog.terms import EarlyTermination, SuspensionCause
from operateur.contracts import charges, lifecycle, notices
from operateur.contracts.commitment import Schedule, commitment_start, schedule
from operateur.contracts.models import (
    Contract,
    ContractNotice,
    NoticeKind,
    OperatorCase,
    Subscription,
    Suspension,
    SuspensionScope,
)
from operateur.contracts.service import list_subscriptions, require_state, terms_of
from operateur.domain.calendar import PARIS, add_months
from operateur.domain.money import round_money
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text

# --- CTR-05 early termination ----------------------------------------------------------------


def months_between(start: date, end: date, anchor: date | None = None) -> Decimal:
    """Months from ``start`` (included) to ``end`` (excluded), counted in the months of the
    contract: each runs from ``anchor`` + n months (default ``start``) to the next, so that at
    month ends the months keep the anniversary's day (31 January: 28 February, 31 March...).
    Whole months count 1; the days of a month begun or left unfinished count as a share of
    that month's own length."""
    if end <= start:
        return Decimal(0)
    base = anchor or start
    index = (start.year - base.year) * 12 + start.month - base.month
    while add_months(base, index) > start:
        index -= 1
    while add_months(base, index + 1) <= start:
        index += 1
    whole, share, cursor = 0, Decimal(0), start
    while cursor < end:
        month_start, month_end = add_months(base, index), add_months(base, index + 1)
        stop = min(month_end, end)
        if cursor == month_start and stop == month_end:
            whole += 1
        else:
            share += Decimal((stop - cursor).days) / Decimal((month_end - month_start).days)
        cursor, index = stop, index + 1
    return Decimal(whole) + share


def commitment_schedule(contract: Contract, on: date) -> Schedule | None:
    """The term in force on ``on``; a contract ended before its activation counts from its
    signature where the terms say so (CTR-02 [004 §3])."""
    terms = terms_of(contract).commitment
    signed = contract.signed_at.date() if contract.signed_at else None
    start = commitment_start(terms, signed_on=signed, activated_on=contract.activated_on)
    if start is None and terms.signature_if_terminated_before_activation:
        start = signed
    return None if start is None else schedule(terms, start, on)


@dataclass(frozen=True)
class EarlyTerminationAmount:
    kind: EarlyTermination
    amount: Decimal  # HT
    months: Decimal
    monthly: Decimal  # HT, what each remaining month costs
    term_end: date | None
    explanation: Text

    @property
    def months_text(self) -> str:
        return f"{self.months.quantize(Decimal('0.01'))}"


def early_termination_amount(
    session: Session, contract: Contract, ends_on: date, term_end: date | None = None
) -> EarlyTerminationAmount:
    """CTR-05: what ending the contract on ``ends_on`` (its last day) costs under its terms,
    before ``term_end`` (default: the end of the term running on ``ends_on``)."""
    terms = terms_of(contract)
    kind = terms.billing.early_termination
    plan = commitment_schedule(contract, ends_on)
    if term_end is None:
        term_end = plan.term_end if plan is not None and plan.term_end != date.max else None
    # the months billing would still have invoiced (BIL-01): calendar months for monthly
    # subscriptions, periods from the commitment's start otherwise, so that what was billed
    # and what is owed add up to the whole term, month ends included
    anchor = (
        ends_on.replace(day=1)
        if terms.billing.subscription_period_months == 1 or plan is None
        else plan.starts_on
    )
    months = (
        months_between(ends_on + timedelta(days=1), term_end + timedelta(days=1), anchor)
        if term_end is not None
        else Decimal(0)
    )
    subs = session.scalars(
        select(Subscription).where(
            Subscription.contract_id == contract.id,
            Subscription.start_date <= ends_on,
        )
    )
    monthly = sum(
        (
            price_excl_vat(s.unit_price_mrc, terms.billing.price_basis) * s.quantity
            for s in subs
            if s.end_date is None or s.end_date >= ends_on
        ),
        Decimal(0),
    )
    if kind is EarlyTermination.HIGHER_OF_SUBSCRIPTIONS_AND_MINIMUM:
        monthly = max(monthly, terms.billing.minimum_monthly_commitment or Decimal(0))
    due = kind in (
        EarlyTermination.REMAINING_FEES,
        EarlyTermination.HIGHER_OF_SUBSCRIPTIONS_AND_MINIMUM,
    )
    amount = round_money(monthly * months) if due else Decimal("0.00")
    months_text = f"{months.quantize(Decimal('0.01'))}"
    if not due or amount == 0:
        kept = kind is EarlyTermination.NO_REFUND
        explanation = Text(
            fr="Aucune indemnité de résiliation anticipée n'est due"
            + (" ; les sommes déjà versées restent acquises." if kept else "."),
            en="No early-termination amount is due"
            + ("; sums already paid are not refunded." if kept else "."),
        )
    else:
        basis = (
            Text(
                fr="le plus élevé des abonnements et du minimum mensuel",
                en="the higher of the subscriptions and the monthly minimum",
            )
            if kind is EarlyTermination.HIGHER_OF_SUBSCRIPTIONS_AND_MINIMUM
            else Text(fr="les redevances mensuelles", en="the monthly fees")
        )
        assert term_end is not None
        explanation = Text(
            fr=f"Résiliation avant le terme du {notices.fr(term_end)} : {basis.fr} restant à "
            f"courir sont dus, soit {months_text} mois × {notices.eur(monthly).fr} HT = "
            f"{notices.eur(amount).fr} HT, facturés ce jour.",
            en=f"Termination before the term of {notices.en(term_end)}: {basis.en} for the "
            f"remaining term are due, {months_text} months × {notices.eur(monthly).en} excl. "
            f"VAT = {notices.eur(amount).en} excl. VAT, invoiced today.",
        )
    return EarlyTerminationAmount(kind, amount, months, monthly, term_end, explanation)


def invoice_early_termination(
    session: Session, contract: Contract, owed: EarlyTerminationAmount, ends_on: date, on: date
) -> EarlyTerminationAmount:
    """Invoice the early-termination amount on ``on`` when there is one."""
    if owed.amount > 0:
        charges.invoice_now(
            session,
            contract,
            code="early_termination",
            description=f"Indemnité de résiliation anticipée du contrat {contract.reference} "
            f"({owed.months_text} mois restant à courir après le {notices.fr(ends_on)})",
            amount_ht=owed.amount,
            on=on,
            purpose=f"early_termination:{contract.id}",
        )
    return owed


@dataclass(frozen=True)
class TerminationRequest:
    ends_on: date
    earliest: date  # the earliest end the terms allow
    without_fee: date  # the end with no early-termination amount
    owed: EarlyTerminationAmount


def plan_termination(
    session: Session, contract: Contract, received_on: date, ends_on: date | None = None
) -> TerminationRequest:
    """CTR-03/05: when a termination received on ``received_on`` may end the contract, and
    what it costs. By default it ends with the term (the next one when the notice deadline has
    passed); an earlier end pays the terms' early-termination amount."""
    terms = terms_of(contract)
    plan = commitment_schedule(contract, received_on)
    convenience = terms.termination.convenience_notice
    notice = terms.commitment.notice
    earliest = convenience.after(received_on) if convenience else received_on
    if plan is None or plan.term_end == date.max:
        # no term running: the terms' notice (or the convenience notice) alone applies
        delay = notice or convenience
        without_fee = delay.after(received_on) if delay else received_on
    elif plan.notice_deadline is None or received_on <= plan.notice_deadline or not plan.renews:
        without_fee = plan.term_end
    else:
        # too late for this term: the next one runs to its end (anchored on the start, CTR-03)
        following = commitment_schedule(contract, plan.term_end + timedelta(days=1))
        assert following is not None
        without_fee = following.term_end
    chosen = ends_on or without_fee
    if chosen < received_on or chosen < earliest:
        raise InvalidInput(
            Text(
                fr="Les conditions demandent un préavis : fin au plus tôt le {earliest}.",
                en="The terms require a notice: the earliest end is {earliest}.",
            ),
            field="ends_on",
            details={"earliest": max(earliest, received_on).isoformat()},
        )
    if chosen > without_fee:
        raise InvalidInput(
            Text(
                fr="Le contrat est reconduit le lendemain du {end} : une fin plus tardive "
                "demande un nouveau préavis.",
                en="The contract renews after {end}: a later end needs a new notice.",
            ),
            field="ends_on",
            details={"end": without_fee.isoformat()},
        )
    committed = without_fee if plan is not None and plan.term_end != date.max else None
    return TerminationRequest(
        chosen,
        earliest,
        without_fee,
        early_termination_amount(session, contract, chosen, committed),
    )


def request_termination(
    session: Session,
    contract: Contract,
    *,
    received_on: date,
    reason: str,
    ends_on: date | None = None,
) -> TerminationRequest:
    """Record the customer's termination (CTR-03/05): notice given, the contract served until
    its end, the early-termination amount invoiced at once when it ends before its term."""
    require_state(contract, "terminate for convenience", lifecycle.TRANSITIONS["give_notice"])
    lifecycle.require_no_notice(contract)
    request = plan_termination(session, contract, received_on, ends_on)
    owed = invoice_early_termination(session, contract, request.owed, request.ends_on, received_on)
    lifecycle.give_notice(
        session,
        contract,
        received_on=received_on,
        ends_on=request.ends_on,
        reason=reason,
        why=notices.join(Text(fr=f"Motif : {reason}.", en=f"Reason: {reason}."), owed.explanation),
    )
    return request


# --- CTR-07, CTR-11, CTR-14 termination rights -----------------------------------------------


def record_notice(
    session: Session,
    contract: Contract,
    kind: NoticeKind,
    *,
    started_on: date,
    notified_on: date,
    opens_on: date | None,
    closes_on: date | None,
    summary: str,
    by_operator: bool,
    details: dict[str, object] | None = None,
) -> ContractNotice:
    require_state(contract, f"record a {kind.value} notice", lifecycle.TRANSITIONS["terminate"])
    notice = ContractNotice(
        contract_id=contract.id,
        customer_id=contract.customer_id,
        kind=kind,
        by_operator=by_operator,
        started_on=started_on,
        notified_on=notified_on,
        opens_on=opens_on,
        closes_on=closes_on,
        summary=summary,
        details=details or {},
    )
    session.add(notice)
    session.flush()
    return notice


def _missing_clause(name: str) -> InvalidInput:
    return InvalidInput(
        Text(
            fr="Les conditions du contrat ne prévoient pas cette résiliation ({clause}).",
            en="The contract's terms provide no such termination ({clause}).",
        ),
        field="kind",
        details={"clause": name},
    )


def breach_notice(
    session: Session,
    contract: Contract,
    *,
    notified_on: date,
    breach: str,
    by_operator: bool = True,
) -> ContractNotice:
    """CTR-07 a formal notice for a breach: termination becomes possible once its delay has
    run unanswered (8 days [000 §10], 1 month [002 §17.4; 004 §12.1], 15 days [003 §16]), and
    until the end of the terms' window when they set one (within 8 days [000 §10])."""
    terms = terms_of(contract).termination
    if terms.breach_notice is None:
        raise _missing_clause("termination.breach_notice")
    opens_on = terms.breach_notice.after(notified_on)
    within = terms.breach_termination_within
    closes_on = within.after(opens_on) if within else None
    notice = record_notice(
        session,
        contract,
        NoticeKind.BREACH,
        started_on=notified_on,
        notified_on=notified_on,
        opens_on=opens_on,
        closes_on=closes_on,
        summary=breach,
        by_operator=by_operator,
    )
    if by_operator:
        window = (
            Text(
                fr=f" et jusqu'au {notices.fr(closes_on)}", en=f" and until {notices.en(closes_on)}"
            )
            if closes_on
            else Text(fr="", en="")
        )
        notices.send(
            session,
            contract,
            "contract.breach_notice",
            subject=Text(
                fr=f"Mise en demeure — contrat {contract.reference}",
                en=f"Formal notice — contract {contract.reference}",
            ),
            body=Text(
                fr=f"Mise en demeure du {notices.fr(notified_on)} : {breach}. Sans remède dans un "
                f"délai de {notices.delay(terms.breach_notice).fr}, le contrat pourra être résilié "
                f"à compter du {notices.fr(opens_on)}{window.fr}.",
                en=f"Formal notice of {notices.en(notified_on)}: {breach}. Unless remedied within "
                f"{notices.delay(terms.breach_notice).en}, the contract may be terminated from "
                f"{notices.en(opens_on)}{window.en}.",
            ),
            key=f"breach:{notice.id}",
            data={"breach": breach, "opens_on": opens_on, "closes_on": closes_on},
        )
    return notice


def force_majeure(
    session: Session,
    contract: Contract,
    *,
    started_on: date,
    notified_on: date,
    description: str,
    by_operator: bool,
) -> ContractNotice:
    """CTR-11 an event of force majeure: to be notified within the terms' delay (3 calendar
    days [002 §16]; 1 month [004 §8]); either party may terminate once it has lasted the terms'
    period (1 month; 3 months)."""
    terms = terms_of(contract).termination
    if terms.force_majeure_notify_within is None or terms.force_majeure_termination_after is None:
        raise _missing_clause("termination.force_majeure_termination_after")
    notify_by = terms.force_majeure_notify_within.after(started_on)
    opens_on = terms.force_majeure_termination_after.after(started_on)
    notice = record_notice(
        session,
        contract,
        NoticeKind.FORCE_MAJEURE,
        started_on=started_on,
        notified_on=notified_on,
        opens_on=opens_on,
        closes_on=None,
        summary=description,
        by_operator=by_operator,
        details={"notify_by": notify_by.isoformat(), "late": notified_on > notify_by},
    )
    notices.send(
        session,
        contract,
        "contract.force_majeure",
        subject=Text(
            fr=f"Force majeure — contrat {contract.reference}",
            en=f"Force majeure — contract {contract.reference}",
        ),
        body=Text(
            fr=f"Événement de force majeure depuis le {notices.fr(started_on)} : {description}. "
            f"S'il dure encore le {notices.fr(opens_on)}, chaque partie pourra résilier le "
            "contrat.",
            en=f"Force majeure since {notices.en(started_on)}: {description}. If it still lasts "
            f"on {notices.en(opens_on)}, either party may terminate the contract.",
        ),
        key=f"force_majeure:{notice.id}",
        data={"started_on": started_on, "opens_on": opens_on, "late": notified_on > notify_by},
    )
    return notice


def operator_outage(
    session: Session, contract: Contract, *, started_on: date, description: str
) -> ContractNotice:
    """CTR-14 an outage attributable to the operator: the customer may terminate once it has
    lasted the terms' consecutive days (30 [001 §20])."""
    days = terms_of(contract).termination.outage_termination_after_days
    if days is None:
        raise _missing_clause("termination.outage_termination_after_days")
    return record_notice(
        session,
        contract,
        NoticeKind.OPERATOR_OUTAGE,
        started_on=started_on,
        notified_on=started_on,
        opens_on=started_on + timedelta(days=days),
        closes_on=None,
        summary=description,
        by_operator=True,
        details={"consecutive_days": days},
    )


def end_event(session: Session, notice: ContractNotice, ended_on: date) -> ContractNotice:
    """The breach is cured, the force majeure or the outage is over."""
    if ended_on < notice.started_on:
        raise InvalidInput(
            Text(fr="La fin précède le début.", en="The end precedes the start."),
            field="ended_on",
        )
    notice.ended_on = ended_on
    session.flush()
    return notice


def get_notice(session: Session, contract: Contract, notice_id: int) -> ContractNotice:
    notice = session.scalar(
        select(ContractNotice).where(
            ContractNotice.id == notice_id, ContractNotice.contract_id == contract.id
        )
    )
    if notice is None:
        raise NotFound(
            Text(fr="Avis {id} introuvable.", en="Notice {id} not found."),
            code="notice_not_found",
            details={"id": notice_id},
        )
    return notice


def list_notices(session: Session, contract: Contract) -> list[ContractNotice]:
    return list(
        session.scalars(
            select(ContractNotice)
            .where(ContractNotice.contract_id == contract.id)
            .order_by(ContractNotice.id)
        )
    )


RIGHTS = (
    NoticeKind.BREACH,
    NoticeKind.FORCE_MAJEURE,
    NoticeKind.OPERATOR_OUTAGE,
    NoticeKind.PRICE_CHANGE,
)


def may_terminate(notice: ContractNotice, on: date) -> Text | None:
    """None when the right of ``notice`` may be used on ``on``; otherwise why not."""
    if notice.kind not in RIGHTS or notice.used_on is not None or notice.opens_on is None:
        return Text(fr="Aucun droit de résiliation ouvert.", en="No termination right is open.")
    if on < notice.opens_on:
        return Text(
            fr=f"Droit ouvert à compter du {notices.fr(notice.opens_on)}.",
            en=f"The right opens on {notices.en(notice.opens_on)}.",
        )
    if notice.closes_on is not None and on > notice.closes_on:
        return Text(
            fr=f"Droit expiré le {notices.fr(notice.closes_on)}.",
            en=f"The right expired on {notices.en(notice.closes_on)}.",
        )
    if notice.kind is NoticeKind.BREACH and notice.ended_on is not None:
        return Text(fr="Le manquement a été corrigé.", en="The breach was remedied.")
    if (
        notice.kind in (NoticeKind.FORCE_MAJEURE, NoticeKind.OPERATOR_OUTAGE)
        and notice.ended_on is not None
        and notice.ended_on < notice.opens_on
    ):
        return Text(
            fr="L'événement a cessé avant d'ouvrir le droit.",
            en="The event ended before the right opened.",
        )
    return None


def terminate_with_right(
    session: Session, contract: Contract, notice: ContractNotice, *, on: date, reason: str
) -> ContractNotice:
    """Terminate on ``on`` using the right ``notice`` opened. No early-termination amount,
    except when the operator ends the contract for the customer's breach (CTR-05)."""
    refusal = may_terminate(notice, on)
    if refusal is not None:
        raise Conflict(refusal, code="termination_right_closed", field="on")
    notice.used_on = on
    label = {
        NoticeKind.BREACH: Text(fr="manquement", en="breach"),
        NoticeKind.FORCE_MAJEURE: Text(fr="force majeure", en="force majeure"),
        NoticeKind.OPERATOR_OUTAGE: Text(
            fr="interruption de service imputable à l'opérateur",
            en="outage attributable to the operator",
        ),
        NoticeKind.PRICE_CHANGE: Text(fr="hausse de prix", en="price rise"),
    }[notice.kind]
    if notice.kind is NoticeKind.BREACH and notice.by_operator:
        # CTR-05 [001 §20] "dans le cas d'une résiliation anticipée par [l'opérateur] pour
        # manquement du Client [...] une indemnité pour rupture anticipée [...] égale aux
        # redevances mensuelles restant dues"; [004 §12.1] the sums due to the planned end;
        # [000 §10] all sums remaining due: the terms' amount, charged as dunning charges it.
        # A breach of the operator (the customer's notice) costs the customer nothing.
        owed = invoice_early_termination(
            session, contract, early_termination_amount(session, contract, on), on, on
        )
        why = notices.join(
            Text(
                fr=f"Résiliation par l'opérateur pour {label.fr} du client ({notice.summary}).",
                en=f"Termination by the operator for the customer's {label.en} ({notice.summary}).",
            ),
            owed.explanation,
        )
    else:
        why = Text(
            fr=f"Résiliation pour {label.fr} ({notice.summary}), sans indemnité de résiliation "
            "anticipée.",
            en=f"Termination for {label.en} ({notice.summary}), without any early-termination "
            "amount.",
        )
    lifecycle.terminate(session, contract, on=on, reason=f"{notice.kind.value}: {reason}", why=why)
    return notice


# --- CTR-06 termination after a total suspension ---------------------------------------------


def _first_day(suspension: Suspension) -> date:
    if suspension.starts_on is not None:
        return suspension.starts_on
    return suspension.started_at.astimezone(PARIS).date()


def totally_suspended_since(session: Session, contract: Contract) -> date | None:
    """The first day of the total suspension running now: the whole service suspended without
    a break, force majeure left out (CTR-06 [004 §11.4] "sauf cas de Force majeure"); None when
    the service is not totally suspended."""
    total = list(
        session.scalars(
            select(Suspension).where(
                Suspension.contract_id == contract.id,
                Suspension.scope == SuspensionScope.FULL,
                Suspension.cause != SuspensionCause.FORCE_MAJEURE.value,
            )
        )
    )
    running = [s for s in total if s.lifted_at is None]
    if not running:
        return None
    since = min(_first_day(s) for s in running)
    earlier = True
    while earlier:  # a lifted suspension that ran into this one extends it backwards
        earlier = False
        for s in total:
            lifted = s.lifted_on
            if s.lifted_at is not None and lifted is not None and _first_day(s) < since <= lifted:
                since, earlier = _first_day(s), True
    return since


def terminate_after_suspension(
    session: Session,
    contract: Contract,
    *,
    notified_on: date,
    reason: str,
    by_operator: bool,
) -> ContractNotice:
    """CTR-06 [004 §11.4] "dans l'hypothèse où [...] le Service est totalement suspendu pendant
    un (1) mois consécutif (sauf cas de Force majeure), [...] chacune des Parties pourra
    résilier le Contrat. Cependant, cette résiliation ne pourra avoir lieu qu'un (1) mois après
    l'envoi d'une mise en demeure": once the service has been totally suspended for the terms'
    period, either party's notice ends the contract after the terms' notice (the scheduler's
    end-of-notice job terminates it). Refused before, naming the first possible day."""
    terms = terms_of(contract).suspension
    after, notice_delay = (
        terms.mutual_termination_after_total_suspension,
        terms.mutual_termination_notice,
    )
    if after is None or notice_delay is None:
        raise _missing_clause("suspension.mutual_termination_after_total_suspension")
    require_state(
        contract, "terminate after a total suspension", lifecycle.TRANSITIONS["give_notice"]
    )
    lifecycle.require_no_notice(contract)
    since = totally_suspended_since(session, contract)
    if since is None:
        raise Conflict(
            Text(
                fr="Le service du contrat {ref} n'est pas totalement suspendu (hors force "
                "majeure) : cette résiliation n'est pas ouverte.",
                en="The service of contract {ref} is not totally suspended (force majeure "
                "aside): this termination is not open.",
            ),
            code="not_totally_suspended",
            details={"ref": contract.reference},
        )
    opens_on = after.after(since)
    if notified_on < opens_on:
        period = notices.delay(after)
        raise Conflict(
            Text(
                fr="Résiliation refusée : le service n'est totalement suspendu que depuis le "
                "{since_fr} ; les conditions demandent " + period.fr + " de suspension totale, "
                "la résiliation est possible à compter du {from_fr}.",
                en="Termination refused: the service has only been totally suspended since "
                "{since_en}; the terms require " + period.en + " of total suspension, "
                "termination is possible from {from_en}.",
            ),
            code="total_suspension_too_short",
            field="notified_on",
            details={
                "since_fr": notices.fr(since),
                "since_en": notices.en(since),
                "from_fr": notices.fr(opens_on),
                "from_en": notices.en(opens_on),
                "allowed_from": opens_on.isoformat(),
            },
        )
    ends_on = notice_delay.after(notified_on)
    # kept to undo the notice if the service resumes first ("à défaut de reprise des Services",
    # lifecycle.restore)
    subscription_ends = {
        str(sub.id): sub.end_date.isoformat() if sub.end_date else None
        for sub in list_subscriptions(session, contract)
    }
    notice = record_notice(
        session,
        contract,
        NoticeKind.TOTAL_SUSPENSION,
        started_on=since,
        notified_on=notified_on,
        opens_on=opens_on,
        closes_on=None,
        summary=reason,
        by_operator=by_operator,
        details={"ends_on": ends_on.isoformat(), "subscription_ends": subscription_ends},
    )
    notice.used_on = notified_on
    party = (
        Text(fr="l'opérateur", en="the operator")
        if by_operator
        else Text(fr="le client", en="the customer")
    )
    lifecycle.give_notice(
        session,
        contract,
        received_on=notified_on,
        ends_on=ends_on,
        reason=f"total_suspension: {reason}",
        why=Text(
            fr=f"Le service est totalement suspendu depuis le {notices.fr(since)}. Après "
            f"{notices.delay(after).fr} de suspension totale, {party.fr} résilie le contrat "
            f"(article 11.4) avec un préavis de {notices.delay(notice_delay).fr} notifié le "
            f"{notices.fr(notified_on)} : le contrat prend fin le {notices.fr(ends_on)}. "
            f"Motif : {reason}.",
            en=f"The service has been totally suspended since {notices.en(since)}. After "
            f"{notices.delay(after).en} of total suspension, {party.en} terminates the contract "
            f"(article 11.4) with a notice of {notices.delay(notice_delay).en} given on "
            f"{notices.en(notified_on)}: the contract ends on {notices.en(ends_on)}. "
            f"Reason: {reason}.",
        ),
    )
    return notice


# --- CTR-07 the operator's specific terminations ---------------------------------------------


OPERATOR_CASES: dict[OperatorCase, Text] = {
    OperatorCase.CEASED_ACTIVITY: Text(
        fr="arrêt de l'activité du client sur le Territoire",
        en="the customer stopped its activity in the Territory",
    ),
    OperatorCase.AUTHORITY_DECISION: Text(
        fr="décision d'une autorité compétente ou texte législatif",
        en="decision of a competent authority or legislation",
    ),
    OperatorCase.SERVICE_WITHDRAWN: Text(
        fr="suppression du service (article « Évolution »)",
        en="the service is withdrawn (article 'Evolution')",
    ),
    OperatorCase.NON_PAYMENT: Text(
        fr="manquement essentiel : facture non payée à l'échéance",
        en="essential breach: an invoice unpaid when due",
    ),
    OperatorCase.ILLEGAL_USE: Text(
        fr="manquement essentiel : usage illicite du service ou contenus illicites",
        en="essential breach: unlawful use of the service or unlawful content",
    ),
    OperatorCase.EQUIPMENT_INTERFERENCE: Text(
        fr="manquement essentiel : intervention d'un tiers sur un équipement mis à disposition",
        en="essential breach: a third party worked on equipment provided without consent",
    ),
    OperatorCase.FALSE_INFORMATION: Text(
        fr="manquement essentiel : falsification ou informations inexactes",
        en="essential breach: falsification or inaccurate information",
    ),
    OperatorCase.ESSENTIAL_OBLIGATION: Text(
        fr="manquement à une obligation essentielle du contrat",
        en="breach of an essential obligation of the contract",
    ),
}

# the customer's breaches: ending the contract for them owes the terms' early-termination
# amount (CTR-05 [004 §12.1] "les sommes qui auraient été dues jusqu'à la fin prévue du
# Contrat"); the other cases owe only what is due to the effective end
CUSTOMER_BREACHES = frozenset(
    {
        OperatorCase.NON_PAYMENT,
        OperatorCase.ILLEGAL_USE,
        OperatorCase.EQUIPMENT_INTERFERENCE,
        OperatorCase.FALSE_INFORMATION,
        OperatorCase.ESSENTIAL_OBLIGATION,
    }
)


def operator_termination(
    session: Session,
    contract: Contract,
    *,
    case: OperatorCase,
    notified_on: date,
    reason: str,
) -> ContractNotice:
    """CTR-07 [004 §12.2] "[l'opérateur] pourra résilier à tout moment le Contrat [par]
    courrier recommandé [...] prévoyant un délai de préavis de 5 jours ouvrés [...]; la
    résiliation prendra effet immédiatement après l'expiration du délai de préavis": the
    contract ends after the terms' notice (business days, French holidays skipped), through
    the scheduler's end-of-notice job. For a breach of the customer the terms' early-termination
    amount is invoiced at once (CTR-05)."""
    delay = terms_of(contract).termination.operator_specific_notice
    if delay is None:
        raise _missing_clause("termination.operator_specific_notice")
    require_state(contract, "terminate in a specific case", lifecycle.TRANSITIONS["give_notice"])
    lifecycle.require_no_notice(contract)
    ends_on = delay.after(notified_on)
    what = OPERATOR_CASES[case]
    extras: list[Text] = []
    details: dict[str, object] = {"case": case.value, "ends_on": ends_on.isoformat()}
    if case in CUSTOMER_BREACHES:
        owed = invoice_early_termination(
            session,
            contract,
            early_termination_amount(session, contract, ends_on),
            ends_on,
            notified_on,
        )
        extras.append(owed.explanation)
        details["early_termination_excl_vat"] = str(owed.amount)
    elif case is OperatorCase.CEASED_ACTIVITY:
        extras.append(
            Text(
                fr="Les montants dus au titre du contrat jusqu'à la date de résiliation "
                "effective restent exigibles.",
                en="The amounts due under the contract up to the effective termination date "
                "remain payable.",
            )
        )
    notice = record_notice(
        session,
        contract,
        NoticeKind.OPERATOR_TERMINATION,
        started_on=notified_on,
        notified_on=notified_on,
        opens_on=notified_on,
        closes_on=None,
        summary=reason,
        by_operator=True,
        details=details,
    )
    notice.used_on = notified_on
    lifecycle.give_notice(
        session,
        contract,
        received_on=notified_on,
        ends_on=ends_on,
        reason=f"operator_termination:{case.value}: {reason}",
        why=notices.join(
            Text(
                fr=f"Résiliation à l'initiative de l'opérateur (article 12.2) pour {what.fr} : "
                f"{reason}. Préavis de {notices.delay(delay).fr} notifié le "
                f"{notices.fr(notified_on)} : le contrat prend fin le {notices.fr(ends_on)}.",
                en=f"Termination by the operator (article 12.2) for {what.en}: {reason}. "
                f"Notice of {notices.delay(delay).en} given on {notices.en(notified_on)}: the "
                f"contract ends on {notices.en(ends_on)}.",
            ),
            *extras,
        ),
    )
    return notice
