"""One check per dependency. Each overrides ``check()`` and raises HealthCheckFailed.

Messages are fixed words, never exception text: /readyz is reachable by anyone and
must not leak hostnames or credentials. Details go to the log.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import caches
from django.db import connections

from resilience.broker import broker_connection, broker_is_eager
from resilience.conf import get_setting

logger = logging.getLogger(__name__)


class HealthCheckFailed(Exception):
    """The dependency did not answer correctly in time."""


class HealthCheck:
    name: str = "check"
    component_type: str = "component"

    def check(self) -> None:
        """Return if the dependency is usable; raise HealthCheckFailed if not."""
        raise NotImplementedError


class DatabaseCheck(HealthCheck):
    name = "database"
    component_type = "datastore"

    def check(self) -> None:
        timeout_ms = int(get_setting("HEALTH_CHECK_TIMEOUT_SECONDS") * 1000)
        connection = connections["default"]
        try:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET statement_timeout = %s", [timeout_ms])
                cursor.execute("SELECT 1")
                cursor.fetchone()
                if connection.vendor == "postgresql":
                    cursor.execute("RESET statement_timeout")
        except Exception as error:
            logger.warning("Database health check failed: %r", error)
            # A broken persistent connection must not be reused by the next request.
            connection.close_if_unusable_or_obsolete()
            raise HealthCheckFailed("database unavailable") from error


class CacheCheck(HealthCheck):
    name = "cache"
    component_type = "datastore"

    def check(self) -> None:
        cache = caches[get_setting("CACHE_ALIAS")]
        key, value = "resilience:health", uuid.uuid4().hex
        try:
            cache.set(key, value, timeout=10)
            # django-redis may be set to swallow errors: a read-back proves it worked.
            if cache.get(key) != value:
                raise HealthCheckFailed("cache unavailable")
        except HealthCheckFailed:
            raise
        except Exception as error:
            logger.warning("Cache health check failed: %r", error)
            raise HealthCheckFailed("cache unavailable") from error


class BrokerCheck(HealthCheck):
    name = "broker"
    component_type = "system"

    def check(self) -> None:
        if broker_is_eager():
            return  # no broker: tasks run in-process
        try:
            with broker_connection(timeout=get_setting("HEALTH_CHECK_TIMEOUT_SECONDS")):
                pass
        except Exception as error:
            logger.warning("Broker health check failed: %r", error)
            raise HealthCheckFailed("broker unavailable") from error
