"""The statistics the reproductions report.

Binomial intervals for accuracies, paired and Welch comparisons of per-seed results, McNemar's
exact test on the same test images, and a bootstrap interval for a fraction of a gap.

Every function takes plain numbers or sequences and returns plain floats, so a claim's `details`
(and the verdict read from them) stay JSON.
"""

import numpy as np
from scipy import stats

LEVEL = 0.95


def wilson(successes: int, n: int, level: float = LEVEL) -> list[float]:
    """`[lo, hi]` Wilson score interval of a proportion `successes / n`."""
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return [float(ci.low), float(ci.high)]


def accuracy_with_interval(correct) -> dict:
    """`{"value", "ci", "n"}` of a boolean `(n,)` array of per-example outcomes."""
    correct = np.asarray(correct, bool)
    return {"value": float(correct.mean()), "ci": wilson(correct.sum(), correct.size), "n": int(correct.size)}


def compare(better, worse, paired: bool) -> dict:
    """Compare per-seed values where lower is better (errors, NLL) by a t-test.

    Args:
        better: Per-seed values of the method expected to be better.
        worse: Per-seed values of the other method.
        paired: Pair by seed (`scipy.stats.ttest_rel`), else Welch's unequal-variance test
            (`ttest_ind`).

    Returns:
        `difference = mean(worse) - mean(better)` (positive when `better` is better), its `LEVEL`
        t-interval `ci` and two-sided `p_value`, the `test` name, beside each side's `means` and
        sample standard deviations `stds` (ddof 1) and the seed counts `seeds`, as a dict.

    Raises:
        ValueError: If either side has fewer than 2 values.
    """
    a, b = np.asarray(worse, float), np.asarray(better, float)
    if min(a.size, b.size) < 2:
        raise ValueError(f"a comparison needs at least 2 values per side; got {b.size} and {a.size}")
    d = float(a.mean() - b.mean())
    if np.ptp(a - b) == 0 if paired else np.ptp(a) == np.ptp(b) == 0:  # no spread at all: the difference is exact
        ci, p = [d, d], float(d == 0)
    else:
        result = stats.ttest_rel(a, b) if paired else stats.ttest_ind(a, b, equal_var=False)
        interval = result.confidence_interval(LEVEL)
        ci, p = [float(interval.low), float(interval.high)], float(result.pvalue)
    return {"difference": d, "ci": ci, "p_value": p,
            "test": "paired t" if paired else "Welch t", "seeds": [int(b.size), int(a.size)],
            "means": [float(b.mean()), float(a.mean())], "stds": [float(b.std(ddof=1)), float(a.std(ddof=1))]}


def mcnemar(correct_a, correct_b) -> dict:
    """McNemar's exact test of two classifiers on the same examples.

    Args:
        correct_a: Boolean per-example outcomes of classifier `a`.
        correct_b: Boolean per-example outcomes of classifier `b`, of the same shape.

    Returns:
        `{"a_only", "b_only", "p_value"}`: the examples only `a` gets right, those only `b` gets
        right, and the two-sided binomial p-value of the discordant pairs.

    Raises:
        ValueError: If the outcomes have different shapes.
    """
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"McNemar's test needs outcomes on the same examples; got {a.shape} and {b.shape}")
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p = 1.0 if a_only + b_only == 0 else float(stats.binomtest(min(a_only, b_only), a_only + b_only).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p_value": p}


def gap_closed(alone, distilled, reference: float, resamples: int = 10_000, seed: int = 0) -> dict:
    """Return the fraction of the gap from `alone` to `reference` that `distilled` closes.

    The fraction is `(mean(alone) - mean(distilled)) / (mean(alone) - reference)`, with a `LEVEL`
    percentile bootstrap interval over the seeds (pairs resampled together).

    Args:
        alone: Per-seed errors of a student trained alone.
        distilled: Per-seed errors of the distilled student, paired by seed with `alone`.
        reference: The teacher's error.
        resamples: The number of bootstrap resamples.
        seed: The seed of the bootstrap.

    Returns:
        `{"value", "ci"}`: the fraction and its `[lo, hi]` interval.

    Raises:
        ValueError: If the seeds are not paired or fewer than 2.
    """
    a, d = np.asarray(alone, float), np.asarray(distilled, float)
    if a.shape != d.shape or a.size < 2:
        raise ValueError(f"gap_closed needs paired seeds (at least 2); got {a.size} and {d.size}")
    fraction = lambda a, d: (a.mean(-1) - d.mean(-1)) / (a.mean(-1) - reference)
    idx = np.random.default_rng(seed).integers(0, a.size, (resamples, a.size))
    boot = fraction(a[idx], d[idx])
    lo, hi = np.nanpercentile(boot, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
    return {"value": float(fraction(a, d)), "ci": [float(lo), float(hi)]}
