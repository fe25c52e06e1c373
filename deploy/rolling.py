"""`make stack-restart`: replace the stack's replicas one at a time, none of them losing a request."""

from __future__ import annotations

import json
import sys
import time

import nginxconf
import readiness
import supervisord
from stacksettings import LOGS, RUN_DIR

# Like Kubernetes' preStop pause (k8s/web.yaml): nginx sends a replica nothing new and its old
# workers finish what they sent, before gunicorn is told to stop.
DRAIN_SECONDS = 5


def restart(programs: list[str]) -> int:
    """Replace replicas one at a time (all, or those named: web:web-1 ...), each drained from nginx first.

    gunicorn's graceful stop finishes the requests it has, but closes its idle keep-alive
    connections: a request nginx sent on one at that moment fails, and nginx rightly does not
    resend a POST. Drained first, the replica has no such connection left when it stops.
    A pool of one replica cannot be drained (nothing else would answer): it restarts as it is.
    """
    stack = json.loads((RUN_DIR / "stack.json").read_text())
    pools = {"web": stack["web_ports"], "checkout": stack["checkout_ports"]}
    replicas = [
        (pool, f"{pool}:{pool}-{index}", port) for pool, ports in pools.items() for index, port in enumerate(ports, 1)
    ]
    unknown = set(programs) - {program for _, program, _ in replicas}
    if unknown:
        print(f"No such replica: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for pool, program, port in replicas:
        if programs and program not in programs:
            continue
        drained = len(pools[pool]) > 1
        try:
            if drained:
                _drain(port, True)
                time.sleep(DRAIN_SECONDS)
            supervisord.ctl(RUN_DIR, "restart", program, capture=True)
            if not readiness.wait_until_up([f"http://127.0.0.1:{port}/readyz"]):
                print(f"{program} did not come back; see {LOGS}", file=sys.stderr)
                return 1
        finally:
            if drained:  # back in the pools even if it failed: supervisord goes on starting it
                _drain(port, False)
        print(f"Restarted {program}" + ("" if drained else " (alone in its pool: not drained)"))
    return 0


def _drain(port: int, draining: bool) -> None:
    nginxconf.set_draining(RUN_DIR, port, draining)
    supervisord.ctl(RUN_DIR, "signal", "HUP", "nginx", capture=True)  # a graceful reload
