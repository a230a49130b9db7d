"""What personal data looks like: the contract's personal columns, and value patterns for
e-mail addresses, Japanese phone numbers and postal addresses.

Used to mask quality-report samples (:func:`mask_statistics`) and by the publication's value
scan (``crm.quality.publish``). Each pattern is written once and used by Python's ``re`` and by
DuckDB's RE2 alike (ASCII classes and literal characters only, no ``\\p{..}`` or ``\\u`` escapes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from crm.contract import FEEDS

#: Columns of the landing contract marked ``personal``, and the export layer's derived ones.
PERSONAL_COLUMNS: frozenset[str] = frozenset(
    {c.name for feed in FEEDS.values() for c in feed.columns if c.personal}
    | {"phone_e164", "household_key"}
)

#: What a masked sample value is replaced by.
MASK = "(masked: personal)"

#: An e-mail address (the whole value).
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
#: A Japanese phone number (the whole value): ``+81`` or a leading 0, then 9-10 digits, either
#: unbroken or in three groups split by hyphens or spaces (``090-1234-5678``, ``+81 3 1234
#: 5678``). Two groups (``01234-5678``) are not a phone: ids of the form ``<n>-<n>`` are common.
PHONE_PATTERN = (
    r"(?:\+81[- ]?|0)[1-9][0-9]{8,9}"
    r"|(?:\+81[- ]?|0)[1-9][0-9]{0,4}[- ][0-9]{1,4}[- ][0-9]{3,4}"
)
#: The national digits of a phone number (``+81`` read as 0, separators dropped): 10 or 11.
PHONE_DIGITS_PATTERN = r"0[1-9][0-9]{8,9}"
#: A postal code (the whole value): ``NNN-NNNN``.
POSTAL_CODE_PATTERN = r"[0-9]{3}-[0-9]{4}"
#: Anywhere in a value: the 〒 mark, or a prefecture followed by a city, ward, town, village or
#: district (``東京都千代田区``, ``神奈川県横浜市``); a prefecture alone (``東京都``) is not.
ADDRESS_PATTERN = (
    r"〒|(?:北海道|東京都|京都府|大阪府|[一-鿿]{2,3}県)[一-鿿ぁ-んァ-ヶー]{1,10}?[市区町村郡]"
)

#: Kinds of personal value, as the publication names them.
EMAIL, PHONE, POSTAL_ADDRESS = "e-mail addresses", "phone numbers", "postal addresses"

_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)
_PHONE_DIGITS = re.compile(PHONE_DIGITS_PATTERN)
_POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)
_ADDRESS = re.compile(ADDRESS_PATTERN)


def phone_national_digits(text: str) -> str:
    """``+81 90-1234-5678`` → ``09012345678``: the digits as dialled in Japan."""
    text = text.strip()
    if text.startswith("+81"):
        text = "0" + text[3:]
    return re.sub(r"[^0-9]", "", text)


def personal_kind(value: object) -> str | None:
    """The kind of personal data a value looks like (:data:`EMAIL`, :data:`PHONE`,
    :data:`POSTAL_ADDRESS`), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _EMAIL.fullmatch(text):
        return EMAIL
    if _PHONE.fullmatch(text) and _PHONE_DIGITS.fullmatch(phone_national_digits(text)):
        return PHONE
    if _POSTAL_CODE.fullmatch(text) or _ADDRESS.search(text):
        return POSTAL_ADDRESS
    return None


#: Kwargs of an expectation that name the columns it reads.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)
#: Statistics that hold sample values of the data.
_SAMPLE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list")


def columns_read(kwargs: dict[str, Any]) -> set[str]:
    names = {str(kwargs[k]) for k in _COLUMN_KWARGS if kwargs.get(k) is not None}
    for key in _COLUMN_LIST_KWARGS:
        names.update(str(c) for c in kwargs.get(key) or ())
    return names


def _mask_value(value: Any, personal: bool, names: frozenset[str]) -> Any:
    if isinstance(value, dict):  # a compound sample (column -> value) or a {value, count} pair
        return {
            k: MASK if k in names else _mask_value(v, personal and k != "count", names)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_value(v, personal, names) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if personal or personal_kind(value) is not None:
        return MASK
    return value


def mask_statistics(
    statistics: dict[str, Any], kwargs: dict[str, Any], personal: Iterable[str] = ()
) -> dict[str, Any]:
    """The statistics of an expectation with every sample value of a personal column masked
    (``personal``: more column names to treat as personal). Samples of an expectation that reads
    a personal column are masked whole, in a compound sample (a dict per row) the personal keys
    are; any other sample value that looks like an e-mail, a phone or an address is masked too.
    An observed value of a personal column is masked unless it is a number."""
    names = PERSONAL_COLUMNS | frozenset(personal)
    reads_personal = bool(columns_read(kwargs) & names) and not kwargs.get("column_list")
    masked = dict(statistics)
    for key in _SAMPLE_KEYS:
        if masked.get(key):
            masked[key] = _mask_value(masked[key], reads_personal, names)
    observed = masked.get("observed_value")
    numeric = observed is None or isinstance(observed, bool | int | float)
    if not numeric and (reads_personal or personal_kind(observed) is not None):
        masked["observed_value"] = MASK
    return masked
