"""Auto mode's adaptive admission: it engages on measured overload and paces itself back up.

The rule is tested as a function of what was measured (no clock, no sleeps); the wiring is
tested through the real Redis with figures a test puts where the processes put theirs.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from resilience.testing import override_waitingroom
from resilience.waitingroom import adaptive
from resilience.waitingroom.adaptive import Decision, decide
from resilience.waitingroom.config import RoomConfig, config_cache
from resilience.waitingroom.models import WaitingRoomConfig
from resilience.waitingroom.store import room_key, room_redis
from tests.resilience.waitingroom.helpers import CART_STATE, is_queued
from tests.shop.helpers import add_to_cart, checkout_token, submit_checkout

CATALOG = reverse("shop:product_list")
# new_users_per_minute (600) is on mode's pace: auto mode never reads it as a ceiling.
AUTO = RoomConfig("auto", 100_000, 600, 120, ("/",), "", None, None, 60, 500, 500)  # floor 60/min
SAFETY_MAX = 60_000
CALM = Decision(False, SAFETY_MAX, {}, "")
CALM_FIGURES = {"measured": {"latency": 0.1, "queue": 0.1}, "waiting": 0, "now": 1000.0, "calm_since": 0.0}


@pytest.fixture(autouse=True)
def safety_maximum(settings):
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_MAX_PER_MINUTE = SAFETY_MAX
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_WINDOW_SECONDS = 10
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_CUT_EVERY_SECONDS = 30


def step(
    previous: Decision,
    *,
    latency: float = 0.0,
    queue: float = 0.0,
    admitted: float = 0.0,
    waiting: int = 0,
    now: float = 1000.0,
    calm_since: float = 0.0,
) -> tuple[Decision, float]:
    return decide(
        previous,
        config=AUTO,
        measured={"latency": latency, "queue": queue},
        admitted_per_minute=admitted,
        waiting=waiting,
        now=now,
        calm_since=calm_since,
    )


def test_while_every_signal_is_within_target_the_room_lets_everyone_in_up_to_its_safety_maximum():
    decision, _ = step(CALM, latency=0.45, queue=0.2, admitted=5000)  # far above on mode's 600/min

    assert not decision.engaged and decision.pace == SAFETY_MAX


def test_far_past_capacity_the_room_engages_at_once_at_the_pace_the_shop_was_admitting_cut_by_a_factor():
    first, _ = step(CALM, latency=1.2, admitted=1800, now=1000)  # 2.4x its 500 ms target
    second, _ = step(first, latency=1.2, admitted=1260, now=1030)

    assert first.engaged and [first.pace, second.pace] == [pytest.approx(1260), pytest.approx(882)]
    assert "latency p95 1200 ms is over its target of 500 ms" in first.reason


def test_a_signal_less_than_twice_its_target_engages_the_room_only_once_it_stays_over(settings):
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_ENGAGE_AFTER_SECONDS = 20
    first, _ = step(CALM, latency=0.6, admitted=1800, now=1000)  # 20% over its 500 ms target
    still, _ = step(first, latency=0.6, admitted=1800, now=1019)
    engaged, _ = step(still, latency=0.6, admitted=1800, now=1020)

    assert not first.engaged and first.pace == SAFETY_MAX and first.over_since == 1000
    assert "over its target of 500 ms (for 0 s): the room engages if it stays over" in first.reason
    assert not still.engaged and still.over_since == 1000
    assert engaged.engaged and engaged.pace == pytest.approx(1800 * 0.5 / 0.6)  # cut in proportion


def test_a_passing_rise_over_target_engages_nothing_and_the_next_one_is_timed_afresh(settings):
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_ENGAGE_AFTER_SECONDS = 20
    rise, _ = step(CALM, latency=0.7, admitted=1800, now=1000)
    passed, _ = step(rise, latency=0.3, admitted=1800, now=1015)
    again, _ = step(passed, latency=0.7, admitted=1800, now=1025)

    assert not passed.engaged and passed.over_since == 0
    assert not again.engaged and again.over_since == 1025


def test_a_cut_starts_from_what_was_admitted_when_that_is_below_the_pace_and_stops_at_the_floor():
    decision = Decision(True, 1000, {}, "")
    decision, _ = step(decision, queue=1.0, admitted=200, now=1000)
    assert decision.pace == pytest.approx(140)
    for now in range(1030, 2000, 30):
        decision, _ = step(decision, queue=1.0, admitted=decision.pace, now=now)

    assert decision.pace == 60  # the floor
    assert "queue p95 1000 ms" in decision.reason


def test_after_a_cut_the_pace_holds_while_those_let_in_before_it_still_load_the_shop():
    cut, _ = step(CALM, latency=1.2, admitted=600, now=1000)
    held, _ = step(cut, latency=1.2, admitted=600, now=1029)
    cut_again, _ = step(held, latency=1.2, admitted=600, now=1030)

    assert held.engaged and held.pace == pytest.approx(420) and held.decreased_at == 1000
    assert "the pace was cut 29 s ago and holds" in held.reason
    assert cut_again.pace == pytest.approx(294) and cut_again.decreased_at == 1030


def test_under_half_its_targets_an_engaged_room_climbs_by_a_share_of_its_pace_with_no_ceiling_but_the_safety_maximum():
    climbed, _ = step(Decision(True, 300, {}, ""), latency=0.2, admitted=300)
    assert climbed.engaged and climbed.pace == pytest.approx(306)  # 2% a second

    for _ in range(200):
        climbed, _ = step(climbed, latency=0.2, admitted=climbed.pace)
    assert climbed.pace > 600 * 3  # past on mode's 600/min: replicas added meanwhile are found
    for _ in range(2000):
        climbed, _ = step(climbed, latency=0.2, admitted=climbed.pace)
    assert climbed.pace == SAFETY_MAX


def test_after_a_cut_the_pace_climbs_only_once_those_let_in_meanwhile_had_time_to_reach_checkout():
    cut = Decision(True, 300, {}, "", decreased_at=1000)

    lull, _ = step(cut, latency=0.05, admitted=300, now=1010)  # calm: the visitors let in are still browsing
    climbed, _ = step(cut, latency=0.05, admitted=300, now=1031)

    assert lull.pace == 300 and "cut 10 s ago and holds" in lull.reason
    assert climbed.pace == pytest.approx(306)


def test_between_half_its_target_and_its_target_the_pace_holds_for_those_let_in_still_on_their_way():
    held, _ = step(Decision(True, 300, {}, ""), latency=0.4, admitted=300)

    assert held.engaged and held.pace == 300
    assert "latency p95 400 ms is within its target, over half: the pace holds" in held.reason


def test_engaged_a_signal_just_over_its_target_cuts_the_pace_in_proportion_and_one_far_over_by_the_factor():
    engaged = Decision(True, 1000, {}, "")

    just_over, _ = step(engaged, latency=0.6, admitted=1000)  # 20% over its 500 ms target
    far_over, _ = step(engaged, latency=2.0, admitted=1000)

    assert just_over.pace == pytest.approx(1000 * 0.5 / 0.6)
    assert far_over.pace == pytest.approx(700)


ROOM_WITH_A_MAXIMUM = replace(AUTO, max_users_per_minute=2880)  # the capacity a ramp measured


def test_newcomers_arriving_faster_than_the_rooms_maximum_engage_it_at_that_maximum_before_any_signal_rises():
    below, _ = decide(CALM, **CALM_FIGURES, config=ROOM_WITH_A_MAXIMUM, admitted_per_minute=2800)
    past, _ = decide(CALM, **CALM_FIGURES, config=ROOM_WITH_A_MAXIMUM, admitted_per_minute=4800)

    assert not below.engaged and below.pace == 2880
    assert past.engaged and past.pace == 2880 and past.decreased_at == 1000
    assert "newcomers arrive at 4800 a minute, past the room's maximum of 2880" in past.reason


def test_a_surge_of_newcomers_over_the_last_seconds_engages_the_room_before_the_window_shows_it():
    surging, _ = decide(
        CALM, **CALM_FIGURES, config=ROOM_WITH_A_MAXIMUM, admitted_per_minute=1500, surge_per_minute=3600
    )

    assert surging.engaged and surging.pace == 2880
    assert "newcomers arrive at 3600 a minute" in surging.reason


def test_engaged_a_signal_over_its_target_by_less_than_the_dead_band_holds_the_pace_and_cuts_nothing():
    engaged = Decision(True, 1000, {}, "", decreased_at=500)

    held, _ = step(engaged, latency=0.54, admitted=1000)  # 8% over its 500 ms target

    assert held.engaged and held.pace == 1000 and held.decreased_at == 500
    assert "by less than the dead band: the pace holds" in held.reason


def test_an_engaged_room_climbs_no_higher_than_its_maximum():
    climbed, _ = decide(
        Decision(True, 2870, {}, ""), **CALM_FIGURES, config=ROOM_WITH_A_MAXIMUM, admitted_per_minute=2870
    )

    assert climbed.engaged and climbed.pace == 2880


def test_a_pace_that_is_not_used_does_not_climb():
    held, _ = step(Decision(True, 300, {}, ""), latency=0.2, admitted=100, waiting=0)

    assert held.engaged and held.pace == 300
    assert "not used" in held.reason


def test_the_room_lets_go_only_after_staying_calm_a_while_with_nobody_waiting(settings):
    settings.RESILIENCE_WAITINGROOM_ADAPTIVE_RELEASE_SECONDS = 30
    engaged = Decision(True, 300, {}, "")

    _, calm_since = step(engaged, latency=0.1, now=1000)
    still, _ = step(engaged, latency=0.1, now=1020, calm_since=calm_since)
    with_a_queue, _ = step(engaged, latency=0.1, now=1040, calm_since=calm_since, waiting=5)
    released, _ = step(engaged, latency=0.1, now=1040, calm_since=calm_since)
    not_calm_enough, since = step(engaged, latency=0.3, now=1040, calm_since=calm_since)  # under target, over half

    assert calm_since == 1000 and still.engaged and with_a_queue.engaged
    assert not released.engaged and released.pace == SAFETY_MAX
    assert not_calm_enough.engaged and since == 0


AUTO_ROOM = {"target_latency_ms": 500, "min_users_per_minute": 6}
WINDOW_SECONDS = 10


@pytest.fixture
def auto_room(db):
    with override_waitingroom("auto", **AUTO_ROOM) as config:
        yield config


def arrive(count: int, first: int = 1) -> list:
    """``count`` new visitors, each from an address of their own, open the catalog and its page script's call."""
    browsers = [Client(REMOTE_ADDR=f"198.51.100.{first + n}") for n in range(count)]
    return [(browser.get(CATALOG), browser.get(CART_STATE))[1] for browser in browsers]


