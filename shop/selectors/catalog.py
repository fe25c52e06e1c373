"""Catalog reads: categories, listing pages and products, cached under one namespace."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet

from resilience.caching import cached
from shop.models import Category, Product

# Every catalog read is cached under this namespace; any catalog edit bumps it (signals.py).
# Stock changes at checkout do not: stock shown in lists may lag by up to the cache timeout
# (a minute), and the cart and checkout always check stock against the database.
CATALOG = "catalog"

SORT_ORDERS = {
    "name": ("name", "id"),
    "price": ("price", "id"),
    "-price": ("-price", "id"),
    "newest": ("-created_at", "-id"),
}


def category_list() -> list[Category]:
    """Return every category, for navigation."""
    return cached(CATALOG, "categories", lambda: list(Category.objects.only("id", "name", "slug")))


def category_get(*, slug: str) -> Category | None:
    return cached(CATALOG, f"category:{slug}", lambda: Category.objects.filter(slug=slug).first())


def product_list(*, category: Category | None = None, query: str = "", sort: str = "name") -> QuerySet[Product]:
    """Return active products, optionally in one category or matching a search query (not cached)."""
    products = Product.objects.filter(is_active=True).select_related("category")
    if category is not None:
        products = products.filter(category=category)
    for word in query.split()[:8]:
        products = products.filter(Q(name__icontains=word) | Q(description__icontains=word))
    return products.order_by(*SORT_ORDERS.get(sort, SORT_ORDERS["name"]))


@dataclass(frozen=True, slots=True)
class ProductCard:
    """What a listing shows of a product: plain values, quick to cache and to read back."""

    pk: int
    name: str
    url: str
    price: Decimal
    currency: str
    stock: int
    image_url: str
    category_name: str

    @classmethod
    def from_product(cls, product: Product) -> ProductCard:
        return cls(
            product.pk,
            product.name,
            product.get_absolute_url(),
            product.price,
            product.currency,
            product.stock,
            product.image_url,
            product.category.name,
        )

    def get_absolute_url(self) -> str:
        return self.url

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


@dataclass(frozen=True)
class ProductPage:
    """One page of a product listing, small enough to cache (unlike a Paginator and its queryset)."""

    object_list: list[ProductCard]
    number: int
    num_pages: int
    count: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def product_page(*, category: Category | None, query: str, sort: str, number: int, per_page: int) -> ProductPage | None:
    """Return one page of a listing, or None if there is no such page."""

    def compute() -> ProductPage | None:
        paginator = Paginator(product_list(category=category, query=query, sort=sort), per_page)
        if number > max(paginator.num_pages, 1):
            return None
        page = paginator.page(number)
        cards = [ProductCard.from_product(product) for product in page.object_list]
        return ProductPage(cards, number, paginator.num_pages, paginator.count)

    words = " ".join(query.lower().split())
    key = f"products:{category.pk if category else '*'}:{sort}:{per_page}:{number}:{words}"
    return cached(CATALOG, key, compute)


def product_get(*, slug: str) -> Product | None:
    return cached(
        CATALOG,
        f"product:{slug}",
        lambda: Product.objects.select_related("category").filter(slug=slug, is_active=True).first(),
    )


def product_get_by_id(*, product_id: int) -> Product | None:
    """Return the product with this id if it is still sold; from the database, since the cart checks its stock."""
    return Product.objects.filter(pk=product_id, is_active=True).first()
