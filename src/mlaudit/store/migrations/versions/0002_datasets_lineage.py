"""Datasets, dataset versions, lineage runs and edges.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(71), nullable=False),
        sa.Column("unordered", sa.Integer, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("columns", sa.Integer, nullable=False),
        sa.Column("schema", sa.Text, nullable=False),
        sa.Column("profile", sa.String(71), nullable=True),
        sa.Column("data", sa.String(71), nullable=True),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("query", sa.Text, nullable=True),
        sa.Column("pii", sa.Text, nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("dataset", "number", name="uq_dataset_versions_number"),
        sa.UniqueConstraint("dataset", "fingerprint", name="uq_dataset_versions_fingerprint"),
    )
    op.create_index("ix_dataset_versions_dataset", "dataset_versions", ["dataset"])
    op.create_table(
        "lineage_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("job", sa.String(300), nullable=False),
        sa.Column("namespace", sa.String(300), nullable=False),
        sa.Column("started", sa.String(32), nullable=False),
        sa.Column("ended", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("facets", sa.Text, nullable=False),
    )
    op.create_index("ix_lineage_runs_job", "lineage_runs", ["job"])
    op.create_table(
        "lineage_edges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("node", sa.String(400), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("columns", sa.Text, nullable=True),
        sa.Column("created", sa.String(32), nullable=False),
    )
    op.create_index("ix_lineage_edges_run_id", "lineage_edges", ["run_id", "direction"])
    op.create_index("ix_lineage_edges_node", "lineage_edges", ["node", "direction"])


def downgrade() -> None:
    for name in ("lineage_edges", "lineage_runs", "dataset_versions", "datasets"):
        op.drop_table(name)
