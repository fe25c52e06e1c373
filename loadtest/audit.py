"""Before and after a load test: set the scene, then account for every order.

Runs in the stack's own settings, so it reads the shop's database, the fake gateway's ledger and
the mail the stack sent exactly as the shop wrote them (`python -m loadtest.audit prepare|check`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import django

from deploy.readiness import wait_until
from loadtest.pages import ORDER_NUMBER

SUBJECT = re.compile(r"^Subject: .* order (SP-[0-9A-Z]{4}-[0-9A-Z]{4}) is confirmed$", re.MULTILINE)
FEATURED_CATEGORY = "fitness"  # the influencer's post is about a yoga mat


def prepare(folder: Path, featured_stock: int, catalog_stock: int = 0) -> dict:
    """Stock the featured product (and every product to ``catalog_stock``); write what visitors know, and the stock."""
    from django.db import transaction

    from resilience.caching import namespace_bump
    from shop.models import Category, Order, Product
    from shop.selectors import CATALOG
    from shop.services.stock import stock_adjust

    featured = Product.objects.filter(category__slug=FEATURED_CATEGORY, is_active=True).order_by("id").first()
    with transaction.atomic():
        stock_adjust(product_id=featured.pk, delta=featured_stock - featured.stock)
        Product.objects.filter(is_active=True, stock__lt=catalog_stock).update(stock=catalog_stock)  # one query
        namespace_bump(CATALOG)
    products = list(Product.objects.filter(is_active=True).order_by("id").values_list("slug", flat=True))
    words = sorted({word.lower() for name in Product.objects.values_list("name", flat=True) for word in name.split()})
    catalog = {
        "featured": featured.slug,
        "products": products[::4],
        "categories": list(Category.objects.values_list("slug", flat=True)),
        "words": words,
    }
    before = {
        "featured_id": featured.pk,
        "featured_stock": featured_stock,
        "last_order_id": Order.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        "stock": {str(pk): stock for pk, stock in Product.objects.values_list("id", "stock")},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.json").write_text(json.dumps(catalog))
    (folder / "before.json").write_text(json.dumps(before))
    return {"featured": featured.slug, "featured_stock": featured_stock}


def settle(last_order_id: int, seconds: float) -> float:
    """Wait until the worker has finished every order of the run; return how long that took."""
    from shop.models import Order

    started = time.monotonic()
    unsettled = Order.objects.filter(id__gt=last_order_id, status__in=[Order.Status.PENDING, Order.Status.PAID])
    wait_until(lambda: not unsettled.exists(), timeout=seconds, interval=1)
    return time.monotonic() - started


def check(folder: Path, record: Path, settle_seconds: float) -> dict:
    """Every order the visitors were shown is in the database, settled, charged and emailed once; stock adds up."""
    from django.conf import settings
    from django.db.models import Sum

    from loadtest.record import read_events
    from shop.models import Order, OrderLine, Product
    from shop.payments import FakeGateway

    before = json.loads((folder / "before.json").read_text())
    waited = settle(before["last_order_id"], settle_seconds)
    orders = {o.access_token: o for o in Order.objects.filter(id__gt=before["last_order_id"])}
    by_number = {o.number: o for o in orders.values()}
    shown = [e for e in read_events(record) if e["type"] == "buyer" and e["outcome"] == "order"]
    statuses = Counter(o.status for o in orders.values())

    # Charges by the order they were for, whatever key they were made with: the description names it.
    charges = [(found.group(0), c) for c in FakeGateway.ledger().all() if (found := ORDER_NUMBER.search(c.description))]
    charged = Counter(number for number, _ in charges if number in by_number)
    approved = {number for number, c in charges if c.result.approved}
    emails = Counter(
        SUBJECT.findall("\n".join(p.read_text(errors="replace") for p in Path(settings.EMAIL_FILE_PATH).glob("*.log")))
    )

    kept = OrderLine.objects.filter(order__in=orders.values()).exclude(order__status=Order.Status.FAILED)
    sold = dict(kept.values_list("product_id").annotate(units=Sum("quantity")))
    now = dict(Product.objects.values_list("id", "stock"))
    initial = {int(pk): stock for pk, stock in before["stock"].items()}
    confirmed = [o for o in orders.values() if o.status in (Order.Status.CONFIRMED, Order.Status.SHIPPED)]
    return {
        "orders": len(orders),
        "orders_by_status": dict(statuses),
        "orders_shown_to_buyers": len(shown),
        "orders_lost": sum(1 for e in shown if e["order_token"] not in orders),
        "orders_unsettled": statuses[Order.Status.PENDING] + statuses[Order.Status.PAID],
        "orders_not_shown": len(orders) - len({e["order_token"] for e in shown} & set(orders)),
        "settle_seconds": round(waited, 1),
        "duplicate_charges": sum(count - 1 for count in charged.values() if count > 1),
        "confirmed_without_charge": sum(1 for o in confirmed if o.number not in approved),
        "duplicate_emails": sum(count - 1 for number, count in emails.items() if number in by_number and count > 1),
        "confirmed_without_email": sum(1 for o in confirmed if emails[o.number] == 0),
        "stock_not_conserved": sorted(pk for pk in initial if initial[pk] != now.get(pk, 0) + sold.get(pk, 0)),
        "oversold": sum(1 for pk in initial if now.get(pk, 0) < 0 or sold.get(pk, 0) > initial[pk]),
        "featured_sold": sold.get(before["featured_id"], 0),
        "featured_stock_left": now.get(before["featured_id"], 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "check"])
    parser.add_argument("--folder", type=Path, required=True, help="where before.json and catalog.json live")
    parser.add_argument("--record", type=Path, help="the visitors' record (check)")
    parser.add_argument("--featured-stock", type=int, default=100_000)
    parser.add_argument("--catalog-stock", type=int, default=0, help="every product gets at least this many units")
    parser.add_argument("--settle-seconds", type=float, default=180)
    args = parser.parse_args()
    django.setup()
    if args.step == "prepare":
        result = prepare(args.folder, args.featured_stock, args.catalog_stock)
    else:
        result = check(args.folder, args.record, args.settle_seconds)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