def overloaded(seconds: float = 2.0) -> None:
    """This process saw slow checkouts, as the middleware notes each request to a watched path."""
    adaptive.pressure.reset()  # and publishes at its next chance
    adaptive.current.clear()
    room_redis().delete(room_key("adaptive:lock"))  # a second later: the next request may steer
    for _ in range(20):
        adaptive.pressure.observe("latency", seconds)


@pytest.mark.django_db
def test_auto_mode_lets_in_every_newcomer_while_the_shop_keeps_up_whatever_on_modes_numbers(product):
    with override_waitingroom("auto", total_active_users=3, new_users_per_minute=1, **AUTO_ROOM):
        responses = arrive(30)

    assert not any(is_queued(response) for response in responses)


@pytest.mark.django_db
def test_past_capacity_auto_mode_paces_newcomers_at_what_it_was_admitting_and_queues_the_excess(auto_room, product):
    arrive(20)  # 20 let in within the window: 120 a minute

    overloaded()
    arrive(1, first=100)  # the request that publishes and steers, before it is itself let in
    newcomers = arrive(5, first=101)

    decision = adaptive.read_decision()[0]
    assert decision.engaged and decision.pace == pytest.approx(20 * 60 / WINDOW_SECONDS * 0.7)
    assert decision.measured["latency"] == pytest.approx(2.0)
    assert sum(is_queued(response) for response in newcomers) >= 3  # a pace of ~2.5 a second lets in 2 at most


