"""The mail gateway console over the API: domains and mailboxes within the licence, lists,
quarantine and its three ways out, reports, settings, SLA and licence figures, console log."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.accounts import service as accounts
from operateur.accounts.models import AuditEvent
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.schemas import SubscriptionIn
from operateur.db import utcnow
from operateur.mail import quarantine
from operateur.mail.models import (
    ConsoleLog,
    Direction,
    FilterLog,
    MailFeedback,
    QueuedMessage,
    QueueStatus,
)
from tests.api.conftest import World, auth


@pytest.fixture
def mail_world(session: Session, world: World) -> World:
    """Tenant A on the mail-security offer: 5 mailboxes, 2 domains licensed."""
    customer = accounts.get_customer(session, world.a.id)
    contract = contracts.create_contract(session, customer, "mail-security", {})
    contracts.sign(session, contract, "Signataire")
    contracts.activate(session, contract, date.today())
    for code, quantity in (("mail_in.mailbox", 5), ("mail.domain", 2)):
        contracts.add_subscription(
            session, contract, SubscriptionIn(item_code=code, quantity=quantity)
        )
    session.commit()
    world.a.ids["mail_contract_id"] = contract.id
    return world


def _base(world: World) -> str:
    return f"/api/v1/customers/{world.a.id}/mail"


def _post(client: TestClient, url: str, key: str, body: dict[str, object] | None = None) -> object:
    return client.post(url, headers=auth(key), json=body)


# SPEC: MAIL-01, MAIL-07
def test_domains_are_licensed_one_by_one_and_illegal_domains_refused(
    client: TestClient, mail_world: World
) -> None:
    key, base = mail_world.a.admin_key, _base(mail_world)
    refused = client.post(
        "/api/v1/mail/refused-domains",
        headers=auth(mail_world.staff_key),
        json={"name": "casino-illegal.example", "reason": "jeux d'argent illégaux"},
    )
    assert refused.status_code == 201, refused.text
    response = client.post(
        f"{base}/domains", headers=auth(key), json={"name": "www.casino-illegal.example"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "domain_refused"
    assert (
        client.post(f"{base}/domains", headers=auth(key), json={"name": "not a domain"}).status_code
        == 422
    )

    for name in ("client1.fr", "Client1-Boutique.FR"):
        created = client.post(f"{base}/domains", headers=auth(key), json={"name": name})
        assert created.status_code == 201, created.text
    assert created.json()["name"] == "client1-boutique.fr"
    again = client.post(f"{base}/domains", headers=auth(key), json={"name": "client1.fr"})
    assert again.status_code == 409 and again.json()["code"] == "domain_taken"
    third = client.post(f"{base}/domains", headers=auth(key), json={"name": "troisieme.fr"})
    assert third.status_code == 409 and third.json()["code"] == "licence_exceeded"
    assert third.json()["details"]["limit"] == 2
    listed = client.get(f"{base}/domains", headers=auth(key)).json()
    assert [d["name"] for d in listed] == ["client1.fr", "client1-boutique.fr"]


# SPEC: MAIL-07, CTR-04
def test_mailboxes_are_counted_with_the_twenty_percent_tolerance(
    client: TestClient, mail_world: World
) -> None:
    key, base = mail_world.a.admin_key, _base(mail_world)
    assert (
        client.post(f"{base}/domains", headers=auth(key), json={"name": "client1.fr"}).status_code
        == 201
    )
    outside = client.post(f"{base}/mailboxes", headers=auth(key), json={"address": "a@other.fr"})
    assert outside.status_code == 422 and outside.json()["code"] == "mailbox_domain_unknown"
    for n in range(6):  # 5 licensed + 20 % free
        created = client.post(
            f"{base}/mailboxes", headers=auth(key), json={"address": f"user{n}@client1.fr"}
        )
        assert created.status_code == 201, created.text
    seventh = client.post(
        f"{base}/mailboxes", headers=auth(key), json={"address": "user6@client1.fr"}
    )
    assert seventh.status_code == 409 and seventh.json()["code"] == "licence_exceeded"
    assert seventh.json()["details"]["limit"] == 6
    counts = {c["unit"]: c for c in client.get(f"{base}/licences", headers=auth(key)).json()}
    assert counts["mailbox"] == {"unit": "mailbox", "licensed": 5, "allowed": 6, "used": 6}
    assert counts["domain"] == {"unit": "domain", "licensed": 2, "allowed": 2, "used": 1}
    weak = client.post(
        f"{base}/mailboxes",
        headers=auth(mail_world.staff_key),
        json={"address": "user0@client1.fr", "password": "short"},
    )
    assert weak.status_code in (409, 422)


# SPEC: MAIL-02, MAIL-11
def test_allow_and_deny_lists_of_the_customer_and_of_the_operator(
    client: TestClient, mail_world: World, session: Session
) -> None:
    key, base = mail_world.a.admin_key, _base(mail_world)
    added = client.post(
        f"{base}/lists", headers=auth(key), json={"kind": "allow", "value": "Boss@Partner.fr"}
    )
    assert added.status_code == 201 and added.json()["value"] == "boss@partner.fr"
    deny = client.post(
        f"{base}/lists", headers=auth(key), json={"kind": "deny", "value": "spam.example"}
    )
    assert deny.json()["value"] == "@spam.example"
    duplicate = client.post(
        f"{base}/lists", headers=auth(key), json={"kind": "deny", "value": "@spam.example"}
    )
    assert duplicate.status_code == 409
    operator = client.post(
        "/api/v1/mail/operator-lists",
        headers=auth(mail_world.staff_key),
        json={"kind": "deny", "value": "@known-spammer.example"},
    )
    assert operator.status_code == 201
    assert client.get("/api/v1/mail/operator-lists", headers=auth(key)).status_code == 403
    own = client.get(f"{base}/lists", headers=auth(key)).json()
    assert {(e["kind"], e["value"]) for e in own} == {
        ("allow", "boss@partner.fr"),
        ("deny", "@spam.example"),
    }
    entry = own[0]["id"]
    assert client.delete(f"{base}/lists/{entry}", headers=auth(key)).status_code == 204
    assert len(client.get(f"{base}/lists", headers=auth(key)).json()) == 1
    # MAIL-11: every change of the console is kept as proof, with who made it
    changes = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "mail_list_entries", AuditEvent.customer_id == mail_world.a.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [c.action for c in changes] == ["create", "create", "delete"]
    assert {c.actor_type for c in changes} == {"api_key"}


def _held(
    session: Session, world: World, *, virus: bool = False, sender: str = "x@spam.example"
) -> int:
    entry = FilterLog(
        customer_id=world.a.id,
        direction=Direction.INBOUND,
        gateway="gw1",
        mail_from=sender,
        rcpt_tos=["user0@client1.fr"],
        size=1200,
        action="quarantine",
        score=9.5,
        symbols=["BAYES_SPAM"],
        virus=virus,
    )
    session.add(entry)
    session.flush()
    item = quarantine.hold(
        session,
        customer_id=world.a.id,
        log_id=entry.id,
        spool_name="held.eml",
        mail_from=sender,
        recipient="user0@client1.fr",
        subject="Gagnez un iPhone",
        score=9.5,
        symbols=["BAYES_SPAM"],
        virus=virus,
        now=utcnow(),
    )
    session.commit()
    return item.id


# SPEC: MAIL-03, MAIL-11
def test_administrators_release_delete_or_allow_list_held_mail(
    client: TestClient, mail_world: World, session: Session
) -> None:
    key, base = mail_world.a.admin_key, _base(mail_world)
    first, second, third = (
        _held(session, mail_world, sender=f"s{n}@spam.example") for n in range(3)
    )
    held = client.get(f"{base}/quarantine", headers=auth(key)).json()
    assert {h["id"] for h in held} == {first, second, third}
    assert held[0]["subject"] == "Gagnez un iPhone"

    released = client.post(f"{base}/quarantine/{first}/release", headers=auth(key))
    assert released.status_code == 200 and released.json()["status"] == "released"
    again = client.post(f"{base}/quarantine/{first}/release", headers=auth(key))
    assert again.status_code == 409 and again.json()["code"] == "quarantine_closed"
    [delivery] = session.scalars(select(QueuedMessage)).all()
    assert delivery.rcpt_tos == ["user0@client1.fr"]
    assert delivery.status is QueueStatus.QUEUED
    assert "X-Operateur-Released: administrator" in delivery.headers

    assert client.delete(f"{base}/quarantine/{second}", headers=auth(key)).status_code == 204
    allowed = client.post(f"{base}/quarantine/{third}/allow-sender", headers=auth(key))
    assert allowed.json()["status"] == "released"
    lists = client.get(f"{base}/lists", headers=auth(key)).json()
    assert [(e["kind"], e["value"]) for e in lists] == [("allow", "s2@spam.example")]
    assert client.get(f"{base}/quarantine", headers=auth(key)).json() == []

    reports = client.get(f"{base}/reports", headers=auth(key)).json()
    assert sorted((r["kind"], r["channel"]) for r in reports) == [
        ("release", "administrator"),
        ("release", "administrator"),
    ]
    # MAIL-10, MAIL-11: every console call is logged with who and from where
    logged = session.scalars(select(ConsoleLog).where(ConsoleLog.customer_id == mail_world.a.id))
    actions = [row.action for row in logged]
    assert f"POST {base}/quarantine/{first}/release" in actions
    assert f"DELETE {base}/quarantine/{second}" in actions


# SPEC: MAIL-03
def test_a_virus_is_released_by_an_administrator_only(
    client: TestClient, mail_world: World, session: Session
) -> None:
    item_id = _held(session, mail_world, virus=True)
    item = quarantine.get_item(session, mail_world.a.id, item_id)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    link = quarantine.release_link(settings, item, utcnow().replace(year=utcnow().year + 1))
    response = client.post(link.removeprefix(settings.mail_public_url))
    assert response.status_code == 400
    assert "administrateur" in response.text
    ok = client.post(
        f"{_base(mail_world)}/quarantine/{item_id}/release", headers=auth(mail_world.a.admin_key)
    )
    assert ok.status_code == 200


# SPEC: MAIL-03
def test_the_recipient_releases_from_the_signed_link(
    client: TestClient, mail_world: World, session: Session
) -> None:
    item_id = _held(session, mail_world)
    item = quarantine.get_item(session, mail_world.a.id, item_id)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    link = quarantine.release_link(settings, item, utcnow().replace(year=utcnow().year + 1))
    path = link.removeprefix(settings.mail_public_url)
    page = client.get(path)
    assert page.status_code == 200 and "Gagnez un iPhone" in page.text
    assert quarantine.get_item(session, mail_world.a.id, item_id).status.value == "held"
    done = client.post(path)
    assert done.status_code == 200 and "x@spam.example" in done.text
    session.expire_all()
    assert quarantine.get_item(session, mail_world.a.id, item_id).status.value == "released"
    [feedback] = session.scalars(select(MailFeedback)).all()
    assert (feedback.kind.value, feedback.channel.value) == ("release", "recipient_digest")
    assert client.post(path).status_code == 400  # used once
    forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client.get(forged).status_code == 400


# SPEC: MAIL-05, MAIL-06
def test_reports_name_the_message_by_its_id(
    client: TestClient, mail_world: World, session: Session
) -> None:
    key, base = mail_world.a.admin_key, _base(mail_world)
    delivered = FilterLog(
        customer_id=mail_world.a.id,
        direction=Direction.INBOUND,
        gateway="gw1",
        mail_from="x@y.fr",
        rcpt_tos=["user0@client1.fr"],
        size=10,
        action="deliver",
        score=1.0,
        symbols=[],
    )
    session.add(delivered)
    session.commit()
    spam = client.post(
        f"{base}/reports", headers=auth(key), json={"log_id": delivered.id, "kind": "report_spam"}
    )
    assert spam.status_code == 201 and spam.json()["channel"] == "administrator"
    ham = client.post(
        f"{base}/reports", headers=auth(key), json={"log_id": delivered.id, "kind": "report_ham"}
    )
    assert ham.status_code == 409 and ham.json()["code"] == "report_not_blocked"
    other = client.post(
        f"/api/v1/customers/{mail_world.b.id}/mail/reports",
        headers=auth(mail_world.staff_key),
        json={"log_id": delivered.id, "kind": "report_spam"},
    )
    assert other.status_code == 404  # another customer's message is not found below B


# SPEC: MAIL-03, MAIL-08
def test_settings_and_blocks_lifted_by_the_operator_only(
    client: TestClient, mail_world: World
) -> None:
    key, base = mail_world.a.admin_key, _base(mail_world)
    assert client.get(f"{base}/settings", headers=auth(key)).json()["challenge_enabled"] is False
    updated = client.put(
        f"{base}/settings",
        headers=auth(key),
        json={"challenge_enabled": True, "relay_password": "a long relay password"},
    )
    assert updated.status_code == 200
    assert updated.json()["challenge_enabled"] is True
    assert updated.json()["relay_username"] == f"relay-{mail_world.a.id}"
    refused = client.put(f"{base}/settings", headers=auth(key), json={"unblock_relay": True})
    assert refused.status_code == 403
    staff = client.put(
        f"{base}/settings", headers=auth(mail_world.staff_key), json={"unblock_relay": True}
    )
    assert staff.status_code == 200


# SPEC: MAIL-05, MAIL-06, MAIL-07
def test_figures_are_empty_without_a_mail_contract_and_present_with_one(
    client: TestClient, mail_world: World
) -> None:
    b = f"/api/v1/customers/{mail_world.b.id}/mail"
    assert client.get(f"{b}/sla", headers=auth(mail_world.b.admin_key)).json() == []
    [figures] = client.get(f"{_base(mail_world)}/sla", headers=auth(mail_world.a.admin_key)).json()
    assert figures["window"]["processed"] == 0
    assert figures["month"]["credit"] == "0.00"
