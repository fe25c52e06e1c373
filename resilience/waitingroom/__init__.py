"""The waiting room: a fair virtual queue in front of the shop, shared by every replica.

Configured in the database (admin, `manage.py waitingroom`); its state lives in Redis and
changes only through the Lua scripts in room.lua, so N replicas behave as one room.
"""
