"""Contract terms as data: an offer template and the ``ContractTerms`` it carries.

Every number or choice that an engine enforces is a field here; its value lives in an offer
template (``operateur/catalog/offers/*.yaml``) and is frozen into a contract at signature
(CTR-01), never written as a constant in an engine. Each field cites the SPEC rule it carries.

Conventions:
- amounts are ``Decimal`` in euros excluding VAT (HT) unless the field says otherwise; YAML gives
  them as strings (``"12.50"``) and a float is refused;
- percentages are ``Decimal`` from 0 to 100 (``"0.01"`` means 0.01 %);
- a delay is a ``Delay`` (value, unit, calendar or business days);
- ``None`` means "this clause does not apply to the offer" (no limit, no fee, no group).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from operateur.domain.calendar import (  # business = French "jours ouvrés"
    DayKind,
    add_days,
    add_months,
)

# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------


def refuse(field: str, en: str, fr: str) -> PydanticCustomError:
    """A validation error naming ``field`` (relative to the model being checked), in both languages.

    ``operateur.catalog.service`` appends ``field`` to the error's location and uses ``fr``/``en``
    as the reason of the ``InvalidInput`` it raises.
    """
    return PydanticCustomError("contract_rule", "{en}", {"field": field, "en": en, "fr": fr})


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise PydanticCustomError(
            "float_refused",
            "{en}",
            {
                "en": 'write this number as a string such as "12.50", never as a float',
                "fr": 'écrire ce nombre comme une chaîne, par exemple "12.50", jamais en flottant',
            },
        )
    return value


def _time_text(value: Any) -> Any:
    if not isinstance(value, (str, dt.time)):
        raise PydanticCustomError(
            "time_text",
            "{en}",
            {
                "en": 'write a time as a quoted string such as "08:00"',
                "fr": 'écrire une heure comme une chaîne entre guillemets, par exemple "08:00"',
            },
        )
    return value


Money = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, decimal_places=4)]
Percent = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=100, decimal_places=4)]
Ratio = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=1, decimal_places=4)]
Factor = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, le=1000, decimal_places=4)]
Points = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=100, decimal_places=4)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]
PosInt = Annotated[int, Field(ge=1, strict=True)]
ClockTime = Annotated[dt.time, BeforeValidator(_time_text)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2
DayOfMonth = Annotated[int, Field(ge=1, le=28, strict=True)]  # a day that every month has


class TermsModel(BaseModel):
    """Base of every terms model: unknown keys refused, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(values: tuple[Any, ...]) -> bool:
    return len(set(values)) == len(values)


# --------------------------------------------------------------------------------------------
# Shared values
# --------------------------------------------------------------------------------------------


class LocalizedText(TermsModel):
    """A user-facing text in French (the default) and English."""

    fr: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


class DelayUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    MONTHS = "months"


