"""The workspace's SQL tables (SQLAlchemy Core), one metadata object for all of them.

The schema is created and changed only by Alembic migrations in ``store/migrations``; this
module describes it for queries. A test checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "alerts",
    "api_tokens",
    "approvals",
    "artifacts",
    "auth_events",
    "credentials",
    "dataset_partitions",
    "dataset_versions",
    "datasets",
    "dead_letters",
    "erasures",
    "finding_events",
    "findings",
    "group_members",
    "idempotency_keys",
    "ledger_checkpoints",
    "ledger_events",
    "ledger_head",
    "ledger_nodes",
    "legal_holds",
    "lineage_edges",
    "lineage_runs",
    "metadata",
    "model_facts",
    "model_risk",
    "model_transitions",
    "model_versions",
    "models",
    "monitor_windows",
    "monitors",
    "notifications",
    "oversight_records",
    "partitioned_datasets",
    "policy_exceptions",
    "prediction_batches",
    "results",
    "role_bindings",
    "sessions",
    "users",
    "workspace_meta",
]

metadata = MetaData()

workspace_meta = Table(
    "workspace_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row (id = 1): the last appended event. Writers lock it (FOR UPDATE on PostgreSQL,
# BEGIN IMMEDIATE on SQLite) so that concurrent appends form one gap-free chain.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(128), nullable=False, index=True),
    Column("subject", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Hashes of the perfect, aligned subtrees of the RFC 6962 tree over event hashes:
# (level L, index i) covers events [i * 2**L, (i + 1) * 2**L). Level 0 holds leaf hashes.
ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", Text, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("digest", String(71), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(128), nullable=False),
    Column("name", Text, nullable=True),
    Column("created", String(32), nullable=False),
    Column("erased", String(32), nullable=True),
)

# Stored outcomes of checks, drift reports and audits: JSON documents with their ledger seq.
results = Table(
    "results",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(64), nullable=False, index=True),
    Column("subject", Text, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("created", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("document", Text, nullable=False),
)

# Datasets and their immutable, content-fingerprinted versions (issue 4).
datasets = Table(
    "datasets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("created", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("description", Text, nullable=True),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("dataset", String(200), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("fingerprint", String(71), nullable=False),
    Column("unordered", Integer, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("columns", Integer, nullable=False),
    Column("schema", Text, nullable=False),  # JSON list of {"name", "type"}
    Column("profile", String(71), nullable=True),  # artifact digest of the profile bytes
    Column("data", String(71), nullable=True),  # artifact digest of a Parquet snapshot, if kept
    Column("source", Text, nullable=True),  # URI with credentials stripped
    Column("query", Text, nullable=True),
    Column("pii", Text, nullable=False),  # JSON list of findings (masked examples only)
    Column("created", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

# Lineage: runs of jobs, and what each run consumed and produced (issue 4).
lineage_runs = Table(
    "lineage_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("job", String(300), nullable=False, index=True),
    Column("namespace", String(300), nullable=False),
    Column("started", String(32), nullable=False),
    Column("ended", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("actor", Text, nullable=False),
    Column("facets", Text, nullable=False),  # JSON: git commit, code path, parameters, ...
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False, index=True),
    Column("node", String(400), nullable=False, index=True),
    Column("direction", String(8), nullable=False),  # "consumed" | "produced"
    Column("columns", Text, nullable=True),  # JSON column-level mapping, if given
    Column("created", String(32), nullable=False),
)

# Registered models and their versions (issue 5).
models = Table(
    "models",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("created", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("owner", Text, nullable=True),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(200), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("framework", String(32), nullable=False),
    Column("fingerprint", String(71), nullable=False),
    Column("artifact", String(71), nullable=True),  # digest of the stored artifact bytes
    Column("uri", Text, nullable=True),  # where the model lives when not stored (HTTP endpoint)
    Column("task", String(16), nullable=True),
    Column("classes", Text, nullable=False),  # JSON
    Column("features", Text, nullable=False),  # JSON
    Column("target", Text, nullable=True),
    Column("sensitive", Text, nullable=False),  # JSON
    Column("trained_on", Text, nullable=False),  # JSON list of lineage nodes
    Column("owner", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("created", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

# Human-written documentation facts of a model, one row per field (issue 6): the
# ``model.described`` event at ``seq`` set ``value``.
model_facts = Table(
    "model_facts",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
)


# --- governance (migration 0005): every row was written with the ledger event at ``seq`` ----


def _who() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("created", String(32), nullable=False),
        Column("actor", Text, nullable=False),
        Column("seq", BigInteger, nullable=False),
    ]


users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("display_name", Text),
    Column("email", Text),
    Column("disabled", Boolean, nullable=False),
    *_who(),
)
group_members = Table(
    "group_members",
    metadata,
    Column("group_name", String(200), primary_key=True),
    Column("user_name", String(200), primary_key=True),
    *_who(),
)
role_bindings = Table(
    "role_bindings",
    metadata,
    Column("principal", String(220), primary_key=True),  # "user:NAME" or "group:NAME"
    Column("role", String(32), primary_key=True),
    Column("project", String(200), primary_key=True),  # "*" = every project
    *_who(),
)
model_transitions = Table(
    "model_transitions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("version_id", String(32), nullable=False, index=True),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("reason", Text),
    *_who(),
)
approvals = Table(
    "approvals",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("version_id", String(32), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("evidence", Text),
    *_who(),
)
findings = Table(
    "findings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(200), nullable=False, index=True),
    Column("version_id", String(32)),
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner", Text),
    Column("due", String(32)),
    Column("source", Text),
    Column("updated", String(32), nullable=False),
    *_who(),
)
finding_events = Table(
    "finding_events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("finding_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("text", Text),
    Column("status", String(16)),
    *_who(),
)
model_risk = Table(
    "model_risk",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("tier", String(16), nullable=False),
    Column("inputs", Text, nullable=False),
    Column("updated", String(32), nullable=False),
    *_who(),
)


# --- retention, oversight and exceptions (migration 0006, issue 7) ---------------------------

legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("subject", String(300), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("released", String(32)),
    Column("released_by", Text),
    *_who(),
)
erasures = Table(
    "erasures",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("dataset", String(200), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("digests", Text, nullable=False),
    Column("reason", Text, nullable=False),
    *_who(),
)
oversight_records = Table(
    "oversight_records",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(200), nullable=False, index=True),
    Column("version_id", String(32)),
    Column("case_id", Text, nullable=False),
    Column("model_output", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("rationale", Text, nullable=False),
    *_who(),
)
policy_exceptions = Table(
    "policy_exceptions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(200), nullable=False, index=True),
    Column("version_id", String(32)),
    Column("rule", String(64), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("expires", String(32), nullable=False),
    Column("revoked", String(32)),
    Column("revoked_by", Text),
    *_who(),
)

# --- server authentication (migration 0006, issue 8): not ledgered row by row ----------------

credentials = Table(
    "credentials",
    metadata,
    Column("user_name", String(200), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("updated", String(32), nullable=False),
    *_who(),
)
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_name", String(200), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),
    Column("expires", String(32), nullable=False),
    Column("revoked", String(32)),
    Column("last_used", String(32)),
    *_who(),
)
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_name", String(200), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created", String(32), nullable=False),
    Column("expires", String(32), nullable=False),
    Column("last_seen", String(32), nullable=False),
    Column("revoked", String(32)),
)
auth_events = Table(
    "auth_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", String(32), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("user_name", Text),
    Column("client", Text),
    Column("detail", Text),
)
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("principal", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created", String(32), nullable=False),
)

# --- prediction log (migration 0006, issue 9): one row per stored Parquet batch --------------

prediction_batches = Table(
    "prediction_batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model", String(200), nullable=False, index=True),
    Column("version_id", String(32)),
    Column("kind", String(16), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("artifact", String(71), nullable=False),
    Column("first_time", String(32)),
    Column("last_time", String(32)),
    Column("batch_key", String(200), unique=True),
    *_who(),
)


# --- continuous monitoring (migration 0007, issue 9) -----------------------------------------

monitors = Table(
    "monitors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("model", String(200), nullable=False, index=True),
    Column("version_id", String(32)),
    Column("spec", Text, nullable=False),
    Column("disabled", String(32)),
    Column("updated", String(32), nullable=False),
    *_who(),
)
monitor_windows = Table(
    "monitor_windows",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("monitor", String(200), nullable=False, index=True),
    Column("start", String(32), nullable=False),
    Column("end", String(32), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("labelled", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("result_id", String(32)),
    Column("profile", String(71)),
    Column("metrics", Text, nullable=False),
    *_who(),
    UniqueConstraint("monitor", "start", "end", name="uq_monitor_window"),
)
alerts = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("monitor", String(200), nullable=False, index=True),
    Column("rule", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("opened", String(32), nullable=False),
    Column("resolved", String(32)),
    Column("window_id", String(32)),
    Column("value", Float),
    Column("message", Text, nullable=False),
    *_who(),
)
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("alert_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("next_attempt", String(32)),
    Column("updated", String(32), nullable=False),
    Column("created", String(32), nullable=False),
    UniqueConstraint("alert_id", "kind", "channel", "target", name="uq_notification_once"),
)
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", Text, nullable=False),
    Column("message_id", Text),
    Column("payload", LargeBinary, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created", String(32), nullable=False),
)
# Partitioned datasets (migration 0008): one layout per name, one row per partition revision.
partitioned_datasets = Table(
    "partitioned_datasets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("time_column", Text, nullable=False),
    Column("every", String(8), nullable=False),
    Column("layout", String(71), nullable=False),
    *_who(),
)
dataset_partitions = Table(
    "dataset_partitions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("dataset", String(200), nullable=False, index=True),
    Column("start", String(32), nullable=False),
    Column("end", String(32), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("profile", String(71), nullable=False),
    Column("fingerprint", String(71), nullable=False),
    Column("layout", String(71), nullable=False),
    *_who(),
    UniqueConstraint("dataset", "start", "revision", name="uq_dataset_partition"),
)
