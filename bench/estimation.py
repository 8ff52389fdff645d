"""Performance-estimation benchmark: mlaudit's PerformanceEstimator against NannyML's CBPE.

    /work/main/.venv/bin/python bench/estimation.py                 # defaults below
    /work/main/.venv/bin/python bench/estimation.py --windows 20 --window-size 5000 --seed 42 --repeat 3

Generated, seeded data where the truth is known. Six standard-normal features ``x``; the true
probability is ``P(y=1|x) = sigmoid(-0.7 + w·x)`` with ``w = (1.0, -0.8, 0.6, 0.5, 0, 0)``.
A reference period (labelled) and ``--windows`` analysis windows whose labels are drawn but
hidden from the tools; the realised ROC AUC and accuracy of each window are computed from
those drawn labels (scikit-learn). Scenarios:

* ``covariate``: the model's score is the true probability (calibrated). The feature
  distribution shifts more and more from window to window (means of x0, x2 and the
  irrelevant x4 move, the spreads of x0, x1 and x3 shrink), so the score distribution, the
  prevalence, the accuracy and the AUC change while ``P(y|x)`` -- and so ``P(y|score)`` --
  stays the same: CBPE's assumption holds.
* ``covariate-uncalibrated``: the same, but the score is ``p**0.6`` (monotone, over-confident
  for positives): both tools must calibrate on the reference first. The assumption still holds.
* ``concept``: the features keep the reference distribution but ``P(y|x)`` changes (the
  intercept rises, the model's features lose weight and x4, which the model ignores, gains
  it). The assumption is violated: every confidence-based estimator must get this wrong.

Each (scenario, replicate) is written to Parquet in a temp dir. mlaudit runs in this process
(``PerformanceEstimator(metrics=("roc_auc", "accuracy"))``, defaults otherwise: 95 %
simulated sampling-error band); NannyML runs in its own venv through
``runners/nannyml_cbpe.py`` (``bash bench/setup_peers.sh nannyml`` once). Seconds are fit +
estimate of all windows, from the data in the tool's frame (NumPy / pandas), median of
``--repeat`` runs of replicate 0. ``--replicates`` independent data sets (seeds ``seed``,
``seed+1``, ...) are pooled for the coverage numbers. Writes ``docs/benchmarks-estimation.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from drift import _env, loadavg, machine  # noqa: E402

import mlaudit  # noqa: E402
from mlaudit.stats.estimation import PerformanceEstimator  # noqa: E402

METRICS = ("roc_auc", "accuracy")
THRESHOLD = 0.5
N_FEATURES = 6
W = np.array([1.0, -0.8, 0.6, 0.5, 0.0, 0.0])
B0 = -0.7
SCENARIOS = {
    "covariate": "covariate shift, calibrated scores (assumption holds)",
    "covariate-uncalibrated": "covariate shift, uncalibrated scores p**0.6 (assumption holds)",
    "concept": "concept shift, no covariate shift (assumption violated)",
}
NANNYML_PY = BENCH / ".venv-nannyml/bin/python"
INTERPRETATION = "## Interpretation"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _features(rng: np.random.Generator, n: int, t: float, covariate: bool) -> np.ndarray:
    """``n`` rows of x; ``t`` in [0, 1] is how far the window has drifted (0 = reference)."""
    mean = np.zeros(N_FEATURES)
    sd = np.ones(N_FEATURES)
    if covariate:
        mean[0], mean[2], mean[4] = 1.0 * t, -0.5 * t, 2.0 * t
        sd[0], sd[1], sd[3] = 1.0 - 0.5 * t, 1.0 - 0.6 * t, 1.0 - 0.5 * t
    return rng.normal(mean, sd, (n, N_FEATURES))


def _true_logit(x: np.ndarray, t: float, concept: bool) -> np.ndarray:
    if not concept:
        return B0 + x @ W
    return B0 + 1.2 * t + (1.0 - 0.7 * t) * (x @ W) + 1.2 * t * x[:, 4]


def draw(scenario: str, rng: np.random.Generator, n: int, t: float) -> tuple[np.ndarray, np.ndarray]:
    """(score, label) for ``n`` rows at drift ``t``: the model always scores with the
    reference relation ``sigmoid(B0 + w·x)``; the labels come from the window's true relation."""
    x = _features(rng, n, t, covariate=scenario != "concept")
    model_p = _sigmoid(B0 + x @ W)
    score = model_p**0.6 if scenario == "covariate-uncalibrated" else model_p
    y = rng.random(n) < _sigmoid(_true_logit(x, t, concept=scenario == "concept"))
    return score, y