class Delay(TermsModel):
    """A contractual delay: ``{value: 2, unit: days, day_kind: business}``."""

    value: NonNegInt
    unit: DelayUnit
    day_kind: DayKind = DayKind.CALENDAR  # business hours/days skip weekends and holidays

    def after(self, start: dt.date) -> dt.date:
        """``start`` moved forward by this delay: calendar or business days (the day of the
        event not counted), calendar months (clamped to the month's end), or hours counted as
        whole days, rounded up."""
        return self._shift(start, 1)

    def before(self, day: dt.date) -> dt.date:
        """``day`` moved back by this delay (e.g. the last day to give notice before a term)."""
        return self._shift(day, -1)

    def _shift(self, day: dt.date, sign: int) -> dt.date:
        if self.unit is DelayUnit.MONTHS:
            return add_months(day, sign * self.value)
        days = -(-self.value // 24) if self.unit is DelayUnit.HOURS else self.value
        return add_days(day, sign * days, self.day_kind)

    @model_validator(mode="after")
    def _months_are_calendar(self) -> Self:
        if self.unit is DelayUnit.MONTHS and self.day_kind is DayKind.BUSINESS:
            raise refuse(
                "day_kind",
                "a delay in months is counted in calendar months",
                "un délai en mois se compte en mois calendaires",
            )
        return self


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class WeeklyWindow(TermsModel):
    """Opening hours on some weekdays, in one time zone (support hours, SMS sending window)."""

    days: Annotated[tuple[Weekday, ...], Field(min_length=1)]
    start: ClockTime
    end: ClockTime
    timezone: str
    exclude_public_holidays: bool  # French public holidays (the `holidays` package)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _unique(self.days):
            raise refuse("days", "a weekday is listed twice", "un jour de la semaine est en double")
        if self.end <= self.start:
            raise refuse(
                "end", "the window ends before it starts", "la plage finit avant de commencer"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise refuse(
                "timezone",
                f"unknown time zone {self.timezone!r}",
                f"fuseau horaire inconnu {self.timezone!r}",
            ) from None
        return self


class Channel(StrEnum):
    EMAIL = "email"
    REGISTERED_LETTER = "registered_letter"
    LETTER = "letter"
    PORTAL = "portal"
    PHONE = "phone"


class CountedFrom(StrEnum):
    ISSUE = "issue"  # the invoice date
    RECEIPT = "receipt"  # the day the customer received the invoice


# --------------------------------------------------------------------------------------------
# Offer: services and price list
# --------------------------------------------------------------------------------------------


class Service(StrEnum):
    CRM = "crm"  # VOX-18 outbound calling CRM
    VOICE_OUTBOUND = "voice_outbound"  # VOX-01 outbound VoIP
    CENTREX = "centrex"  # VOX-05, VOX-11 hosted business telephony
    CPAAS_VOICE = "cpaas_voice"  # VOX-07, VOX-08 voice API platform
    SPECIAL_NUMBERS = "special_numbers"  # VOX-14, VOX-16 value-added numbers
    FIXED = "fixed"  # fixed lines [004]
    MOBILE = "mobile"  # mobile lines and SIM cards [004]
    INTERNET = "internet"  # internet access [004]
    SMS = "sms"  # SMS-01 single and bulk SMS
    MAIL_IN = "mail_in"  # MAIL-01 inbound filtering gateway
    MAIL_OUT = "mail_out"  # MAIL-01 outbound filtering gateway


VOICE_SERVICES = frozenset(
    {Service.VOICE_OUTBOUND, Service.CENTREX, Service.CPAAS_VOICE, Service.FIXED, Service.MOBILE}
)


class PriceKind(StrEnum):
    NRC = "nrc"  # BIL-17 one-off (set-up) charge
    MRC = "mrc"  # BIL-17 monthly recurring charge
    PER_UNIT = "per_unit"  # metered usage: minute, SMS segment, request...


class Allowance(TermsModel):
    """Calls included in a subscription, per unit subscribed and per month (BIL-15, BIL-09):
    ``minutes`` included, or ``None`` for an "unlimited" plan within fair use. Only calls to
    the listed destinations (E.164 digit prefixes of the rate deck) are covered."""

    minutes: NonNegInt | None
    prefixes: Annotated[
        tuple[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,14}$")], ...], Field(min_length=1)
    ]


class PriceItem(TermsModel):
    """One line of the offer's price list (BIL-17)."""

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
    label: LocalizedText
    kind: PriceKind
    unit: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]  # line, minute...
    unit_price: Money  # in the offer's price basis (BIL-11)
    allowance: Allowance | None = None  # calls included in a recurring subscription

    @model_validator(mode="after")
    def _allowance_is_monthly(self) -> Self:
        if self.allowance is not None and self.kind is not PriceKind.MRC:
            raise refuse(
                "allowance",
                "included calls belong to a monthly subscription (kind mrc)",
                "des appels inclus appartiennent à un abonnement mensuel (kind mrc)",
            )
        return self


# --------------------------------------------------------------------------------------------
# CTR-02/03/04 commitment
# --------------------------------------------------------------------------------------------


class CommitmentStart(StrEnum):
    ACTIVATION = "activation"  # CTR-02 [000 §5; 004 §3] activation or installation
    ACCEPTANCE = "acceptance"  # CTR-02 [001 §10; 003 §3.3] acceptance (or first request)
    ANNEX_SIGNATURE = "annex_signature"  # CTR-02 [002 §8.1]
    SIGNATURE = "signature"  # CTR-02 signature of the contract


class CommitmentTerms(TermsModel):
    starts_at: CommitmentStart  # CTR-02
    signature_if_terminated_before_activation: bool  # CTR-02 [004 §3]
    initial_term_months: PosInt | None  # CTR-03; None: no fixed term
    initial_term_choices_months: tuple[PosInt, ...] = ()  # CTR-03 [003 §3.3] 12/24/36
    tacit_renewal: bool  # CTR-03
    renewal_term_months: PosInt | None = None  # CTR-03; None with tacit renewal: same as initial
    notice: Delay | None  # CTR-03 notice before the term to stop the renewal
    renewal_keeps_quantities: bool  # CTR-03 [000 §5] same duration and licence count carry over
    licence_change_cutoff_day: DayOfMonth | None = None  # CTR-04 [000 §5] before the 20th
    free_extra_units_percent: Percent | None = None  # CTR-04 [003 §3.1] +20 % mailboxes free
    recount_at_renewal: bool = False  # CTR-04 [003 §3.1] recount and rebill at renewal

    @model_validator(mode="after")
    def _check(self) -> Self:
        choices = self.initial_term_choices_months
        if not _unique(choices):
            raise refuse(
                "initial_term_choices_months",
                "a term is listed twice",
                "une durée est en double",
            )
        if self.initial_term_months is None:
            if self.tacit_renewal or self.renewal_term_months is not None:
                raise refuse(
                    "initial_term_months",
                    "a contract cannot renew without an initial term",
                    "un contrat ne peut pas être reconduit sans durée initiale",
                )
            if choices:
                raise refuse(
                    "initial_term_months",
                    "term choices are given but no initial term",
                    "des durées au choix sont données mais pas de durée initiale",
                )
        elif choices and self.initial_term_months not in choices:
            raise refuse(
                "initial_term_months",
                f"the initial term {self.initial_term_months} is not among the choices {choices}",
                f"la durée initiale {self.initial_term_months} n'est pas parmi les choix {choices}",
            )
        if self.renewal_term_months is not None and not self.tacit_renewal:
            raise refuse(
                "renewal_term_months",
                "a renewal term is given but the contract does not renew",
                "une durée de reconduction est donnée mais le contrat n'est pas reconduit",
            )
        notice = self.notice
        if (
            notice is not None
            and notice.unit is DelayUnit.MONTHS
            and self.initial_term_months is not None
            and notice.value >= self.initial_term_months
        ):
            raise refuse(
                "notice",
                "the notice is not shorter than the initial term",
                "le préavis n'est pas plus court que la durée initiale",
            )
        if self.recount_at_renewal and not self.tacit_renewal:
            raise refuse(
                "recount_at_renewal",
                "a recount at renewal needs a renewing contract",
                "un recomptage au renouvellement suppose un contrat reconduit",
            )
        return self

    @property
    def renewal_months(self) -> int | None:
        """Length of each renewal period, or None when the contract does not renew."""
        if not self.tacit_renewal:
            return None
        return self.renewal_term_months or self.initial_term_months


# --------------------------------------------------------------------------------------------
# BIL billing
# --------------------------------------------------------------------------------------------


class BillingTiming(StrEnum):
    IN_ADVANCE = "in_advance"  # terme à échoir
    IN_ARREARS = "in_arrears"  # terme échu


class InvoiceDay(StrEnum):
    LAST_DAY_OF_MONTH = "last_day_of_month"  # BIL-03 [002 §12.3.1]
    LAST_DAY_OF_FIRST_MONTH_OF_PERIOD = "last_day_of_first_month_of_period"  # BIL-03 [003 §6.2]


class PaymentMethod(StrEnum):
    SEPA_DIRECT_DEBIT = "sepa_direct_debit"
    TRANSFER = "transfer"
    CHEQUE = "cheque"
    CARD = "card"
    PREPAID = "prepaid"  # BIL-10 prepaid account debited in real time


class PriceBasis(StrEnum):
    EXCL_VAT = "excl_vat"  # BIL-11 HT, VAT added
    INCL_VAT = "incl_vat"  # BIL-11 TTC [001 §11.1]


class EarlyTermination(StrEnum):
    REMAINING_FEES = "remaining_fees"  # CTR-05 [001 §20; 004 §3; 002 §17.6]
    HIGHER_OF_SUBSCRIPTIONS_AND_MINIMUM = "higher_of_subscriptions_and_minimum"  # [002 §24.4.5]
    NO_REFUND = "no_refund"  # CTR-05 [003 §3.3] sums paid are kept, nothing more is due
    NONE = "none"  # nothing due beyond the current period


class RatingTerms(TermsModel):
    """BIL-09 how call durations are rated."""

    increment_seconds: PosInt  # BIL-09 billing step after the minimum
    minimum_billed_seconds: NonNegInt  # BIL-09 [002 §24.2.5] minimum billed per answered call
    carrier_steps_passed_through: bool  # BIL-09 [002 §24.2.3] carrier-imposed steps re-invoiced
    third_party_surcharges_passed_through: bool  # BIL-09 [002 §24.2.4]


class BillingTerms(TermsModel):
    currency: Literal["EUR"]  # BIL-11
    price_basis: PriceBasis  # BIL-11 prices of the price list HT or TTC
    subscription_period_months: PosInt  # BIL-03 1 = monthly, 12 = annual [003 §6.2]
    subscriptions_billed: BillingTiming  # BIL-01
    usage_billed: BillingTiming | None  # BIL-01; None: the offer has no metered usage
    first_period_prorata: bool  # BIL-02 first period prorata temporis to month end
    invoice_day: InvoiceDay  # BIL-03
    invoice_sent_within: Delay | None = None  # BIL-03 [003 §6.2] 3 business days
    setup_fees_due_at_order: bool  # BIL-03 [004 §9.2]
    payment_term_days: NonNegInt  # BIL-04
    payment_term_day_kind: DayKind  # BIL-04 [004 §0 "jour" = business day]
    payment_term_from: CountedFrom  # BIL-04 issue or receipt
    payment_methods: Annotated[tuple[PaymentMethod, ...], Field(min_length=1)]  # BIL-05
    default_payment_method: PaymentMethod  # BIL-05
    non_default_method_surcharge: Money | None = None  # BIL-05 [001 §11.2] per invoice
    direct_debit_rejection_fee: Money | None = None  # BIL-05 [004 §9.2] flat fee per rejection
    direct_debit_rejection_cost_passed_through: bool = False  # BIL-05 [002 §12.3.3]
    method_change_penalty_percent: Percent | None = None  # BIL-05 [004 §9.2] per invoice
    minimum_monthly_commitment: Money | None = None  # BIL-08 [002 §24.4] delta line if short
    early_invoicing_threshold: Money | None = None  # BIL-13 out-of-plan usage invoiced early
    unlimited_abuse_fee_per_line: Money | None = None  # BIL-15 [004 §7.1.2]
    # BIL-15 [004 §7.1.2] "sans droit de retour à une offre Illimitée forfaitisée": once abused,
    # the unlimited plans stay void for the following periods too
    unlimited_void_is_final: bool = False
    early_termination: EarlyTermination  # CTR-05
    credits_on_next_invoice: bool  # BIL-16 credits and SLA penalties deducted next invoice
    general_set_off: bool  # BIL-14 [004 §9.3] mutual debts set off
    no_refund_after_first_use: bool  # BIL-18 [000 §6]
    refund_request_window: Delay | None = None  # BIL-18 [003 §6.4] one month after the cause
    rating: RatingTerms | None = None  # BIL-09; None when nothing is rated by duration

    @model_validator(mode="after")
    def _check(self) -> Self:
        methods = self.payment_methods
        if not _unique(methods):
            raise refuse(
                "payment_methods",
                "a payment method is listed twice",
                "un moyen de paiement est en double",
            )
        if self.default_payment_method not in methods:
            raise refuse(
                "default_payment_method",
                f"the default method {self.default_payment_method.value} is not an accepted method",
                f"le moyen par défaut {self.default_payment_method.value} n'est pas accepté",
            )
        debit_fee = self.direct_debit_rejection_fee is not None
        if (
            debit_fee or self.direct_debit_rejection_cost_passed_through
        ) and PaymentMethod.SEPA_DIRECT_DEBIT not in methods:
            raise refuse(
                "direct_debit_rejection_fee",
                "a direct-debit rejection rule without direct debit among the methods",
                "une règle de rejet de prélèvement sans prélèvement parmi les moyens acceptés",
            )
        if debit_fee and self.direct_debit_rejection_cost_passed_through:
            raise refuse(
                "direct_debit_rejection_cost_passed_through",
                "choose a flat rejection fee or the real cost, not both",
                "choisir des frais de rejet forfaitaires ou le coût réel, pas les deux",
            )
        if self.non_default_method_surcharge is not None and len(methods) < 2:
            raise refuse(
                "non_default_method_surcharge",
                "a surcharge for other methods but only one method is accepted",
                "une majoration pour les autres moyens alors qu'un seul moyen est accepté",
            )
        if (
            self.invoice_day is InvoiceDay.LAST_DAY_OF_FIRST_MONTH_OF_PERIOD
            and self.subscription_period_months == 1
        ):
            raise refuse(
                "invoice_day",
                "a period of one month has no 'first month': use last_day_of_month",
                "une période d'un mois n'a pas de « premier mois » : utiliser last_day_of_month",
            )
        return self


# --------------------------------------------------------------------------------------------
# BIL-06 late payment: five kinds of interest
# --------------------------------------------------------------------------------------------


class FlatPercentAfterDays(TermsModel):
    """BIL-06 [000 §6]: +N % of the whole sum once the payment is more than N days late."""

    kind: Literal["flat_percent_after_days"]
    percent: Percent
    after_days: NonNegInt  # days late after the due date


class EcbPlusPointsFromDueDate(TermsModel):
    """BIL-06 [002 §12.5.1]: ECB main refinancing rate + N points, from the due date."""

    kind: Literal["ecb_plus_points_from_due_date"]
    points: Points


class EcbPlusPointsAfterTerm(TermsModel):
    """BIL-06 [003 §6.3]: ECB rate + N points, from the day after the payment term."""

    kind: Literal["ecb_plus_points_after_term"]
    points: Points


class EcbOrLegalMultiple(TermsModel):
    """BIL-06 [001 §10.4]: max(ECB + N points, M x legal rate) from the first day late."""

    kind: Literal["max_ecb_plus_points_or_legal_multiple"]
    points: Points
    legal_rate_multiple: Factor
    base_includes_vat: bool  # interest computed on the amount including VAT


class DailyLegalMultiple(TermsModel):
    """BIL-06 [004 §9.3]: daily interest at N x the legal interest rate."""

    kind: Literal["daily_legal_rate_multiple"]
    legal_rate_multiple: Factor


LateInterest = Annotated[
    FlatPercentAfterDays
    | EcbPlusPointsFromDueDate
    | EcbPlusPointsAfterTerm
    | EcbOrLegalMultiple
    | DailyLegalMultiple,
    Field(discriminator="kind"),
]

LATE_INTEREST_KINDS = frozenset(
    {
        "flat_percent_after_days",
        "ecb_plus_points_from_due_date",
        "ecb_plus_points_after_term",
        "max_ecb_plus_points_or_legal_multiple",
        "daily_legal_rate_multiple",
    }
)


class LatePaymentTerms(TermsModel):
    interest: LateInterest  # BIL-06
    recovery_indemnity: Money | None  # BIL-06 L441-10 flat indemnity (outside VAT scope)
    recovery_indemnity_per_invoice: bool  # BIL-06 [002 §12.5.1] per unpaid invoice
    accelerate_all_open_invoices: bool  # BIL-06 one late invoice makes all open invoices due
    suspend_requires_formal_notice: bool  # CTR-06 suspension for non-payment after a notice
    suspend_after: Delay | None  # CTR-06 delay after the due date (or the notice) to suspend
    terminate_after: Delay | None  # CTR-06 delay after the due date to terminate
    restore_on_payment: bool  # CTR-06 [004 §9.5] payment restores the service


# --------------------------------------------------------------------------------------------
# BIL-07 disputes
# --------------------------------------------------------------------------------------------


class DisputeReference(StrEnum):
    INVOICE_DATE = "invoice_date"
    INVOICE_NUMBER = "invoice_number"
    AMOUNT = "amount"
    REASON = "reason"
    EVIDENCE = "evidence"


class DisputeTerms(TermsModel):
    window: Delay  # BIL-07 time to contest an invoice
    window_from: CountedFrom  # BIL-07 counted from issue or receipt
    channels: Annotated[tuple[Channel, ...], Field(min_length=1)]  # BIL-07
    required_references: tuple[DisputeReference, ...]  # BIL-07 [002 §12.6; 004 §9.4]
    uncontested_part_must_be_paid: bool  # BIL-07 [002 §12.6.1; 004 §9.4]
    no_earlier_unpaid_invoice: bool  # BIL-07 [004 §9.4]
    contested_part_suspended: bool  # BIL-07 [001 §11.3] payment of the contested part suspended
    penalties_run_if_rejected: bool  # BIL-07 [001 §11.3]
    min_contested_share_percent: Percent | None = None  # BIL-07 [004 §9.4] must exceed 5 %
    refund_threshold_percent: Percent | None = None  # BIL-07 [004 §9.4] over 20 %: refund
    refund_delay: Delay | None = None  # BIL-07 [004 §9.4] refund within 5 days, else credit

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _unique(self.channels):
            raise refuse("channels", "a channel is listed twice", "un canal est en double")
        if not _unique(self.required_references):
            raise refuse(
                "required_references",
                "a reference is listed twice",
                "une référence est en double",
            )
        if (self.refund_threshold_percent is None) != (self.refund_delay is None):
            raise refuse(
                "refund_delay",
                "a refund threshold and a refund delay go together",
                "un seuil de remboursement et un délai de remboursement vont ensemble",
            )
        return self


# --------------------------------------------------------------------------------------------
# CTR-06/07/11/14 suspension and termination
# --------------------------------------------------------------------------------------------


class SuspensionCause(StrEnum):
    FRAUD = "fraud"
    DISLOYALTY = "disloyalty"
    BANNED_CONTENT = "banned_content"
    ETHICS_BREACH = "ethics_breach"
    CONTRACT_BREACH = "contract_breach"
    CREDENTIAL_LOSS = "credential_loss"
    ABUSE = "abuse"
    OPERATOR_COMPLAINT = "operator_complaint"
    NON_PAYMENT = "non_payment"
    PREPAID_DEPLETED = "prepaid_depleted"
    MAINTENANCE = "maintenance"
    AUTHORITY_ORDER = "authority_order"
    TECHNICAL_CONSTRAINT = "technical_constraint"
    LICENCE_LOSS = "licence_loss"
    ILLEGAL_USE = "illegal_use"
    DANGEROUS_EQUIPMENT = "dangerous_equipment"
    NETWORK_HARM = "network_harm"
    FORCE_MAJEURE = "force_majeure"
    SPAM_BURST = "spam_burst"
    MASS_MAILING = "mass_mailing"
    URGENT_HARM = "urgent_harm"


class SuspensionTerms(TermsModel):
    formal_notice_required: bool  # CTR-06 suspension follows a formal notice (except urgency)
    notice_delay: Delay  # CTR-06 time the notice stays unanswered before suspension
    urgent_causes: tuple[SuspensionCause, ...]  # CTR-06 causes allowing immediate suspension
    terminate_if_uncured_after: Delay | None  # CTR-06 termination when not cured after suspension
    billing_continues: bool  # CTR-06 [004 §11.4] sums due keep being invoiced
    partial_allowed: bool  # CTR-06 all or part of the service may be suspended
    indemnity: bool  # CTR-06 [000 §4.4] suspension opens a right to an indemnity
    mutual_termination_after_total_suspension: Delay | None = None  # CTR-06 [004 §11.4]
    mutual_termination_notice: Delay | None = None  # CTR-06 [004 §11.4]
    maintenance_notice: Delay | None = None  # CTR-06 [002 §13.1.5] 7 business days
    maintenance_outside_business_hours: bool = False  # CTR-06 [002 §13.1.5]
    # CTR-06 [002 §13.1.5] the business hours planned maintenance stays out of (contracts frozen
    # before this term have none: their maintenance windows are then refused, see maintenance.py)
    maintenance_business_hours: WeeklyWindow | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _unique(self.urgent_causes):
            raise refuse("urgent_causes", "a cause is listed twice", "une cause est en double")
        pair = (self.mutual_termination_after_total_suspension, self.mutual_termination_notice)
        if (pair[0] is None) != (pair[1] is None):
            raise refuse(
                "mutual_termination_notice",
                "termination after a total suspension needs both its delay and its notice",
                "la résiliation après suspension totale demande son délai et son préavis",
            )
        return self


class TerminationTerms(TermsModel):
    breach_notice: Delay | None  # CTR-07 formal notice left unanswered before termination
    breach_termination_within: Delay | None = None  # CTR-07 [000 §10] terminate within 8 days
    operator_specific_notice: Delay | None = None  # CTR-07 [004 §12.2] 5 business days
    convenience_notice: Delay | None = None  # CTR-05 [002 §17.1] any time, 3 months' notice
    force_majeure_notify_within: Delay | None = None  # CTR-11
    force_majeure_termination_after: Delay | None = None  # CTR-11
    outage_termination_after_days: PosInt | None = None  # CTR-14 [001 §20] consecutive days

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.breach_termination_within is not None and self.breach_notice is None:
            raise refuse(
                "breach_notice",
                "a termination delay after notice needs the notice delay",
                "un délai de résiliation après mise en demeure suppose le délai de mise en demeure",
            )
        return self


# --------------------------------------------------------------------------------------------
# CTR-08 inactivity, CTR-09 after termination, CTR-12 orders, CTR-13 changes
# --------------------------------------------------------------------------------------------


class InactivityTerms(TermsModel):
    period: Delay  # CTR-08 inactivity that ends the contract
    customer_informed: bool  # CTR-08 [002 §17.3]
    termination_notice: Delay | None  # CTR-08 [004 §12.2] 5 business days
    prepaid_balance_forfeited: bool  # CTR-08 [002 §12.7.4]
    remaining_subscriptions_due: bool  # CTR-05 [002 §17.6]
    new_contract_required: bool  # CTR-08 [000 §10] only a new contract restarts


class PostTerminationTerms(TermsModel):
    admin_access_hours: NonNegInt | None  # CTR-09 [000 §10] 48 h to retrieve data
    end_customer_data_deletion_days: NonNegInt | None  # CTR-09 [000 §7.4] 60 days
    backups_deleted: bool  # CTR-09 contents deleted including backups
    access_codes_revoked: bool  # CTR-09 [000 §10; 003 §16]; licences end [002 §18]


class OrderRefusal(StrEnum):
    FALSE_DECLARATION = "false_declaration"
    IDENTITY_THEFT = "identity_theft"
    MISSING_DOCUMENTS = "missing_documents"
    UNPAID_DEBTS = "unpaid_debts"
    INFEASIBLE = "infeasible"


class OrderTerms(TermsModel):
    legal_entities_only: bool  # CTR-12 [002 §4.1]; SMS-10
    oral_orders_accepted: bool  # CTR-12 [004 §1.5.1]
    firm_on_receipt: bool  # CTR-12 [004 §1.5.1]
    click_acceptance_counts: bool  # PORTAL-01 [004 §0]
    refusal_reasons: tuple[OrderRefusal, ...]  # CTR-12 [001 §3; 004 §1.5.1]
    deposit_may_be_required: bool  # CTR-12 [002 §6.6]
    free_trial_before_signature: bool  # CTR-12 [002 §6.2]
    free_trial_days: PosInt | None = None  # CTR-12 [002 §6.2] length of the free trial

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.free_trial_days is not None and not self.free_trial_before_signature:
            raise refuse(
                "free_trial_days",
                "a trial length is given but the offer has no free trial",
                "une durée d'essai est donnée mais l'offre n'a pas d'essai gratuit",
            )
        return self


class PriceIndex(StrEnum):
    SYNTEC = "syntec"  # CTR-13 [004 §9.6.3] P = P0 x S1 / S0


class ChangeTerms(TermsModel):
    condition_change_notice: Delay | None  # CTR-13 conditions change after this notice
    price_change_notice: Delay | None  # CTR-13 price changes notified this long ahead
    price_list_changes_at_renewal: bool  # CTR-13 [001 §21.3]
    objection_before_effective_date: bool  # CTR-13 [002 §12.2]
    continued_use_is_acceptance: bool  # CTR-13 [002 §12.2]
    termination_window_on_price_rise: Delay | None  # CTR-13 [004 §9.6.1] 1 month
    prorata_refund_on_unfavourable_change: bool  # CTR-13 [003 §3.2]
    annual_index_revision: PriceIndex | None  # CTR-13 [004 §9.6.3]


# --------------------------------------------------------------------------------------------
# VOX, SMS, MAIL usage limits and rules
# --------------------------------------------------------------------------------------------


class MailAbuseAction(StrEnum):
    ALERT = "alert"  # MAIL-08 the customer and the operator are told
    SUSPEND = "suspend"  # MAIL-08 [003 §3.2] the mail service is suspended (and they are told)


class CapacityLimit(StrEnum):
    CALLS_PER_SECOND = "calls_per_second"  # VOX-07 CAPS
    CONCURRENT_CALLS_PER_ACCOUNT = "concurrent_calls_per_account"  # VOX-07 simultaneous calls


class CapacityOption(TermsModel):
    """VOX-07, BIL-17 a price-list option that raises a platform limit: each unit subscribed
    adds ``per_unit`` to ``limit`` (e.g. a "lot of 10 CAPS" adds 10 call attempts a second)."""

    item_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
    limit: CapacityLimit
    per_unit: PosInt


class PrefixBurst(TermsModel):
    """VOX-06 a burst of calls from one line to numbers sharing one prefix (the pattern of
    international revenue-share fraud): ``calls`` or more within ``window_minutes`` to
    numbers whose first ``prefix_digits`` E.164 digits are the same."""

    calls: Annotated[int, Field(ge=2, strict=True)]
    window_minutes: PosInt
    prefix_digits: Annotated[int, Field(ge=2, le=15, strict=True)]


class UsageLimits(TermsModel):
    """Numeric usage limits; None means no limit of that kind in this offer."""

    max_call_seconds: PosInt | None = None  # VOX-03 [000 §9.6] call cut after 3600 s
    concurrent_calls_per_line: PosInt | None = None  # VOX-05 [001 §8] 2
    distinct_numbers_per_line_per_period: PosInt | None = None  # VOX-06 [001 §8] 500
    long_call_minutes: PosInt | None = None  # VOX-06 [001 §8] fraud suspicion beyond 120 min
    concurrent_calls_per_account: PosInt | None = None  # VOX-07 [002 §25] 10
    calls_per_second: PosInt | None = None  # VOX-07 [002 §25] CAPS 1
    capacity_request_notice_days: NonNegInt | None = None  # VOX-07 [002 §25] 30 days ahead
    capacity_rise_notice_months: NonNegInt | None = None  # VOX-07 [002 §9.1.7] 3 months
    capacity_options: tuple[CapacityOption, ...] = ()  # VOX-07, BIL-17 [002 §28] options
    mail_messages_per_mailbox_per_day: PosInt | None = None  # MAIL-08 [003 §3.2] 500
    mail_recipients_per_message: PosInt | None = None  # MAIL-08 [003 §3.2] 500
    mail_daily_excess_action: MailAbuseAction | None = None  # MAIL-08 [003 §3.2] beyond the count
    mail_spam_burst_messages: PosInt | None = None  # MAIL-08 outbound spam that suspends...
    mail_spam_burst_minutes: PosInt | None = None  # MAIL-08 ...when sent within these minutes
    sms_monthly_stock: NonNegInt | None = None  # SMS-08 [004 SMS §4] 1000
    sms_monthly_stock_max: PosInt | None = None  # SMS-08 [004 SMS §4] 100000
    prefix_burst: PrefixBurst | None = None  # VOX-06 fraud: a burst of calls to one prefix

    @model_validator(mode="after")
    def _check(self) -> Self:
        stock, ceiling = self.sms_monthly_stock, self.sms_monthly_stock_max
        if stock is not None and ceiling is not None and stock > ceiling:
            raise refuse(
                "sms_monthly_stock",
                f"the SMS stock {stock} exceeds its maximum {ceiling}",
                f"le stock de SMS {stock} dépasse son maximum {ceiling}",
            )
        if stock is not None and ceiling is None:
            raise refuse(
                "sms_monthly_stock_max",
                "an SMS stock needs its maximum",
                "un stock de SMS demande son maximum",
            )
        if (self.mail_spam_burst_messages is None) != (self.mail_spam_burst_minutes is None):
            raise refuse(
                "mail_spam_burst_minutes",
                "a spam burst needs both its count and its minutes",
                "une rafale de spam demande son nombre et sa durée en minutes",
            )
        return self


class EmergencyRouting(StrEnum):
    ROUTE_FREE = "route_free"  # emergency numbers routed free of charge
    REFUSE = "refuse"  # VOX-02 [000 §4.2] not routed


class FraudAction(StrEnum):
    BILL_BEYOND_LIMITS = "bill_beyond_limits"
    RESTRICT_SERVICE = "restrict_service"
    REQUEST_INTERIM_PAYMENT = "request_interim_payment"
    REPORT_TO_AUTHORITIES = "report_to_authorities"
    VOID_UNLIMITED_PLAN = "void_unlimited_plan"  # BIL-15 [004 §7.1.2] metered re-rating


class CliRules(TermsModel):
    """VOX-04, VOX-09 caller-ID rules."""

    assigned_numbers_only: bool  # VOX-09 [002 §9.1.8] only numbers really assigned
    no_mobile_cli_for_automated_calls: bool  # VOX-09 [002 §9.2.3]
    filter_foreign_calls_with_french_cli: bool  # VOX-09 [002 §7.1.1] 01-05 / 09 from abroad
    outbound_only_numbers: bool  # VOX-04 [000 §9.6] in no directory, no inbound calls
    # VOX-09 the offer's calls are automated or call-centre calls: a French CLI must come from
    # ARCEP's ranges for automated calling systems (décision 2022-1583), never a 06/07 mobile
    automated_calling: bool = False


class TelemarketingRules(TermsModel):
    """VOX-10, VOX-11 what calling campaigns may do."""

    allowed: bool  # VOX-11 [001 §8] telemarketing / call centres allowed
    automatic_dialling_allowed: bool  # VOX-11 [001 §16; 004 §7.1.1]
    gateway_use_allowed: bool  # VOX-11 [001 §16]
    bloctel_scrub_required: bool  # VOX-10 [000 §4.3]
    prospection_hours_apply: bool  # VOX-10 [002 §9.1.12] décret 2022-1313
    energy_renovation_cold_calls_banned: bool  # VOX-10 [000 §3]
    outsourcing_outside_eu_banned: bool  # VOX-10 [000 §3]
    # VOX-10 décret 2022-1313 (art. D.223-8/9 code de la consommation): the windows in which a
    # prospecting account may call a consumer without consent (Mon-Fri 10-13 and 14-20)
    prospection_windows: tuple[WeeklyWindow, ...] = ()
    max_attempts_per_number: PosInt | None = None  # VOX-10 décret 2022-1313: 4 calls...
    attempts_period_days: PosInt | None = None  # VOX-10 ...per consumer per 30 days
    quiet_days_after_refusal: PosInt | None = None  # VOX-10 décret 2022-1313: 60 days
    consent_required_from: dt.date | None = None  # VOX-10 loi 2025-594: from 11 August 2026
    # VOX-11 [001 §8, §16] more call attempts a minute on one line is automatic dialling
    manual_dialling_attempts_per_minute: PosInt | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.max_attempts_per_number is None) != (self.attempts_period_days is None):
            raise refuse(
                "attempts_period_days",
                "a maximum of attempts needs its period, and the other way round",
                "un maximum de tentatives demande sa période, et inversement",
            )
        return self


