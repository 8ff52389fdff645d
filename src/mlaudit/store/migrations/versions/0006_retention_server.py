"""Retention and oversight (issue 7), server authentication (issue 8), prediction log (issue 9).

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _who() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    # --- governance: legal holds, erasures, human-oversight records, policy exceptions
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(300), nullable=False, index=True),  # "dataset:NAME[@vN]", "model:NAME"
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("released", sa.String(32)),
        sa.Column("released_by", sa.Text),
        *_who(),
    )
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(200), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digests", sa.Text, nullable=False),  # JSON list of erased artifact digests
        sa.Column("reason", sa.Text, nullable=False),
        *_who(),
    )
    op.create_table(
        "oversight_records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False, index=True),
        sa.Column("version_id", sa.String(32)),
        sa.Column("case_id", sa.Text, nullable=False),  # prediction id or business case reference
        sa.Column("model_output", sa.Text, nullable=False),  # JSON
        sa.Column("decision", sa.Text, nullable=False),  # JSON: what the human decided instead
        sa.Column("rationale", sa.Text, nullable=False),
        *_who(),
    )
    op.create_table(
        "policy_exceptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False, index=True),
        sa.Column("version_id", sa.String(32)),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("expires", sa.String(32), nullable=False),
        sa.Column("revoked", sa.String(32)),
        sa.Column("revoked_by", sa.Text),
        *_who(),
    )
    # --- server authentication: passwords, API tokens, sessions, security log, idempotency
    op.create_table(
        "credentials",
        sa.Column("user_name", sa.String(200), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),  # argon2id
        sa.Column("updated", sa.String(32), nullable=False),
        *_who(),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(200), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 hex
        sa.Column("scopes", sa.Text, nullable=False),  # JSON list: "read", "write", "admin"
        sa.Column("expires", sa.String(32), nullable=False),
        sa.Column("revoked", sa.String(32)),
        sa.Column("last_used", sa.String(32)),
        *_who(),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),  # sha256 hex of the cookie value
        sa.Column("user_name", sa.String(200), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("expires", sa.String(32), nullable=False),
        sa.Column("last_seen", sa.String(32), nullable=False),
        sa.Column("revoked", sa.String(32)),
    )
    op.create_table(
        "auth_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),  # login | login_failed | denied | logout | token_*
        sa.Column("user_name", sa.Text),
        sa.Column("client", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("principal", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
    )
    # --- prediction log: one row per stored Parquet batch of predictions or labels
    op.create_table(
        "prediction_batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False, index=True),
        sa.Column("version_id", sa.String(32)),
        sa.Column("kind", sa.String(16), nullable=False),  # predictions | labels
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("artifact", sa.String(71), nullable=False),
        sa.Column("first_time", sa.String(32)),
        sa.Column("last_time", sa.String(32)),
        sa.Column("batch_key", sa.String(200), unique=True),  # idempotency: a re-sent batch is stored once
        *_who(),
    )


def downgrade() -> None:
    for name in (
        "prediction_batches", "idempotency_keys", "auth_events", "sessions", "api_tokens",
        "credentials", "policy_exceptions", "oversight_records", "erasures", "legal_holds",
    ):  # fmt: skip
        op.drop_table(name)
