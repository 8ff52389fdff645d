"""A model behind an HTTP endpoint: JSON in, JSON out, in batches, with timeouts and retries.

The contract (field names configurable)::

    POST <url>   Content-Type: application/json
    {"instances": [{"age": 31, "sex": "F"}, ...]}          # records; or rows: [[31, "F"], ...]
    200 OK
    {"predictions": [1, 0, ...], "probabilities": [[0.2, 0.8], ...]}   # probabilities optional

Each request carries at most ``batch_size`` rows; the answers are joined in order. A request
that times out, cannot connect or gets a 5xx is retried ``retries`` times with exponential
backoff (``backoff``, ``2 * backoff``, ...); a 4xx is not retried. Redirects are followed only
to the same scheme, host and port (POST kept); a redirect elsewhere is refused. Every failure
is an :class:`InputError` naming the URL (without user, password or secret query parameters)
and what the server did.

>>> model = HttpModel("http://127.0.0.1:8080/predict", batch_size=100, timeout=5.0)  # doctest: +SKIP
>>> model.predict({"age": [31, 45]})  # doctest: +SKIP
"""

from __future__ import annotations

import http.client
import time
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import numpy as np
import orjson
import pyarrow as pa

from mlaudit.data.sources import describe
from mlaudit.errors import InputError
from mlaudit.models.base import BaseModel, Task, sha256_hex

__all__ = ["HttpModel"]

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 3


