#!/usr/bin/env python3
"""The README's Configuration table, made from the settings' declarations.

    python scripts/settings_table.py           # print it
    python scripts/settings_table.py --write   # replace the table in README.md
    python scripts/settings_table.py --check   # exit 1 if README.md's differs (pre-commit)

The table sits between two markers in README.md; ``tests/test_settings.py`` fails while it
differs from the declarations (core settings in receiver/settings.py, each vendor's in its
folder), so a new setting is documented by declaring it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from receiver.settings import markdown_table
from receiver.vendors import SETTINGS

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- settings table: scripts/settings_table.py makes it from the declarations -->\n"
END = "<!-- end of settings table -->\n"
TABLE = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)


def table() -> str:
    return markdown_table(SETTINGS)


def readme_table(text: str) -> str:
    """The table as it is in the README (between the markers)."""
    found = TABLE.search(text)
    if found is None:
        raise SystemExit(f"{README.name}: no settings table between {START!r} and {END!r}")
    return found.group(0)[len(START) : -len(END)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="replace the table in README.md")
    action.add_argument("--check", action="store_true", help="exit 1 if README.md's differs")
    args = parser.parse_args()
    if not (args.write or args.check):
        print(table(), end="")
        return
    text = README.read_text(encoding="utf-8")
    if args.check:
        if readme_table(text) != table():
            sys.exit(f"{README.name}: the Configuration table differs: run {__file__} --write")
        return
    readme_table(text)  # the markers are there
    README.write_text(TABLE.sub(lambda _: START + table() + END, text), encoding="utf-8")


if __name__ == "__main__":
    main()