class VoiceRules(TermsModel):
    emergency_calls: EmergencyRouting  # VOX-02
    allowed_countries: tuple[CountryCode, ...] | None  # VOX-01 [001 §6]; None: worldwide
    value_added_numbers_callable: bool  # VOX-01 [000 §4.1] third-party value-added numbers
    data_calls_and_fax: bool  # VOX-02 [000 §9.6]
    cli: CliRules  # VOX-04, VOX-09
    telemarketing: TelemarketingRules  # VOX-10, VOX-11
    fraud_suspicion_actions: tuple[FraudAction, ...]  # VOX-06 [001 §8]

    @model_validator(mode="after")
    def _check(self) -> Self:
        countries = self.allowed_countries
        if countries is not None and (not countries or not _unique(countries)):
            raise refuse(
                "allowed_countries",
                "the allowed countries must be a non-empty list without duplicates",
                "les pays autorisés forment une liste non vide et sans doublon",
            )
        if not _unique(self.fraud_suspicion_actions):
            raise refuse(
                "fraud_suspicion_actions",
                "an action is listed twice",
                "une action est en double",
            )
        return self


class QualityThresholds(TermsModel):
    """VOX-08 traffic quality the customer keeps, hour by hour."""

    asr_min_percent: Percent  # VOX-08 [002 §26.1] answer-seizure ratio above 60 %
    acd_min_seconds: PosInt  # VOX-08 [002 §26.2] average call duration above 15 s
    short_call_seconds: PosInt  # VOX-08 [002 §26.3] answered calls shorter than 8 s
    short_call_max_percent: Percent  # VOX-08 [002 §26.3] below 10 % over a sliding hour
    window_minutes: PosInt  # VOX-08 measured per hour
    asr_penalty_per_call: Money  # VOX-08 [002 §27] 0.02 per call per hour below target
    acd_penalty_per_call: Money  # VOX-08 [002 §27]
    short_call_penalty_per_call: Money  # VOX-08 [002 §27]


