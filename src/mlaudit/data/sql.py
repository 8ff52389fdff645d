"""Reading SQL sources: any SQLAlchemy URL with a query or a table, streamed in record batches.

Queries run in a read-only transaction that is rolled back; types come from the cursor
(PostgreSQL OIDs, MySQL field codes) or SQLAlchemy's reflection; errors never show the
password. Used by :func:`mlaudit.data.sources.read` for ``postgresql://``, ``mysql://`` and
``sqlite:///`` sources.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from mlaudit.errors import InputError

__all__ = ["first_line", "sql_batches"]


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sql_engine(text: str, shown: str, opts: dict[str, Any]) -> Any:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    try:
        url = make_url(text)
    except sa.exc.ArgumentError:
        raise InputError(f"not a database URL: {shown}") from None
    backend = url.get_backend_name()
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername in ("mysql", "mariadb"):
        url = url.set(drivername=f"{backend}+pymysql")
    connect_args: dict[str, Any] = {}
    if backend in ("postgresql", "postgres", "mysql", "mariadb"):
        connect_args["connect_timeout"] = int(opts.get("connect_timeout", 10))
    elif backend == "sqlite":
        db = url.database or ""
        if db not in ("", ":memory:") and not db.startswith("file:") and not os.path.isfile(db):
            raise InputError("no such SQLite database file", path=db)
    try:
        return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except sa.exc.NoSuchModuleError:
        raise InputError(f"unknown database kind {url.drivername!r} in {shown}") from None
    except ModuleNotFoundError as exc:
        extra = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}.get(backend, "all")
        raise InputError(
            f"the driver for {shown} is not installed ({exc.name})", hint=f"pip install 'mlaudit[{extra}]'"
        ) from None


def _sa_type(t: Any) -> pa.DataType | None:
    """The Arrow type for a SQLAlchemy column type (None: take it from the values)."""
    import sqlalchemy as sa

    for kind, arrow in (
        (sa.Boolean, pa.bool_()),
        (sa.Integer, pa.int64()),
        ((sa.Float, sa.Numeric), pa.float64()),  # Float and DECIMAL alike: documented choice
        (sa.Date, pa.date32()),
        (sa.Time, pa.time64("us")),
        (sa.Interval, pa.duration("us")),
        (sa.String, pa.string()),
        (sa.LargeBinary, pa.binary()),
        ((sa.JSON, sa.Uuid), pa.string()),
    ):
        if isinstance(t, kind) and not (kind is sa.Date and isinstance(t, sa.DateTime)):
            return arrow
    if isinstance(t, sa.DateTime):
        return pa.timestamp("us", tz="UTC" if t.timezone else None)
    return None


def _codes(*groups: tuple[pa.DataType, tuple[int, ...]]) -> dict[int, pa.DataType]:
    return {code: t for t, codes in groups for code in codes}


_PG_TYPES = _codes(  # PostgreSQL type OIDs
    (pa.bool_(), (16,)),
    (pa.int64(), (20, 21, 23, 26)),
    (pa.float64(), (700, 701, 1700)),
    (pa.string(), (25, 1043, 1042, 19, 114, 3802, 2950)),  # text, json, jsonb, uuid
    (pa.date32(), (1082,)),
    (pa.timestamp("us"), (1114,)),
    (pa.timestamp("us", tz="UTC"), (1184,)),
    (pa.time64("us"), (1083,)),
    (pa.binary(), (17,)),
    (pa.duration("us"), (1186,)),
)
_MYSQL_TYPES = _codes(  # MySQL/MariaDB FIELD_TYPE codes
    (pa.int64(), (1, 2, 3, 8, 9, 13)),
    (pa.float64(), (0, 4, 5, 246)),
    (pa.date32(), (10, 14)),
    (pa.timestamp("us"), (7, 12)),
    (pa.duration("us"), (11,)),
)


def _cursor_type(dialect: str, type_code: Any) -> pa.DataType | None:
    table = _PG_TYPES if dialect == "postgresql" else _MYSQL_TYPES if dialect in ("mysql", "mariadb") else {}
    return table.get(type_code) if isinstance(type_code, int) else None


def _arrow_column(values: list[Any], t: pa.DataType | None) -> pa.Array:
    """``values`` as an Arrow array of type ``t`` (None: guessed); what fits no flat type becomes text."""
    out = None
    # pyarrow would take a UUID's 16 bytes for (invalid) UTF-8 text: such values go the text way
    if t != pa.string() or all(v is None or isinstance(v, str) for v in values):
        try:
            out = pa.array(values, type=t)
        except (ValueError, TypeError, OverflowError):  # ArrowInvalid, ArrowTypeError
            try:
                out = pa.array(values)  # e.g. Decimal values for a float64 column
                out = out.cast(t, safe=False) if t is not None else out
            except (ValueError, TypeError, OverflowError, NotImplementedError):
                out = None
    if out is None or pa.types.is_nested(out.type) or isinstance(out.type, pa.ExtensionType):
        text = [v if v is None or isinstance(v, str) else _as_text(v) for v in values]
        return pa.array(text, type=pa.string())  # UUIDs, JSON, arrays, ...: their text form
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def sql_batches(
    text: str, shown: str, query: str | None, table: str | None, batch_rows: int, opts: dict[str, Any]
) -> Iterator[pa.RecordBatch]:
    import sqlalchemy as sa

    engine = _sql_engine(text, shown, opts)
    secret = engine.url.password
    phase = "connect"
    try:
        with engine.connect() as conn:
            phase = "query"
            dialect = conn.dialect.name
            if dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            elif dialect in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")  # DDL too; the session is ours
            elif dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            streaming = conn.execution_options(stream_results=True, yield_per=batch_rows)
            if table is not None:
                try:
                    tbl = sa.Table(table, sa.MetaData(), schema=opts.get("db_schema"), autoload_with=conn)
                except sa.exc.NoSuchTableError:
                    known = sa.inspect(conn).get_table_names(schema=opts.get("db_schema"))
                    raise InputError(
                        f"no table {table!r} in {shown}",
                        hint=f"tables there: {', '.join(known[:20]) or 'none'}",
                    ) from None
                floats = [  # NUMERIC/DECIMAL and MySQL's DOUBLE (reflected asdecimal) come back as float
                    sa.type_coerce(c, sa.Float()).label(c.name)
                    if isinstance(c.type, (sa.Float, sa.Numeric))
                    else c
                    for c in tbl.columns
                ]
                result = streaming.execute(sa.select(*floats))
                types = [_sa_type(c.type) for c in tbl.columns]
            else:
                result = streaming.execution_options(no_parameters=True).exec_driver_sql(query or "")
                if not result.returns_rows:
                    raise InputError(f"the query returns no rows: {query}", hint="use a SELECT")
                types = [_cursor_type(dialect, d[1]) for d in result.cursor.description]
            names = list(result.keys())
            sent = False
            for rows in result.partitions(batch_rows):
                columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
                arrays = [_arrow_column(list(c), t) for c, t in zip(columns, types, strict=True)]
                types = [
                    t if t is not None else (a.type if a.null_count < len(a) else None)
                    for t, a in zip(types, arrays, strict=True)
                ]
                sent = True
                yield pa.RecordBatch.from_arrays(arrays, names=names)
            if not sent:
                yield pa.RecordBatch.from_arrays([pa.array([], t or pa.null()) for t in types], names=names)
    except sa.exc.DBAPIError as exc:
        reason = first_line(exc.orig if exc.orig is not None else exc)
        if secret:
            reason = reason.replace(secret, "***")
        if phase == "connect":
            raise InputError(
                f"cannot connect to {shown}: {reason}",
                hint="check that the server runs and the host, port, user, password and database are right",
            ) from None
        raise InputError(f"query failed on {shown}: {reason}") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot convert a value read from {shown}: {first_line(exc)}") from None
    finally:
        engine.dispose()
