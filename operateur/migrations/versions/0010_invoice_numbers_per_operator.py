"""Invoice numbers unique per operator, not across the database: each operator numbers its own
invoices from 1 each year (BIL-03), so a second operator's first invoice is also F2026-000001.

Revision ID: 0010
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint("uq_invoices_number", type_="unique")
        batch_op.create_unique_constraint("uq_invoices_operator_id", ["operator_id", "number"])


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint("uq_invoices_operator_id", type_="unique")
        batch_op.create_unique_constraint("uq_invoices_number", ["number"])