def realised(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, s)),
        "accuracy": float(np.mean(y == (s >= THRESHOLD))),
    }


@dataclass
class Data:
    ref_score: np.ndarray
    ref_y: np.ndarray
    windows: list[np.ndarray]  # scores per window
    truth: list[dict[str, float]]  # realised metrics per window
    shift: list[float]


def generate(scenario: str, seed: int, n_ref: int, k: int, m: int) -> Data:
    rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario)])
    rs, ry = draw(scenario, rng, n_ref, 0.0)
    wins, truth, shift = [], [], []
    for i in range(k):
        t = i / (k - 1) if k > 1 else 1.0
        s, y = draw(scenario, rng, m, t)
        wins.append(s)
        truth.append(realised(y, s))
        shift.append(t)
    return Data(rs, ry, wins, truth, shift)


def write_parquet(d: Data, work: Path) -> tuple[Path, Path]:
    ref, ana = work / "reference.parquet", work / "analysis.parquet"
    pq.write_table(
        pa.table(
            {
                "score": d.ref_score,
                "y_pred": (d.ref_score >= THRESHOLD).astype(np.int64),
                "y_true": d.ref_y.astype(np.int64),
            }
        ),
        ref,
    )
    s = np.concatenate(d.windows)
    pq.write_table(
        pa.table(
            {
                "score": s,
                "y_pred": (s >= THRESHOLD).astype(np.int64),
                "window": np.repeat(np.arange(len(d.windows)), [len(w) for w in d.windows]),
            }
        ),
        ana,
    )
    return ref, ana


@dataclass
class Estimates:
    """Per metric: value, lower, upper per window (+ sampling_error for NannyML)."""

    ok: bool
    error: str = ""
    version: str = ""
    seconds: list[float] = field(default_factory=list)
    fit_seconds: list[float] = field(default_factory=list)
    metrics: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    notes: str = ""


def run_mlaudit(ref: Path, ana: Path, window_size: int, repeat: int, one_thread: bool = False) -> Estimates:
    """Read the same Parquet files (untimed), then time fit + estimate of every window
    (``one_thread``: with the BLAS/OpenMP thread pools limited to one thread)."""
    if one_thread:
        with threadpool_limits(1):
            return run_mlaudit(ref, ana, window_size, repeat)
    rt, at = pq.read_table(ref), pq.read_table(ana)
    rs = rt.column("score").to_numpy()
    ry = rt.column("y_true").to_numpy()
    s = at.column("score").to_numpy()
    wins = [s[i : i + window_size] for i in range(0, len(s), window_size)]
    seconds, fit_seconds = [], []
    out: list[Any] = []
    est = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        est = PerformanceEstimator(metrics=METRICS, threshold=THRESHOLD).fit(ry, rs)
        t1 = time.perf_counter()
        out = [est.estimate(w, window=f"w{i}") for i, w in enumerate(wins)]
        seconds.append(time.perf_counter() - t0)
        fit_seconds.append(t1 - t0)
    assert est is not None
    metrics: dict[str, dict[str, list[float]]] = {}
    for name in METRICS:
        ms = [e.metric(name) for e in out]
        metrics[name] = {
            "value": [m.value for m in ms],
            "lower": [m.lower for m in ms],
            "upper": [m.upper for m in ms],
            "std": [m.std for m in ms],
        }
    return Estimates(
        True,
        version=f"mlaudit {getattr(mlaudit, '__version__', '?')}",
        seconds=seconds,
        fit_seconds=fit_seconds,
        metrics=metrics,
        notes=f"calibration {est.calibration_} (Hosmer–Lemeshow p = {est.calibration_p_value_:.3g})",
    )