class HttpModel(BaseModel):
    """Predictions from ``url`` (http or https) following the JSON contract in the module docstring.

    ``fingerprint`` hashes the URL and the contract options only: the server's model is not
    visible from here, so pass ``fingerprint=`` (e.g. the served artifact's hash) when you know it.
    """

    framework = "http"

    def __init__(
        self,
        url: str,
        *,
        feature_names: tuple[str, ...] | list[str] | None = None,
        classes: tuple[Any, ...] | list[Any] | None = None,
        task: Task | None = None,
        batch_size: int = 256,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.5,
        instances_key: str = "instances",
        predictions_key: str = "predictions",
        probabilities_key: str | None = "probabilities",
        row_format: Literal["records", "rows"] = "records",
        headers: dict[str, str] | None = None,
        fingerprint: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        shown = _shown(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"not an http(s) URL: {shown!r}", hint="use e.g. http://127.0.0.1:8080/predict")
        if batch_size < 1 or timeout <= 0 or retries < 0 or backoff < 0:
            raise InputError("batch_size must be >= 1, timeout > 0, retries and backoff >= 0")
        if row_format not in ("records", "rows"):
            raise InputError(f"unknown row_format {row_format!r}; use 'records' or 'rows'")
        self.url = url
        self.shown_url = shown  # for messages: no credentials
        self.batch_size = batch_size
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.instances_key = instances_key
        self.predictions_key = predictions_key
        self.probabilities_key = probabilities_key
        self.row_format = row_format
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        contract = f"{url}\x00{instances_key}\x00{predictions_key}\x00{probabilities_key}\x00{row_format}"
        super().__init__(
            fingerprint=fingerprint or sha256_hex(contract.encode()),
            feature_names=tuple(feature_names) if feature_names is not None else None,
            classes=tuple(classes) if classes is not None else None,
            task=task,
        )

    @property
    def supports_proba(self) -> bool:
        return self.probabilities_key is not None

    @property
    def name(self) -> str:
        return f"http model at {self.shown_url}"

    def _predict(self, table: pa.Table) -> Any:
        return self._collect(table, self.predictions_key)

    def _predict_proba(self, table: pa.Table) -> Any:
        assert self.probabilities_key is not None  # guarded by supports_proba
        return self._collect(table, self.probabilities_key)

    def _collect(self, table: pa.Table, key: str) -> np.ndarray:
        parts: list[Any] = []
        for start in range(0, table.num_rows, self.batch_size):
            batch = table.slice(start, self.batch_size)
            parts.extend(self._batch(batch, key, start))
        if key == self.probabilities_key:
            try:
                return np.asarray(parts, dtype=float).reshape(len(parts), -1)
            except (ValueError, TypeError) as exc:
                raise InputError(
                    f"{self.shown_url} answered {key!r} that are not rows of numbers: {exc}"
                ) from exc
        return np.asarray(parts)

    def _batch(self, batch: pa.Table, key: str, start: int) -> list[Any]:
        records = batch.to_pylist()
        instances: list[Any] = (
            records if self.row_format == "records" else [list(r.values()) for r in records]
        )
        try:
            body = orjson.dumps(
                {self.instances_key: instances}, option=orjson.OPT_SERIALIZE_NUMPY, default=_json_default
            )
        except orjson.JSONEncodeError as exc:
            raise InputError(f"rows {start}- cannot be sent as JSON: {exc}") from exc
        answer = self._post(body)
        where = f"{self.shown_url} (rows {start}-{start + batch.num_rows - 1})"
        if not isinstance(answer, dict) or key not in answer:
            got = sorted(answer)[:10] if isinstance(answer, dict) else type(answer).__name__
            raise InputError(
                f"{where} answered JSON without {key!r} (got {got})",
                hint="set predictions_key= / probabilities_key= to the server's field names"
                + (
                    ", or probabilities_key=None if it gives no probabilities"
                    if key != self.predictions_key
                    else ""
                ),
            )
        values = answer[key]
        if not isinstance(values, list) or len(values) != batch.num_rows:
            got = str(len(values)) if isinstance(values, list) else f"a {type(values).__name__}"
            raise InputError(f"{where} answered {got} {key} for {batch.num_rows} instances")
        return values

    def _post(self, body: bytes) -> Any:
        """POST ``body``, retrying timeouts, connection errors and 5xx; the parsed JSON answer."""
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                status, text = self._send(self.url, body)
            except TimeoutError:
                last = f"no answer within {self.timeout:g} s"
                continue
            except (OSError, http.client.HTTPException) as exc:
                last = f"connection failed: {exc}"
                continue
            if status >= 500:
                last = f"HTTP {status}: {_excerpt(text)}"
                continue
            if status >= 300:
                raise InputError(
                    f"{self.shown_url} answered HTTP {status}: {_excerpt(text)}",
                    hint="check the URL and that the request fields match the server",
                )
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise InputError(
                    f"{self.shown_url} answered something that is not JSON: {_excerpt(text)}"
                ) from exc
        tries = self.retries + 1
        raise InputError(
            f"{self.shown_url} failed after {tries} attempt{'s' if tries > 1 else ''}: {last}",
            hint="check that the server is up; raise timeout= or lower batch_size= for slow models",
        )

    def _send(self, url: str, body: bytes) -> tuple[int, bytes]:
        origin = urlsplit(url)
        for _ in range(_MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = conn_type(parts.hostname or "", parts.port, timeout=self.timeout)
            try:
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                conn.request("POST", path, body=body, headers=self.headers)
                response = conn.getresponse()
                status, text = response.status, response.read()
                location = response.getheader("Location")
            finally:
                conn.close()
            if status not in _REDIRECTS or not location:
                return status, text
            target = urljoin(url, location)
            moved = urlsplit(target)
            if (moved.scheme, moved.hostname, moved.port) != (origin.scheme, origin.hostname, origin.port):
                raise InputError(
                    f"{self.shown_url} redirected to another host ({_shown(target)}); "
                    "mlaudit does not follow that",
                    hint="use the final URL directly if you trust it",
                )
            url = target
        raise InputError(f"{self.shown_url} redirected more than {_MAX_REDIRECTS} times")


def _shown(url: str) -> str:
    """``url`` for messages: no user or password, no secret query parameters."""
    parts = urlsplit(url)
    return describe(urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])))


def _json_default(value: Any) -> Any:
    """Decimals as floats, bytes as UTF-8 text; NaN already becomes null in orjson."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def _excerpt(text: bytes, limit: int = 200) -> str:
    shown = text[:limit].decode("utf-8", "replace").strip()
    return repr(shown + ("..." if len(text) > limit else ""))
