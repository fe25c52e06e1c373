"""Catalog pages: list, category, search, product detail."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from resilience.pagecache import cache_public_page
from shop import selectors
from shop.forms import AddToCartForm, CatalogQueryForm
from shop.views.errors import bad_request


@require_safe
@cache_public_page(selectors.CATALOG, query=tuple(CatalogQueryForm.base_fields))  # q, sort, page
def product_list(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """List active products, in a category or matching a search."""
    params = CatalogQueryForm(request.GET)
    if not params.is_valid():
        return bad_request(request, "That search or page is not valid. " + _first_error(params))
    category = None
    if slug is not None:
        category = selectors.category_get(slug=slug)
        if category is None:
            raise Http404("No such category.")
    query = params.cleaned_data["q"]
    sort = params.cleaned_data["sort"] or "name"
    page = selectors.product_page(
        category=category,
        query=query,
        sort=sort,
        number=params.cleaned_data["page"] or 1,
        per_page=settings.SHOP_PRODUCTS_PER_PAGE,
    )
    if page is None:
        raise Http404("That page does not exist.")
    context = {"category": category, "query": query, "sort": sort, "page": page, "public_page": True}
    return render(request, "shop/product_list.html", context)


@require_safe
@cache_public_page(selectors.CATALOG)  # reads no query parameter: every tagged link is the one page
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = selectors.product_get(slug=slug)
    if product is None:
        raise Http404("No such product.")
    form = AddToCartForm(initial={"product_id": product.pk, "quantity": 1})
    return render(request, "shop/product_detail.html", {"product": product, "form": form, "public_page": True})


def _first_error(form: CatalogQueryForm) -> str:
    return next(iter(form.errors.values()))[0]
