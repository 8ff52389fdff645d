"""Drift benchmark: mlaudit against the peers users would pick, on the same generated data.

    /work/main/.venv/bin/python bench/drift.py                      # 100k + 1M rows, all tools
    /work/main/.venv/bin/python bench/drift.py --mlaudit-10m        # + 10M rows, mlaudit only
    /work/main/.venv/bin/python bench/drift.py --quick              # 10k rows smoke test

The peers live in venvs of their own (``bash bench/setup_peers.sh``); mlaudit and the plain
SciPy loop run with this interpreter (mlaudit's venv). Each (tool, size) runs as a separate
subprocess: ``bench/runners/<tool>.py`` reads the two Parquet files, runs the tool's default
data drift and prints one ``RESULT {json}`` line (see ``runners/_common.py`` for what is
timed). This driver scores the flagged columns against the known drift and writes a Markdown
table (default ``docs/benchmarks-drift.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import datagen  # noqa: E402

ALL_TOOLS = ["mlaudit", "scipy", "evidently", "nannyml", "whylogs"]
OPTIONAL_TOOLS = ["nannyml-1chunk"]  # NannyML with a single chunk (degenerate thresholds)


@dataclass(frozen=True)
class Tool:
    name: str
    python: Path
    script: str
    extra: tuple[str, ...] = ()
    setup_hint: str = ""


def _tools() -> dict[str, Tool]:
    me = Path(sys.executable)
    hint = "run `bash bench/setup_peers.sh`"
    return {
        "mlaudit": Tool("mlaudit", me, "mlaudit_drift.py"),
        "scipy": Tool("scipy", me, "scipy_loop.py"),
        "evidently": Tool("evidently", BENCH / ".venv-evidently/bin/python", "evidently_preset.py", (), hint),
        "nannyml": Tool("nannyml", BENCH / ".venv-nannyml/bin/python", "nannyml_univariate.py", (), hint),
        "nannyml-1chunk": Tool(
            "nannyml-1chunk",
            BENCH / ".venv-nannyml/bin/python",
            "nannyml_univariate.py",
            ("--chunks", "1"),
            hint,
        ),
        "whylogs": Tool("whylogs", BENCH / ".venv-whylogs/bin/python", "whylogs_drift.py", (), hint),
    }


@dataclass
class Run:
    tool: str
    rows: int
    ok: bool
    error: str = ""
    wall: float = 0.0  # subprocess wall time: interpreter start + imports + load + work
    result: dict[str, Any] = field(default_factory=dict)
    seconds_all: list[float] = field(default_factory=list)
    compare_all: list[float] = field(default_factory=list)
    input_bytes: int = 0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # The peers phone home by default; there is no network here and it would skew the timings.
    env.update(
        NML_DISABLE_USAGE_LOGGING="1",
        WHYLOGS_NO_ANALYTICS="True",
        ITERATIVE_DO_NOT_TRACK="do-not-track",
        DO_NOT_TRACK="1",
        PYTHONWARNINGS="ignore",
    )
    return env


def run_tool(tool: Tool, ref: Path, cur: Path, rows: int, timeout: float, logdir: Path) -> Run:
    if not tool.python.exists():
        return Run(tool.name, rows, False, f"not installed ({tool.setup_hint})")
    cmd = [
        str(tool.python),
        str(BENCH / "runners" / tool.script),
        *tool.extra,
        "--reference",
        str(ref),
        "--current",
        str(cur),
        "--numeric",
        ",".join(datagen.NUMERIC_NAMES),
        "--categorical",
        ",".join(datagen.CATEGORICAL_NAMES),
    ]
    log = logdir / f"{tool.name}-{rows}.stderr"
    t0 = time.perf_counter()
    try:
        with open(log, "w") as err:
            proc = subprocess.run(
                cmd,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                timeout=timeout,
                env=_env(),
                cwd=str(BENCH / "runners"),
            )
    except subprocess.TimeoutExpired:
        return Run(tool.name, rows, False, f"timeout after {timeout:.0f} s", time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        why = f"exit {proc.returncode}" + (
            " (killed: out of memory?)" if proc.returncode in (-9, 137) else ""
        )
        return Run(tool.name, rows, False, f"failed: {why}: {tail[0][:160]}", wall)
    res = json.loads(lines[-1][len("RESULT ") :])
    return Run(tool.name, rows, True, wall=wall, result=res)


def _generate(path: Path, which: str, rows: int, seed: int) -> int:
    """Write one table in a child process (keeps this driver's memory small: a child's
    ``ru_maxrss`` starts from its parent's RSS at fork time). Returns its Arrow bytes."""
    out = subprocess.run(
        [sys.executable, str(BENCH / "datagen.py"), str(path), which, str(rows), str(seed)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def score(drifted: list[str]) -> tuple[int, int, int, list[str], list[str]]:
    truth = set(datagen.DRIFTED)
    got = set(drifted)
    fp = sorted(got - truth)
    fn = sorted(truth - got)
    return len(got & truth), len(fp), len(fn), fp, fn


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def fmt_mb(x: float) -> str:
    return f"{x:,.0f}"


def render(
    runs: list[Run],
    sizes: list[int],
    inputs: dict[int, tuple[int, int]],
    command: str,
    mach: dict[str, str],
    loads: list[str],
    started: str,
    total: float,
    repeat: int,
) -> str:
    out: list[str] = []
    w = out.append
    w("# Drift benchmark: mlaudit vs Evidently, NannyML, whylogs and a plain SciPy loop\n")
    w(f"Measured {started} UTC, total {total / 60:.1f} min. Reproduce with (from the repo root):\n")
    w("```bash\nbash bench/setup_peers.sh    # once: the peers' venvs, pinned\n" + command + "\n```\n")
    w(
        f"Machine: {mach['nproc']} cores ({mach['cpu']}), {mach['memory']} RAM, {mach['os']}, "
        f"Python {mach['python']}. The machine is shared with other jobs (load average "
        f"during the run: {', '.join(loads)}), so timings carry some noise"
        + (f"; runs shorter than 60 s were repeated {repeat}× and the median is shown" if repeat > 1 else "")
        + ".\n"
    )
    w("## Data\n")
    w(
        f"Seeded synthetic reference and current tables, {len(datagen.NUMERIC_NAMES)} numeric "
        f"(normal, log-normal, gamma, exponential, uniform, beta, Student-t, bimodal, Poisson and "
        f"rounded integer-valued columns with ties) + {len(datagen.CATEGORICAL_NAMES)} categorical "
        "(3 to 40 levels, plain strings) columns, no nulls, the same number of rows on each side. "
        f"{len(datagen.DRIFTED)} columns drift, modestly; the other "
        f"{len(datagen.NUMERIC_NAMES) + len(datagen.CATEGORICAL_NAMES) - len(datagen.DRIFTED)} "
        "have exactly the same distribution on both sides:\n"
    )
    w("| column | drift |\n| --- | --- |")
    for k, v in datagen.DRIFTED.items():
        w(f"| {k} | {v} |")
    w("")
    w("| rows (each side) | Arrow in memory, both tables | Parquet on disk, both |\n| ---: | ---: | ---: |")
    for n in sizes:
        if n in inputs:
            w(f"| {n:,} | {inputs[n][0] / 2**20:,.0f} MB | {inputs[n][1] / 2**20:,.0f} MB |")
    w("")
    w("## Results\n")
    w(
        "*seconds*: from the data sitting in the tool's native frame (pyarrow.Table for mlaudit, "
        "pandas.DataFrame for the others) to the per-column verdict in hand; excludes interpreter "
        "start, imports and reading the Parquet files. *end-to-end*: the whole subprocess "
        "(start, imports, read, work). *peak RSS*: peak RSS (`VmHWM`) of the runner process (includes "
        "the loaded data and the interpreter; '− imports' subtracts the RSS after imports, before "
        "any data; '× input' divides the peak by the Arrow size of both tables). TP/FP/FN: against the "
        f"{len(datagen.DRIFTED)} known drifted columns.\n"
    )
    w(
        "| tool | rows | seconds | end-to-end s | peak RSS MB | − imports MB | × input | TP | FP | "
        "FN | notes |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    )
    for r in runs:
        n = r.rows
        if not r.ok:
            w(f"| {r.tool} | {n:,} | — | — | — | — | — | — | — | — | **{r.error}** |")
            continue
        res = r.result
        secs = statistics.median(r.seconds_all)
        tp, nfp, nfn, fp, fn = score(res["drifted"])
        notes = []
        if r.compare_all and r.tool == "mlaudit":
            notes.append(
                f"compare alone {statistics.median(r.compare_all):.2f} s "
                f"(first run: fit {res.get('fit_seconds', 0):.2f} s)"
            )
        if r.tool == "whylogs" and "profile_seconds" in res:
            notes.append(
                f"first run: profiling {res['profile_seconds']:.1f} s, drift {res['compare_seconds']:.2f} s"
            )
        if len(r.seconds_all) > 1:
            notes.append(f"{len(r.seconds_all)} runs: {min(r.seconds_all):.2f}–{max(r.seconds_all):.2f} s")
        if fp:
            notes.append("FP: " + ", ".join(fp))
        if fn:
            notes.append("FN: " + ", ".join(fn))
        ratio = res["peak_rss_mb"] * 2**20 / inputs[n][0] if n in inputs and inputs[n][0] else 0
        w(
            f"| {r.tool} | {n:,} | {secs:.2f} | {r.wall:.1f} | {fmt_mb(res['peak_rss_mb'])} | "
            f"{fmt_mb(res['peak_rss_mb'] - res['baseline_rss_mb'])} | "
            f"{ratio:.1f} | {tp} | {nfp} | {nfn} | {'; '.join(notes)} |"
        )
    w("")
    # Targets
    by = {(r.tool, r.rows): r for r in runs if r.ok}
    targets: list[str] = []
    n1 = 1_000_000
    ml = by.get(("mlaudit", n1))
    if ml:
        ms = statistics.median(ml.seconds_all)
        ev = by.get(("evidently", n1))
        if ev:
            sp = statistics.median(ev.seconds_all) / ms
            verdict = "met" if sp >= 25 else "**not met**"
            targets.append(f"| ≥ 25× faster than Evidently at 1M rows | {sp:.1f}× | {verdict} |")
        sc = by.get(("scipy", n1))
        if sc:
            ss = statistics.median(sc.seconds_all)
            targets.append(
                f"| no slower than the plain SciPy loop at 1M rows | {ms:.2f} s vs {ss:.2f} s "
                f"({ss / ms:.2f}×) | {'met' if ms <= ss else '**not met**'} |"
            )
        if n1 in inputs:
            ratio = ml.result["peak_rss_mb"] * 2**20 / inputs[n1][0]
            targets.append(
                f"| peak memory < 3× input at 1M rows | {ml.result['peak_rss_mb']:,.0f} MB = "
                f"{ratio:.2f}× of {inputs[n1][0] / 2**20:,.0f} MB | {'met' if ratio < 3 else '**not met**'} |"
            )
    for r in runs:
        if r.tool == "mlaudit" and r.rows >= 10_000_000:
            if r.ok:
                ratio = r.result["peak_rss_mb"] * 2**20 / inputs[r.rows][0]
                secs = statistics.median(r.seconds_all)
                targets.append(
                    f"| {r.rows:,} rows finish on this machine | {secs:.1f} s "
                    f"(end-to-end {r.wall:.0f} s), peak {r.result['peak_rss_mb']:,.0f} MB "
                    f"= {ratio:.2f}× input | met |"
                )
            else:
                targets.append(f"| {r.rows:,} rows finish on this machine | {r.error} | **not met** |")
    if targets:
        w("## Targets\n")
        w("| target | measured | |\n| --- | --- | --- |")
        out.extend(targets)
        w("")
    w("## Versions and verdict rules\n")
    seen: dict[str, dict[str, Any]] = {}
    for r in runs:
        if r.ok and r.tool not in seen:
            seen[r.tool] = r.result
    rules = {
        "mlaudit": "`DriftDetector().fit(ref).compare(cur).drifted_columns`, all defaults "
        "(per-column test, Benjamini–Hochberg-corrected p < 0.05 **and** effect size above the "
        "column's threshold)",
        "scipy": "`ks_2samp` per numeric column, `chi2_contingency` on the 2×k counts per "
        "categorical column, p < 0.05, no correction",
        "evidently": "`Report([DataDriftPreset()], include_tests=True)`, columns declared "
        "numeric/categorical; a column is drifted when its ValueDrift test fails",
        "nannyml": "`UnivariateDriftCalculator` with default methods and thresholds, default "
        "chunking (10 chunks per side); flagged when any method alerts on any analysis chunk",
        "nannyml-1chunk": "as nannyml but `chunk_number=1`: one reference chunk gives a threshold "
        "std of 0, the threshold collapses to the reference value and nearly every column alerts",
        "whylogs": "`why.log(df).view()` for both, `calculate_drift_scores(..., "
        "with_thresholds=True)`, flagged when `drift_category == 'DRIFT'`",
    }
    w("| tool | version | methods used | verdict rule |\n| --- | --- | --- | --- |")
    for t, res in seen.items():
        methods = ", ".join(res.get("methods", [])) or "—"
        w(f"| {t} | {res['version']} | {methods} | {rules.get(t, '')} |")
    w("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000", help="rows per side, comma-separated")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"from {ALL_TOOLS + OPTIONAL_TOOLS}")
    ap.add_argument("--mlaudit-10m", action="store_true", help="add a 10M-row run, mlaudit only")
    ap.add_argument("--quick", action="store_true", help="10k rows only (smoke test)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per tool run, seconds")
    ap.add_argument("--repeat", type=int, default=1, help="repeat runs shorter than 60 s; median shown")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", default=None, help="where the Parquet files go (default: a temp dir)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks-drift.md"))
    ap.add_argument("--json", default=None, help="also write the raw results here")
    args = ap.parse_args()

    sizes = [10_000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    registry = _tools()
    for t in tools:
        if t not in registry:
            ap.error(f"unknown tool {t!r}; choose from {sorted(registry)}")
    plan: list[tuple[int, list[str]]] = [(n, tools) for n in sizes]
    if args.mlaudit_10m and not args.quick:
        plan.append((10_000_000, ["mlaudit"]))

    argv, skip = [], False
    for a in sys.argv[1:]:  # the reproducing command, minus --json PATH / --out PATH
        if skip:
            skip = False
            continue
        if a in ("--json", "--out"):
            skip = True
            continue
        if a.startswith(("--json=", "--out=")):
            continue
        argv.append(a)
    command = "/work/main/.venv/bin/python bench/drift.py " + " ".join(shlex.quote(a) for a in argv)
    mach = machine()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t_start = time.perf_counter()
    loads = [loadavg()]
    runs: list[Run] = []
    inputs: dict[int, tuple[int, int]] = {}
    tmp = tempfile.TemporaryDirectory(prefix="mlaudit-drift-bench-", dir=args.workdir)
    work = Path(tmp.name)
    print(f"machine: {mach}; data in {work}", flush=True)
    try:
        for n, ts in plan:
            ref, cur = work / f"reference-{n}.parquet", work / f"current-{n}.parquet"
            t0 = time.perf_counter()
            nb = sum(
                _generate(path, which, n, args.seed) for path, which in ((ref, "reference"), (cur, "current"))
            )
            inputs[n] = (nb, ref.stat().st_size + cur.stat().st_size)
            print(
                f"[{n:,} rows] data generated in {time.perf_counter() - t0:.1f} s "
                f"({nb / 2**20:,.0f} MB in Arrow)",
                flush=True,
            )
            for t in ts:
                run = run_tool(registry[t], ref, cur, n, args.timeout, work)
                run.input_bytes = nb
                if run.ok:
                    run.seconds_all.append(run.result["seconds"])
                    if "compare_seconds" in run.result:
                        run.compare_all.append(run.result["compare_seconds"])
                    for _ in range(args.repeat - 1):
                        if run.result["seconds"] + run.result["load_seconds"] > 60:
                            break
                        again = run_tool(registry[t], ref, cur, n, args.timeout, work)
                        if not again.ok:
                            break
                        run.seconds_all.append(again.result["seconds"])
                        if "compare_seconds" in again.result:
                            run.compare_all.append(again.result["compare_seconds"])
                        # keep the worst peak memory
                        if again.result["peak_rss_mb"] > run.result["peak_rss_mb"]:
                            run.result["peak_rss_mb"] = again.result["peak_rss_mb"]
                runs.append(run)
                if run.ok:
                    tp, nfp, nfn, _, _ = score(run.result["drifted"])
                    print(
                        f"  {t:15s} {statistics.median(run.seconds_all):9.2f} s  "
                        f"rss {run.result['peak_rss_mb']:8.0f} MB  TP {tp} FP {nfp} FN {nfn}  "
                        f"(end-to-end {run.wall:.1f} s)",
                        flush=True,
                    )
                else:
                    print(f"  {t:15s} {run.error}", flush=True)
                loads.append(loadavg())
            ref.unlink(missing_ok=True)
            cur.unlink(missing_ok=True)
    finally:
        tmp.cleanup()
    total = time.perf_counter() - t_start
    peak = max(loads, key=lambda s: float(s.split()[0]))
    load_summary = [f"1-min {loads[0].split()[0]} at the start", f"highest {peak.split()[0]}"]
    md = render(runs, [n for n, _ in plan], inputs, command, mach, load_summary, started, total, args.repeat)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(md)
    print("\n" + md)
    print(f"written to {args.out}")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in runs], indent=1, default=str))


if __name__ == "__main__":
    main()
