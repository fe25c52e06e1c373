"""What the browser is told to refuse, and which passwords are refused."""

from __future__ import annotations

# Content-Security-Policy (django-csp): scripts, styles, images and forms from this site only;
# pages with no inline script or style (tests/shop/test_security_headers.py keeps it so).
# The admin is left out: Django's admin templates carry inline styles, and it is staff-only.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The page script reads the CSRF token from /cart/state/, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "shop.views.errors.csrf_failure"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
