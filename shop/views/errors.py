"""Error pages: a clear message in the shop's layout, never a stack trace."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from shop import selectors
from shop.forms import AddToCartForm


def bad_request(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    """Render a 4xx page that says what was wrong with the request."""
    return render(request, "shop/error.html", {"title": "We could not do that", "message": message}, status=status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Refuse a POST without a valid CSRF token, offering a way on where one is safe."""
    if request.path == reverse("shop:cart_add"):
        # Product pages are cached for everyone, so their form gets its token from
        # JavaScript. Without it, show the same request again with a token, to confirm.
        form = AddToCartForm(request.POST)
        if form.is_valid():
            product = selectors.product_get_by_id(product_id=form.cleaned_data["product_id"])
            if product is not None:
                context = {"product": product, "quantity": form.cleaned_data["quantity"]}
                return render(request, "shop/confirm_add.html", context, status=403)
    message = "Your session form has expired or cookies are blocked. Please go back, reload the page and try again."
    return bad_request(request, message, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = "We could not find that page. It may have moved, or the product may no longer be sold."
    return render(request, "shop/error.html", {"title": "Page not found", "message": message}, status=404)
