from django.urls import path

from shop.views import cart, catalog, checkout

app_name = "shop"

urlpatterns = [
    path("", catalog.product_list, name="product_list"),
    path("category/<slug:slug>/", catalog.product_list, name="category"),
    path("products/<slug:slug>/", catalog.product_detail, name="product"),
    path("cart/", cart.cart_detail, name="cart"),
    path("cart/add/", cart.cart_add, name="cart_add"),
    path("cart/state/", cart.cart_state, name="cart_state"),
    path("cart/<int:product_id>/quantity/", cart.cart_update, name="cart_update"),
    path("cart/<int:product_id>/remove/", cart.cart_remove, name="cart_remove"),
    path("checkout/", checkout.checkout, name="checkout"),
    # Access tokens are token_urlsafe(), a slug's alphabet: anything else (a NUL, which PostgreSQL
    # refuses in a query) is a 404 before it reaches the database.
    path("orders/<slug:token>/", checkout.order_status, name="order"),
]
