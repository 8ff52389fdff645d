"""Alembic environment: migrations run on the connection the workspace hands over.

mlaudit applies migrations itself when a workspace is opened (``store.db.migrate``); there is
no alembic.ini. To write a new migration, add a file to ``versions/`` by hand, named
``NNNN_what.py``, with ``down_revision`` set to the previous one.
"""

from __future__ import annotations

from alembic import context

from mlaudit.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
