"""gunicorn settings (https://docs.gunicorn.org/en/stable/settings.html), shared by compose, `make stack` and k8s.

Each worker thread holds at most one persistent PostgreSQL connection: keep replicas x workers x
threads, plus Celery's workers and a few admin shells, under max_connections (README, "Capacity").
"""

from __future__ import annotations

import gc
import os
import shutil

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# The CPUs this process may run on: sched_getaffinity respects taskset/cpusets, os.cpu_count() does not.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * len(os.sched_getaffinity(0)) + 1))
# gthread, not sync: sync workers close every connection, so nginx's upstream keepalive
# would be useless. Idle keepalive connections wait in gthread's poller, not in a thread.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 2))
keepalive = 75  # longer than nginx's upstream keepalive_timeout (60 s): nginx closes first
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
# A stopping worker gets this long to finish its requests; compose's stop_grace_period and
# Kubernetes' terminationGracePeriodSeconds wait longer before SIGKILL.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 25))
# Workers are recycled for memory (post_request below), not after a count of requests: a count
# recycled checkout's workers together mid-spike, and this app's workers stop growing after their
# first pages. A count can still be set (GUNICORN_MAX_REQUESTS), with a wide jitter.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 2
MAX_WORKER_MEMORY_MB = float(os.environ.get("GUNICORN_MAX_WORKER_MEMORY_MB", 200))  # 3 fit k8s's 768Mi
MEMORY_CHECK_EVERY = 100  # requests: reading /proc costs microseconds, not worth doing each time
# Tried and measured worse at the spike's checkout (this file's commits): preload_app, a connection per request.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "stampede-web"
# Replicas on one machine would share the default control socket path; we do not use gunicornc.
control_socket_disable = True

PROMETHEUS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server: Arbiter) -> None:
    # Metric files of a previous run would be summed into this one's counters.
    if PROMETHEUS_DIR:
        shutil.rmtree(PROMETHEUS_DIR, ignore_errors=True)
        os.makedirs(PROMETHEUS_DIR, exist_ok=True)


def post_worker_init(worker: Worker) -> None:
    # What the app loaded lives as long as the worker: out of the garbage collector's sight, a
    # full collection (which stalls every thread) walks only what requests made.
    gc.freeze()


def resident_megabytes() -> float:
    """This process's resident memory (Linux /proc; 0 where there is none, and nothing is recycled)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def post_request(worker: Worker, req, environ: dict, resp) -> None:
    # As gunicorn's own max_requests: the worker finishes what it holds, exits, and is replaced.
    worker.stampede_requests = getattr(worker, "stampede_requests", 0) + 1
    if worker.stampede_requests % MEMORY_CHECK_EVERY or not worker.alive:
        return
    megabytes = resident_megabytes()
    if MAX_WORKER_MEMORY_MB and megabytes > MAX_WORKER_MEMORY_MB:
        worker.log.info("Recycling worker: %.0f MB resident, over %.0f MB", megabytes, MAX_WORKER_MEMORY_MB)
        worker.alive = False


def child_exit(server: Arbiter, worker: Worker) -> None:
    if PROMETHEUS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
