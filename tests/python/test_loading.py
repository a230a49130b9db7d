"""The raw loader on small handmade files: encodings, contract forms, rejects, ledger."""

from __future__ import annotations

import csv
import gzip
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crm.contract import FEEDS
from crm.loading import loader
from crm.loading.loader import LandingError, load_feed
from crm.loading.parquet_fast import load_native
from crm.loading.reject_share import ROW_RULES_ONLY, RejectShares
from tests.python.conftest import write_feed_file

ORDERS_HEADER = "order_id,customer_id,ordered_at,total_amount,status,is_subscription\n"


@pytest.fixture(autouse=True)
def row_rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests look at single row rules in tiny files: the reject-share thresholds, which
    would refuse such files as a whole, are tested in test_landing_safety.py."""
    monkeypatch.setattr(RejectShares, "from_dbt_project", classmethod(lambda cls: ROW_RULES_ONLY))


def rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def test_all_raw_tables_exist_even_without_optional_feeds(conn, landing):
    write_feed_file(landing, "orders", "o.csv", ORDERS_HEADER + "o1,c1,2025-04-01,100,,\n")
    for feed in FEEDS:
        report = load_feed(conn, landing, feed)
        assert report.present == (feed == "orders")
    tables = {
        t for (t,) in rows(conn, "select table_name from duckdb_tables() where schema_name = 'raw'")
    }
    views = {
        v for (v,) in rows(conn, "select view_name from duckdb_views() where schema_name = 'raw'")
    }
    assert set(FEEDS) <= views  # over the feed's Parquet files (crm/loading/raw_layer.py)
    assert {"_load_ledger", "_rejects"} <= tables


def test_missing_required_orders_feed_is_a_clear_error(conn, landing):
    with pytest.raises(LandingError, match="required feed 'orders' is missing"):
        load_feed(conn, landing, "orders")
    (landing / "orders").mkdir()
    with pytest.raises(LandingError, match="has no files"):
        load_feed(conn, landing, "orders")


def test_contract_forms_of_dates_yen_and_booleans(conn, landing):
    write_feed_file(
        landing,
        "orders",
        "forms.csv",
        ORDERS_HEADER
        + 'o1,c1,2025-04-01T09:30:00,"¥1,234",shipped,Y\n'
        + "o2,c1,2025/4/1 9:05:00,１２３４,,0\n"
        + "o3,,2025-04-01T00:30:00Z,￥500,,yes\n"
        + "o4,c2,2025-04-01 09:30:00+09:00,1234円,,FALSE\n"
        + 'o5,c2,2025/04/02,"1,000",,\n',
    )
    report = load_feed(conn, landing, "orders")
    assert (report.rows_loaded, report.rows_rejected) == (5, 0)
    got = rows(
        conn,
        "select order_id, ordered_at, total_amount, is_subscription from raw.orders order by 1",
    )
    assert got == [
        ("o1", datetime(2025, 4, 1, 9, 30), Decimal("1234"), True),
        ("o2", datetime(2025, 4, 1, 9, 5), Decimal("1234"), False),
        ("o3", datetime(2025, 4, 1, 9, 30), Decimal("500"), True),  # UTC → JST
        ("o4", datetime(2025, 4, 1, 9, 30), Decimal("1234"), False),
        ("o5", datetime(2025, 4, 2, 0, 0), Decimal("1000"), None),
    ]


def test_bad_rows_are_rejected_with_file_line_column_and_reason(conn, landing):
    write_feed_file(
        landing,
        "orders",
        "bad.csv",
        ORDERS_HEADER
        + "o1,c1,2025-04-01,100,,\n"
        + "o2,c1,not a date,100,,\n"
        + ",c1,2025-04-01,100,,\n"
        + 'o4,c1,2025-04-01,"12,3x",,\n'
        + "o5,c1,2025-04-01,100,lost,\n"
        + "o6,c1,2025-04-01,100,,maybe\n"
        + "o7,c1\n",
    )
    report = load_feed(conn, landing, "orders")
    assert (report.rows_loaded, report.rows_rejected) == (1, 6)
    rejects = rows(
        conn,
        "select source_file, source_line, column_name, reason from raw._rejects "
        "order by source_line",
    )
    assert [(r[0], r[1], r[2]) for r in rejects] == [
        ("orders/bad.csv", 3, "ordered_at"),
        ("orders/bad.csv", 4, "order_id"),
        ("orders/bad.csv", 5, "total_amount"),
        ("orders/bad.csv", 6, "status"),
        ("orders/bad.csv", 7, "is_subscription"),
        ("orders/bad.csv", 8, "ordered_at"),
    ]
    reasons = [r[3] for r in rejects]
    assert "is not a date-time" in reasons[0]
    assert "required value is missing" in reasons[1]
    assert "is not a yen amount" in reasons[2]
    assert "is not one of ordered" in reasons[3]
    assert "is not a boolean" in reasons[4]
    assert "expected 6 fields as in the header, found 2" in reasons[5]
    raw_record = rows(conn, "select raw_record from raw._rejects where source_line = 3")[0][0]
    assert '"ordered_at":"not a date"' in raw_record


def test_loaded_plus_rejected_equals_rows_in_file_and_ledger_records_it(conn, landing):
    write_feed_file(
        landing,
        "order_lines",
        "l.csv",
        "order_id,line_number,sku,quantity,unit_price\n"
        "o1,1,A,2,100\no1,2,B,0,100\no1,3,C,-1,100\no2,1,D,1,abc\n",
    )
    load_feed(conn, landing, "order_lines")
    ledger = rows(
        conn, "select rows_in_file, rows_loaded, rows_rejected, status from raw._load_ledger"
    )
    assert ledger == [(4, 1, 3, "loaded")]
    assert rows(conn, "select count(*) from raw._rejects")[0][0] == 3


def test_relanded_file_changes_nothing(conn, landing):
    path = write_feed_file(landing, "orders", "o.csv", ORDERS_HEADER + "o1,c1,2025-04-01,100,,\n")
    load_feed(conn, landing, "orders")
    copy = path.parent / "o_again.csv"
    copy.write_bytes(path.read_bytes())
    report = load_feed(conn, landing, "orders")
    assert [f.status for f in report.files] == ["already_loaded", "already_loaded"]
    assert rows(conn, "select count(*) from raw.orders")[0][0] == 1
    assert rows(conn, "select count(*) from raw._load_ledger")[0][0] == 1


def test_every_version_is_kept_with_load_metadata(conn, landing):
    write_feed_file(landing, "orders", "a.csv", ORDERS_HEADER + "o1,c1,2025-04-01,100,ordered,\n")
    load_feed(conn, landing, "orders")
    write_feed_file(landing, "orders", "b.csv", ORDERS_HEADER + "o1,c1,2025-04-01,100,shipped,\n")
    load_feed(conn, landing, "orders")
    got = rows(
        conn,
        "select status, _load_id, _source_file, _source_line from raw.orders order by _load_id",
    )
    assert got == [("ordered", 1, "orders/a.csv", 2), ("shipped", 2, "orders/b.csv", 2)]
    assert rows(conn, "select count(*) from raw.orders where _loaded_at is null")[0][0] == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_japanese_text_in_each_encoding(conn, landing, encoding):
    text = (
        "customer_id,registered_at,family_name,given_name,prefecture\n"
        "c1,2025-04-01,山田,太郎,東京都\n"
    )
    write_feed_file(landing, "members", "m.csv", text, encoding=encoding)
    report = load_feed(conn, landing, "members")
    assert report.files[0].encoding == encoding
    assert rows(conn, "select family_name, given_name, prefecture from raw.members") == [
        ("山田", "太郎", "東京都")
    ]


def test_gzip_tsv_and_parquet_files(conn, landing):
    folder = landing / "orders"
    folder.mkdir()
    with gzip.open(folder / "a.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(ORDERS_HEADER + "o1,c1,2025-04-01,100,,\n")
    (folder / "b.tsv").write_text(
        "order_id\tordered_at\ttotal_amount\no2\t2025-04-02\t200\n", encoding="utf-8"
    )
    table = pa.table(
        {
            "order_id": ["o3"],
            "ordered_at": pa.array([datetime(2025, 4, 3, 12, 0)], type=pa.timestamp("us")),
            "total_amount": pa.array([300], type=pa.int64()),
            "is_subscription": [True],
        }
    )
    pq.write_table(table, folder / "c.parquet")
    (folder / "notes.txt").write_text("not a feed file")
    report = load_feed(conn, landing, "orders")
    assert report.rows_loaded == 3 and report.rows_rejected == 0
    assert report.ignored_files == ["orders/notes.txt"]
    got = rows(
        conn,
        "select order_id, ordered_at, total_amount, is_subscription from raw.orders order by 1",
    )
    assert got[2] == ("o3", datetime(2025, 4, 3, 12, 0), Decimal("300"), True)


def test_file_missing_a_required_column_is_refused_and_its_rows_kept(conn, landing):
    write_feed_file(
        landing, "orders", "x.csv", "order_id,ordered_at\no1,2025-04-01\no2,2025-04-02\n"
    )
    report = load_feed(conn, landing, "orders")
    (file,) = report.files
    assert file.status == "refused"
    assert "missing required column(s) total_amount" in file.message
    assert (file.rows_in_file, file.rows_loaded, file.rows_rejected) == (2, 0, 2)
    assert rows(conn, "select count(*) from raw.orders")[0][0] == 0
    assert (
        rows(conn, "select count(*) from raw._rejects where reason like 'file refused%'")[0][0] == 2
    )


def test_empty_file_is_refused_and_header_only_file_loads_nothing(conn, landing):
    write_feed_file(landing, "orders", "empty.csv", "")
    write_feed_file(landing, "orders", "header.csv", ORDERS_HEADER)
    report = load_feed(conn, landing, "orders")
    statuses = {f.source_file: (f.status, f.rows_in_file) for f in report.files}
    assert statuses == {"orders/empty.csv": ("refused", 0), "orders/header.csv": ("loaded", 0)}


def test_extra_columns_are_kept_as_json(conn, landing):
    write_feed_file(
        landing,
        "orders",
        "x.csv",
        "order_id,ordered_at,total_amount,shop_memo\no1,2025-04-01,1,ギフト包装\n",
    )
    load_feed(conn, landing, "orders")
    assert rows(conn, "select _extra_columns from raw.orders")[0][0] == '{"shop_memo":"ギフト包装"}'


def test_load_is_transactional_per_file(tmp_path: Path, landing):
    write_feed_file(landing, "orders", "a.csv", ORDERS_HEADER + "o1,c1,2025-04-01,100,,\n")
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        load_feed(connection, landing, "orders")
    with duckdb.connect(str(path), read_only=True) as reader:
        assert reader.execute("select count(*) from raw.orders").fetchone()[0] == 1
        assert reader.execute("select count(*) from raw._load_ledger").fetchone()[0] == 1


# --- native Parquet path -------------------------------------------------------------------------

UTC = pa.timestamp("us", tz="UTC")


def typed_tables() -> dict[str, pa.Table]:
    """Typed Parquet content with a row of each kind of problem (and good rows)."""
    orders = pa.table(
        {
            "order_id": ["o1", "", "o3", "o4", "o5", "o6"],
            "customer_id": ["c1", "c2", None, "c4", "c5", "c6"],
            "ordered_at": pa.array(
                [datetime(2025, 4, 1, 0, 30)] * 4 + [None, datetime(2025, 4, 1, 16)], UTC
            ),
            "status": ["shipped", "ordered", "lost", "ordered", "ordered", " Delivered "],
            "total_amount": pa.array([1000, 500, 500, 10**17, 800, 0], pa.int64()),
            "subtotal_amount": pa.array(
                [Decimal("999.50"), None, Decimal("1"), Decimal("2"), Decimal("3"), Decimal("-1")],
                pa.decimal128(10, 2),
            ),
            "is_subscription": [True, False, None, True, False, True],
            "memo": ["gift", None, "x", "y", "z", "ギフト"],
        }
    )
    lines = pa.table(
        {
            "order_id": ["o1", "o1", "o1", "o3"],
            "line_number": pa.array([1, 2, 3, 1], pa.int64()),
            "sku": ["A", "B", "C", "D"],
            "quantity": pa.array([2, -1, 0, 1], pa.int64()),
            "unit_price": pa.array([100, 100, 100, 10**17], pa.int64()),
            "updated_at": pa.array(
                [datetime(2025, 4, 1, 9, 30, 0, 123000)] * 4, pa.timestamp("ms")
            ),
        }
    )
    return {"orders": orders, "order_lines": lines}


def write_parquet(landing: Path, feed: str, table: pa.Table) -> None:
    (landing / feed).mkdir(parents=True, exist_ok=True)
    pq.write_table(table, landing / feed / f"{feed}.parquet")


def write_csv(landing: Path, feed: str, table: pa.Table) -> None:
    """The same content as CSV: each value as the text pyarrow's cast gives (None = empty)."""
    (landing / feed).mkdir(parents=True, exist_ok=True)
    columns = [c.cast(pa.string()).to_pylist() for c in table.columns]
    with (landing / feed / f"{feed}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.column_names)
        writer.writerows(
            [["" if v is None else v for v in row] for row in zip(*columns, strict=True)]
        )


def load_all(conn: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, str]:
    """Load the typed feeds; the method each file took, by feed."""
    methods = {}
    for feed in typed_tables():
        (file,) = load_feed(conn, landing, feed).files
        methods[feed] = file.method
    return methods


def test_typed_parquet_takes_the_native_path(tmp_path: Path):
    landing = tmp_path / "landing"
    for feed, table in typed_tables().items():
        write_parquet(landing, feed, table)
    with duckdb.connect() as conn:
        assert load_all(conn, landing) == {
            "orders": "parquet_native",
            "order_lines": "parquet_native",
        }
        assert rows(conn, "select encoding from raw._load_ledger") == [("parquet",)] * 2
        got = rows(
            conn,
            "select order_id, ordered_at, total_amount, _source_line, _extra_columns "
            "from raw.orders order by _source_line",
        )
        assert got[0] == ("o1", datetime(2025, 4, 1, 9, 30), Decimal("1000"), 1, '{"memo":"gift"}')
        reasons = rows(
            conn, "select source_line, column_name, reason from raw._rejects order by all"
        )
    assert {r[1] for r in reasons} == {
        "order_id",
        "status",
        "total_amount",
        "ordered_at",
        "quantity",
        "unit_price",
    }
    text = "; ".join(r[2] for r in reasons)
    for words in (
        "order_id: required value is missing",
        'status: "lost" is not one of',
        "too large for a yen amount",
        "ordered_at: required value is missing",
        'quantity: "-1" must be greater than 0',
        'quantity: "0" must be greater than 0',
    ):
        assert words in text


def snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every raw table, the rejects and the ledger, less the load times."""
    tables = {
        "orders": "select * exclude (_loaded_at) from raw.orders",
        "order_lines": "select * exclude (_loaded_at) from raw.order_lines",
        "rejects": "select * exclude (rejected_at) from raw._rejects",
        "ledger": "select * exclude (loaded_at) from raw._load_ledger",
    }
    return {name: rows(conn, sql + " order by all") for name, sql in tables.items()}


def test_native_and_row_parse_paths_agree_on_a_typed_parquet_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    landing = tmp_path / "landing"
    for feed, table in typed_tables().items():
        write_parquet(landing, feed, table)
    with duckdb.connect() as conn:
        assert set(load_all(conn, landing).values()) == {"parquet_native"}
        native = snapshot(conn)
    monkeypatch.setattr(loader, "native_plan", lambda path, feed: None)
    with duckdb.connect() as conn:
        assert set(load_all(conn, landing).values()) == {"row_parse"}
        parsed = snapshot(conn)
    assert native == parsed
    assert len(native["rejects"]) == 7 and native["rejects"][0][6].startswith("{")


def test_typed_parquet_and_csv_of_the_same_rows_load_the_same(tmp_path: Path):
    """Same values and rejects; a CSV row's line is one more (the header is line 1). The rows as
    JSON differ where Parquet has a null and CSV an empty field: the test above compares them."""
    loaded: dict[str, dict[str, list[tuple]]] = {}
    for kind, write in (("parquet", write_parquet), ("csv", write_csv)):
        landing = tmp_path / kind
        for feed, table in typed_tables().items():
            write(landing, feed, table)
        with duckdb.connect() as conn:
            expected = "parquet_native" if kind == "parquet" else "row_parse"
            assert set(load_all(conn, landing).values()) == {expected}
            shift = 1 if kind == "parquet" else 0
            loaded[kind] = {
                feed: rows(
                    conn,
                    f"select * exclude (_load_id, _source_file, _source_line, _loaded_at), "
                    f"_source_line + {shift} from raw.{feed} order by all",
                )
                for feed in typed_tables()
            }
            loaded[kind]["rejects"] = rows(
                conn,
                f"select feed, source_line + {shift}, column_name, reason from raw._rejects "
                "order by all",
            )
    assert loaded["parquet"] == loaded["csv"]
    assert len(loaded["csv"]["rejects"]) == 7


def test_parquet_with_a_float_column_takes_the_row_parse_path(conn, landing):
    table = typed_tables()["order_lines"].set_column(
        3, "quantity", pa.array([2.0, 1.5, 3.0, 1.0], pa.float64())
    )
    write_parquet(landing, "order_lines", table)
    (file,) = load_feed(conn, landing, "order_lines").files
    assert (file.method, file.rows_loaded, file.rows_rejected) == ("row_parse", 2, 2)
    assert "is not a whole number" in rows(conn, "select reason from raw._rejects")[0][0]


def test_a_native_load_that_fails_midway_is_rolled_back_and_parsed_row_by_row(
    conn, landing, monkeypatch: pytest.MonkeyPatch
):
    """DuckDB may meet damaged data after the footer: nothing of the native attempt stays."""

    def damaged(*args: object) -> tuple[int, int]:
        load_native(*args)  # type: ignore[arg-type]
        raise duckdb.IOException("a damaged page")

    monkeypatch.setattr(loader, "load_native", damaged)
    write_parquet(landing, "order_lines", typed_tables()["order_lines"])
    (file,) = load_feed(conn, landing, "order_lines").files
    assert (file.method, file.rows_loaded, file.rows_rejected) == ("row_parse", 1, 3)
    assert rows(conn, "select count(*) from raw.order_lines")[0][0] == 1
    assert rows(conn, "select count(*) from raw._rejects")[0][0] == 3
    assert rows(conn, "select load_id from raw._load_ledger") == [(1,)]
