"""Cart pages: show, add, change quantity, remove."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from shop import selectors
from shop.forms import AddToCartForm, CartQuantityForm
from shop.services import cart as cart_services
from shop.views.errors import bad_request


@never_cache
@require_safe
def cart_detail(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/cart.html", {"cart": selectors.cart_get(request.session)})


@never_cache
@require_safe
def cart_state(request: HttpRequest) -> JsonResponse:
    """The per-visitor part of a page cached for everyone: cart count, messages, CSRF token."""
    pending = [{"level": message.tags, "text": str(message)} for message in messages.get_messages(request)]
    return JsonResponse(
        {"count": selectors.cart_item_count(request.session), "messages": pending, "csrfToken": get_token(request)}
    )


@never_cache
@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        return _cart_error(request, form)
    product = selectors.product_get_by_id(product_id=form.cleaned_data["product_id"])
    if product is None:
        return bad_request(request, "That product does not exist or is no longer sold.")
    try:
        cart_services.cart_add(session=request.session, product=product, quantity=form.cleaned_data["quantity"])
    except ValidationError as error:
        return render(
            request,
            "shop/product_detail.html",
            {"product": product, "form": form, "cart_error": error.message},
            status=400,
        )
    messages.success(request, f"Added {form.cleaned_data['quantity']} × {product.name} to your cart.")
    return redirect("shop:cart")


@never_cache
@require_POST
def cart_update(request: HttpRequest, product_id: int) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    if not form.is_valid():
        return _cart_error(request, form)
    product = selectors.product_get_by_id(product_id=product_id)
    if product is None:
        return bad_request(request, "That product does not exist or is no longer sold.")
    try:
        cart_services.cart_set_quantity(
            session=request.session, product=product, quantity=form.cleaned_data["quantity"]
        )
    except ValidationError as error:
        return _cart_error(request, error.message)
    messages.success(request, f"Updated the quantity of {product.name}.")
    return redirect("shop:cart")


@never_cache
@require_POST
def cart_remove(request: HttpRequest, product_id: int) -> HttpResponse:
    cart_services.cart_remove(session=request.session, product_id=product_id)
    messages.success(request, "Removed the item from your cart.")
    return redirect("shop:cart")


def _cart_error(request: HttpRequest, error) -> HttpResponse:
    if not isinstance(error, str):
        error = " ".join(message for messages_ in error.errors.values() for message in messages_)
    context = {"cart": selectors.cart_get(request.session), "cart_error": error}
    return render(request, "shop/cart.html", context, status=400)
