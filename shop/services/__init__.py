"""Writes, named ``<entity>_<action>``. Each is typed and takes keyword arguments only; it takes and
returns domain values (never a request or a response: that is the view's part).

Not every service runs in a transaction. A write of several rows runs in ``transaction.atomic``
(placing an order, failing or confirming one); a write of one row is a single conditional UPDATE,
atomic by itself (stock, leases, shipping); the cart is written to the session, not the database.
Two services string such steps together on purpose: ``order_process`` calls the payment gateway
outside any transaction, and the checkout view empties the cart (``cart_clear``) and frees the
waiting room slot only after ``order_place`` has committed the order.
"""
