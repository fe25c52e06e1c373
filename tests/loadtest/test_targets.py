"""`TARGET=compose` for make loadtest and make chaos: what runs on compose stacks, and what is make stack's only.

The compose runs themselves are measured by hand (a compose stack per configuration takes minutes);
the pieces they stand on (the balancer, the audit in the worker's container) are tests/compose's.
"""

from __future__ import annotations

import subprocess
import sys

from deploy.stack import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_chaos_on_compose_refuses_the_faults_that_need_make_stacks_fault_proxy_and_says_which_run():
    refused = run("loadtest.chaos", "--target", "compose", "--only", "broker-down,worker-killed")

    assert refused.returncode == 2
    assert "make stack's only: broker-down (on compose: worker-killed, replica-killed, flash-sale)" in refused.stderr


def test_the_load_test_on_compose_refuses_the_2023_configuration_and_a_running_make_stack():
    configuration = run("loadtest.run", "--scenario", "influencer", "--target", "compose", "--configurations", "2023")
    against = run("loadtest.run", "--scenario", "influencer", "--target", "compose", "--against", "var/stack")

    assert configuration.returncode == against.returncode == 2
    assert (
        "make stack's only: 2023 (on compose: stampede, stampede-no-room, stampede-scale-out)" in configuration.stderr
    )
    assert "--against is a running make stack's; compose stacks are the run's own" in against.stderr


def test_the_rehearsed_scale_out_runs_on_compose_only():
    on_stack = run("loadtest.run", "--scenario", "influencer", "--configurations", "stampede,stampede-scale-out")

    assert on_stack.returncode == 2
    assert "stampede-scale-out: compose scales a pool during a run, make stack does not" in on_stack.stderr
