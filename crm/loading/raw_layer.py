"""The typed Parquet raw layer: one immutable Parquet file per feed and load, read through views.

The good typed rows of each loaded landing file are written once, with DuckDB's ``COPY ... TO``
(zstd), to ``<database file name>.raw/<feed>/load_<load id>.parquet`` beside the database file:
the contract columns in contract order with their SQL types, then ``_load_id, _source_file,
_source_line, _loaded_at, _extra_columns`` (every column cast explicitly, so every file of a
feed has the same schema). A file without good rows (refused, or every row rejected) gets none.

A file is written under a temporary name (``.load_<id>.parquet.partial``) and made final inside
the load's ledger transaction: renamed, recorded in ``raw._load_ledger.raw_file`` (relative to
the raw folder) and put in force by recreating the view ``raw.<feed>`` over every recorded
file of the feed (``read_parquet`` of their absolute paths; a typed empty select when the feed
has none), then committed. A crash before the commit leaves no file in force (the ledger and the
view roll back); files of the feed's folder the ledger does not record (partials, or a renamed
file whose commit never happened) are deleted at the next load of the feed (``remove_orphans``).

The views are recreated from the ledger whenever the loader starts on a connection
(``ensure_raw_layer``), so a database copied with its raw folder (``copy_warehouse``) reads its
own copy of the files. A warehouse whose ``raw.<feed>`` are still tables (before this layer) is
migrated there, in one transaction: one file per load, recorded, the tables dropped.

The DuckDB file keeps the ledger, the rejects and the models; the raw rows live in the folder.
A backup is both: the ``.duckdb`` file and its ``.raw`` folder.

An in-memory database has no file to put the folder beside: it gets a private temporary folder
(recorded in the database, removed when the process ends).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from crm.contract import FEEDS, Feed
from crm.file_modes import PRIVATE_DIR_MODE, restrict
from crm.loading.parsing import quote_identifier, quote_literal
from crm.loading.tables import (
    LEDGER_TABLE,
    RAW_SCHEMA,
    ensure_raw_schema,
    feed_columns,
    raw_table,
)
from crm.settings import duckdb_config, shop_now

#: The raw folder of ``warehouse.duckdb`` is ``warehouse.duckdb.raw``.
RAW_FOLDER_SUFFIX = ".raw"
PARTIAL_SUFFIX = ".partial"
LOAD_ID_DIGITS = 10
#: ``read_parquet`` takes these as a pattern: a raw folder must not contain them.
GLOB_CHARACTERS = frozenset("*?[]{}")
#: The temporary raw folder of an in-memory database (only such a database has this table).
MEMORY_FOLDER_TABLE = f"{RAW_SCHEMA}._memory_raw_folder"
_MEMORY_FOLDERS: list[Path] = []


class RawLayerError(RuntimeError):
    """The raw folder cannot be used: a recorded file is missing, or the path is unusable."""


# --- where the files are --------------------------------------------------------------------


def raw_folder_of(database: Path) -> Path:
    """The raw folder of the database file ``database``."""
    return database.with_name(database.name + RAW_FOLDER_SUFFIX)


def database_path(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the connection's current database (None: in memory)."""
    found = conn.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(found[0]).resolve() if found and found[0] else None


def raw_folder(conn: duckdb.DuckDBPyConnection) -> Path:
    """The connection's raw folder (not created here)."""
    path = database_path(conn)
    folder = raw_folder_of(path) if path else _memory_folder(conn)
    if GLOB_CHARACTERS.intersection(str(folder)):
        raise RawLayerError(
            f"the raw folder {folder} contains one of {''.join(sorted(GLOB_CHARACTERS))}: "
            "move the warehouse to a path without them"
        )
    return folder


def _memory_folder(conn: duckdb.DuckDBPyConnection) -> Path:
    conn.execute(f"create table if not exists {MEMORY_FOLDER_TABLE} (path varchar not null)")
    found = conn.execute(f"select path from {MEMORY_FOLDER_TABLE}").fetchone()
    if found:
        return Path(found[0])
    folder = Path(tempfile.mkdtemp(prefix="crm-raw-"))  # 0700
    if not _MEMORY_FOLDERS:
        atexit.register(_remove_memory_folders)
    _MEMORY_FOLDERS.append(folder)
    conn.execute(f"insert into {MEMORY_FOLDER_TABLE} values (?)", [str(folder)])
    return folder


def _remove_memory_folders() -> None:
    for folder in _MEMORY_FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)


def raw_file_name(feed: Feed, load_id: int) -> str:
    """A load's file, relative to the raw folder (as the ledger records it)."""
    return f"{feed.name}/load_{load_id:0{LOAD_ID_DIGITS}d}.parquet"


def _partial_path(folder: Path, feed: Feed, load_id: int) -> Path:
    final = folder / raw_file_name(feed, load_id)
    return final.with_name(f".{final.name}{PARTIAL_SUFFIX}")


def _feed_folder(conn: duckdb.DuckDBPyConnection, feed: Feed) -> Path:
    """The feed's folder, created private when missing."""
    folder = raw_folder(conn)
    for path in (folder, folder / feed.name):
        path.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        restrict(path)
    return folder / feed.name


