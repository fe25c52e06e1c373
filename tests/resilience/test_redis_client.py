"""The Redis circuit breaker: after a few connection failures, calls fail at once until a trial succeeds."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from resilience.redis_client import CircuitBreakerRedis, breaker_for
from tests.resilience.helpers import eventually


@pytest.fixture
def breaker_settings(settings):
    settings.RESILIENCE_REDIS_BREAKER_FAILURES = 3
    settings.RESILIENCE_REDIS_BREAKER_RESET_SECONDS = 0.2


def client_of(server) -> CircuitBreakerRedis:
    return CircuitBreakerRedis(port=server.port, socket_connect_timeout=0.25, socket_timeout=0.25)


def circuit(server) -> str:
    return breaker_for(("localhost", server.port, None, 0)).current_state


def refusals(client) -> list[str]:
    messages = []
    for _ in range(5):
        with pytest.raises(RedisConnectionError) as refused:
            client.get("k")
        messages.append("circuit open" if "circuit open" in str(refused.value) else "failed")
    return messages


def test_after_three_failures_the_circuit_opens_and_calls_fail_at_once(redis_server, breaker_settings):
    client = client_of(redis_server)
    redis_server.stop()

    # The third failure opens the circuit (pybreaker says so instead of the failure itself).
    assert refusals(client) == ["failed", "failed", "circuit open", "circuit open", "circuit open"]
    assert circuit(redis_server) == "open"


def test_a_wrong_type_reply_is_a_bug_not_an_outage_and_leaves_the_circuit_closed(redis_server, breaker_settings):
    client = client_of(redis_server)
    client.set("text", "x")

    for _ in range(5):
        with pytest.raises(ResponseError):
            client.lpush("text", "y")

    assert circuit(redis_server) == "closed" and client.get("text") == b"x"


def test_once_redis_is_back_a_trial_call_closes_the_circuit(redis_server, breaker_settings):
    client = client_of(redis_server)
    redis_server.stop()
    refusals(client)
    redis_server.start()

    def answers() -> bool:
        try:
            return client.ping()
        except RedisConnectionError:
            return False  # still open: the reset time has not passed

    eventually(answers)
    assert circuit(redis_server) == "closed"
