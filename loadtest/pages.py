"""What a visitor reads off the shop's pages (links, form fields, order numbers), and what it knows before them."""

from __future__ import annotations

import re
from dataclasses import dataclass

PRODUCT_LINK = re.compile(r'href="(/products/[\w-]+/)"')
CATEGORY_LINK = re.compile(r'href="(/category/[\w-]+/)"')
PRODUCT_ID = re.compile(r'name="product_id" value="(\d+)"')
HIDDEN_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
ORDER_NUMBER = re.compile(r"SP-[0-9A-Z]{4}-[0-9A-Z]{4}")
# Answers to a checkout after which a customer sends the same form again: no answer, too busy, or an
# error page. Safe whatever happened, as the form's idempotency key makes a second order impossible.
RETRYABLE = {0, 429, 500, 502, 503, 504}
CUSTOMER_FORM = {"postal_code": "1011 AB", "city": "Amsterdam", "country": "Netherlands"}


def customer_details(address: str) -> dict[str, str]:
    """The checkout form's fields for the visitor at ``address`` (each address is one customer)."""
    customer = address.replace(".", "-")
    return {
        "email": f"buyer-{customer}@loadtest.example",
        "full_name": f"Buyer {customer}",
        "address": f"{customer} Load Street",
        **CUSTOMER_FORM,
    }


@dataclass
class Catalog:
    """What visitors can know before their first page: the post's product, some links, words to search."""

    featured: str
    products: list[str]
    categories: list[str]
    words: list[str]


def page_name(url: str) -> str:
    """The group a URL's timings are reported under (each campaign click has its own URL)."""
    if "fbclid=" in url:
        return "product page (campaign link)"
    if url.startswith("/products/"):
        return "product page"
    if "q=" in url:
        return "search"
    if url.startswith("/category/"):
        return "category"
    return "catalog" if url in ("/", "") else "catalog (sorted, paged)"
