"""Continuous monitoring (issue 9): monitors, their windows, alerts, notifications, dead letters.

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
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
        "monitors",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False, index=True),
        sa.Column("version_id", sa.String(32)),  # None: follow the deployed version
        sa.Column("spec", sa.Text, nullable=False),  # JSON: suite, reference, window, alert rules, triggers
        sa.Column("disabled", sa.String(32)),
        sa.Column("updated", sa.String(32), nullable=False),
        *_who(),
    )
    op.create_table(
        "monitor_windows",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("monitor", sa.String(200), nullable=False, index=True),
        sa.Column("start", sa.String(32), nullable=False),
        sa.Column("end", sa.String(32), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("labelled", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result_id", sa.String(32)),  # the stored result document of the window
        sa.Column("profile", sa.String(71)),  # artifact digest of the window's mergeable profile
        sa.Column("metrics", sa.Text, nullable=False),  # JSON: the values alert rules read
        *_who(),
        sa.UniqueConstraint("monitor", "start", "end", name="uq_monitor_window"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("monitor", sa.String(200), nullable=False, index=True),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),  # firing | resolved
        sa.Column("opened", sa.String(32), nullable=False),
        sa.Column("resolved", sa.String(32)),
        sa.Column("window_id", sa.String(32)),
        sa.Column("value", sa.Float),
        sa.Column("message", sa.Text, nullable=False),
        *_who(),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("alert_id", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),  # firing | resolved
        sa.Column("channel", sa.String(16), nullable=False),  # webhook | slack | email
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # pending | sent | failed
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt", sa.String(32)),
        sa.Column("updated", sa.String(32), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.UniqueConstraint("alert_id", "kind", "channel", "target", name="uq_notification_once"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),  # e.g. redis://127.0.0.1:6379/predictions
        sa.Column("message_id", sa.Text),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for name in ("dead_letters", "notifications", "alerts", "monitor_windows", "monitors"):
        op.drop_table(name)
