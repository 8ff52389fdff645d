"""The per-column drift tests: fitted reference states in, one :class:`Outcome` out.

Every test reports a significance test (``statistic``, ``p_value``) *and* an effect size
(``effect``) so that :mod:`mlaudit.stats.drift` can call a column drifted only when the
change is both significant and large enough to matter.

============  ===========  =====================================  ==========================  ======
test          kinds        statistic and p-value                  effect                      thr.
============  ===========  =====================================  ==========================  ======
ks (default)  numeric      two-sample KS, as ``scipy.stats.ks_2samp(method="auto")``
                                                                  Wasserstein / reference sd  0.05
wasserstein   numeric      Wasserstein distance (raw); KS p-value Wasserstein / reference sd  0.05
anderson      numeric      k-sample Anderson–Darling (midrank),
                           as ``scipy.stats.anderson_ksamp``      Wasserstein / reference sd  0.05
chi2 (def.)   categorical  chi-square on the 2×k table, as
                           ``scipy.stats.chi2_contingency``       Jensen–Shannon distance     0.05
psi           both         PSI; chi-square p-value on the bins    PSI                         0.1
js            both         JS distance (base 2); chi-square p     JS distance                 0.05
hellinger     both         Hellinger distance; chi-square p       Hellinger distance          0.05
============  ===========  =====================================  ==========================  ======

Numeric binned tests use reference-quantile bins (:data:`BINS` bins); bin ``i`` holds
``edges[i-1] < x <= edges[i]``. PSI floors empty-bin proportions at :data:`PSI_EPSILON`.
Why these thresholds: a 0.1 sd mean shift gives a normalised Wasserstein distance of 0.1
and a 20 % variance change about 0.08; a 10-point change of one category's share gives a JS
distance (base 2) of at least 0.085. Each outcome also carries ``noise``, the 99th
percentile of its effect under no drift at the given sample sizes (Wasserstein:
1.9 · ∫sqrt(F(1 − F))dx / sd · sqrt(1/n1 + 1/n2), from the Brownian-bridge limit; binned
effects: from the chi-square limit of Σ (p − q)²/m), which the decision rule adds to the
threshold. At 100k rows a side that allowance is about 0.014 (Wasserstein, normal data).

>>> import numpy as np
>>> ref = numeric_reference(np.arange(100.0))
>>> out = ks(NumericPair(ref, np.arange(100.0)))
>>> (out.statistic, out.p_value, out.effect)
(0.0, 1.0, 0.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import special, stats

__all__ = [
    "BINS",
    "CATEGORICAL_TESTS",
    "DEFAULT_THRESHOLDS",
    "NUMERIC_TESTS",
    "PSI_EPSILON",
    "CategoricalPair",
    "CategoricalReference",
    "NumericPair",
    "NumericReference",
    "Outcome",
    "anderson",
    "categorical_reference",
    "chi2",
    "hellinger",
    "js",
    "ks",
    "numeric_reference",
    "psi",
    "wasserstein",
]

BINS = 10
PSI_EPSILON = 1e-4
UNSEEN = "__unseen__"
NOISE_WASSERSTEIN = 1.9  # 99th percentile of W / (∫sqrt(F(1−F))dx · sqrt(1/n1 + 1/n2)) under no drift
NOISE_QUANTILE = 0.99
_KS_EXACT_MAX_N = 10_000  # scipy's ks_2samp(method="auto") is exact up to this size

DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.05,
    "wasserstein": 0.05,
    "anderson": 0.05,
    "chi2": 0.05,
    "psi": 0.1,
    "js": 0.05,
    "hellinger": 0.05,
}


@dataclass(frozen=True)
class Outcome:
    """What one test says about one column; ``p_value`` is ``None`` when there is none.

    ``noise`` is the effect size two samples of *identical* data of these sizes reach in
    99 % of cases; the decision rule asks for ``effect - noise > threshold``.
    """

    statistic: float
    p_value: float | None
    effect: float
    effect_name: str
    details: dict[str, Any] = field(default_factory=dict)
    noise: float = 0.0


# ---------------------------------------------------------------- fitted reference states


@dataclass(frozen=True, eq=False)
class NumericReference:
    """The compact fitted state of one numeric column (finite values only).

    ``sample`` is every finite value sorted, or a uniform random sample of ``sample_size``
    of them when there are more (``sampled``). Bins, proportions, sd and IQR come from all
    finite values.
    """

    sample: np.ndarray
    count: int
    sampled: bool
    std: float
    iqr: float
    edges: np.ndarray
    bin_counts: np.ndarray
    spread: float = 0.0  # ∫ sqrt(F(1 − F)) dx, the no-drift scale of the Wasserstein distance

    @property
    def scale(self) -> float:
        """Divisor for the Wasserstein distance: sd, else IQR, else 1 (constant column)."""
        if self.std > 0:
            return self.std
        return self.iqr if self.iqr > 0 else 1.0


def numeric_reference(
    values: np.ndarray, *, sample_size: int = 1_000_000, bins: int = BINS, seed: int = 0
) -> NumericReference:
    """Fit the state of one numeric column from its finite ``values``.

    >>> numeric_reference(np.array([3.0, 1.0, 2.0])).sample.tolist()
    [1.0, 2.0, 3.0]
    """
    values = np.sort(np.asarray(values, dtype=np.float64))
    n = values.size
    if n == 0:
        empty = np.empty(0)
        return NumericReference(empty, 0, False, 0.0, 0.0, empty, np.zeros(1, dtype=np.int64))
    qs = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    edges = np.unique(qs)
    counts = np.diff(np.concatenate(([0], np.searchsorted(values, edges, "right"), [n])))
    sampled = n > sample_size
    sample = values
    if sampled:
        rng = np.random.default_rng(seed)
        sample = values[np.sort(rng.choice(n, size=sample_size, replace=False))]
    q1, q3 = np.quantile(values, [0.25, 0.75])
    std = float(np.std(values, ddof=1)) if n > 1 else 0.0
    cdf = np.arange(1, n) / n
    spread = float(np.dot(np.sqrt(cdf * (1.0 - cdf)), np.diff(values))) if n > 1 else 0.0
    return NumericReference(
        sample=sample,
        count=n,
        sampled=sampled,
        std=std if math.isfinite(std) else 0.0,
        iqr=float(q3 - q1),
        edges=edges,
        bin_counts=counts.astype(np.int64),
        spread=spread if math.isfinite(spread) else 0.0,
    )


@dataclass(frozen=True, eq=False)
class CategoricalReference:
    """The fitted state of one categorical column: category → count (nulls excluded)."""

    categories: tuple[str, ...]
    counts: np.ndarray

    @property
    def count(self) -> int:
        return int(self.counts.sum())


def categorical_reference(categories: list[str], counts: np.ndarray) -> CategoricalReference:
    """Fit the state of one categorical column from its value counts, sorted by category.

    >>> categorical_reference(["b", "a"], np.array([1, 2])).categories
    ('a', 'b')
    """
    order = sorted(range(len(categories)), key=lambda i: categories[i])
    return CategoricalReference(
        tuple(categories[i] for i in order), np.asarray(counts, dtype=np.int64)[order]
    )


# ---------------------------------------------------------------- reference × current


class NumericPair:
    """A fitted reference and the sorted finite current values, with shared work cached."""

    def __init__(self, ref: NumericReference, current_sorted: np.ndarray) -> None:
        self.ref = ref
        self.cur = current_sorted

    @cached_property
    def merged(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled sorted values, the count of current values up to each position (int64)
        and a mask of the last position of each run of equal values."""
        a, b = self.ref.sample, self.cur
        pooled = np.concatenate((a, b))
        order = np.argsort(pooled, kind="stable")  # timsort: merges the two sorted runs
        merged = pooled[order]
        cum_cur = np.add.accumulate((order >= a.size).view(np.uint8), dtype=np.int64)
        run_end = np.empty(merged.size, dtype=bool)
        np.not_equal(merged[1:], merged[:-1], out=run_end[:-1])
        run_end[-1] = True
        return merged, cum_cur, run_end

    @cached_property
    def gap(self) -> np.ndarray:
        """``n1·n2·(F1 − F2)`` at each pooled position, as exact integers."""
        _, cum_cur, _ = self.merged
        n1, n2 = self.ref.sample.size, self.cur.size
        gap = np.arange(1, cum_cur.size + 1, dtype=np.int64)
        gap *= n2
        gap -= cum_cur * (n1 + n2)  # cum_ref·n2 − cum_cur·n1 with cum_ref = k − cum_cur
        return gap

    def cum_ref(self) -> np.ndarray:
        _, cum_cur, _ = self.merged
        out: np.ndarray = np.arange(1, cum_cur.size + 1, dtype=np.int64) - cum_cur
        return out

    @cached_property
    def wasserstein(self) -> float:
        """``scipy.stats.wasserstein_distance(reference sample, current)``."""
        merged = self.merged[0]
        n1, n2 = self.ref.sample.size, self.cur.size
        weights = self.gap[:-1].astype(np.float64)
        np.abs(weights, out=weights)
        return float(np.dot(weights, np.diff(merged)) / (float(n1) * n2))

    @cached_property
    def bin_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Reference and current counts on the reference-quantile bins."""
        n = self.cur.size
        inner = np.searchsorted(self.cur, self.ref.edges, "right")
        return self.ref.bin_counts, np.diff(np.concatenate(([0], inner, [n])))


class CategoricalPair:
    """Reference and current category counts aligned on one axis.

    Categories new in the current data are pooled into one extra cell (``__unseen__``)
    with a reference count of 0.
    """

    def __init__(self, ref: CategoricalReference, categories: list[str], counts: np.ndarray) -> None:
        index = {c: i for i, c in enumerate(ref.categories)}
        cur = np.zeros(len(ref.categories) + 1, dtype=np.int64)
        unseen: dict[str, int] = {}
        for cat, k in zip(categories, np.asarray(counts).tolist(), strict=True):
            i = index.get(cat)
            if i is None:
                unseen[cat] = int(k)
                cur[-1] += k
            else:
                cur[i] += k
        self.ref = ref
        self.unseen = dict(sorted(unseen.items(), key=lambda kv: -kv[1]))
        self.ref_counts = np.append(ref.counts, 0)
        self.cur_counts = cur

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.unseen:
            out["unseen_categories"] = dict(list(self.unseen.items())[:20])
            out["unseen_count"] = int(self.cur_counts[-1])
        missing = [c for c, k in zip(self.ref.categories, self.cur_counts, strict=False) if k == 0]
        if missing:
            out["missing_categories"] = missing[:20]
        return out


# ---------------------------------------------------------------- numeric tests


def ks(pair: NumericPair) -> Outcome:
    """Two-sample Kolmogorov–Smirnov test, equal to ``scipy.stats.ks_2samp`` (two-sided,
    method "auto": exact up to 10k values per side, else Smirnov's asymptotic form)."""
    n1, n2 = pair.ref.sample.size, pair.cur.size
    if max(n1, n2) <= _KS_EXACT_MAX_N:
        with warnings.catch_warnings():  # SciPy's own fallback to "asymp" is not news
            warnings.simplefilter("ignore", RuntimeWarning)
            res = stats.ks_2samp(pair.ref.sample, pair.cur, method="auto")
        d, p = float(res.statistic), float(res.pvalue)
    else:
        _, cum_cur, run_end = pair.merged
        gap = pair.gap if run_end.all() else np.where(run_end, pair.gap, 0)
        hi, lo = int(np.argmax(gap)), int(np.argmin(gap))
        cum_ref_hi, cum_ref_lo = hi + 1 - cum_cur[hi], lo + 1 - cum_cur[lo]
        d_plus = cum_ref_hi / n1 - cum_cur[hi] / n2
        d_minus = min(max(-(cum_ref_lo / n1 - cum_cur[lo] / n2), 0.0), 1.0)
        d = float(d_minus if d_minus > d_plus else d_plus)
        en = np.round(float(n1) * n2 / (n1 + n2))
        p = float(np.clip(stats.kstwo.sf(d, en), 0.0, 1.0))
    return _with_wasserstein(pair, d, p, {"method": "exact" if max(n1, n2) <= _KS_EXACT_MAX_N else "asymp"})


def wasserstein(pair: NumericPair) -> Outcome:
    """Wasserstein-1 distance (raw, as ``scipy.stats.wasserstein_distance``) with the KS
    p-value as its significance test."""
    p = ks(pair).p_value
    return _with_wasserstein(pair, pair.wasserstein, p, {"p_value_from": "ks"})


def anderson(pair: NumericPair) -> Outcome:
    """k-sample Anderson–Darling test (midrank variant), equal to
    ``scipy.stats.anderson_ksamp([reference, current], variant="midrank")``; its p-value is
    interpolated from Scholz & Stephens' table, so it is capped to [0.001, 0.25]."""
    merged, cum_cur, run_end = pair.merged
    cum_ref = pair.cum_ref()
    n = np.array([pair.ref.sample.size, pair.cur.size], dtype=np.float64)
    big_n = merged.size
    ends = np.flatnonzero(run_end)
    if ends.size < 2:
        return _with_wasserstein(pair, 0.0, 1.0, {"note": "one distinct value in both samples"})
    lj = np.diff(ends, prepend=-1).astype(np.float64)
    bj = (ends + 1) - lj / 2.0  # values below + half the ties
    a2akn = 0.0
    for cum, ni in ((cum_ref, n[0]), (cum_cur, n[1])):
        m_right = cum[ends].astype(np.float64)
        fij = np.diff(m_right, prepend=0.0)
        mij = m_right - fij / 2.0
        inner = lj / big_n * (big_n * mij - bj * ni) ** 2 / (bj * (big_n - bj) - big_n * lj / 4.0)
        a2akn += inner.sum() / ni
    a2akn *= (big_n - 1.0) / big_n
    a2, p, capped = _anderson_normalise(a2akn, n, big_n)
    details: dict[str, Any] = {"variant": "midrank"}
    if capped:
        details["p_value_capped"] = capped
    return _with_wasserstein(pair, a2, p, details)


def _anderson_normalise(a2akn: float, n: np.ndarray, big_n: int) -> tuple[float, float, str | None]:
    k = 2
    h_sum = (1.0 / n).sum()
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, big_n)).sum()
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_sum
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_sum - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_sum + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    nf = float(big_n)
    sigmasq = (a * nf**3 + b * nf**2 + c * nf + d) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0))
    m = k - 1
    a2 = float((a2akn - m) / math.sqrt(sigmasq))
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    critical = b0 + b1 / math.sqrt(m) + b2 / m
    sig = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
    if a2 < critical.min():
        return a2, 0.25, "at most 0.25 reported; the true p-value is larger"
    if a2 > critical.max():
        return a2, 0.001, "at least 0.001 reported; the true p-value is smaller"
    pf = np.polyfit(critical, np.log(sig), 2)
    return a2, float(math.exp(np.polyval(pf, a2))), None


