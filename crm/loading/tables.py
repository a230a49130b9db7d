"""The ``raw`` schema: one view per feed over its Parquet files (``raw_layer``), the load ledger
and the rejects table.

Every raw row carries load metadata: ``_load_id`` (the ledger entry of its file, increasing with
each load, so "the later file" is the larger id), ``_source_file``, ``_source_line``,
``_loaded_at`` and ``_extra_columns`` (a JSON object of the file's columns the contract does not
know, kept but ignored downstream). Raw tables keep every version of a row; the staging models
pick the latest version per key.
"""

from __future__ import annotations

import duckdb

from crm.contract import SQL_TYPES, Feed
from crm.loading.parsing import quote_identifier

RAW_SCHEMA = "raw"
LEDGER_TABLE = f"{RAW_SCHEMA}._load_ledger"
REJECTS_TABLE = f"{RAW_SCHEMA}._rejects"

METADATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_load_id", "bigint not null"),
    ("_source_file", "varchar not null"),
    ("_source_line", "bigint not null"),
    ("_loaded_at", "timestamp not null"),
    ("_extra_columns", "varchar"),
)


def raw_table(feed: Feed) -> str:
    return f"{RAW_SCHEMA}.{quote_identifier(feed.name)}"


def feed_columns(feed: Feed) -> list[tuple[str, str]]:
    """The columns of ``raw.<feed>`` and their SQL types: the contract's, then the load's."""
    columns = [(c.name, SQL_TYPES[c.type]) for c in feed.columns]
    return columns + [
        (name, sql_type.removesuffix(" not null")) for name, sql_type in METADATA_COLUMNS
    ]


LEDGER_DDL = f"""
create table if not exists {LEDGER_TABLE} (
  load_id bigint primary key,
  feed varchar not null,
  source_file varchar not null,
  file_sha256 varchar not null,
  file_bytes bigint not null,
  encoding varchar,
  rows_in_file bigint not null,
  rows_loaded bigint not null,
  rows_rejected bigint not null,
  status varchar not null,
  message varchar,
  loaded_at timestamp not null,
  raw_file varchar
)
"""

REJECTS_DDL = f"""
create table if not exists {REJECTS_TABLE} (
  load_id bigint not null,
  feed varchar not null,
  source_file varchar not null,
  source_line bigint,
  column_name varchar,
  reason varchar not null,
  raw_record varchar,
  rejected_at timestamp not null
)
"""


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, the ledger (``raw_file`` added to an older one) and the rejects
    table, then every feed's view from the ledger (empty when a shop has no such feed; raw
    tables of an older warehouse migrated first: see ``raw_layer``). Idempotent."""
    from crm.loading.raw_layer import ensure_raw_layer  # it builds on this module

    conn.execute(f"create schema if not exists {RAW_SCHEMA}")
    conn.execute(LEDGER_DDL)
    conn.execute(f"alter table {LEDGER_TABLE} add column if not exists raw_file varchar")
    conn.execute(REJECTS_DDL)
    ensure_raw_layer(conn)
