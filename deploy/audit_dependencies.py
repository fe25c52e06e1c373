"""`make audit`: pip-audit over the pinned packages, saying plainly what it could not check.

An index that serves packages but no vulnerability data (a mirror, a proxy) makes pip-audit skip
every package and still print "No known vulnerabilities found". This says how many it really
checked: it fails on a known vulnerability, and warns (without failing) when nothing was checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        audit = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json", "--output", report]
        requirements = ["-r", ROOT / "requirements.txt", "-r", ROOT / "requirements-dev.txt"]
        subprocess.run([*audit, *requirements], check=False, timeout=600)
        if not report.exists():
            print("pip-audit: it did not run; see above.", file=sys.stderr)
            return 1
        dependencies = json.loads(report.read_text())["dependencies"]
    lines, code = verdict(dependencies)
    print("\n".join(lines))
    return code


def verdict(dependencies: list[dict]) -> tuple[list[str], int]:
    """What to say about pip-audit's findings, and the exit code: 1 on any known vulnerability."""
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    lines = [
        f"pip-audit: {d['name']} {d['version']} has known vulnerabilities: {', '.join(v['id'] for v in d['vulns'])}"
        for d in vulnerable
    ]
    lines.append(f"pip-audit: {audited} of {len(dependencies)} pinned packages checked, {len(vulnerable)} vulnerable.")
    if skipped and not audited:
        lines.append("pip-audit: WARNING: the package index here serves no vulnerability data, so nothing was checked.")
    return lines, 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
