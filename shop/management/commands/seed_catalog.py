"""Create the deterministic demo catalog; running it again adds nothing."""

from __future__ import annotations

import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.text import slugify

from shop.models import Category, Product

CATEGORIES = {
    "Kitchen": ["Chef's Knife", "Cutting Board", "Saucepan", "Espresso Cup", "Salad Bowl", "Whisk"],
    "Coffee & Tea": [
        "Pour-Over Kettle",
        "Coffee Grinder",
        "Tea Infuser",
        "French Press",
        "Matcha Whisk",
        "Coffee Beans",
    ],
    "Home Office": ["Desk Lamp", "Notebook", "Monitor Stand", "Fountain Pen", "Desk Organizer", "Cable Tray"],
    "Outdoor": ["Camping Mug", "Trail Backpack", "Headlamp", "Water Bottle", "Hammock", "Camp Stove"],
    "Fitness": ["Yoga Mat", "Kettlebell", "Jump Rope", "Resistance Band", "Foam Roller", "Gym Towel"],
    "Bath": ["Bath Towel", "Soap Dish", "Shower Caddy", "Bath Mat", "Loofah", "Toothbrush Holder"],
    "Garden": ["Watering Can", "Pruning Shears", "Plant Pot", "Garden Gloves", "Seed Tray", "Trowel"],
    "Lighting": ["Floor Lamp", "Pendant Light", "String Lights", "Candle Holder", "Night Light", "Lantern"],
    "Textiles": ["Throw Blanket", "Cushion Cover", "Table Runner", "Linen Napkin", "Tea Towel", "Rug"],
    "Stationery": ["Sketchbook", "Pencil Set", "Washi Tape", "Planner", "Postcard Set", "Ink Bottle"],
    "Travel": ["Packing Cube", "Passport Holder", "Travel Pillow", "Toiletry Bag", "Luggage Tag", "Weekender Bag"],
    "Kids": ["Wooden Blocks", "Picture Book", "Crayon Set", "Plush Bear", "Puzzle", "Kite"],
    "Pets": ["Dog Leash", "Cat Bed", "Food Bowl", "Chew Toy", "Pet Blanket", "Treat Jar"],
}
ADJECTIVES = [
    "Classic",
    "Nordic",
    "Compact",
    "Everyday",
    "Heritage",
    "Studio",
    "Alpine",
    "Coastal",
    "Urban",
    "Field",
    "Minimal",
    "Sturdy",
    "Featherlight",
    "Harbor",
    "Meadow",
    "Canyon",
    "Summit",
    "Orchard",
]
MATERIALS = [
    "Oak",
    "Linen",
    "Steel",
    "Ceramic",
    "Cotton",
    "Bamboo",
    "Walnut",
    "Copper",
    "Wool",
    "Glass",
    "Cork",
    "Slate",
]
PRODUCTS_PER_CATEGORY = 80


class Command(BaseCommand):
    help = "Create the demo catalog (13 categories, 1,040 products). Safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--per-category", type=int, default=PRODUCTS_PER_CATEGORY)

    @transaction.atomic
    def handle(self, *args, per_category: int, **options) -> None:
        rng = random.Random(20230420)  # the postmortem's date: the same catalog every time
        created_products = 0
        for category_name, nouns in CATEGORIES.items():
            category, _ = Category.objects.get_or_create(
                slug=slugify(category_name),
                defaults={"name": category_name, "description": f"Hand-picked {category_name.lower()} essentials."},
            )
            products = []
            for index in range(per_category):
                noun = nouns[index % len(nouns)]
                name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {noun}"
                products.append(
                    Product(
                        category=category,
                        name=name,
                        slug=f"{slugify(name)}-{category.slug}-{index + 1}",
                        description=(
                            f"The {name.lower()} is made to last and to be used every day. "
                            f"Part of our {category_name.lower()} range.\n\nShips within two working days."
                        ),
                        price=Decimal(rng.randrange(299, 19999)) / 100,
                        stock=rng.choice([0, 3, 12, 25, 40, 60, 100, 250]),
                    )
                )
            existing = set(Product.objects.filter(category=category).values_list("slug", flat=True))
            new = [product for product in products if product.slug not in existing]
            Product.objects.bulk_create(new, batch_size=500)
            created_products += len(new)
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog ready: {Category.objects.count()} categories, {Product.objects.count()} products "
                f"({created_products} new)."
            )
        )
