"""Numbers and strings as a reader wants them: escaped, rounded, never ``nan``.

>>> (fmt_num(1234567.0), fmt_num(35041.7), fmt_num(0.012345), fmt_p(3e-12), fmt_pct(0.0412))
('1.235e+06', '35,042', '0.01235', '3.0e-12', '4.1%')
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime

__all__ = ["DASH", "esc", "fmt_int", "fmt_num", "fmt_p", "fmt_pct", "fmt_value", "plot_text", "shorten"]

DASH = "—"
_P_FLOOR = 1e-300  # below this a p-value is 0 up to float underflow


def esc(text: object) -> str:
    """HTML-escape any value (quotes included), for text and attribute positions."""
    return html.escape(str(text), quote=True)


def plot_text(text: object) -> str:
    """Escape a string for Plotly, which reads ``<b>``-style tags and only the entities
    ``&lt;``, ``&gt;`` and ``&amp;`` in labels (so quotes stay as they are)."""
    return html.escape(str(text), quote=False)


def fmt_int(n: int | float | None) -> str:
    """``1234567`` → ``1,234,567``; ``None`` → an em dash."""
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return DASH
    return f"{round(n):,}"


def fmt_num(x: float | int | None, digits: int = 4) -> str:
    """A float with ``digits`` significant digits; scientific when very large or tiny.

    Whole numbers below a million print as integers (``12`` rather than ``12.0``).
    """
    if x is None:
        return DASH
    x = float(x)
    if math.isnan(x):
        return DASH
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1e6 or ax < 1e-3:
        return f"{x:.{digits - 1}e}"
    if x.is_integer():
        return f"{int(x):,}"
    if ax < 1:
        return f"{x:.{digits}g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(ax)))
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_p(p: float | None) -> str:
    """A p-value: three significant digits, scientific below 0.001, ``< 1e-300`` at zero."""
    if p is None or math.isnan(p):
        return DASH
    if p < _P_FLOOR:
        return "< 1e-300"
    if p < 1e-3:
        return f"{p:.1e}"
    return f"{p:.3g}"


def fmt_pct(share: float | None) -> str:
    """A share in [0, 1] as a percentage with sensible precision (``0.0004`` → ``0.04%``)."""
    if share is None or math.isnan(share):
        return DASH
    pct = share * 100
    if pct == 0 or pct >= 10 or pct.is_integer():
        return f"{pct:.0f}%"
    if pct >= 1:
        return f"{pct:.1f}%"
    if pct >= 0.01:
        return f"{pct:.2f}%"
    return "< 0.01%"


def fmt_value(x: float | None, kind: str) -> str:
    """A column value of ``kind``: datetimes (epoch seconds) as UTC ISO, else :func:`fmt_num`."""
    if x is None or not math.isfinite(x):
        return fmt_num(x)
    if kind == "datetime":
        return fmt_datetime(x)
    return fmt_num(x)


def fmt_datetime(seconds: float) -> str:
    """Epoch seconds as ``YYYY-MM-DD`` (midnight) or ``YYYY-MM-DD HH:MM:SS`` UTC."""
    try:
        when = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return fmt_num(seconds)
    if when.hour == when.minute == when.second == 0 and when.microsecond == 0:
        return when.strftime("%Y-%m-%d")
    return when.strftime("%Y-%m-%d %H:%M:%S")


def shorten(text: str, limit: int = 32) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (labels in plots and tables)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