class PenaltyTable(TermsModel):
    """VOX-16, VOX-09, BIL-14 penalties and payouts around numbers."""

    report_33700: Money | None  # VOX-16 [002 §27] per 33700 ticket
    consumer_complaint: Money | None  # VOX-16 [002 §27]
    judicial_requisition: Money | None  # VOX-16 [002 §27]
    regulator_breach: Money | None  # VOX-16 [002 §27]
    unauthorised_cli: Money | None  # VOX-09 [002 §27]
    carrier_penalties_passed_through: bool  # VOX-16 [000 §6; 002 §27] operators' penalties added
    abnormal_reports_months: PosInt | None  # VOX-16 [000 §4.4] consecutive months above average
    abnormal_reports_notice_hours: NonNegInt | None  # VOX-16 [000 §4.4] 48 h before suspension
    set_off_against_payouts: bool  # BIL-14 [000 §4.4]
    payouts_withheld_while_reported: bool  # BIL-14 [002 §24.3]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.abnormal_reports_months is None) != (self.abnormal_reports_notice_hours is None):
            raise refuse(
                "abnormal_reports_notice_hours",
                "the abnormal-reports rule needs both its months and its notice",
                "la règle des signalements anormaux demande ses mois et son préavis",
            )
        return self


class SmsCharset(StrEnum):
    GSM7 = "gsm7"  # GSM 03.38 default alphabet and extension table
    GSM7_RESTRICTED = "gsm7_restricted"  # SMS-02 [004 SMS §1] the listed subset of GSM 03.38


