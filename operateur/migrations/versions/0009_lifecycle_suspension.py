"""Contract lifecycle: the dated days of each suspension (billing stops during a suspension
where the terms say so, CTR-06/BIL-06) and the administrators made read-only at termination
(given back their role when a new contract is signed in the read-only window, CTR-09).

Revision ID: 0009
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("lifted_on", sa.Date(), nullable=True))
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_only_admins", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("read_only_admins")
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.drop_column("lifted_on")
        batch_op.drop_column("starts_on")
