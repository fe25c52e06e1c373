"""The shop's URLs plus reference views, for `make bench` only (ROOT_URLCONF=loadtest.bench_urls).

The cheapest possible Django view, the simplest uncached page of 24 products, and the catalog without
its page cache (a page-cache miss: rendered each time, the query and fragment caches beneath it warm).
"""

from inspect import unwrap

from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as shop_urlpatterns
from shop.models import Product
from shop.views.catalog import product_list

MINIMAL_PAGE = Template(
    "<!doctype html><title>Products</title><ul>{% for p in products %}<li>{{ p.name }} {{ p.price }}</li>{% endfor %}</ul>"
)


def constant(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def minimal_products(request: HttpRequest) -> HttpResponse:
    products = Product.objects.filter(is_active=True).order_by("name", "id")[:24]
    return HttpResponse(MINIMAL_PAGE.render(Context({"products": products})))


urlpatterns = [
    path("bench/constant", constant),
    path("bench/minimal", minimal_products),
    path("bench/catalog-without-page-cache", unwrap(product_list)),
    *shop_urlpatterns,
]