def run_nannyml(
    ref: Path, ana: Path, window_size: int, repeat: int, timeout: float, one_thread: bool = False
) -> Estimates:
    if not NANNYML_PY.exists():
        return Estimates(False, "not installed (run `bash bench/setup_peers.sh nannyml`)")
    cmd = [
        str(NANNYML_PY),
        str(BENCH / "runners" / "nannyml_cbpe.py"),
        "--reference",
        str(ref),
        "--analysis",
        str(ana),
        "--window-size",
        str(window_size),
        "--metrics",
        ",".join(METRICS),
        "--repeat",
        str(repeat),
    ]
    env = _env()
    if one_thread:
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(BENCH / "runners")
        )
    except subprocess.TimeoutExpired:
        return Estimates(False, f"timeout after {timeout:.0f} s")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or [""])[-1]
        return Estimates(False, f"failed: exit {proc.returncode}: {tail[:200]}")
    res = json.loads(lines[-1][len("RESULT ") :])
    return Estimates(
        True,
        version=res["version"],
        seconds=res["seconds"],
        fit_seconds=res["fit_seconds"],
        metrics=res["metrics"],
        notes="calibrated (isotonic)" if res.get("calibrated") else "not calibrated",
    )


@dataclass
class Score:
    hits: int = 0
    hits_196: int = 0  # NannyML only: value ± 1.96 sampling errors (a nominal 95 % band)
    n: int = 0
    abs_err: list[float] = field(default_factory=list)
    err: list[float] = field(default_factory=list)
    width: list[float] = field(default_factory=list)
    hits_first: int = 0  # replicate 0 only
    n_first: int = 0
    z: list[float] = field(default_factory=list)  # (estimate - realised) / reported standard error
    per_replicate: list[float] = field(default_factory=list)  # coverage of each replicate


def score_into(sc: Score, est: Estimates, metric: str, truth: list[dict[str, float]], first: bool) -> None:
    m = est.metrics[metric]
    se_all = m.get("sampling_error") or m.get("std")
    hits = 0
    for i, tr in enumerate(truth):
        v, lo, hi = m["value"][i], m["lower"][i], m["upper"][i]
        real = tr[metric]
        inside = lo is not None and hi is not None and lo <= real <= hi
        sc.hits += inside
        hits += inside
        sc.n += 1
        if first:
            sc.hits_first += inside
            sc.n_first += 1
        if "sampling_error" in m:
            se = m["sampling_error"][i]
            sc.hits_196 += abs(real - v) <= 1.96 * se
        sc.abs_err.append(abs(v - real))
        sc.err.append(v - real)
        sc.width.append(hi - lo)
        if se_all and se_all[i]:
            sc.z.append((v - real) / se_all[i])
    sc.per_replicate.append(hits / len(truth))


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f} % ({a}/{b})" if b else "—"


