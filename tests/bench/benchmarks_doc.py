"""Where every benchmark writes its figures: its own section of docs/benchmarks.md, one `## ` heading
each, replaced in place on a rerun (appended the first time)."""
from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nProduced by the scripts in `tests/bench`.\n\n"


def write_section(heading: str, text: str, path: Path = DOCS) -> None:
    """Put `text` (which starts with the `heading` line) where the section under `heading` is, up to
    the next `## ` heading, or at the end when the document has no such section yet."""
    current = path.read_text() if path.exists() else HEADER
    block = text.rstrip("\n") + "\n"
    match = re.search(r"^%s$" % re.escape(heading), current, re.M)
    if match:
        end = current.find("\n## ", match.end())
        tail = current[end + 1:] if end >= 0 else ""
        current = current[:match.start()] + block + ("\n" + tail if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(exist_ok=True)
    path.write_text(current)
