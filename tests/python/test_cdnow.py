"""Real data: CDNOW through the whole nightly job, checked against an independent computation.

The CDNOW master file is converted to the landing contract (one order per line, orders feed
only), the nightly job runs as of 1998-06-30, and marts.customer_facts must agree, for every
one of the 23,570 customers, with figures computed here directly from the source file with
pandas.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crm.cdnow import convert
from crm.settings import Settings
from orchestration.run import run_nightly
from tests.python.conftest import CDNOW_AS_OF as AS_OF
from tests.python.conftest import TEST_DATA

CDNOW = TEST_DATA / "cdnow" / "CDNOW_master.txt"

pytestmark = pytest.mark.slow


def expected_facts() -> pd.DataFrame:
    source = pd.read_csv(
        CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str}, engine="python"
    )
    source["day"] = pd.to_datetime(source["date"], format="%Y%m%d")
    grouped = source.groupby("customer_id")
    facts = pd.DataFrame(
        {
            "order_count": grouped.size(),
            "purchase_days": grouped["day"].nunique(),
            "first_purchase_date": grouped["day"].min().dt.date,
            "last_purchase_date": grouped["day"].max().dt.date,
            "net_sales": grouped["dollar_value"].sum().round(2),
        }
    )
    facts["days_since_last_purchase"] = [(AS_OF - d).days for d in facts["last_purchase_date"]]
    return facts.sort_index()


def test_customer_facts_match_an_independent_computation(cdnow_warehouse: Path):
    with duckdb.connect(str(cdnow_warehouse), read_only=True) as conn:
        actual = conn.execute(
            """
            select customer_id, order_count, purchase_days, first_purchase_date,
                   last_purchase_date, cast(net_sales as double) as net_sales,
                   days_since_last_purchase, as_of_date
            from marts.customer_facts
            order by customer_id
            """
        ).df()
    expected = expected_facts()
    assert len(actual) == len(expected) == 23_570
    assert (actual["as_of_date"].dt.date == AS_OF).all()
    actual = actual.set_index("customer_id")
    for column in ["order_count", "purchase_days", "days_since_last_purchase"]:
        mismatched = actual[column].astype(int) != expected[column].astype(int)
        assert not mismatched.any(), f"{column} differs for {mismatched.sum()} customers"
    for column in ["first_purchase_date", "last_purchase_date"]:
        got = pd.to_datetime(actual[column]).dt.date
        assert (got == expected[column]).all(), column
    difference = (actual["net_sales"] - expected["net_sales"]).abs()
    assert difference.max() < 0.005


def test_a_shop_with_only_orders_has_null_member_and_web_columns(cdnow_warehouse: Path):
    with duckdb.connect(str(cdnow_warehouse), read_only=True) as conn:
        filled = conn.execute(
            """
            select count(visits), count(last_visit_date), count(registered_date),
                   count(member_rank), count(unshipped_order_share), count(first_category),
                   count(*) filter (where is_member)
            from marts.customer_facts
            """
        ).fetchone()
    assert filled == (0, 0, 0, 0, 0, 0, 0)


def test_point_in_time_run_ignores_later_orders(tmp_path: Path):
    landing = tmp_path / "landing"
    convert(CDNOW, landing)
    settings = Settings.from_env(
        {
            "CRM_LANDING_DIR": str(landing),
            "CRM_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
            "CRM_AS_OF_DATE": "1997-03-31",
        }
    )
    assert run_nightly(settings).success
    source = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    early = source[source["date"] <= "19970331"]
    with duckdb.connect(str(settings.build_path), read_only=True) as conn:
        customers, orders, latest = conn.execute(
            "select count(*), sum(order_count), max(last_purchase_date) from marts.customer_facts"
        ).fetchone()
    assert customers == early["customer_id"].nunique()
    assert orders == len(early)
    assert latest == date(1997, 3, 31)
