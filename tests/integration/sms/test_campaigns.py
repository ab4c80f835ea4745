"""Campaigns: lists imported with a per-row report, templates, scheduled or immediate launch,
pause, cancel, progress and statistics (SMS-01, with SMS-04/06/08/09 on the way)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.sms import campaigns, outbox, service
from operateur.sms.models import SmsCampaign, SmsList, SmsMessage, SmsStatus
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer, make_customer

CSV_FILE = """\ufefftelephone;first_name;town
06 12 34 56 78;Marie;Lyon
0612345678;Marie bis;Lyon
06 99;Paul;Paris
0692 12 34 56;Line;Saint-Denis
+33 7 81 23 45 67;Éric;Nantes
01 40 00 00 00;Accueil;Paris

06 11 11 11 11;Zoé;Lille
"""

THREE_CLIENTS = """telephone,first_name,town
06 12 34 56 78,Marie,Lyon
+33 7 81 23 45 67,Éric,Nantes
01 40 00 00 00,Accueil,Paris
"""


def imported(session: Session, owner: SmsCustomer, text: str = THREE_CLIENTS) -> SmsList:
    sms_list = service.create_list(session, owner.id, "Clients")
    service.import_csv(session, sms_list, text)
    return sms_list


def test_import_reports_each_refused_row_with_its_line(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01, SMS-06, SMS-07 — bad number, duplicate, unsubscribed, each by line
    outbox.receive(session, source="+33611111111", destination="38100", text="STOP")
    sms_list = service.create_list(session, sms_customer.id, "Clients")
    report = service.import_csv(session, sms_list, CSV_FILE)

    assert report.added == 3
    assert [(r["line"], r["reason"]) for r in report.rejected] == [
        (3, "duplicate"),
        (4, "bad_number"),
        (5, "not_metropolitan"),
        (9, "unsubscribed"),
    ]
    assert report.warnings == [{"line": 7, "number": "+33140000000", "warning": "fixed_number"}]
    assert sms_list.columns == ["first_name", "town"]
    entries = service.list_entries(session, sms_list.id)
    assert [(e.recipient, e.fields["first_name"]) for e in entries] == [
        ("+33612345678", "Marie"),
        ("+33781234567", "Éric"),
        ("+33140000000", "Accueil"),
    ]
    again = service.import_csv(session, sms_list, CSV_FILE)  # a second import adds nothing
    assert again.added == 0 and {r["reason"] for r in again.rejected} >= {"duplicate"}


def test_import_without_a_number_column_is_refused(
    session: Session, sms_customer: SmsCustomer
) -> None:
    sms_list = service.create_list(session, sms_customer.id, "Vide")
    with pytest.raises(InvalidInput) as refused:
        service.import_csv(session, sms_list, "name,town\nMarie,Lyon\n")
    assert refused.value.code == "sms_import_no_number_column"


def test_placeholders_must_be_columns_of_the_list(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01
    sms_list = imported(session, sms_customer)
    template = service.create_template(
        session, sms_customer.id, "Relance", "Bonjour {first_name}, a {town} ?"
    )
    with pytest.raises(InvalidInput) as refused:
        campaigns.create(
            session,
            sms_customer.id,
            name="x",
            list_id=sms_list.id,
            text="Bonjour {prenom} {first_name}",
        )
    assert refused.value.code == "sms_campaign_unknown_fields"
    assert refused.value.details["fields"] == "prenom"
    with pytest.raises(InvalidInput):  # SPEC: SMS-02 — the fixed text's characters
        service.create_template(session, sms_customer.id, "Emoji", "Bonjour {first_name} 😀")
    campaign = campaigns.create(
        session, sms_customer.id, name="Relance", list_id=sms_list.id, template_id=template.id
    )
    assert campaign.text == template.text and campaign.sender == "38100"


def test_an_immediate_campaign_goes_out_and_is_counted(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01 — personalised messages, progress, statistics by hour, CSV downloads
    sms_list = imported(session, sms_customer)
    campaign = campaigns.create(
        session,
        sms_customer.id,
        name="Soldes",
        list_id=sms_list.id,
        text="Bonjour {first_name}, -20% a {town} ce samedi.",
    )
    campaigns.launch(session, sms_customer.id, campaign.id, now=TUESDAY_10H)
    messages = session.scalars(
        select(SmsMessage).where(SmsMessage.campaign_id == campaign.id).order_by(SmsMessage.id)
    ).all()
    assert [m.text for m in messages] == [
        "Bonjour Marie, -20% a Lyon ce samedi.",
        "Bonjour Éric, -20% a Nantes ce samedi.",
        "Bonjour Accueil, -20% a Paris ce samedi.",
    ]
    assert campaigns.statistics(session, campaign, now=TUESDAY_10H).state == "running"

    claimed = outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    for message in claimed:
        outbox.mark_submitted(session, message.id, [f"c{message.id}"])
    outbox.apply_receipt(
        session, smsc_id=f"c{messages[0].id}", stat="DELIVRD", done_at=None, error=None
    )
    outbox.apply_receipt(
        session, smsc_id=f"c{messages[1].id}", stat="EXPIRED", done_at=None, error=None
    )

    stats = campaigns.statistics(session, campaign, now=TUESDAY_10H)
    assert (stats.total, stats.sent, stats.delivered, stats.expired, stats.pending) == (
        3,
        3,
        1,
        1,
        0,
    )
    assert stats.by_status["submitted"] == 1 and stats.progress_percent == 66
    assert stats.state == "completed"
    hours = stats.by_hour
    assert len(hours) == 1 and hours[0]["sent"] == 3 and hours[0]["delivered"] == 1
    rows = list(csv.reader(io.StringIO(campaigns.statistics_csv(stats))))
    assert rows[0] == campaigns.STATS_CSV_HEADER
    assert rows[2] == ["total", "3", "1", "0", "1", "1"]
    detail = list(csv.DictReader(io.StringIO(campaigns.messages_csv(session, campaign))))
    assert [(d["recipient"], d["status"]) for d in detail] == [
        ("+33612345678", "delivered"),
        ("+33781234567", "expired"),
        ("+33140000000", "submitted"),
    ]


def test_a_scheduled_campaign_waits_for_its_time_and_the_window(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01, SMS-04 — scheduled on Saturday 23:00: goes out on Monday 08:00
    sms_list = imported(session, sms_customer)
    campaign = campaigns.create(session, sms_customer.id, name="W", list_id=sms_list.id, text="Hi")
    saturday_night = datetime(2026, 3, 14, 23, 0, tzinfo=PARIS)
    campaigns.launch(session, sms_customer.id, campaign.id, at=saturday_night, now=TUESDAY_10H)
    assert campaigns.statistics(session, campaign, now=TUESDAY_10H).state == "scheduled"
    assert outbox.claim(session, route="default", limit=10, now=saturday_night) == []
    monday = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)
    assert len(outbox.claim(session, route="default", limit=10, now=monday)) == 3
    with pytest.raises(Conflict):
        campaigns.launch(session, sms_customer.id, campaign.id, now=TUESDAY_10H)


def test_pausing_holds_the_queue_and_cancelling_stops_it(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01 — paused and cancelled campaigns stop their queued messages
    sms_list = imported(session, sms_customer)
    campaign = campaigns.create(session, sms_customer.id, name="P", list_id=sms_list.id, text="Hi")
    campaigns.launch(session, sms_customer.id, campaign.id, now=TUESDAY_10H)
    first = outbox.claim(session, route="default", limit=1, now=TUESDAY_10H)
    outbox.mark_submitted(session, first[0].id, ["p1"])

    campaigns.pause(session, campaign)
    assert outbox.claim(session, route="default", limit=10, now=TUESDAY_10H) == []
    assert campaigns.statistics(session, campaign, now=TUESDAY_10H).state == "paused"
    campaigns.resume(session, campaign)
    second = outbox.claim(session, route="default", limit=1, now=TUESDAY_10H)
    assert len(second) == 1

    campaigns.cancel(session, campaign, now=TUESDAY_10H)
    stats = campaigns.statistics(session, campaign, now=TUESDAY_10H)
    assert stats.by_status["cancelled"] == 1  # the one still queued
    assert stats.by_status["submitted"] == 1 and stats.by_status["submitting"] == 1
    assert outbox.claim(session, route="default", limit=10, now=TUESDAY_10H) == []
    # the cancelled message's part is back in the stock: 3 taken, 1 given back
    assert service.stock_view(session, sms_customer.id, "2026-03")[0].used == 2
    with pytest.raises(Conflict):
        campaigns.resume(session, campaign)


def test_a_campaign_larger_than_the_stock_is_refused_before_anything_is_sent(
    session: Session, build: Builder
) -> None:
    # SPEC: SMS-08
    owner = make_customer(build)
    sms_list = imported(session, owner)
    service.set_stock(session, owner.id, 2, "small")
    campaign = campaigns.create(session, owner.id, name="Big", list_id=sms_list.id, text="Hi")
    with pytest.raises(Conflict) as refused:
        campaigns.launch(session, owner.id, campaign.id, now=TUESDAY_10H)
    assert refused.value.code == "sms_stock_exhausted"
    assert session.scalars(select(SmsMessage)).all() == []
    assert session.get(SmsCampaign, campaign.id).status.value == "draft"  # type: ignore[union-attr]


def test_campaign_messages_keep_their_own_fate(session: Session, sms_customer: SmsCustomer) -> None:
    # SPEC: SMS-06, SMS-09, SMS-03 — per recipient: unsubscribed, held, too long
    sms_list = imported(session, sms_customer)
    service.add_entries(
        session, sms_list, [(1, "0622222222", {"first_name": "x" * 1300, "town": "Paris"})]
    )
    outbox.receive(session, source="+33781234567", destination="38100", text="arrêt")
    campaign = campaigns.create(
        session,
        sms_customer.id,
        name="Colis",
        list_id=sms_list.id,
        text="{first_name}, votre colis a {town} : reglez les frais ici",
    )
    campaigns.launch(session, sms_customer.id, campaign.id, now=TUESDAY_10H)
    fates = {
        m.recipient: (m.status, m.held_rule or m.error)
        for m in session.scalars(select(SmsMessage).where(SmsMessage.campaign_id == campaign.id))
    }
    assert fates == {
        "+33612345678": (SmsStatus.HELD, "phishing-parcel-fees"),
        "+33781234567": (SmsStatus.UNSUBSCRIBED, "unsubscribed"),
        "+33140000000": (SmsStatus.HELD, "phishing-parcel-fees"),
        "+33622222222": (SmsStatus.REJECTED, "sms_too_long"),
    }
    released = campaigns.release_held(session, campaign, release=True, now=TUESDAY_10H)
    assert released == 2
    assert len(outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)) == 2
    assert campaign.part_count == 2


def test_a_campaign_outside_the_window_can_be_refused(session: Session, build: Builder) -> None:
    # SPEC: SMS-04 — rejected when the customer asked so
    from operateur.catalog.terms import OutsideWindow

    owner = make_customer(build)
    sms_list = imported(session, owner)
    campaign = campaigns.create(
        session,
        owner.id,
        name="Night",
        list_id=sms_list.id,
        text="Hi",
        outside_window=OutsideWindow.REJECT,
    )
    with pytest.raises(InvalidInput) as refused:
        campaigns.launch(
            session, owner.id, campaign.id, at=TUESDAY_10H + timedelta(hours=13), now=TUESDAY_10H
        )
    assert refused.value.code == "sms_outside_window"


def test_an_excel_workbook_imports_like_a_csv(session: Session, sms_customer: SmsCustomer) -> None:
    # SPEC: SMS-01 — lists imported from CSV and XLSX, each refused row reported by line
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Mobile", "first_name"])
    sheet.append([612345678, "Marie"])  # typed as a number: the leading 0 is gone
    sheet.append(["+33 7 81 23 45 67", "Éric"])
    sheet.append(["12", "Paul"])
    sheet.append([None, None])
    sheet.append(["0612345678", "Marie bis"])
    data = io.BytesIO()
    workbook.save(data)

    sms_list = service.create_list(session, sms_customer.id, "Excel")
    report = service.import_xlsx(session, sms_list, data.getvalue())
    assert report.added == 2
    assert [(r["line"], r["reason"]) for r in report.rejected] == [
        (4, "bad_number"),
        (6, "duplicate"),
    ]
    assert [e.recipient for e in service.list_entries(session, sms_list.id)] == [
        "+33612345678",
        "+33781234567",
    ]
    with pytest.raises(InvalidInput) as refused:
        service.import_xlsx(session, sms_list, b"not a workbook")
    assert refused.value.code == "sms_import_not_xlsx"


def test_a_prepaid_campaign_beyond_the_credit_is_refused_whole(
    session: Session, build: Builder
) -> None:
    # SPEC: BIL-10, SMS-01 — every part reserved at launch, or nothing queued
    from decimal import Decimal

    from operateur.billing import wallets
    from operateur.catalog.terms import PaymentMethod

    owner = make_customer(build, "cpaas", payment_method=PaymentMethod.PREPAID)
    wallets.open_wallet(session, owner.id)
    wallets.top_up(
        session, owner.id, received=Decimal("0.10"), bank_fees=Decimal("0"), reference="T"
    )
    asked = service.request_sender(session, owner.id, "MaBoutique")
    service.review_sender(session, asked, authorise=True, reason="ok", reviewer="staff")
    sms_list = imported(session, owner)  # 2 mobiles and a fixed number, refused by cpaas
    campaign = campaigns.create(
        session, owner.id, name="P", list_id=sms_list.id, text="Hi", sender="MaBoutique"
    )
    assert service.list_size(session, sms_list.id) == 2
    service.add_entries(session, sms_list, [(1, "+32470123456", {})])  # 3 × 0.045 > 0.10
    with pytest.raises(Conflict) as refused:
        campaigns.launch(session, owner.id, campaign.id, now=TUESDAY_10H)
    assert refused.value.code == "insufficient_credit"
    assert session.scalars(select(SmsMessage)).all() == []
    assert wallets.get_wallet(session, owner.id).reserved == Decimal("0")

    wallets.top_up(
        session, owner.id, received=Decimal("0.05"), bank_fees=Decimal("0"), reference="U"
    )
    campaigns.launch(session, owner.id, campaign.id, now=TUESDAY_10H)
    assert wallets.get_wallet(session, owner.id).reserved == Decimal("0.135")
