"""`manage.py nginx_page_cache_keys`: print the microcache's key map (deploy/nginx/page-cache-keys.conf)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from resilience.edgekeys import nginx_page_cache_keys


class Command(BaseCommand):
    help = "Print nginx's page cache key map, rendered from the views' cache_public_page(query=...) declarations."

    def handle(self, *args, **options) -> None:
        self.stdout.write(nginx_page_cache_keys(), ending="")
