"""The team server (``mlaudit serve``): a REST API under ``/api/v1`` and a web UI.

It holds no business logic: every route authenticates the caller, checks one permission from
:mod:`mlaudit.governance.permissions` and calls a :class:`~mlaudit.Workspace` service acting as
that user. Needs the ``server`` extra (FastAPI, uvicorn, argon2-cffi, Jinja2).
"""

from __future__ import annotations

from mlaudit.server.app import PUBLIC_ROUTES, create_app

__all__ = ["PUBLIC_ROUTES", "create_app"]
