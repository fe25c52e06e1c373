"""The house standard for bad input, as assertions: a clear 4xx in words, nothing changed, no trace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.test import Client

from shop.models import Order, OrderLine, Product
from shop.selectors import cart_quantities

TRACE_MARKS = (b"Traceback", b'File "', b"Exception Value", b"psycopg", b"django.db")


@contextmanager
def example_rolled_back() -> Iterator[None]:
    """Run one Hypothesis example in a savepoint, rolled back: every example starts from the same shelf."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def cart_of(client: Client) -> dict[int, int]:
    """The cart the client's session holds; reading it never gives a cookieless client a session."""
    if settings.SESSION_COOKIE_NAME not in client.cookies:
        return {}
    return cart_quantities(client.session)


def posted(form: dict) -> QueryDict:
    """``form`` as the view receives it: a repeated name reads as its last value."""
    data = QueryDict(mutable=True)
    for name, value in form.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


@dataclass(frozen=True)
class ShopState:
    """What bad input must never change: the orders, the stock, the visitor's cart."""

    orders: int
    lines: int
    stock: tuple[tuple[int, int], ...]
    cart: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, client: Client) -> ShopState:
        return cls(
            Order.objects.count(),
            OrderLine.objects.count(),
            tuple(Product.objects.order_by("pk").values_list("pk", "stock")),
            tuple(sorted(cart_of(client).items())),
        )


def answered(response, *allowed: int) -> None:
    """One of the ``allowed`` statuses (any under 500 if none given), never a stack trace.

    A 5xx is right only where the test allows it: a deliberate 503 that says when to come back.
    """
    assert response.status_code in allowed if allowed else response.status_code < 500, response.status_code
    if response.status_code >= 500:
        assert response.status_code == 503 and response.has_header("Retry-After"), response.status_code
    body = getattr(response, "content", b"")
    assert not any(mark in body for mark in TRACE_MARKS), body[:500]


def refused_in_words(response, message: str, status: int = 400) -> None:
    """A 4xx page that tells the visitor what was wrong."""
    answered(response, status)
    assert message in response.content.decode(), response.content[:500]
