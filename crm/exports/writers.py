"""The export file formats: CSV (UTF-8, optionally with BOM), CP932 CSV and Parquet.

CSV files are for people and spreadsheets: every text cell that a spreadsheet would run as a
formula is neutralised (see crm.exports.cells). Parquet files are for tools: they keep the
values exactly as the warehouse holds them, typed. Nothing in a file depends on the time it was
written, so the same data always gives the same bytes.
"""

from __future__ import annotations

import csv
import decimal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crm.exports.cells import safe_text
from crm.exports.cp932 import to_cp932_text


@dataclass
class CsvStats:
    rows: int = 0
    #: Text cells given a leading quote because they looked like a formula.
    neutralised_cells: int = 0
    #: Characters the target encoding could not hold (CP932 only), replaced by 〓.
    replaced_characters: int = 0
    #: customer_id of every row with a replaced character.
    customers_with_replaced_characters: list[str] = field(default_factory=list)


def format_cell(value: Any) -> str | None:
    """A non-text value as CSV text; None for text (which needs neutralising) and for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    return None


def csv_rows(table: pa.Table, stats: CsvStats, cp932: bool) -> Iterator[list[str]]:
    columns = table.column_names
    yield list(columns)
    for record in table.to_pylist():
        row: list[str] = []
        replaced_here = 0
        for column in columns:
            value = record[column]
            text = format_cell(value)
            if text is None:
                text = str(value)
                if cp932:
                    text, replaced = to_cp932_text(text)
                    replaced_here += replaced
                text, neutralised = safe_text(text, column)
                stats.neutralised_cells += neutralised
            row.append(text)
        if replaced_here:
            stats.replaced_characters += replaced_here
            stats.customers_with_replaced_characters.append(str(record.get("customer_id")))
        stats.rows += 1
        yield row


def write_csv(path: Path, table: pa.Table, encoding: str) -> CsvStats:
    """Write ``table`` as CSV (RFC 4180: comma, CRLF, quotes only where needed).

    ``encoding`` is ``utf-8``, ``utf-8-sig`` (with BOM, for Excel) or ``cp932``.
    """
    stats = CsvStats()
    cp932 = encoding == "cp932"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerows(csv_rows(table, stats, cp932))
    return stats


def write_parquet(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, compression="zstd")
