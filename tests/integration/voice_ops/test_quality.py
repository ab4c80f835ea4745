"""Traffic-quality indicators hour by hour and their penalties (VOX-08); consumer reports on
value-added numbers, their penalties, and the abnormal-reports notice (VOX-16)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.billing import usage
from operateur.billing.models import PendingCharge
from operateur.cli import app
from operateur.contracts import lifecycle
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, ContractStatus, Line, LineKind
from operateur.db import make_engine, make_session_factory
from operateur.domain.calendar import PARIS
from operateur.numbers import service as numbers
from operateur.numbers.models import NumberTier
from operateur.quality import reports
from operateur.quality import service as quality
from operateur.quality.models import NoticeStatus, ReportKind
from tests.integration.conftest import Builder
from tests.integration.voice_ops.conftest import DECK, Setup

DAY = date(2026, 3, 2)


def _at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=PARIS)


def _traffic(setup: Setup, line: Line) -> None:
    """Two hours of a CPaaS account's calls (Paris times)."""
    # 10:xx: 10 attempts, 5 answered (30, 30, 30, 30 and a short 5 s call at 10:50)
    for n, minute in enumerate((0, 10, 20, 30)):
        setup.call(line, f"a{n}", "+33140000001", _at(10, minute), 30, ring=0)
    setup.call(line, "a4", "+33140000001", _at(10, 50), 5, ring=0)
    for n, minute in enumerate((1, 2, 3)):
        setup.call(line, f"n{n}", "+33140000001", _at(10, minute), None)
    setup.call(line, "b0", "+33140000001", _at(10, 4), None, disposition="BUSY")
    setup.call(line, "f0", "+33140000001", _at(10, 5), None, disposition="FAILED")
    # 11:xx: 4 attempts, all answered, 10, 10, 12 and 14 s
    for n, (minute, seconds) in enumerate(((5, 10), (15, 10), (30, 12), (55, 14))):
        setup.call(line, f"c{n}", "+33140000001", _at(11, minute), seconds, ring=0)


# SPEC: VOX-08
def test_hourly_kpis_breaches_and_penalties(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "cpaas", date(2026, 1, 1), [])
    line = setup.line(contract, "api", LineKind.TRUNK)
    _traffic(setup, line)
    [found] = quality.customer_quality(session, customer.id, _at(0, 0), _at(23, 59))
    ten, eleven = found.windows
    assert ten.start == _at(10, 0) and ten.calls == 10 and ten.answered == 5
    assert ten.asr == Decimal("50.00")  # 5 / 10, below the terms' 60 %
    assert ten.ner == Decimal("90.00")  # all but the failed attempt reached the callee's side
    assert ten.acd == Decimal("25.00")  # (4 x 30 + 5) / 5
    # one short call (< 8 s) of 5 answered: 20 % over the hour, and on the sliding hour ending
    # at 10:50
    assert (ten.short_call_ratio, ten.short_call_ratio_sliding) == (Decimal("20.00"),) * 2
    assert [b.kpi for b in ten.breaches] == ["asr", "short_calls"]
    # 0.02 € per attempt of the hour for each target missed: 10 x 0.02 x 2
    assert ten.penalty == Decimal("0.40")
    assert eleven.asr == Decimal("100.00") and eleven.acd == Decimal("11.50")  # 46 / 4
    # no short call in 11:xx, but the sliding hour ending at 11:30 holds the 10:50 call: 1 of
    # 4 answered calls in (10:30, 11:30] -> 25 %
    assert eleven.short_call_ratio == Decimal("0.00")
    assert eleven.short_call_ratio_sliding == Decimal("25.00")
    assert [b.kpi for b in eleven.breaches] == ["acd", "short_calls"]
    assert eleven.penalty == Decimal("0.16")  # 4 x 0.02 x 2

    charges = quality.apply_penalties(session, DAY)
    assert sorted((c.code, c.amount) for c in charges) == [
        ("quality.acd", Decimal("0.08")),
        ("quality.asr", Decimal("0.20")),
        ("quality.short_calls", Decimal("0.08")),
        ("quality.short_calls", Decimal("0.20")),
    ]
    assert {c.contract_id for c in charges} == {contract.id}
    assert quality.apply_penalties(session, DAY) == []  # idempotent


