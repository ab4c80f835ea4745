"""Late-payment penalties under each seed offer's terms, hand-computed to the cent.

# SPEC: BIL-06

Reference rates used below (operateur/billing/data): ECB MRO 3.15 % in force on 1 January 2025,
2.15 % on 1 July 2025 and 1 January 2026, 4.50 % on 1 January 2024; legal rate (professional
creditors) 5.07 % (2024-S1), 3.71 % (2025-S1), 2.76 % (2025-S2), 2.62 % (2026-S1).
Interest = base x annual rate x days / 365, rounded to the cent (half-up) at the end.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from operateur.billing.penalties import (
    DAY_COUNT_BASIS,
    HeldAmount,
    OpenInvoice,
    Penalty,
    PenaltyBasis,
    accelerated_due_date,
    accelerated_invoices,
    acceleration_day,
    late_payment_penalty,
    payment_due_date,
    recovery_indemnities,
)
from operateur.catalog.service import get_offer
from operateur.catalog.terms import EcbOrLegalMultiple, LatePaymentTerms
from operateur.errors import InvalidInput

TTC = Decimal("1200.00")
HT = Decimal("1000.00")
ISSUED = date(2025, 12, 31)
DUE = date(2026, 1, 10)
PAID_ON = date(2026, 3, 1)  # 50 days late: 21 days of January, 28 of February, 1 of March


def terms_of(offer_id: str) -> LatePaymentTerms:
    return get_offer(offer_id).terms.late_payment


def penalty_paid_in_full(offer_id: str, due: date = DUE, paid_on: date = PAID_ON) -> Penalty:
    return late_payment_penalty(
        terms_of(offer_id),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=ISSUED,
        due_date=due,
        received_date=None,
        as_of=date(2026, 3, 31),
        paid=[(paid_on, TTC)],
    )


# --- one test per seed offer: 1 200 € TTC due 2026-01-10, paid 2026-03-01 ------------------


def test_crm_voip_flat_ten_percent_beyond_seven_days() -> None:
    # SPEC: BIL-06 [000 §6] 50 days > 7: 10 % x 1 200.00 = 120.00; + 40.00 indemnity = 160.00
    penalty = penalty_paid_in_full("crm-voip")
    assert penalty.kind == "flat_percent_after_days"
    assert penalty.days_late == 50
    assert penalty.flat_percent == Decimal("10")
    assert penalty.periods == ()
    assert penalty.interest == Decimal("120.00")
    assert penalty.indemnity == Decimal("40.00")
    assert penalty.total == Decimal("160.00")


def test_centrex_max_of_ecb_plus_ten_and_three_legal_rates_on_ttc() -> None:
    # SPEC: BIL-06 [001 §10.4] 2026-S1: max(2.15 + 10 = 12.15, 3 x 2.62 = 7.86) = 12.15 %
    # 1 200.00 x 12.15 % x 50 / 365 = 7 290 / 365 = 19.9726... -> 19.97; + 40.00 = 59.97
    penalty = penalty_paid_in_full("centrex")
    assert penalty.basis is PenaltyBasis.INCL_VAT
    assert [(p.start, p.end, p.days) for p in penalty.periods] == [
        (date(2026, 1, 11), date(2026, 3, 1), 50)
    ]
    period = penalty.periods[0]
    assert (period.ecb_rate, period.legal_rate) == (Decimal("2.15"), Decimal("2.62"))
    assert period.annual_rate == Decimal("12.15")
    assert penalty.interest == Decimal("19.97")
    assert penalty.total == Decimal("59.97")


def test_cpaas_ecb_plus_ten_points_from_the_due_date() -> None:
    # SPEC: BIL-06 [002 §12.5.1] 12.15 %: 1 200.00 x 12.15 % x 50 / 365 = 19.97; + 40 = 59.97
    penalty = penalty_paid_in_full("cpaas")
    assert penalty.kind == "ecb_plus_points_from_due_date"
    assert penalty.days_counted == 50
    assert penalty.periods[0].annual_rate == Decimal("12.15")
    assert penalty.periods[0].legal_rate is None
    assert penalty.interest == Decimal("19.97")
    assert penalty.total == Decimal("59.97")


def test_mail_security_ecb_plus_ten_points_after_the_term() -> None:
    # SPEC: BIL-06 [003 §6.3] same example: 12.15 % x 50 days -> 19.97; + 40 = 59.97
    penalty = penalty_paid_in_full("mail-security")
    assert penalty.kind == "ecb_plus_points_after_term"
    assert penalty.interest == Decimal("19.97")
    assert penalty.total == Decimal("59.97")


def test_mail_security_term_runs_from_receipt_then_interest_from_the_next_day() -> None:
    # SPEC: BIL-06 [003 §6.3] + BIL-04 [003 §6.2]: received 2026-01-05, due 30 days later,
    # 2026-02-04; interest from 2026-02-05 to 2026-03-01 = 25 days:
    # 1 200.00 x 12.15 % x 25 / 365 = 3 645 / 365 = 9.9863... -> 9.99; + 40.00 = 49.99
    offer = get_offer("mail-security")
    due = payment_due_date(offer.terms.billing, issue_date=ISSUED, received_date=date(2026, 1, 5))
    assert due == date(2026, 2, 4)
    penalty = penalty_paid_in_full("mail-security", due=due)
    assert penalty.periods[0].start == date(2026, 2, 5)
    assert penalty.days_counted == 25
    assert penalty.interest == Decimal("9.99")
    assert penalty.total == Decimal("49.99")


def test_telecom_daily_interest_at_ten_times_the_legal_rate() -> None:
    # SPEC: BIL-06 [004 §9.3] 10 x 2.62 = 26.20 %: 1 200.00 x 26.2 % x 50 / 365
    # = 15 720 / 365 = 43.0684... -> 43.07; + 40.00 = 83.07
    penalty = penalty_paid_in_full("telecom")
    assert penalty.periods[0].annual_rate == Decimal("26.20")
    assert penalty.interest == Decimal("43.07")
    assert penalty.total == Decimal("83.07")


def test_explanation_says_how_the_interest_is_computed() -> None:
    # SPEC: BIL-06
    penalty = penalty_paid_in_full("centrex")
    assert penalty.day_count_basis == DAY_COUNT_BASIS == 365
    assert "× 50 / 365" in penalty.explanation.fr
    assert "19,97 €" in penalty.explanation.fr
    assert "€59.97" in penalty.explanation.en
    assert "3 × legal rate 2.62% = 7.86%" in penalty.explanation.en


# --- half-year boundaries, legal floor, basis -----------------------------------------------


def test_semester_boundary_splits_the_interest_and_rounds_once_at_the_end() -> None:
    # SPEC: BIL-06 [001 §10.4] due 2025-06-20, unpaid on 2025-07-10: 20 days late.
    # 2025-S1 (21-30 June, 10 days): max(3.15 + 10 = 13.15, 3 x 3.71 = 11.13) = 13.15 %
    #   1 200.00 x 13.15 % x 10 / 365 = 1 578 / 365 = 4.323287...
    # 2025-S2 (1-10 July, 10 days): max(2.15 + 10 = 12.15, 3 x 2.76 = 8.28) = 12.15 %
    #   1 200.00 x 12.15 % x 10 / 365 = 1 458 / 365 = 3.994520...
    # sum 8.317808... -> 8.32 (rounding each period first would give 4.32 + 3.99 = 8.31)
    penalty = late_payment_penalty(
        terms_of("centrex"),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=date(2025, 6, 10),
        due_date=date(2025, 6, 20),
        received_date=date(2025, 6, 11),
        as_of=date(2025, 7, 10),
    )
    assert [(p.start, p.end, p.days, p.annual_rate) for p in penalty.periods] == [
        (date(2025, 6, 21), date(2025, 6, 30), 10, Decimal("13.15")),
        (date(2025, 7, 1), date(2025, 7, 10), 10, Decimal("12.15")),
    ]
    assert penalty.periods[0].amount == Decimal(1578) / Decimal(365)
    assert penalty.interest == Decimal("8.32")
    assert penalty.total == Decimal("48.32")


def test_semester_boundary_for_the_legal_rate_multiple() -> None:
    # SPEC: BIL-06 [004 §9.3] same dates: 10 x 3.71 = 37.1 % then 10 x 2.76 = 27.6 %
    # 1 200 x 37.1 % x 10 / 365 = 12.197260...; 1 200 x 27.6 % x 10 / 365 = 9.073972...
    # sum 21.271232... -> 21.27
    penalty = late_payment_penalty(
        terms_of("telecom"),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=date(2025, 6, 10),
        due_date=date(2025, 6, 20),
        received_date=None,
        as_of=date(2025, 7, 10),
    )
    assert [p.annual_rate for p in penalty.periods] == [Decimal("37.10"), Decimal("27.60")]
    assert penalty.interest == Decimal("21.27")


def test_three_times_the_legal_rate_wins_when_higher() -> None:
    # SPEC: BIL-06 [001 §10.4] 2024-S1: max(4.50 + 10 = 14.50, 3 x 5.07 = 15.21) = 15.21 %
    # due 2024-03-01, unpaid on 2024-03-31: 30 days; 1 200 x 15.21 % x 30 / 365
    # = 5 475.6 / 365 = 15.0016... -> 15.00; + 40.00 = 55.00
    penalty = late_payment_penalty(
        terms_of("centrex"),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=date(2024, 2, 20),
        due_date=date(2024, 3, 1),
        received_date=None,
        as_of=date(2024, 3, 31),
    )
    assert penalty.periods[0].annual_rate == Decimal("15.21")
    assert penalty.interest == Decimal("15.00")
    assert penalty.total == Decimal("55.00")


def test_interest_on_the_amount_excluding_vat_when_the_terms_say_so() -> None:
    # SPEC: BIL-06 base_includes_vat false: 1 000.00 HT x 12.15 % x 50 / 365
    # = 6 075 / 365 = 16.6438... -> 16.64
    centrex = terms_of("centrex")
    assert isinstance(centrex.interest, EcbOrLegalMultiple)
    terms = centrex.model_copy(
        update={"interest": centrex.interest.model_copy(update={"base_includes_vat": False})}
    )
    penalty = late_payment_penalty(
        terms,
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=ISSUED,
        due_date=DUE,
        received_date=None,
        as_of=PAID_ON,
        paid=[(PAID_ON, TTC)],
    )
    assert penalty.basis is PenaltyBasis.EXCL_VAT
    assert penalty.base == Decimal("1000.00")
    assert penalty.interest == Decimal("16.64")


# --- partial payments -----------------------------------------------------------------------


def test_partial_payment_reduces_the_base_from_the_next_day() -> None:
    # SPEC: BIL-06 [002 §12.5.1] 600.00 paid 2026-01-31, 600.00 on 2026-03-01, at 12.15 %:
    # 11-31 Jan: 21 days on 1 200.00 -> 1 200 x 0.1215 x 21 = 3 061.8
    # 1 Feb-1 Mar: 29 days on 600.00 -> 600 x 0.1215 x 29 = 2 114.1
    # (3 061.8 + 2 114.1) / 365 = 14.1805... -> 14.18; + 40.00 = 54.18
    penalty = late_payment_penalty(
        terms_of("cpaas"),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=ISSUED,
        due_date=DUE,
        received_date=None,
        as_of=date(2026, 3, 31),
        paid=[(date(2026, 3, 1), Decimal("600.00")), (date(2026, 1, 31), Decimal("600.00"))],
    )
    assert [(p.start, p.end, p.days, p.base) for p in penalty.periods] == [
        (date(2026, 1, 11), date(2026, 1, 31), 21, Decimal("1200.00")),
        (date(2026, 2, 1), date(2026, 3, 1), 29, Decimal("600.00")),
    ]
    assert penalty.days_late == 50
    assert penalty.interest == Decimal("14.18")
    assert penalty.total == Decimal("54.18")


def test_payment_before_the_due_date_lowers_the_whole_base() -> None:
    # SPEC: BIL-06 200.00 paid on time, 1 000.00 on 2026-03-01:
    # 1 000.00 x 12.15 % x 50 / 365 = 6 075 / 365 = 16.6438... -> 16.64
    penalty = late_payment_penalty(
        terms_of("cpaas"),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=ISSUED,
        due_date=DUE,
        received_date=None,
        as_of=date(2026, 3, 31),
        paid=[(date(2026, 1, 5), Decimal("200.00")), (PAID_ON, Decimal("1000.00"))],
    )
    assert penalty.base == Decimal("1000.00")
    assert penalty.interest == Decimal("16.64")


def test_flat_penalty_applies_to_the_sum_still_due_when_the_threshold_passes() -> None:
    # SPEC: BIL-06 [000 §6] 700.00 paid 2026-01-15 (5 days late), 500.00 on 2026-03-01;
    # on 2026-01-18 (8th day late) 500.00 is still due: 10 % x 500.00 = 50.00; + 40 = 90.00
    penalty = late_payment_penalty(
        terms_of("crm-voip"),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=ISSUED,
        due_date=DUE,
        received_date=date(2026, 1, 3),
        as_of=date(2026, 3, 31),
        paid=[(date(2026, 1, 15), Decimal("700.00")), (PAID_ON, Decimal("500.00"))],
    )
    assert penalty.base == Decimal("500.00")
    assert penalty.interest == Decimal("50.00")
    assert penalty.total == Decimal("90.00")


@pytest.mark.parametrize(
    ("paid_on", "flat", "total"),
    [
        (date(2026, 1, 17), "0.00", "40.00"),  # 7 days late: not beyond 7 days, indemnity only
        (date(2026, 1, 18), "120.00", "160.00"),  # 8 days late: 10 % of 1 200.00
    ],
)
def test_flat_penalty_only_beyond_the_threshold(paid_on: date, flat: str, total: str) -> None:
    # SPEC: BIL-06 [000 §6] "dépassant les 7 jours"; the indemnity is due from the first day
    penalty = penalty_paid_in_full("crm-voip", paid_on=paid_on)
    assert penalty.late
    assert penalty.interest == Decimal(flat)
    assert penalty.total == Decimal(total)


def test_payment_on_the_due_date_is_not_late() -> None:
    # SPEC: BIL-06
    penalty = penalty_paid_in_full("telecom", paid_on=DUE)
    assert not penalty.late
    assert penalty.total == Decimal("0.00")
    assert penalty.indemnity == Decimal("0.00")
    assert "rien n'est dû" in penalty.explanation.fr


def test_unpaid_invoice_runs_to_as_of_and_later_payments_are_ignored() -> None:
    # SPEC: BIL-06 [004 §9.3] unpaid on 2026-02-09: 30 days at 26.2 %:
    # 1 200 x 0.262 x 30 / 365 = 9 432 / 365 = 25.8410... -> 25.84; + 40.00 = 65.84
    penalty = late_payment_penalty(
        terms_of("telecom"),
        invoice_total_incl_vat=TTC,
        invoice_total_excl_vat=HT,
        issue_date=ISSUED,
        due_date=DUE,
        received_date=None,
        as_of=date(2026, 2, 9),
        paid=[(PAID_ON, TTC)],
    )
    assert penalty.days_late == 30
    assert penalty.interest == Decimal("25.84")
    assert penalty.total == Decimal("65.84")


def test_recovery_indemnity_is_per_late_invoice() -> None:
    # SPEC: BIL-06 [002 §12.5.1] 40 € per unpaid invoice: 3 invoices -> 120.00
    assert recovery_indemnities(terms_of("cpaas"), 3) == Decimal("120.00")
    assert recovery_indemnities(terms_of("cpaas"), 0) == Decimal("0.00")
    once = terms_of("cpaas").model_copy(update={"recovery_indemnity_per_invoice": False})
    assert recovery_indemnities(once, 3) == Decimal("40.00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"invoice_total_excl_vat": Decimal("1300.00")}, "invoice_total_excl_vat"),
        ({"invoice_total_incl_vat": Decimal("-1")}, "invoice_total_incl_vat"),
        ({"invoice_total_incl_vat": 1200.0}, "invoice_total_incl_vat"),
        ({"due_date": date(2025, 12, 1)}, "due_date"),
        ({"received_date": date(2025, 12, 1)}, "received_date"),
        ({"paid": [(PAID_ON, Decimal("0"))]}, "paid.0.amount"),
        ({"paid": [(PAID_ON, Decimal("-5"))]}, "paid.0.amount"),
    ],
)
def test_impossible_inputs_are_refused(changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "invoice_total_incl_vat": TTC,
        "invoice_total_excl_vat": HT,
        "issue_date": ISSUED,
        "due_date": DUE,
        "received_date": None,
        "as_of": PAID_ON,
        "paid": [],
    }
    arguments.update(changes)
    with pytest.raises(InvalidInput) as info:
        late_payment_penalty(terms_of("cpaas"), **arguments)  # type: ignore[arg-type]
    assert info.value.field == field


# --- due dates ------------------------------------------------------------------------------


def test_payment_due_date_follows_the_billing_terms() -> None:
    # SPEC: BIL-04 the due date the penalty starts from
    telecom = get_offer("telecom").terms.billing  # 10 business days from issue
    # from Thursday 30 April 2026: 1 May, 8 May and Ascension (14 May) are holidays
    assert payment_due_date(telecom, issue_date=date(2026, 4, 30), received_date=None) == date(
        2026, 5, 19
    )
    centrex = get_offer("centrex").terms.billing  # 10 calendar days from issue
    assert payment_due_date(centrex, issue_date=ISSUED, received_date=None) == DUE
    crm = get_offer("crm-voip").terms.billing  # 7 days from receipt
    assert payment_due_date(crm, issue_date=ISSUED, received_date=date(2026, 1, 2)) == date(
        2026, 1, 9
    )
    with pytest.raises(InvalidInput) as info:
        payment_due_date(crm, issue_date=ISSUED, received_date=None)
    assert info.value.field == "received_date"


# --- acceleration ---------------------------------------------------------------------------

AS_OF = date(2026, 1, 20)
LATE = OpenInvoice("F-1", date(2026, 1, 10), Decimal("100.00"))
DUE_TODAY = OpenInvoice("F-2", AS_OF, Decimal("30.00"))
NOT_YET_DUE = OpenInvoice("F-3", date(2026, 1, 25), Decimal("50.00"))
LATER = OpenInvoice("F-4", date(2026, 2, 10), Decimal("80.00"))
SETTLED = OpenInvoice("F-5", date(2026, 2, 10), Decimal("0.00"))
ALL = [LATE, DUE_TODAY, NOT_YET_DUE, LATER, SETTLED]


@pytest.mark.parametrize("offer_id", ["crm-voip", "telecom"])
def test_one_late_invoice_makes_every_open_invoice_due(offer_id: str) -> None:
    # SPEC: BIL-06 [000 §6; 004 §9.3, §9.5] the invoices not yet due become due at once
    assert accelerated_invoices(terms_of(offer_id), ALL, AS_OF) == (NOT_YET_DUE, LATER)


def test_no_acceleration_without_the_clause_or_without_a_late_invoice() -> None:
    # SPEC: BIL-06
    assert accelerated_invoices(terms_of("centrex"), ALL, AS_OF) == ()
    assert accelerated_invoices(terms_of("telecom"), [DUE_TODAY, NOT_YET_DUE], AS_OF) == ()
    paid_late = OpenInvoice("F-6", date(2026, 1, 10), Decimal("0.00"))
    assert accelerated_invoices(terms_of("telecom"), [paid_late, LATER], AS_OF) == ()


def test_the_day_every_open_invoice_became_due() -> None:
    # SPEC: BIL-06 [004 §9.5] due at once from the first late day of the earliest late invoice
    telecom = terms_of("telecom")
    assert acceleration_day(telecom, ALL, AS_OF) == date(2026, 1, 11)
    assert acceleration_day(terms_of("centrex"), ALL, AS_OF) is None
    issued_before = OpenInvoice("F-7", date(2026, 2, 10), Decimal("80.00"), date(2026, 1, 5))
    issued_after = OpenInvoice("F-8", date(2026, 2, 10), Decimal("80.00"), date(2026, 1, 15))
    invoices = [*ALL, issued_before, issued_after]
    # issued before the default: due on 11 January; issued during it: due on its issue date
    assert accelerated_due_date(telecom, issued_before, invoices, AS_OF) == date(2026, 1, 11)
    assert accelerated_due_date(telecom, issued_after, invoices, AS_OF) == date(2026, 1, 15)
    # the late invoice itself keeps its due date; without the clause nothing moves
    assert accelerated_due_date(telecom, LATE, invoices, AS_OF) == date(2026, 1, 10)
    assert accelerated_due_date(terms_of("centrex"), issued_before, invoices, AS_OF) == date(
        2026, 2, 10
    )


# --- held amounts (BIL-07) ------------------------------------------------------------------


def test_no_interest_on_an_amount_held_by_a_dispute_for_the_held_days() -> None:
    # SPEC: BIL-07 [001 §11.3] when penalties do not run for the held period
    def penalty(held: list[HeldAmount]) -> Penalty:
        return late_payment_penalty(
            terms_of("cpaas"),
            invoice_total_incl_vat=Decimal("420.00"),
            invoice_total_excl_vat=Decimal("350.00"),
            issue_date=date(2026, 1, 31),
            due_date=date(2026, 3, 2),
            received_date=None,
            as_of=date(2026, 5, 1),
            paid=[(date(2026, 2, 9), Decimal("300.00"))],
            held=held,
        )

    # 120.00 late 3 March - 1 May, 60 days at ECB 2.15 % + 10 = 12.15 %: 2.3967 -> 2.40
    assert penalty([]).interest == Decimal("2.40")
    # held 10 February - 1 April: late 2 April - 1 May, 30 days: 1.1984 -> 1.20
    held = penalty([HeldAmount(date(2026, 2, 10), date(2026, 4, 1), Decimal("120.00"))])
    assert (held.interest, held.indemnity, held.days_counted) == (
        Decimal("1.20"),
        Decimal("40.00"),
        30,
    )


def test_a_flat_penalty_counts_a_held_amount_once_its_own_delay_passes_the_threshold() -> None:
    # SPEC: BIL-07, BIL-06 [000 §6] 10 % beyond 7 days late, held days not counted
    def penalty(as_of: date, held: list[HeldAmount]) -> Penalty:
        return late_payment_penalty(
            terms_of("crm-voip"),
            invoice_total_incl_vat=Decimal("100.00"),
            invoice_total_excl_vat=Decimal("100.00") * HT / TTC,
            issue_date=ISSUED,
            due_date=DUE,
            received_date=None,
            as_of=as_of,
            held=held,
        )

    hold = [HeldAmount(date(2026, 1, 5), date(2026, 1, 20), Decimal("100.00"))]
    assert penalty(date(2026, 1, 25), []).interest == Decimal("10.00")
    # held until 20 January: late from 21 January, more than 7 days late from 28 January
    assert (penalty(date(2026, 1, 25), hold).interest, penalty(date(2026, 1, 25), hold).late) == (
        Decimal("0.00"),
        True,
    )
    assert penalty(date(2026, 1, 27), hold).interest == Decimal("0.00")
    assert penalty(date(2026, 1, 28), hold).interest == Decimal("10.00")
