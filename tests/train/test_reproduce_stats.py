"""`train.reproduce.stats` against the textbook formulas (scipy only for the t distribution's quantiles)."""

import math

import numpy as np
import pytest
from scipy.stats import t as student_t

from train.reproduce import stats

Z = 1.959963984540054  # the 97.5% standard normal quantile


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (844, 1000), (1000, 1000)])
def test_wilson_interval_is_the_closed_form(k, n):
    p = k / n
    centre, half = p + Z ** 2 / (2 * n), Z * math.sqrt(p * (1 - p) / n + Z ** 2 / (4 * n ** 2))
    lo, hi = stats.wilson(k, n)
    assert lo == pytest.approx((centre - half) / (1 + Z ** 2 / n), abs=1e-9)
    assert hi == pytest.approx((centre + half) / (1 + Z ** 2 / n), abs=1e-9)
    result = stats.accuracy_with_interval(np.arange(n) < k)
    assert result["value"] == p and result["n"] == n and result["ci"] == [lo, hi]


def test_welch_comparison_is_the_textbook_t_interval():
    better, worse = [40.0, 43.0, 41.0, 45.0, 44.0], [52.0, 49.0, 55.0, 50.0, 58.0]
    va, vb = np.var(worse, ddof=1) / 5, np.var(better, ddof=1) / 5
    se, diff = math.sqrt(va + vb), np.mean(worse) - np.mean(better)
    df = (va + vb) ** 2 / (va ** 2 / 4 + vb ** 2 / 4)
    result = stats.compare(better, worse, paired=False)
    assert result["difference"] == pytest.approx(diff) and diff > 0
    np.testing.assert_allclose(result["ci"], [diff - student_t.ppf(0.975, df) * se, diff + student_t.ppf(0.975, df) * se])
    assert result["p_value"] == pytest.approx(2 * student_t.sf(diff / se, df))
    assert result["means"] == [np.mean(better), np.mean(worse)] and result["stds"][1] == pytest.approx(np.std(worse, ddof=1))
    flipped = stats.compare(worse, better, paired=False)  # the sign says which side is better
    assert flipped["difference"] == pytest.approx(-diff) and flipped["ci"][1] < 0


def test_paired_comparison_is_the_t_interval_of_the_differences():
    better, worse = [40.0, 43.0, 41.0, 45.0, 44.0], [41.0, 45.0, 41.5, 47.0, 44.5]
    d = np.subtract(worse, better)
    se = np.std(d, ddof=1) / math.sqrt(5)
    result = stats.compare(better, worse, paired=True)
    np.testing.assert_allclose(result["ci"], [d.mean() - student_t.ppf(0.975, 4) * se, d.mean() + student_t.ppf(0.975, 4) * se])
    assert result["p_value"] == pytest.approx(2 * student_t.sf(d.mean() / se, 4))
    # the same numbers unpaired: the seed-to-seed spread hides the effect
    assert stats.compare(better, worse, paired=False)["ci"][0] < 0 < result["ci"][0]
    exact = stats.compare([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], paired=True)  # no spread in the differences
    assert exact["ci"] == [1.0, 1.0] and exact["p_value"] == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        stats.compare([1.0], [2.0], paired=False)


def test_mcnemar_is_the_exact_binomial_test_of_the_discordant_pairs():
    a = np.array([1] * 50 + [1] * 9 + [0] * 2 + [0] * 5, bool)   # 9 right only by a, 2 only by b
    b = np.array([1] * 50 + [0] * 9 + [1] * 2 + [0] * 5, bool)
    n = 11
    expected = min(1.0, 2 * sum(math.comb(n, k) for k in range(0, 3)) / 2 ** n)
    result = stats.mcnemar(a, b)
    assert (result["a_only"], result["b_only"]) == (9, 2) and result["p_value"] == pytest.approx(expected)
    assert stats.mcnemar(a, a) == {"a_only": 0, "b_only": 0, "p_value": 1.0}
    with pytest.raises(ValueError, match="same examples"):
        stats.mcnemar(a, b[:-1])


def test_gap_closed_is_the_fraction_of_the_gap_with_a_bootstrap_interval_around_it():
    alone, distilled = [50.0, 52.0, 54.0, 49.0, 51.0], [45.0, 44.0, 47.0, 46.0, 44.0]
    result = stats.gap_closed(alone, distilled, reference=23.0)
    assert result["value"] == pytest.approx((51.2 - 45.2) / (51.2 - 23.0))
    lo, hi = result["ci"]
    assert lo < result["value"] < hi and 0 < lo and hi < 1
    steady = stats.gap_closed([50.0] * 3, [30.0] * 3, reference=10.0)  # no spread: the interval is the point
    assert steady == {"value": 0.5, "ci": [0.5, 0.5]}
