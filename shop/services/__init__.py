"""Writes. Each service is typed, takes keyword arguments and runs in a transaction."""
