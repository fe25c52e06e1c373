"""Order reads: an order by its status link or by its checkout's idempotency key."""

from __future__ import annotations

from uuid import UUID

from shop.models import Order


def order_get_by_token(*, token: str) -> Order | None:
    return Order.objects.prefetch_related("lines").filter(access_token=token).first()


def order_get_by_idempotency_key(*, key: UUID) -> Order | None:
    return Order.objects.filter(idempotency_key=key).first()
