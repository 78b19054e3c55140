"""Verdict rules of the reproductions: a claim is `reproduced`, its `direction holds` (the effect
is there but weaker than the stated bar), or it is `not reproduced`.

Each rule is a `Criterion`: two predicates on the claim's measurements (a dict of numbers) and the
sentence that states them, which is printed beside the verdict.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

REPRODUCED, DIRECTION, NOT_REPRODUCED = "reproduced", "direction holds", "not reproduced"


@dataclass(frozen=True)
class Criterion:
    text: str                                # the rule in words, as printed in the report
    reproduced: Callable[[dict], bool]       # the bar
    direction: Callable[[dict], bool]        # the weaker test: the effect has the published sign

    def verdict(self, measured: dict) -> str:
        if self.reproduced(measured):
            return REPRODUCED
        return DIRECTION if self.direction(measured) else NOT_REPRODUCED


def at_least(key: str, bar: float, weaker: float, what: str) -> Criterion:
    """`measured[key] >= bar` reproduces; `>= weaker` only shows the direction."""
    return Criterion(f"reproduced if {what} >= {bar:g}; direction holds if >= {weaker:g}",
                     lambda m: m[key] >= bar, lambda m: m[key] >= weaker)


def beats_by_spread(better: str, worse: str, what: str) -> Criterion:
    """Seeded comparison of two lists of per-seed values where lower is better: reproduced if the
    means differ by more than twice the larger standard deviation (population std over seeds)."""
    import numpy as np

    def gap(m):
        a, b = np.asarray(m[better], float), np.asarray(m[worse], float)
        return b.mean() - a.mean(), 2 * max(a.std(), b.std())

    return Criterion(f"reproduced if the mean {what} of {better} is below {worse}'s by more than twice the larger "
                     f"seed std; direction holds if it is below at all",
                     lambda m: gap(m)[0] > gap(m)[1], lambda m: gap(m)[0] > 0)


def ordered(keys: tuple[str, ...], what: str) -> Criterion:
    """`measured[keys[0]] < measured[keys[1]] < ...` reproduces the published ranking; the first
    below the last (the best model beats the weakest) only shows the direction."""
    chain = lambda m: all(m[a] < m[b] for a, b in itertools.pairwise(keys))
    return Criterion(f"reproduced if {what}: {' < '.join(keys)}; direction holds if {keys[0]} < {keys[-1]}",
                     chain, lambda m: m[keys[0]] < m[keys[-1]])
