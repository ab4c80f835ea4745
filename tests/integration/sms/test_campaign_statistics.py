"""The downloadable statistics of a campaign add up (SMS-01)."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from operateur.sms import campaigns, outbox, service
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer


def test_the_statistics_csv_total_line_is_the_sum_of_its_hours(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01 — statistics by hour downloadable: the total line adds up its columns; a
    # message refused before sending is counted in the per-status block, not as a failed send
    sms_list = service.create_list(session, sms_customer.id, "Clients")
    service.add_entries(
        session,
        sms_list,
        [
            (1, "0612345678", {"first_name": "Marie"}),
            (2, "0781234567", {"first_name": "Eric"}),
            (3, "0622222222", {"first_name": "x" * 1300}),  # too long once personalised
        ],
    )
    campaign = campaigns.create(
        session, sms_customer.id, name="S", list_id=sms_list.id, text="Bonjour {first_name}"
    )
    campaigns.launch(session, sms_customer.id, campaign.id, now=TUESDAY_10H)
    for message in outbox.claim(session, route="default", limit=10, now=TUESDAY_10H):
        outbox.mark_submitted(session, message.id, [f"s{message.id}"])
        stat = "DELIVRD" if message.recipient == "+33612345678" else "UNDELIV"
        outbox.apply_receipt(session, smsc_id=f"s{message.id}", stat=stat, done_at=None, error=None)

    stats = campaigns.statistics(session, campaign, now=TUESDAY_10H)
    rows = list(csv.reader(io.StringIO(campaigns.statistics_csv(stats))))
    header, hours = rows[0], rows[1 : rows.index([])]
    [total] = [row for row in hours if row[0] == "total"]
    by_hour = [row for row in hours if row[0] != "total"]
    assert len(by_hour) == 1
    for column in range(1, len(header)):
        assert int(total[column]) == sum(int(row[column]) for row in by_hour), header[column]
    assert dict(zip(header, total, strict=True))["failed"] == "1"
    statuses = dict(row for row in rows[rows.index(["status", "messages"]) + 1 :])
    assert (statuses["rejected"], statuses["undelivered"], statuses["delivered"]) == ("1", "1", "1")
