"""Write the bad-input corpus's landing files: ``python -m tests.corpus.build_corpus``.

Every case folder ``tests/corpus/<case>/`` holds one landing file (written here, byte for byte)
and ``expected.json`` (written by hand, never by this script: the expected outcome is fixed in
the repository, not computed by the loader under test). ``_baseline/`` holds one known-good
file per feed, loaded before every case to prove that a bad file touches nothing else.

The files are committed; rerun this script only to change or add a case, and check the
expectations by hand afterwards. Gzip output is made reproducible (``mtime=0``); the truncated
gzip depends on the zlib version's deflate output, so keep the committed bytes.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CORPUS = Path(__file__).resolve().parent
BASELINE = "_baseline"

ORDERS = "order_id,customer_id,ordered_at,total_amount\n"
MEMBERS = "customer_id,registered_at,family_name,given_name,prefecture\n"
LINES = "order_id,line_number,sku,quantity,unit_price\n"
RETURNS = "return_id,order_id,returned_at,quantity,refund_amount\n"


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def truncated_gzip() -> bytes:
    rows = "".join(
        f"G-{i:03d},c{i % 7:03d},2025-04-{i % 28 + 1:02d},{i * 100}\n" for i in range(300)
    )
    data = gzip.compress(utf8(ORDERS + rows), mtime=0)
    return data[: len(data) // 2]


def truncated_parquet() -> bytes:
    data = parquet(pa.table({"order_id": ["P-1", "P-2"], "ordered_at": ["2025-04-10"] * 2}))
    return data[: len(data) // 2]


BASELINE_FILES: dict[str, str] = {
    "orders": "order_id,customer_id,ordered_at,total_amount,shipping_fee,status\n"
    "B-001,c001,2025-04-01 09:00:00,5000,500,delivered\n"
    "B-002,c002,2025-04-02 10:00:00,3200,0,shipped\n"
    "B-003,,2025-04-03 11:00:00,980,0,ordered\n",
    # One bad row (quantity 0), so that the rejects table has rows a case must leave alone.
    "order_lines": LINES
    + "B-001,1,SKU-1,2,2250\nB-002,1,SKU-2,1,3200\nB-003,1,SKU-3,1,980\nB-003,2,SKU-X,0,980\n",
    "shipments": "shipment_id,order_id,shipped_at,carrier\nS-001,B-001,2025-04-02,yamato\n",
    "returns": RETURNS + "R-001,B-002,2025-04-05,1,1000\n",
    "sessions": "session_id,visitor_id,customer_id,started_at,page_views\n"
    "SS-1,v1,c001,2025-04-01 08:50:00,3\n",
    "page_views": "session_id,viewed_at,page_url,page_type\nSS-1,2025-04-01 08:51:00,/,top\n",
    "members": MEMBERS
    + "c001,2024-01-10,山田,太郎,東京都\nc002,2024-02-11,佐藤,花子,大阪府\n"
    + "c003,2024-03-12,鈴木,一郎,愛知県\n",
    "suppressions": "channel,address,suppressed_at,reason\n"
    "email,taro@example.jp,2025-03-01,unsubscribe\n",
}

#: case name -> (file name, the file's bytes); the feed is in the case's expected.json
CASES: dict[str, Callable[[], tuple[str, bytes]]] = {
    # --- encodings -------------------------------------------------------------------------
    "cp932_file": lambda: (
        "members_cp932.csv",
        (
            MEMBERS + "c101,2025/4/1,髙橋,美咲,北海道\nc102,2025/4/2,渡辺,翔太,大阪府\n"
            "c103,2025/4/3,伊藤,さくら,福岡県\n"
        ).encode("cp932"),
    ),
    "latin1_file": lambda: (
        "members_latin1.csv",
        (
            MEMBERS + "c201,2025-04-01,Müller,Hans,\nc202,2025-04-01,Gérard,Anne,\n"
            "c203,2025-04-01,Zoë,Smith,\nc204,2025-04-01,Smith,John,\n"
        ).encode("latin-1"),
    ),
    "utf16_file": lambda: (
        "members_utf16.csv",
        (MEMBERS + "c301,2025-04-01,中村,優,京都府\nc302,2025-04-02,小林,陽菜,兵庫県\n").encode(
            "utf-16"
        ),
    ),
    "utf16_without_bom": lambda: (
        "orders_utf16le.csv",
        (ORDERS + "W-001,c001,2025-04-10,1000\nW-002,c002,2025-04-11,2000\n").encode("utf-16-le"),
    ),
    "mixed_encodings": lambda: (
        "members_mixed.csv",
        utf8(MEMBERS)
        + "c401,2025-04-01,山田,花子,東京都\n".encode("cp932")
        + utf8("c402,2025-04-01,佐藤,健,東京都\n")  # these UTF-8 bytes are also valid CP932
        + "c403,2025-04-01,中村,翼,福岡県\n".encode("cp932")
        + utf8("c404,2025-04-01,小林,葵,神奈川県\n"),
    ),
    "bom": lambda: (
        "orders_bom.csv",
        (ORDERS + "M-001,c001,2025-04-10,1000\nM-002,c002,2025-04-11,2000\n").encode("utf-8-sig"),
    ),
    "crlf_line_endings": lambda: (
        "orders_crlf.csv",
        utf8("order_id,ordered_at,total_amount,payment_method\r\n")
        + utf8("L-001,2025-04-10,1000,代引き\r\nL-002,2025-04-11,2000,card\r\n"),
    ),
    "cr_line_endings": lambda: (
        "orders_cr.csv",
        utf8(ORDERS + "L-101,c001,2025-04-10,1000\nL-102,c002,2025-04-11,2000\n").replace(
            b"\n", b"\r"
        ),
    ),
    "nul_bytes": lambda: (
        "orders_nul.csv",
        utf8(ORDERS + "N-001,c001,2025-04-10,1000\n")
        + b"N-002,c0\x0002,2025-04-10,1000\n"
        + utf8("N-003,c003,2025-04-10,1000\n"),
    ),
    "nul_in_header": lambda: (
        "orders_nul_header.csv",
        b"order_id,customer\x00_id,ordered_at,total_amount\n"
        + utf8("N-101,c001,2025-04-10,1000\nN-102,c002,2025-04-10,1000\n"),
    ),
    # --- empty and header problems ---------------------------------------------------------
    "empty_file": lambda: ("orders_empty.csv", b""),
    "blank_lines_only": lambda: ("orders_blank.csv", b"\r\n\r\n   \r\n"),
    "header_only": lambda: ("orders_header_only.csv", utf8(ORDERS)),
    "missing_required_column": lambda: (
        "orders_no_total.csv",
        utf8("order_id,customer_id,ordered_at,status\nH-001,c001,2025-04-10,ordered\n")
        + utf8("H-002,c002,2025-04-11,shipped\n"),
    ),
    "renamed_required_column": lambda: (
        "orders_renamed_id.csv",
        utf8("受注番号,customer_id,ordered_at,total_amount\nH-101,c001,2025-04-10,1000\n")
        + utf8("H-102,c002,2025-04-11,2000\n"),
    ),
    "renamed_optional_column": lambda: (
        "orders_member_id.csv",
        utf8("order_id,member_id,ordered_at,total_amount\nH-201,c001,2025-04-10,1000\n")
        + utf8("H-202,c002,2025-04-11,2000\n"),
    ),
    "extra_columns": lambda: (
        "orders_extra.csv",
        utf8("order_id,ordered_at,total_amount,shop_memo,gift_wrap\n")
        + utf8("E-001,2025-04-10,1000,ギフト包装,yes\nE-002,2025-04-11,2000,,no\n"),
    ),
    "reordered_columns": lambda: (
        "orders_reordered.csv",
        utf8("total_amount,status,ordered_at,customer_id,order_id\n")
        + utf8("1000,shipped,2025-04-10,c001,O-001\n2000,,2025-04-11,c002,O-002\n"),
    ),
    "reserved_column_names": lambda: (
        "orders_reserved.csv",
        utf8("order_id,ordered_at,total_amount,_source_line,_read_problem\n")
        + utf8("X-001,2025-04-10,1000,zz,oops\n"),
    ),
    "duplicate_header": lambda: (
        "orders_dup_header.csv",
        utf8("order_id,Order_ID,ordered_at,total_amount\nH-301,H-301,2025-04-10,1000\n"),
    ),
    "blank_header_name": lambda: (
        "orders_blank_header.csv",
        utf8("order_id,,ordered_at,total_amount\nH-401,x,2025-04-10,1000\n")
        + utf8("H-402,y,2025-04-10,1000\n"),
    ),
    # --- row-level parse errors ------------------------------------------------------------
    "unparseable_dates": lambda: (
        "orders_dates.csv",
        utf8(
            "order_id,customer_id,ordered_at,total_amount,updated_at\n"
            "D-001,c001,2025-04-10 10:00:00,1000,\n"
            "D-002,c001,2025-13-01,1000,\n"
            "D-003,c001,2025/02/30,1000,\n"
            "D-004,c001,昨日,1000,\n"
            "D-005,c001,04/10/2025,1000,\n"
            "D-006,c001,2025年4月10日,1000,\n"
            "D-007,c001,,1000,\n"
            "D-008,c001,2025-04-10,1000,someday\n"
            "D-009,c001,2025/4/10 9:05,1000,2025-04-11T10:00:00+09:00\n"
        ),
    ),
    "unparseable_yen": lambda: (
        "orders_yen.csv",
        utf8(
            "order_id,ordered_at,total_amount,shipping_fee\n"
            'Y-001,2025-04-10,"¥1,234",500\n'
            "Y-002,2025-04-10,１２３４円,0\n"
            "Y-003,2025-04-10,12x,0\n"
            "Y-004,2025-04-10,▲500,0\n"
            'Y-005,2025-04-10,"1,000円引き",0\n'
            "Y-006,2025-04-10,1000,free\n"
            "Y-007,2025-04-10,-,0\n"
            "Y-008,2025-04-10,,0\n"
        ),
    ),
    "negative_quantities": lambda: (
        "lines_negative.csv",
        utf8(
            LINES + "B-003,2,SKU-3,1,980\n"
            "B-003,3,SKU-4,-1,980\n"
            "B-003,4,SKU-5,0,980\n"
            "B-003,5,SKU-6,－2,980\n"
            "B-003,0,SKU-7,1,980\n"
        ),
    ),
    "absurd_quantities": lambda: (
        "lines_absurd.csv",
        utf8(
            LINES + "B-003,6,SKU-8,99999999999999999999,980\n"
            "B-003,7,SKU-9,3個,980\n"
            "B-003,8,SKU-10,1.5,980\n"
            "B-003,9,SKU-11,1000000,980\n"
        ),
    ),
    "negative_refunds": lambda: (
        "returns_negative.csv",
        utf8(
            RETURNS + "R-101,B-001,2025-04-06,1,500\n"
            "R-102,B-001,2025-04-06,-1,500\n"
            "R-103,B-001,2025-04-06,1,-500\n"
        ),
    ),
    "field_count": lambda: (
        "orders_fields.csv",
        utf8(
            ORDERS + "C-001,c001,2025-04-10,1000\n"
            "C-002,c001,2025-04-10,1000,surplus\n"
            "C-003,c001,2025-04-10\n"
        ),
    ),
    "embedded_newlines_quotes": lambda: (
        "orders_quoted.csv",
        utf8(
            "order_id,customer_id,ordered_at,total_amount,coupon_code,payment_method\n"
            'Q-001,c001,2025-04-10,1000,"SPRING, 10%","credit\ncard"\n'
            'Q-002,c001,2025-04-10,1000,"say ""hello""",代引き\n'
            'Q-003,c001,2025-04-10,"1,000","multi\nline\nvalue",bank\n'
            "Q-004,c001,not-a-date,1000,,\n"
        ),
    ),
    "unbalanced_quote": lambda: (
        "orders_unbalanced.csv",
        utf8(
            ORDERS + "Q-101,c001,2025-04-10,1000\n"
            'Q-102,"c001,2025-04-10,1000\n'
            "Q-103,c001,2025-04-10,1000\n"
            "Q-104,c001,2025-04-10,1000\n"
        ),
    ),
    # --- keys and versions -----------------------------------------------------------------
    "duplicate_keys_with_updated_at": lambda: (
        "orders_versions.csv",
        utf8(
            "order_id,customer_id,ordered_at,total_amount,status,updated_at\n"
            "K-001,c001,2025-04-10,1000,ordered,2025-04-10 10:00:00\n"
            "K-001,c001,2025-04-10,1000,shipped,2025-04-11 10:00:00\n"
            "K-001,c001,2025-04-10,1000,delivered,2025-04-11 10:00:00\n"
            "B-001,c001,2025-04-01 09:00:00,5000,cancelled,2025-04-12 09:00:00\n"
        ),
    ),
    "duplicate_keys_without_updated_at": lambda: (
        "orders_dup_keys.csv",
        utf8(
            ORDERS + "K-101,c001,2025-04-10,1000\n"
            "K-101,c001,2025-04-10,1200\n"
            "B-002,c002,2025-04-02 10:00:00,3300\n"
        ),
    ),
    # --- semantic cases: valid at the raw level --------------------------------------------
    "orders_unknown_customers": lambda: (
        "orders_unknown_customers.csv",
        utf8(ORDERS + "U-001,c999,2025-04-10,1000\nU-002,zz-unknown,2025-04-10,2000\n"),
    ),
    "returns_unknown_orders": lambda: (
        "returns_unknown_order.csv",
        utf8(RETURNS + "R-201,X-999,2025-04-06,,1000\n"),
    ),
    "returns_exceeding_order": lambda: (
        "returns_exceeding.csv",
        utf8(RETURNS + "R-301,B-001,2025-04-06,,999999\nR-302,B-001,2025-04-07,,5000\n"),
    ),
    "future_dates": lambda: (
        "orders_future.csv",
        utf8(
            "order_id,customer_id,ordered_at,total_amount,updated_at\n"
            "F-001,c001,2099-01-01 00:00:00,1000,\n"
            "F-002,c001,2025-04-10,1000,2099-12-31 00:00:00\n"
        ),
    ),
    "absurd_amounts": lambda: (
        "orders_absurd.csv",
        utf8(
            ORDERS + "A-001,c001,2025-04-10,1000000000000000\n"
            "A-002,c001,2025-04-10,9999999999999999.99\n"
            "A-003,c001,2025-04-10,10000000000000000\n"
            "A-004,c001,2025-04-10,-5000\n"
        ),
    ),
    # --- damaged containers ----------------------------------------------------------------
    "truncated_gzip": lambda: ("orders_truncated.csv.gz", truncated_gzip()),
    "not_gzip": lambda: (
        "orders_plain.csv.gz",
        utf8(ORDERS + "Z-001,c001,2025-04-10,1000\n"),
    ),
    "parquet_wrong_types": lambda: (
        "orders_wrong_types.parquet",
        parquet(
            pa.table(
                {
                    "order_id": ["P-001", "P-002", "P-003"],
                    "ordered_at": pa.array([20250410, 1744243200, None], type=pa.int64()),
                    "total_amount": ["1000", "12x", "¥500"],
                }
            )
        ),
    ),
    "parquet_junk_values": lambda: (
        "orders_junk.parquet",
        parquet(
            pa.table(
                {
                    "order_id": ["P-101", "P-102", "P-103"],
                    "customer_id": pa.array([1, 2, 3], type=pa.int64()),
                    "ordered_at": pa.array([datetime(2025, 4, 10, 9, 30)] * 3, pa.timestamp("us")),
                    "total_amount": ["1000", "junk", ""],
                }
            )
        ),
    ),
    "parquet_not_parquet": lambda: (
        "orders_garbage.parquet",
        bytes(range(256)) * 4,
    ),
    "parquet_truncated": lambda: ("orders_truncated.parquet", truncated_parquet()),
    "parquet_no_rows": lambda: (
        "orders_no_rows.parquet",
        parquet(
            pa.table(
                {
                    "order_id": pa.array([], pa.string()),
                    "ordered_at": pa.array([], pa.timestamp("us")),
                    "total_amount": pa.array([], pa.int64()),
                }
            )
        ),
    ),
    "parquet_nested_column": lambda: (
        "orders_nested.parquet",
        parquet(
            pa.table(
                {
                    "order_id": ["P-201", "P-202"],
                    "ordered_at": ["2025-04-10", "2025-04-11"],
                    "total_amount": pa.array([1000, 2000], pa.int64()),
                    "tags": pa.array([["gift", "ギフト"], None]),
                    "meta": pa.array([{"device": "sp"}, {"device": "pc"}]),
                }
            )
        ),
    ),
    "parquet_binary_column": lambda: (
        "orders_binary.parquet",
        parquet(
            pa.table(
                {
                    "order_id": ["P-301", "P-302", "P-303"],
                    "ordered_at": ["2025-04-10"] * 3,
                    "total_amount": ["1000"] * 3,
                    "coupon_code": pa.array(
                        [b"SPRING", "春割".encode("cp932"), b"\x81,\xff"], pa.binary()
                    ),
                }
            )
        ),
    ),
}


def build(root: Path = CORPUS) -> list[Path]:
    """Write the baseline and every case's landing file under ``root``; return the paths."""
    written: list[Path] = []
    for feed, text in BASELINE_FILES.items():
        path = root / BASELINE / feed / f"{feed}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(utf8(text))
        written.append(path)
    for case, make in CASES.items():
        name, data = make()
        path = root / case / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(f"{path.stat().st_size:6d}  {path.relative_to(CORPUS)}")
