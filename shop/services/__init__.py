"""Writes. Each service is typed and takes keyword arguments.

Not every service runs in a transaction. A write of several rows runs in ``transaction.atomic``
(placing an order, failing or confirming one); a write of one row is a single conditional UPDATE,
atomic by itself (stock, leases, shipping); the cart is written to the session, not the database.
Two services string such steps together on purpose: ``order_process`` calls the payment gateway
outside any transaction, and ``checkout`` empties the cart and frees the waiting room slot after
the order is committed.
"""
