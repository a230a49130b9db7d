"""Raw suites evaluated in the warehouse: each frame's expectations become counts of ONE
aggregate query over the frame (never read into pandas), plus, for a compound uniqueness
expectation, a 64-bit hash pass whose candidates only are checked exactly.

For every row-level expectation the aggregate gives, as Great Expectations would: the rows
(``element_count``), the rows it ignores (``missing_count``: a null value, or either value of a
pair), the unexpected rows (``unexpected_count``), their percent of the rows considered
(``unexpected_percent``) and up to ``PARTIAL_LIMIT`` sample values (the smallest, so a re-run
shows the same). :func:`observed_share` turns them into the share of expected rows among the
rows considered, which Great Expectations then judges (see :mod:`crm.quality.runner`).

Supported expectation types (``SQL_TYPES``): NotBeNull, BeInSet, BeBetween, the column pair
A >= B (``ignore_row_if="either_value_is_missing"``) and CompoundColumnsToBeUnique.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb

from crm.loading.parsing import quote_identifier
from crm.quality.suites.spec import Expectation

PARTIAL_LIMIT = 10

ROW_TYPES = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnPairValuesAToBeGreaterThanB",
    }
)
UNIQUE_TYPE = "ExpectCompoundColumnsToBeUnique"
SQL_TYPES = ROW_TYPES | {UNIQUE_TYPE}


@dataclass(frozen=True)
class Observation:
    """What the warehouse counted for one expectation."""

    element_count: int
    missing_count: int | None
    unexpected_count: int
    sample: list[Any]

    @property
    def considered(self) -> int:
        return self.element_count - (self.missing_count or 0)

    @property
    def unexpected_percent(self) -> float | None:
        """GE's percent: of the rows considered (None when no row counts)."""
        if self.considered <= 0:
            return None
        return self.unexpected_count / self.considered * 100

    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = {"element_count": self.element_count}
        if self.missing_count is not None:
            stats["missing_count"] = self.missing_count
        stats["unexpected_count"] = self.unexpected_count
        stats["unexpected_percent"] = self.unexpected_percent
        stats["partial_unexpected_list"] = self.sample[:PARTIAL_LIMIT]
        return stats


def observed_share(observation: Observation) -> float | None:
    """The share of expected rows among the rows considered (None: no row considered, which
    Great Expectations judges as a pass, as it does a frame without rows)."""
    if observation.considered <= 0:
        return None
    return (observation.considered - observation.unexpected_count) / observation.considered


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _column(spec: Expectation, key: str = "column") -> str:
    return quote_identifier(spec.kwargs[key])


