"""Fill in deploy/'s templates (nginx's, supervisord's) for `make stack`."""

from __future__ import annotations

import re


def render(template: str, values: dict[str, str]) -> str:
    """Substitute ${STAMPEDE_*} names only, as the nginx image's envsubst filter does."""
    return re.sub(r"\$\{(STAMPEDE_[A-Z_]+)\}", lambda match: values[match.group(1)], template)
