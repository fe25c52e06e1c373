"""The compose tests' own `docker compose` stack (deploy.compose.ComposeStack, isolated): built from this
checkout, its own project name and loopback ports, removed with its volumes at the end, even on failure."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from deploy.compose import ComposeStack

WEB_REPLICAS = 2


@pytest.fixture(scope="session")
def compose() -> Iterator[ComposeStack]:
    # Fail, never skip: `make test` installs Docker (deploy/docker-engine.sh), so CI cannot go green without it.
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.fail("No Docker daemon answers: `make test` installs and starts one", pytrace=False)
    name = f"compose-{os.environ['STAMPEDE_TEST_RUN_ID']}"
    # Behind the load balancer make loadtest and make chaos put in front (compose.url is the balancer's).
    with ComposeStack.isolated(name, web=WEB_REPLICAS, balanced=True) as stack:
        yield stack
