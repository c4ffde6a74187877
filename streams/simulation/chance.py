"""Random draws the standard library lacks."""

from __future__ import annotations

import math
import random
from typing import TypeVar

_T = TypeVar("_T")


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; ``mean`` is small here)."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _weighted(rng: random.Random, weights: dict[_T, float]) -> _T:
    choices = list(weights)
    return rng.choices(choices, weights=[weights[c] for c in choices])[0]
