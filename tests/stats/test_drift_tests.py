"""Each drift statistic against an independent implementation (SciPy) or a hand-worked example."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlaudit.stats import drift_tests as dt

RTOL = 1e-9


def _pair(a: np.ndarray, b: np.ndarray) -> dt.NumericPair:
    return dt.NumericPair(dt.numeric_reference(a), np.sort(b))


def _samples(n1: int, n2: int, *, ties: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n1), rng.normal(0.05, 1.1, size=n2)
    if ties:
        a, b = np.round(a * 3), np.round(b * 3)
    return a, b


SIZES = [(300, 200, False), (500, 700, True), (20_000, 15_000, False), (30_000, 12_001, True)]


@pytest.mark.parametrize(("n1", "n2", "ties"), SIZES)
def test_ks_equals_scipy(n1: int, n2: int, ties: bool) -> None:
    a, b = _samples(n1, n2, ties=ties)
    ours = dt.ks(_pair(a, b))
    ref = stats.ks_2samp(a, b, method="auto")
    assert ours.statistic == pytest.approx(ref.statistic, rel=RTOL)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=RTOL)


def test_ks_asymptotic_branch_with_small_p() -> None:
    a, b = _samples(50_000, 40_000, ties=False, seed=3)
    b = b + 0.05
    ours = dt.ks(_pair(a, b))
    ref = stats.ks_2samp(a, b)
    assert ours.details["method"] == "asymp"
    assert ref.pvalue < 1e-10
    assert ours.p_value == pytest.approx(ref.pvalue, rel=RTOL)


@pytest.mark.parametrize(("n1", "n2", "ties"), SIZES)
def test_wasserstein_equals_scipy_before_normalisation(n1: int, n2: int, ties: bool) -> None:
    a, b = _samples(n1, n2, ties=ties)
    ours = dt.wasserstein(_pair(a, b))
    assert ours.statistic == pytest.approx(stats.wasserstein_distance(a, b), rel=RTOL)
    assert ours.effect == pytest.approx(ours.statistic / np.std(a, ddof=1), rel=RTOL)


@pytest.mark.parametrize(("n1", "n2", "ties"), SIZES)
def test_anderson_darling_equals_scipy(n1: int, n2: int, ties: bool) -> None:
    a, b = _samples(n1, n2, ties=ties, seed=7)
    b = b[: max(50, n2 // 30)]  # a smaller current sample keeps the p-value inside the table
    ours = dt.anderson(_pair(a, b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.anderson_ksamp([a, b], variant="midrank")
    assert ours.statistic == pytest.approx(ref.statistic, rel=RTOL)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=RTOL)


def test_anderson_darling_reports_capped_p_value() -> None:
    a = np.arange(1000.0)
    ours = dt.anderson(_pair(a, a))
    assert ours.p_value == 0.25
    assert "at most 0.25" in ours.details["p_value_capped"]


def _cat_pair(ref: dict[str, int], cur: dict[str, int]) -> dt.CategoricalPair:
    state = dt.categorical_reference(list(ref), np.array(list(ref.values())))
    return dt.CategoricalPair(state, list(cur), np.array(list(cur.values())))


@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        ({"a": 500, "b": 300, "c": 200}, {"a": 430, "b": 350, "c": 220}),
        ({"yes": 70, "no": 30}, {"yes": 60, "no": 45}),  # k = 2: SciPy applies Yates' correction
    ],
)
def test_chi2_equals_scipy_chi2_contingency(ref: dict[str, int], cur: dict[str, int]) -> None:
    ours = dt.chi2(_cat_pair(ref, cur))
    table = np.array([[ref[k] for k in sorted(ref)], [cur[k] for k in sorted(ref)]])
    expected = stats.chi2_contingency(table)
    assert ours.statistic == pytest.approx(expected.statistic, rel=RTOL)
    assert ours.p_value == pytest.approx(expected.pvalue, rel=RTOL)


def test_unseen_categories_are_one_extra_cell_of_the_test() -> None:
    pair = _cat_pair({"a": 50, "b": 50}, {"a": 40, "b": 40, "z": 15, "y": 5})
    ours = dt.chi2(pair)
    expected = stats.chi2_contingency(np.array([[50, 50, 0], [40, 40, 20]]))
    assert ours.statistic == pytest.approx(expected.statistic, rel=RTOL)
    assert ours.details["unseen_categories"] == {"z": 15, "y": 5}
    assert ours.details["unseen_count"] == 20


def test_js_equals_scipy_jensenshannon_for_categories_and_bins() -> None:
    pair = _cat_pair({"a": 500, "b": 300, "c": 200}, {"a": 430, "b": 350, "c": 220})
    ours = dt.js(pair)
    assert ours.effect == pytest.approx(jensenshannon([5, 3, 2, 0], [430, 350, 220, 0], base=2), rel=RTOL)
    a, b = _samples(5000, 3000, ties=False)
    num = _pair(a, b)
    ref_counts, cur = num.bin_counts
    assert dt.js(num).effect == pytest.approx(jensenshannon(ref_counts, cur, base=2), rel=RTOL)


def test_hellinger_matches_its_definition() -> None:
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.43, 0.35, 0.22])
    expected = math.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))
    ours = dt.hellinger(_cat_pair({"a": 500, "b": 300, "c": 200}, {"a": 430, "b": 350, "c": 220}))
    assert ours.effect == pytest.approx(expected, rel=RTOL)


def test_psi_hand_worked_example() -> None:
    # shares 0.5/0.3/0.2 → 0.4/0.4/0.2:
    # (0.4−0.5)·ln(0.4/0.5) + (0.4−0.3)·ln(0.4/0.3) + 0 = 0.0223144 + 0.0287682 = 0.0510826
    ours = dt.psi(_cat_pair({"a": 50, "b": 30, "c": 20}, {"a": 40, "b": 40, "c": 20}))
    assert ours.statistic == pytest.approx(0.1 * math.log(1.25) + 0.1 * math.log(4 / 3), rel=RTOL)
    assert ours.statistic == pytest.approx(0.0510826, abs=1e-7)


def test_psi_floors_empty_bins_instead_of_going_infinite() -> None:
    ours = dt.psi(_cat_pair({"a": 100}, {"a": 50, "new": 50}))
    # unseen cell: reference share 0 → 1e-4; current share 0.5
    expected = (0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert ours.statistic == pytest.approx(expected, rel=RTOL)
    assert math.isfinite(ours.statistic)


def test_numeric_bins_are_reference_deciles_with_their_shares() -> None:
    ref = dt.numeric_reference(np.arange(1000.0))
    assert ref.edges.size == 9
    assert ref.bin_counts.tolist() == [100] * 10


def test_reference_sample_is_exact_below_the_cap_and_uniform_above() -> None:
    values = np.random.default_rng(0).normal(size=5000)
    exact = dt.numeric_reference(values, sample_size=5000)
    assert not exact.sampled
    np.testing.assert_array_equal(exact.sample, np.sort(values))
    capped = dt.numeric_reference(values, sample_size=1000)
    assert capped.sampled and capped.sample.size == 1000 and capped.count == 5000
    assert np.all(np.diff(capped.sample) >= 0)
    assert np.isin(capped.sample, values).all()


def test_wasserstein_noise_level_is_the_99th_percentile_under_no_drift() -> None:
    rng = np.random.default_rng(11)
    exceed = 0
    for _ in range(200):
        out = dt.ks(_pair(rng.normal(size=500), rng.normal(size=500)))
        exceed += out.effect > out.noise
    assert exceed <= 8  # 1 % expected, 2 expected of 200
