"""Every configuration of a run meets the same visitors: each one's choices come from its own seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from deploy.stack import ROOT
from loadtest.seeds import Arrivals


def choices(rng) -> list:
    """What a visitor decides: campaign or not, a landing page, a product, how long to think."""
    return [rng.random(), rng.choice(["/", "/category/a/", "/products/b/"]), rng.randrange(100), rng.uniform(1, 4)]


def test_the_nth_visitor_of_a_kind_makes_the_same_choices_in_every_run():
    def run(order: list[str]) -> dict[tuple[str, int], list]:
        arrivals = Arrivals(seed=7)
        return {(kind, index): choices(rng) for kind in order for index, rng in [arrivals.next(kind)]}

    # The second run creates the same visitors in another order (Locust groups each batch by class).
    assert run(["Buyer", "Browser", "Buyer", "Shopper"]) == run(["Browser", "Shopper", "Buyer", "Buyer"])


def test_visitors_differ_from_each_other_and_from_another_runs_visitors():
    arrivals = Arrivals(seed=7)
    buyers = [choices(arrivals.next("Buyer")[1]) for _ in range(3)]

    assert len({json.dumps(c) for c in buyers}) == 3
    assert choices(Arrivals(seed=8).next("Buyer")[1]) != buyers[0]


DISPATCH = """
import json
from locust import User
from locust.dispatch import UsersDispatcher
from locust.runners import WorkerNode
from loadtest.visitors import AppUser, Browser, Buyer, Shopper

dispatcher = UsersDispatcher(worker_nodes=[WorkerNode("local")], user_classes=[AppUser, Browser, Buyer, Shopper])
order, before = [], {}
for users in range(1, 201):  # one visitor a dispatch: no waiting between iterations
    dispatcher.new_dispatch(users, 1)
    counts = next(dispatcher)["local"]
    order += [kind for kind in counts if counts[kind] > before.get(kind, 0)]
    before = counts
print(json.dumps(order))
"""


def kinds_dispatched(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # A process of its own: importing Locust patches everything for gevent.
    done = subprocess.run(
        [sys.executable, "-c", DISPATCH], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_locusts_dispatcher_hands_out_kinds_in_a_fixed_order_by_weight():
    order = kinds_dispatched("1")

    assert order == kinds_dispatched("2")
    assert {kind: order.count(kind) for kind in set(order)} == {
        "Browser": 120,
        "Buyer": 40,
        "Shopper": 30,
        "AppUser": 10,
    }
