"""Incremental staging (macros/utils/incremental_staging.sql) equals a full rebuild: after new
loads, a late correction and a later as-of date; and after a run for an earlier as-of date."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb

from tests.python.conftest import dbt_on_build

FEEDS = ("orders", "order_lines", "shipments", "returns", "sessions", "page_views")


def _staging(build: Path, tmp_path: Path, as_of: str, *flags: str) -> None:
    dbt_on_build(
        build,
        tmp_path,
        "run",
        "--select",
        "staging",
        *flags,
        "--vars",
        json.dumps({"as_of_date": as_of}),
    )


def _contents(build: Path) -> dict[str, tuple[int, int]]:
    """Rows and an order-independent hash of every incremental staging table (but the date of
    the run that last picked each row, which differs by design)."""
    with duckdb.connect(str(build), read_only=True) as conn:
        return {
            feed: conn.execute(
                "select count(*), sum(hash(columns(* exclude (_staged_as_of)))) "
                f"from staging.stg_shop__{feed}"
            ).fetchone()
            for feed in FEEDS
        }


def test_incremental_staging_equals_a_full_rebuild(shop, tmp_path: Path) -> None:
    settings, _ = shop
    as_of = settings.as_of_date
    earlier = (as_of - timedelta(days=10)).isoformat()
    build = tmp_path / "incremental.duckdb"
    shutil.copy2(settings.build_path, build)
    with duckdb.connect(str(build)) as conn:
        conn.execute("drop schema staging cascade")
        conn.execute("create schema held")
        for feed in FEEDS:  # hold back each feed's newest file, to land it later
            conn.execute(
                f"create table held.{feed} as select * from raw.{feed} "
                f"where _load_id = (select max(_load_id) from raw.{feed})"
            )
            conn.execute(
                f"delete from raw.{feed} where _load_id in (select _load_id from held.{feed})"
            )
        # ... and a correction of the oldest order, in a load of its own
        conn.execute(
            f"""
            insert into held.orders
            select * replace (
                total_amount + 5000 as total_amount,
                timestamp '{as_of.isoformat()} 09:00:00' as updated_at,
                (select max(load_id) + 1 from raw._load_ledger) as _load_id
            )
            from raw.orders
            where order_id = (select min(order_id) from raw.orders)
            """
        )
        held = sum(conn.execute(f"select count(*) from held.{f}").fetchone()[0] for f in FEEDS)
    assert held > 0

    _staging(build, tmp_path / "first", earlier)
    with duckdb.connect(str(build)) as conn:
        for feed in FEEDS:
            conn.execute(f"insert into raw.{feed} select * from held.{feed}")
        conn.execute("drop schema held cascade")
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy2(build, rebuilt)

    _staging(build, tmp_path / "incremental", as_of.isoformat())
    _staging(rebuilt, tmp_path / "full", as_of.isoformat(), "--full-refresh")
    assert _contents(build) == _contents(rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        corrected = conn.execute(
            "select count(*) from staging.stg_shop__orders "
            f"where updated_at = timestamp '{as_of.isoformat()} 09:00:00'"
        ).fetchone()[0]
    assert corrected >= 1

    # a run for an earlier date rebuilds: nothing after that date stays behind
    _staging(build, tmp_path / "back", earlier)
    _staging(rebuilt, tmp_path / "back_full", earlier, "--full-refresh")
    assert _contents(build) == _contents(rebuilt)
    with duckdb.connect(str(build), read_only=True) as conn:
        latest = conn.execute("select max(ordered_at) from staging.stg_shop__orders").fetchone()[0]
    assert latest.date().isoformat() <= earlier
