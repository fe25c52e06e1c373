"""Auto mode's adaptive admission: it engages on measured overload and paces itself back up.

The rule is tested as a function of what was measured (no clock, no sleeps); the wiring is
tested through the real Redis with figures a test puts where the processes put theirs.
"""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from resilience.testing import override_waitingroom
from resilience.waitingroom import adaptive
from resilience.waitingroom.adaptive import Decision, decide
from resilience.waitingroom.config import RoomConfig, config_cache
from resilience.waitingroom.store import room_key, room_redis
from tests.resilience.waitingroom.helpers import is_queued
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout

CATALOG = reverse("shop:product_list")
AUTO = RoomConfig("auto", 100_000, 600, 120, ("/",), "", None, None, 60, 500, 250)  # ceiling 600/min, floor 60
CALM = Decision(False, 600, {}, "")


def step(
    previous: Decision,
    *,
    latency: float = 0.0,
    queue: float = 0.0,
    waiting: int = 0,
    now: float = 1000.0,
    calm_since: float = 0.0,
) -> tuple[Decision, float]:
    return decide(
        previous,
        config=AUTO,
        measured={"latency": latency, "queue": queue},
        waiting=waiting,
        now=now,
        calm_since=calm_since,
    )


def test_over_target_the_room_engages_and_the_pace_falls_by_a_factor_once_a_window_down_to_the_floor(settings):
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_WINDOW_SECONDS = 10
    first, _ = step(CALM, latency=0.9, now=1000)
    second, _ = step(first, latency=0.9, now=1010)
    decision = second
    for now in range(1020, 1300, 10):
        decision, _ = step(decision, queue=1.0, now=now)

    assert first.engaged and [first.pace, second.pace] == [pytest.approx(420), pytest.approx(294)]
    assert "latency p95 900 ms is over its target of 500 ms" in first.reason
    assert decision.pace == 60  # the floor
    assert "queue p95 1000 ms" in decision.reason


def test_within_a_window_of_a_cut_the_pace_holds_while_the_signal_still_shows_the_time_before_it(settings):
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_WINDOW_SECONDS = 10
    cut, _ = step(CALM, latency=0.9, now=1000)
    held, _ = step(cut, latency=0.9, now=1009)
    cut_again, _ = step(held, latency=0.9, now=1010)

    assert held.engaged and held.pace == pytest.approx(420) and held.decreased_at == 1000
    assert "the pace was cut 9 s ago and holds" in held.reason
    assert cut_again.pace == pytest.approx(294) and cut_again.decreased_at == 1010


def test_within_target_an_engaged_room_climbs_back_by_a_step_to_the_ceiling():
    decision = Decision(True, 294, {}, "")
    climbed, _ = step(decision, latency=0.4)

    assert climbed.engaged and climbed.pace == pytest.approx(294 + 12)  # 2% of the ceiling a step
    for _ in range(30):
        climbed, _ = step(climbed, latency=0.4)
    assert climbed.pace == 600


def test_the_room_lets_go_only_after_staying_calm_a_while_with_nobody_waiting(settings):
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_RELEASE_SECONDS = 30
    engaged = Decision(True, 300, {}, "")

    _, calm_since = step(engaged, latency=0.1, now=1000)
    still, _ = step(engaged, latency=0.1, now=1020, calm_since=calm_since)
    with_a_queue, _ = step(engaged, latency=0.1, now=1040, calm_since=calm_since, waiting=5)
    released, _ = step(engaged, latency=0.1, now=1040, calm_since=calm_since)
    not_calm_enough, since = step(engaged, latency=0.3, now=1040, calm_since=calm_since)  # under target, over half

    assert calm_since == 1000 and still.engaged and with_a_queue.engaged
    assert not released.engaged and released.pace == 600
    assert not_calm_enough.engaged and since == 0


def test_a_calm_room_stays_disengaged():
    decision, _ = step(CALM, latency=0.2, queue=0.1)

    assert not decision.engaged and decision.pace == 600


AUTO_ROOM = {
    "total_active_users": 100_000,
    "new_users_per_minute": 6000,
    "target_latency_ms": 500,
    "min_users_per_minute": 60,
}


@pytest.fixture
def auto_room(db):
    with override_waitingroom("auto", **AUTO_ROOM) as config:
        yield config