@pytest.mark.django_db
def test_open_it_counts_every_newcomer_once_even_those_whose_pages_any_cache_could_keep(auto_room, product):
    browsers = [Client(REMOTE_ADDR=f"198.51.100.{n}") for n in range(1, 31)]
    pages = [browser.get(CATALOG) for browser in browsers]  # cacheable: no pass given, no admission
    pages += [browser.get(CATALOG) for browser in browsers[:10]]  # the same ten again: counted once

    overloaded()
    arrive(1, first=100)  # publishes this process's newcomers, then steers

    assert not any(page.cookies for page in pages)
    assert room_redis().zcard(room_key("admissions")) == 1  # only the last one's page script took a pass
    assert adaptive.read_decision()[0].pace == pytest.approx(30 * 60 / WINDOW_SECONDS * 0.7, rel=0.02)


@pytest.mark.django_db
def test_every_process_sees_when_the_pace_was_cut_so_none_cuts_it_again_within_the_window(auto_room, product):
    arrive(20)
    overloaded()
    arrive(1, first=100)  # the first cut, stored in Redis
    overloaded()  # another process, a second later, still over target
    arrive(1, first=101)

    decision = adaptive.read_decision()[0]
    assert decision.pace == pytest.approx(20 * 60 / WINDOW_SECONDS * 0.7)  # cut once, not twice
    assert decision.decreased_at == pytest.approx(time.time(), abs=30)
    assert "holds until that shows" in decision.reason


