from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from mlaudit.errors import InputError
from mlaudit.report import HtmlReport, write_html
from mlaudit.report.html import CSS, CURRENT_COLOUR, REFERENCE_COLOUR, page, plotly_js


def test_page_is_a_complete_document_with_escaped_title() -> None:
    html = page("<i>t</i>", "<p>body</p>", {}, subtitle="a & b")
    assert html.startswith("<!DOCTYPE html>")
    for needle in (
        '<html lang="en">',
        '<meta charset="utf-8">',
        'name="viewport"',
        "Content-Security-Policy",
    ):
        assert needle in html
    assert "<title>&lt;i&gt;t&lt;/i&gt;</title>" in html
    assert "a &amp; b" in html
    assert "<script>" not in html  # no figures: no Plotly bundle either


def test_figure_json_cannot_close_the_script_element() -> None:
    fig = {"data": [{"type": "bar", "y": ["</script><script>alert(1)</script>"]}], "layout": {}}
    html = page("t", '<div id="f"></div>', {"f": fig})
    blob = html.split('id="mlaudit-figures">', 1)[1].split("</script>", 1)[0]
    assert "<" not in blob and "\\u003c/script\\u003e" in blob
    assert html.count(plotly_js()) == 1  # the bundle is inlined once


def test_plotly_bundle_has_no_closing_script_tag() -> None:
    js = plotly_js()
    assert len(js) > 1_000_000
    assert re.search(r"</script", js, re.IGNORECASE) is None


def test_write_html_is_atomic_and_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")
    out = write_html("<p>new</p>", target)
    assert out == target.absolute()
    assert target.read_text(encoding="utf-8") == "<p>new</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left


def test_write_html_rejects_missing_folder_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the report") as info:
        write_html("x", tmp_path / "nope" / "r.html")
    assert info.value.path is not None and info.value.path.endswith("r.html")
    with pytest.raises(InputError, match="folder"):
        write_html("x", tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_write_html_rejects_read_only_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(InputError):
            write_html("x", ro / "r.html")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(stat.S_IRWXU)


def test_html_report_for_jupyter_is_an_isolated_iframe(tmp_path: Path) -> None:
    report = HtmlReport('<p class="x">hi & bye</p>', title="T")
    shown = report._repr_html_()
    assert shown.startswith("<iframe") and 'srcdoc="&lt;p class=&quot;x&quot;&gt;hi &amp; bye' in shown
    assert report.save(tmp_path / "a.html").read_text(encoding="utf-8") == report.html


def _luminance(colour: str) -> float:
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_palette_meets_wcag_aa_contrast() -> None:
    var = dict(re.findall(r"--([a-z-]+):(#[0-9a-f]{6})", CSS))
    pairs = [("fg", "bg"), ("muted", "bg"), ("muted", "panel"), ("accent", "bg")]
    pairs += [(k, f"{k}-bg") for k in ("bad", "ok", "skip", "warn")]
    for fg, bg in pairs:
        assert _contrast(var[fg], var[bg]) >= 4.5, (fg, bg)
    for colour in (REFERENCE_COLOUR, CURRENT_COLOUR):  # legend keys and lines on white
        assert _contrast(colour, "#ffffff") >= 4.5
