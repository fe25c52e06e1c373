"""A Redis client that stops calling a Redis that is down, for a few seconds at a time.

django-redis has no circuit breaker: during an outage each cache call would wait for
its socket timeout, several times per request. Plugged in with django-redis's
``REDIS_CLIENT_CLASS`` option; the breaker itself is pybreaker's.
"""

from __future__ import annotations

import threading

import pybreaker
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from resilience.conf import get_setting
from resilience.instruments import cache_error_count

_breakers: dict[tuple, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def _is_not_an_outage(error: BaseException) -> bool:
    # A wrong-type reply is a bug, not an outage: it must not open the circuit.
    return not isinstance(error, (RedisConnectionError, RedisTimeoutError, OSError))


def breaker_for(target: tuple) -> pybreaker.CircuitBreaker:
    """Return the one breaker this process keeps for a Redis server."""
    with _breakers_lock:
        if target not in _breakers:
            _breakers[target] = pybreaker.CircuitBreaker(
                fail_max=get_setting("REDIS_BREAKER_FAILURES"),
                reset_timeout=get_setting("REDIS_BREAKER_RESET_SECONDS"),
                exclude=[_is_not_an_outage],
                name=f"redis:{target}",
            )
        return _breakers[target]


class CircuitBreakerRedis(redis.Redis):
    """redis.Redis whose commands fail at once while the server is known to be down."""

    def execute_command(self, *args, **options):
        kwargs = self.connection_pool.connection_kwargs
        breaker = breaker_for((kwargs.get("host"), kwargs.get("port"), kwargs.get("path"), kwargs.get("db")))
        try:
            return breaker.call(super().execute_command, *args, **options)
        except pybreaker.CircuitBreakerError as error:
            # django-redis knows how to handle a connection error (IGNORE_EXCEPTIONS, or
            # ConnectionInterrupted for our own helpers); it does not know the breaker's error.
            refused = RedisConnectionError("Redis circuit open: not calling a server that is down")
            cache_error_count(refused, reason="circuit_open")
            raise refused from error
        except (RedisConnectionError, RedisTimeoutError) as error:
            # Counted here, where every alias's failures pass (sessions' too, which django-redis swallows).
            cache_error_count(error, reason="error")
            raise
