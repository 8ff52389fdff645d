"""``ws.credentials``: passwords, API tokens, login sessions and the security log.

Used by the server (log in, authenticate a request) and by the CLI (set a password, create a
token). Secrets are never stored: passwords as argon2id hashes, tokens and session ids as
SHA-256 of 256-bit random values (a fast hash is right for high-entropy secrets; argon2 is for
what people choose).

- A password change and a token's creation and revocation are ledger events (without the
  secret). Sessions and the security log (logins, failed logins, permission denials) are plain
  tables: they are operational records, many and short-lived, not evidence of a change.
- Tokens look like ``mla_<id>_<secret>``; they carry scopes (``read`` ⊂ ``write`` ⊂ ``admin``)
  that cap what the user's roles allow, and an expiry (at most :data:`MAX_TOKEN_DAYS`).
- Failed logins are counted per user name and per client in the security log, so the rate limit
  holds across several server processes sharing one database.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import require
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import api_tokens, auth_events, credentials, sessions, users

__all__ = [
    "MAX_TOKEN_DAYS",
    "SCOPES",
    "Credentials",
    "Session",
    "Token",
    "scope_for",
    "token_allows",
]

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
MAX_TOKEN_DAYS = 365
MIN_PASSWORD = 12

# actions a ``read`` token may do; ``admin`` scope is needed for these, ``write`` for the rest
_READ = frozenset({
    "workspace.read", "ledger.read", "ledger.verify", "dataset.read", "model.read", "audit.read",
    "inventory.read", "gate.run",
})  # fmt: skip
_ADMIN = frozenset({"user.manage", "retention.manage", "dataset.erase"})


def scope_for(action: str) -> Scope:
    """The least token scope that may perform ``action``."""
    return "read" if action in _READ else "admin" if action in _ADMIN else "write"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Token:
    id: str
    user: str
    name: str
    scopes: list[str]
    expires: str
    revoked: str | None
    last_used: str | None
    created: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Session:
    id: str  # SHA-256 of the cookie value
    user: str
    csrf: str
    expires: str


class Credentials:
    """Passwords, tokens and sessions of one workspace (``ws.credentials``)."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    # --- passwords ------------------------------------------------------------------------

    def set_password(self, user: str, password: str) -> None:
        """Set ``user``'s password: the user themself, or an admin (``user.manage``)."""
        if user != self._actor:
            require(self._store, self._actor, "user.manage")
        if len(password) < MIN_PASSWORD or not password.strip():
            raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
        hashed = _hasher().hash(password)
        with self._store.write(self._actor) as tx:
            row = tx.conn.execute(sa.select(users).where(users.c.name == user)).one_or_none()
            if row is None:
                raise NotFound(f"no user {user!r}", hint=f"add it with `mlaudit user add {user}`")
            event = tx.record("user.password_set", f"user:{user}", {"user": user})
            values = {"password_hash": hashed, "updated": event.ts}
            exists = tx.conn.execute(
                sa.select(credentials.c.user_name).where(credentials.c.user_name == user)
            ).first()
            if exists:
                tx.conn.execute(
                    sa.update(credentials).where(credentials.c.user_name == user).values(**values)
                )
            else:
                tx.conn.execute(
                    sa.insert(credentials).values(
                        user_name=user, created=event.ts, actor=self._actor, seq=event.seq, **values
                    )
                )
            # a new password ends every session of that user
            tx.conn.execute(
                sa.update(sessions)
                .where(sessions.c.user_name == user, sessions.c.revoked.is_(None))
                .values(revoked=event.ts)
            )

    def check_password(self, user: str, password: str) -> bool:
        """Whether ``password`` is ``user``'s (False for unknown or disabled users; constant work)."""
        from argon2.exceptions import VerificationError

        with self._store.read() as conn:
            row = conn.execute(
                sa.select(credentials.c.password_hash, users.c.disabled)
                .join(users, users.c.name == credentials.c.user_name)
                .where(credentials.c.user_name == user)
            ).one_or_none()
        hashed = row.password_hash if row is not None else _dummy_hash()
        try:
            ok = _hasher().verify(hashed, password)
        except VerificationError:
            ok = False
        return bool(ok and row is not None and not row.disabled)

    # --- API tokens -----------------------------------------------------------------------

    def create_token(
        self, name: str, *, scopes: list[str] | None = None, days: int = 90, user: str | None = None
    ) -> tuple[str, Token]:
        """A new token for ``user`` (default: the actor; someone else's needs ``user.manage``).
        Returns ``(secret, token)``: the secret is shown once and never stored."""
        owner = user or self._actor
        if owner != self._actor:
            require(self._store, self._actor, "user.manage")
        chosen = list(dict.fromkeys(scopes or ["read"]))
        bad = [s for s in chosen if s not in SCOPES]
        if bad:
            raise InputError(f"unknown token scope {bad[0]!r}", hint=f"scopes: {', '.join(SCOPES)}")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise InputError(f"a token lives 1 to {MAX_TOKEN_DAYS} days, not {days}")
        if not name.strip():
            raise InputError("a token needs a name that says what it is for")
        token_id = uuid.uuid4().hex[:12]
        secret = f"mla_{token_id}_{secrets.token_urlsafe(32)}"
        expires = _iso(datetime.now(UTC) + timedelta(days=days))
        with self._store.write(self._actor) as tx:
            if tx.conn.execute(sa.select(users.c.name).where(users.c.name == owner)).first() is None:
                raise NotFound(f"no user {owner!r}")
            event = tx.record(
                "token.created",
                f"user:{owner}",
                {"id": token_id, "user": owner, "name": name, "scopes": chosen, "expires": expires},
            )
            tx.conn.execute(
                sa.insert(api_tokens).values(
                    id=token_id, user_name=owner, name=name, token_hash=_sha(secret),
                    scopes=orjson.dumps(chosen).decode(), expires=expires, created=event.ts,
                    actor=self._actor, seq=event.seq,
                )
            )  # fmt: skip
        return secret, self.token(token_id)

    def token(self, token_id: str) -> Token:
        with self._store.read() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).one_or_none()
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        return _token(row)

    def tokens(self, user: str | None = None) -> list[Token]:
        """Tokens of ``user`` (default: the actor; someone else's needs ``user.manage``)."""
        owner = user or self._actor
        if owner != self._actor:
            require(self._store, self._actor, "user.manage")
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(api_tokens).where(api_tokens.c.user_name == owner).order_by(api_tokens.c.created)
            ).all()
        return [_token(r) for r in rows]

    def revoke_token(self, token_id: str) -> Token:
        found = self.token(token_id)
        if found.user != self._actor:
            require(self._store, self._actor, "user.manage")
        if found.revoked:
            return found
        with self._store.write(self._actor) as tx:
            event = tx.record("token.revoked", f"user:{found.user}", {"id": token_id, "user": found.user})
            tx.conn.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id).values(revoked=event.ts))
        return self.token(token_id)

    def authenticate_token(self, secret: str) -> tuple[str, list[str]] | None:
        """``(user, scopes)`` for a live token of an enabled user, else None."""
        if not secret.startswith("mla_"):
            return None
        now = utc_now()
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(api_tokens, users.c.disabled)
                .join(users, users.c.name == api_tokens.c.user_name)
                .where(api_tokens.c.token_hash == _sha(secret))
            ).one_or_none()
        if row is None or row.revoked or row.disabled or row.expires <= now:
            return None
        if row.last_used is None or row.last_used[:16] != now[:16]:  # at most one write a minute
            with self._store.engine.begin() as conn:
                conn.execute(sa.update(api_tokens).where(api_tokens.c.id == row.id).values(last_used=now))
        return row.user_name, list(orjson.loads(row.scopes))

    # --- sessions -------------------------------------------------------------------------

    def open_session(self, user: str, *, hours: float = 12.0) -> tuple[str, Session]:
        """A new session for ``user`` (after a successful login): ``(cookie value, session)``.
        Always a fresh id, so a session id planted before login is worthless (fixation)."""
        cookie = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        session = Session(_sha(cookie), user, secrets.token_urlsafe(32), _iso(now + timedelta(hours=hours)))
        with self._store.engine.begin() as conn:
            conn.execute(
                sa.insert(sessions).values(
                    id=session.id, user_name=user, csrf=session.csrf, created=_iso(now),
                    expires=session.expires, last_seen=_iso(now),
                )
            )  # fmt: skip
        return cookie, session

    def session(self, cookie: str) -> Session | None:
        """The live session behind a cookie value (None if unknown, expired, revoked or disabled)."""
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(sessions, users.c.disabled)
                .join(users, users.c.name == sessions.c.user_name)
                .where(sessions.c.id == _sha(cookie))
            ).one_or_none()
        if row is None or row.revoked or row.disabled or row.expires <= utc_now():
            return None
        return Session(row.id, row.user_name, row.csrf, row.expires)

    def close_session(self, cookie: str) -> None:
        with self._store.engine.begin() as conn:
            conn.execute(sa.update(sessions).where(sessions.c.id == _sha(cookie)).values(revoked=utc_now()))

    # --- the security log -----------------------------------------------------------------

    def log_event(self, kind: str, user: str | None, client: str | None, detail: str | None = None) -> None:
        """Append to the security log: ``login``, ``login_failed``, ``denied``, ``logout``, ..."""
        with self._store.engine.begin() as conn:
            conn.execute(
                sa.insert(auth_events).values(
                    time=utc_now(), kind=kind, user_name=user, client=client, detail=(detail or "")[:500]
                )
            )

    def failures(self, *, user: str | None = None, client: str | None = None, minutes: float = 15) -> int:
        """Failed logins in the last ``minutes`` for ``user`` or from ``client``."""
        since = _iso(datetime.now(UTC) - timedelta(minutes=minutes))
        where = [auth_events.c.kind == "login_failed", auth_events.c.time >= since]
        if user is not None:
            where.append(auth_events.c.user_name == user)
        if client is not None:
            where.append(auth_events.c.client == client)
        with self._store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())

    def events(self, *, limit: int = 100, kind: str | None = None) -> list[dict[str, Any]]:
        """The newest security-log entries (admins only)."""
        require(self._store, self._actor, "user.manage")
        query = sa.select(auth_events).order_by(auth_events.c.id.desc()).limit(limit)
        if kind:
            query = query.where(auth_events.c.kind == kind)
        with self._store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def _token(row: Any) -> Token:
    return Token(
        row.id, row.user_name, row.name, list(orjson.loads(row.scopes)), row.expires, row.revoked,
        row.last_used, row.created,
    )  # fmt: skip


def token_allows(scopes: list[str], action: str) -> bool:
    """Whether a token with ``scopes`` may be used for ``action`` (scopes nest)."""
    rank = {s: i for i, s in enumerate(SCOPES)}
    have = max((rank[s] for s in scopes if s in rank), default=-1)
    return have >= rank[scope_for(action)]


def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:  # pragma: no cover - server extra missing
        raise InputError("passwords need argon2-cffi", hint="pip install 'mlaudit[server]'") from exc
    # OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): ~80 ms on one core of this class of
    # machine, so a 2-core server still answers logins while being slow for guessing
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so unknown and known names take the same time."""
    return str(_hasher().hash(secrets.token_urlsafe(16)))
