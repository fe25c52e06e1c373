"""nginx's microcache key map, rendered from the views' own page-cache declarations."""

from __future__ import annotations

from pathlib import Path

from resilience.edgekeys import nginx_page_cache_keys

ROOT = Path(__file__).resolve().parents[2]


def test_nginx_keys_pages_by_the_same_declarations(settings):
    committed = (ROOT / "deploy" / "nginx" / "page-cache-keys.conf").read_text()

    assert committed == nginx_page_cache_keys(), (
        "run: python manage.py nginx_page_cache_keys > deploy/nginx/page-cache-keys.conf"
    )
    assert '"~^/$" "q=$arg_q&sort=$arg_sort&page=$arg_page";' in committed
    assert '"~^/products/(?:[-a-zA-Z0-9_]+)/$" "";' in committed  # a product page reads no parameter
