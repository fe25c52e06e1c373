"""A customer's steps through a stack's nginx, for the stack tests."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from tests.conftest import CUSTOMER


def get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str]:
    opener = opener or urllib.request.build_opener()
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def place_order(base_url: str) -> tuple[str, urllib.request.OpenerDirector]:
    """Buy one kitchen product as a browser would; return the URL checkout sent it to, and the browser."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    _, catalog = get(f"{base_url}/category/kitchen/", opener)
    product_path = re.search(r'href="(/products/[^"]+/)"', catalog).group(1)
    _, product_page = get(base_url + product_path, opener)
    product_id = re.search(r'name="product_id" value="(\d+)"', product_page).group(1)
    csrf = json.loads(get(f"{base_url}/cart/state/", opener)[1])["csrfToken"]  # as cart-state.js does

    def post(path: str, fields: dict[str, str]) -> str:
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": csrf}).encode()
        request = urllib.request.Request(base_url + path, data=data, headers={"Referer": base_url + "/"})
        with opener.open(request, timeout=10) as response:
            return response.geturl()

    post("/cart/add/", {"product_id": product_id, "quantity": "1"})
    _, checkout_page = get(f"{base_url}/checkout/", opener)
    token = re.search(r'name="token" value="([^"]+)"', checkout_page).group(1)
    return post("/checkout/", {**CUSTOMER, "token": token}), opener
