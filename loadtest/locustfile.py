"""Locust's entry point for `make loadtest`: the visitors, the scenario's shape, the record.

Run by loadtest/locust_process.py, whose LOADTEST_* environment gives the run (its LoadTestRun), the
record's folder, the catalog visitors know, and the stack (whose caches the cold start empties).
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path

import gevent
from locust import LoadTestShape, events

from deploy.compose import running_stack
from loadtest.locust_process import LoadTestRun
from loadtest.pages import Catalog
from loadtest.record import Recorder, cpu_seconds
from loadtest.seeds import Arrivals
from loadtest.stress import Ramp, step_figures
from loadtest.visitors import AppUser, Browser, Buyer, Shopper, Visitor

__all__ = ["AppUser", "Browser", "Buyer", "Scenario", "Shopper"]

RUN = LoadTestRun(**json.loads(os.environ["LOADTEST_RUN"]))
recorder = Recorder(Path(os.environ["LOADTEST_RECORD"]))
Visitor.recorder = recorder
Visitor.arrivals = Arrivals(RUN.seed)
Visitor.catalog = Catalog(**json.loads(Path(os.environ["LOADTEST_CATALOG"]).read_text()))


KINDS = {kind.__name__: kind for kind in (AppUser, Browser, Buyer, Shopper)}


class Scenario(LoadTestShape):
    """Locust's shape: the scenario's arrivals (loadtest/shapes.py), one user per visitor."""

    profile = RUN.shape()
    caches_emptied = False

    def tick(self):
        t = self.get_run_time()
        if self.profile.phase_at(t)[0].name == self.profile.empties_caches_at and not self.caches_emptied:
            self.caches_emptied = True
            gevent.spawn(self._empty_caches)
        if isinstance(self.profile, Ramp) and (figures := self.profile.after_step(t, self._step_figures)):
            recorder.event("ramp step", **figures)
        if (target := self.profile.target(t)) is None:
            return None
        users, rate, only = target
        return users, rate, [KINDS[name] for name in only or KINDS]

    def _step_figures(self, start: float, end: float) -> dict:
        epoch = time.time() - self.get_run_time()  # the shape's seconds on the wall clock the record keeps
        return step_figures(recorder.checkouts, recorder.seconds, epoch + start, epoch + end)

    def _empty_caches(self) -> None:
        deleted = running_stack(os.environ["LOADTEST_STACK"]).empty_caches()
        recorder.event("caches emptied", keys=deleted)


@events.request.add_listener
def _count_response(response=None, exception=None, **_) -> None:
    recorder.response(getattr(response, "status_code", 0) or None)


# The load generator's own pauses: every visitor stays a Locust user to the end, so the heap grows
# with arrivals, and a full collection walks all of it, stalling every visitor and timing each
# request in flight slower than the shop answered it. A bounded run makes none (the young
# generations still free short-lived cycles; the rest lives to the end anyway); any is recorded.
NO_FULL_COLLECTIONS = 10**9
_collection_started = [0.0]


def _time_full_collections(phase: str, info: dict) -> None:
    if info["generation"] != 2:
        return
    if phase == "start":
        _collection_started[0] = time.perf_counter()
    else:
        recorder.event("loadgen_gc", ms=(time.perf_counter() - _collection_started[0]) * 1000)


@events.test_start.add_listener
def _started(environment, **_) -> None:
    environment.started_at = time.time()
    environment.cpu_at_start = cpu_seconds()
    gc.freeze()  # what Locust and the shop's catalog loaded
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_COLLECTIONS)
    gc.callbacks.append(_time_full_collections)

    def sample() -> None:
        while True:
            recorder.sample_visitors()
            gevent.sleep(1)

    environment.sampler = gevent.spawn(sample)


@events.test_stop.add_listener
def _stopped(environment, **_) -> None:
    environment.sampler.kill()
    gc.callbacks.remove(_time_full_collections)
    profile = environment.shape_class.profile
    recorder.close(
        scenario=RUN.scenario,
        started_at=environment.started_at,
        stopped_at=time.time(),
        phases=profile.timeline(),
        baseline_phase=profile.baseline_phase,
        peak_phases=profile.peak_phases,
        last_wave_phase=profile.last_wave_phase,
        hold_phase=getattr(profile, "hold_phase", None),
        rate=RUN.rate,
        ramp_failed_step=getattr(profile, "failed_step", None),
        visitors=recorder.visitors_arrived,
        # Locust's own CPU over the run: near one core's worth, it could not offer more than it did.
        loadgen_cpu_seconds=round(cpu_seconds() - environment.cpu_at_start, 1),
    )