def _between(column: str, kwargs: dict[str, Any]) -> str:
    parts = []
    if kwargs.get("min_value") is not None:
        operator = ">" if kwargs.get("strict_min") else ">="
        parts.append(f"{column} {operator} {_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        operator = "<" if kwargs.get("strict_max") else "<="
        parts.append(f"{column} {operator} {_literal(kwargs['max_value'])}")
    return " and ".join(parts) or "true"


def row_conditions(spec: Expectation) -> tuple[str | None, str, str | None]:
    """(missing, unexpected, sample) SQL expressions of a row-level expectation: which rows it
    ignores (None: none), which are unexpected, and the value shown for an unexpected row."""
    kind = spec.type
    if kind == "ExpectColumnValuesToNotBeNull":
        return None, f"{_column(spec)} is null", None
    if kind == "ExpectColumnValuesToBeInSet":
        column = _column(spec)
        values = ", ".join(_literal(v) for v in spec.kwargs["value_set"])
        return f"{column} is null", f"{column} is not null and {column} not in ({values})", column
    if kind == "ExpectColumnValuesToBeBetween":
        column = _column(spec)
        inside = _between(column, spec.kwargs)
        return f"{column} is null", f"{column} is not null and not ({inside})", column
    if kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        if spec.kwargs.get("ignore_row_if") != "either_value_is_missing":
            raise ValueError(f"{spec.name}: only ignore_row_if='either_value_is_missing'")
        a, b = _column(spec, "column_A"), _column(spec, "column_B")
        operator = ">=" if spec.kwargs.get("or_equal") else ">"
        missing = f"({a} is null or {b} is null)"
        sample = f"[cast({a} as varchar), cast({b} as varchar)]"
        return missing, f"not {missing} and not ({a} {operator} {b})", sample
    if kind == UNIQUE_TYPE:  # counted by observe_duplicates; rows of null values only ignored
        return _all_missing(spec), "false", None
    raise ValueError(f"{spec.name}: {kind} is not evaluated in SQL; supported: {sorted(SQL_TYPES)}")


def _all_missing(spec: Expectation) -> str:
    """GE's default ``ignore_row_if="all_values_are_missing"`` of a compound expectation."""
    return (
        "("
        + " and ".join(f"{quote_identifier(c)} is null" for c in spec.kwargs["column_list"])
        + ")"
    )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def observe_rows(
    conn: duckdb.DuckDBPyConnection, frame_sql: str, specs: list[Expectation]
) -> tuple[int, dict[str, Observation]]:
    """One aggregate pass over the frame: its rows and each expectation's counts (of a compound
    uniqueness expectation only its rows and ignored rows: see :func:`observe_duplicates`)."""
    select = ["count(*)"]
    for spec in specs:
        missing, unexpected, sample = row_conditions(spec)
        select.append(f"count(*) filter (where {missing})" if missing else "null")
        select.append(f"count(*) filter (where {unexpected})")
        select.append(
            f"min({sample}, {PARTIAL_LIMIT}) filter (where {unexpected})" if sample else "null"
        )
    row = conn.execute(f"select {', '.join(select)} from (\n{frame_sql}\n) as frame").fetchone()
    assert row is not None
    rows = int(row[0])
    found = {}
    for position, spec in enumerate(specs):
        missing, unexpected, sample = row[1 + 3 * position : 4 + 3 * position]
        if sample is None and unexpected:
            sample = [None] * min(int(unexpected), PARTIAL_LIMIT)
        found[spec.name] = Observation(
            element_count=rows,
            missing_count=None if missing is None else int(missing),
            unexpected_count=int(unexpected),
            sample=_jsonable(sample or []),
        )
    return rows, found


def observe_duplicates(
    conn: duckdb.DuckDBPyConnection, frame_sql: str, spec: Expectation, counted: Observation
) -> Observation:
    """Rows whose ``column_list`` values appear more than once in the frame: candidates are the
    64-bit hashes seen more than once (one grouping pass), then only the candidates' rows are
    grouped on the exact values (a hash collision is not a duplicate)."""
    columns = [quote_identifier(c) for c in spec.kwargs["column_list"]]
    hashed = f"hash({', '.join(columns)})"
    missing = _all_missing(spec)

    def candidates(source: str) -> str:
        return (
            f"select _hash from (select {hashed} as _hash from {source} where not {missing}) "
            "group by _hash having count(*) > 1"
        )

    found = conn.execute(
        f"select count(*) from ({candidates(f'({frame_sql}) as frame')})"
    ).fetchone()
    if not (found and found[0]):
        return counted
    names = spec.kwargs["column_list"]
    duplicates = conn.execute(
        f"""
        with frame as ({frame_sql}),
        candidates as ({candidates("frame")})
        select {", ".join(columns)}, count(*) as _rows
        from frame
        where {hashed} in (select _hash from candidates) and not {missing}
        group by all
        having count(*) > 1
        order by all
        """
    ).fetchall()
    unexpected = sum(int(r[-1]) for r in duplicates)
    sample = [dict(zip(names, r[:-1], strict=True)) for r in duplicates[:PARTIAL_LIMIT]]
    return Observation(counted.element_count, counted.missing_count, unexpected, _jsonable(sample))


def observe_frame(
    conn: duckdb.DuckDBPyConnection, frame_sql: str, specs: list[Expectation]
) -> tuple[int, dict[str, Observation]]:
    """Every expectation of one frame: its rows and each expectation's observation."""
    rows, found = observe_rows(conn, frame_sql, specs)
    for spec in specs:
        if spec.type == UNIQUE_TYPE:
            found[spec.name] = observe_duplicates(conn, frame_sql, spec, found[spec.name])
    return rows, found
