"""Each visitor's own random choices, the same in every configuration of a run.

The configurations of a run are judged by the orders they place against the buying demand
they were offered, so that demand must be equal: the same visitors, of the same kinds, landing on
the same pages, through the campaign or not, choosing the same products and thinking as long.
So no visitor draws from the process's shared ``random`` (whose sequence depends on how
the visitors' greenlets happened to interleave); each draws from a ``random.Random`` of its own,
seeded by the run's seed and its place in the arrivals.

That place is counted per kind: the n-th buyer, not the n-th visitor. Locust's dispatcher hands
out kinds in a fixed order by weight (Locust 2.47's ``UsersDispatcher`` uses no randomness:
a Kullback-Leibler sequence over the classes sorted by name), so the n-th buyer is the same
in every run; but it creates each second's batch grouped by class, so the n-th visitor
created may be a buyer in one run and a browser in the next, as the batches fall.
This module does not import Locust (the tests read it without gevent's patching).
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