def render(
    args: argparse.Namespace,
    command: str,
    mach: dict[str, str],
    loads: list[str],
    started: str,
    total: float,
    scores: dict[tuple[str, str, str], Score],
    first: dict[str, tuple[Data, dict[str, Estimates]]],
    versions: dict[str, str],
    notes: dict[tuple[str, str], str],
) -> str:
    out: list[str] = []
    w = out.append
    w("# Performance-estimation benchmark: mlaudit vs NannyML's CBPE\n")
    w(f"Measured {started} UTC, total {total / 60:.1f} min. Reproduce with (from the repo root):\n")
    w("```bash\nbash bench/setup_peers.sh nannyml    # once: NannyML's venv, pinned\n" + command + "\n```\n")
    w(
        f"Machine: {mach['nproc']} cores ({mach['cpu']}), {mach['memory']} RAM, {mach['os']}, "
        f"Python {mach['python']}; {versions.get('mlaudit', 'mlaudit ?')}; "
        f"{versions.get('nannyml', 'NannyML not run')} (its own venv). Load average during the run: "
        f"{', '.join(loads)}.\n"
    )
    w("## Data\n")
    w(
        f"Seeded (`--seed {args.seed}`), generated by `bench/estimation.py`: six standard-normal "
        "features, true `P(y=1|x) = sigmoid(-0.7 + x·w)`, `w = (1.0, -0.8, 0.6, 0.5, 0, 0)`; "
        "the model's score is that probability (or `p**0.6` in the uncalibrated scenario). "
        f"Reference: {args.reference:,} labelled rows. Analysis: {args.windows} windows × "
        f"{args.window_size:,} rows whose labels are drawn and hidden from the tools; the drift "
        "grows linearly from none (window 0) to the full shift (last window). "
        "*Realised* = the metric computed from the drawn labels. Coverage and errors pool "
        f"{args.replicates} independent replicates (seeds {args.seed}..{args.seed + args.replicates - 1}, "
        f"{args.replicates * args.windows} windows per scenario); *replicate 0* is the first "
        f"data set alone ({args.windows} windows), the one the issue's wording is about.\n"
    )
    w("| scenario | what changes | CBPE assumption (P(y \\| score) unchanged) |\n| --- | --- | --- |")
    w(
        "| covariate | x0 mean 0→1, x2 mean 0→−0.5, x4 (unused by the model) mean 0→2, "
        "x0 sd 1→0.5, x1 sd 1→0.4, x3 sd 1→0.5 (t 0→1); score = true probability | holds |"
    )
    w("| covariate-uncalibrated | the same shift; score = true probability ** 0.6 | holds |")
    w(
        "| concept | features as in reference; true logit = −0.7 + 1.2t + (1 − 0.7t)·x·w + 1.2t·x4, "
        "t 0→1; the model still scores sigmoid(−0.7 + x·w) | **violated** |"
    )
    w("")
    w("## Bands\n")
    w(
        '* **mlaudit**: `PerformanceEstimator(metrics=("roc_auc", "accuracy"))`, defaults: '
        "the central 95 % of the metric over 500 simulated label vectors drawn from the window's "
        "calibrated probabilities (plus, when it calibrates, 50 bootstrap isotonic fits), i.e. the "
        "sampling error of the realised metric given the window's scores (`lower`/`upper`).\n"
        '* **NannyML**: `CBPE(..., problem_type="classification_binary", metrics=["roc_auc", '
        '"accuracy"], chunker=SizeBasedChunker(window_size))`, defaults otherwise. Its band is '
        "the one it reports, `lower_confidence_boundary`/`upper_confidence_boundary` = estimate "
        "± 3 × `sampling_error` (clipped to [0, 1]); the sampling error is the metric's standard "
        "error estimated on the reference and scaled by √(reference size / window size). "
        "± 3σ is a nominal 99.7 % band, so the table also shows NannyML's coverage with ± 1.96σ "
        "(nominal 95 %, the same level as mlaudit's).\n"
    )
    w("## Results\n")
    w(
        "*coverage*: share of windows whose realised metric lies inside the tool's band, over "
        f"all {args.replicates} replicates and over replicate 0 alone. *replicates ≥ 90 %*: in how "
        f"many of the {args.replicates} data sets the band covered at least 90 % of the "
        f"{args.windows} windows (the issue's criterion, one data set at a time). *MAE*: mean "
        "|estimate − realised|; *bias*: mean (estimate − realised); *width*: median band width. "
        "*sd(err/σ)*: standard deviation of (estimate − realised) / the tool's reported standard "
        "error (mlaudit `std`, NannyML `sampling_error`); 1 means the reported error is honest, "
        "above 1 means it is too small. *seconds*: fit on the reference + estimate of all "
        f"{args.windows} windows of replicate 0, median of {args.repeat} runs (the fit alone in "
        "brackets). *seconds, 1 thread*: the same, with the BLAS/OpenMP thread pools limited to "
        "one thread (`threadpoolctl` for mlaudit, `OPENBLAS_NUM_THREADS=1` etc. for NannyML), "
        "timing only.\n"
    )
    w(
        "| scenario | tool | metric | coverage (all) | coverage (replicate 0) | replicates ≥ 90 % | "
        "NannyML ±1.96σ | MAE | bias | width | sd(err/σ) | seconds | seconds, 1 thread |\n"
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for scen in args.scenarios:
        for tool in ("mlaudit", "nannyml"):
            for metric in METRICS:
                sc = scores.get((scen, tool, metric))
                secs = notes.get((scen, tool + ":seconds"), "—")
                secs1 = notes.get((scen, tool + ":seconds1"), "—")
                if sc is None:
                    err = notes.get((scen, tool), "not run")
                    w(f"| {scen} | {tool} | {metric} | — | — | — | — | — | — | — | — | — | **{err}** |")
                    continue
                c196 = _pct(sc.hits_196, sc.n) if tool == "nannyml" else "—"
                good = sum(c >= 0.9 for c in sc.per_replicate)
                sdz = f"{np.std(sc.z):.2f}" if sc.z else "—"
                w(
                    f"| {scen} | {tool} | {metric} | {_pct(sc.hits, sc.n)} | "
                    f"{_pct(sc.hits_first, sc.n_first)} | {good}/{len(sc.per_replicate)} | {c196} | "
                    f"{np.mean(sc.abs_err):.4f} | {np.mean(sc.err):+.4f} | {np.median(sc.width):.4f} | "
                    f"{sdz} | {secs} | {secs1} |"
                )
    w("")
    cal = [
        f"{s}: mlaudit {notes.get((s, 'mlaudit:cal'), '?')}; NannyML {notes.get((s, 'nannyml:cal'), '?')}"
        for s in args.scenarios
    ]
    w("Calibration chosen on the reference (replicate 0): " + "; ".join(cal) + ".\n")
    for scen, (d, ests) in first.items():
        w(f"### Per window, replicate 0: {scen}\n")
        w(
            "Estimate [band]; ✗ = the realised value is outside the band.\n\n"
            "| window | shift t | realised AUC | mlaudit AUC | NannyML AUC | realised acc | "
            "mlaudit acc | NannyML acc |\n| ---: | ---: | ---: | --- | --- | ---: | --- | --- |"
        )
        for i, tr in enumerate(d.truth):
            cells = [f"{i}", f"{d.shift[i]:.2f}"]
            for metric in METRICS:
                cells.append(f"{tr[metric]:.3f}")
                for tool in ("mlaudit", "nannyml"):
                    e = ests.get(tool)
                    if e is None or not e.ok:
                        cells.append("—")
                        continue
                    m = e.metrics[metric]
                    v, lo, hi = m["value"][i], m["lower"][i], m["upper"][i]
                    mark = "" if lo <= tr[metric] <= hi else " ✗"
                    cells.append(f"{v:.3f} [{lo:.3f}, {hi:.3f}]{mark}")
            w("| " + " | ".join(cells) + " |")
        w("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", type=int, default=20_000, help="labelled reference rows")
    ap.add_argument("--windows", type=int, default=20, help="analysis windows per scenario")
    ap.add_argument("--window-size", type=int, default=5_000, help="rows per window")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--replicates", type=int, default=10, help="independent data sets pooled for coverage")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs on replicate 0; median shown")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"from {list(SCENARIOS)}")
    ap.add_argument("--tools", default="mlaudit,nannyml")
    ap.add_argument("--timeout", type=float, default=900.0, help="per NannyML run, seconds")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks-estimation.md"))
    ap.add_argument("--json", default=None, help="also write the raw per-window results here")
    args = ap.parse_args()
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    for s in args.scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r}; choose from {list(SCENARIOS)}")
    tools = [t for t in args.tools.split(",") if t]

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
    command = "/work/main/.venv/bin/python bench/estimation.py " + " ".join(shlex.quote(a) for a in argv)
    mach = machine()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t_start = time.perf_counter()
    loads = [loadavg()]
    scores: dict[tuple[str, str, str], Score] = {}
    first: dict[str, tuple[Data, dict[str, Estimates]]] = {}
    versions: dict[str, str] = {}
    notes: dict[tuple[str, str], str] = {}
    raw: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mlaudit-estimation-bench-") as tmp:
        for scen in args.scenarios:
            for rep in range(args.replicates):
                d = generate(scen, args.seed + rep, args.reference, args.windows, args.window_size)
                work = Path(tmp) / f"{scen}-{rep}"
                work.mkdir()
                ref, ana = write_parquet(d, work)
                repeat = args.repeat if rep == 0 else 1
                ests: dict[str, Estimates] = {}
                if "mlaudit" in tools:
                    ests["mlaudit"] = run_mlaudit(ref, ana, args.window_size, repeat)
                if "nannyml" in tools:
                    ests["nannyml"] = run_nannyml(ref, ana, args.window_size, repeat, args.timeout)
                for tool, e in ests.items():
                    if not e.ok:
                        notes[(scen, tool)] = e.error
                        print(f"  {scen} rep {rep} {tool}: {e.error}", flush=True)
                        continue
                    versions[tool] = e.version
                    for metric in METRICS:
                        sc = scores.setdefault((scen, tool, metric), Score())
                        score_into(sc, e, metric, d.truth, rep == 0)
                    if rep == 0:
                        notes[(scen, tool + ":seconds")] = (
                            f"{statistics.median(e.seconds):.2f} ({statistics.median(e.fit_seconds):.2f})"
                        )
                        notes[(scen, tool + ":cal")] = e.notes
                        # timing only: the same runs with the BLAS/OpenMP pools at one thread
                        runner = run_mlaudit if tool == "mlaudit" else run_nannyml
                        extra = () if tool == "mlaudit" else (args.timeout,)
                        e1 = runner(ref, ana, args.window_size, repeat, *extra, one_thread=True)
                        if e1.ok:
                            notes[(scen, tool + ":seconds1")] = f"{statistics.median(e1.seconds):.2f}"
                    raw.append(
                        {
                            "scenario": scen,
                            "replicate": rep,
                            "tool": tool,
                            "seconds": e.seconds,
                            "metrics": e.metrics,
                            "truth": d.truth,
                            "shift": d.shift,
                        }
                    )
                if rep == 0:
                    first[scen] = (d, ests)
                summary = ", ".join(
                    f"{t} {statistics.median(e.seconds):.2f} s" for t, e in ests.items() if e.ok
                )
                print(f"[{scen} rep {rep}] {summary}", flush=True)
                loads.append(loadavg())
    total = time.perf_counter() - t_start
    peak = max(loads, key=lambda s: float(s.split()[0]))
    load_summary = [f"1-min {loads[0].split()[0]} at the start", f"highest {peak.split()[0]}"]
    md = render(args, command, mach, load_summary, started, total, scores, first, versions, notes)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The hand-written "## Interpretation" section (read the numbers, then write it) is kept
    # across re-runs; re-read it against the new tables.
    old = out.read_text() if out.exists() else ""
    if INTERPRETATION in old:
        md = md.rstrip("\n") + "\n\n" + old[old.index(INTERPRETATION) :]
    out.write_text(md)
    print("\n" + md)
    print(f"written to {args.out}")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
