"""Publish the night's results for BI readers: a copy of ``marts``, ``audiences`` and
``reference`` in a DuckDB file that DuckDB 1.4 clients can open, swapped in atomically.

The copy is written to ``<published>.partial`` (``STORAGE_VERSION 'v1.4.0'``), checkpointed and
closed, then ``os.replace``-d onto the published path: a reader sees yesterday's file or
tonight's, never half of one. No personal data is copied: the ``exports``, ``raw`` and
``staging`` schemas are left out, and within the published schemas only allowed columns are
copied (:func:`withheld_columns`), by allowlist:

* the table is a dbt model or seed of the manifest whose ``meta`` says
  ``contains_personal_data: false``;
* the column is documented in its yml (it is in the manifest node's ``columns``) and its own
  ``meta`` does not say ``personal: true``;
* its name is not one of the contract's personal columns (``email``, ``birth_date`` ...: a yml
  that documents one by mistake still does not publish it);
* a value scan of its first ``SCAN_ROWS`` rows finds no value that looks like an e-mail address,
  a Japanese phone number or a postal address (:mod:`crm.personal_data`).

Any other column is withheld: left out of the published table (a table with no allowed column is
not published), named with the reason in the result (the caller logs and alerts), never with a
value.

Most tables are rebuilt every night and copied whole. The tables written once per partition
and kept (the RFM month-end history, the frozen stable segments: ``PARTITIONED_TABLES``) are
most of the file's rows and change by a partition or two a night, so when yesterday's file was
published from the same build database it is the starting point: ``.partial`` starts as a copy
of it, and only the partitions whose rows differ from the build's (row count, or the stamps of
the runs that wrote them) or that tonight's run wrote are copied again. A file with much free
space (more than half its blocks) is written afresh instead.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from crm.exports.audiences import load_manifest
from crm.file_modes import PRIVATE_FILE_MODE, restrict
from crm.personal_data import (
    ADDRESS_PATTERN,
    EMAIL,
    EMAIL_PATTERN,
    PERSONAL_COLUMNS,
    PHONE,
    PHONE_DIGITS_PATTERN,
    PHONE_PATTERN,
    POSTAL_ADDRESS,
    POSTAL_CODE_PATTERN,
)
from crm.settings import apply_private_umask, duckdb_config, shop_now

PUBLISHED_SCHEMAS = ("marts", "audiences", "reference")
STORAGE_VERSION = "v1.4.0"
#: Tables written once per partition and kept: table -> (partition column, the column stamping
#: each row with the as-of date of the run that wrote it).
PARTITIONED_TABLES = {
    "marts.customer_rfm_history": ("snapshot_date", "_staged_as_of"),
    "marts.stable_segments": ("term_start", "assigned_as_of_date"),
    "marts.stable_segments_by_category": ("term_start", "assigned_as_of_date"),
}
#: Start from yesterday's file only while at most this share of its blocks is free space. The
#: tables copied whole every night leave their old blocks free for the next night's copy, so a
#: file settles at about its data plus one night's worth of those tables: under half free.
MAX_FREE_SHARE = 0.5
#: The value scan reads the first rows of each table, not all: a published column holds one kind
#: of value (ids, labels, amounts), so personal data in it shows in any 200,000 of its rows, and
#: a full scan of the largest tables (the RFM history is most of the file) would cost about as
#: much as the copy itself. Enough rows to cover every row of every audience and report.
SCAN_ROWS = 200_000
#: The model- or seed-level ``meta`` key that must be ``false`` for any column to be published.
MODEL_META_KEY = "contains_personal_data"
#: The column-level ``meta`` key that withholds a documented column.
COLUMN_META_KEY = "personal"


class PublicationError(RuntimeError):
    """The warehouse cannot be published as it is."""


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: dict[str, int]
    bytes: int
    #: Partitioned tables updated in place: table -> partitions copied again tonight.
    partitions_copied: dict[str, int] = field(default_factory=dict)
    #: True when the file started from yesterday's publication.
    incremental: bool = False
    #: Columns left out: ``schema.table.column`` -> why (never a value).
    withheld: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentedTable:
    """A published model or seed as its yml documents it."""

    name: str
    #: False only when its meta says ``contains_personal_data: false``.
    may_hold_personal_data: bool
    #: Documented columns (lower case) -> True when the column's meta says ``personal: true``.
    columns: dict[str, bool]


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    meta = dict(entry.get("meta") or {})
    meta.update((entry.get("config") or {}).get("meta") or {})
    return meta


def documented_tables(manifest: Path | dict[str, Any]) -> dict[tuple[str, str], DocumentedTable]:
    """(schema, table) -> how the manifest documents it, for the models and seeds of the
    published schemas."""
    data = manifest if isinstance(manifest, dict) else load_manifest(manifest)
    found: dict[tuple[str, str], DocumentedTable] = {}
    for node in data.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        if str(node.get("schema")) not in PUBLISHED_SCHEMAS:
            continue
        name = str(node.get("alias") or node["name"])
        found[(str(node["schema"]), name)] = DocumentedTable(
            name=str(node["name"]),
            may_hold_personal_data=_meta(node).get(MODEL_META_KEY) is not False,
            columns={
                str(column.get("name") or key).lower(): _meta(column).get(COLUMN_META_KEY) is True
                for key, column in (node.get("columns") or {}).items()
            },
        )
    return found


def _documentation_reason(documented: DocumentedTable | None, column: str) -> str | None:
    """Why the yml does not allow the column to be published, or None when it does."""
    if documented is None:
        return "the table is not a dbt model or seed of the manifest"
    if documented.may_hold_personal_data:
        return f"{documented.name} does not declare meta {MODEL_META_KEY}: false in its yml"
    if column.lower() not in documented.columns:
        return f"the column is not documented in the yml of {documented.name}"
    if documented.columns[column.lower()]:
        return f"the column's meta says {COLUMN_META_KEY}: true"
    if column.lower() in PERSONAL_COLUMNS:
        return "the column is named like a personal column of the landing contract"
    return None


def _value_scan(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str]
) -> dict[str, str]:
    """Column -> the kind of personal data some of its first ``SCAN_ROWS`` values look like.

    The patterns run on each column's distinct values: most published text columns are labels
    and codes with a handful of values, so the regular expressions (the cost of the scan) run
    a few times instead of once per row."""
    found: dict[str, str] = {}
    source = f"wh.{_quote(schema)}.{_quote(table)}"
    for column in columns:
        value = "trim(v)"
        digits = f"regexp_replace(regexp_replace({value}, '^\\+81', '0'), '[^0-9]', '', 'g')"
        hits = conn.execute(
            f"""
            select
                bool_or(regexp_full_match({value}, {_literal(EMAIL_PATTERN)})),
                bool_or(regexp_full_match({value}, {_literal(PHONE_PATTERN)})
                    and regexp_full_match({digits}, {_literal(PHONE_DIGITS_PATTERN)})),
                bool_or(regexp_full_match({value}, {_literal(POSTAL_CODE_PATTERN)})
                    or regexp_matches({value}, {_literal(ADDRESS_PATTERN)}))
            from (
                select distinct {_quote(column)} as v
                from (select {_quote(column)} from {source} limit {SCAN_ROWS})
            )
            """
        ).fetchone()
        for kind, hit in zip((EMAIL, PHONE, POSTAL_ADDRESS), hits or (), strict=False):
            if hit:
                found[column] = kind
                break
    return found


def withheld_columns(
    conn: duckdb.DuckDBPyConnection,
    documented: dict[tuple[str, str], DocumentedTable],
    schema: str,
    table: str,
) -> tuple[list[str], dict[str, str]]:
    """The columns of ``wh.schema.table`` to publish (in table order) and those withheld with
    why (see the module docstring)."""
    columns = _columns(conn, "wh", schema, table)
    withheld: dict[str, str] = {}
    for column, _type in columns:
        reason = _documentation_reason(documented.get((schema, table)), column)
        if reason:
            withheld[column] = reason
    text_columns = [c for c, t in columns if c not in withheld and t.upper() == "VARCHAR"]
    for column, kind in _value_scan(conn, schema, table, text_columns).items():
        withheld[column] = f"values look like {kind} (value scan of the first {SCAN_ROWS:,} rows)"
    return [c for c, _ in columns if c not in withheld], withheld


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _reusable(warehouse_path: Path, build_path: Path) -> bool:
    """Yesterday's published file can be tonight's starting point: it opens, was published from
    the same build database, and is not mostly free space."""
    if not warehouse_path.exists():
        return False
    try:
        with duckdb.connect(str(warehouse_path), read_only=True) as old:
            source = old.execute("select source_warehouse from main._publication").fetchone()
            size = old.execute("select total_blocks, free_blocks from pragma_database_size()")
            total, free = size.fetchone()  # type: ignore[misc]
    except duckdb.Error:
        return False
    return bool(source and source[0] == str(build_path)) and free <= MAX_FREE_SHARE * total


def _columns(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list:
    return conn.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_catalog = ? and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [catalog, schema, table],
    ).fetchall()


def _sync_partitions(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, as_of: date, published: list[str]
) -> int | None:
    """Bring ``pub``'s copy of a partitioned table (its ``published`` columns) in line with
    ``wh``'s, partition by partition; the number of partitions copied, or None when it must be
    copied whole."""
    partition, stamp = PARTITIONED_TABLES[f"{schema}.{table}"]
    if partition not in published or stamp not in published:
        return None
    wanted = [c for c in _columns(conn, "wh", schema, table) if c[0] in published]
    if _columns(conn, "pub", schema, table) != wanted:
        return None  # new table or other columns
    name = f"{_quote(schema)}.{_quote(table)}"
    summary = (
        f"select {_quote(partition)} as part, count(*) as n, min({_quote(stamp)}) as first_stamp, "
        f"max({_quote(stamp)}) as last_stamp from {{}}.{name} group by 1"
    )
    conn.execute(
        f"""
        create or replace temp table stale_partitions as
        select coalesce(built.part, published.part) as part, built.part is not null as in_build
        from ({summary.format("wh")}) as built
        full outer join ({summary.format("pub")}) as published
            on built.part = published.part
        where
            built.part is null
            or published.part is null
            or built.n <> published.n
            or built.first_stamp is distinct from published.first_stamp
            or built.last_stamp is distinct from published.last_stamp
            or built.last_stamp >= ?
        """,
        [as_of],
    )
    conn.execute(
        f"delete from pub.{name} where {_quote(partition)} in (select part from stale_partitions)"
    )
    conn.execute(
        f"insert into pub.{name} select {', '.join(map(_quote, published))} from wh.{name} "
        f"where {_quote(partition)} in (select part from stale_partitions where in_build)"
    )
    copied = conn.execute("select count(*) from stale_partitions where in_build").fetchone()
    return int(copied[0])  # type: ignore[index]


def publish_warehouse(
    build_path: Path, warehouse_path: Path, as_of: date, manifest: Path | dict[str, Any]
) -> Publication:
    """Publish the allowed columns of the build's published schemas (``manifest``: the dbt
    manifest, or its path, that documents them) to ``warehouse_path``, 0640."""
    apply_private_umask()
    documented = documented_tables(manifest)
    withheld: dict[str, str] = {}
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    partial = warehouse_path.with_name(warehouse_path.name + ".partial")
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)
    incremental = _reusable(warehouse_path, build_path)
    if incremental:
        shutil.copyfile(warehouse_path, partial)
    tables: dict[str, int] = {}
    partitions_copied: dict[str, int] = {}
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
        allowed: dict[tuple[str, str], list[str]] = {}
        for schema, table in relations:
            columns, held = withheld_columns(conn, documented, schema, table)
            withheld.update((f"{schema}.{table}.{c}", why) for c, why in held.items())
            if columns:
                allowed[(schema, table)] = columns
        relations = [r for r in relations if r in allowed]
        for schema in PUBLISHED_SCHEMAS:
            conn.execute(f"create schema if not exists pub.{_quote(schema)}")
        # tables of yesterday's file that the build no longer has
        for schema, table in conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_catalog = 'pub' and table_schema in ?
            """,
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall():
            if (schema, table) not in relations:
                conn.execute(f"drop table pub.{_quote(schema)}.{_quote(table)}")
        for schema, table in relations:
            target = f"pub.{_quote(schema)}.{_quote(table)}"
            copied = None
            columns = allowed[(schema, table)]
            if incremental and f"{schema}.{table}" in PARTITIONED_TABLES:
                copied = _sync_partitions(conn, schema, table, as_of, columns)
            if copied is None:
                conn.execute(
                    f"create or replace table {target} as select "
                    f"{', '.join(map(_quote, columns))} from wh.{_quote(schema)}.{_quote(table)}"
                )
            else:
                partitions_copied[f"{schema}.{table}"] = copied
            tables[f"{schema}.{table}"] = int(
                conn.execute(f"select count(*) from {target}").fetchone()[0]
            )  # type: ignore[index]
        conn.execute(
            "create or replace table pub.main._publication as select ? as as_of_date, "
            "? as published_at, ? as source_warehouse",
            [as_of, shop_now(), str(build_path)],
        )
        conn.execute("checkpoint pub")
        conn.execute("detach pub")
        conn.execute("detach wh")
    except BaseException:
        conn.close()
        partial.unlink(missing_ok=True)
        raise
    conn.close()
    restrict(partial, PRIVATE_FILE_MODE)  # a copy of yesterday's file keeps no looser mode
    os.replace(partial, warehouse_path)
    return Publication(
        path=warehouse_path,
        tables=tables,
        bytes=warehouse_path.stat().st_size,
        partitions_copied=partitions_copied,
        incremental=incremental,
        withheld=withheld,
    )
