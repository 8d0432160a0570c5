#!/usr/bin/env python3
"""Write the rule table into README.md and docs/rules.md from the rules registry; review the diff."""

from __future__ import annotations

import re
from pathlib import Path

from ecs_overlay.rules.docs import README_END, README_START, readme_table, reference

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    pattern = re.escape(README_START) + ".*?" + re.escape(README_END)
    if not re.search(pattern, text, flags=re.S):
        raise SystemExit(f"README.md has no {README_START!r} … {README_END!r} section")
    readme.write_text(re.sub(pattern, lambda _: readme_table(), text, flags=re.S), encoding="utf-8")
    (REPO / "docs").mkdir(exist_ok=True)
    (REPO / "docs" / "rules.md").write_text(reference(), encoding="utf-8")
    print("README.md and docs/rules.md written")


if __name__ == "__main__":
    main()
