"""Development settings: the embedded default, debug tooling off unless asked for."""

from .base import *  # noqa: F403
from .base import STORAGES

# Plain storage: no manifest to build before the first page, edits show at once.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
