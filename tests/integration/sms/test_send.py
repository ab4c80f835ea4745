"""Single sends through the whole path: checks, outbox, stock, billing (SMS-02…SMS-10, BIL-10)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing import wallets
from operateur.billing.models import PendingCharge, UsageRecord
from operateur.catalog.terms import OutsideWindow, PaymentMethod
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.sms import outbox, service
from operateur.sms.encoding import analyze, split
from operateur.sms.models import SenderStatus, SmsMessage, SmsStatus
from operateur.sms.service import SendRequest
from tests.integration.conftest import Builder
from tests.integration.sms.conftest import TUESDAY_10H, SmsCustomer, make_customer

SUNDAY_10H = datetime(2026, 3, 15, 10, 0, tzinfo=PARIS)


def send(
    session: Session, owner: SmsCustomer, text: str = "Bonjour", to: str = "06 12 34 56 78",
    now: datetime = TUESDAY_10H, **extra: object,
) -> SmsMessage:  # fmt: skip
    return service.send(session, owner.id, SendRequest(to=to, text=text, **extra), now=now)  # type: ignore[arg-type]


def submit(session: Session, message: SmsMessage, now: datetime = TUESDAY_10H) -> list[str]:
    """What the SMPP dispatcher does: claim, split into the parts it submits, mark submitted."""
    claimed = outbox.claim(session, route=message.route, limit=100, now=now)
    assert message in claimed
    ctx = service.context(session, message.customer_id)
    parts = split(message.text, ctx.rules, ctx.mention)  # as sent, STOP mention included
    outbox.mark_submitted(session, message.id, [f"{message.id}-{i}" for i in range(len(parts))])
    return parts


def test_a_send_is_queued_with_its_parts_and_price(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01, SMS-03
    message = send(session, sms_customer, "Votre commande est arrivée.")
    assert (message.status, message.recipient, message.sender) == (
        SmsStatus.QUEUED,
        "+33612345678",
        "38100",  # the shared short code by default (SMS-06)
    )
    assert (message.encoding.value, message.parts, message.cost) == ("gsm7", 1, Decimal("0.06"))
    assert message.not_before == TUESDAY_10H


# Segment counts worked out by hand (3GPP TS 23.038/23.040; 004 annex §1), of the text as sent:
# - 004 offer: the mention "STOP 38100" (the 10 reserved characters, SMS-06) ends every message,
#   after a line break when that costs no part: a single SMS holds 150 septets of text, a long
#   one 153 per part, the mention in the last; € [ ] { } ^ ~ | \ count two septets and are never
#   cut from their escape.
# - cpaas offer: 160 / 153, no STOP mention, UCS-2 (70 / 67 UTF-16 units) when a
#   character is outside GSM 03.38; an emoji is a surrogate pair (two units), never cut.
A, B, E, ZH, SMILE = "a", "b", "€", "Ж", "😀"
STOP, NL = "STOP 38100", "\n"
TRICKY_TEXTS = [
    # (offer, encoding, text, the parts as they must be sent, septets or units of each part)
    # 150 + 10 = 160: one SMS; a line break would make two, so the mention follows directly
    ("telecom", "gsm7", A * 150, [A * 150 + STOP], [160]),
    # 151 + 1 + 10 = 162 > 160: 153 | 9, the line break costs no part
    ("telecom", "gsm7", A * 151, [A * 151 + NL + "S", "TOP 38100"], [153, 9]),
    # an extension character at the boundary: 152 + 2 > 153, the € moves whole
    ("telecom", "gsm7", A * 152 + E + B * 10, [A * 152, E + B * 10 + NL + STOP], [152, 23]),
    # 151 + 2 = 153 fits exactly
    ("telecom", "gsm7", A * 151 + E + B * 10, [A * 151 + E, B * 10 + NL + STOP], [153, 21]),
    # 1214 + 10 = 1224 = 8 x 153, the maximum: no room for the line break
    ("telecom", "gsm7", A * 1214, [A * 153] * 7 + [A * 143 + STOP], [153] * 8),
    ("cpaas", "gsm7", A * 152 + E, [A * 152 + E], [154]),  # 152 + 2 = 154 <= 160: one SMS
    ("cpaas", "gsm7", A * 151 + E + A * 10, [A * 151 + E, A * 10], [153, 10]),  # € ends part 1
    # 306 septets would be 2 × 153, but the € cannot straddle: 3 parts
    ("cpaas", "gsm7", A * 152 + E + A * 152, [A * 152, E + A * 151, A], [152, 153, 1]),
    ("cpaas", "ucs2", "Bonjour " + SMILE, ["Bonjour " + SMILE], [10]),  # UCS-2: 8 + 2 units
    ("cpaas", "ucs2", ZH * 70, [ZH * 70], [70]),
    ("cpaas", "ucs2", ZH * 71, [ZH * 67, ZH * 4], [67, 4]),
    # the emoji (2 units) would straddle the 67-unit boundary: it moves whole
    ("cpaas", "ucs2", ZH * 66 + SMILE + ZH * 3, [ZH * 66, SMILE + ZH * 3], [66, 5]),
]


@pytest.mark.parametrize(("offer", "encoding", "text", "expected", "units"), TRICKY_TEXTS)
def test_tricky_texts_are_counted_billed_and_split_as_worked_out_by_hand(
    session: Session, build: Builder, offer: str, encoding: str, text: str,
    expected: list[str], units: list[int],
) -> None:  # fmt: skip
    # SPEC: SMS-02, SMS-03, SMS-06
    owner = make_customer(build, offer)
    sender = None
    if offer == "cpaas":
        request = service.request_sender(session, owner.id, "MaBoutique")
        service.review_sender(session, request, authorise=True, reason="ok", reviewer="staff")
        sender = "MaBoutique"
    assert "".join(expected) in (text, text + STOP, text + NL + STOP)  # the rows are consistent
    message = send(session, owner, text, sender=sender)
    assert (message.encoding.value, message.parts) == (encoding, len(expected))
    ctx = service.context(session, owner.id)
    assert [part.length for part in analyze(text, ctx.rules, ctx.mention).parts] == units

    assert submit(session, message) == expected  # what the SMPP dispatcher submits
    usage = session.scalars(
        select(UsageRecord).where(UsageRecord.external_id == str(message.id))
    ).one()
    assert (usage.sms_segments, usage.cost) == (len(expected), message.cost)


def test_characters_outside_the_004_list_fail_the_message(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-02 — the character at fault is named
    with pytest.raises(InvalidInput) as refused:
        send(session, sms_customer, "Bonjour 😀 à bientôt")
    assert refused.value.code == "sms_characters" and "😀" in refused.value.render("en")
    assert "ô" in refused.value.render("fr")
    with pytest.raises(InvalidInput) as too_long:
        send(session, sms_customer, "a" * 1215)  # 1215 + 10 > 1224
    assert too_long.value.code == "sms_too_long"
    assert session.scalars(select(SmsMessage)).all() == []


@pytest.mark.parametrize(
    ("number", "accepted", "reason"),
    [
        ("06 12 34 56 78", "+33612345678", None),
        ("+33 7 81 23 45 67", "+33781234567", None),
        ("01 40 00 00 00", "+33140000000", None),  # fixed: accepted with a warning, billed
        ("09 70 00 00 00", "+33970000000", None),
        ("0692 12 34 56", None, "not_metropolitan"),  # Réunion mobile
        ("+32 470 12 34 56", None, "not_metropolitan"),  # Belgian mobile
        ("08 99 12 34 56", None, "not_mobile"),  # value-added number
        ("3949", None, "not_mobile"),  # short number
        ("bonjour", None, "bad_number"),
        ("06 12 34", None, "bad_number"),
    ],
)
def test_recipients_under_the_004_offer(
    session: Session, sms_customer: SmsCustomer, number: str, accepted: str | None,
    reason: str | None,
) -> None:  # fmt: skip
    # SPEC: SMS-07 — metropolitan mobiles; fixed not guaranteed but billed; others refused
    if accepted is None:
        with pytest.raises(InvalidInput) as refused:
            send(session, sms_customer, to=number)
        assert refused.value.code == f"recipient_{reason}" and refused.value.field == "to"
        return
    message = send(session, sms_customer, to=number)
    assert message.recipient == accepted
    fixed = not accepted.startswith(("+336", "+337"))
    assert message.warning == ("fixed_number" if fixed else None)
    assert message.destination == ("FR fixed" if fixed else "FR mobile")
    assert message.cost == Decimal("0.06")


def test_the_cpaas_offer_sends_to_mobiles_abroad_but_not_to_fixed_numbers(
    session: Session, build: Builder
) -> None:
    # SPEC: SMS-07 — an offer without the metropolitan restriction
    owner = make_customer(build, "cpaas")
    request = service.request_sender(session, owner.id, "MaBoutique")
    service.review_sender(session, request, authorise=True, reason="ok", reviewer="staff")
    message = send(session, owner, to="+32 470 12 34 56", sender="MaBoutique")
    assert (message.recipient, message.destination) == ("+32470123456", "BE mobile")
    with pytest.raises(InvalidInput) as refused:
        send(session, owner, to="01 40 00 00 00", sender="MaBoutique")
    assert refused.value.code == "recipient_not_mobile"


def test_outside_the_window_a_send_is_queued_or_rejected_as_asked(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-04 — Monday–Saturday 08:00–22:00: Sunday's messages wait for Monday 08:00
    queued = send(session, sms_customer, now=SUNDAY_10H)
    assert queued.not_before == datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)
    assert outbox.claim(session, route="default", limit=10, now=SUNDAY_10H) == []

    with pytest.raises(InvalidInput) as refused:
        send(session, sms_customer, now=SUNDAY_10H, outside_window=OutsideWindow.REJECT)
    assert refused.value.code == "sms_outside_window"

    service.update_settings(
        session, sms_customer.id, callback_url=None, outside_window=OutsideWindow.REJECT
    )
    with pytest.raises(InvalidInput):
        send(session, sms_customer, now=SUNDAY_10H)
    evening = send(
        session, sms_customer, now=TUESDAY_10H, send_at=TUESDAY_10H + timedelta(hours=11)
    )
    assert evening.not_before == TUESDAY_10H + timedelta(hours=11)  # 21:00: inside


def test_custom_senders_are_requested_reviewed_and_billed_even_if_refused(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-05
    with pytest.raises(InvalidInput) as unknown:
        send(session, sms_customer, sender="Boulangerie")
    assert unknown.value.code == "sms_sender_not_authorised"

    impersonating = service.request_sender(session, sms_customer.id, "AMELI-INFO")
    patterned = service.request_sender(session, sms_customer.id, "A1234")
    digits = service.request_sender(session, sms_customer.id, "0612345678")
    fine = service.request_sender(session, sms_customer.id, "Boulangerie")
    again = service.request_sender(session, sms_customer.id, "AMELI-INFO")

    assert again is impersonating
    assert [(s.status, s.rule) for s in (impersonating, patterned, digits, fine)] == [
        (SenderStatus.REFUSED, "sensitive_name"),
        (SenderStatus.REFUSED, "letter_and_four_digits"),
        (SenderStatus.REFUSED, "digits_only"),
        (SenderStatus.REQUESTED, None),
    ]
    assert "AMELI" in impersonating.reason
    assert [s.name for s in service.pending_senders(session)] == ["Boulangerie"]
    service.review_sender(session, fine, authorise=True, reason="Kbis reçu", reviewer="staff")
    with pytest.raises(Conflict):
        service.review_sender(session, fine, authorise=False, reason="x", reviewer="staff")
    assert send(session, sms_customer, sender="Boulangerie").sender == "Boulangerie"

    charges = session.scalars(
        select(PendingCharge).where(PendingCharge.customer_id == sms_customer.id)
    ).all()
    # 30.00 € HT per request under the 004 price list, refused ones included, once each
    assert (
        sorted((c.code, c.amount) for c in charges) == [("sms.sender_request", Decimal("30"))] * 4
    )


def test_a_stopped_recipient_is_reported_never_sent(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-06
    outbox.receive(session, source="+33612345678", destination="38100", text="Stop")
    message = send(session, sms_customer)
    assert (message.status, message.error) == (SmsStatus.UNSUBSCRIBED, "unsubscribed")
    assert outbox.claim(session, route="default", limit=10, now=TUESDAY_10H) == []
    assert service.stock_view(session, sms_customer.id, "2026-03")[0].used == 0


def test_the_monthly_stock_refuses_what_exceeds_it(session: Session, build: Builder) -> None:
    # SPEC: SMS-08 — 1000 SMS a month by default, raisable by the operator up to 100 000
    owner = make_customer(build)
    assert service.stock_view(session, owner.id, "2026-03")[0].monthly_limit == 1000
    service.set_stock(session, owner.id, 10, "test")
    eight_parts = "a" * 1214
    send(session, owner, eight_parts)
    with pytest.raises(Conflict) as refused:
        send(session, owner, "a" * 300)  # 3 parts, 2 left
    assert refused.value.code == "sms_stock_exhausted"
    assert refused.value.details["remaining"] == 2
    two = send(session, owner, "a" * 200)
    view = service.stock_view(session, owner.id, "2026-03")[0]
    assert (view.used, view.remaining) == (10, 0)

    outbox.claim(session, route="default", limit=10, now=TUESDAY_10H)
    outbox.mark_failed(session, two.id, error="refused by the SMSC", retry=False)
    assert service.stock_view(session, owner.id, "2026-03")[0].remaining == 2  # given back

    with pytest.raises(InvalidInput) as too_high:
        service.set_stock(session, owner.id, 100_001, "too much")
    assert too_high.value.code == "sms_stock_above_maximum"
    assert service.set_stock(session, owner.id, 100_000, "big campaign").monthly_limit == 100_000
    # next month starts afresh
    april = send(session, owner, eight_parts, now=datetime(2026, 4, 1, 9, 0, tzinfo=PARIS))
    assert april.stock_month == "2026-04"


def test_content_matching_a_rule_is_held_for_review(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-09
    lure = "Votre colis est en attente, reglez les frais de livraison sur https://bit.ly/abc"
    held = send(session, sms_customer, lure)
    other = send(session, sms_customer, "Votre carte Vitale expire : commandez la nouvelle")
    fine = send(session, sms_customer, "Vos pains sont arrivés")
    assert (held.status, held.held_rule) == (SmsStatus.HELD, "phishing-url-shortener")
    assert other.held_rule == "phishing-carte-vitale" and fine.status is SmsStatus.QUEUED
    assert [m.id for m in service.held_messages(session)] == [held.id, other.id]
    assert outbox.claim(session, route="default", limit=10, now=TUESDAY_10H) == [fine]

    service.review_held(session, held, release=True, now=TUESDAY_10H)
    service.review_held(session, other, release=False, now=TUESDAY_10H)
    assert held.status is SmsStatus.QUEUED
    assert (other.status, other.error) == (SmsStatus.REJECTED, "content:phishing-carte-vitale")
    assert outbox.claim(session, route="default", limit=10, now=TUESDAY_10H) == [held]
    with pytest.raises(Conflict):
        service.review_held(session, held, release=True)


def test_only_french_legal_entities_paying_in_euros(session: Session, build: Builder) -> None:
    # SPEC: SMS-10 checked again before every send: details changed after the signature
    moved = make_customer(build, name="Partie en Belgique")
    send(session, moved)
    moved.customer.country = "BE"
    with pytest.raises(Conflict) as refused:
        send(session, moved)
    assert refused.value.code == "sms_not_eligible"
    assert "established_in_france" in refused.value.details["missing"]
    assert "SMS-10" in refused.value.render("fr") and "SMS-10" in refused.value.render("en")

    sole_trader = make_customer(build, name="Jean Dupont EI")
    sole_trader.customer.legal_form = "EI"
    with pytest.raises(Conflict) as natural:
        send(session, sole_trader)
    assert "legal_entity" in natural.value.details["missing"]

    # the cpaas offer does not reserve the service (SMS-10 applies to the 004 offer)
    abroad = build.customer(country="BE", vat_number="BE0403170701", name="Belge API")
    build.contract(abroad, "cpaas", TUESDAY_10H.date(), [])
    service.request_sender(session, abroad.id, "Belgica")


def test_a_prepaid_account_pays_each_sms_in_real_time(session: Session, build: Builder) -> None:
    # SPEC: BIL-10 — reserved at enqueue, debited when the SMSC accepts, released if unsent
    owner = make_customer(build, "cpaas", payment_method=PaymentMethod.PREPAID)
    wallets.open_wallet(session, owner.id)
    wallets.top_up(
        session, owner.id, received=Decimal("0.20"), bank_fees=Decimal("0"), reference="T1"
    )
    request = service.request_sender(session, owner.id, "MaBoutique")
    service.review_sender(session, request, authorise=True, reason="ok", reviewer="staff")

    three_parts = send(session, owner, "a" * 400, sender="MaBoutique")  # 3 × 0.045
    assert three_parts.cost == Decimal("0.135")
    assert wallets.get_wallet(session, owner.id).available == Decimal("0.065")
    with pytest.raises(Conflict) as short:
        send(session, owner, "a" * 200, sender="MaBoutique")  # 2 × 0.045 = 0.09 > 0.065
    assert short.value.code == "insufficient_credit"
    # the refusal left nothing behind: no message, no stock used
    assert session.scalars(select(SmsMessage)).all() == [three_parts]
    assert service.stock_view(session, owner.id, "2026-03")[0].used == 3
    one = send(session, owner, "court", sender="MaBoutique")

    submit(session, three_parts)
    view = wallets.get_wallet(session, owner.id)
    assert (view.balance, view.reserved) == (Decimal("0.065"), Decimal("0.045"))
    outbox.mark_failed(session, one.id, error="unknown subscriber", retry=False)
    view = wallets.get_wallet(session, owner.id)
    assert (view.balance, view.reserved) == (Decimal("0.065"), Decimal("0"))


def test_client_reference_makes_a_send_idempotent(
    session: Session, sms_customer: SmsCustomer
) -> None:
    first = send(session, sms_customer, "Rappel RDV", client_ref="rdv-42")
    again = send(session, sms_customer, "Rappel RDV", client_ref="rdv-42")
    assert again is first
    with pytest.raises(Conflict):
        send(session, sms_customer, "Autre texte", client_ref="rdv-42")
    assert service.stock_view(session, sms_customer.id, "2026-03")[0].used == 1


def test_the_default_callback_url_is_copied_at_enqueue(
    session: Session, sms_customer: SmsCustomer
) -> None:
    # SPEC: SMS-01
    service.update_settings(
        session, sms_customer.id, callback_url="https://client.example/cb", outside_window=None
    )
    assert send(session, sms_customer).callback_url == "https://client.example/cb"
    own = send(session, sms_customer, callback_url="https://client.example/other")
    assert own.callback_url == "https://client.example/other"
    with pytest.raises(InvalidInput):
        send(session, sms_customer, callback_url="http://127.0.0.1/x")
