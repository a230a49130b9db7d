"""The two peers the benchmark compares our build with.

* ``duckdb_lower_bound``: one aggregate scan of the loaded raw orders grouped by customer
  (count, sum of total, first and last order time): no dbt run can be faster than this.
* ``pandas_customer_facts_rfm``: customer facts and RFM groups the way an analyst writes them
  in pandas: read the Parquet landing files of orders and returns, keep the latest version of
  each row, group by customer, band and score with the project's seeds (seeds/rfm).
"""

from __future__ import annotations

import math
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crm.settings import PROJECT_DIR, duckdb_config

SEEDS = PROJECT_DIR / "seeds" / "rfm"
LOWER_BOUND_SQL = """
select count(*), sum(n), sum(total), min(first_at), max(last_at) from (
    select customer_id, count(*) as n, sum(total_amount) as total,
           min(ordered_at) as first_at, max(ordered_at) as last_at
    from raw.orders
    group by customer_id
)
"""


def duckdb_lower_bound(warehouse: Path, repeats: int = 3) -> dict[str, Any]:
    """Best of ``repeats`` runs of the scan (the outer query uses every aggregate, so none is
    optimised away)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config(warehouse)) as conn:
        rows = int(conn.execute("select count(*) from raw.orders").fetchone()[0])  # type: ignore[index]
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            groups = conn.execute(LOWER_BOUND_SQL).fetchone()
            times.append(time.perf_counter() - started)
    return {
        "seconds": round(min(times), 4),
        "runs_seconds": [round(t, 4) for t in times],
        "rows": rows,
        "customers": int(groups[0]) if groups else 0,
        "sql": " ".join(LOWER_BOUND_SQL.split()),
    }


def _read_feed(landing: Path, feed: str, columns: list[str]) -> Any:
    import pandas as pd

    files = sorted((landing / feed).glob("*.parquet"))
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def _latest(frame: Any, key: str, cutoff: Any) -> Any:
    """The version of each row in force before the cutoff (latest ``updated_at``)."""
    frame = frame[frame["updated_at"].isna() | (frame["updated_at"] < cutoff)]
    return frame.sort_values("updated_at", kind="stable").drop_duplicates(key, keep="last")


def _bands(values: Any, seed: Any, labels: str) -> Any:
    """Fixed bands [lower, upper) from a seed table (empty upper = open)."""
    import pandas as pd

    edges = [*seed["lower_bound"].tolist(), math.inf]
    return pd.cut(values, bins=edges, right=False, labels=seed[labels].tolist())


def pandas_customer_facts_rfm(landing: Path, as_of: date) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    cutoff = pd.Timestamp(as_of + timedelta(days=1))
    orders = _read_feed(
        landing,
        "orders",
        [
            "order_id",
            "customer_id",
            "ordered_at",
            "status",
            "total_amount",
            "shipping_fee",
            "updated_at",
        ],
    )
    returns = _read_feed(
        landing, "returns", ["return_id", "order_id", "refund_amount", "returned_at", "updated_at"]
    )
    rows_read = len(orders) + len(returns)
    read_seconds = time.perf_counter() - started

    orders = _latest(orders, "order_id", cutoff)
    orders = orders[orders["ordered_at"] < cutoff]
    returns = _latest(returns, "return_id", cutoff)
    returns = returns[returns["returned_at"] < cutoff]
    refunds = returns.groupby("order_id")["refund_amount"].sum()
    orders["refunded"] = orders["order_id"].map(refunds).fillna(0)
    orders["gross"] = orders["total_amount"] - orders["shipping_fee"].fillna(0)
    orders["net"] = orders["gross"] - orders["refunded"]
    status = orders["status"].fillna("ordered").str.lower()
    fully_refunded = (status == "returned") | (
        (orders["refunded"] > 0) & (orders["refunded"] >= orders["gross"])
    )
    purchases = orders[(status != "cancelled") & ~fully_refunded & orders["customer_id"].notna()]
    purchases = purchases.assign(day=purchases["ordered_at"].dt.normalize())

    facts = purchases.groupby("customer_id").agg(
        first_purchase_at=("ordered_at", "min"),
        last_purchase_at=("ordered_at", "max"),
        order_count=("order_id", "size"),
        purchase_days=("day", "nunique"),
        gross_sales=("gross", "sum"),
        refunded_amount=("refunded", "sum"),
        net_sales=("net", "sum"),
    )
    recent = purchases[purchases["ordered_at"] >= cutoff - pd.Timedelta(days=365)]
    facts = facts.join(
        recent.groupby("customer_id").agg(
            orders_last_365d=("order_id", "size"), net_sales_last_365d=("net", "sum")
        )
    ).fillna({"orders_last_365d": 0, "net_sales_last_365d": 0})
    facts["average_order_value"] = facts["net_sales"] / facts["order_count"]
    today = pd.Timestamp(as_of)
    facts["recency_days"] = (today - facts["last_purchase_at"].dt.normalize()).dt.days
    facts["tenure_days"] = (today - facts["first_purchase_at"].dt.normalize()).dt.days

    # RFM: R×F groups by the seed bands, fixed-band scores and quintile scores.
    seed = {
        name: pd.read_csv(SEEDS / f"rfm_{name}.csv")
        for name in (
            "recency_bands",
            "frequency_bands",
            "monetary_bands",
            "group_map",
            "groups",
            "score_bands",
        )
    }
    monetary = facts["net_sales"].clip(lower=0)
    facts["r_band"] = _bands(facts["recency_days"], seed["recency_bands"], "band_code")
    facts["f_band"] = _bands(facts["order_count"], seed["frequency_bands"], "band_code")
    facts["m_band"] = _bands(monetary, seed["monetary_bands"], "band_code")
    rf = seed["group_map"][seed["group_map"]["axes"] == "rf"]
    lookup = {
        (r, c): g
        for r, c, g in rf[["row_band", "column_band", "rfm_group"]].itertuples(index=False)
    }
    facts["rfm_group"] = [lookup.get(k) for k in zip(facts["r_band"], facts["f_band"], strict=True)]
    scores = seed["score_bands"]
    for axis, column, values in (
        ("recency", "r_score", facts["recency_days"]),
        ("frequency", "f_score", facts["order_count"]),
        ("monetary", "m_score", monetary),
    ):
        bands = scores[scores["axis"] == axis].sort_values("lower_bound")
        facts[column] = _bands(values, bands, "score").astype(int)
    n = len(facts)
    for column, values in (
        ("r_quintile_score", -facts["recency_days"]),
        ("f_quintile_score", facts["order_count"]),
        ("m_quintile_score", facts["net_sales"]),
    ):
        pct = (values.rank(method="min") - 1) / max(n - 1, 1)
        facts[column] = np.minimum(5, 1 + np.floor(5 * pct)).astype(int)
    facts["rfm_score"] = facts["r_score"] + facts["f_score"] + facts["m_score"]
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "read_seconds": round(read_seconds, 3),
        "rows": rows_read,
        "customers": n,
        "groups": {str(k): int(v) for k, v in facts["rfm_group"].value_counts().items()},
    }
