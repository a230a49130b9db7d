"""Freshness of the raw feeds: is the shop's data recent, and did the nightly load run?

Two kinds of check per raw feed asset (``raw/<feed>``), both visible on the asset in the UI:

* ``data_is_fresh`` — about the **data**: the latest event date in ``raw.<feed>`` (the feed's
  event column, e.g. ``ordered_at``; order lines take the date of their order), on or before
  the as-of date, must be at most ``FRESHNESS_DAYS[feed]`` days before the as-of date. It is
  evaluated by the load asset itself, right after each load, so it costs one ``max()`` query.
  A feed the shop does not deliver passes (nothing to be late). Severity WARN: a stale feed is
  reported, the run goes on.
* a Dagster ``FreshnessPolicy`` — about the **run**: the load asset was materialized within
  the last ``NIGHTLY_LOAD_MAX_AGE`` (26 hours). The daemon's freshness evaluation (`make ui`
  runs it) marks the asset Fresh or Failing on the asset page and in the asset graph, so a
  nightly run that did not happen at all shows up even though no run failed.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import duckdb

from crm.contract import Feed

#: Days the latest event of each feed may lag behind the as-of date. Busy feeds (orders,
#: sessions) arrive daily; returns, members and suppressions are naturally sparse.
FRESHNESS_DAYS: dict[str, int] = {
    "orders": 2,
    "order_lines": 2,
    "shipments": 3,
    "returns": 14,
    "sessions": 2,
    "page_views": 2,
    "members": 30,
    "suppressions": 90,
}

DATA_FRESHNESS_CHECK = "data_is_fresh"

#: A daily load older than this means a nightly run was missed.
NIGHTLY_LOAD_MAX_AGE = timedelta(hours=26)
NIGHTLY_LOAD_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=NIGHTLY_LOAD_MAX_AGE)


def raw_asset_key(feed_name: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", feed_name])


def data_freshness_spec(feed: Feed) -> dg.AssetCheckSpec:
    days = FRESHNESS_DAYS[feed.name]
    return dg.AssetCheckSpec(
        DATA_FRESHNESS_CHECK,
        asset=raw_asset_key(feed.name),
        description=(
            f"The latest {feed.name} event in raw.{feed.name} is at most {days} day(s) before "
            "the as-of date (a feed the shop does not deliver passes)."
        ),
        metadata={"max_lag_days": days},
    )


def _latest_event_sql(feed: Feed) -> str:
    if feed.event_time:
        return (
            f"select max({feed.event_time})::date from raw.{feed.name} "
            f"where {feed.event_time} < ?::date + 1"
        )
    # order_lines carry no date of their own: the date of their order.
    return (
        "select max(o.ordered_at)::date from raw.order_lines as l "
        "join raw.orders as o using (order_id) where o.ordered_at < ?::date + 1"
    )


def _table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = conn.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = ?",
        [table],
    ).fetchone()
    return bool(row and row[0])


def latest_event_date(conn: duckdb.DuckDBPyConnection, feed: Feed, as_of: date) -> date | None:
    """The latest event date of a feed on or before ``as_of`` (None: no rows, or no table)."""
    needed = [feed.name] + ([] if feed.event_time else ["orders"])
    if not all(_table_exists(conn, table) for table in needed):
        return None
    row = conn.execute(_latest_event_sql(feed), [as_of.isoformat()]).fetchone()
    return row[0] if row else None


def data_freshness_result(
    conn: duckdb.DuckDBPyConnection, feed: Feed, as_of: date
) -> dg.AssetCheckResult:
    max_lag = FRESHNESS_DAYS[feed.name]
    latest = latest_event_date(conn, feed, as_of)
    if latest is None:
        return dg.AssetCheckResult(
            check_name=DATA_FRESHNESS_CHECK,
            asset_key=raw_asset_key(feed.name),
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"no {feed.name} rows on or before {as_of}: feed not delivered",
            metadata={"as_of_date": as_of.isoformat(), "max_lag_days": max_lag},
        )
    lag = (as_of - latest).days
    passed = lag <= max_lag
    return dg.AssetCheckResult(
        check_name=DATA_FRESHNESS_CHECK,
        asset_key=raw_asset_key(feed.name),
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"latest {feed.name} event {latest}, {lag} day(s) before the as-of date {as_of}"
            + ("" if passed else f": more than {max_lag} — is the feed still being delivered?")
        ),
        metadata={
            "latest_event_date": latest.isoformat(),
            "as_of_date": as_of.isoformat(),
            "lag_days": lag,
            "max_lag_days": max_lag,
        },
    )
