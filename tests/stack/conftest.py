"""A real `make stack` of the tests' own (deploy.stack.Stack, isolated): nginx, N gunicorn replicas, worker, beat.

It runs beside anything else on this machine: its own ports, run folder, database, cache
prefix and Celery queue; it is stopped (its supervisord and what that runs), its database
dropped and its keys deleted at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from deploy.stack import Stack

WEB_REPLICAS = 3


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    env = {
        "ROOT_URLCONF": "tests.stack.urls",  # the shop, plus a slow page to fill the browsing pool with
        "GUNICORN_WORKERS": "2",
    }
    name = f"stack-{os.environ['STAMPEDE_TEST_RUN_ID']}"
    with Stack.isolated(name, web=WEB_REPLICAS, env=env, run_dir=tmp_path_factory.mktemp("stack")) as stack:
        yield stack
