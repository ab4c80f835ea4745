"""Invoice documents from stored invoices: the French PDF made Factur-X (BIL-12).

An issued invoice never changes, so its document is rendered once, on first download, and kept
under ``<data_dir>/invoices/<operator id>/`` to be served identically afterwards (kept 5 years,
BIL-12).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from operateur.accounts.models import Customer, Operator
from operateur.billing.documents import (
    DocumentLine,
    InvoiceDocument,
    Party,
    VatBreakdown,
    facturx_pdf,
)
from operateur.billing.invoicing import vat_amount
from operateur.billing.models import Invoice, InvoiceKind
from operateur.billing.penalties import rule_text
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.domain.money import round_money
from operateur.i18n import Lang


def _party(entity: Operator | Customer) -> Party:
    return Party(
        name=entity.name,
        legal_form=entity.legal_form or "",
        siren=entity.siren or "",
        siret=getattr(entity, "siret", None),
        vat_number=entity.vat_number,
        address_line=entity.address_line,
        postal_code=entity.postal_code,
        city=entity.city,
        country=entity.country,
        email=entity.email,
        iban=entity.iban if isinstance(entity, Operator) else None,
        bic=entity.bic if isinstance(entity, Operator) else None,
    )


def _lines(invoice: Invoice) -> tuple[DocumentLine, ...]:
    lines = []
    for line in invoice.lines:
        # a deduction is a negative quantity at a positive price (EN 16931 BR-27)
        sign = -1 if line.unit_price < 0 else 1
        lines.append(
            DocumentLine(
                description=line.description,
                quantity=line.quantity * sign,
                unit=line.unit,
                unit_price=line.unit_price * sign,
                vat_rate=line.vat_rate,
                vat_category=line.vat_category,  # type: ignore[arg-type]
                net_amount=line.net_amount,
            )
        )
    return tuple(lines)


def _breakdown(invoice: Invoice) -> tuple[VatBreakdown, ...]:
    bases: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in invoice.lines:
        bases[(line.vat_category, line.vat_rate)] += line.net_amount
    return tuple(
        VatBreakdown(
            category=category,  # type: ignore[arg-type]
            rate=rate,
            taxable_amount=round_money(base),
            tax_amount=vat_amount(base, rate),
            exemption_reason=invoice.vat_exemption_reason if category == "E" else None,
        )
        for (category, rate), base in sorted(bases.items())
    )


def invoice_document(session: Session, invoice: Invoice) -> InvoiceDocument:
    operator = session.get(Operator, invoice.operator_id)
    customer = session.get(Customer, invoice.customer_id)
    contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
    assert operator is not None and customer is not None and contract is not None
    terms = contracts.terms_of(contract)
    lang: Lang = "en" if invoice.lang == "en" else "fr"
    preceding = (
        session.get(Invoice, invoice.preceding_invoice_id) if invoice.preceding_invoice_id else None
    )
    days = terms.billing.payment_term_days
    payment_terms = f"Payment within {days} days" if lang == "en" else f"Paiement à {days} jours"
    return InvoiceDocument(
        kind="credit_note" if invoice.kind is InvoiceKind.CREDIT_NOTE else "invoice",
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        period_start=invoice.period_start or invoice.issue_date,
        period_end=invoice.period_end or invoice.issue_date,
        seller=_party(operator),
        buyer=_party(customer),
        lines=_lines(invoice),
        vat_breakdown=_breakdown(invoice),
        total_net=invoice.total_net,
        total_vat=invoice.total_vat,
        total_gross=invoice.total_gross,
        amount_due=invoice.total_gross if invoice.kind is InvoiceKind.INVOICE else Decimal("0"),
        payment_terms_text=payment_terms,
        late_penalty_text=rule_text(terms.late_payment).render(lang),
        recovery_indemnity=terms.late_payment.recovery_indemnity or Decimal("0"),
        reverse_charge=invoice.reverse_charge,
        vat_on_debits=False,
        supply_type="services",
        preceding_invoice_number=preceding.number if preceding else None,
        preceding_invoice_date=preceding.issue_date if preceding else None,
        payment_method=customer.payment_method.value,
        lang=lang,
    )


def invoice_pdf(session: Session, invoice: Invoice, data_dir: Path) -> bytes:
    """The invoice's Factur-X PDF, rendered once and then served from the archive."""
    archive = data_dir / "invoices" / str(invoice.operator_id) / f"{invoice.number}.pdf"
    if archive.exists():
        return archive.read_bytes()
    pdf = facturx_pdf(invoice_document(session, invoice))
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_suffix(".part")
    partial.write_bytes(pdf)
    partial.replace(archive)
    return pdf