class OutsideWindow(StrEnum):
    REJECT = "reject"
    QUEUE = "queue"


class SenderPattern(StrEnum):
    LETTER_AND_FOUR_DIGITS = "letter_and_four_digits"  # SMS-05 e.g. A1234
    DIGITS_ONLY = "digits_only"  # SMS-05


# SMS-06 characters a STOP mention may use: in every charset and counted one septet each.
_MENTION_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 \n"


class SmsRules(TermsModel):
    charset: SmsCharset  # SMS-02
    allow_unicode: bool  # SMS-02 characters outside the charset fail unless UCS-2 is allowed
    part_length: PosInt  # SMS-03 160
    concat_part_length: PosInt  # SMS-03 153
    ucs2_part_length: PosInt  # SMS-03 70 (GSM 03.40 UCS-2)
    ucs2_concat_part_length: PosInt  # SMS-03 67
    stop_mention_length: NonNegInt  # SMS-03 10 characters reserved for the STOP mention
    max_length: PosInt  # SMS-03 1224
    sending_window: WeeklyWindow | None  # SMS-04 Mon-Sat 08:00-22:00; None: any time
    outside_window: OutsideWindow  # SMS-04 rejected or queued
    stop_unsubscribes_all_senders: bool  # SMS-06 shared short code
    french_metropolitan_mobiles_only: bool  # SMS-07
    sender_request_billed_even_if_refused: bool  # SMS-05
    refused_sender_patterns: tuple[SenderPattern, ...]  # SMS-05
    sensitive_sender_names: tuple[str, ...]  # SMS-05 refused sender names (AF2M list)
    french_entities_paying_eur_only: bool  # SMS-10 legal entities established in France
    # SMS-06, VOX-14 messages go out from the operator's shared short code unless the customer
    # chooses an authorised custom sender, and STOP answers reach it. The number itself is the
    # operator's (setting ``OPERATEUR_SMS_SHORT_CODE``), not a contract term. False: every
    # message needs the customer's own sender.
    shared_short_code: bool = False
    # SMS-06, SMS-03 the STOP mention appended to every message, "{short_code}" standing for the
    # operator's short code; it must fit in ``stop_mention_length``. None: no mention appended.
    stop_mention: str | None = None
    fixed_numbers_billed: bool = False  # SMS-07 fixed numbers accepted (not guaranteed), billed
    content_filter: bool = True  # SMS-09 messages matching the operator's rule list are held
    segment_price_code: str | None = None  # SMS-03 price-list item billed per segment
    sender_request_price_code: str | None = None  # SMS-05 price-list item of an OADC request

    @model_validator(mode="before")
    @classmethod
    def _legacy_short_code(cls, data: Any) -> Any:
        """Terms frozen before the short code became the operator's setting named the number
        (``short_code``): it only says whether the shared short code is used."""
        if isinstance(data, dict) and "short_code" in data:
            data = dict(data)
            code = data.pop("short_code")
            data.setdefault("shared_short_code", code is not None)
        return data

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.stop_unsubscribes_all_senders and not self.shared_short_code:
            raise refuse(
                "shared_short_code",
                "STOP unsubscribes from every sender of a shared short code: use the short code",
                "le STOP désabonne de tous les émetteurs d'un short code mutualisé : l'utiliser",
            )
        if self.stop_mention is not None:
            self._check_stop_mention(self.stop_mention)
        if self.concat_part_length >= self.part_length:
            raise refuse(
                "concat_part_length",
                "a segment of a long SMS must be shorter than a single SMS",
                "un segment de SMS long doit être plus court qu'un SMS simple",
            )
        if self.ucs2_concat_part_length >= self.ucs2_part_length:
            raise refuse(
                "ucs2_concat_part_length",
                "a UCS-2 segment must be shorter than a single UCS-2 SMS",
                "un segment UCS-2 doit être plus court qu'un SMS UCS-2 simple",
            )
        if self.ucs2_part_length >= self.part_length:
            raise refuse(
                "ucs2_part_length",
                "a UCS-2 SMS holds fewer characters than a GSM 7-bit SMS",
                "un SMS UCS-2 contient moins de caractères qu'un SMS GSM 7 bits",
            )
        if self.stop_mention_length >= self.ucs2_concat_part_length:
            raise refuse(
                "stop_mention_length",
                "the STOP mention leaves no room for the message",
                "la mention STOP ne laisse pas de place au message",
            )
        if self.max_length < self.part_length:
            raise refuse(
                "max_length",
                "the maximum length is shorter than one SMS",
                "la longueur maximale est plus courte qu'un SMS",
            )
        return self

    def _check_stop_mention(self, mention: str) -> None:
        """The mention names nothing but the short code, and with a five-digit short code
        (AF2M 3xxxx) it fits in the reserved length and in the GSM 03.38 default alphabet."""
        try:
            rendered = mention.format(short_code="30000")
        except (KeyError, IndexError, ValueError):
            raise refuse(
                "stop_mention",
                "the STOP mention may only name {short_code}",
                "la mention STOP ne peut nommer que {short_code}",
            ) from None
        if not rendered.strip() or len(rendered) > self.stop_mention_length:
            raise refuse(
                "stop_mention",
                f"the STOP mention must fit in the {self.stop_mention_length} reserved characters",
                f"la mention STOP doit tenir dans les {self.stop_mention_length} caractères "
                "réservés",
            )
        if not set(rendered) <= set(_MENTION_CHARACTERS):
            raise refuse(
                "stop_mention",
                "the STOP mention uses letters, digits, spaces and line breaks only",
                "la mention STOP n'utilise que lettres, chiffres, espaces et retours à la ligne",
            )
        if "{short_code}" in mention and not self.stop_unsubscribes_all_senders:
            raise refuse(
                "stop_mention",
                "a mention naming the shared short code needs STOP to apply to all its senders",
                "une mention nommant le short code mutualisé demande que le STOP vaille pour "
                "tous ses émetteurs",
            )


