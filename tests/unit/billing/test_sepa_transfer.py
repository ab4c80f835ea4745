"""The pain.001 builder on its own: what it refuses, naming the field (BIL-07)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from operateur.billing.sepa import DebtorAddress
from operateur.billing.sepa_transfer import CreditTransfer, Debtor, build_pain001
from operateur.errors import InvalidInput

DEBTOR = Debtor(
    name="Opérateur Test",
    iban="FR7630004000031234567890143",
    bic="BNPAFRPP",
    address=DebtorAddress(country="FR", lines=("1 place du Test", "69001 Lyon")),
)
CREATED = datetime(2026, 2, 23, 9, 30, tzinfo=UTC)


def _transfer(**changes: object) -> CreditTransfer:
    values: dict[str, object] = {
        "end_to_end_id": "REFUND-1",
        "creditor_name": "Client",
        "iban": "FR7630006000011234567890189",
        "bic": None,
        "amount": Decimal("10.00"),
        "remittance": "Remboursement 1 facture F2026-000001",
    }
    return CreditTransfer(**(values | changes))  # type: ignore[arg-type]


def _build(*transfers: CreditTransfer) -> bytes:
    return build_pain001(
        DEBTOR,
        transfers,
        message_id="RFD-20260223-103000-AAAA-BBBB",
        created_at=CREATED,
        execution_date=date(2026, 2, 23),
    )


# SPEC: BIL-07
def test_an_account_outside_the_eea_needs_its_bic() -> None:
    with pytest.raises(InvalidInput) as refused:
        _transfer(iban="CH9300762011623852957")
    assert refused.value.field == "bic"
    swiss = _transfer(iban="CH9300762011623852957", bic="UBSWCHZH80A")
    assert b"<BIC>UBSWCHZH80A</BIC>" in _build(swiss)


# SPEC: BIL-07
def test_a_float_amount_or_more_than_two_decimals_is_refused() -> None:
    for amount in (10.5, Decimal("10.005"), Decimal("0")):
        with pytest.raises(InvalidInput) as refused:
            _transfer(amount=amount)
        assert refused.value.field == "amount"


# SPEC: BIL-07
def test_one_end_to_end_id_twice_or_a_transfer_to_the_debtor_is_refused() -> None:
    with pytest.raises(InvalidInput) as twice:
        _build(_transfer(), _transfer(iban="FR1420041010050500013M02606"))
    assert twice.value.field == "transfers[1].end_to_end_id"
    with pytest.raises(InvalidInput) as own:
        _build(_transfer(iban=DEBTOR.iban))
    assert own.value.field == "transfers[0].iban"
    with pytest.raises(InvalidInput) as empty:
        _build()
    assert empty.value.field == "transfers"


# SPEC: BIL-07
def test_the_same_batch_built_twice_is_the_same_file() -> None:
    first = _build(_transfer(), _transfer(end_to_end_id="REFUND-2", amount=Decimal("0.01")))
    assert first == _build(_transfer(), _transfer(end_to_end_id="REFUND-2", amount=Decimal("0.01")))
    assert b"<PmtInfId>RFD-20260223-103000-AAAA-BBBB-1</PmtInfId>" in first
    assert b"<CtrlSum>10.01</CtrlSum>" in first and b"<Ctry>FR</Ctry>" in first
