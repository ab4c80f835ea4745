"""Campaign and send writes from several sessions at once: nothing launched or queued twice,
nothing counted twice against the stock (SMS-01, SMS-08)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.permissions import system_actor
from operateur.errors import Conflict
from operateur.sms import campaigns, outbox, service, stock
from operateur.sms.models import SmsMessage
from operateur.sms.service import SendRequest
from tests.integration.conftest import Builder, commit_while_waited_for
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer, make_customer

THREE_CLIENTS = """telephone,first_name
06 12 34 56 78,Marie
+33 7 81 23 45 67,Eric
06 11 11 11 11,Zoe
"""


def _session(factory: sessionmaker[Session]) -> Session:
    session = factory()
    audit.set_actor(session, system_actor("test"))
    return session


def test_a_campaign_launched_twice_at_once_goes_out_once(
    committed_factory: sessionmaker[Session],
) -> None:
    # SPEC: SMS-01 — a double click on "launch" queues each recipient once (and SMS-08: the
    # stock is taken once)
    with _session(committed_factory) as setup:
        owner: SmsCustomer = make_customer(Builder(setup))
        sms_list = service.create_list(setup, owner.id, "Clients")
        service.import_csv(setup, sms_list, THREE_CLIENTS)
        campaign = campaigns.create(
            setup, owner.id, name="Soldes", list_id=sms_list.id, text="Bonjour {first_name}"
        )
        setup.commit()
        campaign_id = campaign.id

    outcome: list[str] = []

    def launch_again() -> None:
        with _session(committed_factory) as second:
            try:
                campaigns.launch(second, owner.id, campaign_id, now=TUESDAY_10H)
                second.commit()
                outcome.append("launched")
            except Conflict as refused:
                outcome.append(refused.code)

    first = _session(committed_factory)
    try:
        campaigns.launch(first, owner.id, campaign_id, now=TUESDAY_10H)
        commit_while_waited_for(first, launch_again)
    finally:
        first.close()

    assert outcome == ["sms_campaign_state"]
    with committed_factory() as check:
        count = check.scalar(
            select(func.count(SmsMessage.id)).where(SmsMessage.campaign_id == campaign_id)
        )
        assert count == 3
        assert stock.used_in(check, owner.id, "2026-03") == 3


def test_a_message_of_a_cancelled_campaign_coming_back_from_the_smsc_is_cancelled_too(
    session: Session, build: Builder
) -> None:
    # SPEC: SMS-01, SMS-08 — cancelling stops the campaign: a message that was being submitted
    # and comes back for another attempt ends cancelled, its part given back to the stock
    owner = make_customer(build)
    sms_list = service.create_list(session, owner.id, "Clients")
    service.import_csv(session, sms_list, THREE_CLIENTS)
    campaign = campaigns.create(session, owner.id, name="S", list_id=sms_list.id, text="Hi")
    campaigns.launch(session, owner.id, campaign.id, now=TUESDAY_10H)
    [in_flight] = outbox.claim(session, route="default", limit=1, now=TUESDAY_10H)
    campaigns.cancel(session, campaign, now=TUESDAY_10H)
    outbox.mark_failed(session, in_flight.id, error="throttled", retry=True)
    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)  # the transport goes on

    stats = campaigns.statistics(session, campaign, now=TUESDAY_10H)
    assert stats.by_status["cancelled"] == 3 and stats.pending == 0
    assert stats.state == "cancelled" and stats.progress_percent == 100
    assert stock.used_in(session, owner.id, "2026-03") == 0


def test_a_send_retried_at_the_same_moment_returns_the_first_message(
    committed_factory: sessionmaker[Session],
) -> None:
    # SPEC: SMS-01 — a client that retries a send with the same client_ref while the first is
    # still being written gets that first message back, not an error; one SMS is queued
    with _session(committed_factory) as setup:
        owner: SmsCustomer = make_customer(Builder(setup))
        setup.commit()
    request = SendRequest(to="+33612345678", text="Rappel RDV", client_ref="rdv-42")
    returned: list[int] = []

    def retry() -> None:
        with _session(committed_factory) as second:
            returned.append(service.send(second, owner.id, request, now=TUESDAY_10H).id)
            second.commit()

    first = _session(committed_factory)
    try:
        sent = service.send(first, owner.id, request, now=TUESDAY_10H)
        commit_while_waited_for(first, retry)
    finally:
        first.close()

    assert returned == [sent.id]
    with committed_factory() as check:
        count = check.scalar(
            select(func.count(SmsMessage.id)).where(SmsMessage.client_ref == "rdv-42")
        )
    assert count == 1
