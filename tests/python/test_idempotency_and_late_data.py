"""Reliability: the same night twice, re-landed files and late data (issue 7).

Three nightly runs of one tiny generated shop, all as of the same business date:

1. the first night;
2. the same night again, after an already-loaded file was copied under a new name and another
   one touched: every table of every schema of the warehouse and of the published BI file is
   identical, and the export files are byte-identical;
3. the same night once more, after a delta with a corrected order (same id, newer
   ``updated_at``), a late return and a late shipment of old orders was landed: they flow into
   the orders, customer facts, RFM and reports, but not into the frozen stable segments.

Tables are compared by row count and an order-independent sum of row hashes.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm.settings import Settings
from orchestration.run import run_nightly
from tests.python.conftest import AS_OF, query, settings_for

pytestmark = pytest.mark.slow

CUSTOMERS = 150
DAYS = 400
TERM = date(2025, 4, 1)  # the stable-segment term written by the first night
CORRECTION_YEN = 5000
LATE_REFUND_YEN = 1000

#: Columns that legitimately differ between two runs of the same night, with the reason.
#: Nothing in the warehouse itself: only the publication stamp of the BI file.
RUN_BOOKKEEPING: dict[str, tuple[str, str]] = {
    "main._publication": ("published_at", "the wall-clock time this copy was published"),
}

TableHashes = dict[str, tuple[int, int | None]]


def _table_hashes(database: Path) -> TableHashes:
    """Row count and order-independent content hash of every table and view of a database."""
    hashes: TableHashes = {}
    with duckdb.connect(str(database), read_only=True) as conn:
        relations = conn.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_catalog = current_database()
            order by all
            """
        ).fetchall()
        for schema, table in relations:
            name = f"{schema}.{table}"
            excluded = RUN_BOOKKEEPING.get(name, ("",))[0]
            columns = f"* exclude ({excluded})" if excluded else "*"
            count, digest = conn.execute(
                f'select count(*), sum(hash(t)) from (select {columns} from "{schema}"."{table}") '
                "as t"
            ).fetchone()  # type: ignore[misc]
            hashes[name] = (int(count), None if digest is None else int(digest))
    return hashes


def _export_files(settings: Settings) -> dict[str, bytes]:
    root = settings.export_dir
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@dataclass(frozen=True)
class Night:
    settings: Settings
    seconds: float
    warehouse: TableHashes
    published: TableHashes
    exports: dict[str, bytes]


def _run_night(settings: Settings) -> Night:
    started = time.monotonic()
    assert run_nightly(settings, log_level="WARNING").success
    return Night(
        settings=settings,
        seconds=time.monotonic() - started,
        warehouse=_table_hashes(settings.build_path),
        published=_table_hashes(settings.warehouse_path),
        exports=_export_files(settings),
    )


@pytest.fixture(scope="module")
def first_night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    from crm.demo import generate_shop

    root = tmp_path_factory.mktemp("idempotency")
    landing = root / "landing"
    generate_shop(landing, customers=CUSTOMERS, days=DAYS, end_date=AS_OF, seed=11)
    return _run_night(settings_for(root, landing))


def _reland(landing: Path) -> tuple[str, str]:
    """Copy a loaded orders file under a new name and touch a shipments file."""
    original = sorted((landing / "orders").glob("*.csv"))[0]
    copy = original.with_name(f"resent_{original.name}")
    shutil.copyfile(original, copy)
    touched = sorted((landing / "shipments").glob("*.csv"))[-1]
    later = time.time() + 3600
    os.utime(touched, (later, later))
    return copy.relative_to(landing).as_posix(), touched.relative_to(landing).as_posix()


@pytest.fixture(scope="module")
def second_night(first_night: Night) -> tuple[Night, tuple[str, str]]:
    relanded = _reland(first_night.settings.landing_dir)
    return _run_night(first_night.settings), relanded


