"""The typed Parquet raw layer: one immutable file per feed and load, put in force by the ledger."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crm.contract import FEEDS
from crm.file_modes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from crm.loading import loader
from crm.loading.loader import load_feed
from crm.loading.raw_layer import (
    RawLayerError,
    append_load,
    copy_warehouse,
    raw_folder_of,
)
from crm.loading.reject_share import ROW_RULES_ONLY, RejectShares
from crm.loading.tables import LEDGER_DDL, ensure_raw_schema, feed_columns
from tests.python.conftest import write_feed_file

HEADER = "order_id,customer_id,ordered_at,total_amount,status\n"
ORDERS = HEADER + "o1,c1,2025-04-01 09:30,1000,shipped\no2,,2025-04-02,2500,\n"
#: The Arrow type of each SQL type of the raw columns.
ARROW_TYPES = {
    "varchar": pa.string(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "decimal(18, 2)": pa.decimal128(18, 2),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
}


def files_of(database: Path, feed: str) -> list[str]:
    folder = raw_folder_of(database) / feed
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def ledger(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "select load_id, source_file, status, rows_loaded, raw_file from raw._load_ledger "
        "order by load_id"
    ).fetchall()


def test_a_load_makes_one_typed_parquet_file_any_engine_reads(tmp_path: Path, landing: Path):
    database = tmp_path / "w.duckdb"
    write_feed_file(landing, "orders", "a.csv", ORDERS)
    write_feed_file(landing, "orders", "b.csv", HEADER + "o3,c2,2025-04-03,300,ordered\n")
    pq.write_table(
        pa.table({"order_id": ["o4"], "ordered_at": ["2025-04-04"], "total_amount": [4]}),
        landing / "orders" / "c.parquet",
    )
    with duckdb.connect(str(database)) as conn:
        report = load_feed(conn, landing, "orders", ROW_RULES_ONLY)
        assert [f.method for f in report.files] == ["row_parse", "row_parse", "parquet_native"]
        assert ledger(conn) == [
            (1, "orders/a.csv", "loaded", 2, "orders/load_0000000001.parquet"),
            (2, "orders/b.csv", "loaded", 1, "orders/load_0000000002.parquet"),
            (3, "orders/c.parquet", "loaded", 1, "orders/load_0000000003.parquet"),
        ]
        through_view = conn.execute("select * from raw.orders order by all").fetchall()
    assert files_of(database, "orders") == [f"load_000000000{i}.parquet" for i in (1, 2, 3)]
    expected = [(name, ARROW_TYPES[sql_type]) for name, sql_type in feed_columns(FEEDS["orders"])]
    folder = raw_folder_of(database)
    for name in files_of(database, "orders"):
        path = folder / "orders" / name
        # the same names and types in every file (DuckDB marks a column "required" when the
        # file happens to have no null in it: readers take that as nullable all the same)
        assert [(f.name, f.type) for f in pq.read_schema(path)] == expected, name
        assert path.stat().st_mode & 0o777 & ~PRIVATE_FILE_MODE == 0
    for path in (folder, folder / "orders"):
        assert path.stat().st_mode & 0o777 & ~PRIVATE_DIR_MODE == 0
    with duckdb.connect() as plain:  # no warehouse: the files alone
        direct = plain.execute(
            f"select * from read_parquet('{folder}/orders/*.parquet') order by all"
        ).fetchall()
    assert direct == through_view
    first = pq.read_table(folder / "orders" / "load_0000000001.parquet").to_pylist()
    assert [(r["order_id"], str(r["total_amount"]), r["_source_line"]) for r in first] == [
        ("o1", "1000.00", 2),
        ("o2", "2500.00", 3),
    ]


def test_refused_files_make_no_file(tmp_path: Path, landing: Path):
    database = tmp_path / "w.duckdb"
    write_feed_file(landing, "orders", "a.csv", "order_id,total_amount\no1,100\n")  # no date
    bad = "".join(f"o{i},c1,not a date,100,\n" for i in range(5))
    write_feed_file(landing, "orders", "b.csv", HEADER + bad + "o9,c1,2025-04-01,100,\n")
    pq.write_table(
        pa.table(
            {
                "order_id": [f"p{i}" for i in range(6)],
                "ordered_at": ["x"] * 5 + ["2025-04-01"],
                "total_amount": [1] * 6,
            }
        ),
        landing / "orders" / "c.parquet",
    )
    with duckdb.connect(str(database)) as conn:
        report = load_feed(conn, landing, "orders", RejectShares.from_dbt_project())
        assert [f.status for f in report.files] == ["refused"] * 3
        assert [r[-1] for r in ledger(conn)] == [None] * 3
        assert conn.execute("select count(*) from raw.orders").fetchone() == (0,)
    assert report.files[2].method == "parquet_native"  # refused for its share, before the file
    assert files_of(database, "orders") == []


def test_relanding_a_file_adds_no_file(tmp_path: Path, landing: Path):
    database = tmp_path / "w.duckdb"
    write_feed_file(landing, "orders", "a.csv", ORDERS)
    with duckdb.connect(str(database)) as conn:
        load_feed(conn, landing, "orders", ROW_RULES_ONLY)
        write_feed_file(landing, "orders", "a_again.csv", ORDERS)
        (again,) = [f for f in load_feed(conn, landing, "orders").files if "again" in f.source_file]
        assert again.status == "already_loaded"
        assert conn.execute("select count(*) from raw.orders").fetchone() == (2,)
    assert files_of(database, "orders") == ["load_0000000001.parquet"]


@pytest.mark.parametrize("crash_at", ["make_final", "refresh_view"])
def test_a_crash_before_the_commit_leaves_nothing_in_force(
    tmp_path: Path, landing: Path, monkeypatch: pytest.MonkeyPatch, crash_at: str
):
    """make_final: the file is still under its temporary name; refresh_view: renamed to its
    final name, but the ledger entry and the view are never committed."""
    database = tmp_path / "w.duckdb"
    write_feed_file(landing, "orders", "a.csv", ORDERS)
    real = getattr(loader, crash_at)

    def crash(*args: object) -> object:
        if crash_at == "refresh_view":
            real(*args)
        raise KeyboardInterrupt  # as a kill: nothing after it runs

    with duckdb.connect(str(database)) as conn:
        monkeypatch.setattr(loader, crash_at, crash)
        with pytest.raises(KeyboardInterrupt):
            load_feed(conn, landing, "orders", ROW_RULES_ONLY)
        monkeypatch.undo()
    left = files_of(database, "orders")
    assert left == (
        [".load_0000000001.parquet.partial"]
        if crash_at == "make_final"
        else ["load_0000000001.parquet"]
    )
    write_feed_file(
        landing,
        "order_lines",
        "l.csv",
        "order_id,line_number,sku,quantity,unit_price\no1,1,S,1,100\n",
    )
    with duckdb.connect(str(database)) as conn:
        assert ledger(conn) == []
        assert conn.execute("select count(*) from raw.orders").fetchone() == (0,)
        load_feed(conn, landing, "order_lines", ROW_RULES_ONLY)  # takes load id 1
        assert files_of(database, "orders") == left  # only a load of orders removes them
        load_feed(conn, landing, "orders", ROW_RULES_ONLY)
        assert ledger(conn)[1] == (2, "orders/a.csv", "loaded", 2, "orders/load_0000000002.parquet")
        loaded = conn.execute(
            "select order_id, _load_id, _source_line from raw.orders order by 1"
        ).fetchall()
    assert loaded == [("o1", 2, 2), ("o2", 2, 3)]
    assert files_of(database, "orders") == ["load_0000000002.parquet"]


def old_warehouse(database: Path) -> None:
    """A warehouse as the loader left it before the raw layer: raw tables, no ``raw_file``."""
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema raw")
        conn.execute(LEDGER_DDL.replace(",\n  raw_file varchar", ""))
        for feed in FEEDS.values():
            columns = ", ".join(f'"{name}" {sql_type}' for name, sql_type in feed_columns(feed))
            conn.execute(f"create table raw.{feed.name} ({columns})")
        for load_id, feed, rows in ((1, "orders", 2), (2, "order_lines", 1), (3, "orders", 1)):
            conn.execute(
                "insert into raw._load_ledger values "
                "(?, ?, ?, ?, 10, 'utf-8', ?, ?, 0, 'loaded', null, now()::timestamp)",
                [load_id, feed, f"{feed}/f{load_id}.csv", f"sha{load_id}", rows, rows],
            )
        conn.execute(
            "insert into raw.orders (order_id, ordered_at, total_amount, _load_id, _source_file, "
            "_source_line, _loaded_at) values "
            "('o1', '2025-04-01 09:30', 100, 1, 'orders/f1.csv', 2, '2025-04-02 01:00'), "
            "('o2', '2025-04-01 10:00', 200.5, 1, 'orders/f1.csv', 3, '2025-04-02 01:00'), "
            "('o1', '2025-04-01 09:30', 150, 3, 'orders/f3.csv', 2, '2025-04-03 01:00')"
        )
        conn.execute(
            "insert into raw.order_lines (order_id, line_number, sku, quantity, _load_id, "
            "_source_file, _source_line, _loaded_at, _extra_columns) values "
            "('o1', 1, 'S', 2, 2, 'order_lines/f2.csv', 2, '2025-04-02 01:00', '{\"x\":\"1\"}')"
        )


def test_raw_tables_of_an_older_warehouse_are_migrated_to_files(tmp_path: Path, landing: Path):
    database = tmp_path / "w.duckdb"
    old_warehouse(database)
    with duckdb.connect(str(database)) as conn:
        before = {f: conn.execute(f"select * from raw.{f} order by all").fetchall() for f in FEEDS}
        described = {f: conn.execute(f"describe raw.{f}").fetchall() for f in FEEDS}
    write_feed_file(landing, "orders", "new.csv", HEADER + "o3,c1,2025-04-05,10,\n")
    with duckdb.connect(str(database)) as conn:
        load_feed(conn, landing, "orders", ROW_RULES_ONLY)
        assert conn.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' "
            "and table_name in ('orders', 'order_lines', 'members')"
        ).fetchone() == (0,)
        assert [r[-1] for r in ledger(conn)] == [
            "orders/load_0000000001.parquet",
            "order_lines/load_0000000002.parquet",
            "orders/load_0000000003.parquet",
            "orders/load_0000000004.parquet",
        ]
        after = {
            f: conn.execute(f"select * from raw.{f} where _load_id < 4 order by all").fetchall()
            for f in FEEDS
        }
        for feed in FEEDS:  # same columns and types (nullability aside)
            got = [r[:2] for r in conn.execute(f"describe raw.{feed}").fetchall()]
            assert got == [r[:2] for r in described[feed]], feed
    assert after == before
    assert files_of(database, "orders") == [f"load_000000000{i}.parquet" for i in (1, 3, 4)]
    assert files_of(database, "members") == []


def test_a_migration_that_cannot_be_done_changes_nothing(tmp_path: Path):
    database = tmp_path / "w.duckdb"
    old_warehouse(database)
    with duckdb.connect(str(database)) as conn:  # rows of a load the ledger does not know
        conn.execute(
            "insert into raw.orders (order_id, ordered_at, _load_id, _source_file, "
            "_source_line, _loaded_at) values ('o9', '2025-04-01', 7, 'x', 1, '2025-04-02')"
        )
    with duckdb.connect(str(database)) as conn:
        with pytest.raises(RawLayerError, match="not loads of orders"):
            ensure_raw_schema(conn)
        tables = conn.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' "
            "and table_name in ('orders', 'order_lines')"
        ).fetchone()
        assert tables == (2,)
        assert conn.execute("select count(*) from raw.order_lines").fetchone() == (1,)
        assert conn.execute(
            "select count(*) from raw._load_ledger where raw_file is not null"
        ).fetchone() == (0,)


def write_orders(landing: Path, name: str, rows: int) -> None:
    table = pa.table(
        {
            "order_id": [f"order-{i:08d}-{(i * 7919) % 100003:06d}" for i in range(rows)],
            "customer_id": [f"cust-{(i * 104729) % 50021:06d}" for i in range(rows)],
            "ordered_at": pa.array(
                [1_743_465_600_000_000 + i * 61_000_123 for i in range(rows)], pa.timestamp("us")
            ),
            "total_amount": [(i * 7919) % 99991 for i in range(rows)],
        }
    )
    (landing / "orders").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, landing / "orders" / name)


def test_the_database_file_stays_small(tmp_path: Path):
    """The raw rows live in the raw folder: a database with 200,000 orders is no larger than
    one with 10 (give or take a block)."""
    sizes = {}
    for rows in (10, 200_000):
        landing = tmp_path / f"landing_{rows}"
        write_orders(landing, "o.parquet", rows)
        database = tmp_path / f"w_{rows}.duckdb"
        with duckdb.connect(str(database)) as conn:
            (file,) = load_feed(conn, landing, "orders", ROW_RULES_ONLY).files
            assert (file.rows_loaded, file.method) == (rows, "parquet_native")
            conn.execute("checkpoint")
        sizes[rows] = database.stat().st_size
    parquet = raw_folder_of(tmp_path / "w_200000.duckdb") / "orders" / "load_0000000001.parquet"
    assert parquet.stat().st_size > 2 << 20  # in the database, it would show
    assert sizes[200_000] <= sizes[10] + (512 << 10)


def test_a_copied_warehouse_reads_its_own_files(tmp_path: Path, landing: Path):
    source, target = tmp_path / "w.duckdb", tmp_path / "copy.duckdb"
    write_feed_file(landing, "orders", "a.csv", ORDERS)
    with duckdb.connect(str(source)) as conn:
        load_feed(conn, landing, "orders", ROW_RULES_ONLY)
    alone = tmp_path / "alone.duckdb"
    shutil.copy2(source, alone)  # the database file without its raw folder
    copy_warehouse(source, target)
    shutil.rmtree(raw_folder_of(source))
    with duckdb.connect(str(target), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.orders").fetchone() == (2,)
    with (
        duckdb.connect(str(alone)) as conn,
        pytest.raises(RawLayerError, match="restore the raw folder"),
    ):
        load_feed(conn, landing, "orders", ROW_RULES_ONLY)


def test_append_load_adds_a_load_with_its_file(tmp_path: Path):
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as conn:
        first = append_load(
            conn,
            "orders",
            "select 'o1' as order_id, timestamp '2025-04-01 09:00' as ordered_at, 5 as _load_id",
            "orders/test.csv",
        )
        second = append_load(
            conn,
            "orders",
            "select * replace (? as total_amount) from raw.orders",
            "orders/test2.csv",
            [700],
        )
        assert (first, second) == (1, 2)
        got = conn.execute(
            "select order_id, total_amount, _load_id, _source_file, _source_line "
            "from raw.orders order by _load_id"
        ).fetchall()
        assert [r[-1] for r in ledger(conn)] == [
            "orders/load_0000000001.parquet",
            "orders/load_0000000002.parquet",
        ]
    assert got == [
        ("o1", None, 1, "orders/test.csv", 1),
        ("o1", 700, 2, "orders/test2.csv", 1),
    ]
