"""Native load of a typed Parquet file: read, typed and checked inside DuckDB, set-based.

The row-parse path (``reading`` + ``loader``) reads a Parquet file in Python, casts every value
to text with pyarrow and parses the text back in SQL. For a file whose columns all have "plain"
types this module does the same work in one DuckDB statement over ``read_parquet`` (line number
= ``file_row_number`` + 1), with the same outcome row by row:

- a string column is parsed as text, exactly as in the row-parse path;
- a column whose Parquet type is already the contract type is used directly (integer → whole
  number or yen, decimal with at most 2 decimals → yen, bool, date, timestamp → timestamp or
  date, a time zone-aware timestamp converted to Asia/Tokyo local time), with no text round trip;
- any other plain column is turned into the text pyarrow's cast gives and parsed as text;
- the text of a value (quoted by reasons, kept in rejects and ``_extra_columns``) is pyarrow's.

Good rows go straight into the load's Parquet file (``raw_layer``: made final by the caller, or
discarded when the file is refused); only when some rows are bad is the file read a second time
for them, into the rejects table.

A file that is not plain gets no plan and takes the row-parse path: binary or nested columns;
float columns (DuckDB's text of a float is not pyarrow's); nanosecond timestamps (the row-parse
path rejects their 9-digit fractions); time zones other than UTC, Asia/Tokyo or a fixed offset;
dates and timestamps outside the years 1900-8999 or without statistics to tell; a header that
would be refused. So does a file DuckDB cannot read to its end (the caller falls back on
``NATIVE_READ_ERRORS``, after rolling the attempt back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from crm.contract import SQL_TYPES, Column, Feed
from crm.loading.checks import Cell, json_object, row_checks, text_cell
from crm.loading.parsing import parse_expr, quote_identifier, quote_literal
from crm.loading.raw_layer import discard_partial, write_partial
from crm.loading.tables import REJECTS_TABLE

Kind = Literal["string", "integer", "bool", "decimal", "date", "timestamp", "zoned"]

ROW_NUMBER = "file_row_number"
#: Errors of DuckDB reading a file whose footer is fine but whose data is not (damaged pages
#: give IO, invalid input or plain errors such as "Out of buffer").
NATIVE_READ_ERRORS = (duckdb.Error,)
#: Dates and timestamps must lie in these years (by the file's statistics): there pyarrow's text
#: and DuckDB's values agree (4-digit years, whole-minute offsets of the allowed time zones).
YEARS = (1900, 8999)
FRACTIONS = {"s": "", "ms": ".%g", "us": ".%f"}
UTC_ZONES = ("Etc/UTC", "GMT", "Etc/GMT")
NAMED_ZONES = ("Asia/Tokyo",)
FIXED_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")
GLOB_CHARACTERS = frozenset("*?[]{}")
INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
)
TIMESTAMP_TYPES = frozenset(("TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_S"))


@dataclass(frozen=True)
class SourceColumn:
    """A column of the Parquet file and how to read it."""

    name: str  # the header name: stripped and lower-cased, as the row-parse path names it
    ref: str  # SQL reference to the column as DuckDB reads it
    kind: Kind
    #: SQL: the value as the text pyarrow's cast to string gives.
    text: str
    #: The type DuckDB must read the column as (checked before loading).
    duckdb_types: frozenset[str]
    scale: int = 0


@dataclass(frozen=True)
class NativePlan:
    path: Path
    columns: list[SourceColumn]
    num_rows: int

    @property
    def scan(self) -> str:
        return (
            f"read_parquet({quote_literal(str(self.path))}, "
            f"{ROW_NUMBER} = true, hive_partitioning = false)"
        )


def native_plan(path: Path, feed: Feed) -> NativePlan | None:
    """How to load the file natively, or None when it must take the row-parse path."""
    path = path.resolve()
    if GLOB_CHARACTERS.intersection(str(path)):
        return None  # read_parquet would take the name as a pattern
    try:
        with pq.ParquetFile(path) as parquet:
            schema = parquet.schema_arrow
            metadata = parquet.metadata
    except Exception:  # damaged: the row-parse path refuses it with its reason
        return None
    header = [name.strip().lower() for name in schema.names]
    if (
        "" in header
        or len(set(header)) != len(header)
        or ROW_NUMBER in header
        or any(c not in header for c in feed.required_columns)
        or metadata.num_columns != len(header)
    ):
        return None  # refused (or odd): the row-parse path says why
    columns: list[SourceColumn] = []
    for index, (name, arrow_field) in enumerate(zip(header, schema, strict=True)):
        column = _source_column(name, arrow_field)
        if column is None:
            return None
        if column.kind in ("date", "timestamp", "zoned") and not _years_in_range(metadata, index):
            return None
        columns.append(column)
    return NativePlan(path, columns, metadata.num_rows)


def duckdb_reads_as_planned(conn: duckdb.DuckDBPyConnection, plan: NativePlan) -> bool:
    """DuckDB sees the columns and types the plan expects (else take the row-parse path)."""
    try:
        described = conn.execute(f"describe select * from {plan.scan}").fetchall()
    except duckdb.Error:
        return False
    *columns, (last, *_) = described
    if last != ROW_NUMBER or len(columns) != len(plan.columns):
        return False
    return all(
        quote_identifier(name) == column.ref and str(duckdb_type) in column.duckdb_types
        for (name, duckdb_type, *_), column in zip(columns, plan.columns, strict=True)
    )


def load_native(
    conn: duckdb.DuckDBPyConnection,
    plan: NativePlan,
    feed: Feed,
    source: str,
    load_id: int,
    now: datetime,
) -> tuple[int, int]:
    """Write the good rows as the load's Parquet file (not final yet) and the bad ones into the
    rejects table; returns (loaded, rejected)."""
    by_name = {c.name: c for c in plan.columns}
    cells = {c.name: _cell(c, by_name[c.name]) for c in feed.columns if c.name in by_name}
    checks = row_checks(feed, cells)
    extras = json_object([(c.name, c.text) for c in plan.columns if c.name not in cells])
    line = f"{ROW_NUMBER} + 1"
    loaded = write_partial(
        conn,
        feed,
        load_id,
        source,
        now,
        f"""
        select {", ".join(checks.typed_columns)},
               {line} as _source_line, {extras} as _extra_columns
        from {plan.scan}
        where {checks.ok}
        """,
    )
    rejected = plan.num_rows - loaded
    if rejected:
        record = json_object([(c.name, c.text) for c in plan.columns])
        found = conn.execute(
            f"""
            insert into {REJECTS_TABLE}
            select ?, ?, ?, {line}, {checks.first_column}, {checks.reasons}, {record}, ?
            from {plan.scan}
            where not ({checks.ok})
            """,
            [load_id, feed.name, source, now],
        ).fetchone()
        if not found or found[0] != rejected:
            raise RuntimeError(
                f"{source}: {plan.num_rows} rows, {loaded} loaded, but "
                f"{found[0] if found else 0} rejected"
            )
    return loaded, rejected


def reject_all_native(
    conn: duckdb.DuckDBPyConnection,
    plan: NativePlan,
    feed: Feed,
    source: str,
    load_id: int,
    now: datetime,
    reason: str,
) -> None:
    """Undo ``load_native`` for ``load_id`` (same transaction; its file is discarded, never made
    final) and put every row of the file in
    the rejects table with ``reason``; a row with its own problem keeps its first bad column and
    its reasons after ``reason`` (as the row-parse path does)."""
    by_name = {c.name: c for c in plan.columns}
    cells = {c.name: _cell(c, by_name[c.name]) for c in feed.columns if c.name in by_name}
    checks = row_checks(feed, cells)
    record = json_object([(c.name, c.text) for c in plan.columns])
    discard_partial(conn, feed, load_id)
    conn.execute(f"delete from {REJECTS_TABLE} where load_id = ?", [load_id])
    conn.execute(
        f"""
        insert into {REJECTS_TABLE}
        select ?, ?, ?, {ROW_NUMBER} + 1, {checks.first_column},
               ? || coalesce('; ' || {checks.reasons}, ''), {record}, ?
        from {plan.scan}
        """,
        [load_id, feed.name, source, reason, now],
    )


def _cell(column: Column, source: SourceColumn) -> Cell:
    if source.kind == "string":
        return text_cell(column.type, source.ref)
    direct = _direct_value(column, source)
    typed = direct if direct is not None else parse_expr(column.type, source.text)
    return Cell(source.text, typed, f"{source.ref} is not null")


def _direct_value(column: Column, source: SourceColumn) -> str | None:
    """SQL for the contract value straight from the typed value; None: parse its text."""
    ref, kind = source.ref, source.kind
    local = f"timezone('Asia/Tokyo', {ref})" if kind == "zoned" else f"cast({ref} as timestamp)"
    if column.type == "timestamp" and kind in ("timestamp", "zoned", "date"):
        return local
    if column.type == "date" and kind in ("timestamp", "zoned", "date"):
        return f"cast({local} as date)"
    if column.type == "int" and kind == "integer":
        return f"try_cast({ref} as bigint)"
    if column.type == "yen" and (kind == "integer" or (kind == "decimal" and source.scale <= 2)):
        return f"try_cast({ref} as {SQL_TYPES['yen']})"
    if column.type == "bool" and kind == "bool":
        return ref
    return None


def _source_column(name: str, arrow_field: pa.Field) -> SourceColumn | None:
    """How to read a column of a plain type; None for any other type."""
    ref = quote_identifier(arrow_field.name)
    kind = arrow_field.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return None
    as_text = f"cast({ref} as varchar)"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return SourceColumn(name, ref, "string", ref, frozenset(("VARCHAR",)))
    if pa.types.is_integer(kind):
        return SourceColumn(name, ref, "integer", as_text, INTEGER_TYPES)
    if pa.types.is_boolean(kind):
        return SourceColumn(name, ref, "bool", as_text, frozenset(("BOOLEAN",)))
    if pa.types.is_decimal(kind) and 0 <= kind.scale <= kind.precision <= 38:
        duckdb_type = f"DECIMAL({kind.precision},{kind.scale})"
        return SourceColumn(name, ref, "decimal", as_text, frozenset((duckdb_type,)), kind.scale)
    if pa.types.is_date32(kind) or pa.types.is_date64(kind):
        return SourceColumn(name, ref, "date", as_text, frozenset(("DATE",)))
    if pa.types.is_timestamp(kind) and kind.unit in FRACTIONS:
        pattern = quote_literal("%Y-%m-%d %H:%M:%S" + FRACTIONS[kind.unit])
        if kind.tz is None:
            text = f"strftime(cast({ref} as timestamp), {pattern})"
            return SourceColumn(name, ref, "timestamp", text, TIMESTAMP_TYPES)
        text = _zoned_text(ref, kind.tz, pattern)
        if text is None:
            return None
        return SourceColumn(name, ref, "zoned", text, frozenset(("TIMESTAMP WITH TIME ZONE",)))
    return None


def _zoned_text(ref: str, zone: str, pattern: str) -> str | None:
    """SQL: pyarrow's text of a time zone-aware timestamp (local time in the column's zone and
    its offset, ``Z`` for UTC); None for a zone not handled here."""
    utc = f"timezone('UTC', {ref})"
    if zone == "UTC":
        return f"strftime({utc}, {pattern}) || 'Z'"
    if zone in UTC_ZONES:
        return f"strftime({utc}, {pattern}) || '+0000'"
    fixed = FIXED_OFFSET.fullmatch(zone)
    if fixed:
        sign, hours, minutes = fixed.groups()
        shift = int(f"{sign}{int(hours) * 60 + int(minutes)}")
        offset = quote_literal(f"{sign}{hours}{minutes}")
        return f"strftime({utc} + interval '{shift} minutes', {pattern}) || {offset}"
    if zone in NAMED_ZONES:
        local = f"timezone({quote_literal(zone)}, {ref})"
        minutes = f"date_diff('minute', {utc}, {local})"
        sign = f"case when {minutes} < 0 then '-' else '+' end"
        digits = (
            f"lpad(cast(abs({minutes}) // 60 as varchar), 2, '0') || "
            f"lpad(cast(abs({minutes}) % 60 as varchar), 2, '0')"
        )
        return f"strftime({local}, {pattern}) || {sign} || {digits}"
    return None


def _years_in_range(metadata: pq.FileMetaData, index: int) -> bool:
    """Every row group's statistics put the column's values in ``YEARS`` (or it is all null)."""
    low, high = YEARS
    for group in range(metadata.num_row_groups):
        chunk = metadata.row_group(group).column(index)
        if chunk.num_values == 0:
            continue
        stats = chunk.statistics
        if stats is None:
            return False
        if not stats.has_min_max:
            if stats.null_count != chunk.num_values:
                return False
            continue
        try:
            if not (low <= stats.min.year and stats.max.year <= high):
                return False
        except Exception:  # a value pyarrow cannot even turn into a date
            return False
    return True
