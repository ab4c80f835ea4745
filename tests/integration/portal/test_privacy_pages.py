"""The portal's personal-data page (SEC-02, PRIV-01): a customer's administrator reads the
security incidents that affected its customer — never another customer's — and records and
answers its data subjects' requests, each due by its contracts' delay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.privacy import incidents
from operateur.privacy.models import BreachNature, DataSubjectRequest, RequestStatus
from tests.e2e.world import CUSTOMER_PASSWORD, World
from tests.integration.portal.conftest import Browser


# SPEC: SEC-02
def test_a_customer_reads_the_incidents_that_affected_it_only(
    browser: Browser, world: World, session: Session
) -> None:
    now = utcnow()
    both = incidents.record(
        session,
        detected_at=now - timedelta(hours=3),
        nature=BreachNature.CONFIDENTIALITY,
        description="Fuite du carnet des contacts du standard",
        affected=[
            incidents.Affected(world.centrex.id, True),
            incidents.Affected(world.cpaas.id, False),
        ],
        now=now,
        operator_id=world.operator_id,
    )
    only_cpaas = incidents.record(
        session,
        detected_at=now - timedelta(hours=2),
        nature=BreachNature.AVAILABILITY,
        description="Perte des journaux SMS de Dupont",
        affected=[incidents.Affected(world.cpaas.id, True)],
        now=now,
        operator_id=world.operator_id,
    )
    incidents.notify(session, both, now=now)
    session.commit()
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = browser.get(f"/customers/{world.centrex.id}/privacy")
    assert page.status_code == 200
    assert "Fuite du carnet des contacts du standard" in page.text
    assert "atteinte à la confidentialité" in page.text
    assert "Perte des journaux SMS de Dupont" not in page.text
    assert world.cpaas.name not in page.text  # the other customers affected are never named
    assert f'href="/customers/{world.centrex.id}/privacy"' in page.text  # in the menu
    # another customer's page is refused
    other = browser.get(f"/customers/{world.cpaas.id}/privacy")
    assert other.status_code in (403, 404)
    assert str(only_cpaas.description) not in other.text


# SPEC: PRIV-01
def test_a_customer_records_and_answers_a_data_subjects_request(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.centrex.id}/privacy"
    received = (utcnow().astimezone(PARIS) - timedelta(days=2)).date()
    saved = browser.post(
        page,
        f"{page}/requests",
        {
            "kind": "access",
            "subject_name": "Paul Lefèvre",
            "subject_contact": "paul.lefevre@example.fr",
            "received_on": received.isoformat(),
        },
    )
    shown = browser.get(saved.headers["location"]).text
    assert "Demande enregistrée" in shown
    assert "Paul Lefèvre" in shown
    due = received + timedelta(days=30)  # the Centrex terms' data_subject_response_days
    assert due.strftime("%d/%m/%Y") in shown
    assert f'href="/customers/{world.centrex.id}/export"' in shown  # access: the export
    request = session.scalar(
        select(DataSubjectRequest).where(DataSubjectRequest.subject_name == "Paul Lefèvre")
    )
    assert request is not None
    refused = browser.post(
        page, f"{page}/requests/{request.id}/answer", {"outcome": "rejected", "note": ""}
    )
    assert "[note]" in browser.get(refused.headers["location"]).text
    answered = browser.post(
        page,
        f"{page}/requests/{request.id}/answer",
        {"outcome": "answered", "note": "Archive envoyée le jour même"},
    )
    assert "Réponse enregistrée" in browser.get(answered.headers["location"]).text
    session.expire_all()
    assert session.get(DataSubjectRequest, request.id).status is RequestStatus.ANSWERED  # type: ignore[union-attr]
