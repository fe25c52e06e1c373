"""The stack tests' own `make stack` (deploy.stack.Stack, isolated): nginx, 3 web replicas, worker, beat.

Its own ports, database, keys and Celery queue let it run beside anything else; all are gone at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from deploy.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    env = {"ROOT_URLCONF": "tests.stack.urls", "GUNICORN_WORKERS": "2"}  # tests.stack.urls: the shop and a slow page
    name = f"stack-{os.environ['STAMPEDE_TEST_RUN_ID']}"
    with Stack.isolated(name, web=3, env=env, run_dir=tmp_path_factory.mktemp("stack")) as stack:
        yield stack
