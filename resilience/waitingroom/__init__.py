"""The waiting room: a fair virtual queue in front of the shop, shared by every replica.

Configured in the database (admin, `manage.py waitingroom`); its state lives in Redis and
changes in single atomic steps (the Lua scripts beside room.lua, and one ZREM to free a
slot), so N replicas behave as one room.
"""
