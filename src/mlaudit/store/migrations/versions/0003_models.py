"""Registered models and model versions.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=True),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("framework", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.String(71), nullable=False),
        sa.Column("artifact", sa.String(71), nullable=True),
        sa.Column("uri", sa.Text, nullable=True),
        sa.Column("task", sa.String(16), nullable=True),
        sa.Column("classes", sa.Text, nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=True),
        sa.Column("sensitive", sa.Text, nullable=False),
        sa.Column("trained_on", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("model", "number", name="uq_model_versions_number"),
        sa.UniqueConstraint("model", "fingerprint", name="uq_model_versions_fingerprint"),
    )
    op.create_index("ix_model_versions_model", "model_versions", ["model"])


def downgrade() -> None:
    op.drop_table("model_versions")
    op.drop_table("models")
