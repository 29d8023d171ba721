"""What the README example tests share: a section's bash block, run against a real server, and the
JSON documents curl printed."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8000"
"""The server address the README's examples use."""


def section(heading: str, end: str = "\n## ") -> str:
    """The README's text after ``heading`` (the start of its line) and before ``end``."""
    return README.read_text(encoding="utf-8").split(heading, 1)[1].split(end, 1)[0]


def bash_block(heading: str, end: str = "\n## ") -> str:
    """The first ```` ```bash ```` block of :func:`section`."""
    found = re.search(r"```bash\n(.*?)```", section(heading, end), re.DOTALL)
    assert found is not None, f"no bash block under {heading!r}"
    return found.group(1)


def run_against(script: str, server_url: str, replacements: dict[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``script`` run by ``bash -e`` with the README's server address (and ``replacements``) swapped in."""
    for old, new in {README_URL: server_url, **(replacements or {})}.items():
        script = script.replace(old, new)
    return subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=timeout, check=False)


def json_documents(text: str) -> list[dict]:  # type: ignore[type-arg]
    """Every top-level JSON object in curl's output (bodies are not newline-terminated)."""
    decoder, found, at = json.JSONDecoder(), [], text.find("{")
    while at != -1:
        try:
            value, end = decoder.raw_decode(text, at)
        except ValueError:
            at = text.find("{", at + 1)
            continue
        found.append(value)
        at = text.find("{", end)
    return found
