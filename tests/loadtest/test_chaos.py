"""`make chaos QUICK=1` in the suite: the short subset of faults, each against a stack of its own.

The full set (`make chaos`) takes about ten minutes; these two are the ones whose figure a
change to the order pipeline is most likely to miss.
"""

from __future__ import annotations

import pytest

from loadtest.chaos.scenarios import QUICK, SCENARIOS

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("scenario", QUICK)
def test_each_quick_chaos_scenario_passes(scenario):
    result = SCENARIOS[scenario](quick=True)

    assert result.passed, result.summary