@pytest.mark.django_db
def test_every_process_sees_since_when_a_signal_has_been_over_its_target_while_the_room_is_open(auto_room, product):
    arrive(20)
    overloaded(0.6)  # 20% over its 500 ms target: not yet an overload
    arrive(1, first=100)
    first = adaptive.read_decision()[0]
    overloaded(0.6)  # another process, a second later
    arrive(1, first=101)

    decision = adaptive.read_decision()[0]
    assert not decision.engaged and decision.over_since == first.over_since == pytest.approx(time.time(), abs=30)
    assert "the room engages if it stays over" in decision.reason


@pytest.mark.django_db
def test_status_and_metrics_say_why_the_room_is_engaged(product, capsys, client):
    # The command reads the database's row: switch the room as an operator would.
    call_command("waitingroom", "auto", "--target-latency-ms", "500", "--min-users-per-minute", "6")
    config_cache.clear()
    arrive(10)
    overloaded()
    arrive(1, first=100)

    call_command("waitingroom", "status")
    metrics = client.get("/metrics").content.decode()

    assert "adaptive: engaged, pace 42/min: latency p95 2000 ms is over its target of 500 ms" in capsys.readouterr().out
    assert "stampede_waitingroom_adaptive_engaged 1.0" in metrics
    assert 'stampede_waitingroom_adaptive_measured_seconds{signal="latency"} 2.0' in metrics
    assert 'stampede_waitingroom_adaptive_target_seconds{signal="latency"} 0.5' in metrics
    assert "stampede_waitingroom_pace_per_minute 42.0" in metrics


@pytest.mark.django_db
def test_the_command_sets_the_rooms_maximum_and_refuses_one_under_its_minimum(capsys):
    call_command("waitingroom", "auto", "--min-users-per-minute", "60", "--max-users-per-minute", "2880")
    with pytest.raises(CommandError, match="^The most visitors let in per minute cannot be under the least"):
        call_command("waitingroom", "auto", "--max-users-per-minute", "30")

    assert "at least 60/min, at most 2880/min" in capsys.readouterr().out
    assert RoomConfig.from_model(WaitingRoomConfig.load()).max_users_per_minute == 2880


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
