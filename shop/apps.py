from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        # Registers the system checks, connects the cache receivers, and registers the tasks,
        # which services queue by name (services/orders.py).
        from shop import checks, signals, tasks  # noqa: F401