class ReleaseChannel(StrEnum):
    SENDER_CHALLENGE = "sender_challenge"  # MAIL-03 challenge-response
    ADMINISTRATOR = "administrator"  # MAIL-03 console
    RECIPIENT_DIGEST = "recipient_digest"  # MAIL-03 digest email


SpamScore = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=1000, decimal_places=2)]


class MailRules(TermsModel):
    redundant_gateways: PosInt  # MAIL-12 [003 §9] two gateways per customer
    rbl_listings_for_corrupted_host: PosInt  # MAIL-02 [003 §1] listed on at least 3 RBLs
    unreachable_server_purge_hours: PosInt  # MAIL-09 [003 §11] 168 h
    release_channels: tuple[ReleaseChannel, ...]  # MAIL-03
    # MAIL-01 the filter's score at or above which mail is tagged (header X-Operateur-Spam),
    # quarantined, or refused with a 5xx; the defaults are the mail-security offer's choice
    spam_tag_score: SpamScore = Decimal("5")
    spam_quarantine_score: SpamScore = Decimal("8")
    spam_reject_score: SpamScore = Decimal("15")
    max_message_bytes: PosInt = 26_214_400  # MAIL-01 larger messages refused with 552
    digest_interval_hours: PosInt = 24  # MAIL-03 recipient digest, daily by default
    challenge_period_hours: PosInt = 24  # MAIL-03 at most one challenge per sender per period

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _unique(self.release_channels):
            raise refuse("release_channels", "a channel is listed twice", "un canal est en double")
        if not self.spam_tag_score <= self.spam_quarantine_score <= self.spam_reject_score:
            raise refuse(
                "spam_quarantine_score",
                "the scores must rise: tag ≤ quarantine ≤ reject",
                "les seuils doivent croître : marquage ≤ quarantaine ≤ rejet",
            )
        return self


