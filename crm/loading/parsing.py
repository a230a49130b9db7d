"""SQL (DuckDB) expressions that turn a landing file's text cells into contract types.

Each expression takes a quoted column reference holding text and yields the typed value, or
NULL when the text cannot be read. The loader compares "text present" with "value NULL" to name
the reason a row is rejected.

Accepted forms (the landing contract):
- timestamps and dates: ISO 8601 (``2025-04-01T09:30:00``, ``2025-04-01 09:30:00``, with or
  without an offset such as ``+09:00`` or ``Z``) and Japanese ``2025/04/01 09:30:00`` /
  ``2025/4/1``. Without an offset a time is Asia/Tokyo local time; with one it is converted to it.
- yen: ``1234``, ``1,234``, ``¥1,234``, ``￥1,234``, ``1234円`` and full-width digits.
- booleans: ``true/false``, ``1/0``, ``yes/no``, ``Y/N`` (any case).
"""

from __future__ import annotations

from crm.contract import SQL_TYPES, ColumnType

_FULL_WIDTH = "０１２３４５６７８９，．－＋：／　"
_HALF_WIDTH = "0123456789,.-+:/ "

LOCAL_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
OFFSET_FORMATS = (
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M%z",
)

TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def trimmed(ref: str) -> str:
    """``trim(ref)``, called only when the text may need it (an edge space, or any non-ASCII
    character, since trim also removes Unicode spaces such as U+3000): the same value, but most
    values (ids, numbers, dates) skip the costly call."""
    return (
        f"case when starts_with({ref}, ' ') or ends_with({ref}, ' ') "
        f"or strlen({ref}) <> length({ref}) then trim({ref}) else {ref} end"
    )


def normalized_text(ref: str) -> str:
    """Trimmed text with full-width digits and signs made half-width."""
    return f"trim(translate({ref}, {quote_literal(_FULL_WIDTH)}, {quote_literal(_HALF_WIDTH)}))"


#: The canonical forms, read by a plain cast (far cheaper than the general parsers below, with
#: the same result on them): ISO dates and date-times without offset, plain whole numbers.
CANONICAL_TIMESTAMP = "[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?"
CANONICAL_NUMBER = "-?[0-9]{1,18}"


def _canonical_first(ref: str, pattern: str, sql_type: str, general: str) -> str:
    return (
        f"case when regexp_full_match({ref}, {quote_literal(pattern)}) "
        f"then try_cast({ref} as {sql_type}) else {general} end"
    )


def timestamp_expr(ref: str) -> str:
    return _canonical_first(ref, CANONICAL_TIMESTAMP, "timestamp", _general_timestamp_expr(ref))


def _general_timestamp_expr(ref: str) -> str:
    text = (
        f"regexp_replace(replace(replace({normalized_text(ref)}, '/', '-'), 'T', ' '),"
        " '\\s*(Z|UTC)$', '+00:00')"
    )
    return (
        f"coalesce(try_strptime({text}, {_list(LOCAL_FORMATS)}),"
        f" timezone('Asia/Tokyo', try_strptime({text}, {_list(OFFSET_FORMATS)})))"
    )


def date_expr(ref: str) -> str:
    return f"cast({timestamp_expr(ref)} as date)"


def _yen_text(ref: str) -> str:
    return f"regexp_replace({normalized_text(ref)}, '[¥￥,\\s円]', '', 'g')"


def _int_text(ref: str) -> str:
    return f"regexp_replace({normalized_text(ref)}, '[,\\s]', '', 'g')"


def yen_expr(ref: str) -> str:
    general = f"try_cast({_yen_text(ref)} as {SQL_TYPES['yen']})"
    return _canonical_first(ref, CANONICAL_NUMBER, SQL_TYPES["yen"], general)


def int_expr(ref: str) -> str:
    text = _int_text(ref)
    general = (
        f"case when regexp_full_match({text}, '[+-]?[0-9]+') then try_cast({text} as bigint) end"
    )
    return _canonical_first(ref, CANONICAL_NUMBER, "bigint", general)


def bool_expr(ref: str) -> str:
    text = f"lower({trimmed(ref)})"
    return (
        f"case when {text} in {tuple(TRUE_WORDS)} then true "
        f"when {text} in {tuple(FALSE_WORDS)} then false end"
    )


def text_expr(ref: str) -> str:
    return f"nullif({trimmed(ref)}, '')"


PARSERS = {
    "text": text_expr,
    "timestamp": timestamp_expr,
    "date": date_expr,
    "yen": yen_expr,
    "int": int_expr,
    "bool": bool_expr,
}

TYPE_WORDS: dict[ColumnType, str] = {
    "text": "text",
    "timestamp": "a date-time (YYYY-MM-DD HH:MM:SS or YYYY/M/D H:MM:SS)",
    "date": "a date (YYYY-MM-DD or YYYY/M/D)",
    "yen": "a yen amount (e.g. 1234, 1,234 or ¥1,234)",
    "int": "a whole number",
    "bool": "a boolean (true/false, 1/0, yes/no, Y/N)",
}


#: For numeric types: the reason given to a number too large for the raw column's SQL type.
RANGE_WORDS: dict[ColumnType, str] = {
    "yen": "is too large for a yen amount (at most 16 digits before the decimal point)",
    "int": "is too large for a whole number (at most 18 digits)",
}


def overflow_expr(column_type: ColumnType, ref: str) -> str:
    """True when the text is a number of the (numeric) type that is too large for its SQL type;
    the parser turns it into NULL like unreadable text, so it gets a reason of its own."""
    if column_type == "yen":
        return f"try_cast({_yen_text(ref)} as decimal(38, 2)) is not null"
    if column_type == "int":
        return f"regexp_full_match({_int_text(ref)}, '[+-]?[0-9]+')"
    return "false"


def parse_expr(column_type: ColumnType, ref: str) -> str:
    return PARSERS[column_type](ref)
