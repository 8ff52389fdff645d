"""The page shell every report shares: one self-contained HTML file.

The page carries its own CSS (system fonts only), its figures as one JSON blob, Plotly's
JavaScript inlined once from the installed ``plotly`` package, and a tiny runtime that
draws the figures (the first few at once, the rest as they scroll into view, all of them
before printing). A Content-Security-Policy forbids every network request, so an opened
report never phones home.

>>> report = HtmlReport(page("t", "<p>hi</p>", {}))
>>> report.html.startswith("<!DOCTYPE html>"), "<p>hi</p>" in report.html
(True, True)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import orjson

from mlaudit.errors import InputError
from mlaudit.fileio import write_atomic
from mlaudit.report.format import esc

__all__ = ["CURRENT_COLOUR", "REFERENCE_COLOUR", "HtmlReport", "page", "plotly_js", "write_html"]

REFERENCE_COLOUR = "#1f5fa8"  # blue and orange: distinguishable with every common colour-vision deficiency
CURRENT_COLOUR = "#c2410c"
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Noto Sans", "Liberation Sans", sans-serif'
)
MONO_STACK = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace'
EAGER_FIGURES = 16  # drawn on load; the rest when they come near the viewport

# No network at view time: nothing may load from anywhere but the page itself.
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)

CSS = """
:root{--fg:#1d2433;--muted:#4a5568;--bg:#ffffff;--panel:#f6f7f9;--border:#d0d5dd;
--accent:#1f5fa8;--bad:#b42318;--bad-bg:#fef3f2;--ok:#067647;--ok-bg:#ecfdf3;
--skip:#475467;--skip-bg:#f2f4f7;--warn:#93370d;--warn-bg:#fffaeb;color-scheme:light}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:FONT;font-size:16px;line-height:1.5;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0}
.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:10}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.wrap{max-width:1120px;margin:0 auto;padding:0 20px}
header.top{border-bottom:1px solid var(--border);padding:20px 0 12px}
header.top h1{margin:0 0 4px;font-size:1.6rem;line-height:1.25;overflow-wrap:anywhere}
.sub{color:var(--muted);margin:0;overflow-wrap:anywhere}
nav.toc{display:flex;flex-wrap:wrap;gap:4px 16px;padding:8px 0;font-size:.95rem}
main{padding-bottom:32px}
section{margin-top:28px}
h2{font-size:1.3rem;margin:0 0 10px;border-bottom:2px solid var(--border);padding-bottom:4px}
h3{font-size:1.1rem;margin:0;overflow-wrap:anywhere}
.verdict{border-radius:8px;padding:14px 16px;border:1px solid;margin-bottom:14px}
.verdict p{margin:4px 0 0}
.verdict strong.big{font-size:1.15rem}
.verdict.bad{background:var(--bad-bg);border-color:var(--bad);color:var(--bad)}
.verdict.warn{background:var(--warn-bg);border-color:var(--warn);color:var(--warn)}
.verdict.ok{background:var(--ok-bg);border-color:var(--ok);color:var(--ok)}
.verdict p,.verdict li{color:var(--fg)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:12px 0}
.card{background:var(--panel);border:1px solid var(--border);border-radius:8px;padding:10px 12px}
.card .k{color:var(--muted);font-size:.85rem}
.card .v{font-size:1.35rem;font-weight:600;font-variant-numeric:tabular-nums}
.card .v.long{font-size:1rem}
.todo li{margin:4px 0}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--border);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{padding:6px 10px;border-bottom:1px solid var(--border);text-align:left;vertical-align:top}
thead th{background:var(--panel);font-weight:600;white-space:nowrap}
tbody tr:last-child>*{border-bottom:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{overflow-wrap:anywhere;min-width:8em;max-width:22em}
code,.mono{font-family:MONO;font-size:.9em}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:.82rem;font-weight:600;
white-space:nowrap;border:1px solid}
.badge.drifted,.badge.bad{color:var(--bad);background:var(--bad-bg);border-color:var(--bad)}
.badge.ok{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}
.badge.skipped{color:var(--skip);background:var(--skip-bg);border-color:var(--skip)}
.badge.warn{color:var(--warn);background:var(--warn-bg);border-color:var(--warn)}
.reason{color:var(--muted);font-size:.85rem;display:block}
.col{border:1px solid var(--border);border-radius:8px;padding:14px 16px;margin:16px 0;
break-inside:avoid;page-break-inside:avoid}
.col-head{display:flex;flex-wrap:wrap;align-items:center;gap:6px 10px;margin-bottom:8px}
.col-head .kind{color:var(--muted);font-size:.9rem}
.col-body{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.6fr);gap:16px;align-items:start}
.col-body.single{grid-template-columns:minmax(0,1fr)}
.col-body.single>div{max-width:520px}
.stats{font-size:.88rem}
.stats th{font-weight:600;color:var(--muted)}
.stats td.n{white-space:normal}
.plot{width:100%;min-height:240px}
.note{color:var(--muted);font-size:.88rem;margin:6px 0 0}
.meter{display:inline-block;vertical-align:middle;width:80px;height:8px;background:var(--skip-bg);
border:1px solid var(--border);border-radius:4px;overflow:hidden;margin-left:6px}
.meter>span{display:block;height:100%;background:var(--bad)}
.legend-key{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:4px}
footer{border-top:1px solid var(--border);color:var(--muted);font-size:.85rem;padding:12px 0 24px}
@media (max-width:720px){
 .wrap{padding:0 12px}
 header.top h1{font-size:1.3rem}
 .col{padding:10px}
 .col-body{grid-template-columns:minmax(0,1fr)}
 table{font-size:.85rem}
 th,td{padding:5px 7px}
}
@media print{
 :root{--panel:#fff}
 body{font-size:11pt}
 .wrap{max-width:none;padding:0}
 nav.toc,.skip,.modebar-container{display:none!important}
 a{color:inherit;text-decoration:none}
 section,.verdict,.table-wrap{break-inside:auto}
 .table-wrap{overflow:visible;border:0}
 thead{display:table-header-group}
 tr{break-inside:avoid}
 .col{break-inside:avoid}
 h2,h3{break-after:avoid}
 .verdict,.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
""".replace("FONT", FONT_STACK).replace("MONO", MONO_STACK)

# Draws the figures of the JSON blob: eagerly, lazily on scroll, and all before printing.
RUNTIME = """
(function(){
 "use strict";
 var blob=document.getElementById("mlaudit-figures");
 if(!blob||typeof Plotly==="undefined")return;
 var specs=JSON.parse(blob.textContent),ids=Object.keys(specs),drawn={};
 var config={displaylogo:false,responsive:true,displayModeBar:"hover",
  modeBarButtonsToRemove:["select2d","lasso2d","autoScale2d","toggleSpikelines"]};
 function draw(id){
  if(drawn[id])return;var el=document.getElementById(id);if(!el)return;
  drawn[id]=true;var f=specs[id];Plotly.newPlot(el,f.data,f.layout,config);
 }
 // Nothing is drawn while the page loads (the text and tables show at once); figures are
 // drawn as they come near the viewport, and the first EAGER right after the load event.
 var rest=ids;
 function drawFrom(i){
  if(i<Math.min(EAGER,ids.length)){draw(ids[i]);setTimeout(function(){drawFrom(i+1);},0);}
 }
 window.addEventListener("load",function(){setTimeout(function(){drawFrom(0);},0);});
 if("IntersectionObserver" in window){
  var io=new IntersectionObserver(function(entries){entries.forEach(function(e){
   if(e.isIntersecting){io.unobserve(e.target);draw(e.target.id);}});},{rootMargin:"800px 0px"});
  rest.forEach(function(id){var el=document.getElementById(id);if(el)io.observe(el);});
 }else{rest.forEach(draw);}
 window.mlauditDrawAll=function(){ids.forEach(draw);};
 window.addEventListener("beforeprint",function(){ids.forEach(function(id){
  draw(id);Plotly.relayout(id,{width:660});});});
 window.addEventListener("afterprint",function(){ids.forEach(function(id){
  Plotly.relayout(id,{width:null,autosize:true});});});
})();
""".replace("EAGER", str(EAGER_FIGURES))


@dataclass(frozen=True)
class HtmlReport:
    """A rendered report: ``html`` is a complete page. Shows itself in Jupyter (in an
    isolated ``<iframe>``, so its CSS and scripts cannot touch the notebook) and saves
    itself with :meth:`save`."""

    html: str
    title: str = "mlaudit report"

    def _repr_html_(self) -> str:
        return (
            f'<iframe title="{esc(self.title)}" srcdoc="{esc(self.html)}" '
            'style="width:100%;height:720px;border:1px solid #d0d5dd;border-radius:8px" '
            'sandbox="allow-scripts"></iframe>'
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` atomically (see :func:`write_html`)."""
        return write_html(self.html, path)

    def __str__(self) -> str:
        return self.html


def write_html(html: str, path: str | os.PathLike[str]) -> Path:
    """Write ``html`` to ``path`` (UTF-8) atomically: a temporary file in the same folder,
    then a rename, so readers see the old file or the whole new one, never half.

    Returns the absolute path; a folder that does not exist or cannot be written is an
    :class:`~mlaudit.errors.InputError` naming the path.
    """
    return write_atomic(html.encode("utf-8"), path, what="report")


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The minified plotly.js bundled in the installed ``plotly`` Python package."""
    try:
        source = resources.files("plotly") / "package_data" / "plotly.min.js"
        text = source.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise InputError(
            "HTML reports need the plotly package (its bundled plotly.min.js)",
            hint="pip install plotly",
        ) from exc
    return _js_script(text)


def page(
    title: str,
    body: str,
    figures: dict[str, dict[str, Any]],
    *,
    subtitle: str = "",
    toc: list[tuple[str, str]] | None = None,
) -> str:
    """A complete HTML document: escaped ``title``/``subtitle``, trusted ``body`` markup,
    ``figures`` (element id → Plotly ``{"data", "layout"}``) drawn into ``<div id=...>``\\ s.

    ``toc`` is a list of (anchor id, label) links shown under the title.
    """
    nav = ""
    if toc:
        links = "".join(f'<a href="#{esc(a)}">{esc(label)}</a>' for a, label in toc)
        nav = f'<nav class="toc" aria-label="Contents">{links}</nav>'
    scripts = ""
    if figures:
        data = _json_script(orjson.dumps(figures, option=orjson.OPT_SERIALIZE_NUMPY).decode())
        scripts = (
            f'<script type="application/json" id="mlaudit-figures">{data}</script>\n'
            f"<script>{plotly_js()}</script>\n<script>{RUNTIME}</script>\n"
        )
    sub = f'<p class="sub">{esc(subtitle)}</p>' if subtitle else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f'<meta name="generator" content="mlaudit {esc(_version())}">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to the report</a>\n'
        f'<header class="top"><div class="wrap"><h1>{esc(title)}</h1>{sub}{nav}</div></header>\n'
        f'<main id="main"><div class="wrap">\n{body}\n</div></main>\n'
        f'<footer><div class="wrap">Made by mlaudit {esc(_version())}. This file is '
        "self-contained: it loads nothing from the network.</div></footer>\n"
        f"{scripts}</body>\n</html>\n"
    )


def _json_script(text: str) -> str:
    """JSON made safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators as ``\\u``
    escapes, so no value (a column named ``</script>``) can end the element."""
    for ch, sub in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, sub)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _js_script(text: str) -> str:
    """JavaScript made safe inside ``<script>`` (``</script`` would end the element)."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


@lru_cache(maxsize=1)
def _version() -> str:
    try:
        return metadata.version("mlaudit")
    except metadata.PackageNotFoundError:
        return "unknown"
