"""The contract checks of a landing row, as SQL over the cells of the file (both load paths).

A file column is seen through a ``Cell``: its value as text (exactly the text the row-parse path
reads, which is what reasons quote and what rejects and ``_extra_columns`` keep), its value in
the contract type, and whether it holds a value at all. The row-parse path makes every cell from
text with the parsers of ``parsing``; the native Parquet path uses a typed Parquet value directly
when its type already is the contract type. Either way the checks below, and so the rejected
rows, their first bad column and their reasons, are the same SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm.contract import SQL_TYPES, Column, ColumnType, Feed
from crm.loading.parsing import (
    RANGE_WORDS,
    TYPE_WORDS,
    overflow_expr,
    parse_expr,
    quote_identifier,
    quote_literal,
    trimmed,
)


@dataclass(frozen=True)
class Cell:
    """SQL expressions for one column of a landing file."""

    #: The value as text (NULL for a missing value).
    text: str
    #: The value in the contract column's type; NULL when empty or unreadable.
    typed: str
    #: True when the cell holds a value (text that is not blank).
    present: str


def computed_once(cells: Mapping[str, Cell]) -> tuple[list[str], dict[str, Cell]]:
    """The cells' typed values and presence as columns of an inner select (`` _typed_<n>``,
    `` _present_<n>``), and cells that refer to them: the checks read each value several times
    (typed column, problems, reasons, first bad column), parsing it once is far cheaper."""
    inner: list[str] = []
    layered: dict[str, Cell] = {}
    for position, (name, cell) in enumerate(cells.items()):
        # the leading space keeps them apart from a file's own columns (as the line column)
        typed = quote_identifier(f" _typed_{position}")
        present = quote_identifier(f" _present_{position}")
        inner += [f"{cell.typed} as {typed}", f"{cell.present} as {present}"]
        layered[name] = Cell(cell.text, typed, present)
    return inner, layered


def text_cell(column_type: ColumnType, ref: str) -> Cell:
    """A cell read from text: parsed by the contract's rules."""
    return Cell(ref, parse_expr(column_type, ref), f"nullif({trimmed(ref)}, '') is not null")


@dataclass(frozen=True)
class Problem:
    """A reason to reject a row: when ``condition`` holds (NULL = no), ``message`` says why."""

    condition: str
    message: str


def column_problems(column: Column, cell: Cell | None) -> list[Problem]:
    """The possible problems of a contract column (``cell`` is None: not in the file)."""
    if cell is None:
        required = f"'{column.name}: required column is empty'"
        return [Problem("true", required)] if column.required else []
    shown = f"'{column.name}: \"' || left({cell.text}, 60) || '\"'"
    problems: list[Problem] = []
    if column.required:
        problems.append(
            Problem(f"not ({cell.present})", f"'{column.name}: required value is missing'")
        )
    if column.type != "text":
        unreadable = f"{shown} || ' is not {TYPE_WORDS[column.type]}'"
        if column.type in RANGE_WORDS:
            unreadable = (
                f"case when {overflow_expr(column.type, cell.text)} "
                f"then {shown} || ' {RANGE_WORDS[column.type]}' else {unreadable} end"
            )
        problems.append(Problem(f"{cell.present} and {cell.typed} is null", unreadable))
    if column.allowed:
        allowed = "(" + ", ".join(quote_literal(v) for v in column.allowed) + ")"
        problems.append(
            Problem(
                f"{cell.present} and lower({trimmed(cell.text)}) not in {allowed}",
                f"{shown} || ' is not one of {', '.join(column.allowed)}'",
            )
        )
    if column.minimum is not None:
        op, words = (">", "greater than") if column.exclusive_minimum else (">=", "at least")
        problems.append(
            Problem(
                f"not ({cell.typed} {op} {column.minimum})",
                f"{shown} || ' must be {words} {column.minimum}'",
            )
        )
    return problems


@dataclass(frozen=True)
class RowChecks:
    """SQL for a row of a feed file: its typed contract columns and its problems."""

    #: ``<typed value> as <column>`` for every contract column, in contract order.
    typed_columns: list[str]
    #: True when the row has no problem (goes to ``raw.<feed>``).
    ok: str
    #: Every reason of the row, joined by "; " (NULL when ``ok``).
    reasons: str
    #: The first contract column with a problem (NULL when none or only a read problem).
    first_column: str


def row_checks(feed: Feed, cells: Mapping[str, Cell], read_problem: str = "") -> RowChecks:
    """``cells`` by contract column name (a column absent from the file has none);
    ``read_problem``: SQL text of a problem found while reading the row (NULL when none)."""
    typed_columns: list[str] = []
    conditions: list[str] = [f"{read_problem} is not null"] if read_problem else []
    reasons: list[str] = [read_problem] if read_problem else []
    first_column: list[str] = []
    for column in feed.columns:
        cell = cells.get(column.name)
        typed = cell.typed if cell else f"cast(null as {SQL_TYPES[column.type]})"
        typed_columns.append(f"{typed} as {quote_identifier(column.name)}")
        problems = column_problems(column, cell)
        if not problems:
            continue
        messages = ", ".join(f"case when {p.condition} then {p.message} end" for p in problems)
        joined = f"nullif(concat_ws('; ', {messages}), '')"
        reasons.append(joined)
        conditions.extend(f"({p.condition})" for p in problems)
        first_column.append(f"case when {joined} is not null then {quote_literal(column.name)} end")
    ok = f"not coalesce({' or '.join(conditions)}, false)" if conditions else "true"
    return RowChecks(
        typed_columns=typed_columns,
        ok=ok,
        reasons=f"nullif(concat_ws('; ', {', '.join(reasons) or 'null'}), '')",
        first_column=f"coalesce({', '.join(first_column) or 'null'})",
    )


def json_object(fields: Sequence[tuple[str, str]]) -> str:
    """SQL: a JSON object (as text) of ``(name, SQL text value)`` pairs; NULL when no field."""
    if not fields:
        return "cast(null as varchar)"
    members = ", ".join(f"{quote_literal(name)}: {text}" for name, text in fields)
    return f"cast(to_json({{{members}}}) as varchar)"
