"""Each visitor's own random choices, the same in every configuration of a run.

The configurations of a run are judged against the buying demand they were offered, so it must be
equal: the same visitors making the same choices. So no visitor draws from the shared ``random``
(whose sequence depends on how greenlets interleave); each has a ``random.Random`` seeded by the
run's seed and its place among its kind: Locust's dispatcher hands out kinds in a fixed order
(tests/loadtest/test_seeds.py), but groups each second's batch by class, so the n-th visitor
created may be of another kind in another run while the n-th buyer is always the same.
"""

from __future__ import annotations

import random
from collections import Counter

VISITORS_SEED = 19  # any fixed value: what matters is that every configuration of a run shares it


class Arrivals:
    """Numbers the visitors of each kind as they are created, and seeds each one's choices."""

    def __init__(self, seed: int | str = VISITORS_SEED) -> None:
        self.seed = seed
        self._counts: Counter[str] = Counter()

    def next(self, kind: str) -> tuple[int, random.Random]:
        """The next ``kind`` visitor's index among its kind, and its own random generator."""
        index = self._counts[kind]
        self._counts[kind] += 1
        # A string seed is hashed with SHA-512: the same in every process, whatever PYTHONHASHSEED.
        return index, random.Random(f"{self.seed}:{kind}:{index}")
