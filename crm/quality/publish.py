"""Publish the night's results for BI readers: a copy of ``marts``, ``audiences`` and
``reference`` in a DuckDB file that DuckDB 1.4 clients can open, swapped in atomically.

The copy is written to ``<published>.partial`` (``STORAGE_VERSION 'v1.4.0'``), checkpointed and
closed, then ``os.replace``-d onto the published path: a reader sees yesterday's file or
tonight's, never half of one. No personal data is copied (the ``exports``, ``raw`` and
``staging`` schemas are left out, and a column named like contact data refuses the publication).

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

import duckdb

from crm.settings import duckdb_config, shop_now

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
    #: Partitioned tables updated in place: table -> partitions copied again tonight.
    partitions_copied: dict[str, int] = field(default_factory=dict)
    #: True when the file started from yesterday's publication.
    incremental: bool = False


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
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, as_of: date
) -> int | None:
    """Bring ``pub``'s copy of a partitioned table in line with ``wh``'s, partition by partition;
    the number of partitions copied, or None when it must be copied whole."""
    partition, stamp = PARTITIONED_TABLES[f"{schema}.{table}"]
    if _columns(conn, "pub", schema, table) != _columns(conn, "wh", schema, table):
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
        f"insert into pub.{name} select * from wh.{name} where {_quote(partition)} in "
        "(select part from stale_partitions where in_build)"
    )
    copied = conn.execute("select count(*) from stale_partitions where in_build").fetchone()
    return int(copied[0])  # type: ignore[index]


def publish_warehouse(build_path: Path, warehouse_path: Path, as_of: date) -> Publication:
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
            if incremental and f"{schema}.{table}" in PARTITIONED_TABLES:
                copied = _sync_partitions(conn, schema, table, as_of)
            if copied is None:
                conn.execute(
                    f"create or replace table {target} as "
                    f"select * from wh.{_quote(schema)}.{_quote(table)}"
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
    os.replace(partial, warehouse_path)
    return Publication(
        path=warehouse_path,
        tables=tables,
        bytes=warehouse_path.stat().st_size,
        partitions_copied=partitions_copied,
        incremental=incremental,
    )
