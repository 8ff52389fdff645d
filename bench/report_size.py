"""How big is a drift report of a million rows, and how fast does it open in a browser?

Issue 6 asks that the HTML of a 1M-row drift report stay under 5 MB and open in Chromium in
under 3 s. This bench generates the drift benchmark's 25-column tables (bench/datagen.py),
computes the drift report with the full reference profile, writes the HTML, and opens it in
Debian's Chromium through Playwright ``--repeat`` times (a new page each time), timing:

- ``load``: navigation start to the ``load`` event (HTML parsed, inline plotly.js run);
- ``first view``: to the figures above the fold drawn (the page draws the rest as they scroll in);
- ``all figures``: to every figure drawn after ``mlauditDrawAll()`` (what printing does).

    .venv/bin/python bench/report_size.py [--rows 1000000] [--repeat 5] [--out docs/benchmarks-reports.md]

Needs /usr/bin/chromium and the playwright package (both in `make test`'s install).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from datagen import write_table  # noqa: E402
from drift import machine  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def build(rows: int, folder: Path) -> tuple[Path, dict[str, float]]:
    from mlaudit.report import current_profile, drift_html, write_html
    from mlaudit.stats.drift import DriftDetector

    ref_path, cur_path = folder / "ref.parquet", folder / "cur.parquet"
    write_table(ref_path, "reference", rows, 1)
    write_table(cur_path, "current", rows, 2)
    ref, cur = pq.read_table(ref_path), pq.read_table(cur_path)
    t0 = time.perf_counter()
    detector = DriftDetector(keep_profile=True).fit(ref)
    report = detector.compare(cur)
    t1 = time.perf_counter()
    assert detector.profile_ is not None
    html = drift_html(report, detector.profile_, current_profile(detector.profile_, cur))
    t2 = time.perf_counter()
    page = write_html(html, folder / "drift.html")
    timings = {"drift_s": t1 - t0, "render_s": t2 - t1, "columns": float(len(report.columns))}
    return page, timings


def open_times(page: Path, repeat: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {"load": [], "first_view": [], "all_figures": []}
    drawn = (
        "[...document.querySelectorAll('.plot')]"
        ".filter(el => el.querySelector('svg.main-svg .trace')).length"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        requests: list[str] = []

        def note(request: object) -> None:
            url = str(getattr(request, "url", ""))
            if not url.startswith(("file:", "data:", "blob:")):
                requests.append(url)

        for i in range(repeat + 1):  # the first open warms the browser's caches; not counted
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.on("request", note)
            start = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load")
            load = time.perf_counter() - start
            tab.wait_for_function(f"{drawn} > 0")
            first = time.perf_counter() - start
            tab.evaluate("window.mlauditDrawAll()")
            tab.wait_for_function(f"{drawn} === document.querySelectorAll('.plot').length")
            every = time.perf_counter() - start
            if requests:
                raise SystemExit(f"the report made network requests: {requests[:3]}")
            if i > 0:
                out["load"].append(load)
                out["first_view"].append(first)
                out["all_figures"].append(every)
            tab.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown result here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        page, t = build(args.rows, Path(tmp))
        size = page.stat().st_size
        times = open_times(page, args.repeat)
    med = {k: statistics.median(v) for k, v in times.items()}
    worst = {k: max(v) for k, v in times.items()}
    m = machine()
    lines = [
        "# Benchmark: size and opening time of a 1M-row drift report",
        "",
        f"Command: `.venv/bin/python bench/report_size.py --rows {args.rows} --repeat {args.repeat}`",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, Chromium "
        f"(Debian) headless through Playwright. Data: bench/datagen.py, {args.rows:,} rows × 25 columns "
        f"per side; {int(t['columns'])} columns compared.",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| HTML size | {size / 1e6:.2f} MB | < 5 MB |",
        f"| open: `load` event, median (worst) of {args.repeat} | {med['load']:.2f} s "
        f"({worst['load']:.2f} s) | < 3 s |",
        f"| open: first figures drawn, median (worst) | {med['first_view']:.2f} s "
        f"({worst['first_view']:.2f} s) | |",
        f"| all {int(t['columns'])}+ figures drawn (print), median (worst) | {med['all_figures']:.2f} s "
        f"({worst['all_figures']:.2f} s) | |",
        f"| drift computation (fit + compare, full profile) | {t['drift_s']:.1f} s | |",
        f"| HTML rendering | {t['render_s']:.2f} s | |",
        "",
        "The page's size does not grow with the rows: figures are drawn from the profiles' sketches",
        "and histograms, never from raw values, and plotly.js (about 4.8 MB minified) is inlined once.",
        "Figures below the fold are drawn when they scroll into view, so opening the page costs the",
        "first screen only; printing draws all of them.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
