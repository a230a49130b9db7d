"""CSV files read by DuckDB (crm.loading.csv_stage): record line numbers, encodings and quotes
across the streaming pass's blocks, and a stray quote inside an unquoted field."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from crm.loading import csv_stage
from crm.loading.loader import load_feed
from tests.python.conftest import write_feed_file

HEADER = "order_id,customer_id,ordered_at,total_amount,coupon_code\n"


def _orders(count: int, start: int = 1) -> list[str]:
    return [
        f"O{i},C{i % 7},2025-04-{1 + i % 28:02d} 10:00:00,{100 + i},"
        for i in range(start, start + count)
    ]


def _loaded(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, int, str | None]]:
    return conn.execute(
        "select order_id, _source_line, coupon_code from raw.orders order by _source_line"
    ).fetchall()


def _rejects(conn: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return conn.execute(
        "select source_line, reason from raw._rejects order by source_line"
    ).fetchall()


@pytest.mark.parametrize("block_bytes", [csv_stage.BLOCK_BYTES, 97])
@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_line_numbers_follow_multi_line_records_across_blocks(
    conn, landing, monkeypatch, block_bytes, line_end
):
    monkeypatch.setattr(csv_stage, "BLOCK_BYTES", block_bytes)
    rows = _orders(30)
    rows[4] = 'O5,C5,2025-04-05 10:00:00,105,"two\nlines"'
    rows[11] = 'O12,C5,2025-04-05 10:00:00,112,"say ""hi""\n\nwith a blank line"'
    rows[20] = "O21,C5,not a date,121,"
    text = HEADER + "\n".join(rows[:15]) + "\n\n" + "\n".join(rows[15:]) + "\n"
    write_feed_file(landing, "orders", "orders.csv", text.replace("\n", line_end))
    [report] = load_feed(conn, landing, "orders").files
    assert (report.rows_loaded, report.rows_rejected) == (29, 1)
    lines = {order: line for order, line, _ in _loaded(conn)}
    # line 1 header; O5 spans lines 6-7; O12 spans 14-16; a blank line after O15 (line 19)
    assert [lines[o] for o in ("O1", "O5", "O6", "O12", "O13", "O15", "O16", "O30")] == [
        2,
        6,
        8,
        14,
        17,
        19,
        21,
        35,
    ]
    coupons = {order: coupon for order, _, coupon in _loaded(conn)}
    assert coupons["O12"] == 'say "hi"\n\nwith a blank line'.replace("\n", line_end)
    [(line, reason)] = _rejects(conn)
    assert line == 26 and "not a date-time" in reason


@pytest.mark.parametrize("block_bytes", [csv_stage.BLOCK_BYTES, 128])
def test_a_cp932_line_after_clean_blocks_is_transcoded(conn, landing, monkeypatch, block_bytes):
    """The first blocks are clean UTF-8 (read as they are); a later CP932 line and a line of
    neither encoding switch to a transcoded copy, which keeps the earlier rows."""
    monkeypatch.setattr(csv_stage, "BLOCK_BYTES", block_bytes)
    head = (HEADER + "\n".join(_orders(20)) + "\n").encode("utf-8")
    cp932 = "O21,C1,2025-04-02 10:00:00,121,春の髙島屋\n".encode("cp932")
    utf8 = "O22,C1,2025-04-02 10:00:00,122,夏の割引\n".encode()
    latin1 = "O23,C1,2025-04-02 10:00:00,123,Müller\n".encode("latin-1")
    path = landing / "orders" / "mixed.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(head + cp932 + utf8 + latin1))
    [report] = load_feed(conn, landing, "orders").files
    assert (report.encoding, report.rows_loaded, report.rows_rejected) == ("utf-8", 22, 1)
    coupons = {order: coupon for order, _, coupon in _loaded(conn)}
    assert (coupons["O21"], coupons["O22"], coupons["O20"]) == ("春の髙島屋", "夏の割引", None)
    [(line, reason)] = _rejects(conn)
    assert line == 24 and "neither UTF-8 nor CP932" in reason


def test_a_stray_quote_inside_an_unquoted_field_keeps_line_numbers(conn, landing):
    """A quote character inside an unquoted field is text (as in Python's csv module); the
    quote count the line pass relies on is then odd, and the record starts are counted again."""
    rows = _orders(6)
    rows[1] = 'O2,C1,2025-04-02 10:00:00,102,5" tablet'
    rows[4] = "O5,C1,bad date,105,"
    write_feed_file(landing, "orders", "stray.csv", HEADER + "\n".join(rows) + "\n")
    [report] = load_feed(conn, landing, "orders").files
    assert (report.rows_loaded, report.rows_rejected) == (5, 1)
    assert [(o, line) for o, line, _ in _loaded(conn)] == [
        ("O1", 2),
        ("O2", 3),
        ("O3", 4),
        ("O4", 5),
        ("O6", 7),
    ]
    assert _loaded(conn)[1][2] == '5" tablet'
    assert [line for line, _ in _rejects(conn)] == [6]


def test_no_temporary_copy_is_left_behind(conn, landing, tmp_path: Path):
    conn.execute(f"set temp_directory = '{tmp_path / 'spill'}'")
    text = HEADER + "O1,C1,2025-04-02 10:00:00,100,髙\n"
    path = landing / "orders" / "cp932.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("cp932"))
    [report] = load_feed(conn, landing, "orders").files
    assert (report.encoding, report.rows_loaded) == ("cp932", 1)
    assert not list((tmp_path / "spill").glob("crm-landing-*"))


TEXTS = [
    "2025-04-01",
    "2025-04-01 09:30:00",
    "2025-02-30 10:00:00",
    "9999-12-31 23:59:59",
    "0001-01-01",
    "123",
    "-45",
    "000123",
    "999999999999999999",
    "0",
    " 12",
    "a b",
    " ",
    "\u3000髙\u3000",
    "\u00a0x",
    "x\u2003",
    "\t7\t",
    "",
    "Ｘ",
    "ー",
]


def test_the_canonical_fast_paths_give_the_general_parsers_values():
    """A plain cast for canonical dates and numbers, trim only when an edge may need it: the
    same values as the general parsers on every text."""
    from crm.loading import parsing

    conn = duckdb.connect()
    conn.execute("create table t (x varchar)")
    conn.executemany("insert into t values (?)", [[x] for x in TEXTS])
    general_int = (
        "case when regexp_full_match({t}, '[+-]?[0-9]+') then try_cast({t} as bigint) end"
    ).format(t=parsing._int_text("x"))
    pairs = {
        "timestamp": (parsing.timestamp_expr("x"), parsing._general_timestamp_expr("x")),
        "yen": (parsing.yen_expr("x"), f"try_cast({parsing._yen_text('x')} as decimal(18, 2))"),
        "int": (parsing.int_expr("x"), general_int),
        "trim": (parsing.trimmed("x"), "trim(x)"),
    }
    for name, (fast, general) in pairs.items():
        differ = conn.execute(
            f"select x from t where ({fast}) is distinct from ({general})"
        ).fetchall()
        assert differ == [], name
    assert conn.execute(
        f"select {parsing.trimmed('x')} from t where x = '\u3000髙\u3000'"
    ).fetchone() == ("髙",)
