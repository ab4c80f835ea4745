"""Refund transfers the bank sent back (BIL-07 [004 §9.4]): each refund counts the transfers
made for it (its end-to-end id names the attempt), keeps the IBAN of the last one and, when the
bank returned or rejected it, the date and the reason code.

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"  # the refunds table
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transfer_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("transfer_iban", sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column("returned_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("return_code", sa.String(length=10), nullable=True))
    # Refunds already in a transfer file went in their first one (end-to-end id REFUND-<id>).
    op.execute("UPDATE refunds SET transfer_attempts = 1 WHERE status = 'sent'")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("transfer_attempts", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("return_code")
        batch_op.drop_column("returned_on")
        batch_op.drop_column("transfer_iban")
        batch_op.drop_column("transfer_attempts")
