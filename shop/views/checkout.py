"""Checkout and the order status page."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from resilience.waitingroom.api import waitingroom_release
from shop import selectors
from shop.forms import CheckoutForm, checkout_token_new
from shop.services.cart import cart_clear
from shop.services.checkout import CheckoutConflict, CustomerDetails, EmptyCart, OutOfStock, order_place


@require_http_methods(["GET", "HEAD", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    cart = selectors.cart_get(request.session)
    if request.method != "POST":
        if not cart.lines:
            messages.info(request, "Your cart is empty. Add something before checking out.")
            return redirect("shop:cart")
        form = CheckoutForm(initial={"token": checkout_token_new()})
        return render(request, "shop/checkout.html", {"cart": cart, "form": form})

    form = CheckoutForm(request.POST)
    if not form.is_valid():
        if "token" in form.errors:
            form.data = form.data.copy()
            form.data["token"] = checkout_token_new()
        return render(request, "shop/checkout.html", {"cart": cart, "form": form}, status=400)
    details = {name: value for name, value in form.cleaned_data.items() if name != "token"}
    try:
        order = order_place(idempotency_key=form.cleaned_data["token"], cart=cart.quantities, customer=CustomerDetails(**details))
    except OutOfStock as error:
        messages.error(request, str(error))
        return redirect("shop:cart")
    except EmptyCart:
        messages.info(request, "Your cart is empty. Add something before checking out.")
        return redirect("shop:cart")
    except CheckoutConflict as error:
        form.data = form.data.copy()
        form.data["token"] = checkout_token_new()
        return render(request, "shop/checkout.html", {"cart": cart, "form": form, "checkout_error": str(error)}, status=409)
    cart_clear(session=request.session)
    response = redirect(order.get_absolute_url())
    waitingroom_release(request, response)  # done shopping: their place goes to the next in line
    return response


@require_safe
def order_status(request: HttpRequest, token: str) -> HttpResponse:
    order = selectors.order_get_by_token(token=token)
    if order is None:
        raise Http404("No such order.")
    return render(request, "shop/order_status.html", {"order": order})
