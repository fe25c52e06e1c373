"""Input parsing for the storefront: every field bounded, every error in words."""

from __future__ import annotations

import uuid
from uuid import UUID

from django import forms
from django.conf import settings
from django.core import signing

from shop.selectors import SORT_ORDERS

CHECKOUT_TOKEN_SALT = "shop.checkout.idempotency"
CHECKOUT_TOKEN_MAX_AGE = 60 * 60 * 24


def checkout_token_salt(session_key: str | None) -> str:
    """The token's salt names the visitor's session: replayed from another browser, it does not verify."""
    return f"{CHECKOUT_TOKEN_SALT}:{session_key or ''}"


def checkout_token_new(session_key: str | None) -> str:
    """Return a signed, fresh idempotency key for one checkout form, valid in this session only."""
    return signing.dumps(str(uuid.uuid4()), salt=checkout_token_salt(session_key))


PAGE_ERROR = "The page number must be a whole number from 1 to 10000."


class CatalogQueryForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        strip=True,
        error_messages={"max_length": "Searches can be at most 100 characters long."},
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(key, key) for key in SORT_ORDERS],
        error_messages={"invalid_choice": f"Sort by one of: {', '.join(SORT_ORDERS)}."},
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000,
        error_messages=dict.fromkeys(["invalid", "min_value", "max_value"], PAGE_ERROR),
    )


def _quantity_field() -> forms.IntegerField:
    return forms.IntegerField(
        min_value=1,
        max_value=settings.SHOP_MAX_QUANTITY_PER_LINE,
        error_messages={
            "invalid": "Enter the quantity as a whole number.",
            "min_value": "The quantity must be at least 1.",
            "max_value": "You can buy at most %(limit_value)s of one product per order.",
            "required": "Enter a quantity.",
        },
    )


class AddToCartForm(forms.Form):
    # Only a tampered form can send a bad id; one message, whatever the reason.
    product_id = forms.IntegerField(
        min_value=1,
        max_value=2**62,
        error_messages=dict.fromkeys(["invalid", "required", "min_value", "max_value"], "Unknown product."),
    )
    quantity = _quantity_field()


class CartQuantityForm(forms.Form):
    quantity = _quantity_field()


class CheckoutForm(forms.Form):
    # autocomplete hints let browsers fill these in (WCAG 1.3.5).
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    full_name = forms.CharField(
        label="Full name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    address = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"})
    )
    postal_code = forms.CharField(
        label="Postal code", max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
    )
    city = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    country = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "country-name"}))
    token = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args, session_key: str | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.session_key = session_key

    def clean_token(self) -> UUID:
        if not self.session_key:  # no session, no cart: nothing a token could stand for
            raise forms.ValidationError("This checkout form is not valid. Please submit it again.")
        salt = checkout_token_salt(self.session_key)
        try:
            return UUID(signing.loads(self.cleaned_data["token"], salt=salt, max_age=CHECKOUT_TOKEN_MAX_AGE))
        except signing.SignatureExpired as exc:
            raise forms.ValidationError(
                "This checkout page has expired. Please check your details and submit again."
            ) from exc
        except (signing.BadSignature, ValueError, TypeError, AttributeError) as exc:
            raise forms.ValidationError("This checkout form is not valid. Please submit it again.") from exc
