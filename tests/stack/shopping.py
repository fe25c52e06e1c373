"""A customer's steps through a stack's nginx, for the stack tests: the pages read with loadtest/pages.py."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request

from loadtest.pages import HIDDEN_FIELD, PRODUCT_ID, PRODUCT_LINK
from tests.conftest import CUSTOMER


def browser() -> urllib.request.OpenerDirector:
    """A client that keeps its cookies, as a browser does."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def fetch(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, dict[str, str], str]:
    """GET ``url``: the status, headers and body, whatever the status."""
    opener = opener or urllib.request.build_opener()
    try:
        with opener.open(url, timeout=15) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str]:
    status, _, body = fetch(url, opener)
    return status, body


def post(opener: urllib.request.OpenerDirector, base_url: str, path: str, fields: dict[str, str]) -> str:
    """POST a form as the page would (CSRF token from the page script's /cart/state/); the URL it ended on."""
    csrf = json.loads(get(f"{base_url}/cart/state/", opener)[1])["csrfToken"]
    data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(base_url + path, data=data, headers={"Referer": base_url + "/"})
    with opener.open(request, timeout=15) as response:
        return response.geturl()


def shopper_with_a_cart(base_url: str) -> urllib.request.OpenerDirector:
    """A visitor who put a kitchen product in the cart: they hold a session."""
    opener = browser()
    product_path = PRODUCT_LINK.search(get(f"{base_url}/category/kitchen/", opener)[1]).group(1)
    product_id = PRODUCT_ID.search(get(base_url + product_path, opener)[1]).group(1)
    post(opener, base_url, "/cart/add/", {"product_id": product_id, "quantity": "1"})
    return opener


def place_order(base_url: str) -> tuple[str, urllib.request.OpenerDirector]:
    """Buy one kitchen product as a browser would; return the URL checkout sent it to, and the browser."""
    opener = shopper_with_a_cart(base_url)
    fields = dict(HIDDEN_FIELD.findall(get(f"{base_url}/checkout/", opener)[1]))
    return post(opener, base_url, "/checkout/", {**CUSTOMER, "token": fields["token"]}), opener
