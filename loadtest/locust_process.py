"""One run of `make loadtest`: what every configuration is put through, and the Locust process that does it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from deploy.compose import ComposeStack
from deploy.stack import ROOT, Stack
from loadtest.arrivals import ArrivalShape
from loadtest.seeds import VISITORS_SEED
from loadtest.shapes import shape_for


@dataclass(frozen=True)
class LoadTestRun:
    """The scenario, shortened or not, the visitors' seed, and the overload's held rate (visitors/s)."""

    scenario: str
    quick: bool = False
    seed: int = VISITORS_SEED
    rate: float | None = None

    def shape(self) -> ArrivalShape:
        return shape_for(self.scenario, quick=self.quick, rate=self.rate)()


def run_locust(target: Stack | ComposeStack, *, run: LoadTestRun, folder: Path) -> None:
    """Locust headless, one process (this machine has two cores and the shop needs them), bounded in time."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOADTEST_RUN": json.dumps(asdict(run)),
        "LOADTEST_RECORD": str(folder / "record"),
        "LOADTEST_CATALOG": str(folder / "catalog.json"),
        "LOADTEST_STACK": str(target.run_dir),  # the cold start empties its caches
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "locust", f"--locustfile={ROOT / 'loadtest' / 'locustfile.py'}", "--headless"]
    command += [f"--host={target.url}", "--only-summary", "--exit-code-on-error=0", "--loglevel=WARNING"]
    command += [f"--csv={folder / 'locust'}", f"--html={folder / 'locust.html'}", f"--logfile={folder / 'locust.log'}"]
    with (folder / "locust-console.log").open("wb") as console:
        subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            check=True,
            timeout=run.shape().duration + 300,
            preexec_fn=_more_open_files,
            stdout=console,
            stderr=subprocess.STDOUT,
        )


def _more_open_files() -> None:
    # Thousands of visitors at once, each with its own connection.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else max(soft, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
