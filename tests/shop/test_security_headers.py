"""A Content-Security-Policy on every page, pages it need not weaken, and a CSRF cookie scripts cannot read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from resilience.waitingroom.config import config_cache
from resilience.waitingroom.models import WaitingRoomConfig
from tests.shop.helpers import add_to_cart

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)
# Inline code a policy of 'self' would block: a <script> without src, a <style> element,
# a style="" attribute, an on...="" handler.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.I)
# The busy page is answered by the load-shedding middleware, before the policy's middleware.
ANSWERED_BEFORE_THE_POLICY = {"resilience/templates/resilience/busy.html"}


def policy(response) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def test_every_page_of_the_shop_allows_only_its_own_scripts_styles_and_forms(client, product):
    add_to_cart(client, product, 1)
    for url in (
        reverse("shop:product_list"),
        product.get_absolute_url(),
        reverse("shop:cart"),
        reverse("shop:checkout"),
    ):
        directives = policy(client.get(url))

        assert directives["default-src"] == ["'self'"], url
        assert directives["form-action"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-inline'" not in str(directives) and "'unsafe-eval'" not in str(directives), url


def test_the_waiting_room_page_carries_the_policy_and_its_styles_come_from_a_file(product):
    row = WaitingRoomConfig.load()
    row.mode, row.total_active_users = "on", 1
    row.save()
    config_cache.clear()
    Client(REMOTE_ADDR="198.51.100.1").get(reverse("shop:product_list"))  # takes the only place

    queued = Client(REMOTE_ADDR="198.51.100.2").get(reverse("shop:product_list"))

    assert b"You are in line" in queued.content
    assert policy(queued)["default-src"] == ["'self'"]
    assert b'rel="stylesheet" href="/static/resilience/waitingroom.css"' in queued.content


TEMPLATES = sorted(
    str(path.relative_to(ROOT))
    for folder in ("shop/templates", "resilience/templates")
    for path in (ROOT / folder).rglob("*.html")
)


@pytest.mark.parametrize("template", [name for name in TEMPLATES if name not in ANSWERED_BEFORE_THE_POLICY])
def test_no_template_needs_inline_script_or_style(template):
    assert not INLINE.search((ROOT / template).read_text()), template


def test_the_csrf_cookie_is_out_of_reach_of_scripts_and_the_token_comes_from_cart_state(client):
    response = client.get(reverse("shop:cart_state"))

    assert response.cookies["csrftoken"]["httponly"] is True
    assert response.json()["csrfToken"]
