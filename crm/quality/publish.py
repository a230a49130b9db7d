"""Publish the night's results for BI readers: a copy of ``marts``, ``audiences`` and
``reference`` in a DuckDB file that DuckDB 1.4 clients can open, swapped in atomically.

The copy is written to ``<published>.partial`` (``STORAGE_VERSION 'v1.4.0'``), checkpointed and
closed, then ``os.replace``-d onto the published path: a reader sees yesterday's file or
tonight's, never half of one. No personal data is copied (the ``exports``, ``raw`` and
``staging`` schemas are left out, and a column named like contact data refuses the publication).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from crm.settings import TOKYO, duckdb_config

PUBLISHED_SCHEMAS = ("marts", "audiences", "reference")
STORAGE_VERSION = "v1.4.0"
#: Column names that would mean contact data leaked into a published schema.
PERSONAL_COLUMNS = frozenset(
    {
        "email",
        "phone",
        "phone_e164",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "postal_code",
        "address_line1",
        "address_line2",
        "city",
    }
)


class PublicationError(RuntimeError):
    """The warehouse cannot be published as it is."""


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: dict[str, int]
    bytes: int


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish_warehouse(build_path: Path, warehouse_path: Path, as_of: date) -> Publication:
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    partial = warehouse_path.with_name(warehouse_path.name + ".partial")
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)
    tables: dict[str, int] = {}
    conn = duckdb.connect(config=duckdb_config(warehouse_path))  # its own spill folder
    try:
        conn.execute(f"attach {_literal(str(build_path))} as wh (read_only)")
        conn.execute(
            f"attach {_literal(str(partial))} as pub (storage_version '{STORAGE_VERSION}')"
        )
        relations = conn.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_catalog = 'wh' and table_schema in ?
            order by table_schema, table_name
            """,
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
        personal = conn.execute(
            """
            select table_schema || '.' || table_name || '.' || column_name
            from information_schema.columns
            where table_catalog = 'wh' and table_schema in ? and lower(column_name) in ?
            """,
            [list(PUBLISHED_SCHEMAS), sorted(PERSONAL_COLUMNS)],
        ).fetchall()
        if personal:
            raise PublicationError(
                "personal data in a published schema: " + ", ".join(p for (p,) in personal)
            )
        for schema in PUBLISHED_SCHEMAS:
            conn.execute(f"create schema if not exists pub.{_quote(schema)}")
        for schema, table in relations:
            target = f"pub.{_quote(schema)}.{_quote(table)}"
            conn.execute(
                f"create table {target} as select * from wh.{_quote(schema)}.{_quote(table)}"
            )
            tables[f"{schema}.{table}"] = int(
                conn.execute(f"select count(*) from {target}").fetchone()[0]
            )  # type: ignore[index]
        conn.execute(
            "create table pub.main._publication as select ? as as_of_date, ? as published_at, "
            "? as source_warehouse",
            [as_of, datetime.now(TOKYO).replace(tzinfo=None), str(build_path)],
        )
        conn.execute("checkpoint pub")
        conn.execute("detach pub")
        conn.execute("detach wh")
    except BaseException:
        conn.close()
        partial.unlink(missing_ok=True)
        raise
    conn.close()
    os.replace(partial, warehouse_path)
    return Publication(path=warehouse_path, tables=tables, bytes=warehouse_path.stat().st_size)
