"""Checkout and the order status page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from resilience.waitingroom.api import waitingroom_release
from shop import selectors
from shop.forms import CheckoutForm, checkout_token_new
from shop.selectors import Cart
from shop.services.cart import cart_clear
from shop.services.checkout import CheckoutConflict, CustomerDetails, EmptyCart, OutOfStock, order_place

EMPTY_CART = "Your cart is empty. Add something before checking out."


@never_cache  # private, no-store: a customer's cart and details are nobody else's to keep
@require_http_methods(["GET", "HEAD", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    cart = selectors.cart_get(request.session)
    session_key = request.session.session_key  # the checkout token is valid in this session only
    if request.method != "POST":
        if not cart.lines:
            if session_key:  # a visitor who holds nothing gets no session for a message
                messages.info(request, EMPTY_CART)
            return redirect("shop:cart")
        form = CheckoutForm(initial={"token": checkout_token_new(session_key)}, session_key=session_key)
        return _checkout_page(request, cart, form)

    form = CheckoutForm(request.POST, session_key=session_key)
    if not form.is_valid():
        if "token" in form.errors:
            _renew_token(form, session_key)
        return _checkout_page(request, cart, form, status=400)
    details = CustomerDetails(**{name: value for name, value in form.cleaned_data.items() if name != "token"})
    try:
        order = order_place(idempotency_key=form.cleaned_data["token"], cart=cart.quantities, customer=details)
    except OutOfStock as error:
        messages.error(request, str(error))
        return redirect("shop:cart")
    except EmptyCart:
        messages.info(request, EMPTY_CART)
        return redirect("shop:cart")
    except CheckoutConflict as error:
        _renew_token(form, session_key)
        return _checkout_page(request, cart, form, status=409, checkout_error=str(error))
    cart_clear(session=request.session)
    response = redirect(order.get_absolute_url())
    # The pass is a cookie, so freeing the slot needs the response that drops it.
    waitingroom_release(request, response)  # done shopping: their place goes to the next in line
    return response


def _renew_token(form: CheckoutForm, session_key: str | None) -> None:
    """Give a form shown again a fresh token: the one it carried is spent or invalid."""
    form.data = form.data.copy()
    form.data["token"] = checkout_token_new(session_key)


def _checkout_page(request: HttpRequest, cart: Cart, form: CheckoutForm, *, status: int = 200, **extra) -> HttpResponse:
    context = {"cart": cart, "form": form, "demo_payments": settings.SHOP_DEMO_PAYMENTS, **extra}
    return render(request, "shop/checkout.html", context, status=status)


@never_cache
@require_safe
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    order = selectors.order_get_by_token(token=token)
    if order is None:
        raise Http404("No such order.")
    return render(request, "shop/order_status.html", {"order": order})
