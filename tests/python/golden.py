"""Golden digests of the output tables: a model change that moves any figure of a mart shows up.

``digests`` reads every table of the output schemas of a build database and returns, per table,
its row count, a digest of its sorted rows and one digest per column (so a failure names the
columns that moved). Values are compared as text, doubles rounded to 9 significant digits (a
sum in another order may differ in the last bits); internal columns (``_``-prefixed) are left
out. The digests hold no value, so the golden files hold no data.

A model change that is meant to move a figure (a documented fix) updates the golden files:
``CRM_UPDATE_GOLDEN=1 pytest tests/python/test_golden_marts.py``, and says why in its commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
#: The schemas whose tables are the product (what BI tools and exports read).
OUTPUT_SCHEMAS = ("marts", "audiences")
SIGNIFICANT_DIGITS = 9


def _text(name: str, data_type: str) -> str:
    column = f'"{name}"'
    if data_type in ("DOUBLE", "FLOAT", "REAL"):
        rounded = f"printf('%.{SIGNIFICANT_DIGITS - 1}e', {column})"
        value = f"case when {column} = 0 then '0' else {rounded} end"
    else:
        value = f"cast({column} as varchar)"
    return f"coalesce({value}, '<null>')"


def table_digest(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, Any]:
    columns = [
        (name, data_type)
        for name, data_type in conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        if not name.startswith("_")
    ]
    texts = [_text(name, data_type) for name, data_type in columns]
    row = " || '|' || ".join(texts) if texts else "''"
    per_column = ", ".join(f"md5(string_agg({text}, chr(10) order by {text}))" for text in texts)
    found = conn.execute(
        f"select count(*), md5(coalesce(string_agg({row}, chr(10) order by {row}), ''))"
        f"{', ' + per_column if per_column else ''} "
        f'from "{schema}"."{table}"'
    ).fetchone()
    assert found is not None
    rows, all_rows, *by_column = found
    return {
        "rows": int(rows),
        "digest": all_rows,
        "columns": {name: digest for (name, _), digest in zip(columns, by_column, strict=True)},
    }


def digests(database: Path) -> dict[str, dict[str, Any]]:
    """Every output table of ``database`` (read only) by ``schema.table``."""
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({', '.join('?' for _ in OUTPUT_SCHEMAS)}) "
            "order by 1, 2",
            list(OUTPUT_SCHEMAS),
        ).fetchall()
        return {f"{schema}.{table}": table_digest(conn, schema, table) for schema, table in tables}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What moved, table by table: missing or new tables, row counts, the columns that differ."""
    found: list[str] = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            found.append(f"{table}: missing")
            continue
        if table not in expected:
            found.append(f"{table}: new (not in the golden file)")
            continue
        before, now = expected[table], actual[table]
        if before == now:
            continue
        moved = sorted(
            c
            for c in set(before["columns"]) | set(now["columns"])
            if before["columns"].get(c) != now["columns"].get(c)
        )
        found.append(
            f"{table}: rows {before['rows']} -> {now['rows']}; columns that moved: "
            f"{', '.join(moved) or '(none: the rows pair differently)'}"
        )
    return found


def check_against_golden(database: Path, name: str) -> list[str]:
    """Compare ``database`` with ``tests/golden/<name>.json`` (or rewrite the file when
    ``CRM_UPDATE_GOLDEN=1``); returns the differences."""
    path = GOLDEN_DIR / f"{name}.json"
    actual = digests(database)
    if os.environ.get("CRM_UPDATE_GOLDEN") == "1":
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        return []
    if not path.exists():
        return [f"no golden file {path}: write it with CRM_UPDATE_GOLDEN=1"]
    return differences(json.loads(path.read_text()), actual)
