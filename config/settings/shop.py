"""The shop's own settings: its name, currency, orders and the (fake) payment gateway."""

from __future__ import annotations

from .env import env

SHOP_NAME = env.str("SHOP_NAME", default="Stampede")
SHOP_BASE_URL = env.str("SHOP_BASE_URL", default="http://127.0.0.1:8000")  # for links in emails
SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="EUR")
SHOP_MAX_QUANTITY_PER_LINE = env.int("SHOP_MAX_QUANTITY_PER_LINE", default=20)
SHOP_PRODUCTS_PER_PAGE = 24
# A worker's task claims an order before working on it (shop/services/leases.py), for the task's
# time limit and this margin; once that lapses (the worker died) the sweeper queues it again.
SHOP_ORDER_LEASE_MARGIN_SECONDS = env.int("SHOP_ORDER_LEASE_MARGIN_SECONDS", default=10)
# An order no worker has claimed this long after checkout (the broker was down, the message was
# lost with its worker) is queued again; so is one queued again this long ago and still unclaimed.
SHOP_ORDER_UNCLAIMED_AFTER_SECONDS = env.int("SHOP_ORDER_UNCLAIMED_AFTER_SECONDS", default=30)
SHOP_PAYMENT_GATEWAY = env.str("SHOP_PAYMENT_GATEWAY", default="shop.payments.FakeGateway")
FAKE_PAYMENT_GATEWAY = "shop.payments.FakeGateway"
# A demo shop: the fake processor approves orders nobody paid for, and checkout says so.
# Production settings refuse the fake processor unless this is set (make stack, compose).
SHOP_DEMO_PAYMENTS = env.bool("SHOP_DEMO_PAYMENTS", default=SHOP_PAYMENT_GATEWAY == FAKE_PAYMENT_GATEWAY)
# The fake gateway's behaviour, for development and tests: approve, decline, delay, unavailable.
SHOP_FAKE_PAYMENT_OUTCOME = env.str("SHOP_FAKE_PAYMENT_OUTCOME", default="approve")
SHOP_FAKE_PAYMENT_DELAY_SECONDS = env.float("SHOP_FAKE_PAYMENT_DELAY_SECONDS", default=2.0)
# Where the fake gateway keeps its record of charges: empty for this process's memory, or
# a SQLite file every process of a stack shares, as a real provider's one record.
SHOP_FAKE_PAYMENT_LEDGER = env.str("SHOP_FAKE_PAYMENT_LEDGER", default="")
