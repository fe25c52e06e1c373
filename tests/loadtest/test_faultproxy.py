"""The chaos suite's fault proxy, in front of this machine's real Redis."""

from __future__ import annotations

import socket

import pytest
import redis

from loadtest.faultproxy import FaultProxy


def test_the_proxy_passes_traffic_through_until_cut_and_again_once_restored():
    with FaultProxy(upstream=("127.0.0.1", 6379)) as proxy:
        client = redis.Redis(port=proxy.port, socket_connect_timeout=2, socket_timeout=2)
        assert client.ping()

        proxy.cut()
        with pytest.raises(redis.ConnectionError):
            client.ping()  # the open connection is dropped, and a new one refused
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2)

        proxy.restore()
        assert client.ping()
        assert not proxy.is_cut


def test_an_unreachable_upstream_is_a_closed_connection_not_a_hang():
    dead_port = FaultProxy(upstream=("127.0.0.1", 9)).port  # a free port: nothing listens there
    with FaultProxy(upstream=("127.0.0.1", dead_port)) as proxy:
        client = redis.Redis(port=proxy.port, socket_connect_timeout=2, socket_timeout=2)
        with pytest.raises(redis.ConnectionError):
            client.ping()
