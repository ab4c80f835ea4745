"""Invoice disputes under each seed offer's terms, and the 20 % overpayment rule.

# SPEC: BIL-07
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from operateur.billing.disputes import (
    DisputeAssessment,
    DisputeRefusal,
    SettlementMethod,
    assess_dispute,
    dispute_deadline,
    overpayment_settlement,
)
from operateur.catalog.service import get_offer
from operateur.catalog.terms import Channel, DisputeReference, DisputeTerms
from operateur.errors import InvalidInput

TOTAL = Decimal("1200.00")
ISSUED = date(2026, 1, 31)
RECEIVED = date(2026, 2, 2)
ALL_REFERENCES = set(DisputeReference)


def terms_of(offer_id: str) -> DisputeTerms:
    return get_offer(offer_id).terms.disputes


def assess(
    offer_id: str,
    *,
    filed_on: date,
    channel: Channel | str,
    contested: str = "300.00",
    references: set[DisputeReference] | None = None,
    uncontested_paid: bool = True,
    earlier_unpaid: bool = False,
    received: date | None = RECEIVED,
) -> DisputeAssessment:
    return assess_dispute(
        terms_of(offer_id),
        invoice_total=TOTAL,
        issue_date=ISSUED,
        received_date=received,
        filed_on=filed_on,
        channel=channel,
        contested_amount=Decimal(contested),
        references_given=ALL_REFERENCES if references is None else references,
        uncontested_part_paid=uncontested_paid,
        earlier_invoice_unpaid=earlier_unpaid,
    )


# --- crm-voip [000 §6]: by email within 7 days of receipt ----------------------------------


def test_crm_voip_accepted_on_the_last_day() -> None:
    # SPEC: BIL-07 [000 §6] received 2 Feb + 7 days = 9 Feb (included)
    result = assess(
        "crm-voip",
        filed_on=date(2026, 2, 9),
        channel=Channel.EMAIL,
        references={
            DisputeReference.INVOICE_NUMBER,
            DisputeReference.REASON,
            DisputeReference.EVIDENCE,
        },
    )
    assert result.accepted
    assert result.reasons == ()
    assert result.deadline == date(2026, 2, 9)
    assert result.held_amount == Decimal("300.00")


def test_crm_voip_refused_with_every_reason() -> None:
    # SPEC: BIL-07 [000 §6] late, by registered letter, no evidence nor reason, unpaid rest
    result = assess(
        "crm-voip",
        filed_on=date(2026, 2, 10),
        channel=Channel.REGISTERED_LETTER,
        references={DisputeReference.INVOICE_NUMBER},
        uncontested_paid=False,
        earlier_unpaid=True,  # not a condition of this offer
    )
    assert not result.accepted
    assert result.codes == (
        DisputeRefusal.OUT_OF_TIME,
        DisputeRefusal.WRONG_CHANNEL,
        DisputeRefusal.MISSING_REFERENCES,
        DisputeRefusal.UNCONTESTED_PART_UNPAID,
    )
    messages = dict(result.reasons)
    assert "09/02/2026" in messages["out_of_time"].fr
    assert "courrier électronique" in messages["wrong_channel"].fr
    assert messages["missing_references"].en == "Missing: reason, evidence."
    assert "900,00 €" in messages["uncontested_part_unpaid"].fr
    assert result.held_amount == Decimal("0.00")


# --- centrex [001 §11.3]: registered letter within 30 days of receipt ---------------------


def test_centrex_accepted_contested_part_suspended_and_penalties_still_run() -> None:
    # SPEC: BIL-07 [001 §11.3] received 2 Feb + 30 days = 4 Mar
    result = assess("centrex", filed_on=date(2026, 3, 4), channel=Channel.REGISTERED_LETTER)
    assert result.accepted
    assert result.deadline == date(2026, 3, 4)
    assert result.held_amount == Decimal("300.00")
    assert result.penalties_run_if_rejected


def test_centrex_refused_by_email_and_late() -> None:
    # SPEC: BIL-07 [001 §11.3]
    result = assess(
        "centrex",
        filed_on=date(2026, 3, 5),
        channel="email",
        references={DisputeReference.REASON},
    )
    assert result.codes == (
        DisputeRefusal.OUT_OF_TIME,
        DisputeRefusal.WRONG_CHANNEL,
        DisputeRefusal.MISSING_REFERENCES,
    )
    assert dict(result.reasons)["missing_references"].fr == (
        "Éléments manquants : numéro de la facture."
    )


# --- cpaas [002 §12.6]: email within 60 days of issue, full references -------------------


def test_cpaas_window_counts_from_issue() -> None:
    # SPEC: BIL-07 [002 §12.6.2] issued 31 Jan + 60 days = 1 April; receipt not needed
    result = assess("cpaas", filed_on=date(2026, 4, 1), channel=Channel.EMAIL, received=None)
    assert result.accepted
    assert result.deadline == date(2026, 4, 1)


def test_cpaas_refused_without_amount_and_evidence_and_unpaid_rest() -> None:
    # SPEC: BIL-07 [002 §12.6]
    result = assess(
        "cpaas",
        filed_on=date(2026, 4, 2),
        channel=Channel.EMAIL,
        references={
            DisputeReference.INVOICE_DATE,
            DisputeReference.INVOICE_NUMBER,
            DisputeReference.REASON,
        },
        uncontested_paid=False,
    )
    assert result.codes == (
        DisputeRefusal.OUT_OF_TIME,
        DisputeRefusal.MISSING_REFERENCES,
        DisputeRefusal.UNCONTESTED_PART_UNPAID,
    )
    assert dict(result.reasons)["missing_references"].en == "Missing: amount contested, evidence."


def test_whole_invoice_contested_needs_no_payment() -> None:
    # SPEC: BIL-07 nothing is uncontested, so nothing has to be paid first
    result = assess(
        "cpaas",
        filed_on=date(2026, 2, 10),
        channel=Channel.EMAIL,
        contested="1200.00",
        uncontested_paid=False,
    )
    assert result.accepted
    assert result.held_amount == Decimal("1200.00")


# --- mail-security: 30 days of receipt, by email ------------------------------------------


def test_mail_security_accepted_and_refused() -> None:
    # SPEC: BIL-07 received 2 Feb + 30 days = 4 March
    ok = assess("mail-security", filed_on=date(2026, 3, 4), channel=Channel.EMAIL)
    assert ok.accepted
    refused = assess(
        "mail-security",
        filed_on=date(2026, 3, 5),
        channel=Channel.PHONE,
        references=set(),
        uncontested_paid=False,
    )
    assert refused.codes == (
        DisputeRefusal.OUT_OF_TIME,
        DisputeRefusal.WRONG_CHANNEL,
        DisputeRefusal.MISSING_REFERENCES,
        DisputeRefusal.UNCONTESTED_PART_UNPAID,
    )


def test_window_from_receipt_needs_the_receipt_date() -> None:
    # SPEC: BIL-07
    with pytest.raises(InvalidInput) as info:
        assess("mail-security", filed_on=date(2026, 3, 4), channel=Channel.EMAIL, received=None)
    assert info.value.field == "received_date"


# --- telecom [004 §9.4]: 3 months, paid rest, no earlier unpaid, more than 5 % ------------


def test_telecom_accepted_just_above_five_percent() -> None:
    # SPEC: BIL-07 [004 §9.4] received 31 Jan + 3 months = 30 April; 61.00 > 5 % of 1 200 = 60
    result = assess(
        "telecom",
        filed_on=date(2026, 4, 30),
        channel=Channel.LETTER,
        contested="61.00",
        received=date(2026, 1, 31),
    )
    assert result.accepted
    assert result.deadline == date(2026, 4, 30)
    assert result.held_amount == Decimal("61.00")


def test_telecom_refused_with_all_six_reasons() -> None:
    # SPEC: BIL-07 [004 §9.4] 60.00 is exactly 5 %: "inférieur ou égal" is not admissible
    result = assess(
        "telecom",
        filed_on=date(2026, 5, 1),
        channel=Channel.PHONE,
        contested="60.00",
        references={DisputeReference.INVOICE_NUMBER},
        uncontested_paid=False,
        earlier_unpaid=True,
        received=date(2026, 1, 31),
    )
    assert not result.accepted
    assert result.codes == (
        DisputeRefusal.OUT_OF_TIME,
        DisputeRefusal.WRONG_CHANNEL,
        DisputeRefusal.MISSING_REFERENCES,
        DisputeRefusal.UNCONTESTED_PART_UNPAID,
        DisputeRefusal.EARLIER_INVOICE_UNPAID,
        DisputeRefusal.CONTESTED_SHARE_TOO_SMALL,
    )
    messages = dict(result.reasons)
    assert "3 mois" in messages["out_of_time"].fr
    assert "courrier électronique ou courrier" in messages["wrong_channel"].fr
    assert messages["missing_references"].en == (
        "Missing: invoice date, amount contested, reason, evidence."
    )
    assert "5 %" in messages["contested_share_too_small"].fr
    assert "1 140,00 €" in messages["uncontested_part_unpaid"].fr
    assert result.held_amount == Decimal("0.00")


def test_deadline_helper() -> None:
    # SPEC: BIL-07
    assert dispute_deadline(
        terms_of("telecom"), issue_date=ISSUED, received_date=date(2026, 11, 30)
    ) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contested": "0"}, "contested_amount"),
        ({"contested": "1200.01"}, "contested_amount"),
        ({"filed_on": date(2026, 1, 30)}, "filed_on"),
        ({"channel": "fax"}, "channel"),
        ({"received": date(2026, 1, 30)}, "received_date"),
    ],
)
def test_impossible_disputes_are_refused(changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"filed_on": date(2026, 2, 5), "channel": Channel.EMAIL}
    arguments.update(changes)
    with pytest.raises(InvalidInput) as info:
        assess("crm-voip", **arguments)  # type: ignore[arg-type]
    assert info.value.field == field


def test_unknown_reference_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        assess_dispute(
            terms_of("cpaas"),
            invoice_total=TOTAL,
            issue_date=ISSUED,
            received_date=None,
            filed_on=date(2026, 2, 5),
            channel="email",
            contested_amount=Decimal("10.00"),
            references_given={"invoice_number", "mood"},
            uncontested_part_paid=True,
            earlier_invoice_unpaid=False,
        )
    assert info.value.field == "references_given"


# --- overpayments [004 §9.4] --------------------------------------------------------------


def test_overpayment_above_twenty_percent_is_refunded_within_five_business_days() -> None:
    # SPEC: BIL-07 [004 §9.4] 200.01 > 20 % x 1 000.00; settled Thursday 7 May 2026:
    # 8 May and Ascension (14 May) are holidays -> 11, 12, 13, 15, 18 May
    result = overpayment_settlement(
        terms_of("telecom"), Decimal("1000.00"), Decimal("200.01"), settled_on=date(2026, 5, 7)
    )
    assert result.method is SettlementMethod.REFUND
    assert result.amount == Decimal("200.01")
    assert result.threshold == Decimal("200.00")
    assert result.refund_by == date(2026, 5, 18)
    assert "5 jours ouvrés" in result.explanation.fr


def test_overpayment_of_twenty_percent_or_less_is_credited_on_the_next_invoice() -> None:
    # SPEC: BIL-07 [004 §9.4] exactly 20 % is not "supérieure à vingt pour cent"
    result = overpayment_settlement(terms_of("telecom"), Decimal("1000.00"), Decimal("200.00"))
    assert result.method is SettlementMethod.CREDIT_NEXT_INVOICE
    assert result.refund_by is None
    assert result.refund_within is None


def test_overpayment_without_a_refund_rule_is_credited() -> None:
    # SPEC: BIL-07 the other offers have no refund threshold
    result = overpayment_settlement(terms_of("cpaas"), Decimal("1000.00"), Decimal("900.00"))
    assert result.method is SettlementMethod.CREDIT_NEXT_INVOICE
    assert result.threshold is None


def test_overpayment_inputs_are_checked() -> None:
    with pytest.raises(InvalidInput) as info:
        overpayment_settlement(terms_of("telecom"), Decimal("1000.00"), Decimal("0"))
    assert info.value.field == "overpaid"