def _differences(before: TableHashes, after: TableHashes) -> list[str]:
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def test_the_same_night_again_changes_no_table_even_with_relanded_files(
    first_night: Night, second_night: tuple[Night, tuple[str, str]]
):
    again, _ = second_night
    schemas = {name.split(".")[0] for name in first_night.warehouse}
    assert {"raw", "staging", "intermediate", "marts", "audiences", "reference", "exports",
            "quality"} <= schemas  # fmt: skip
    assert first_night.warehouse["marts.customer_facts"][0] > 0
    assert _differences(first_night.warehouse, again.warehouse) == []
    assert _differences(first_night.published, again.published) == []
    print(f"\nnight 1: {first_night.seconds:.0f} s, same night again: {again.seconds:.0f} s")


def test_the_same_night_again_writes_byte_identical_exports(
    first_night: Night, second_night: tuple[Night, tuple[str, str]]
):
    again, _ = second_night
    assert any(name.endswith(".csv") for name in first_night.exports)
    assert again.exports == first_night.exports


def test_relanded_files_are_skipped_by_the_ledger(second_night: tuple[Night, tuple[str, str]]):
    night, (copy, touched) = second_night
    ledger = query(night.settings, "select source_file, loaded_at from raw._load_ledger")
    assert copy not in set(ledger["source_file"])
    assert (ledger["source_file"] == touched).sum() == 1


# --------------------------------------------------------------------------------------------
# Late data: a corrected order, a late return and a late shipment, landed after the first nights


@dataclass(frozen=True)
class LateData:
    settings: Settings
    corrected: pd.Series  # the order as it was before the correction (int_orders_enriched)
    returned: pd.Series
    shipped: pd.Series
    before: dict[str, pd.DataFrame]
    after: dict[str, pd.DataFrame]


ORDER_COLUMNS = [
    "order_id", "customer_id", "ordered_at", "status", "channel", "subtotal_amount",
    "discount_amount", "shipping_fee", "tax_amount", "total_amount", "payment_method",
    "coupon_code", "is_subscription", "updated_at",
]  # fmt: skip


