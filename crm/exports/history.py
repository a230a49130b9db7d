"""``exports.export_history``: who was exported or held out, per audience, channel and night."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

HISTORY_TABLE = "exports.export_history"

# dbt creates the table in an on-run-start hook; this is the same definition, so the export code
# also works on a warehouse built before the hook existed.
_CREATE = f"""
create schema if not exists exports;
create table if not exists {HISTORY_TABLE} (
    audience varchar,
    channel varchar,
    customer_id varchar,
    export_date date,
    is_holdout boolean,
    file_name varchar
)
"""


def record_history(
    conn: duckdb.DuckDBPyConnection,
    *,
    audience: str,
    channel: str,
    export_date: date,
    exported: list[str],
    held_out: list[str],
    file_name: str,
) -> None:
    """Replace the history of (audience, channel, export_date) in one transaction.

    Re-running a night replaces its rows instead of adding to them.
    """
    conn.execute(_CREATE)
    rows = pa.table(
        {
            "customer_id": pa.array([*exported, *held_out], pa.string()),
            "is_holdout": pa.array([False] * len(exported) + [True] * len(held_out), pa.bool_()),
        }
    )
    conn.register("_export_history_rows", rows)
    try:
        conn.execute("begin transaction")
        try:
            conn.execute(
                f"delete from {HISTORY_TABLE} "
                "where audience = ? and channel = ? and export_date = ?",
                [audience, channel, export_date],
            )
            conn.execute(
                f"""
                insert into {HISTORY_TABLE}
                    (audience, channel, customer_id, export_date, is_holdout, file_name)
                select ?, ?, customer_id, ?, is_holdout, ?
                from _export_history_rows
                order by is_holdout, customer_id
                """,
                [audience, channel, export_date, file_name],
            )
        except BaseException:
            conn.execute("rollback")
            raise
        conn.execute("commit")
    finally:
        conn.unregister("_export_history_rows")
