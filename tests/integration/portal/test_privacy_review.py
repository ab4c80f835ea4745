"""Security and privacy review (SEC-01, PRIV-01, PRIV-02): the data export holds every kind of
row the platform keeps about a customer, connection data leaves after the terms' days, and API
keys are checked in constant time."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import InvoiceLine
from tests.e2e.world import CUSTOMER_PASSWORD, World
from tests.integration.portal.conftest import Browser


def _export(browser: Browser, world: World) -> dict[str, list[dict[str, object]]]:
    browser.login(world.cpaas.admin_email, CUSTOMER_PASSWORD)
    download = browser.get(f"/customers/{world.cpaas.id}/export.zip")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    return {name: json.loads(archive.read(name)) for name in archive.namelist()}


# SPEC: PRIV-01
def test_the_export_holds_the_lines_of_the_customers_invoices_and_nobody_elses(
    browser: Browser, world: World, session: Session
) -> None:
    """Invoice lines have no customer column of their own (they hang off their invoice): the
    right of access still covers them, and only the customer's own."""
    tables = _export(browser, world)
    own = set(
        session.scalars(
            select(InvoiceLine.id).where(InvoiceLine.invoice_id.in_(world.cpaas.invoice_ids))
        )
    )
    others = set(
        session.scalars(
            select(InvoiceLine.id).where(InvoiceLine.invoice_id.not_in(world.cpaas.invoice_ids))
        )
    )
    assert own, "the world's invoices have lines"
    assert others, "another customer's invoices have lines too"
    assert "invoice_lines.json" in tables
    assert {row["id"] for row in tables["invoice_lines.json"]} == own
    assert json.loads(json.dumps(tables["manifest.json"]))["tables"]["invoice_lines"] == len(own)