# SPEC: VOX-08
def test_offers_without_quality_targets_have_no_kpis(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [])
    _traffic(setup, setup.line(contract, "desk"))
    assert quality.customer_quality(session, customer.id, _at(0, 0), _at(23, 59)) == []
    assert quality.apply_penalties(session, DAY) == []


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPERATEUR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPERATEUR_LANG", "en")
    monkeypatch.delenv("OPERATEUR_DATABASE_URL", raising=False)
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    return f"sqlite:///{tmp_path / 'var' / 'operateur.db'}"


# SPEC: VOX-08
def test_kpis_command(cli_db: str) -> None:
    engine = make_engine(cli_db)
    audit.install()
    with make_session_factory(engine)() as session:
        audit.set_actor(session, system_actor("test"))
        usage.publish_deck(session, DECK, name="Deck", offer_id="cpaas")
        setup = Setup(session, Builder(session))
        customer = setup.build.customer()
        contract = setup.build.contract(customer, "cpaas", date(2026, 1, 1), [])
        _traffic(setup, setup.line(contract, "api", LineKind.TRUNK))
        customer_id = customer.id
        session.commit()
    engine.dispose()
    result = CliRunner().invoke(
        app,
        [
            "voice",
            "kpis",
            "--customer",
            str(customer_id),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-02",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    [contract_kpis] = json.loads(result.output)["contracts"]
    hours = {h["hour"]: h for h in contract_kpis["hours"]}
    ten = hours["2026-03-02T10:00:00+01:00"]
    assert (ten["asr"], ten["ner"], ten["acd"], ten["penalty"]) == (
        "50.00",
        "90.00",
        "25.00",
        "0.40",
    )
    assert [b["kpi"] for b in ten["breaches"]] == ["asr", "short_calls"]
    assert hours["2026-03-02T11:00:00+01:00"]["short_call_ratio_sliding"] == "25.00"


def _special_customer(build: Builder, session: Session, offer: str, n: int) -> tuple[Contract, str]:
    """A customer of value-added numbers with one number of its own."""
    customer = build.customer(name=f"SVA {n}")
    contract = build.contract(customer, offer, date(2026, 1, 1), [])
    numbers.record_address_proof(
        session, customer, document="kbis", reference=f"K{n}", received_on=DAY, checked_by="t"
    )
    e164 = f"+3389900000{n}"
    numbers.add_to_stock(session, [e164], NumberTier.STANDARD)
    numbers.assign_random(session, customer, kind="special", tier=NumberTier.STANDARD, line_id=None)
    return contract, e164


def _reports(session: Session, contract: Contract, number: str, month: int, count: int) -> None:
    for n in range(count):
        reports.record_report(
            session,
            contract.customer_id,
            number=number,
            kind=ReportKind.REPORT_33700,
            reference=f"33700-{contract.id}-{month}-{n}",
            received_on=date(2026, month, 10 + n),
        )


# SPEC: VOX-16
def test_reports_above_average_two_months_give_48h_notice_then_suspension(
    build: Builder, session: Session
) -> None:
    x, x_number = _special_customer(build, session, "crm-voip", 1)
    y, y_number = _special_customer(build, session, "crm-voip", 2)
    z, z_number = _special_customer(build, session, "cpaas", 3)
    # January: 3 + 1 + 2 = 6 reports for 3 customers, average 2: X (3) above
    _reports(session, x, x_number, 1, 3)
    _reports(session, y, y_number, 1, 1)
    _reports(session, z, z_number, 1, 2)
    # February: 2 + 0 + 1 = 3, average 1: X (2) above again
    _reports(session, x, x_number, 2, 2)
    _reports(session, z, z_number, 2, 1)
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    # January alone is one month: the rule needs two consecutive months
    assert reports.evaluate(session, "2026-01", now) == []
    [notice] = reports.evaluate(session, "2026-02", now)
    assert notice.contract_id == x.id and notice.status is NoticeStatus.NOTIFIED
    assert notice.evidence == [
        {"month": "2026-01", "reports": 3, "average": "2.00"},
        {"month": "2026-02", "reports": 2, "average": "1.00"},
    ]
    assert notice.suspend_at == now + timedelta(hours=48)
    assert reports.evaluate(session, "2026-02", now) == []  # once per month
    # 47 hours later: still the notice; at 48 hours: the suspension
    assert reports.suspend_due(session, now + timedelta(hours=47)) == []
    assert x.status is ContractStatus.ACTIVE
    assert reports.suspend_due(session, now + timedelta(hours=48)) == [notice]
    assert notice.status is NoticeStatus.SUSPENDED and x.status is ContractStatus.SUSPENDED
    [suspension] = lifecycle.open_suspensions(session, x.id)
    assert suspension.cause == "abuse"
    # Z is above average too in January but its terms (cpaas) bill each report instead: no
    # notice, 200 € HT per 33700 ticket [002 §27]
    charges = session.scalars(select(PendingCharge).where(PendingCharge.contract_id == z.id))
    assert [c.amount for c in charges] == [Decimal("200.00")] * 3
    assert session.scalar(select(PendingCharge).where(PendingCharge.contract_id == x.id)) is None


# SPEC: VOX-16
def test_a_report_is_recorded_once_and_the_penalty_table_comes_from_the_terms(
    build: Builder, session: Session
) -> None:
    contract, number = _special_customer(build, session, "cpaas", 4)
    first = reports.record_report(
        session,
        contract.customer_id,
        number=number,
        kind=ReportKind.JUDICIAL_REQUISITION,
        reference="RJ-2026-17",
        received_on=DAY,
    )
    again = reports.record_report(
        session,
        contract.customer_id,
        number=number,
        kind=ReportKind.JUDICIAL_REQUISITION,
        reference="RJ-2026-17",
        received_on=DAY,
    )
    assert again.id == first.id
    assert session.query(PendingCharge).filter_by(contract_id=contract.id).count() == 1
    table = reports.penalty_table(contracts.terms_of(contract))
    assert table == {
        "report_33700": Decimal("200.00"),
        "consumer_complaint": Decimal("200.00"),
        "judicial_requisition": Decimal("200.00"),
        "regulator_breach": Decimal("10000.00"),
        "unauthorised_cli": Decimal("2000.00"),
        "support_ticket": Decimal("100.00"),
    }


def _answered(setup: Setup, line: Line, call_id: str, start: datetime, seconds: float) -> None:
    """A call answered at once and lasting exactly ``seconds`` (fractions kept, as a switch
    reports them)."""
    usage.record_call(
        setup.session,
        usage.CallData(
            source="test",
            call_id=call_id,
            account=line.sip_username,
            caller="+33199000001",
            callee="+33140000001",
            start=start,
            answer=start,
            end=start + timedelta(seconds=seconds),
            disposition="ANSWERED",
        ),
    )


# SPEC: VOX-08
def test_short_calls_and_acd_use_the_exact_answered_duration(
    setup: Setup, session: Session
) -> None:
    """[002 §26.3.1] "appels dont la durée répondue est inférieure à 8 secondes": a call
    answered 7.4 s is short, though its billed duration rounds up to 8 s; and an hour whose
    calls last 14.6 s has an ACD below 15 s [002 §26.2.1]."""
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "cpaas", date(2026, 1, 1), [])
    line = setup.line(contract, "api", LineKind.TRUNK)
    # 10:xx: four calls of 30 s and one of 7.4 s -> 1 short call of 5 answered, 20 %
    for n in range(4):
        _answered(setup, line, f"s{n}", _at(10, n * 10), 30)
    _answered(setup, line, "s4", _at(10, 45), 7.4)
    # 12:xx: three calls of 14.6 s each -> ACD 14.6 s
    for n in range(3):
        _answered(setup, line, f"d{n}", _at(12, n * 10), 14.6)
    [found] = quality.customer_quality(session, customer.id, _at(0, 0), _at(23, 59))
    ten, twelve = found.windows
    assert ten.short_calls == 1 and ten.short_call_ratio_sliding == Decimal("20.00")
    assert [b.kpi for b in ten.breaches] == ["short_calls"]
    assert twelve.acd == Decimal("14.60")
    assert [b.kpi for b in twelve.breaches] == ["acd"]
    assert twelve.penalty == Decimal("0.06")  # 3 calls x 0.02


# SPEC: VOX-08
def test_a_ratio_equal_to_the_target_is_not_above_or_below_it(
    setup: Setup, session: Session
) -> None:
    """[002 §26.1.1] ASR "supérieure à 60 %", [002 §26.2.1] ACD "supérieure à 15 secondes",
    [002 §26.3.1] short calls "inférieur à 10 %": a value equal to the target misses it."""
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "cpaas", date(2026, 1, 1), [])
    line = setup.line(contract, "api", LineKind.TRUNK)
    # 10:xx: 5 attempts, 3 answered (40 s each): ASR exactly 60 %
    for n in range(3):
        setup.call(line, f"a{n}", "+33140000001", _at(10, n), 40, ring=0)
    for n in range(2):
        setup.call(line, f"u{n}", "+33140000001", _at(10, 10 + n), None)
    # 12:xx: 2 answered calls of 15 s: ACD exactly 15 s
    for n in range(2):
        setup.call(line, f"c{n}", "+33140000001", _at(12, n), 15, ring=0)
    # 14:xx: 10 answered calls, one of 5 s: short calls exactly 10 %
    for n in range(9):
        setup.call(line, f"l{n}", "+33140000001", _at(14, n), 30, ring=0)
    setup.call(line, "s0", "+33140000001", _at(14, 30), 5, ring=0)
    [found] = quality.customer_quality(session, customer.id, _at(0, 0), _at(23, 59))
    ten, twelve, fourteen = found.windows
    assert ten.asr == Decimal("60.00") and [b.kpi for b in ten.breaches] == ["asr"]
    assert ten.penalty == Decimal("0.10")  # 5 attempts x 0.02
    assert twelve.acd == Decimal("15.00") and [b.kpi for b in twelve.breaches] == ["acd"]
    assert fourteen.short_call_ratio_sliding == Decimal("10.00")
    assert [b.kpi for b in fourteen.breaches] == ["short_calls"]


