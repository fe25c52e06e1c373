"""Admin for catalog, stock and orders.

Stock is never saved from a form value: between loading the form and saving it,
checkouts may have reserved units, and writing the old number back would oversell.
Staff enter an adjustment instead, applied as a conditional F() update.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shop.models import Category, Order, OrderLine, Product
from shop.services.catalog import product_save
from shop.services.orders import order_mark_shipped, order_queue_processing


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class ProductAdminForm(forms.ModelForm):
    # Bounded: stock is a 32-bit column, and a few extra digits must be a form error, not a crash.
    stock_adjustment = forms.IntegerField(
        required=False,
        initial=0,
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="Units to add (e.g. 10 for a delivery) or remove (e.g. -2 for damaged goods).",
    )

    class Meta:
        model = Product
        exclude = ["stock"]

    def clean_stock_adjustment(self) -> int:
        # A friendly early check; the conditional update in save_model is the guarantee.
        delta = self.cleaned_data.get("stock_adjustment") or 0
        if self.instance.pk and delta < 0 and self.instance.stock + delta < 0:
            raise forms.ValidationError(f"Only {self.instance.stock} units are on hand; you cannot remove {-delta}.")
        return delta


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["name", "category", "price", "currency", "stock", "is_active", "updated_at"]
    list_filter = ["is_active", "category"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["stock", "created_at", "updated_at"]
    list_per_page = 50

    def save_model(self, request: HttpRequest, obj: Product, form: ProductAdminForm, change: bool) -> None:
        changed_fields = [name for name in form.changed_data if name != "stock_adjustment"] if change else None
        delta = form.cleaned_data.get("stock_adjustment") or 0
        if not product_save(product=obj, changed_fields=changed_fields, stock_delta=delta):
            self.message_user(
                request, f"Stock was not changed: removing {-delta} units would take it below zero.", messages.ERROR
            )


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product", "product_name", "unit_price", "quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


# Which worker process holds the order, and until when: what support looks at when one seems stuck.
LEASE_FIELDS = ["lease_host", "lease_pid", "lease_claimed_at", "lease_until"]
# What the shop recorded about an order: shown to staff, never edited by hand.
RECORDED_FIELDS = [
    "total",
    "currency",
    "payment_reference",
    "failure_reason",
    "created_at",
    "updated_at",
    "confirmed_at",
    *LEASE_FIELDS,
]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "status", "email", "full_name", "total", "currency", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["number", "email", "full_name", "payment_reference"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    readonly_fields = ["number", "status", *RECORDED_FIELDS]
    fields = ["number", "status", "email", "full_name", "address", "postal_code", "city", "country", *RECORDED_FIELDS]
    actions = ["requeue_processing", "mark_shipped"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False  # orders are records: fail or ship them, never delete

    @admin.action(description="Process again (pending or paid orders)")
    def requeue_processing(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        orders = queryset.filter(status__in=[Order.Status.PENDING, Order.Status.PAID])
        queued = sum(order_queue_processing(order_id=order.pk) for order in orders)
        self.message_user(request, f"Queued {queued} order(s) for processing.")

    @admin.action(description="Mark as shipped (confirmed orders)")
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        shipped = sum(order_mark_shipped(order_id=order.pk) for order in queryset)
        self.message_user(request, f"Marked {shipped} order(s) as shipped.")