def _pick_orders(settings: Settings) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Three old orders of three different customers: two purchases without returns before
    the term start (to correct and to return) and one not yet shipped (to ship)."""
    orders = query(
        settings,
        "select * from intermediate.int_orders_enriched order by ordered_date, order_id",
    )
    unshipped = orders[
        ~orders["is_shipped"]
        & ~orders["is_cancelled"]
        & ~orders["is_guest"]
        & (orders["ordered_date"] < pd.Timestamp(AS_OF - timedelta(days=3)))
    ]
    assert not unshipped.empty, "the generated shop has no unshipped order to ship late"
    shipped = unshipped.iloc[0]
    old_purchases = orders[
        orders["is_purchase"]
        & ~orders["is_guest"]
        & (orders["customer_id"] != shipped["customer_id"])
        & (orders["return_events"] == 0)
        & (orders["ordered_date"] >= pd.Timestamp(TERM - timedelta(days=180)))
        & (orders["ordered_date"] < pd.Timestamp(TERM - timedelta(days=20)))
        & (orders["gross_amount"] > 2 * LATE_REFUND_YEN)
    ]
    corrected = old_purchases.iloc[0]
    returned = old_purchases[old_purchases["customer_id"] != corrected["customer_id"]].iloc[0]
    return corrected, returned, shipped


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp | datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)


def _land_late_data(
    settings: Settings, corrected: pd.Series, returned: pd.Series, shipped: pd.Series
) -> None:
    landing = settings.landing_dir
    version = query(
        settings,
        f"select * from staging.stg_shop__orders where order_id = '{corrected['order_id']}'",
    ).iloc[0]
    row = {column: version.get(column) for column in ORDER_COLUMNS}
    row["status"] = version["order_status"]
    row["subtotal_amount"] = _plus(version["subtotal_amount"], CORRECTION_YEN)
    row["total_amount"] = int(version["total_amount"]) + CORRECTION_YEN
    row["updated_at"] = datetime.combine(AS_OF, datetime.min.time()) + timedelta(hours=12)
    assert version["updated_at"] < row["updated_at"]
    _write_csv(landing / "orders" / "zz_corrections.csv", [row])

    ordered_at = pd.Timestamp(returned["ordered_at"])
    _write_csv(
        landing / "returns" / "zz_late_returns.csv",
        [
            {
                "return_id": f"LATE-RETURN-{returned['order_id']}",
                "order_id": returned["order_id"],
                "returned_at": ordered_at + timedelta(days=10),
                "refund_amount": LATE_REFUND_YEN,
                "reason": "damaged",
            }
        ],
    )
    shipped_at = pd.Timestamp(shipped["ordered_at"]) + timedelta(days=2)
    _write_csv(
        landing / "shipments" / "zz_late_shipments.csv",
        [
            {
                "shipment_id": f"LATE-SHIPMENT-{shipped['order_id']}",
                "order_id": shipped["order_id"],
                "shipped_at": shipped_at,
                "delivered_at": shipped_at + timedelta(days=1),
                "carrier": "yamato",
            }
        ],
    )


def _plus(value: object, amount: int) -> object:
    return value if value is None or pd.isna(value) else int(value) + amount  # type: ignore[arg-type]


def _read_state(
    settings: Settings, customers: list[str], orders: list[str]
) -> dict[str, pd.DataFrame]:
    ids = ", ".join(f"'{c}'" for c in customers)
    order_ids = ", ".join(f"'{o}'" for o in orders)
    return {
        "orders": query(
            settings,
            f"select * from intermediate.int_orders_enriched where order_id in ({order_ids})",
        ).set_index("order_id"),
        "facts": query(
            settings, f"select * from marts.customer_facts where customer_id in ({ids})"
        ).set_index("customer_id"),
        "rfm": query(
            settings, f"select * from marts.customer_rfm where customer_id in ({ids})"
        ).set_index("customer_id"),
        "profiles": query(
            settings,
            f"""
            select * from intermediate.int_customer_terms_profiled
            where scope_code = '_all' and term_start = '{TERM}' and customer_id in ({ids})
            """,
        ).set_index("customer_id"),
        "monthly": query(
            settings, "select * from marts.monthly_new_vs_repeat_sales order by month_start"
        ).set_index("month_start"),
        "segments": query(settings, "select * from marts.stable_segments order by all"),
        "segments_by_category": query(
            settings, "select * from marts.stable_segments_by_category order by all"
        ),
    }


@pytest.fixture(scope="module")
def late_data(second_night: tuple[Night, tuple[str, str]]) -> LateData:
    settings = second_night[0].settings
    corrected, returned, shipped = _pick_orders(settings)
    customers = [corrected["customer_id"], returned["customer_id"], shipped["customer_id"]]
    orders = [corrected["order_id"], returned["order_id"], shipped["order_id"]]
    before = _read_state(settings, customers, orders)
    _land_late_data(settings, corrected, returned, shipped)
    assert run_nightly(settings, log_level="WARNING").success
    after = _read_state(settings, customers, orders)
    return LateData(settings, corrected, returned, shipped, before, after)


def test_a_corrected_order_replaces_its_earlier_version(late_data: LateData):
    order_id, customer = late_data.corrected["order_id"], late_data.corrected["customer_id"]
    before, after = late_data.before, late_data.after
    assert (
        after["orders"].loc[order_id, "total_amount"]
        == before["orders"].loc[order_id, "total_amount"] + CORRECTION_YEN
    )
    for column in ("gross_sales", "net_sales"):
        assert (
            after["facts"].loc[customer, column]
            == before["facts"].loc[customer, column] + CORRECTION_YEN
        )
    for column in ("refunded_amount", "order_count"):
        assert after["facts"].loc[customer, column] == before["facts"].loc[customer, column]
    assert after["rfm"].loc[customer, "net_sales"] == (
        before["rfm"].loc[customer, "net_sales"] + CORRECTION_YEN
    )
    count = query(
        late_data.settings,
        f"select count(*) as n from staging.stg_shop__orders where order_id = '{order_id}'",
    )
    assert count["n"].iloc[0] == 1


def test_a_late_return_is_refunded_in_facts_and_rfm(late_data: LateData):
    order_id, customer = late_data.returned["order_id"], late_data.returned["customer_id"]
    before, after = late_data.before, late_data.after
    order = after["orders"].loc[order_id]
    assert order["refunded_amount"] == LATE_REFUND_YEN and order["has_return"]
    assert order["is_purchase"]  # a partial refund
    facts_before, facts_after = before["facts"].loc[customer], after["facts"].loc[customer]
    assert facts_after["gross_sales"] == facts_before["gross_sales"]
    assert facts_after["refunded_amount"] == facts_before["refunded_amount"] + LATE_REFUND_YEN
    assert facts_after["net_sales"] == facts_before["net_sales"] - LATE_REFUND_YEN
    assert after["rfm"].loc[customer, "net_sales"] == (
        before["rfm"].loc[customer, "net_sales"] - LATE_REFUND_YEN
    )


def test_a_late_shipment_ships_the_order(late_data: LateData):
    order_id, customer = late_data.shipped["order_id"], late_data.shipped["customer_id"]
    before, after = late_data.before, late_data.after
    assert not before["orders"].loc[order_id, "is_shipped"]
    order = after["orders"].loc[order_id]
    assert order["is_shipped"] and order["shipment_count"] == 1
    assert order["shipment_lag_days"] == 2
    assert order["last_delivered_at"] == pd.Timestamp(order["first_shipped_at"]) + timedelta(days=1)
    facts_before, facts_after = before["facts"].loc[customer], after["facts"].loc[customer]
    unshipped_before = round(facts_before["unshipped_order_share"] * facts_before["placed_orders"])
    unshipped_after = round(facts_after["unshipped_order_share"] * facts_after["placed_orders"])
    assert facts_after["placed_orders"] == facts_before["placed_orders"]
    assert unshipped_after == unshipped_before - 1


def test_late_data_flows_into_the_monthly_report(late_data: LateData):
    expected = late_data.before["monthly"]["total_net_sales"].copy()
    for order, change in (
        (late_data.corrected, CORRECTION_YEN),
        (late_data.returned, -LATE_REFUND_YEN),
    ):
        month = pd.Timestamp(order["ordered_date"]).to_period("M").to_timestamp()
        expected.loc[month] += change
    pd.testing.assert_series_equal(late_data.after["monthly"]["total_net_sales"], expected)


def test_late_data_leaves_the_frozen_stable_segments_untouched(late_data: LateData):
    before, after = late_data.before, late_data.after
    corrected, returned = late_data.corrected["customer_id"], late_data.returned["customer_id"]
    # The late rows are in the history the segment rules read ...
    assert after["profiles"].loc[corrected, "net_sales"] == (
        before["profiles"].loc[corrected, "net_sales"] + CORRECTION_YEN
    )
    assert after["profiles"].loc[returned, "refunded_amount"] == (
        before["profiles"].loc[returned, "refunded_amount"] + LATE_REFUND_YEN
    )
    # ... but the written terms stay as they were, column for column.
    assert (before["segments"]["term_start"] == pd.Timestamp(TERM)).any()
    assert {corrected, returned} <= set(before["segments"]["customer_id"])
    pd.testing.assert_frame_equal(after["segments"], before["segments"], check_exact=True)
    pd.testing.assert_frame_equal(
        after["segments_by_category"], before["segments_by_category"], check_exact=True
    )