# SPEC: VOX-16
def test_the_48h_notice_runs_from_when_the_customer_is_notified(
    build: Builder, session: Session
) -> None:
    """[000 §4.4] "notifiant ... avec un préavis de quarante-huit heures ... avant de suspendre":
    a scheduler catching up on days it missed notifies today; the suspension days it replays
    next must not suspend before 48 h have passed since that notice."""
    x, x_number = _special_customer(build, session, "crm-voip", 5)
    y, _ = _special_customer(build, session, "crm-voip", 6)
    _reports(session, x, x_number, 1, 2)
    _reports(session, x, x_number, 2, 2)
    before = datetime.now(UTC)
    reports.monthly_evaluation(session, date(2026, 3, 1))  # the 1 March run, replayed late
    [notice] = reports.list_notices(session, x.customer_id)
    assert notice.notified_at >= before
    assert notice.suspend_at == notice.notified_at + timedelta(hours=48)
    reports.daily_suspensions(session, date(2026, 3, 3))  # replayed too: not 48 h yet
    assert notice.status is NoticeStatus.NOTIFIED
    assert lifecycle.open_suspensions(session, x.id) == []
    assert reports.suspend_due(session, notice.suspend_at) == [notice]
    assert x.status is ContractStatus.SUSPENDED and y.status is ContractStatus.ACTIVE


