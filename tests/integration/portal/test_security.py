"""What the portal's session may do outside its forms: the JSON API reads with its cookie but
never writes with it (a cross-site request carries cookies, not the CSRF token); and a refused
ticket leaves none of its attachments on disk."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.accounts.models import ApiKey
from operateur.config import Settings
from operateur.support.models import Ticket, TicketAttachment
from tests.e2e.world import CUSTOMER_PASSWORD, World
from tests.integration.portal.conftest import Browser


# SPEC: SEC-01, PORTAL-02
def test_the_api_takes_the_portal_cookie_for_reads_only(
    browser: Browser, world: World, session: Session
) -> None:
    browser.login(world.centrex.admin_email, CUSTOMER_PASSWORD)
    assert "operateur_session" in browser.client.cookies
    base = f"/api/v1/customers/{world.centrex.id}"
    assert browser.client.get(base).json()["name"] == "Boulangerie Martin"
    before = session.scalar(select(func.count(ApiKey.id)))
    # what a page of another site could make the browser send: the cookie, no header
    for method, path, body in (
        ("POST", f"{base}/api-keys", {"name": "pirate", "role": "customer_admin"}),
        ("PATCH", base, {"name": "Piratée"}),
        ("DELETE", f"{base}/api-keys/1", None),
        ("POST", "/api/v1/auth/logout", None),
    ):
        answer = browser.client.request(method, path, json=body)
        assert answer.status_code == 401, (method, path)
        assert answer.json()["code"] == "unauthenticated"
    session.expire_all()
    assert session.scalar(select(func.count(ApiKey.id))) == before
    # the same session's token given in the header (which no other site can set) does write
    token = browser.client.cookies["operateur_session"]
    created = browser.client.post(
        f"{base}/api-keys",
        json={"name": "erp", "role": "customer_user"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201


# SPEC: SUP-01
def test_a_refused_ticket_leaves_no_attachment_on_disk(
    browser: Browser, world: World, session: Session, settings: Settings
) -> None:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    page = f"/customers/{world.cpaas.id}/tickets"
    small = ("trace.txt", b"SIP/2.0 503", "text/plain")
    too_big = ("dump.bin", b"x" * (settings.support_attachment_max_bytes + 1), "text/plain")
    refused = browser.post(
        page,
        page,
        {
            "target": f"{world.cpaas.contract_id}:cpaas_voice",
            "kind": "incident",
            "severity": "critical",
            "subject": "Plus d'appels",
            "body": "503 partout",
        },
        files=[("files", small), ("files", too_big)],
    )
    assert refused.status_code == 303
    assert "Fichier trop gros" in browser.get(page).text
    assert session.scalar(select(func.count(Ticket.id))) == 0
    assert session.scalar(select(func.count(TicketAttachment.id))) == 0
    stored = Path(settings.data_dir) / "support"
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))
    # the same ticket with the small file alone keeps it
    opened = browser.post(
        page,
        page,
        {
            "target": f"{world.cpaas.contract_id}:cpaas_voice",
            "kind": "incident",
            "severity": "critical",
            "subject": "Plus d'appels",
            "body": "503 partout",
        },
        files=[("files", small)],
    )
    assert opened.status_code == 303
    files = [p for p in stored.rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in files] == [b"SIP/2.0 503"]
