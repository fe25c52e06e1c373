"""supervisord keeps the stack up: a replica or the worker killed outright is started again within seconds,
serves again and leaves no process of the old one behind (compose's `restart: unless-stopped`).
A rolling restart takes each replica out of nginx's pools before it stops (Kubernetes' preStop).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.stack import ROOT
from tests.concurrency import wait_until
from tests.stack.shopping import get, place_order

pytestmark = pytest.mark.stack

RESTART_SECONDS = 15  # supervisord restarts a dead program at once; gunicorn and Celery boot in a few seconds
RESTART = [sys.executable, "-m", "deploy.stack", "restart"]  # make stack-restart


def children(pid: int) -> set[int]:
    """The processes ``pid`` forked: gunicorn's workers, Celery's pool."""
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def alive(pid: int) -> bool:
    try:  # an orphan nobody reaps stays a zombie: dead all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_replica_whose_master_is_killed_is_started_again_and_serves(stack):
    replica, program = stack.replica_urls[0], "web:web-1"
    master = stack.pid(program)
    workers = children(master)
    assert master and workers and get(f"{replica}/").status_code == 200

    os.kill(master, signal.SIGKILL)  # the master alone: its workers notice they are orphans
    killed = time.monotonic()

    assert wait_until(lambda: stack.pid(program) not in (0, master), timeout=RESTART_SECONDS)
    assert wait_until(lambda: not any(map(alive, workers)), timeout=RESTART_SECONDS)
    # Nothing of the old replica is left, so whatever answers now is the new one.
    assert wait_until(lambda: get(f"{replica}/").status_code == 200, timeout=RESTART_SECONDS)
    print(f"{program} served again {time.monotonic() - killed:.1f} s after its master was killed")
    assert children(stack.pid(program))
    assert get(f"{stack.url}/?q=after-restart{time.time_ns()}").status_code == 200


def test_a_killed_worker_is_started_again_and_confirms_the_orders_placed_meanwhile(stack):
    worker = stack.pid("worker")
    pool = children(worker)
    assert worker and pool

    os.kill(worker, signal.SIGKILL)
    killed = time.monotonic()
    customer = place_order(stack.url)  # queued while no worker runs

    assert "/orders/" in customer.order_url
    assert wait_until(lambda: stack.pid("worker") not in (0, worker), timeout=RESTART_SECONDS)
    assert wait_until(
        lambda: "Your order is confirmed" in get(customer.order_url, customer).text, timeout=RESTART_SECONDS + 15
    )
    print(f"the worker confirmed an order {time.monotonic() - killed:.1f} s after it was killed")
    assert not any(map(alive, pool)), "the old worker's pool processes outlived it"


def test_a_rolling_restart_drains_each_replica_from_nginx_before_replacing_it(stack):
    program, port = "web:web-2", int(stack.replica_urls[1].rsplit(":", 1)[1])
    old = stack.pid(program)
    upstreams = stack.run_dir / "upstream-web.conf"
    restart = subprocess.Popen([*RESTART, program], cwd=ROOT, env=stack.env, stdout=subprocess.PIPE, text=True)
    try:
        # While it drains: nginx sends it nothing new, the others serve, the old replica still runs.
        assert wait_until(lambda: re.search(rf"127\.0\.0\.1:{port} [^;]* down;", upstreams.read_text()), timeout=10)
        assert upstreams.read_text().count(" down;") == 1
        assert stack.pid(program) == old
        assert all(get(f"{stack.url}/?q=draining{n}-{time.time_ns()}").status_code == 200 for n in range(5))
        assert restart.wait(timeout=RESTART_SECONDS + 30) == 0
    finally:
        restart.kill()
    assert " down;" not in upstreams.read_text()
    assert stack.pid(program) not in (0, old)
    assert get(f"{stack.replica_urls[1]}/readyz").status_code == 200
    assert f"Restarted {program}" in restart.stdout.read()


def test_a_rolling_restart_of_a_replica_the_stack_does_not_have_is_refused(stack):
    done = subprocess.run([*RESTART, "web:web-9"], cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=30)

    assert done.returncode == 2
    assert "No such replica: web:web-9" in done.stderr
