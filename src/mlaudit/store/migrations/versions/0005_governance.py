"""Governance: users, groups, role bindings, lifecycle transitions, approvals, findings, risk tiers.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
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
        "users",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("display_name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        *_who(),
    )
    op.create_table(
        "group_members",
        sa.Column("group_name", sa.String(200), primary_key=True),
        sa.Column("user_name", sa.String(200), primary_key=True),
        *_who(),
    )
    op.create_table(
        "role_bindings",
        sa.Column("principal", sa.String(220), primary_key=True),  # "user:NAME" or "group:NAME"
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("project", sa.String(200), primary_key=True),  # "*" = every project
        *_who(),
    )
    op.create_table(
        "model_transitions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("version_id", sa.String(32), nullable=False, index=True),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        *_who(),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("version_id", sa.String(32), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text),  # JSON: result ids / digests the decision was based on
        *_who(),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False, index=True),
        sa.Column("version_id", sa.String(32)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("due", sa.String(32)),
        sa.Column("source", sa.Text),  # JSON: {"result": id, "check": name} or {"raised_by": person}
        sa.Column("updated", sa.String(32), nullable=False),
        *_who(),
    )
    op.create_table(
        "finding_events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("finding_id", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),  # comment | status
        sa.Column("text", sa.Text),
        sa.Column("status", sa.String(16)),
        *_who(),
    )
    op.create_table(
        "model_risk",
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),  # JSON: materiality, complexity, use, method
        sa.Column("updated", sa.String(32), nullable=False),
        *_who(),
    )


def downgrade() -> None:
    for name in (
        "model_risk", "finding_events", "findings", "approvals", "model_transitions",
        "role_bindings", "group_members", "users",
    ):  # fmt: skip
        op.drop_table(name)
