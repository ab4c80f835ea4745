"""Campaign and list input: a refused launch names the field of the launch request, a list's
columns are read as a spreadsheet user writes them (SMS-01, SMS-04)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.catalog.terms import OutsideWindow
from operateur.errors import InvalidInput
from operateur.sms import campaigns, service
from operateur.sms.models import SmsListEntry
from operateur.sms.schemas import ScheduleIn
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer


def test_a_launch_outside_the_window_names_the_start_time_field(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-04 — rejected outside the window when asked; the error names "at", the field
    # of the launch request (ScheduleIn), in French and English
    sms_list = service.create_list(session, sms_customer.id, "Clients")
    service.add_entries(session, sms_list, [(1, "0612345678", {})])
    campaign = campaigns.create(
        session,
        sms_customer.id,
        name="Nuit",
        list_id=sms_list.id,
        text="Bonsoir",
        outside_window=OutsideWindow.REJECT,
    )
    with pytest.raises(InvalidInput) as refused:
        campaigns.launch(
            session, sms_customer.id, campaign.id, at=TUESDAY_10H + timedelta(hours=13),
            now=TUESDAY_10H,
        )  # fmt: skip
    assert refused.value.code == "sms_outside_window"
    assert refused.value.field in ScheduleIn.model_fields
    assert "23:00" in refused.value.render("fr") and "23:00" in refused.value.render("en")


def test_a_column_without_a_header_is_ignored_by_a_list_import(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01 — a trailing separator (an empty last header cell) does not refuse the file:
    # the rows are imported with their named fields
    sms_list = service.create_list(session, sms_customer.id, "Clients")
    report = service.import_csv(
        session, sms_list, "telephone;first_name;\n0612345678;Marie;\n0781234567;Eric;\n"
    )
    assert (report.added, report.rejected) == (2, [])
    fields = session.scalars(
        select(SmsListEntry.fields).where(SmsListEntry.list_id == sms_list.id)
    ).all()
    assert sorted(f["first_name"] for f in fields) == ["Eric", "Marie"]
    assert all(set(f) == {"first_name"} for f in fields)
