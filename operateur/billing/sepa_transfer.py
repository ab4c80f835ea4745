"""SEPA Credit Transfer (SCT): the pain.001 file a treasury uploads to its bank (BIL-07).

Pure code on frozen dataclasses, no database and no I/O, like :mod:`operateur.billing.sepa`
(pain.008 direct debits) whose checks it reuses. :func:`build_pain001` turns the operator's
account (:class:`Debtor`) and a list of :class:`CreditTransfer` into one
``pain.001.001.03`` document built by ``sepaxml`` (``SepaTransfer``) and validated by it
against the ISO XSD it ships (``export(validate=True)``).

Standards followed
    - ISO 20022 ``pain.001.001.03``, the customer credit transfer initiation every SEPA bank
      takes (French banks' "virements SEPA" remittances).
    - EPC SCT Rulebook (EPC125-05) and its Customer-to-PSP implementation guidelines
      (EPC132-08): the Latin character set, 35-character identifiers, 70-character names,
      140 characters of unstructured remittance information, amounts from 0.01 to
      999 999 999.99 EUR; the beneficiary bank's BIC (AT-23) is needed only for an account in a
      SEPA country outside the EEA; the originator's address (AT-03) goes with every file, as
      Regulation (EU) 2023/1113 on information accompanying transfers of funds requires it
      for a payee bank outside the EEA.

Deterministic output: the message id, the creation time and the payment block ids are ours,
so the same batch rebuilt gives the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sepaxml import SepaTransfer  # type: ignore[import-untyped]
from sepaxml.validation import ValidationError  # type: ignore[import-untyped]

from operateur.billing.sepa import (
    CURRENCY,
    EEA_COUNTRIES,
    NAME_MAX,
    REMITTANCE_MAX,
    DebtorAddress,
    _check_amount,
    _check_date,
    _check_identifier,
    _check_name,
    _check_text,
    _invalid,
    _sepa_iban,
    _set,
    _to_cents,
)
from operateur.domain.calendar import PARIS
from operateur.domain.identifiers import validate_bic

__all__ = ["SCHEMA", "CreditTransfer", "Debtor", "build_pain001"]

SCHEMA: Final = "pain.001.001.03"


@dataclass(frozen=True)
class Debtor:
    """The operator paying: its name, account, bank and postal address. Values are checked and
    normalised when built; a bad one raises :class:`InvalidInput` naming it."""

    name: str
    iban: str
    bic: str
    address: DebtorAddress

    def __post_init__(self) -> None:
        _set(self, "name", _check_name(self.name, "name"))
        _set(self, "iban", _sepa_iban(self.iban, "iban"))
        _set(self, "bic", validate_bic(self.bic, field="bic"))
        if not isinstance(self.address, DebtorAddress):
            raise _invalid(
                "Adresse du donneur d'ordre invalide.",
                "Invalid debtor address.",
                field="address",
                reason="bad_type",
            )


@dataclass(frozen=True)
class CreditTransfer:
    """One transfer: ``amount`` EUR (a ``Decimal``, 2 decimals at most) to ``creditor_name``'s
    account ``iban``. ``bic`` is needed for an account outside the EEA; ``end_to_end_id`` is the
    reference the beneficiary's statement shows (unique in a file); ``remittance`` the text
    they read (140 characters of the SEPA set)."""

    end_to_end_id: str
    creditor_name: str
    iban: str
    bic: str | None
    amount: Decimal
    remittance: str

    def __post_init__(self) -> None:
        _set(self, "end_to_end_id", _check_identifier(self.end_to_end_id, "end_to_end_id"))
        _set(self, "creditor_name", _check_name(self.creditor_name, "name", max_length=NAME_MAX))
        _set(self, "iban", _sepa_iban(self.iban, "iban"))
        if self.bic is not None:
            _set(self, "bic", validate_bic(self.bic, field="bic"))
        country = self.iban[:2]
        if self.bic is None and country not in EEA_COUNTRIES:
            # EPC SCT rulebook AT-23: the BIC of the beneficiary's bank is mandatory when that
            # bank is in a SEPA country outside the EEA.
            raise _invalid(
                "Le BIC est obligatoire pour un compte hors de l'EEE ({country}).",
                "The BIC is required for an account outside the EEA ({country}).",
                field="bic",
                country=country,
                reason="required_outside_eea",
            )
        _set(self, "amount", _check_amount(self.amount, "amount"))
        _set(
            self,
            "remittance",
            _check_text(self.remittance, "remittance", max_length=REMITTANCE_MAX),
        )


class _Pain001(SepaTransfer):  # type: ignore[misc]  # sepaxml is untyped
    """``SepaTransfer`` writing our message id, creation time and payment block ids (sepaxml
    draws them at random and from the clock), so that a batch rebuilt is the same file."""

    def __init__(self, config: dict[str, Any], *, message_id: str, created_at: datetime) -> None:
        super().__init__(config, schema=SCHEMA, clean=False)
        self._message_id = message_id
        header = self._xml.find("CstmrCdtTrfInitn/GrpHdr")
        header.find("MsgId").text = message_id
        header.find("CreDtTm").text = created_at.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M:%S")

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        for number, block in enumerate(self._xml.iter("PmtInf"), start=1):
            block.find("PmtInfId").text = f"{self._message_id}-{number}"


def build_pain001(
    debtor: Debtor,
    transfers: Sequence[CreditTransfer],
    *,
    message_id: str,
    created_at: datetime,
    execution_date: date,
) -> bytes:
    """One ``pain.001.001.03`` document paying every transfer from ``debtor``'s account on
    ``execution_date``, in one payment block (``<message_id>-1``), validated against the XSD.

    ``message_id`` (at most 35 characters) must be unique for the bank; ``created_at`` is a
    timezone-aware time written as Paris local time. An empty list, a repeated end-to-end id
    or a transfer to the debtor's own account raise :class:`InvalidInput` naming the transfer
    (``transfers[2].end_to_end_id``)."""
    if not isinstance(debtor, Debtor):
        raise _invalid(
            "Donneur d'ordre manquant ou invalide.",
            "Missing or invalid debtor.",
            field="debtor",
            reason="bad_type",
        )
    message_id = _check_identifier(message_id, "message_id")
    if not isinstance(created_at, datetime) or created_at.utcoffset() is None:
        raise ValueError("created_at must be a timezone-aware datetime")
    _check_date(execution_date, "execution_date")
    batch = list(transfers)
    if not batch:
        raise _invalid(
            "Aucun virement à émettre.", "No transfer to send.", field="transfers", reason="empty"
        )
    seen: dict[str, int] = {}
    for index, transfer in enumerate(batch):
        if not isinstance(transfer, CreditTransfer):
            raise _invalid(
                "Le virement n° {index} n'est pas un CreditTransfer.",
                "Transfer #{index} is not a CreditTransfer.",
                field=f"transfers[{index}]",
                index=index,
                reason="bad_type",
            )
        if transfer.end_to_end_id in seen:
            raise _invalid(
                "Référence de bout en bout « {value} » déjà utilisée par le virement n° {other}.",
                "End-to-end id “{value}” is already used by transfer #{other}.",
                field=f"transfers[{index}].end_to_end_id",
                value=transfer.end_to_end_id,
                other=seen[transfer.end_to_end_id],
                reason="duplicate",
            )
        if transfer.iban == debtor.iban:
            raise _invalid(
                "Le compte du bénéficiaire est celui du donneur d'ordre.",
                "The beneficiary's account is the debtor's own account.",
                field=f"transfers[{index}].iban",
                value=transfer.iban,
                reason="debtor_account",
            )
        seen[transfer.end_to_end_id] = index

    config: dict[str, Any] = {
        "name": debtor.name,
        "IBAN": debtor.iban,
        "BIC": debtor.bic,
        "batch": True,  # one PmtInf per execution date: a single one here
        "currency": CURRENCY,
        "address": {"country": debtor.address.country, "lines": list(debtor.address.lines)},
    }
    document = _Pain001(config, message_id=message_id, created_at=created_at)
    for transfer in batch:
        payment: dict[str, Any] = {
            "name": transfer.creditor_name,
            "IBAN": transfer.iban,
            "amount": _to_cents(transfer.amount),
            "execution_date": execution_date,
            "description": transfer.remittance,
            "endtoend_id": transfer.end_to_end_id,
        }
        if transfer.bic is not None:
            payment["BIC"] = transfer.bic
        document.add_payment(payment)
    try:
        xml: bytes = document.export(validate=True)  # sepaxml checks it against its ISO XSD
    except ValidationError as error:  # our checks let something through: name what failed
        cause = error.__cause__
        raise _invalid(
            "Le fichier pain.001 ne respecte pas le schéma XSD : {error}.",
            "The pain.001 file does not match the XSD: {error}.",
            field="xml",
            error=str(getattr(cause, "reason", None) or cause or error),
            reason="xsd_invalid",
        ) from error
    return xml