# SPEC: VOX-16
def test_abnormal_reports_count_platform_tickets_across_the_new_year(
    build: Builder, session: Session
) -> None:
    """[000 §4.4] counts "signalements ... recueillis sur les plateformes « infosva.org » et
    « 33700 »" over two consecutive months (December then January here); consumer complaints
    handled by the operator are another penalty of [002 §27], not platform reports."""
    x, x_number = _special_customer(build, session, "crm-voip", 7)
    y, y_number = _special_customer(build, session, "crm-voip", 8)
    _special_customer(build, session, "crm-voip", 9)
    for month in (date(2025, 12, 5), date(2026, 1, 5)):
        reports.record_report(
            session, x.customer_id, number=x_number, kind=ReportKind.REPORT_33700,
            reference=f"33700-{month}", received_on=month,
        )  # fmt: skip
        for n in range(3):
            reports.record_report(
                session, y.customer_id, number=y_number, kind=ReportKind.CONSUMER_COMPLAINT,
                reference=f"PC-{month}-{n}", received_on=month,
            )  # fmt: skip
    [notice] = reports.evaluate(session, "2026-01", datetime(2026, 2, 1, 9, 0, tzinfo=UTC))
    assert notice.contract_id == x.id
    assert notice.evidence == [
        {"month": "2025-12", "reports": 1, "average": "0.33"},
        {"month": "2026-01", "reports": 1, "average": "0.33"},
    ]
