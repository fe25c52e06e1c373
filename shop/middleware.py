"""Tell the page script when the visitor's own state (/cart/state/) may have changed.

Pages are cached for everyone, so their script asks /cart/state/ for the visitor's part: cart
count, pending messages, CSRF token. Asked on every page view, it was the shop's busiest dynamic
request, many times the orders (`make loadtest` counts both). What it answers comes from
the session and the CSRF cookie alone, so a response that leaves both cookies untouched cannot
have changed it. This middleware gives every response that changes either cookie a new random
version in a cookie the script can read; the script keeps the last answer in the tab's
sessionStorage and asks again only when the version it saw has changed. A visitor with no version
yet has no session, so an empty cart and no messages: the script asks only for the CSRF token,
when a form is sent.

Place it above SessionMiddleware and CsrfViewMiddleware: it must see the cookies they set.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CART_STATE_VERSION_COOKIE = "cart_state_version"  # read by shop/static/shop/js/cart-state.js


def cart_state_may_have_changed(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether ``response`` sets or deletes the session cookie, or gives the CSRF cookie a new value."""
    if settings.SESSION_COOKIE_NAME in response.cookies:
        return True  # set again whenever the session changed, even under the same key
    if settings.SESSION_COOKIE_NAME in request.COOKIES and CART_STATE_VERSION_COOKIE not in request.COOKIES:
        return True  # a session from before this cookie: without a version the script would take it for empty
    # Django sends the CSRF cookie again whenever a token is used, to renew it: only a new value counts.
    csrf = response.cookies.get(settings.CSRF_COOKIE_NAME)
    return csrf is not None and csrf.value != request.COOKIES.get(settings.CSRF_COOKIE_NAME)


class CartStateVersionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if cart_state_may_have_changed(request, response):
            # Not HttpOnly: the page script reads it. It is a random name for "changed", no secret.
            response.set_cookie(
                CART_STATE_VERSION_COOKIE,
                secrets.token_urlsafe(9),
                max_age=settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
            )
        return response
