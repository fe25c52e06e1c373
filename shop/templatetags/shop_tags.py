"""Template helpers: money formatting and generated placeholder images."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


@register.simple_tag
def money(amount: Decimal, currency: str) -> str:
    """Format an amount as ``€1,234.50`` (or ``1,234.50 CHF`` for currencies without a symbol)."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


@register.filter
def placeholder_hue(product_id: int) -> int:
    """Return a stable colour hue for a product's generated picture."""
    return (int(product_id) * 47) % 360


@register.filter
def initials(name: str) -> str:
    # The last words name the thing ("Camp Stove"); the first are adjectives shared by many.
    return "".join(word[0] for word in name.split()[-2:]).upper()
