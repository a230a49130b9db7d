"""Spreadsheet safety of CSV cells: formula neutralisation and the E.164 exception."""

from __future__ import annotations

import re

#: A cell starting with one of these is read as a formula (or a DDE call) by Excel, LibreOffice
#: or Google Sheets. The full-width forms are included because Japanese IMEs type them and some
#: spreadsheet builds accept them as formula starts too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

#: The prefix that makes a spreadsheet show the cell as text (OWASP "CSV injection" advice).
TEXT_MARKER = "'"

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_PREFIXES)


def neutralise(value: str) -> str:
    """Prefix a formula-looking text cell with a single quote; leave any other text as it is."""
    return TEXT_MARKER + value if is_formula_like(value) else value


def is_e164(value: str) -> bool:
    """``+`` then 7 to 15 digits, the first not 0: digits only, so it can never be a formula."""
    return _E164.fullmatch(value) is not None


def safe_text(value: str, column: str) -> tuple[str, bool]:
    """The cell as written to a CSV file and whether it was neutralised.

    ``phone_e164`` is the one exception: a valid E.164 number starts with ``+`` by definition
    and is only digits after it, so it is written as it is (SMS tools need the ``+``). A value
    in that column that is not valid E.164 is neutralised like any other text.
    """
    if column == "phone_e164" and is_e164(value):
        return value, False
    safe = neutralise(value)
    return safe, safe is not value
