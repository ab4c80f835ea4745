"""REST endpoints of traffic quality (VOX-08) and consumer reports (VOX-16)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status

from operateur.accounts.permissions import Actor, Permission
from operateur.contracts import service as contracts
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.http.deps import SessionDep, require
from operateur.quality import reports
from operateur.quality import service as quality
from operateur.quality.schemas import (
    ContractQualityOut,
    NoticeOut,
    PenaltyTableOut,
    ReportIn,
    ReportOut,
    WindowOut,
)

router = APIRouter(tags=["quality"])

Reader = Annotated[Actor, require(Permission.BILLING_READ)]
Manager = Annotated[Actor, require(Permission.REPORTS_MANAGE)]


@router.get("/customers/{customer_id}/voice-quality/kpis", response_model=list[ContractQualityOut])
def kpis(
    customer_id: int,
    actor: Reader,
    session: SessionDep,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> list[ContractQualityOut]:
    """Hourly ASR, NER, ACD and short-call ratios, breaches and penalties (VOX-08); by
    default the current day. Times without an offset are Paris times."""
    today = datetime.combine(utcnow().astimezone(PARIS).date(), datetime.min.time(), PARIS)
    start = start or today
    end = end or start + timedelta(days=1)
    start = start if start.tzinfo else start.replace(tzinfo=PARIS)
    end = end if end.tzinfo else end.replace(tzinfo=PARIS)
    return [
        ContractQualityOut(
            contract_id=q.contract.id,
            reference=q.contract.reference,
            thresholds=q.thresholds.model_dump(mode="json"),
            hours=[WindowOut.of(w) for w in q.windows],
        )
        for q in quality.customer_quality(session, customer_id, start, end)
    ]


@router.get("/customers/{customer_id}/consumer-reports", response_model=list[ReportOut])
def list_reports(customer_id: int, actor: Reader, session: SessionDep) -> list[ReportOut]:
    return [ReportOut.model_validate(r) for r in reports.list_reports(session, customer_id)]


@router.post(
    "/customers/{customer_id}/consumer-reports",
    response_model=ReportOut,
    status_code=status.HTTP_201_CREATED,
)
def record_report(
    customer_id: int, body: ReportIn, actor: Manager, session: SessionDep
) -> ReportOut:
    report = reports.record_report(
        session,
        customer_id,
        number=body.number,
        kind=body.kind,
        reference=body.reference,
        received_on=body.received_on,
        details=body.details,
    )
    return ReportOut.model_validate(report)


@router.get("/customers/{customer_id}/penalty-table", response_model=list[PenaltyTableOut])
def penalty_table(customer_id: int, actor: Reader, session: SessionDep) -> list[PenaltyTableOut]:
    """The VOX-16 penalties of each of the customer's contracts, from their terms."""
    tables: list[PenaltyTableOut] = []
    for contract in contracts.list_contracts(session, customer_id):
        terms = contracts.terms_of(contract)
        table = terms.penalties
        tables.append(
            PenaltyTableOut(
                contract_id=contract.id,
                reference=contract.reference,
                amounts=reports.penalty_table(terms),
                abnormal_reports_months=table.abnormal_reports_months if table else None,
                abnormal_reports_notice_hours=(
                    table.abnormal_reports_notice_hours if table else None
                ),
            )
        )
    return tables


@router.get("/customers/{customer_id}/report-notices", response_model=list[NoticeOut])
def list_notices(customer_id: int, actor: Reader, session: SessionDep) -> list[NoticeOut]:
    return [NoticeOut.model_validate(n) for n in reports.list_notices(session, customer_id)]


@router.post(
    "/customers/{customer_id}/report-notices/{notice_id}/withdraw", response_model=NoticeOut
)
def withdraw_notice(
    customer_id: int, notice_id: int, actor: Manager, session: SessionDep
) -> NoticeOut:
    notice = reports.get_notice(session, customer_id, notice_id)
    return NoticeOut.model_validate(reports.withdraw(session, notice))
