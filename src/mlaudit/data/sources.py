"""Read a table from a file, a glob, object storage or a SQL database: ``read`` and ``read_batches``.

A *source* is one string:

=========================================  ================================================
``data/train.parquet``, ``data/*.csv``     local CSV / Parquet / JSON Lines files and globs
``s3://bucket/key.csv``                    Amazon S3 or any S3 endpoint (also ``s3://KEY:SECRET@bucket/…``)
``az://container/blob.parquet``            Azure Blob Storage; also ``abfs[s]://container@account.dfs…/blob``
``gs://bucket/part-*.jsonl``               Google Cloud Storage
``postgresql+psycopg://u:p@host/db``       any SQLAlchemy URL, with ``query=`` or ``table=``
=========================================  ================================================

Globs (``*``, ``?``, ``[…]``; ``**`` crosses folders) read every matching file, in name order,
into one table; all files must have the same columns and types. The format comes from the
suffix (``.csv``, ``.tsv``, ``.parquet``, ``.jsonl``, optionally ``.gz``…) or ``format=``.

Credentials come from the environment or the URL and never appear in messages,
:func:`describe` or :class:`SourceInfo`. Object storage goes through ``pyarrow.fs``:

- S3: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION`` (or
  ``AWS_DEFAULT_REGION``), ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (``http://host:port``); options
  ``access_key``, ``secret_key``, ``session_token``, ``region``, ``endpoint_override``, ``scheme``,
  ``anonymous``.
- Azure: ``AZURE_STORAGE_CONNECTION_STRING`` (``AccountName``, ``AccountKey`` or ``SharedAccessSignature``,
  ``BlobEndpoint``), else ``AZURE_STORAGE_ACCOUNT_NAME`` + ``AZURE_STORAGE_ACCOUNT_KEY`` (or
  ``AZURE_STORAGE_SAS_TOKEN``) and optionally ``AZURE_STORAGE_ENDPOINT`` (``http://host:port/account``);
  options ``account_name``, ``account_key``, ``sas_token``, ``endpoint_override``, ``scheme``.
- GCS: ``STORAGE_EMULATOR_HOST`` (anonymous, for emulators), else Google's default credentials;
  options ``anonymous``, ``access_token``, ``project_id``, ``endpoint_override``, ``scheme``.
- Any of them: ``filesystem=`` a ready ``pyarrow.fs.FileSystem``.

Format options: ``columns`` (read only these), ``delimiter`` (CSV), ``schema`` (a ``pyarrow.Schema``
fixing column types, CSV and JSON Lines). In CSV files an unquoted empty field is null, a quoted
``""`` is the empty string, and ``NaN`` stays a float NaN (not null).

SQL: ``postgresql://`` uses psycopg 3 and ``mysql://`` / ``mariadb://`` use PyMySQL unless a driver
is named. ``table=`` reads a whole table (option ``db_schema``), ``query=`` runs one query, in a
read-only transaction (PostgreSQL, MySQL/MariaDB, SQLite) that is rolled back. Types follow the database:
integers → int64, floats → float64, NUMERIC/DECIMAL → **float64**, text → string, dates → date32,
timestamps → timestamp[us] (with time zone → UTC), booleans → bool (MariaDB has none: TINYINT →
int64). SQLite queries carry no types: they are taken from the values (dates stay text);
``table=`` on SQLite uses the declared column types. Option ``connect_timeout`` (seconds, 10).

>>> source_info("postgresql://ann:s3cret@db/sales", table="orders").uri
'postgresql://ann:***@db/sales'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from mlaudit.data.sql import first_line as _first_line
from mlaudit.errors import InputError
from mlaudit.frames import file_format

__all__ = ["SourceInfo", "SourceKind", "describe", "read", "read_batches", "source_info"]

SourceKind = Literal["file", "s3", "azure", "gcs", "sql"]

_SCHEMES: dict[str, SourceKind] = {"s3": "s3", "s3a": "s3", "az": "azure", "abfs": "azure", "abfss": "azure"}
_SCHEMES |= {"gs": "gcs", "gcs": "gcs"}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|sig|key|credential|sas", re.IGNORECASE)
_SECRET_PAIR = re.compile(r"(?i)\b(AccountKey|SharedAccessSignature|password|pwd)=[^;&\s]*;?")
_FORMAT_OPTIONS = {"columns", "delimiter", "schema"}
_FS_OPTIONS: dict[str, set[str]] = {
    "file": set(),
    "s3": {"access_key", "secret_key", "session_token", "region", "endpoint_override", "scheme", "anonymous"},
    "azure": {"account_name", "account_key", "sas_token", "endpoint_override", "scheme"},
    "gcs": {"anonymous", "access_token", "project_id", "endpoint_override", "scheme"},
}
_SQL_OPTIONS = {"db_schema", "connect_timeout"}
# pyarrow's default CSV null spellings, less the NaN ones: NaN is a value, not a missing one
_CSV_NULLS = ["", "#N/A", "#N/A N/A", "#NA", "N/A", "NA", "NULL", "n/a", "null"]


@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from, safe to store and show (credentials stripped).

    ``format`` is ``csv``, ``parquet`` or ``jsonl`` for files and ``sql`` for databases.
    """

    uri: str
    kind: SourceKind
    format: str
    query: str | None = None
    table: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ledger payloads."""
        return asdict(self)


def _kind(text: str) -> SourceKind:
    m = _URL.match(text)
    if m is None or m.group(1).lower() == "file":
        return "file"
    scheme = m.group(1).lower()
    if scheme in _SCHEMES:
        return _SCHEMES[scheme]
    if scheme in ("http", "https"):
        raise InputError(
            f"cannot read {describe(text)} over HTTP",
            hint="use s3://, az://, gs://, a local path or a database URL",
        )
    return "sql"


def describe(source: str | os.PathLike[str]) -> str:
    """``source`` for display: passwords become ``***``; secret query parameters and keys are removed.

    >>> describe("s3://bucket/x.csv?sig=abc&versionId=3")
    's3://bucket/x.csv?versionId=3'
    """
    text = os.fspath(source)
    m = _URL.match(text)
    if m is None:
        return _SECRET_PAIR.sub("", text)
    if m.group(1).lower() not in {*_SCHEMES, "file", "http", "https"}:  # a database URL
        from sqlalchemy.engine import make_url

        try:
            url = make_url(text)
        except Exception:
            return "<unparseable database URL>"
        safe = {k: v for k, v in url.query.items() if not _SECRET_KEY.search(k)}
        return str(url.set(query=safe).render_as_string(hide_password=True))
    parts = urlsplit(text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _SECRET_KEY.search(k)]
    )
    return _SECRET_PAIR.sub("", urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def source_info(
    source: str | os.PathLike[str],
    *,
    query: str | None = None,
    table: str | None = None,
    format: str | None = None,
) -> SourceInfo:
    """Parse ``source`` (no I/O): its kind, format and display URI.

    >>> source_info("s3://bkt/part-*.parquet")
    SourceInfo(uri='s3://bkt/part-*.parquet', kind='s3', format='parquet', query=None, table=None)
    """
    text = os.fspath(source)
    kind = _kind(text)
    shown = describe(text)
    if kind == "sql":
        if (query is None) == (table is None):
            raise InputError(f"give exactly one of query= or table= to read from {shown}")
        return SourceInfo(uri=shown, kind=kind, format="sql", query=query, table=table)
    if query is not None or table is not None:
        raise InputError(f"query= and table= are for database URLs, not {shown}")
    path = urlsplit(text).path if kind != "file" else text
    try:
        fmt = file_format(path, format)
    except InputError as exc:
        raise InputError(exc.message, path=shown, hint=exc.hint) from None
    return SourceInfo(uri=shown, kind=kind, format=fmt)


def read(
    source: str | os.PathLike[str],
    *,
    query: str | None = None,
    table: str | None = None,
    format: str | None = None,
    **options: Any,
) -> pa.Table:
    """Read all of ``source`` into one table (see the module docstring for sources and options).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"; _ = p.write_text("a,b\\n1,x\\n")
    >>> read(p).to_pydict()
    {'a': [1], 'b': ['x']}
    """
    _, parts = _parts(source, query, table, format, options, None)
    tables = [pa.Table.from_batches([p]) if isinstance(p, pa.RecordBatch) else p for p in parts]
    return pa.concat_tables(tables, promote_options="default")


def read_batches(
    source: str | os.PathLike[str],
    *,
    query: str | None = None,
    table: str | None = None,
    format: str | None = None,
    batch_rows: int = 65_536,
    **options: Any,
) -> Iterator[pa.RecordBatch]:
    """Yield ``source`` as record batches of ``batch_rows`` rows, in bounded memory.

    Each batch but the last of each file has ``batch_rows`` rows; a source without rows gives one
    empty batch, so its columns are known.

    Parquet is read a row group at a time, CSV and JSON Lines a block at a time (column types
    are guessed from the first block: pass ``schema=`` when later rows differ), SQL through a
    server-side cursor (PostgreSQL, MariaDB) fetching ``batch_rows`` rows at a time. The source
    and options are checked at once; files are opened and databases connected on the first batch.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"; _ = p.write_text("a\\n1\\n2\\n3\\n")
    >>> [b.num_rows for b in read_batches(p, batch_rows=2)]
    [2, 1]
    """
    if batch_rows < 1:
        raise InputError(f"batch_rows must be at least 1, not {batch_rows}")
    return _parts(source, query, table, format, options, batch_rows)[1]


def _parts(
    source: str | os.PathLike[str],
    query: str | None,
    table: str | None,
    format: str | None,
    options: dict[str, Any],
    rows: int | None,
) -> tuple[SourceInfo, Iterator[pa.Table | pa.RecordBatch]]:
    """Check ``source`` and ``options`` now; return the lazy tables (``rows`` None) or batches."""
    info = source_info(source, query=query, table=table, format=format)
    text = os.fspath(source)
    if info.kind == "sql":
        from mlaudit.data.sql import sql_batches

        return info, sql_batches(
            text, describe(text), query, table, rows or 65_536, _check(options, _SQL_OPTIONS, info)
        )
    fs, files = _files(text, info, options)
    opts = {k: v for k, v in options.items() if k in _FORMAT_OPTIONS}

    def parts() -> Iterator[pa.Table | pa.RecordBatch]:
        first: tuple[str, pa.Schema] | None = None
        for path, where in files:
            load = _load(fs, path, where, info.format, opts, rows)
            for part in load if rows is None else _rebatch(load, rows):
                if first is None:
                    first = (where, part.schema)
                _same_columns(first[0], first[1], where, part.schema)
                yield part

    return info, parts()


# --- files and object storage ------------------------------------------------------------------


def _check(options: dict[str, Any], allowed: set[str], info: SourceInfo) -> dict[str, Any]:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InputError(
            f"unknown option {unknown[0]!r} for a {info.kind} source {info.uri}",
            hint=f"known: {', '.join(sorted(allowed)) or 'none'}",
        )
    return options


def _files(text: str, info: SourceInfo, options: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    """The filesystem and the ``(path, display name)`` of every file ``text`` names."""
    _check(options, _FORMAT_OPTIONS | _FS_OPTIONS[info.kind] | {"filesystem"}, info)
    fs_opts = {k: v for k, v in options.items() if k in _FS_OPTIONS[info.kind]}
    if info.kind == "file":
        import pyarrow.fs as pafs

        raw = text[len("file://") :] if text.lower().startswith("file://") else text
        path, prefix = os.path.abspath(os.path.expanduser(raw)).replace(os.sep, "/"), ""
        fs = options.get("filesystem") or pafs.LocalFileSystem()
    else:
        parts = urlsplit(text)
        netloc = parts.netloc
        if info.kind == "s3" and "@" in netloc:  # s3://KEY:SECRET@bucket/...
            userinfo, netloc = netloc.rsplit("@", 1)
            key, _, secret = userinfo.partition(":")
            fs_opts.setdefault("access_key", unquote(key))
            fs_opts.setdefault("secret_key", unquote(secret))
        container = netloc.split("@", 1)[0] if info.kind == "azure" else netloc
        if info.kind == "azure" and "@" in parts.netloc:
            fs_opts.setdefault("account_name", parts.netloc.split("@", 1)[1].split(".", 1)[0])
        path, prefix = f"{container}{parts.path}", f"{parts.scheme}://"
        fs = options.get("filesystem") or _cloud_fs(info, fs_opts)
    return fs, [(p, prefix + p if prefix else p) for p in _expand(fs, path, info, prefix)]


def _endpoint(url: str) -> tuple[str, str]:
    """``("host:port", scheme)`` of an endpoint URL (``http://h:p/path``, or ``h:p``: https)."""
    if "://" not in url:
        return url.split("/", 1)[0], "https"
    parts = urlsplit(url)
    return parts.netloc, parts.scheme


def _cloud_fs(info: SourceInfo, opts: dict[str, Any]) -> Any:
    import pyarrow.fs as pafs

    env = os.environ
    if "://" in str(opts.get("endpoint_override", "")) and info.kind != "azure":  # "http://host:port"
        opts["endpoint_override"], scheme = _endpoint(opts["endpoint_override"])
        opts.setdefault("scheme", scheme)
    try:
        if info.kind == "s3":
            endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
            if endpoint and "endpoint_override" not in opts:
                opts["endpoint_override"], scheme = _endpoint(endpoint)
                opts.setdefault("scheme", scheme)
            for key, var in (
                ("access_key", "AWS_ACCESS_KEY_ID"),
                ("secret_key", "AWS_SECRET_ACCESS_KEY"),
                ("session_token", "AWS_SESSION_TOKEN"),
            ):
                if env.get(var) and not opts.get("anonymous"):
                    opts.setdefault(key, env[var])
            region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
            if region or "endpoint_override" in opts:  # a custom endpoint has no region to look up
                opts.setdefault("region", region or "us-east-1")
            return pafs.S3FileSystem(**opts)
        if info.kind == "gcs":
            emulator = env.get("STORAGE_EMULATOR_HOST")
            if emulator and "endpoint_override" not in opts:
                opts["endpoint_override"], scheme = _endpoint(emulator)
                opts.setdefault("scheme", scheme)
                opts.setdefault("anonymous", True)
            if "access_token" in opts:
                opts["credential_token_expiration"] = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            return pafs.GcsFileSystem(retry_time_limit=dt.timedelta(seconds=20), **opts)
        return _azure_fs(opts)
    except InputError:
        raise
    except (OSError, TypeError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"cannot open {info.uri}: {_first_line(exc)}") from None


def _azure_fs(opts: dict[str, Any]) -> Any:
    import pyarrow.fs as pafs

    env = os.environ
    conn = dict(
        part.split("=", 1)
        for part in env.get("AZURE_STORAGE_CONNECTION_STRING", "").split(";")
        if "=" in part
    )
    account = (
        opts.pop("account_name", None) or conn.get("AccountName") or env.get("AZURE_STORAGE_ACCOUNT_NAME")
    )
    account = account or env.get("AZURE_STORAGE_ACCOUNT")
    if not account:
        raise InputError(
            "an Azure source needs a storage account",
            hint="set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_NAME, or pass account_name=",
        )
    key = opts.get("account_key") or conn.get("AccountKey") or env.get("AZURE_STORAGE_ACCOUNT_KEY")
    key = key or env.get("AZURE_STORAGE_KEY")
    sas = opts.get("sas_token") or conn.get("SharedAccessSignature") or env.get("AZURE_STORAGE_SAS_TOKEN")
    kw: dict[str, Any] = {"account_key": key} if key else {"sas_token": sas} if sas else {}
    endpoint = opts.get("endpoint_override") or conn.get("BlobEndpoint") or env.get("AZURE_STORAGE_ENDPOINT")
    if endpoint:
        authority, found = _endpoint(endpoint)
        scheme = opts.get("scheme") or (found if "://" in endpoint else conn.get("DefaultEndpointsProtocol"))
        for service in ("blob", "dfs"):
            kw[f"{service}_storage_authority"], kw[f"{service}_storage_scheme"] = authority, scheme or "https"
    return pafs.AzureFileSystem(account, **kw)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` stay within one folder, ``**`` crosses folders, ``[...]`` as in fnmatch."""
    special = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    pieces = re.split(r"(\*\*|\*|\?|\[[^\]]*\])", pattern)
    return re.compile(
        "".join(
            special.get(p) or (fnmatch.translate(p)[4:-3] if p.startswith("[") else re.escape(p))
            for p in pieces
        )
    )


def _expand(fs: Any, path: str, info: SourceInfo, prefix: str) -> list[str]:
    import pyarrow.fs as pafs

    wild = min((path.index(c) for c in "*?[" if c in path), default=-1)
    try:
        if wild < 0:
            found = fs.get_file_info(path)
            if found.type == pafs.FileType.NotFound:
                what = "no such file" if info.kind == "file" else "no such object"
                raise InputError(what, path=prefix + path, hint="check the name and the bucket/container")
            if found.type == pafs.FileType.Directory:
                raise InputError(
                    "is a folder, not a file", path=prefix + path, hint="use a glob such as dir/*.parquet"
                )
            return [path]
        base = path[: path.rfind("/", 0, wild)]
        selector = pafs.FileSelector(base, recursive="/" in path[wild:] or "**" in path, allow_not_found=True)
        rx = _glob_regex(path)
        matches = sorted(
            f.path
            for f in fs.get_file_info(selector)
            if f.type == pafs.FileType.File and rx.fullmatch(f.path)
        )
    except OSError as exc:
        raise InputError(f"cannot list files: {_first_line(exc)}", path=prefix + path) from None
    if not matches:
        raise InputError("no file matches the pattern", path=prefix + path)
    return matches


def _same_columns(first_where: str, first: pa.Schema, where: str, schema: pa.Schema) -> None:
    same = first.names == schema.names and all(
        a == b or pa.types.is_null(a) or pa.types.is_null(b)
        for a, b in zip(first.types, schema.types, strict=True)
    )
    if not same:
        from mlaudit.data.schema import schema_diff

        raise InputError(
            f"its columns differ from {first_where.rsplit('/', 1)[-1]}'s: {schema_diff(first, schema)}",
            path=where,
            hint="every file of a glob must have the same columns and types",
        )


def _csv_options(path: str, opts: dict[str, Any], threads: bool, bad: list[tuple[int | None, str]]) -> Any:
    import pyarrow.csv as pc

    def on_invalid(row: Any) -> str:
        bad.append((row.number, f"expected {row.expected_columns} columns, got {row.actual_columns}"))
        return "error"

    schema = opts.get("schema")
    tsv = path.lower().endswith((".tsv", ".tsv.gz"))
    return {
        "read_options": pc.ReadOptions(use_threads=threads),
        "parse_options": pc.ParseOptions(
            delimiter=opts.get("delimiter") or ("\t" if tsv else ","), invalid_row_handler=on_invalid
        ),
        "convert_options": pc.ConvertOptions(
            null_values=_CSV_NULLS,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            column_types={f.name: f.type for f in schema} if schema is not None else None,
            include_columns=opts.get("columns"),
        ),
    }


def _open(fs: Any, path: str, where: str, random_access: bool = False) -> Any:
    if fs.get_file_info(path).size == 0:
        raise InputError("the file is empty (0 bytes)", path=where)
    return fs.open_input_file(path) if random_access else fs.open_input_stream(path, compression="detect")


def _load(
    fs: Any, path: str, where: str, fmt: str, opts: dict[str, Any], rows: int | None
) -> Iterator[pa.Table | pa.RecordBatch]:
    """One file: the whole table (``rows`` None) or its batches of about ``rows`` rows."""
    import pyarrow.csv as pc
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    bad: list[tuple[int | None, str]] = []
    columns = opts.get("columns")
    try:
        if fmt == "parquet":
            with _open(fs, path, where, random_access=True) as f:
                if rows is None:
                    yield pq.read_table(f, columns=columns)
                else:
                    pf = pq.ParquetFile(f)
                    schema = pf.schema_arrow
                    yield pa.RecordBatch.from_pylist(
                        [], schema=pa.schema([schema.field(c) for c in columns or schema.names])
                    )
                    for group in range(pf.num_row_groups):  # one at a time: pre-buffered I/O
                        # is cached per call, so a single call over the file would keep it all
                        yield from pf.iter_batches(batch_size=rows, row_groups=[group], columns=columns)
        elif fmt == "jsonl":
            schema = opts.get("schema")
            as_text = [f.with_type(pa.string()) if pa.types.is_date(f.type) else f for f in schema or []]
            parse = pj.ParseOptions(explicit_schema=pa.schema(as_text) if schema is not None else None)
            with _open(fs, path, where) as f:
                if rows is None:
                    parts: Any = [pj.read_json(f, parse_options=parse)]
                    if parts[0].num_columns == 0:
                        raise InputError("the file holds no JSON records", path=where)
                else:  # pyarrow >= 19
                    reader = pj.open_json(f, parse_options=parse)
                    parts = itertools.chain([pa.RecordBatch.from_pylist([], schema=reader.schema)], reader)
                for part in parts:
                    if schema is not None:  # JSON has no dates: they were parsed as text
                        fields = [
                            schema.field(n) if n in schema.names else part.schema.field(n)
                            for n in part.schema.names
                        ]
                        part = part.cast(pa.schema(fields))
                    yield part if columns is None else part.select(columns)
        elif rows is None:
            try:
                with _open(fs, path, where) as f:
                    yield pc.read_csv(f, **_csv_options(path, opts, True, bad))
            except pa.ArrowInvalid:
                if bad and (bad[0][0] or -1) < 0:  # row numbers are known only when reading single-threaded
                    bad.clear()
                    with _open(fs, path, where) as f, contextlib.suppress(pa.ArrowInvalid):
                        pc.read_csv(f, **_csv_options(path, opts, False, bad))
                raise
        else:
            with _open(fs, path, where) as f:
                reader = pc.open_csv(f, **_csv_options(path, opts, False, bad))
                yield pa.RecordBatch.from_pylist(
                    [], schema=reader.schema
                )  # the columns of a file with no rows
                yield from reader
    except InputError:
        raise
    except KeyError as exc:
        raise InputError(
            "no such column", path=where, column=str(exc.args[0]) if exc.args else None
        ) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError) as exc:
        if bad:
            number, what = bad[0]
            raise InputError(
                f"ragged row: {what}", path=where, row=number if number and number > 0 else None
            ) from None
        text = _first_line(exc)
        if "Empty JSON stream" in text:
            raise InputError("the file holds no JSON records", path=where) from None
        if "Empty CSV file" in text:
            raise InputError("the file has no header and no rows", path=where) from None
        if isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "UTF-8" in text:
            raise InputError(
                f"not valid UTF-8 text ({text})", path=where, hint="re-encode it as UTF-8"
            ) from None
        hint = (
            "column types are guessed from the first block; pass schema="
            if "conversion error" in text
            else None
        )
        raise InputError(f"cannot read the file: {text}", path=where, hint=hint) from None


def _rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """The rows in batches of exactly ``rows`` rows (the last may be shorter; one empty batch if none)."""
    pending: list[pa.RecordBatch] = []
    empty: pa.RecordBatch | None = None
    for batch in batches:
        if batch.num_rows == 0:
            empty = batch if empty is None else empty
            continue
        pending.append(batch)
        if sum(b.num_rows for b in pending) >= rows:
            parts = pa.Table.from_batches(pending).combine_chunks().to_batches(max_chunksize=rows)
            full = [p for p in parts if p.num_rows == rows]
            yield from full
            pending, empty = parts[len(full) :], None
    if pending:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]
    elif empty is not None:
        yield empty
