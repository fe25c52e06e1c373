"""make audit's verdict on pip-audit's findings: a known vulnerability fails, an unchecked list is said plainly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

spec = importlib.util.spec_from_file_location("audit_dependencies", ROOT / "deploy" / "audit_dependencies.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_a_known_vulnerability_fails_the_audit_and_is_named():
    lines, code = audit.verdict(
        [
            {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-2025-1"}, {"id": "GHSA-xxxx"}]},
            {"name": "redis", "version": "8.1.0", "vulns": []},
        ]
    )

    assert code == 1
    assert lines == [
        "pip-audit: django 5.2.0 has known vulnerabilities: PYSEC-2025-1, GHSA-xxxx",
        "pip-audit: 2 of 2 pinned packages checked, 1 vulnerable.",
    ]


def test_when_the_index_serves_no_vulnerability_data_it_says_nothing_was_checked():
    lines, code = audit.verdict(
        [{"name": "django", "version": "5.2.19", "skip_reason": "Dependency not found on PyPI"}]
    )

    assert code == 0
    assert (
        lines[-1] == "pip-audit: WARNING: the package index here serves no vulnerability data, so nothing was checked."
    )
    assert "0 of 1 pinned packages checked" in lines[0]