# --- writing a load's file --------------------------------------------------------------------


def _typed_select(feed: Feed, source: str, given: dict[str, str]) -> str:
    """Every raw column of the feed, cast to its type, from ``source`` (aliased ``q``);
    ``given``: SQL for a column instead of ``q.<column>``."""
    columns = [
        f"cast({given.get(name, f'q.{quote_identifier(name)}')} as {sql_type}) "
        f"as {quote_identifier(name)}"
        for name, sql_type in feed_columns(feed)
    ]
    return f"select {', '.join(columns)} from ({source}) as q"


def _copy(conn: duckdb.DuckDBPyConnection, select_sql: str, path: Path, params: Any = None) -> int:
    path.unlink(missing_ok=True)
    written = conn.execute(
        f"copy ({select_sql}) to {quote_literal(str(path))} (format parquet, compression zstd)",
        params,
    ).fetchone()
    restrict(path)
    return int(written[0]) if written else 0


def load_columns(load_id: int, source_file: str, loaded_at: datetime) -> dict[str, str]:
    """SQL of the load columns a load's rows take from its ledger entry."""
    return {
        "_load_id": str(int(load_id)),
        "_source_file": quote_literal(source_file),
        "_loaded_at": f"timestamp {quote_literal(loaded_at.isoformat(sep=' '))}",
    }


def write_partial(
    conn: duckdb.DuckDBPyConnection,
    feed: Feed,
    load_id: int,
    source_file: str,
    loaded_at: datetime,
    select_sql: str,
    params: Any = None,
) -> int:
    """Write the rows of ``select_sql`` (the contract columns, ``_source_line`` and
    ``_extra_columns``) as the load's file under its temporary name; returns the rows written
    (no file is left for none). ``make_final`` puts it in force."""
    path = _partial_path(raw_folder(conn), feed, load_id)
    _feed_folder(conn, feed)
    select = _typed_select(feed, select_sql, load_columns(load_id, source_file, loaded_at))
    rows = _copy(conn, select, path, params)
    if not rows:
        path.unlink()
    return rows


def discard_partial(conn: duckdb.DuckDBPyConnection, feed: Feed, load_id: int) -> None:
    """Delete the load's temporary file, if any (a refused file keeps no rows)."""
    _partial_path(raw_folder(conn), feed, load_id).unlink(missing_ok=True)


def make_final(conn: duckdb.DuckDBPyConnection, feed: Feed, load_id: int) -> str | None:
    """Inside the load's ledger transaction: rename the load's temporary file to its final name;
    returns the name to record in the ledger (None: the load wrote no file). Record it, then
    ``refresh_view``, then commit."""
    folder = raw_folder(conn)
    partial = _partial_path(folder, feed, load_id)
    if not partial.exists():
        return None
    name = raw_file_name(feed, load_id)
    os.replace(partial, folder / name)  # a file of this uncommitted id can only be an orphan
    return name


# --- the views ----------------------------------------------------------------------------------


def in_force_files(conn: duckdb.DuckDBPyConnection, feed: Feed) -> list[str]:
    """The feed's files recorded in the ledger, by load."""
    found = conn.execute(
        f"select raw_file from {LEDGER_TABLE} where feed = ? and raw_file is not null "
        "order by load_id",
        [feed.name],
    ).fetchall()
    return [str(name) for (name,) in found]


def view_sql(feed: Feed, paths: list[Path]) -> str:
    """The select of the view ``raw.<feed>`` over ``paths`` (typed and empty without any)."""
    if not paths:
        return _typed_select(feed, "select 1 where false", dict.fromkeys(_names(feed), "null"))
    files = ", ".join(quote_literal(str(p)) for p in paths)
    columns = ", ".join(quote_identifier(name) for name in _names(feed))
    return f"select {columns} from read_parquet([{files}], hive_partitioning = false)"


def _names(feed: Feed) -> list[str]:
    return [name for name, _ in feed_columns(feed)]


def refresh_view(conn: duckdb.DuckDBPyConnection, feed: Feed) -> None:
    """(Re)create ``raw.<feed>`` over the feed's files recorded in the ledger."""
    folder = raw_folder(conn)
    paths = [folder / name for name in in_force_files(conn, feed)]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise RawLayerError(
            f"{len(missing)} raw file(s) of {feed.name} recorded in the ledger are missing, "
            f"e.g. {missing[0]}: restore the raw folder {folder} with the database "
            "(a warehouse is its .duckdb file and its .raw folder)"
        )
    conn.execute(f"create or replace view {raw_table(feed)} as {view_sql(feed, paths)}")


def refresh_views(conn: duckdb.DuckDBPyConnection) -> None:
    for feed in FEEDS.values():
        refresh_view(conn, feed)


def remove_orphans(conn: duckdb.DuckDBPyConnection, feed: Feed) -> list[Path]:
    """Delete the files of the feed's folder the ledger does not record (outside a load's
    transaction: before loading the feed); returns them."""
    folder = raw_folder(conn) / feed.name
    if not folder.is_dir():
        return []
    kept = set(in_force_files(conn, feed))
    removed = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and f"{feed.name}/{path.name}" not in kept:
            path.unlink()
            removed.append(path)
    return removed