# --------------------------------------------------------------------------------------------
# SLA, retention, support, security, equipment
# --------------------------------------------------------------------------------------------


class MailSla(TermsModel):
    false_positive_max_percent: Percent  # MAIL-06 [003 §9] below 0.01 %
    false_negative_max_percent: Percent  # MAIL-06 [003 §9] below 0.5 %
    virus_max_percent: Percent  # MAIL-06 [003 §9] at most ceil(0.1 % of mail processed)
    measurement_days: PosInt  # MAIL-05, MAIL-06 rolling 7 days
    availability_min_percent: Percent  # MAIL-06 [003 §9] monthly 99.99 %
    termination_with_prorata_refund: bool  # MAIL-06 [003 §10] remedy 1
    filtering_penalty_multiplier: Factor  # MAIL-06 [003 §10] 10 x (FP % + FN %) worst week
    unavailability_penalty_percent: Percent  # MAIL-06 [003 §10] 10 % of the monthly fee...
    unavailability_block_minutes: PosInt  # MAIL-06 [003 §10] ...per full 60 minutes
    penalty_cap_percent: Percent  # MAIL-06 [003 §10] capped at 50 %


class IncidentSla(TermsModel):
    min_outage_minutes: PosInt  # SUP-02 [002 §14.2] an incident is an outage over 30 minutes
    response: Delay  # SUP-02 [002 §14.3] intervention within 4 business hours


class SlaTerms(TermsModel):
    mail: MailSla | None = None  # MAIL-06
    incident: IncidentSla | None = None  # SUP-02


class RetentionTerms(TermsModel):
    """PRIV-02 how long each kind of data is kept; None: the offer holds no such data."""

    recordings_months: PosInt | None  # VOX-12 [000 §7.5] 24 months
    traffic_data_months: PosInt | None  # VOX-13 [002 §6.7] 12 months
    logs_days: PosInt | None  # MAIL-10 [003 §15.3] 365 days
    mail_days: PosInt | None  # MAIL-10 [003 §15.2] at most 30 days
    invoices_years: PosInt  # BIL-12 [001 §11.2] 5 years in the customer space
    end_customer_data_days: NonNegInt | None  # CTR-09 [000 §7.4] 60 days after the end
    data_subject_response_days: PosInt  # PRIV-01 [000 §7.4; 003 §15.1] 30 days


class SupportTerms(TermsModel):
    hours: WeeklyWindow  # SUP-01 Mon-Fri 09:00-17:00 Europe/Paris, holidays excluded
    channels: Annotated[tuple[Channel, ...], Field(min_length=1)]  # SUP-01
    monthly_request_quota_per_user: Ratio | None  # SUP-03 [003 §5] one fifth of the users
    fee_beyond_quota: Money | None  # SUP-03 [003 §5] 40 per request
    wrong_ticket_fee: Money | None  # SUP-03 [002 §27; 004 §4.2] 100
    # SUP-03 [003 §5] "users registered at subscription": the price-list items whose subscribed
    # quantity counts the users (the largest of them, e.g. the protected mailboxes); empty: the
    # customer's active portal users
    quota_user_items: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _unique(self.channels):
            raise refuse("channels", "a channel is listed twice", "un canal est en double")
        if self.fee_beyond_quota is not None and self.monthly_request_quota_per_user is None:
            raise refuse(
                "monthly_request_quota_per_user",
                "a fee beyond the quota needs the quota",
                "des frais au-delà du quota supposent un quota",
            )
        return self


