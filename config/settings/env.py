"""The one ``env`` every settings module reads the environment through, and the project's root.

An env file (written by `make stack`, or by hand) is read if present; real environment
variables always win over it. https://django-environ.readthedocs.io/
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)