def overloaded() -> None:
    """This process saw slow checkouts, as the middleware notes each request to a watched path."""
    adaptive.pressure.reset()  # and publishes at its next chance
    adaptive.current.clear()
    room_redis().delete(room_key("adaptive:lock"))  # a second later: the next request may steer
    for _ in range(20):
        adaptive.pressure.observe("latency", 2.0)


@pytest.mark.django_db
def test_slow_checkouts_make_auto_mode_queue_new_visitors_far_below_its_caps(auto_room, product):
    assert not is_queued(Client(REMOTE_ADDR="198.51.100.1").get(CATALOG))

    overloaded()
    Client(REMOTE_ADDR="198.51.100.2").get(CATALOG)  # the request that publishes and steers

    assert is_queued(Client(REMOTE_ADDR="198.51.100.3").get(CATALOG))
    decision = adaptive.read_decision()[0]
    assert decision.engaged and decision.pace == pytest.approx(6000 * 0.7)
    assert decision.measured["latency"] == pytest.approx(2.0)


@pytest.mark.django_db
def test_every_process_sees_when_the_pace_was_cut_so_none_cuts_it_again_within_the_window(auto_room, product):
    overloaded()
    Client(REMOTE_ADDR="198.51.100.2").get(CATALOG)  # the first cut, stored in Redis
    overloaded()  # another process, a second later, still over target
    Client(REMOTE_ADDR="198.51.100.3").get(CATALOG)

    decision = adaptive.read_decision()[0]
    assert decision.pace == pytest.approx(6000 * 0.7)  # cut once, not twice
    assert decision.decreased_at == pytest.approx(time.time(), abs=30)
    assert "holds until that shows" in decision.reason


@pytest.mark.django_db
def test_status_and_metrics_say_why_the_room_is_engaged(product, capsys, client):
    # The command reads the database's row: switch the room as an operator would.
    call_command(
        "waitingroom",
        "auto",
        "--total-active-users",
        "100000",
        "--new-users-per-minute",
        "6000",
        "--target-latency-ms",
        "500",
        "--min-users-per-minute",
        "60",
    )
    config_cache.clear()
    overloaded()
    Client(REMOTE_ADDR="198.51.100.2").get(CATALOG)

    call_command("waitingroom", "status")
    metrics = client.get("/metrics").content.decode()

    assert (
        "adaptive: engaged, pace 4200/min: latency p95 2000 ms is over its target of 500 ms" in capsys.readouterr().out
    )
    assert "stampede_waitingroom_adaptive_engaged 1.0" in metrics
    assert 'stampede_waitingroom_adaptive_measured_seconds{signal="latency"} 2.0' in metrics
    assert 'stampede_waitingroom_adaptive_target_seconds{signal="latency"} 0.5' in metrics
    assert "stampede_waitingroom_pace_per_minute 4200.0" in metrics


@pytest.mark.django_db
def test_checkout_requests_are_timed_for_the_room_and_so_is_the_wait_in_front_of_the_app(auto_room, product, customer):
    adaptive.pressure.reset()
    buyer = Client()
    add_to_cart(buyer, product)

    submit_checkout(buyer, checkout_token(buyer), customer)
    Client().get(CATALOG, HTTP_X_REQUEST_START=f"t={time.time() - 0.3:.3f}")  # nginx stamped it 300 ms ago
    Client().get(CATALOG, HTTP_X_REQUEST_START="t=1")  # a stamp from 1970 is a wrong clock: ignored

    assert len(adaptive.pressure.recent("latency")) == 2  # the checkout form and its submission
    assert adaptive.pressure.recent("queue") == [pytest.approx(0.3, abs=0.2)]


@pytest.mark.django_db
def test_a_checkouts_latency_is_its_whole_wait_from_nginxs_stamp(auto_room, product):
    adaptive.pressure.reset()
    buyer = Client()
    add_to_cart(buyer, product)

    buyer.get(reverse("shop:checkout"), HTTP_X_REQUEST_START=f"t={time.time() - 0.3:.3f}")  # queued 300 ms

    (latency,) = adaptive.pressure.recent("latency")
    (queued,) = adaptive.pressure.recent("queue")
    assert latency >= queued == pytest.approx(0.3, abs=0.2)  # the queue, then the app's own time
