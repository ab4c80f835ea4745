"""The five built-in offer templates load and carry the defaults of their seed documents."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from operateur.catalog import service
from operateur.catalog.terms import (
    BillingTiming,
    Channel,
    CommitmentStart,
    ContractTerms,
    CountedFrom,
    DailyLegalMultiple,
    DayKind,
    Delay,
    DelayUnit,
    EarlyTermination,
    EcbOrLegalMultiple,
    EcbPlusPointsAfterTerm,
    EcbPlusPointsFromDueDate,
    EmergencyRouting,
    FlatPercentAfterDays,
    InvoiceDay,
    NonReturnBilling,
    PaymentMethod,
    PriceBasis,
    PriceKind,
    Service,
    SmsCharset,
    SuspensionCause,
    Weekday,
)
from operateur.errors import NotFound

OFFER_IDS = ["crm-voip", "centrex", "cpaas", "mail-security", "telecom"]
SEEDS = {
    "crm-voip": "000",
    "centrex": "001",
    "cpaas": "002",
    "mail-security": "003",
    "telecom": "004",
}


def months(value: int) -> Delay:
    return Delay(value=value, unit=DelayUnit.MONTHS)


def days(value: int, kind: DayKind = DayKind.CALENDAR) -> Delay:
    return Delay(value=value, unit=DelayUnit.DAYS, day_kind=kind)


def terms(offer_id: str) -> ContractTerms:
    return service.get_offer(offer_id).terms


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _walk(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _walk(item)]
    return [value]


# --- loading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("offer_id", OFFER_IDS)
def test_each_template_loads_from_its_file(offer_id: str) -> None:
    offer = service.get_offer(offer_id)
    assert offer.id == offer_id
    assert offer.seed == SEEDS[offer_id]
    assert offer.name.fr and offer.name.en and offer.description.fr and offer.description.en
    path = resources.files(service.OFFERS_PACKAGE).joinpath(f"{offer_id}.yaml")
    assert service.load_offer_file(path) == offer


def test_list_offers_gives_the_five_templates_in_seed_order() -> None:
    assert [offer.id for offer in service.list_offers()] == OFFER_IDS


def test_get_offer_is_cached_and_unknown_ids_are_not_found() -> None:
    assert service.get_offer("centrex") is service.get_offer("centrex")
    with pytest.raises(NotFound) as caught:
        service.get_offer("no-such-offer")
    assert caught.value.field == "offer_id"
    assert caught.value.render("fr") == "Offre inconnue : no-such-offer"
    assert caught.value.render("en") == "Unknown offer: no-such-offer"


def test_templates_are_not_parsed_at_import() -> None:
    code = (
        "import operateur.catalog, operateur.catalog.cli, operateur.catalog.service as s;"
        "print(s._builtin_offers.cache_info().currsize)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "0"


@pytest.mark.parametrize("offer_id", OFFER_IDS)
def test_money_is_never_a_float_and_terms_survive_a_json_round_trip(offer_id: str) -> None:
    offer = service.get_offer(offer_id)
    assert not any(isinstance(leaf, float) for leaf in _walk(offer.model_dump()))
    assert all(isinstance(item.unit_price, Decimal) for item in offer.prices)
    # contracts freeze the terms as JSON and read them back (CTR-01)
    assert ContractTerms.model_validate(offer.terms.model_dump(mode="json")) == offer.terms


def test_each_template_carries_the_groups_its_seed_speaks_of() -> None:
    crm, centrex, cpaas, mail, telecom = (terms(offer_id) for offer_id in OFFER_IDS)
    assert crm.voice and crm.penalties and crm.inactivity and crm.post_termination
    assert centrex.voice and centrex.equipment and crm.equipment is None
    assert cpaas.voice and cpaas.quality and cpaas.penalties and cpaas.sms and cpaas.inactivity
    assert cpaas.sla and cpaas.sla.incident and cpaas.equipment is None
    assert mail.mail and mail.sla and mail.sla.mail and mail.voice is None and mail.sms is None
    assert telecom.sms and telecom.equipment and telecom.inactivity and telecom.voice
    assert telecom.quality is None and telecom.mail is None


# --- CTR: contracts --------------------------------------------------------------------------


def test_commitment_start_of_each_seed() -> None:
    # SPEC: CTR-02
    assert terms("crm-voip").commitment.starts_at is CommitmentStart.ACTIVATION
    assert terms("centrex").commitment.starts_at is CommitmentStart.ACCEPTANCE
    assert terms("cpaas").commitment.starts_at is CommitmentStart.ANNEX_SIGNATURE
    assert terms("mail-security").commitment.starts_at is CommitmentStart.ACCEPTANCE
    telecom = terms("telecom").commitment
    assert telecom.starts_at is CommitmentStart.ACTIVATION
    assert telecom.signature_if_terminated_before_activation


def test_duration_renewal_and_notice_of_each_seed() -> None:
    # SPEC: CTR-03
    crm = terms("crm-voip").commitment
    assert (crm.initial_term_months, crm.renewal_months, crm.tacit_renewal) == (1, 1, True)
    assert crm.renewal_keeps_quantities
    centrex = terms("centrex").commitment
    assert (centrex.initial_term_months, centrex.renewal_months) == (36, 12)
    assert centrex.notice == months(3)
    cpaas = terms("cpaas").commitment
    assert (cpaas.initial_term_months, cpaas.renewal_months, cpaas.notice) == (12, 12, months(3))
    mail = terms("mail-security").commitment
    assert (mail.initial_term_months, mail.renewal_months) == (12, 12)
    assert mail.initial_term_choices_months == (12, 24, 36)
    assert mail.notice == days(15)
    telecom = terms("telecom").commitment
    assert (telecom.initial_term_months, telecom.renewal_months) == (36, 36)
    assert telecom.notice == months(3)


def test_licence_changes_and_free_extra_mailboxes() -> None:
    # SPEC: CTR-04
    assert terms("crm-voip").commitment.licence_change_cutoff_day == 20
    mail = terms("mail-security").commitment
    assert mail.free_extra_units_percent == Decimal("20")
    assert mail.recount_at_renewal


def test_early_termination_rule_of_each_seed() -> None:
    # SPEC: CTR-05
    assert terms("centrex").billing.early_termination is EarlyTermination.REMAINING_FEES
    assert terms("telecom").billing.early_termination is EarlyTermination.REMAINING_FEES
    assert (
        terms("cpaas").billing.early_termination
        is EarlyTermination.HIGHER_OF_SUBSCRIPTIONS_AND_MINIMUM
    )
    assert terms("cpaas").termination.convenience_notice == months(3)
    assert terms("mail-security").billing.early_termination is EarlyTermination.NO_REFUND


def test_suspension_cure_and_termination_delays() -> None:
    # SPEC: CTR-06
    crm = terms("crm-voip").suspension
    assert crm.notice_delay == days(2, DayKind.BUSINESS)
    assert SuspensionCause.FRAUD in crm.urgent_causes
    assert crm.terminate_if_uncured_after == days(15) and not crm.indemnity
    assert terms("centrex").suspension.terminate_if_uncured_after == days(7)
    assert terms("centrex").late_payment.suspend_after == days(15)
    cpaas = terms("cpaas").suspension
    assert not cpaas.formal_notice_required
    assert SuspensionCause.PREPAID_DEPLETED in cpaas.urgent_causes
    assert cpaas.maintenance_notice == days(7, DayKind.BUSINESS)
    assert terms("mail-security").late_payment.terminate_after == days(15)
    telecom = terms("telecom").suspension
    assert telecom.notice_delay == days(5, DayKind.BUSINESS)
    assert telecom.billing_continues and telecom.partial_allowed
    assert telecom.mutual_termination_after_total_suspension == months(1)
    assert telecom.mutual_termination_notice == months(1)
    assert terms("telecom").late_payment.restore_on_payment


def test_termination_for_breach() -> None:
    # SPEC: CTR-07
    crm = terms("crm-voip").termination
    assert crm.breach_notice == days(8) and crm.breach_termination_within == days(8)
    assert terms("cpaas").termination.breach_notice == months(1)
    assert terms("mail-security").termination.breach_notice == days(15)
    assert terms("telecom").termination.breach_notice == months(1)
    assert terms("telecom").termination.operator_specific_notice == days(5, DayKind.BUSINESS)


def test_inactivity() -> None:
    # SPEC: CTR-08
    crm = terms("crm-voip").inactivity
    assert crm is not None and crm.period == months(1) and crm.new_contract_required
    telecom = terms("telecom").inactivity
    assert telecom is not None and telecom.period == months(2)
    cpaas = terms("cpaas").inactivity
    assert cpaas is not None and cpaas.period == months(6)
    assert cpaas.prepaid_balance_forfeited and cpaas.customer_informed


def test_after_termination() -> None:
    # SPEC: CTR-09
    crm = terms("crm-voip").post_termination
    assert crm.admin_access_hours == 48
    assert crm.end_customer_data_deletion_days == 60
    assert crm.backups_deleted and crm.access_codes_revoked
    assert terms("mail-security").post_termination.access_codes_revoked


def test_equipment() -> None:
    # SPEC: CTR-10
    centrex = terms("centrex").equipment
    assert centrex is not None
    assert centrex.return_within == days(10)
    assert centrex.depreciation_percent_per_year == Decimal("20")
    assert centrex.inspection_days == 45
    assert centrex.non_return_billing is NonReturnBilling.FLAT_VALUE
    telecom = terms("telecom").equipment
    assert telecom is not None
    assert telecom.return_within == days(5)
    assert telecom.non_return_billing is NonReturnBilling.NEW_VALUE
    assert telecom.loss_or_theft_billed_at_new_value
    assert telecom.subscriptions_due_during_loss_suspension


def test_force_majeure_and_outage() -> None:
    # SPEC: CTR-11, CTR-14
    assert terms("cpaas").termination.force_majeure_notify_within == days(3)
    assert terms("cpaas").termination.force_majeure_termination_after == months(1)
    assert terms("telecom").termination.force_majeure_notify_within == months(1)
    assert terms("telecom").termination.force_majeure_termination_after == months(3)
    assert terms("centrex").termination.outage_termination_after_days == 30


# --- BIL: billing ----------------------------------------------------------------------------


def test_subscriptions_in_advance_usage_in_arrears_first_month_prorata() -> None:
    # SPEC: BIL-01, BIL-02
    for offer_id in ("crm-voip", "centrex", "cpaas", "telecom"):
        billing = terms(offer_id).billing
        assert billing.subscriptions_billed is BillingTiming.IN_ADVANCE
        assert billing.usage_billed is BillingTiming.IN_ARREARS
    assert terms("crm-voip").billing.first_period_prorata


def test_invoice_day() -> None:
    # SPEC: BIL-03
    assert terms("cpaas").billing.invoice_day is InvoiceDay.LAST_DAY_OF_MONTH
    mail = terms("mail-security").billing
    assert mail.invoice_day is InvoiceDay.LAST_DAY_OF_FIRST_MONTH_OF_PERIOD
    assert mail.subscription_period_months == 12
    assert mail.invoice_sent_within == days(3, DayKind.BUSINESS)
    assert terms("telecom").billing.setup_fees_due_at_order


@pytest.mark.parametrize(
    ("offer_id", "term_days", "counted_from", "day_kind"),
    [
        ("crm-voip", 7, CountedFrom.RECEIPT, DayKind.CALENDAR),
        ("centrex", 10, CountedFrom.ISSUE, DayKind.CALENDAR),
        ("cpaas", 30, CountedFrom.ISSUE, DayKind.CALENDAR),
        ("mail-security", 30, CountedFrom.RECEIPT, DayKind.CALENDAR),
        ("telecom", 10, CountedFrom.ISSUE, DayKind.BUSINESS),  # [004 §0] "jour" = business day
    ],
)
def test_payment_terms(
    offer_id: str, term_days: int, counted_from: CountedFrom, day_kind: DayKind
) -> None:
    # SPEC: BIL-04
    billing = terms(offer_id).billing
    assert billing.payment_term_days == term_days
    assert billing.payment_term_from is counted_from
    assert billing.payment_term_day_kind is day_kind


def test_payment_methods_and_fees() -> None:
    # SPEC: BIL-05
    assert set(terms("crm-voip").billing.payment_methods) == {
        PaymentMethod.CHEQUE,
        PaymentMethod.TRANSFER,
        PaymentMethod.CARD,
    }
    centrex = terms("centrex").billing
    assert centrex.default_payment_method is PaymentMethod.SEPA_DIRECT_DEBIT
    assert centrex.non_default_method_surcharge == Decimal("10.00")
    cpaas = terms("cpaas").billing
    assert set(cpaas.payment_methods) == {PaymentMethod.PREPAID, PaymentMethod.SEPA_DIRECT_DEBIT}
    assert cpaas.direct_debit_rejection_cost_passed_through
    telecom = terms("telecom").billing
    assert telecom.payment_methods == (PaymentMethod.SEPA_DIRECT_DEBIT,)
    assert telecom.direct_debit_rejection_fee == Decimal("40.00")
    assert telecom.method_change_penalty_percent == Decimal("10")


def test_late_payment_of_each_seed() -> None:
    # SPEC: BIL-06
    crm = terms("crm-voip").late_payment
    assert crm.interest == FlatPercentAfterDays(
        kind="flat_percent_after_days", percent=Decimal("10"), after_days=7
    )
    assert crm.accelerate_all_open_invoices
    centrex = terms("centrex").late_payment
    assert centrex.interest == EcbOrLegalMultiple(
        kind="max_ecb_plus_points_or_legal_multiple",
        points=Decimal("10"),
        legal_rate_multiple=Decimal("3"),
        base_includes_vat=True,
    )
    cpaas = terms("cpaas").late_payment
    assert cpaas.interest == EcbPlusPointsFromDueDate(
        kind="ecb_plus_points_from_due_date", points=Decimal("10")
    )
    assert cpaas.recovery_indemnity_per_invoice
    mail = terms("mail-security").late_payment
    assert mail.interest == EcbPlusPointsAfterTerm(
        kind="ecb_plus_points_after_term", points=Decimal("10")
    )
    telecom = terms("telecom").late_payment
    assert telecom.interest == DailyLegalMultiple(
        kind="daily_legal_rate_multiple", legal_rate_multiple=Decimal("10")
    )
    assert telecom.accelerate_all_open_invoices
    for offer_id in OFFER_IDS:
        assert terms(offer_id).late_payment.recovery_indemnity == Decimal("40.00")


def test_disputes() -> None:
    # SPEC: BIL-07
    crm = terms("crm-voip").disputes
    assert (crm.window, crm.window_from, crm.channels) == (
        days(7),
        CountedFrom.RECEIPT,
        (Channel.EMAIL,),
    )
    centrex = terms("centrex").disputes
    assert centrex.window == days(30) and centrex.channels == (Channel.REGISTERED_LETTER,)
    assert centrex.contested_part_suspended and centrex.penalties_run_if_rejected
    cpaas = terms("cpaas").disputes
    assert cpaas.window == days(60) and cpaas.window_from is CountedFrom.ISSUE
    assert len(cpaas.required_references) == 5 and cpaas.uncontested_part_must_be_paid
    telecom = terms("telecom").disputes
    assert telecom.window == months(3)
    assert telecom.uncontested_part_must_be_paid and telecom.no_earlier_unpaid_invoice
    assert telecom.min_contested_share_percent == Decimal("5")
    assert telecom.refund_threshold_percent == Decimal("20")
    assert telecom.refund_delay == days(5, DayKind.BUSINESS)


def test_minimum_commitment_early_invoicing_and_unlimited_abuse() -> None:
    # SPEC: BIL-08, BIL-13, BIL-15
    assert terms("cpaas").billing.minimum_monthly_commitment == Decimal("200.00")
    assert terms("crm-voip").billing.minimum_monthly_commitment is None
    assert terms("centrex").billing.early_invoicing_threshold is not None
    assert terms("telecom").billing.unlimited_abuse_fee_per_line == Decimal("200.00")


def test_rating_and_price_basis() -> None:
    # SPEC: BIL-09, BIL-11
    rating = terms("cpaas").billing.rating
    assert rating is not None
    assert rating.carrier_steps_passed_through and rating.third_party_surcharges_passed_through
    assert terms("centrex").billing.price_basis is PriceBasis.INCL_VAT
    for offer_id in ("crm-voip", "cpaas", "mail-security", "telecom"):
        assert terms(offer_id).billing.price_basis is PriceBasis.EXCL_VAT


def test_options_price_list() -> None:
    # SPEC: BIL-17
    offer = service.get_offer("cpaas")
    interconnect = offer.price("option.interconnect.setup")
    assert interconnect is not None and interconnect.unit_price == Decimal("1000.00")
    assert interconnect.kind is PriceKind.NRC
    caps = offer.price("option.caps.monthly")
    assert caps is not None and (caps.kind, caps.unit_price) == (PriceKind.MRC, Decimal("150"))
    hosting = offer.price("option.number_range.monthly")
    assert hosting is not None and hosting.unit_price == Decimal("400")
    centrex = service.get_offer("centrex")
    assert centrex.price("numbers.gold") is not None and centrex.price("numbers.alias")
    assert offer.price("no.such.code") is None


def test_refunds_and_credits() -> None:
    # SPEC: BIL-16, BIL-18
    assert terms("crm-voip").billing.no_refund_after_first_use
    assert terms("mail-security").billing.refund_request_window == months(1)
    assert terms("mail-security").billing.credits_on_next_invoice


# --- VOX: voice ------------------------------------------------------------------------------


def test_voice_limits() -> None:
    # SPEC: VOX-03, VOX-05, VOX-06, VOX-07
    assert terms("crm-voip").limits.max_call_seconds == 3600
    centrex = terms("centrex").limits
    assert centrex.concurrent_calls_per_line == 2
    assert centrex.distinct_numbers_per_line_per_period == 500
    assert centrex.long_call_minutes == 120
    cpaas = terms("cpaas").limits
    assert (cpaas.concurrent_calls_per_account, cpaas.calls_per_second) == (10, 1)
    assert cpaas.capacity_request_notice_days == 30
    assert cpaas.capacity_rise_notice_months == 3


def test_voice_rules() -> None:
    # SPEC: VOX-01, VOX-02, VOX-04, VOX-09, VOX-11
    crm = terms("crm-voip").voice
    assert crm is not None
    assert crm.emergency_calls is EmergencyRouting.REFUSE
    assert crm.allowed_countries is None and not crm.data_calls_and_fax
    assert crm.cli.outbound_only_numbers and crm.telemarketing.bloctel_scrub_required
    centrex = terms("centrex").voice
    assert centrex is not None
    assert centrex.emergency_calls is EmergencyRouting.ROUTE_FREE
    assert centrex.allowed_countries is not None and "FR" in centrex.allowed_countries
    assert not centrex.telemarketing.allowed
    assert not centrex.telemarketing.automatic_dialling_allowed
    cpaas = terms("cpaas").voice
    assert cpaas is not None
    assert cpaas.cli.assigned_numbers_only and cpaas.cli.no_mobile_cli_for_automated_calls
    assert cpaas.cli.filter_foreign_calls_with_french_cli


def test_traffic_quality() -> None:
    # SPEC: VOX-08
    quality = terms("cpaas").quality
    assert quality is not None
    assert quality.asr_min_percent == Decimal("60")
    assert quality.acd_min_seconds == 15
    assert quality.short_call_seconds == 8
    assert quality.short_call_max_percent == Decimal("10")
    assert quality.window_minutes == 60
    assert quality.asr_penalty_per_call == Decimal("0.02")


def test_penalties_and_payouts() -> None:
    # SPEC: VOX-16, VOX-09, BIL-14
    cpaas = terms("cpaas").penalties
    assert cpaas is not None
    assert cpaas.report_33700 == Decimal("200") and cpaas.consumer_complaint == Decimal("200")
    assert cpaas.regulator_breach == Decimal("10000") and cpaas.unauthorised_cli == Decimal("2000")
    assert cpaas.payouts_withheld_while_reported
    crm = terms("crm-voip").penalties
    assert crm is not None
    assert (crm.abnormal_reports_months, crm.abnormal_reports_notice_hours) == (2, 48)
    assert crm.set_off_against_payouts


# --- SMS, MAIL -------------------------------------------------------------------------------


def test_sms_rules() -> None:
    # SPEC: SMS-02, SMS-03, SMS-04, SMS-05, SMS-06, SMS-08
    sms = terms("telecom").sms
    assert sms is not None
    assert sms.charset is SmsCharset.GSM7_RESTRICTED and not sms.allow_unicode
    assert (sms.part_length, sms.concat_part_length) == (160, 153)
    assert (sms.ucs2_part_length, sms.ucs2_concat_part_length) == (70, 67)
    assert (sms.stop_mention_length, sms.max_length) == (10, 1224)
    window = sms.sending_window
    assert window is not None
    assert window.days == (
        Weekday.MON,
        Weekday.TUE,
        Weekday.WED,
        Weekday.THU,
        Weekday.FRI,
        Weekday.SAT,
    )
    assert (window.start, window.end) == (dt.time(8), dt.time(22))
    assert window.timezone == "Europe/Paris"
    assert sms.stop_unsubscribes_all_senders and sms.sender_request_billed_even_if_refused
    assert "COLISSIMO" in sms.sensitive_sender_names
    limits = terms("telecom").limits
    assert (limits.sms_monthly_stock, limits.sms_monthly_stock_max) == (1000, 100000)


def test_mail_rules_and_sla() -> None:
    # SPEC: MAIL-02, MAIL-06, MAIL-08, MAIL-09, MAIL-12
    mail_terms = terms("mail-security")
    assert mail_terms.limits.mail_messages_per_mailbox_per_day == 500
    assert mail_terms.limits.mail_recipients_per_message == 500
    assert mail_terms.mail is not None
    assert mail_terms.mail.rbl_listings_for_corrupted_host == 3
    assert mail_terms.mail.unreachable_server_purge_hours == 168
    assert mail_terms.mail.redundant_gateways == 2
    assert mail_terms.sla is not None and mail_terms.sla.mail is not None
    sla = mail_terms.sla.mail
    assert sla.false_positive_max_percent == Decimal("0.01")
    assert sla.false_negative_max_percent == Decimal("0.5")
    assert sla.virus_max_percent == Decimal("0.1")
    assert sla.availability_min_percent == Decimal("99.99")
    assert sla.measurement_days == 7
    assert sla.filtering_penalty_multiplier == Decimal("10")
    assert (sla.unavailability_penalty_percent, sla.unavailability_block_minutes) == (
        Decimal("10"),
        60,
    )
    assert sla.penalty_cap_percent == Decimal("50")


# --- SUP, SEC, PRIV --------------------------------------------------------------------------


def test_support_hours_incidents_and_fees() -> None:
    # SPEC: SUP-01, SUP-02, SUP-03
    cpaas = terms("cpaas")
    hours = cpaas.support.hours
    assert hours.days == (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
    assert (hours.start, hours.end, hours.timezone) == (dt.time(9), dt.time(17), "Europe/Paris")
    assert hours.exclude_public_holidays
    assert cpaas.support.wrong_ticket_fee == Decimal("100.00")
    assert cpaas.sla is not None and cpaas.sla.incident is not None
    assert cpaas.sla.incident.min_outage_minutes == 30
    assert cpaas.sla.incident.response == Delay(
        value=4, unit=DelayUnit.HOURS, day_kind=DayKind.BUSINESS
    )
    mail = terms("mail-security").support
    assert mail.monthly_request_quota_per_user == Decimal("0.2")
    assert mail.fee_beyond_quota == Decimal("40.00")


def test_single_session() -> None:
    # SPEC: SEC-01
    assert terms("centrex").security.single_session
    for offer_id in ("crm-voip", "cpaas", "mail-security", "telecom"):
        assert not terms(offer_id).security.single_session
    assert terms("mail-security").security.max_admin_accounts is None
    assert terms("crm-voip").security.breach_notification_hours == 72  # SPEC: SEC-03


def test_retention() -> None:
    # SPEC: PRIV-02
    assert terms("crm-voip").retention.recordings_months == 24
    assert terms("crm-voip").retention.end_customer_data_days == 60
    assert terms("cpaas").retention.traffic_data_months == 12
    mail = terms("mail-security").retention
    assert (mail.logs_days, mail.mail_days) == (365, 30)
    assert terms("centrex").retention.invoices_years == 5


def test_services_of_each_offer() -> None:
    assert service.get_offer("crm-voip").services[:2] == (Service.CRM, Service.VOICE_OUTBOUND)
    assert Service.SMS in service.get_offer("telecom").services
    assert set(service.get_offer("mail-security").services) == {Service.MAIL_IN, Service.MAIL_OUT}