class SecurityTerms(TermsModel):
    single_session: bool  # SEC-01 [001 §17] one connection at a time per identifier
    max_admin_accounts: PosInt | None  # SEC-01 [003 §4]; None: as many as needed
    breach_notification_hours: PosInt  # SEC-03 [000 §7.5] 72 h


class EquipmentMode(StrEnum):
    RENTAL = "rental"  # CTR-10 first rent then a monthly fee
    PROVISION = "provision"  # CTR-10 [001 §12.5] billed once, refunded on return minus depreciation
    LOAN = "loan"  # CTR-10 [004 §1.4.1] made available free, stays the operator's property
    SALE = "sale"  # [004 §1.4.2]


class NonReturnBilling(StrEnum):
    FLAT_VALUE = "flat_value"  # CTR-10 [001 §12.5]
    NEW_VALUE = "new_value"  # CTR-10 [004 §1.4.1]


class EquipmentTerms(TermsModel):
    modes: Annotated[tuple[EquipmentMode, ...], Field(min_length=1)]  # CTR-10
    return_within: Delay  # CTR-10 after termination: 10 days [001], 5 calendar days [004]
    non_return_billing: NonReturnBilling  # CTR-10
    depreciation_percent_per_year: Percent | None  # CTR-10 [001 §12.5] 20 % a year
    inspection_days: PosInt | None  # CTR-10 [001 §12.5] refund after inspection within 45 days
    loss_or_theft_billed_at_new_value: bool  # CTR-10 [004 §1.4.1]
    loss_suspension_billed: bool  # CTR-10 [004 §1.4.1] suspension on request is billed
    subscriptions_due_during_loss_suspension: bool  # CTR-10 [004 §1.4.1]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _unique(self.modes):
            raise refuse("modes", "a mode is listed twice", "un mode est en double")
        refund_rule = (self.depreciation_percent_per_year, self.inspection_days)
        if EquipmentMode.PROVISION in self.modes and None in refund_rule:
            raise refuse(
                "depreciation_percent_per_year",
                "provided equipment needs its depreciation and inspection delay",
                "le matériel mis à disposition demande sa décote et son délai de vérification",
            )
        return self


# --------------------------------------------------------------------------------------------
# The terms and the offer
# --------------------------------------------------------------------------------------------


class ContractTerms(TermsModel):
    """Everything a contract's engines read. Frozen into the contract at signature (CTR-01)."""

    commitment: CommitmentTerms  # CTR-02, CTR-03, CTR-04
    billing: BillingTerms  # BIL-01..05, BIL-08..18, CTR-05
    late_payment: LatePaymentTerms  # BIL-06, CTR-06
    disputes: DisputeTerms  # BIL-07
    suspension: SuspensionTerms  # CTR-06
    termination: TerminationTerms  # CTR-05, CTR-07, CTR-11, CTR-14
    inactivity: InactivityTerms | None = None  # CTR-08
    post_termination: PostTerminationTerms  # CTR-09
    orders: OrderTerms  # CTR-12
    changes: ChangeTerms  # CTR-13
    limits: UsageLimits  # VOX-03/05/06/07, MAIL-08, SMS-08
    voice: VoiceRules | None = None  # VOX-01/02/04/06/09/10/11
    quality: QualityThresholds | None = None  # VOX-08
    penalties: PenaltyTable | None = None  # VOX-16, VOX-09, BIL-14
    sms: SmsRules | None = None  # SMS-02..07
    mail: MailRules | None = None  # MAIL-02/03/09/12
    sla: SlaTerms | None = None  # MAIL-06, SUP-02
    retention: RetentionTerms  # PRIV-02
    support: SupportTerms  # SUP-01, SUP-03
    security: SecurityTerms  # SEC-01, SEC-03
    equipment: EquipmentTerms | None = None  # CTR-10

    @model_validator(mode="after")
    def _check(self) -> Self:
        deletion = self.post_termination.end_customer_data_deletion_days
        kept = self.retention.end_customer_data_days
        if deletion is not None and kept is not None and deletion != kept:
            raise refuse(
                "retention.end_customer_data_days",
                f"{kept} days, but post_termination deletes the data after {deletion} days",
                f"{kept} jours, mais post_termination efface les données après {deletion} jours",
            )
        if self.mail is not None and self.retention.mail_days is None:
            raise refuse(
                "retention.mail_days",
                "the mail rules keep mail (quarantine, buffering): how long is missing",
                "les règles mail conservent du courrier (quarantaine, mise en attente) : la "
                "durée manque",
            )
        if self.quality is not None and self.voice is None:
            raise refuse(
                "voice",
                "quality thresholds apply to voice traffic: the voice rules are missing",
                "les seuils de qualité portent sur la voix : les règles voix manquent",
            )
        return self


# Which group each service needs: an engine for the service reads it.
_REQUIRED_GROUPS: dict[Service, str] = {
    **{service: "voice" for service in VOICE_SERVICES},
    Service.SPECIAL_NUMBERS: "penalties",
    Service.SMS: "sms",
    Service.MAIL_IN: "mail",
    Service.MAIL_OUT: "mail",
}


class OfferTemplate(TermsModel):
    """An offer of the catalogue: what is sold, at what price, under which default terms."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=40)]
    seed: Annotated[str, Field(pattern=r"^[0-9]{3}$")]  # the seed document it is modelled on
    name: LocalizedText
    description: LocalizedText
    services: Annotated[tuple[Service, ...], Field(min_length=1)]
    prices: tuple[PriceItem, ...]  # BIL-17
    terms: ContractTerms

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _unique(self.services):
            raise refuse("services", "a service is listed twice", "un service est en double")
        codes = [item.code for item in self.prices]
        for index, code in enumerate(codes):
            if code in codes[:index]:
                raise refuse(
                    f"prices.{index}.code",
                    f"the price code {code!r} is used twice",
                    f"le code tarifaire {code!r} est utilisé deux fois",
                )
        sms = self.terms.sms
        sms_codes = (
            {
                "segment_price_code": sms.segment_price_code,
                "sender_request_price_code": sms.sender_request_price_code,
            }
            if sms is not None
            else {}
        )
        for name, sms_code in sms_codes.items():
            if sms_code is not None and sms_code not in codes:
                raise refuse(
                    f"terms.sms.{name}",
                    f"the price code {sms_code!r} is not in the price list",
                    f"le code tarifaire {sms_code!r} n'est pas dans la liste de prix",
                )
        for quota_code in self.terms.support.quota_user_items:  # SUP-03 users counted on these
            if quota_code not in codes:
                raise refuse(
                    "terms.support.quota_user_items",
                    f"the price code {quota_code!r} is not in the price list",
                    f"le code tarifaire {quota_code!r} n'est pas dans la liste de prix",
                )
        for service in self.services:
            group = _REQUIRED_GROUPS.get(service)
            if group is not None and getattr(self.terms, group) is None:
                raise refuse(
                    f"terms.{group}",
                    f"the offer includes {service.value}, whose engine needs terms.{group}",
                    f"l'offre comprend {service.value}, dont le moteur lit terms.{group}",
                )
        return self

    def price(self, code: str) -> PriceItem | None:
        """The price-list item with this code, if any."""
        return next((item for item in self.prices if item.code == code), None)
