"""Partitioned monitoring (issue 10): partitioned datasets and their per-partition profiles.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _who() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "partitioned_datasets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("time_column", sa.Text, nullable=False),
        sa.Column("every", sa.String(8), nullable=False),  # hour | day | week | month
        sa.Column("layout", sa.String(71), nullable=False),  # artifact digest: columns, kinds, bin edges
        *_who(),
    )
    op.create_table(
        "dataset_partitions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(200), nullable=False, index=True),
        sa.Column("start", sa.String(32), nullable=False),
        sa.Column("end", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),  # 1, then 2, ... when replaced
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("profile", sa.String(71), nullable=False),  # artifact digest of the mergeable profile
        sa.Column("fingerprint", sa.String(71), nullable=False),  # content of the partition's rows
        sa.Column("layout", sa.String(71), nullable=False),
        *_who(),
        sa.UniqueConstraint("dataset", "start", "revision", name="uq_dataset_partition"),
    )


def downgrade() -> None:
    for name in ("dataset_partitions", "partitioned_datasets"):
        op.drop_table(name)