# --- start, migration, copies -----------------------------------------------------------------


def ensure_raw_layer(conn: duckdb.DuckDBPyConnection) -> None:
    """Migrate raw tables of an older warehouse to files, then (re)create every view from the
    ledger. Called by ``tables.ensure_raw_schema``."""
    migrate_raw_tables(conn)
    conn.execute("begin transaction")
    try:
        refresh_views(conn)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise


def _raw_base_tables(conn: duckdb.DuckDBPyConnection) -> list[Feed]:
    found = conn.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and not temporary",
        [RAW_SCHEMA],
    ).fetchall()
    names = {name for (name,) in found}
    return [feed for feed in FEEDS.values() if feed.name in names]


def migrate_raw_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Turn every ``raw.<feed>`` table into one file per load, recorded in the ledger, and the
    table into the view, all in one transaction; returns the files written."""
    feeds = _raw_base_tables(conn)
    if not feeds:
        return []
    folder = raw_folder(conn)
    written: list[str] = []
    conn.execute("begin transaction")
    try:
        for feed in feeds:
            table = raw_table(feed)
            loads = conn.execute(
                f"""
                select t._load_id, count(*), any_value(l.feed)
                from {table} as t left join {LEDGER_TABLE} as l on l.load_id = t._load_id
                group by all order by 1
                """
            ).fetchall()
            strays = [load_id for load_id, _, owner in loads if owner != feed.name]
            if strays:
                raise RawLayerError(
                    f"cannot migrate {table}: {len(strays)} of its loads (e.g. {strays[0]}) are "
                    f"not loads of {feed.name} in {LEDGER_TABLE}"
                )
            _feed_folder(conn, feed)
            for load_id, _, _ in loads:
                name = raw_file_name(feed, load_id)
                partial = _partial_path(folder, feed, load_id)
                source = f"select * from {table} where _load_id = {int(load_id)}"
                _copy(conn, _typed_select(feed, source, {}), partial)
                os.replace(partial, folder / name)
                conn.execute(
                    f"update {LEDGER_TABLE} set raw_file = ? where load_id = ?", [name, load_id]
                )
                written.append(name)
            conn.execute(f"drop table {table}")
            refresh_view(conn, feed)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return written


def append_load(
    conn: duckdb.DuckDBPyConnection,
    feed_name: str,
    select_sql: str,
    source_file: str,
    params: Any = None,
) -> int:
    """Append the rows of ``select_sql`` to ``raw.<feed>`` as a new load (ledger entry, file and
    view, one transaction); returns its load id. Contract columns the select lacks are null;
    ``_source_line`` is its own when it has one, else the row's position; its load columns
    (``_load_id``, ``_source_file``, ``_loaded_at``) are ignored: the load's are used. For tests
    and repairs: shop files are loaded by the loader."""
    feed = FEEDS[feed_name]
    now = shop_now()
    ensure_raw_schema(conn)
    conn.execute(f"create or replace temp table _append_rows as {select_sql}", params)
    try:
        present = {c[0] for c in conn.execute("select * from _append_rows limit 0").description}
        given = {name: "null" for name in _names(feed) if name not in present}
        if "_source_line" not in present:
            given["_source_line"] = "row_number() over ()"
        given |= load_columns(0, source_file, now)
        conn.execute("begin transaction")
        try:
            load_id = int(
                conn.execute(
                    f"select coalesce(max(load_id), 0) + 1 from {LEDGER_TABLE}"
                ).fetchone()[0]  # type: ignore[index]
            )
            given["_load_id"] = str(load_id)
            path = _partial_path(raw_folder(conn), feed, load_id)
            _feed_folder(conn, feed)
            rows = _copy(conn, _typed_select(feed, "select * from _append_rows", given), path)
            name = make_final(conn, feed, load_id)
            checksum = hashlib.sha256(f"append:{feed.name}:{load_id}".encode()).hexdigest()
            conn.execute(
                f"insert into {LEDGER_TABLE} values "
                "(?, ?, ?, ?, 0, 'appended', ?, ?, 0, 'loaded', null, ?, ?)",
                [load_id, feed.name, source_file, checksum, rows, rows, now, name],
            )
            refresh_view(conn, feed)
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
    finally:
        conn.execute("drop table if exists _append_rows")
    return load_id


def copy_warehouse(source: Path, target: Path) -> Path:
    """Copy a closed warehouse: its database file and its raw folder; the copy's views then read
    the copy's files. Returns ``target``."""
    shutil.copy2(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, target.with_name(target.name + ".wal"))
    copied = raw_folder_of(target)
    shutil.rmtree(copied, ignore_errors=True)
    if raw_folder_of(source).is_dir():
        shutil.copytree(raw_folder_of(source), copied)
    with duckdb.connect(str(target), config=duckdb_config(target)) as conn:
        ensure_raw_schema(conn)
    return target