def _with_wasserstein(
    pair: NumericPair, statistic: float, p: float | None, details: dict[str, Any]
) -> Outcome:
    w = pair.wasserstein
    scale = pair.ref.scale
    s = math.sqrt(1.0 / pair.ref.sample.size + 1.0 / pair.cur.size)
    noise = NOISE_WASSERSTEIN * pair.ref.spread / scale * s
    details = {**details, "wasserstein": w, "scale": scale}
    return Outcome(statistic, p, w / scale, "wasserstein_std", details, noise)


# ---------------------------------------------------------------- binned / categorical tests


def _numeric_or_categorical(
    pair: NumericPair | CategoricalPair,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """(reference counts, reference counts, current counts, details)."""
    if isinstance(pair, NumericPair):
        ref, cur = pair.bin_counts
        return ref, ref, cur, {"bins": int(ref.size)}
    return pair.ref_counts, pair.ref_counts, pair.cur_counts, pair.details()


def _binned_noise(kind: str, ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """99th percentile of a binned effect under no drift (multinomial, chi-square approx.):
    sum (p − q)² / m ≈ s² · chi2(k − 1) with s² = 1/n_ref + 1/n_cur."""
    k = int(np.count_nonzero((ref_counts + cur_counts) > 0))
    n_ref, n_cur = float(ref_counts.sum()), float(cur_counts.sum())
    if k < 2 or n_ref <= 0 or n_cur <= 0:
        return 0.0
    chi = float(stats.chi2.ppf(NOISE_QUANTILE, k - 1)) * (1.0 / n_ref + 1.0 / n_cur)
    if kind == "psi":
        return chi
    if kind == "hellinger":
        return math.sqrt(chi / 8.0)
    return math.sqrt(chi / (8.0 * math.log(2.0)))  # JS distance, base 2


def _chi2_p(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float, int]:
    keep = (ref_counts + cur_counts) > 0
    table = np.vstack((ref_counts[keep], cur_counts[keep]))
    if table.shape[1] < 2:
        return 0.0, 1.0, 0
    res = stats.chi2_contingency(table)
    return float(res.statistic), float(res.pvalue), int(res.dof)


def chi2(pair: CategoricalPair) -> Outcome:
    """Chi-square test of homogeneity on the 2×k table of counts, equal to
    ``scipy.stats.chi2_contingency`` (Yates-corrected when k = 2, as SciPy does);
    effect: Jensen–Shannon distance (base 2) between the category shares."""
    props, ref_counts, cur, details = _numeric_or_categorical(pair)
    stat, p, dof = _chi2_p(ref_counts, cur)
    noise = _binned_noise("js", ref_counts, cur)
    return Outcome(stat, p, _js(props, cur), "js_distance", {**details, "dof": dof}, noise)


def psi(pair: NumericPair | CategoricalPair) -> Outcome:
    """Population stability index ``Σ (c − r)·ln(c / r)`` on shares (empty shares floored
    at 1e-4), with a chi-square p-value on the same bins."""
    props, ref_counts, cur, details = _numeric_or_categorical(pair)
    value = _psi(props, cur)
    _, p, _ = _chi2_p(ref_counts, cur)
    noise = _binned_noise("psi", ref_counts, cur)
    return Outcome(value, p, value, "psi", {**details, "p_value_from": "chi2"}, noise)


def js(pair: NumericPair | CategoricalPair) -> Outcome:
    """Jensen–Shannon distance (base 2, in [0, 1]), as
    ``scipy.spatial.distance.jensenshannon(r, c, base=2)``, with a chi-square p-value."""
    props, ref_counts, cur, details = _numeric_or_categorical(pair)
    value = _js(props, cur)
    _, p, _ = _chi2_p(ref_counts, cur)
    noise = _binned_noise("js", ref_counts, cur)
    return Outcome(value, p, value, "js_distance", {**details, "p_value_from": "chi2"}, noise)


def hellinger(pair: NumericPair | CategoricalPair) -> Outcome:
    """Hellinger distance ``sqrt(½ Σ (√r − √c)²)`` (in [0, 1]) with a chi-square p-value."""
    props, ref_counts, cur, details = _numeric_or_categorical(pair)
    value = _hellinger(props, cur)
    _, p, _ = _chi2_p(ref_counts, cur)
    noise = _binned_noise("hellinger", ref_counts, cur)
    return Outcome(value, p, value, "hellinger", {**details, "p_value_from": "chi2"}, noise)


def _shares(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    total = x.sum()
    return x / total if total > 0 else x


def _psi(ref_props: np.ndarray, cur_counts: np.ndarray) -> float:
    r = np.maximum(_shares(ref_props), PSI_EPSILON)
    c = np.maximum(_shares(cur_counts), PSI_EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def _js(ref_props: np.ndarray, cur_counts: np.ndarray) -> float:
    p, q = _shares(ref_props), _shares(cur_counts)
    m = (p + q) / 2.0
    div = (special.rel_entr(p, m).sum() + special.rel_entr(q, m).sum()) / 2.0
    return float(math.sqrt(max(div, 0.0) / math.log(2.0)))


def _hellinger(ref_props: np.ndarray, cur_counts: np.ndarray) -> float:
    diff = np.sqrt(_shares(ref_props)) - np.sqrt(_shares(cur_counts))
    return math.sqrt(0.5 * float(np.dot(diff, diff)))


NUMERIC_TESTS: dict[str, Callable[[NumericPair], Outcome]] = {
    "ks": ks,
    "wasserstein": wasserstein,
    "anderson": anderson,
    "psi": psi,
    "js": js,
    "hellinger": hellinger,
}
CATEGORICAL_TESTS: dict[str, Callable[[CategoricalPair], Outcome]] = {
    "chi2": chi2,
    "psi": psi,
    "js": js,
    "hellinger": hellinger,
}
