"""Verdict rules of the reproductions.

A claim is `reproduced` when its paper's claim, stated at our scale, holds; `direction holds`
when a significant effect has the paper's sign but misses the stated size; `inconclusive` when
the confidence interval of a compared difference contains zero; `not reproduced` otherwise.

Each rule is a `Criterion`: the sentence printed beside the verdict and a function from the
claim's `details` (a dict of numbers) to the verdict, so a verdict can always be recomputed
from the numbers the report shows.
"""

from collections.abc import Callable
from dataclasses import dataclass

REPRODUCED, DIRECTION, INCONCLUSIVE, NOT_REPRODUCED = ("reproduced", "direction holds", "inconclusive",
                                                       "not reproduced")
VERDICTS = (REPRODUCED, DIRECTION, INCONCLUSIVE, NOT_REPRODUCED)


@dataclass(frozen=True)
class Criterion:
    """A verdict rule: the sentence printed beside the verdict and the function that decides it.

    Attributes:
        text: The rule in words, as printed in the report.
        rule: `details -> verdict`, one of `VERDICTS`.
    """

    text: str                         # the rule in words, as printed in the report
    rule: Callable[[dict], str]       # details -> one of VERDICTS

    def verdict(self, details: dict) -> str:
        """Return the verdict of `rule` on a claim's `details`.

        Raises:
            ValueError: If the rule returns something other than one of `VERDICTS`.
        """
        verdict = self.rule(details)
        if verdict not in VERDICTS:
            raise ValueError(f"a criterion returned {verdict!r}, not one of {VERDICTS}")
        return verdict


def significant(comparison: dict, big_enough: bool) -> str:
    """Return the verdict of a `stats.compare` result where a positive difference is the paper's effect.

    `reproduced` if its interval lies above zero and the effect is `big_enough`, `direction holds`
    if above zero only, `inconclusive` if the interval contains zero, `not reproduced` if it lies
    below (the opposite effect).
    """
    lo, hi = comparison["ci"]
    if lo > 0:
        return REPRODUCED if big_enough else DIRECTION
    return NOT_REPRODUCED if hi < 0 else INCONCLUSIVE


def bar(holds: bool, weaker: bool = False) -> str:
    """`reproduced` if the claim's bar `holds`, else `direction holds` if the `weaker` test does."""
    return REPRODUCED if holds else DIRECTION if weaker else NOT_REPRODUCED
